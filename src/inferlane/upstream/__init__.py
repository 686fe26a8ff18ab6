"""The upstream side: backend pools, the HTTP client, streaming relay."""
