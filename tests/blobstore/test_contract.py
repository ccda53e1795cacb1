"""One suite for every blobstore backend: each case runs on the local store and on S3 (a real moto server).

A new backend is a module plus one branch of the `store` fixture.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from capi_packages.blobstore.base import BlobNotFound, Blobstore, BlobstoreFailure, PresignsDownloads, SweepResult
from capi_packages.blobstore.local import LocalBlobstore
from capi_packages.blobstore.s3 import S3Blobstore
from tests.blobstore.conftest import KEY_ID, REGION, SECRET

KEY = "packages/ab/cd/abcdef"


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Blobstore:
    if backend == "local":
        return LocalBlobstore(tmp_path / "blobstore")
    s3_server: Any = request.getfixturevalue("s3_server")
    return S3Blobstore(
        request.getfixturevalue("bucket"),
        endpoint_url=s3_server.endpoint_url,
        region=REGION,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        prefix="cf/blobs/",
        scratch_dir=tmp_path / "scratch",
    )


def put(store: Blobstore, key: str, data: bytes) -> None:
    with store.writer(key) as f:
        f.write(data)


def test_a_writer_block_that_raises_stores_nothing(store):
    def write_half_then_fail() -> None:
        with store.writer(KEY) as f:
            f.write(b"half a blob")
            raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        write_half_then_fail()
    assert not store.exists(KEY)


def test_put_file_keeps_the_source_and_move_in_consumes_it(store, tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(b"put me")
    store.put_file("resources/aa/bb/one", source)
    assert source.read_bytes() == b"put me"
    store.move_in("resources/aa/bb/two", source)
    assert not source.exists()
    for key in ("resources/aa/bb/one", "resources/aa/bb/two"):
        with store.open(key) as f:
            assert f.read() == b"put me"


def test_put_file_replaces_an_existing_blob(store, tmp_path):
    put(store, KEY, b"old")
    source = tmp_path / "new"
    source.write_bytes(b"new content")
    store.put_file(KEY, source)
    with store.open(KEY) as f:
        assert f.read() == b"new content"


def test_open_reads_in_pieces_and_closes(store):
    put(store, KEY, b"0123456789")
    f = store.open(KEY)
    assert f.read(3) == b"012"
    assert f.read(4) == b"3456"
    assert f.read() == b"789"
    assert f.read(5) == b""
    f.close()
    assert f.closed


def test_missing_keys(store):
    with pytest.raises(BlobNotFound):
        store.open(KEY)
    with pytest.raises(BlobNotFound):
        store.size(KEY)
    with pytest.raises(BlobNotFound):
        store.copy(KEY, "packages/ef/gh/efgh")
    assert store.exists(KEY) is False
    store.delete(KEY)  # deleting a missing key is fine


def test_exists_size_and_delete(store):
    put(store, KEY, b"12345")
    assert store.exists(KEY)
    assert store.size(KEY) == 5
    store.delete(KEY)
    assert not store.exists(KEY)


def test_a_copy_is_independent_of_its_source(store):
    put(store, KEY, b"original")
    store.copy(KEY, "packages/ef/gh/efgh")
    store.delete(KEY)
    with store.open("packages/ef/gh/efgh") as f:
        assert f.read() == b"original"


def test_keys_that_climb_out_are_refused(store):
    with pytest.raises(ValueError):
        store.exists("packages/../../etc")


def test_a_reachable_store_passes_its_check_and_the_write_probe_leaves_nothing(store, tmp_path):
    store.check()
    store.check(write=True)
    assert not store.exists("staging/.probe")
    assert store.describe()


def test_a_store_that_is_gone_fails_its_check_in_one_line(store, backend, request):
    if backend == "local":
        assert isinstance(store, LocalBlobstore)
        shutil.rmtree(store.root)
    else:
        request.getfixturevalue("s3").delete_bucket(Bucket=request.getfixturevalue("bucket"))
    with pytest.raises(BlobstoreFailure) as failure:
        store.check()
    assert "\n" not in str(failure.value)
    assert "does not exist" in str(failure.value)


def test_only_the_s3_store_presigns_downloads(store, backend):
    assert isinstance(store, PresignsDownloads) is (backend == "s3")


def test_local_path_is_the_blob_file_where_there_is_one(store, backend):
    put(store, KEY, b"x")
    path = store.local_path(KEY)
    if backend == "local":
        assert path is not None and path.read_bytes() == b"x"
    else:
        assert path is None


# --- staging: uploads waiting for their job, where a worker on any host can read them -------------
def stage(store: Blobstore, data: bytes, piece: int = 1024 * 1024) -> str:
    upload = store.staging.open_upload()
    for i in range(0, len(data), piece):
        upload.write(data[i : i + piece])
        while (backlog := upload.backlog()) is not None:
            backlog.result()
    upload.finish()
    return upload.name


@pytest.mark.parametrize("size", [0, 5000, 19 * 1024 * 1024])
def test_a_staged_upload_reads_back_as_a_local_file_and_is_stored_as_it_is(store, size):
    data = os.urandom(size)
    name = stage(store, data)
    assert store.staging.exists(name)
    with store.staging.local_file(name) as path:
        assert path.read_bytes() == data
    store.staging.store_as(name, KEY)
    with store.open(KEY) as f:
        assert f.read() == data
    store.staging.discard(name)
    assert not store.staging.exists(name)
    store.staging.discard(name)  # discarding twice is fine
    assert store.exists(KEY)


def test_a_staged_upload_that_is_gone_is_a_path_that_does_not_exist(store):
    with store.staging.local_file("upload-gone") as path:
        assert not path.exists()
    with pytest.raises(BlobNotFound):
        store.staging.store_as("upload-gone", KEY)


def test_nothing_is_visible_before_finish_and_an_abort_leaves_nothing(store, backend, request):
    upload = store.staging.open_upload()
    upload.write(os.urandom(9 * 1024 * 1024))  # more than a part: on S3 a multipart upload begins
    if (backlog := upload.backlog()) is not None:
        backlog.result()
    upload.write(b"tail")
    assert not store.staging.exists(upload.name)
    upload.abort()
    store.close()  # waits for the background abort
    assert not store.staging.exists(upload.name)
    if backend == "s3":
        s3, bucket = request.getfixturevalue("s3"), request.getfixturevalue("bucket")
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    else:
        assert list(store.staging.directory.iterdir()) == []


def test_names_that_are_not_staged_uploads_are_refused(store):
    for name in ("../packages/ab/cd/abcdef", "upload-a/b", "something-else"):
        with pytest.raises(ValueError):
            store.staging.exists(name)


def test_the_sweep_removes_old_unowned_uploads_and_unfinished_ones_and_keeps_the_rest(store, backend, request):
    owned, orphan = stage(store, b"owned"), stage(store, b"orphan")
    unfinished = store.staging.open_upload()
    unfinished.write(os.urandom(9 * 1024 * 1024))
    if backend == "s3":
        # Until its first part is in, moto dates a multipart upload in 2010 (real S3 dates it now).
        s3, bucket = request.getfixturevalue("s3"), request.getfixturevalue("bucket")
        deadline = time.monotonic() + 30
        while not any(
            s3.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts")
            for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    scratch = store.scratch_dir() / "job-leftover"
    scratch.write_bytes(b"x")

    # Young: nothing goes.
    assert store.staging.sweep(set(), older_than_seconds=3600) == SweepResult()
    assert store.staging.exists(orphan)

    swept = store.staging.sweep({owned}, older_than_seconds=0)
    assert swept.staged == 1
    assert swept.scratch == 1
    assert swept.incomplete == 1
    assert store.staging.exists(owned) and not store.staging.exists(orphan)
    assert not scratch.exists()
    if backend == "s3":
        s3, bucket = request.getfixturevalue("s3"), request.getfixturevalue("bucket")
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    unfinished.abort()
