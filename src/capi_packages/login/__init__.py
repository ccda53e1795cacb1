"""Local login: the service as its own UAA-compatible token issuer."""
