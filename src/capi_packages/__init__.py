"""capi-packages: a Cloud Foundry v3 Packages API service."""

__version__ = "0.1.0"
