"""Giving a running job back at shutdown, so that another worker starts it at once, not after the lease.

Once a job is handed back, the thread still running it must write nothing more: every session of
the job goes through a CommitFence, and closing the fence waits for a commit under way, then makes
every later commit fail. Jobs already tolerate a re-run from a partial state (a worker may die at
any point), so a handed-back job is re-run as a crashed one would be, only sooner.
"""

from __future__ import annotations

import threading

from sqlalchemy import event, update
from sqlalchemy.orm import Session, sessionmaker

from capi_packages.db.base import utcnow
from capi_packages.jobs.models import Job, JobState


class HandedBack(Exception):
    """The job was handed back at shutdown: this worker may not record anything more of it."""


class CommitFence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holding = False
        self.closed = False

    def guard(self, session: Session) -> Session:
        event.listen(session, "before_commit", self._before_commit)
        event.listen(session, "after_commit", self._release)
        event.listen(session, "after_rollback", self._release)
        return session

    def _before_commit(self, _session: Session) -> None:
        self._lock.acquire()
        self._holding = True
        if self.closed:
            self._release(_session)
            raise HandedBack()

    def _release(self, _session: Session) -> None:
        if self._holding:
            self._holding = False
            self._lock.release()

    def close(self) -> None:
        """Wait for a commit under way, then refuse every later one."""
        with self._lock:
            self.closed = True


def hand_back(sessions: sessionmaker[Session], job_id: int, worker_id: str) -> bool:
    """Release this worker's claim on a running job, as if it had never been picked up; True if released."""
    with sessions() as session, session.begin():
        released = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.locked_by == worker_id, Job.state == JobState.PROCESSING)
            .values(
                locked_by=None,
                locked_at=None,
                run_at=utcnow(),
                attempts=Job.attempts - 1,
                updated_at=utcnow(),
            )
        )
        return bool(getattr(released, "rowcount", 0))
