"""The capi-packages command line."""
