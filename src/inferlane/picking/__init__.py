"""Endpoint picking: pure filters, scorers and pickers over an endpoint snapshot."""
