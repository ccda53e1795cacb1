"""Python client for the Cloud Foundry v3 Packages API."""
