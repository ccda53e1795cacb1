"""Change counters: a number the database moves whenever the rows behind a kind of answer change.

A counter is bumped by triggers (migration 0007), in the writing transaction, so that it moves
with the data: a reader that reads the counter first and the rows after never pairs a counter with
rows older than it. Caches key their entries by it (the package lists' rendered pages), and so
need no invalidation code on any write path, the worker's and other hosts' included.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar, cast

from sqlalchemy import BigInteger, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from capi_packages.db.base import Base

# The rows of a package list: packages, their labels and annotations, and the apps, spaces and
# organizations its visibility and filters go through (the tables migration 0007 watches; a later
# migration that rebuilds one of them on SQLite must re-create its triggers).
PACKAGES = "packages"

T = TypeVar("T")


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


class SharedReads(Generic[T]):
    """One read of a value at a time, shared by every thread that wants it meanwhile.

    Under load dozens of request threads want the same counter at once, each for a round trip of
    its own. Here a caller waits for the read in flight to end, then for the next one, which it
    or another waiter starts, and takes that one's value: a read that began after the caller
    asked, so the value is as fresh as a read of its own would be. One read then answers every
    caller that arrived while the one before it ran.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._started = 0  # reads begun
        self._done = 0  # the newest read that ended, by its number
        self._value: T | None = None
        self._reading = False

    def get(self, read: Callable[[], T]) -> T:
        with self._cond:
            needed = self._started + 1  # the first read to begin from now on
            while True:
                if self._done >= needed:
                    return cast(T, self._value)
                if not self._reading:
                    self._reading = True
                    self._started += 1
                    mine = self._started
                    break
                self._cond.wait()
        try:
            value = read()
        except BaseException:
            with self._cond:
                self._reading = False  # a waiter starts the next read of its own
                self._cond.notify_all()
            raise
        with self._cond:
            self._reading = False
            self._done, self._value = mine, value
            self._cond.notify_all()
        return value
