"""Stopping a worker mid-job hands the job back at once; the stopped run can record nothing more."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from capi_packages.jobs.models import Job, JobState
from capi_packages.jobs.queue import enqueue
from capi_packages.jobs.registry import Handler, Registry
from capi_packages.jobs.worker import Worker

SLOW = "test.slow"


def slow_registry(started: threading.Event, release: threading.Event, runs: list[str]) -> Registry:
    registry = Registry()

    def run(ctx, job):
        # As real jobs do, hold no transaction while working (on SQLite it would hold the write lock).
        ctx.session.commit()
        runs.append("started")
        started.set()
        release.wait(30)
        job.warnings = [*job.warnings, {"detail": f"run {len(runs)}"}]
        ctx.session.commit()
        runs.append("committed")

    registry.register(SLOW, Handler(run))
    return registry


def job_row(app, guid):
    with app.state.sessionmaker() as s:
        return s.scalars(select(Job).where(Job.guid == guid)).one()


def test_a_job_still_running_at_stop_is_handed_back_and_the_next_worker_runs_it_once(app, settings):
    started, release, runs = threading.Event(), threading.Event(), []
    registry = slow_registry(started, release, runs)
    with app.state.sessionmaker() as s, s.begin():
        guid = enqueue(s, SLOW, {}).guid
    first = Worker(app.state.sessionmaker, settings, app.state.blobstore, registry, "first")
    first.start()
    assert started.wait(30)

    assert first.stop(timeout=0.2) is True
    row = job_row(app, guid)
    assert (row.state, row.locked_by, row.locked_at, row.attempts) == (JobState.PROCESSING, None, None, 0)

    # The stopped run reaches its commit after the hand-back: refused, nothing recorded.
    release.set()
    first._thread.join(30)
    assert runs == ["started"]
    assert job_row(app, guid).warnings == []

    second = Worker(app.state.sessionmaker, settings, app.state.blobstore, registry, "second")
    assert second.run_pending() == 1
    row = job_row(app, guid)
    assert row.state == JobState.COMPLETE
    assert row.warnings == [{"detail": "run 2"}]
    assert runs == ["started", "started", "committed"]


def test_a_job_that_finishes_within_the_grace_is_not_handed_back(app, settings):
    started, release, runs = threading.Event(), threading.Event(), []
    registry = slow_registry(started, release, runs)
    with app.state.sessionmaker() as s, s.begin():
        guid = enqueue(s, SLOW, {}).guid
    worker = Worker(app.state.sessionmaker, settings, app.state.blobstore, registry, "only")
    worker.start()
    assert started.wait(30)
    threading.Timer(0.3, release.set).start()
    t0 = time.monotonic()
    assert worker.stop(timeout=30) is False
    assert time.monotonic() - t0 < 30
    assert job_row(app, guid).state == JobState.COMPLETE
    assert runs == ["started", "committed"]


def test_a_stopped_worker_does_not_refresh_a_claim_that_is_no_longer_its_own(app, settings):
    started, release, runs = threading.Event(), threading.Event(), []
    registry = slow_registry(started, release, runs)
    with app.state.sessionmaker() as s, s.begin():
        guid = enqueue(s, SLOW, {}).guid
    first = Worker(app.state.sessionmaker, settings, app.state.blobstore, registry, "first")
    first.heartbeat = first.heartbeat / 1000  # beat every few milliseconds
    first.start()
    assert started.wait(30)
    first.stop(timeout=0)
    time.sleep(0.3)
    assert job_row(app, guid).locked_at is None
    release.set()
    first._thread.join(30)
