"""Shadow traffic: copies of requests sent to another version or backend, answers discarded."""
