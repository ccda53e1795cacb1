"""resource_matches."""
