"""Liveness, readiness and the start-up checks of serve and worker."""
