"""bits."""
