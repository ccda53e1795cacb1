"""The whole service on the S3 blobstore (a real moto server): upload, pool, download, copy, delete."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from capi_packages.blobstore.s3 import S3Blobstore
from tests.bits_api.bits_support import (
    fingerprint,
    get_package,
    match,
    read_zip,
    sha256,
    upload,
    uploaded_package,
)
from tests.blobstore.conftest import KEY_ID, REGION, SECRET
from tests.factories import make_zip

PREFIX = "capi/"
BIG = 70_000  # above the pool's 65536-byte minimum


@pytest.fixture
def extra_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings_overrides(s3_server: Any, bucket: str, extra_overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "blobstore_type": "s3",
        "s3_bucket": bucket,
        "s3_endpoint_url": s3_server.endpoint_url,
        "s3_region": REGION,
        "s3_access_key_id": KEY_ID,
        "s3_secret_access_key": SECRET,
        "s3_prefix": PREFIX,
        **extra_overrides,
    }


@pytest.fixture
def world(api):
    return api.world()


def object_keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def fan_out(area: str, ident: str) -> str:
    return f"{PREFIX}{area}/{ident[:2]}/{ident[2:4]}/{ident}"


def test_the_app_runs_on_the_s3_store(app, settings):
    assert isinstance(app.state.blobstore, S3Blobstore)
    assert app.state.blobstore.scratch_dir().parent == settings.data_dir / "tmp"


def test_upload_process_and_download_through_a_presigned_s3_url(api, world, run_jobs, s3_server, s3, bucket, settings):
    z = make_zip({"index.js": "console.log('s3')", "lib/a.txt": "a" * 5000}, modes={"index.js": 0o755})
    pkg = api.create_package(world.app["guid"])
    assert upload(api, pkg["guid"], z).status_code == 200
    # Staged in the bucket, where a worker on any host finds it; nothing on this machine's disk.
    [staged] = object_keys(s3, bucket)
    assert staged.startswith(f"{PREFIX}staging/upload-")
    assert s3.get_object(Bucket=bucket, Key=staged)["Body"].read() == z
    assert not (settings.data_dir / "blobstore").exists()
    assert [p for p in (settings.data_dir / "tmp").rglob("*") if not p.is_dir()] == []
    run_jobs()
    got = get_package(api, pkg["guid"])
    assert got["state"] == "READY", got
    assert object_keys(s3, bucket) == [fan_out("packages", pkg["guid"])]  # staging cleaned up
    assert [p for p in (settings.data_dir / "tmp").rglob("*") if not p.is_dir()] == []

    r = api.client.get(f"/v3/packages/{pkg['guid']}/download", headers=api.admin, follow_redirects=False)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(f"{s3_server.endpoint_url}/{bucket}/{PREFIX}packages/")
    fetched = httpx.get(location)  # straight from the store, no Authorization
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"] == "application/zip"
    assert got["data"]["checksum"] == {"type": "sha256", "value": hashlib.sha256(fetched.content).hexdigest()}
    entries = read_zip(fetched.content)
    assert entries["index.js"][0] == b"console.log('s3')"


@pytest.mark.parametrize("extra_overrides", [{"download_mode": "stream"}])
def test_stream_mode_relays_the_object(api, world, run_jobs):
    pkg = uploaded_package(api, world.app["guid"], make_zip({"big.bin": b"z" * 3_000_000}), run_jobs)
    r = api.client.get(f"/v3/packages/{pkg['guid']}/download", headers=api.admin, follow_redirects=False)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.headers["content-disposition"] == f'attachment; filename="{pkg["guid"]}.zip"'
    assert sha256(r.content) == pkg["data"]["checksum"]["value"]


def test_our_own_signed_blob_url_still_serves_from_s3(api, world, run_jobs, app):
    pkg = uploaded_package(api, world.app["guid"], make_zip({"a.txt": "a"}), run_jobs)
    signed = app.state.url_signer.sign(f"/blobs/packages/{pkg['guid']}", 60)
    r = api.client.get(signed)
    assert r.status_code == 200, r.text
    assert sha256(r.content) == pkg["data"]["checksum"]["value"]


def test_a_vanished_object_gives_blobstore_unavailable(api, world, run_jobs, s3, bucket):
    pkg = uploaded_package(api, world.app["guid"], make_zip({"a.txt": "a"}), run_jobs)
    s3.delete_object(Bucket=bucket, Key=fan_out("packages", pkg["guid"]))
    r = api.client.get(f"/v3/packages/{pkg['guid']}/download", headers=api.admin, follow_redirects=False)
    assert r.status_code == 502
    assert r.json()["errors"][0]["title"] == "CF-BlobstoreUnavailable"


def test_the_resource_pool_works_across_two_packages(api, world, run_jobs, s3, bucket):
    big = bytes(range(256)) * (BIG // 256) + b"tail"
    sha1 = hashlib.sha1(big).hexdigest()
    uploaded_package(api, world.app["guid"], make_zip({"big.bin": big, "small": "s"}), run_jobs)
    assert fan_out("resources", sha1) in object_keys(s3, bucket)

    entry = fingerprint(big, "big.bin")
    assert match(api, [entry]).json() == {"resources": [entry]}

    resources = [fingerprint(big, "v3/big.bin"), {"sha1": sha1, "size": len(big), "fn": "v2/big.bin", "mode": "0600"}]
    second = uploaded_package(api, world.app["guid"], make_zip({"new.txt": "n"}), run_jobs, resources)
    r = api.client.get(f"/v3/packages/{second['guid']}/download", headers=api.admin, follow_redirects=False)
    zipped = httpx.get(r.headers["location"]).content
    assert sha256(zipped) == second["data"]["checksum"]["value"]
    entries = read_zip(zipped)
    assert entries["v3/big.bin"][0] == big
    assert entries["v2/big.bin"][0] == big
    assert entries["new.txt"][0] == b"n"


def test_copy_makes_a_second_object_with_the_same_bits(api, world, run_jobs, s3, bucket):
    source = uploaded_package(api, world.app["guid"], make_zip({"a.txt": "copy me"}), run_jobs)
    dest_app = api.create_app(world.space["guid"])
    r = api.client.post(
        f"/v3/packages/{source['guid']}/copy",
        headers=api.admin,
        json={"relationships": {"app": {"data": {"guid": dest_app["guid"]}}}},
    )
    assert r.status_code == 201, r.text
    copy = r.json()
    run_jobs()
    got = get_package(api, copy["guid"])
    assert got["state"] == "READY", got
    assert got["data"]["checksum"] == source["data"]["checksum"]
    assert fan_out("packages", copy["guid"]) in object_keys(s3, bucket)
    body = s3.get_object(Bucket=bucket, Key=fan_out("packages", copy["guid"]))["Body"].read()
    assert sha256(body) == source["data"]["checksum"]["value"]


def test_delete_removes_the_object(api, world, run_jobs, s3, bucket):
    pkg = uploaded_package(api, world.app["guid"], make_zip({"a.txt": "bye"}), run_jobs)
    key = fan_out("packages", pkg["guid"])
    assert key in object_keys(s3, bucket)
    r = api.client.delete(f"/v3/packages/{pkg['guid']}", headers=api.admin)
    assert r.status_code == 202, r.text
    run_jobs()
    assert api.client.get(f"/v3/packages/{pkg['guid']}", headers=api.admin).status_code == 404
    assert key not in object_keys(s3, bucket)


def test_a_large_upload_is_staged_as_a_multipart_upload_and_stored_server_side(api, world, run_jobs, s3, bucket):
    import os

    files = {f"f{i}.bin": os.urandom(1024 * 1024) for i in range(20)}  # ~20 MiB of incompressible data
    z = make_zip(files)
    pkg = api.create_package(world.app["guid"])
    assert upload(api, pkg["guid"], z).status_code == 200
    [staged] = object_keys(s3, bucket)
    assert s3.head_object(Bucket=bucket, Key=staged)["ETag"].strip('"').endswith("-3")  # 8 + 8 + 4 MiB parts
    run_jobs()
    assert get_package(api, pkg["guid"])["state"] == "READY"
    assert sha256(download_via_store(api, pkg["guid"])) == sha256(z)  # stored as uploaded


def test_a_rejected_upload_leaves_nothing_in_the_bucket(api, world, s3, bucket):
    pkg = api.create_package(world.app["guid"])
    parts = [("bits", ("package.zip", make_zip({"a": "b" * 9_000_000}), "application/zip"))]
    parts.append(("bits_name", (None, "n" * 70_000)))  # too long a field after the bits: 413
    r = api.client.post(f"/v3/packages/{pkg['guid']}/upload", files=parts, headers=api.admin)
    assert r.status_code == 413
    api.app.state.blobstore.close()  # waits for the background abort
    assert object_keys(s3, bucket) == []
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def download_via_store(api, guid):
    r = api.client.get(f"/v3/packages/{guid}/download", headers=api.admin, follow_redirects=False)
    assert r.status_code == 302
    return httpx.get(r.headers["location"]).content
