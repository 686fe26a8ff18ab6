"""Retries: which outcomes are retried, backoff, Retry-After, and the retry budget."""
