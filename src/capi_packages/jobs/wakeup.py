"""Waking idle workers when a job is enqueued, instead of leaving the job to their next poll.

Inside one process the commit that enqueued a job sets an event (a session event of the shared
sessionmaker). Across processes on PostgreSQL the enqueuing transaction sends `NOTIFY`, which the
database delivers at commit to every worker `LISTEN`ing. Elsewhere (a separate worker on SQLite)
workers still find jobs by polling.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("capi_packages.jobs")

CHANNEL = "capi_jobs"
_ENQUEUED = "capi_job_enqueued"
_RECONNECT_SECONDS = 5.0


def note_enqueued(session: Session) -> None:
    """Called in the transaction that adds a job: its commit wakes the workers."""
    session.info[_ENQUEUED] = True
    if _is_postgresql(session):
        session.execute(text(f"NOTIFY {CHANNEL}"))


def _is_postgresql(session: Session) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


class Wakeup:
    """Set when a job was enqueued; `wait` returns early then. Start it to hear about jobs."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._event = threading.Event()
        self._stopped = threading.Event()
        self._listener: threading.Thread | None = None
        self._listening = False
        # Set once this process LISTENs on PostgreSQL (notifications sent before are not heard).
        self.listening_to_database = threading.Event()

    def start(self) -> None:
        event.listen(self.sessions, "after_commit", self._after_commit)
        event.listen(self.sessions, "after_rollback", self._after_rollback)
        self._listening = True
        engine = self.sessions.kw.get("bind")
        if engine is not None and engine.dialect.name == "postgresql":
            self._listener = threading.Thread(target=self._listen, args=(engine,), name="capi-job-listen", daemon=True)
            self._listener.start()

    def stop(self) -> None:
        self._stopped.set()
        self._event.set()
        if self._listening:
            event.remove(self.sessions, "after_commit", self._after_commit)
            event.remove(self.sessions, "after_rollback", self._after_rollback)
            self._listening = False
        if self._listener is not None:
            self._listener.join(timeout=5)

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds, less when a job was enqueued meanwhile (or before);
        True when woken early."""
        woken = self._event.wait(timeout)
        # A job enqueued right after this is still found: the caller looks for work next.
        self._event.clear()
        return woken

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_ENQUEUED, False):
            self._event.set()

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(_ENQUEUED, None)

    def _listen(self, engine: Any) -> None:
        while not self._stopped.is_set():
            try:
                raw = engine.raw_connection()
            except Exception:
                log.warning("cannot listen for new jobs; polling until the database answers", exc_info=True)
                self._stopped.wait(_RECONNECT_SECONDS)
                continue
            try:
                conn = raw.driver_connection
                conn.autocommit = True
                conn.execute(f"LISTEN {CHANNEL}")
                self.listening_to_database.set()
                while not self._stopped.is_set():
                    for _note in conn.notifies(timeout=1.0, stop_after=1):
                        self._event.set()
            except Exception:
                log.warning("listening for new jobs failed; reconnecting", exc_info=True)
                self._stopped.wait(_RECONNECT_SECONDS)
            finally:
                self.listening_to_database.clear()
                # A connection that LISTENs must not go back to the pool.
                raw.invalidate()
