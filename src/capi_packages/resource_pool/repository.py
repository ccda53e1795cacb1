"""Queries on the pool's index: which sha1s it holds (one query per request), adding, removing."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from capi_packages.resource_pool.models import ResourcePoolEntry

# One query for a whole request (at most 5000); SQLite >= 3.32 and PostgreSQL take this many parameters.
_QUERY_CHUNK = 10_000


def known_sha1s(session: Session, sha1s: Iterable[str]) -> set[str]:
    wanted = sorted(set(sha1s))
    found: set[str] = set()
    for i in range(0, len(wanted), _QUERY_CHUNK):
        chunk = wanted[i : i + _QUERY_CHUNK]
        found.update(session.scalars(select(ResourcePoolEntry.sha1).where(ResourcePoolEntry.sha1.in_(chunk))))
    return found


def add_entry(session: Session, sha1: str, size: int) -> None:
    try:
        with session.begin_nested():
            session.add(ResourcePoolEntry(sha1=sha1, size=size))
    except IntegrityError:
        pass  # another upload added the same content first


def delete_entries(session: Session, sha1s: Iterable[str]) -> None:
    wanted = list(sha1s)
    if wanted:
        session.execute(delete(ResourcePoolEntry).where(ResourcePoolEntry.sha1.in_(wanted)))


def totals(session: Session) -> tuple[int, int]:
    """Entries and bytes the pool holds."""
    entries, size = session.execute(select(func.count(), func.coalesce(func.sum(ResourcePoolEntry.size), 0))).one()
    return int(entries), int(size)
