"""A full disk or an unreachable blobstore: a CF error or a FAILED package, never READY, never half a blob.

The full disk is real: a small tmpfs mounted over the data dir's blobstore (needs root, as CI has).
The unreachable store is a double whose calls fail as boto3's do when the endpoint is gone.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import text

from capi_packages.blobstore.base import BlobstoreFailure
from tests.bits_api.bits_support import directory, package_blob_path, regular, state_of, upload, zip_entries
from tests.factories import assert_error, make_zip

UNAVAILABLE = (502, 150006, "CF-BlobstoreUnavailable", "Failed to perform operation due to blobstore unavailability.")
GAVE_UP = "The app upload could not be processed: Failed to perform operation due to blobstore unavailability."


@pytest.fixture
def small_disk(settings):
    """The blobstore (staging included) on a 1 MiB tmpfs."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    root = settings.data_dir / "blobstore"
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(root)], check=True)
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=True)


def files_in(path):
    return sorted(p for p in path.rglob("*") if p.is_file())


def run_until_finished(api, run_jobs):
    """Run jobs, letting retries come due at once (the disk stays full between attempts)."""
    for _ in range(5):
        run_jobs()
        with api.app.state.engine.begin() as conn:
            if not conn.execute(text("SELECT count(*) FROM jobs WHERE state = 'PROCESSING'")).scalar():
                return
            conn.execute(text("UPDATE jobs SET run_at = :t WHERE state = 'PROCESSING'"), {"t": "2000-01-01 00:00:00"})


def test_an_upload_that_does_not_fit_on_the_disk_is_blobstore_unavailable(api, small_disk):
    pkg = api.create_package(api.world().app["guid"])
    r = upload(api, pkg["guid"], os.urandom(3 * 1024 * 1024))
    assert_error(r, *UNAVAILABLE)
    assert state_of(api, pkg["guid"]) == "AWAITING_UPLOAD"
    assert files_in(small_disk) == []


def test_processing_that_fills_the_disk_fails_the_package_and_stores_no_blob(api, small_disk, run_jobs):
    pkg = api.create_package(api.world().app["guid"])
    # A directory entry makes the job rebuild the zip: a second copy that no longer fits.
    body = zip_entries([directory("d"), regular("d/blob.bin", os.urandom(600 * 1024))])
    assert upload(api, pkg["guid"], body).status_code == 200
    run_until_finished(api, run_jobs)
    got = api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)
    assert got["state"] == "FAILED", got
    assert got["data"]["error"] == GAVE_UP
    assert not package_blob_path(api, pkg["guid"]).exists()
    assert [p for p in files_in(small_disk) if "packages" in p.parts] == []


def test_a_copy_whose_store_is_unreachable_fails_the_copy(api, run_jobs, monkeypatch):
    world = api.world()
    source = api.create_package(world.app["guid"])
    assert upload(api, source["guid"], make_zip({"a.txt": "a"})).status_code == 200
    run_jobs()
    other = api.create_app(world.space["guid"])

    def unreachable(*_args):
        raise BlobstoreFailure("Could not connect to the endpoint URL")

    monkeypatch.setattr(api.app.state.blobstore, "copy", unreachable)
    body = {"relationships": {"app": {"data": {"guid": other["guid"]}}}}
    copy = api.ok("POST", f"/v3/packages?source_guid={source['guid']}", 201, json=body)
    run_until_finished(api, run_jobs)
    got = api.ok("GET", f"/v3/packages/{copy['guid']}", 200)
    assert got["state"] == "FAILED"
    assert got["data"]["error"] == "failed to copy - Failed to perform operation due to blobstore unavailability."


def test_a_download_whose_store_is_unreachable_is_blobstore_unavailable(api, run_jobs, monkeypatch):
    pkg = api.create_package(api.world().app["guid"])
    assert upload(api, pkg["guid"], make_zip({"a.txt": "a"})).status_code == 200
    run_jobs()
    assert state_of(api, pkg["guid"]) == "READY"

    def unreachable(*_args):
        raise BlobstoreFailure("Could not connect to the endpoint URL")

    monkeypatch.setattr(api.app.state.blobstore, "exists", unreachable)
    r = api.client.get(f"/v3/packages/{pkg['guid']}/download", headers=api.admin, follow_redirects=False)
    assert_error(r, *UNAVAILABLE)
