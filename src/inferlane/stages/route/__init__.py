"""Route matching: which backend a request goes to."""
