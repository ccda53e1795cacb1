"""Audit events: who did what to which resource, recorded with the change, served at /v3/audit_events."""
