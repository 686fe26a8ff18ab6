"""Circuit breaking per endpoint."""
