"""Package entries: what a stored zip holds, one file of it, and what changed between two packages."""
