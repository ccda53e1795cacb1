"""The worker: claims jobs (SKIP LOCKED on PostgreSQL), runs them, records COMPLETE or FAILED."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from capi_packages.blobstore.base import Blobstore
from capi_packages.db.base import utcnow
from capi_packages.db.session import READ_ONLY
from capi_packages.errors import ApiError, BlobstoreUnavailable, JobTimeout, UnknownError
from capi_packages.jobs.handback import CommitFence, HandedBack, hand_back
from capi_packages.jobs.models import Job, JobState
from capi_packages.jobs.registry import Handler, JobContext, Registry
from capi_packages.jobs.service import delete_old_jobs
from capi_packages.jobs.wakeup import Wakeup
from capi_packages.metrics.registry import Metrics
from capi_packages.settings import Settings

log = logging.getLogger("capi_packages.jobs")

# A running job's claim is refreshed this often; a claim older than the lease means its worker died.
HEARTBEAT = timedelta(seconds=10)
MAINTENANCE_INTERVAL = timedelta(hours=1)
SWEEP_INTERVAL = timedelta(seconds=60)


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        blobstore: Blobstore,
        registry: Registry,
        worker_id: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.blobstore = blobstore
        self.registry = registry
        self.metrics = metrics or Metrics()
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The job this worker is running, and the fence its sessions commit through.
        self._current: tuple[Job, CommitFence] | None = None
        self.wakeup = Wakeup(sessions)
        self.lease = timedelta(seconds=settings.worker_lease_seconds)
        self.heartbeat = min(HEARTBEAT, self.lease / 3)

    # --- claiming -----------------------------------------------------------------------------
    @staticmethod
    def _claimable() -> tuple[Any, ...]:
        return (Job.state == JobState.PROCESSING, Job.locked_at.is_(None), Job.run_at <= utcnow())

    def _any_claimable(self) -> bool:
        # A read first: an idle worker polling must not take SQLite's write lock on every poll,
        # which every writing request would then queue behind.
        with self.sessions() as session:
            session.connection(execution_options={READ_ONLY: True})
            return session.scalar(select(Job.id).where(*self._claimable()).limit(1)) is not None

    def claim(self) -> Job | None:
        if not self._any_claimable():
            return None
        with self.sessions() as session, session.begin():
            stmt = select(Job).where(*self._claimable()).order_by(Job.id).limit(1)
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            job = session.scalars(stmt).first()
            if job is None:
                return None
            job.locked_by, job.locked_at = self.worker_id, utcnow()
            job.attempts += 1
            session.flush()
            session.expunge(job)
            return job

    def recover_stale(self) -> int:
        """Release or give up jobs whose worker stopped heartbeating (crashed or killed)."""
        cutoff = utcnow() - self.lease
        with self.sessions() as session:
            stale = session.scalars(select(Job).where(Job.state == JobState.PROCESSING, Job.locked_at < cutoff)).all()
            ids = [(j.id, j.attempts >= j.max_attempts) for j in stale]
        for job_id, exhausted in ids:
            if exhausted:
                self._finish(job_id, error=UnknownError(), give_up_reason="worker stopped unexpectedly")
            else:
                with self.sessions() as session, session.begin():
                    session.execute(
                        update(Job)
                        .where(Job.id == job_id, Job.locked_at < cutoff)
                        .values(locked_by=None, locked_at=None, updated_at=utcnow())
                    )
        return len(ids)

    def enforce_timeout(self) -> int:
        """jobs.global.timeout_in_seconds: a job running longer fails with CF-JobTimeout."""
        cutoff = utcnow() - timedelta(seconds=self.settings.job_timeout_seconds)
        with self.sessions() as session:
            ids = session.scalars(
                select(Job.id).where(Job.state == JobState.PROCESSING, Job.locked_at.is_not(None), Job.run_at < cutoff)
            ).all()
        for job_id in ids:
            self._finish(job_id, error=JobTimeout(), give_up_reason="the job execution has timed out")
        return len(ids)

    def maintain(self) -> None:
        """Housekeeping: old jobs go (pollable_job_cleanup), then each feature's own cleanup."""
        with self.sessions() as session, session.begin():
            delete_old_jobs(session, self.settings.job_cutoff_age_days)
        for task in self.registry.maintenance:
            with self.sessions() as session:
                try:
                    task(JobContext(session, self.settings, self.blobstore))
                    session.commit()
                except Exception:
                    session.rollback()
                    log.exception("maintenance task %s failed", getattr(task, "__name__", task))

    def sweep_staging(self) -> int:
        """Remove staged uploads nobody will process (the request died, or its job is finished), and
        unfinished ones a crashed process left (an S3 multipart upload, a job's scratch file)."""
        with self.sessions() as session:
            payloads = session.scalars(select(Job.payload).where(Job.state == JobState.PROCESSING)).all()
        owned = {str(p["staged"]) for p in payloads if isinstance(p, dict) and p.get("staged")}
        swept = self.blobstore.staging.sweep(owned, self.settings.staging_max_age_seconds)
        return swept.staged + swept.incomplete + swept.scratch

    # --- running ------------------------------------------------------------------------------
    def run_one(self) -> bool:
        job = self.claim()
        if job is None:
            return False
        handler = self.registry.get(job.operation)
        fence = CommitFence()
        self._current = (job, fence)
        try:
            self._run_claimed(job, handler, fence)
        except HandedBack:
            log.info("job %s (%s) was handed back at shutdown", job.guid, job.operation)
        finally:
            self._current = None
        return True

    def _run_claimed(self, job: Job, handler: Handler | None, fence: CommitFence) -> None:
        heartbeat = _Heartbeat(self.sessions, job.id, self.heartbeat, self.worker_id)
        heartbeat.start()
        started = time.monotonic()
        labels = (job.operation, self.worker_id)
        self.metrics.job_pickup_delay.labels(*labels).observe(max(0.0, (utcnow() - job.run_at).total_seconds()))
        error: ApiError | None = None
        retryable = False
        try:
            if handler is None:
                raise RuntimeError(f"no handler for job operation {job.operation!r}")
            with fence.guard(self.sessions()) as session:
                ctx = JobContext(session, self.settings, self.blobstore)
                live = session.get(Job, job.id)
                assert live is not None
                # End the transaction that loaded the job before the handler runs: on SQLite it holds
                # the write lock (BEGIN IMMEDIATE), which the heartbeat and every API write wait for.
                session.commit()
                handler.run(ctx, live)
                session.commit()
        except HandedBack:
            raise
        except ApiError as e:
            log.info("job %s (%s) failed: %s", job.guid, job.operation, e.detail)
            error = e
        except OSError:
            # A full disk or an unreachable store may pass: retried, then failed with a clear reason.
            log.exception("job %s (%s) could not reach the blobstore", job.guid, job.operation)
            error, retryable = BlobstoreUnavailable(), True
        except Exception:
            log.exception("job %s (%s) raised", job.guid, job.operation)
            error, retryable = UnknownError(), True
        finally:
            heartbeat.stop()
            self.metrics.job_duration.labels(*labels).observe(time.monotonic() - started)
        outcome = (
            "COMPLETE" if error is None else ("RETRY" if retryable and job.attempts < job.max_attempts else "FAILED")
        )
        self.metrics.jobs_finished.labels(job.operation, outcome).inc()
        log.info("job %s (%s) %s after %.1f s", job.guid, job.operation, outcome, time.monotonic() - started)
        # API errors are verdicts on the input (a bad zip stays bad): only surprises are retried.
        if error is not None and retryable and job.attempts < job.max_attempts:
            self._retry(job.id, error, fence)
        else:
            self._finish(job.id, error=error, give_up_reason=error.detail if error else None, fence=fence)

    def run_pending(self, limit: int = 1000) -> int:
        """Drain the queue in this thread (tests and `worker --once`)."""
        count = 0
        while count < limit and self.run_one():
            count += 1
        return count

    def _retry(self, job_id: int, error: ApiError, fence: CommitFence) -> None:
        with fence.guard(self.sessions()) as session, session.begin():
            job = session.get(Job, job_id)
            if job is not None:
                job.locked_by = job.locked_at = None
                job.run_at = utcnow() + timedelta(seconds=2**job.attempts)
                job.errors = [error.to_dict()]
                job.updated_at = utcnow()

    def _finish(
        self, job_id: int, *, error: ApiError | None, give_up_reason: str | None, fence: CommitFence | None = None
    ) -> None:
        session = self.sessions() if fence is None else fence.guard(self.sessions())
        with session, session.begin():
            job = session.get(Job, job_id)
            # Already finished elsewhere (timed out, or given up by another worker's recovery).
            if job is None or job.state != JobState.PROCESSING:
                return
            if error is not None:
                handler = self.registry.get(job.operation)
                if handler is not None and handler.give_up is not None:
                    try:
                        with session.begin_nested():
                            handler.give_up(
                                JobContext(session, self.settings, self.blobstore), job, give_up_reason or ""
                            )
                    except Exception:
                        log.exception("give-up hook of job %s raised", job.guid)
            handler = self.registry.get(job.operation)
            if handler is not None and handler.transient_fields and job.payload:
                job.payload = {k: v for k, v in job.payload.items() if k not in handler.transient_fields}
            job.state = (JobState.FAILED if error else JobState.COMPLETE).value
            job.errors = [error.to_dict()] if error else []
            job.locked_by = job.locked_at = None
            job.updated_at = utcnow()

    # --- background thread --------------------------------------------------------------------
    def start(self) -> None:
        self.wakeup.start()
        self._thread = threading.Thread(target=self._loop, name="capi-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> bool:
        """Stop claiming; give a running job `timeout` seconds to finish, then hand it back.

        True when a job was handed back (another worker may start it at once)."""
        self._stop.set()
        self.wakeup.stop()
        if self._thread is not None:
            self._thread.join(timeout)
        current = self._current
        if current is None:
            return False
        job, fence = current
        fence.close()
        released = hand_back(self.sessions, job.id, self.worker_id)
        if released:
            log.warning("job %s (%s) still running at shutdown: handed back", job.guid, job.operation)
        return released

    def run_until_signalled(self, grace: float) -> None:
        """The `worker` command: run in a thread until SIGTERM or SIGINT, then stop (bounded by grace)."""
        signalled = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: signalled.set())
        self.start()
        while not signalled.wait(1):
            if self._thread is not None and not self._thread.is_alive():
                return
        log.info("worker %s stopping", self.worker_id)
        self.stop(grace)

    def run_forever(self) -> None:
        self.wakeup.start()
        try:
            self._loop()
        finally:
            self.wakeup.stop()

    def _loop(self) -> None:
        last_recovery = utcnow() - self.lease
        last_maintenance = utcnow() - MAINTENANCE_INTERVAL
        last_sweep = utcnow() - SWEEP_INTERVAL
        while not self._stop.is_set():
            try:
                if utcnow() - last_recovery >= self.heartbeat:
                    self.recover_stale()
                    self.enforce_timeout()
                    last_recovery = utcnow()
                if utcnow() - last_sweep >= SWEEP_INTERVAL:
                    # Listing a bucket's staging area is not free: not at every heartbeat.
                    self.sweep_staging()
                    last_sweep = utcnow()
                if utcnow() - last_maintenance >= MAINTENANCE_INTERVAL:
                    self.maintain()
                    last_maintenance = utcnow()
                if self.run_one():
                    continue
            except Exception:
                log.exception("worker loop error")
            self.wakeup.wait(self.settings.worker_poll_seconds)


class _Heartbeat:
    def __init__(self, sessions: sessionmaker[Session], job_id: int, interval: timedelta, worker_id: str) -> None:
        self.sessions, self.job_id, self.interval, self.worker_id = sessions, job_id, interval, worker_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name=f"heartbeat-{job_id}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval.total_seconds()):
            try:
                with self.sessions() as session, session.begin():
                    session.execute(
                        update(Job)
                        # Only this worker's claim: a handed-back job may be another's by now.
                        .where(Job.id == self.job_id, Job.locked_by == self.worker_id)
                        .values(locked_at=utcnow())
                    )
            except Exception:
                log.exception("heartbeat for job %s failed", self.job_id)
