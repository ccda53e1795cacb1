"""Roles: org and space roles given to users by guid or by username and origin."""
