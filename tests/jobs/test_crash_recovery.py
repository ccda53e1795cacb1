"""A worker killed mid-job: after restart nothing stays PROCESSING_UPLOAD and no staging is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from capi_packages.db.base import utcnow
from capi_packages.jobs.models import Job
from capi_packages.jobs.worker import Worker
from tests.bits_api.bits_support import upload
from tests.factories import make_zip


def staged_files(app):
    return [p for p in app.state.blobstore.staging.directory.iterdir() if p.name.startswith("upload-")]


def age_claims(app, seconds=3600):
    with app.state.sessionmaker() as s, s.begin():
        s.execute(update(Job).where(Job.locked_at.is_not(None)).values(locked_at=utcnow() - timedelta(seconds=seconds)))


def dead_worker_claims_the_upload(app):
    dead = Worker(app.state.sessionmaker, app.state.settings, app.state.blobstore, app.state.registry, "dead-1")
    job = dead.claim()
    assert job is not None and job.operation == "package.process_upload"
    return job


def test_job_of_a_dead_worker_is_rerun_and_the_package_becomes_ready(api):
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    upload(api, pkg["guid"], make_zip({"a.txt": "hello"}))
    dead_worker_claims_the_upload(api.app)
    age_claims(api.app)
    live = api.app.state.worker
    assert live.recover_stale() == 1
    live.run_pending()
    assert api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)["state"] == "READY"
    assert staged_files(api.app) == []


def test_job_whose_last_attempt_died_fails_the_package_and_drops_its_staging(api):
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    upload(api, pkg["guid"], make_zip({"a.txt": "hello"}))
    with api.app.state.sessionmaker() as s, s.begin():
        s.execute(update(Job).values(max_attempts=1))
    dead_worker_claims_the_upload(api.app)
    age_claims(api.app)
    assert api.app.state.worker.recover_stale() == 1
    got = api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)
    assert got["state"] == "FAILED"
    assert got["data"]["error"] == "The app upload could not be processed: worker stopped unexpectedly"
    assert staged_files(api.app) == []


def test_abandoned_staging_files_are_swept(api, settings):
    orphan = api.app.state.blobstore.staging.directory / "upload-orphan"
    orphan.write_bytes(b"half an upload")
    old = time.time() - settings.staging_max_age_seconds - 10
    os.utime(orphan, (old, old))
    assert api.app.state.worker.sweep_staging() == 1
    assert not orphan.exists()


@pytest.mark.timeout_sensitive
def test_killed_worker_process_is_recovered_by_a_restarted_worker(api, settings):
    """Start a real worker process, SIGKILL it while it processes an upload, start another."""
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    files = {f"f{i:03}.bin": os.urandom(300_000) for i in range(300)}
    upload(api, pkg["guid"], make_zip(files))
    env = {
        **os.environ,
        "CAPI_DATA_DIR": str(settings.data_dir),
        "CAPI_WORKER_LEASE_SECONDS": "1",
        "CAPI_WORKER_POLL_SECONDS": "0.01",
        "CAPI_LOG_LEVEL": "warning",
    }
    if settings.database_url:
        env["CAPI_DATABASE_URL"] = settings.database_url
    cmd = [sys.executable, "-m", "capi_cli", "worker"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            with api.app.state.sessionmaker() as s:
                locked = s.scalars(select(Job.locked_at).where(Job.operation == "package.process_upload")).first()
            if locked is not None:
                break
            assert time.monotonic() < deadline, "the worker never claimed the job"
            time.sleep(0.005)
        time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    state = api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)["state"]
    assert state == "PROCESSING_UPLOAD", "the job finished before the kill: make the upload larger"
    time.sleep(1.2)  # let the dead worker's lease run out
    subprocess.run([*cmd, "--once"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    got = api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)
    assert got["state"] == "READY", got
    assert staged_files(api.app) == []


def test_a_job_running_past_the_timeout_fails_with_job_timeout(api):
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    upload(api, pkg["guid"], make_zip({"a.txt": "hello"}))
    dead_worker_claims_the_upload(api.app)
    with api.app.state.sessionmaker() as s, s.begin():
        s.execute(update(Job).values(run_at=utcnow() - timedelta(days=1)))
    assert api.app.state.worker.enforce_timeout() == 1
    with api.app.state.sessionmaker() as s:
        job = s.scalars(select(Job)).one()
        assert job.state == "FAILED"
        assert job.errors == [{"detail": "The job execution has timed out.", "title": "CF-JobTimeout", "code": 290006}]
    got = api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)
    assert got["state"] == "FAILED"


def test_maintenance_removes_old_jobs_and_expired_packages(api, run_jobs):
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    r = api.client.delete(f"/v3/packages/{pkg['guid']}", headers=api.admin)
    job_url = r.headers["location"].removeprefix("http://api.test")
    run_jobs()
    with api.app.state.sessionmaker() as s, s.begin():
        s.execute(update(Job).values(created_at=utcnow() - timedelta(days=91)))
    expired = api.create_package(world.app["guid"])
    from capi_packages.packages.models import Package

    with api.app.state.sessionmaker() as s, s.begin():
        s.execute(update(Package).where(Package.guid == expired["guid"]).values(state="EXPIRED"))
    api.app.state.worker.maintain()
    assert api.client.get(job_url, headers=api.admin).status_code == 404
    assert api.client.get(f"/v3/packages/{expired['guid']}", headers=api.admin).status_code == 404


def test_a_long_job_keeps_its_claim_by_heartbeating(api, settings):
    """A job running longer than the lease is not taken over while its worker is alive."""
    import threading

    from capi_packages.jobs.queue import enqueue
    from capi_packages.jobs.registry import Handler, Registry

    registry = Registry()
    started = threading.Event()
    # Lease and sleeps leave the heartbeat (lease / 3) room to be late on a loaded machine.
    # Like the real handlers, it ends its transaction before the long work, so the heartbeat can write.
    registry.register("test.sleep", Handler(lambda ctx, _job: (ctx.session.commit(), started.set(), time.sleep(4))))
    quick = settings.model_copy(update={"worker_lease_seconds": 1.5})
    worker = Worker(api.app.state.sessionmaker, quick, api.app.state.blobstore, registry, "busy")
    with api.app.state.sessionmaker() as s, s.begin():
        enqueue(s, "test.sleep")
    runner = threading.Thread(target=worker.run_one)
    runner.start()
    assert started.wait(10)
    time.sleep(3)  # twice the lease: only the heartbeat keeps the claim fresh
    observer = Worker(api.app.state.sessionmaker, quick, api.app.state.blobstore, registry, "observer")
    assert observer.recover_stale() == 0
    runner.join()
    with api.app.state.sessionmaker() as s:
        assert s.scalars(select(Job.state)).one() == "COMPLETE"
