"""The worker: woken by new jobs instead of its poll, and never holding the database while a handler runs."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy.engine import make_url

from capi_packages.db.session import make_engine, make_sessionmaker
from capi_packages.jobs.models import Job
from capi_packages.jobs.queue import enqueue
from capi_packages.jobs.registry import Handler
from capi_packages.jobs.wakeup import Wakeup
from tests.bits_api.bits_support import upload
from tests.conftest import POSTGRES_URL
from tests.factories import make_zip

DEADLINE = 60  # generous: a job left to a one-hour poll would miss it by far


def enqueue_committed(app, operation="test.noop", commit=True):
    with app.state.sessionmaker() as session:
        job = enqueue(session, operation, {"n": 1})
        if commit:
            session.commit()
        else:
            session.rollback()
        return job.guid


def test_a_commit_that_enqueued_a_job_wakes_the_waiting_worker(api):
    wakeup = Wakeup(api.app.state.sessionmaker)
    wakeup.start()
    try:
        enqueue_committed(api.app, commit=False)
        assert wakeup.wait(0) is False  # rolled back: nothing to do
        enqueue_committed(api.app)
        assert wakeup.wait(DEADLINE) is True
    finally:
        wakeup.stop()


@pytest.mark.parametrize("settings_overrides", [{"worker_poll_seconds": 3600}])
def test_a_running_worker_processes_an_upload_long_before_its_next_poll(api):
    worker = api.app.state.worker
    world = api.world()
    worker.start()
    try:
        for _ in range(2):  # the second upload certainly finds the worker idle, waiting
            pkg = api.create_package(world.app["guid"])
            assert upload(api, pkg["guid"], make_zip({"a.txt": "a"})).status_code == 200
            deadline = time.monotonic() + DEADLINE
            while api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)["state"] == "PROCESSING_UPLOAD":
                assert time.monotonic() < deadline, "the worker was not woken"
                time.sleep(0.05)
            assert api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)["state"] == "READY"
    finally:
        worker.stop()


@pytest.mark.skipif(not POSTGRES_URL, reason="LISTEN/NOTIFY needs PostgreSQL (CAPI_TEST_DATABASE_URL)")
def test_a_worker_in_another_process_is_woken_through_postgresql(api, settings):
    # Its own engine and sessionmaker: only the database can tell it about the job.
    engine = make_engine(settings)
    other = Wakeup(make_sessionmaker(engine))
    other.start()
    try:
        assert other.listening_to_database.wait(DEADLINE)
        enqueue_committed(api.app)
        assert other.wait(DEADLINE) is True
    finally:
        other.stop()
        engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the write lock of BEGIN IMMEDIATE is SQLite's")
def test_the_worker_holds_no_write_lock_while_a_handler_runs(api, settings):
    entered, release = threading.Event(), threading.Event()

    def blocking(ctx, job):
        entered.set()
        release.wait(DEADLINE)

    api.app.state.registry.register("test.block", Handler(blocking))
    guid = enqueue_committed(api.app, "test.block")
    runner = threading.Thread(target=api.app.state.worker.run_one)
    runner.start()
    try:
        assert entered.wait(DEADLINE)
        db = sqlite3.connect(make_url(settings.effective_database_url).database, timeout=0, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")  # "database is locked" at once if the worker held the lock
            db.execute("ROLLBACK")
        finally:
            db.close()
    finally:
        release.set()
        runner.join()
    with api.app.state.sessionmaker() as session:
        job = session.query(Job).filter_by(guid=guid).one()
        assert job.state == "COMPLETE"


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the write lock of BEGIN IMMEDIATE is SQLite's")
def test_an_idle_worker_s_poll_does_not_wait_for_the_write_lock(api, settings):
    # A request holds SQLite's write lock; a worker with nothing to do answers its poll at once
    # instead of queueing for the lock (and making the next writer queue behind it).
    db = sqlite3.connect(make_url(settings.effective_database_url).database, timeout=0, isolation_level=None)
    answers: list[object] = []
    try:
        db.execute("BEGIN IMMEDIATE")
        poll = threading.Thread(target=lambda: answers.append(api.app.state.worker.claim()))
        poll.start()
        poll.join(DEADLINE)
        assert not poll.is_alive(), "the idle worker's poll waited for the write lock"
        assert answers == [None]
    finally:
        db.execute("ROLLBACK")
        db.close()
