"""The web console at /console: orgs, spaces, apps, packages, their files and what changed between pushes."""
