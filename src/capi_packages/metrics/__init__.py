"""Prometheus metrics: the Cloud Controller's names where it has the same thing, ours beside them."""
