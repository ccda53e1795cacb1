"""App processes: what an app would run (this service runs nothing), scaled and configured as in CC."""
