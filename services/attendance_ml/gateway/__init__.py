"""API gateway: routing to the services, /api/analyze/all, security and rate limits."""
