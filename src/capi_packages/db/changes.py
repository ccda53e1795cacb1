"""Change counters: a number the database moves whenever the rows behind a kind of answer change.

A counter is bumped by triggers (migration 0007), in the writing transaction, so that it moves
with the data: a reader that reads the counter first and the rows after never pairs a counter with
rows older than it. Caches key their entries by it (the package lists' rendered pages), and so
need no invalidation code on any write path, the worker's and other hosts' included.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from capi_packages.db.base import Base

# The rows of a package list: packages, their labels and annotations, and the apps, spaces and
# organizations its visibility and filters go through (the tables migration 0007 watches; a later
# migration that rebuilds one of them on SQLite must re-create its triggers).
PACKAGES = "packages"


class ChangeCounter(Base):
    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Starts at a random number, so that a database made afresh never repeats an old value.
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)


# Built once: read on every cached list request, where building and keying a select costs more
# than the query.
_VALUE = select(ChangeCounter.value).where(ChangeCounter.name == bindparam("name"))


def current(session: Session, name: str) -> int | None:
    """The counter's value in the session's transaction; None when the counter does not exist."""
    # Through the session's connection (Core), not the ORM: one row, one column.
    value = session.connection().execute(_VALUE, {"name": name}).scalar()
    return None if value is None else int(value)
