"""Upload, processing and download over HTTP with real zips."""

from __future__ import annotations

import hashlib
import io
import zipfile

from tests.bits_api.bits_support import download_bytes, upload
from tests.factories import assert_error, make_zip

BIG = 70_000  # above the pool's 65536-byte minimum, so the file is cached


def test_upload_answers_processing_then_job_makes_package_ready(api, package, run_jobs):
    z = make_zip({"index.js": "console.log(1)", "lib/a.txt": "a"}, modes={"index.js": 0o755})
    r = upload(api, package["guid"], z)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "PROCESSING_UPLOAD"
    run_jobs()
    got = api.ok("GET", f"/v3/packages/{package['guid']}", 200)
    assert got["state"] == "READY", got
    zipped = download_bytes(api, package["guid"])
    assert got["data"]["checksum"] == {"type": "sha256", "value": hashlib.sha256(zipped).hexdigest()}
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        assert zf.read("index.js") == b"console.log(1)"
        assert (zf.getinfo("index.js").external_attr >> 16) & 0o777 == 0o755
        assert sorted(zf.namelist()) == ["index.js", "lib/a.txt"]


def test_second_upload_is_rejected_with_bits_already_uploaded(api, package, run_jobs):
    assert upload(api, package["guid"], make_zip({"a": "1"})).status_code == 200
    r = upload(api, package["guid"], make_zip({"a": "1"}))
    assert_error(
        r,
        400,
        150004,
        "CF-PackageBitsAlreadyUploaded",
        "Bits may be uploaded only once. Create a new package to upload different bits.",
    )


def test_cached_resources_are_merged_into_a_later_package(api, world, run_jobs):
    big = b"x" * BIG
    first = api.create_package(world.app["guid"])
    upload(api, first["guid"], make_zip({"big.bin": big, "small": "s"}))
    run_jobs()
    sha1 = hashlib.sha1(big).hexdigest()
    match = api.client.post(
        "/v3/resource_matches",
        headers=api.admin,
        json={"resources": [{"checksum": {"value": sha1}, "size_in_bytes": BIG, "path": "big.bin", "mode": "644"}]},
    )
    assert match.status_code == 201
    assert match.json() == {
        "resources": [{"checksum": {"value": sha1}, "size_in_bytes": BIG, "path": "big.bin", "mode": "644"}]
    }
    second = api.create_package(world.app["guid"])
    resources = [
        {"checksum": {"value": sha1}, "size_in_bytes": BIG, "path": "v3/big.bin", "mode": "644"},
        {"sha1": sha1, "size": BIG, "fn": "v2/big.bin", "mode": "0600"},
    ]
    assert upload(api, second["guid"], make_zip({"new.txt": "n"}), resources).status_code == 200
    run_jobs()
    assert api.ok("GET", f"/v3/packages/{second['guid']}", 200)["state"] == "READY"
    with zipfile.ZipFile(io.BytesIO(download_bytes(api, second["guid"]))) as zf:
        assert zf.read("v3/big.bin") == big
        assert zf.read("v2/big.bin") == big
        assert (zf.getinfo("v2/big.bin").external_attr >> 16) & 0o777 == 0o600


def test_not_a_zip_fails_with_invalid_zip_archive(api, package, run_jobs):
    upload(api, package["guid"], b"this is not a zip")
    run_jobs()
    got = api.ok("GET", f"/v3/packages/{package['guid']}", 200)
    assert got["state"] == "FAILED"
    assert got["data"]["error"] == "The app upload is invalid: Invalid zip archive."


def test_upload_without_bits_or_resources_is_unprocessable(api, package):
    r = api.client.post(f"/v3/packages/{package['guid']}/upload", headers=api.admin, data={"resources": "[]"})
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Upload must include either resources or bits")
