"""The resource pool shared by all packages: an index in the database, one blob per sha1."""
