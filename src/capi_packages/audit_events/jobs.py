"""Retention: events older than audit_events_cutoff_age_days go (CC's nightly events_cleanup)."""

from __future__ import annotations

import logging
from datetime import timedelta

from capi_packages.audit_events import repository
from capi_packages.db.base import utcnow
from capi_packages.jobs.registry import JobContext, Registry

log = logging.getLogger("capi_packages.audit_events")


def prune_old_events(ctx: JobContext) -> None:
    cutoff = utcnow() - timedelta(days=ctx.settings.audit_events_cutoff_age_days)
    removed = 0
    # One transaction per batch: the write lock is never held for the whole backlog.
    while batch := repository.delete_older_than(ctx.session, cutoff, repository.PRUNE_BATCH):
        ctx.session.commit()
        removed += batch
    if removed:
        log.info("removed %d audit events created before %s", removed, cutoff.isoformat())


def register(registry: Registry) -> None:
    registry.maintenance.append(prune_old_events)
