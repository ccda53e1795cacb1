"""S3Blobstore against a real moto S3 server: every protocol method, presigned URLs, the factory."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from capi_packages.blobstore import make_blobstore
from capi_packages.blobstore.local import LocalBlobstore
from capi_packages.blobstore.s3 import S3Blobstore
from capi_packages.settings import Settings
from tests.blobstore.conftest import KEY_ID, REGION, SECRET

KEY = "packages/ab/cd/abcdef"
PREFIX = "cf/blobs/"


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    return tmp_path / "staging"


@pytest.fixture
def store(s3_server: Any, bucket: str, staging: Path) -> S3Blobstore:
    return S3Blobstore(
        bucket,
        endpoint_url=s3_server.endpoint_url,
        region=REGION,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        prefix=PREFIX,
        scratch_dir=staging,
    )


def put(store: S3Blobstore, key: str, data: bytes) -> None:
    with store.writer(key) as f:
        f.write(data)


def test_a_20_mb_writer_round_trip_goes_up_in_parts_and_reads_back_in_chunks(store, s3, bucket, staging):
    data = os.urandom(20 * 1024 * 1024)
    with store.writer(KEY) as f:
        for i in range(0, len(data), 1024 * 1024):
            f.write(data[i : i + 1024 * 1024])
        assert not store.exists(KEY)  # nothing is visible before the block ends
    assert list(store.scratch_dir().iterdir()) == []  # the spool file is gone
    head = s3.head_object(Bucket=bucket, Key=PREFIX + KEY)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload: 8 + 8 + 4 MiB
    digest = hashlib.sha256()
    with store.open(KEY) as blob:
        while chunk := blob.read(1024 * 1024):
            assert len(chunk) <= 1024 * 1024
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert store.size(KEY) == len(data)


def test_a_writer_block_that_raises_stores_nothing_and_leaves_no_spool_file(store, staging):
    def write_half_then_fail() -> None:
        with store.writer(KEY) as f:
            f.write(b"half a blob")
            raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        write_half_then_fail()
    assert not store.exists(KEY)
    assert list(store.scratch_dir().iterdir()) == []


def test_objects_live_under_the_prefix(store, s3, bucket):
    put(store, KEY, b"x")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [PREFIX + KEY]


def test_copy_of_a_blob_above_the_single_copy_limit_goes_in_parts(store, s3, bucket):
    data = os.urandom(17 * 1024 * 1024)
    put(store, KEY, data)
    store.max_single_copy = 1024 * 1024  # stands in for CopyObject's 5 GB limit
    store.copy(KEY, "packages/ef/gh/efgh")
    head = s3.head_object(Bucket=bucket, Key=PREFIX + "packages/ef/gh/efgh")
    assert head["ContentLength"] == len(data)
    assert "-" in head["ETag"]  # assembled from copied parts
    with store.open("packages/ef/gh/efgh") as f:
        assert f.read() == data


def test_no_local_path_and_a_local_scratch_dir(store, staging):
    put(store, KEY, b"x")
    assert store.local_path(KEY) is None
    assert store.scratch_dir().parent == staging
    assert store.scratch_dir().is_dir()


def test_a_presigned_url_downloads_without_credentials(store):
    data = os.urandom(100_000)
    put(store, KEY, data)
    url = store.signed_url(KEY, 60, "abcdef.zip")
    assert "X-Amz-Signature=" in url
    r = httpx.get(url)  # no Authorization, no AWS credentials
    assert r.status_code == 200, r.text
    assert r.content == data
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == 'attachment; filename="abcdef.zip"'


def test_a_tampered_presigned_url_is_refused(store):
    put(store, KEY, b"secret bits")
    url = store.signed_url(KEY, 60, "abcdef.zip")
    assert httpx.get(url.replace("abcdef", "abcdeg", 1)).status_code == 403


def test_the_factory_builds_the_configured_store(tmp_path, s3_server, bucket):
    local = make_blobstore(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalBlobstore)
    assert local.staging.directory == tmp_path / "blobstore" / "staging"
    assert local.scratch_dir().parent == tmp_path / "blobstore" / "tmp"
    remote = make_blobstore(
        Settings(
            data_dir=tmp_path,
            blobstore_type="s3",
            s3_bucket=bucket,
            s3_endpoint_url=s3_server.endpoint_url,
            s3_region=REGION,
            s3_access_key_id=KEY_ID,
            s3_secret_access_key=SECRET,
            s3_prefix="p",
        )
    )
    assert isinstance(remote, S3Blobstore)
    assert remote.scratch_dir().parent == tmp_path / "tmp"
    assert remote.prefix == "p/"
    put(remote, KEY, b"via settings")
    assert remote.size(KEY) == len(b"via settings")


def test_s3_settings_need_a_bucket_and_known_values():
    with pytest.raises(ValidationError, match="s3_bucket is required"):
        Settings(blobstore_type="s3")
    with pytest.raises(ValidationError, match="blobstore_type"):
        Settings(blobstore_type="gcs")
    with pytest.raises(ValidationError, match="s3_addressing_style"):
        Settings(blobstore_type="s3", s3_bucket="b", s3_addressing_style="sideways")
    assert "s3_secret_access_key='" not in repr(Settings(s3_secret_access_key="hush"))


def test_the_app_imports_without_boto3():
    code = "import sys; sys.modules['boto3'] = None; import capi_packages.blobstore.s3, capi_packages.app"
    subprocess.run([sys.executable, "-c", code], check=True)
