"""Retention holds under concurrency: two workers finishing one app's packages keep at most the limit."""

from __future__ import annotations

import threading

import pytest

from capi_packages.jobs.worker import Worker
from tests.bits_api.bits_support import upload
from tests.conftest import POSTGRES_URL
from tests.factories import make_zip

PACKAGES = 24
LIMIT = 5


@pytest.mark.skipif(not POSTGRES_URL, reason="needs CAPI_TEST_DATABASE_URL (PostgreSQL); SQLite writers are serial")
@pytest.mark.parametrize("settings_overrides", [{"max_valid_packages_stored": LIMIT}])
def test_two_workers_finishing_packages_of_one_app_keep_at_most_the_limit(api, app):
    world = api.world()
    guids = []
    for i in range(PACKAGES):
        pkg = api.create_package(world.app["guid"])
        # Every other upload fails processing: FAILED counts against the limit as READY does.
        body = make_zip({"f.txt": f"{i}"}) if i % 2 else b"not a zip"
        assert upload(api, pkg["guid"], body).status_code == 200
        guids.append(pkg["guid"])

    state = app.state
    workers = [Worker(state.sessionmaker, state.settings, state.blobstore, state.registry) for _ in range(2)]
    start = threading.Barrier(len(workers))

    def drain(worker: Worker) -> None:
        start.wait()
        worker.run_pending()

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    states = [api.ok("GET", f"/v3/packages/{g}", 200)["state"] for g in guids]
    assert "PROCESSING_UPLOAD" not in states
    kept = [s for s in states if s in ("READY", "FAILED")]
    assert len(kept) == LIMIT, states
    assert states.count("EXPIRED") == PACKAGES - LIMIT
