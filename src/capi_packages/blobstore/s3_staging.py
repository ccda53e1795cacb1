"""Staged uploads as objects under `<prefix>staging/`, streamed in while the request arrives.

An upload goes up as a multipart upload in parts of PART_SIZE, one part in flight while the next
fills, so a request holds at most about two parts in memory; one smaller than a part is a single
PUT. Nothing is visible under the staged name until the upload completes; an aborted request aborts
its multipart upload, and the sweep aborts those a crashed process left behind.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capi_packages.blobstore.base import BlobNotFound, BlobstoreFailure, SweepResult
from capi_packages.blobstore.local import STAGED_PREFIX, sweep_scratch

if TYPE_CHECKING:
    from capi_packages.blobstore.s3 import S3Blobstore

log = logging.getLogger("capi_packages.blobstore")

MiB = 1024 * 1024
# S3 takes parts of 5 MiB or more (but the last); a few MiB keep memory per upload small.
PART_SIZE = 8 * MiB
AREA = "staging/"
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code"))


def is_missing(error: Exception) -> bool:
    return error_code(error) in _MISSING


@contextmanager
def failures() -> Iterator[None]:
    """botocore's errors (other than a missing key, handled by the caller) as BlobstoreFailure."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as e:
        if is_missing(e):
            raise
        raise BlobstoreFailure(str(e)) from e
    except BotoCoreError as e:
        raise BlobstoreFailure(str(e)) from e


class S3Upload:
    def __init__(self, staging: S3Staging, name: str) -> None:
        self.name = name
        self._staging = staging
        self._key = staging.object_key(name)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._inflight: Future[None] | None = None
        self._finished = False
        self._aborted = False

    def write(self, data: bytes) -> None:
        self._buffer += data
        self._pump()

    def backlog(self) -> Future[None] | None:
        """The part in flight while a whole next part waits in the buffer; call again once it is done."""
        self._pump()
        if len(self._buffer) >= PART_SIZE and self._inflight is not None and not self._inflight.done():
            return self._inflight
        return None

    def _pump(self) -> None:
        # Parts of exactly PART_SIZE, one in flight: however large the writes, the buffer only
        # grows past a part while the caller has not waited for the backlog.
        while len(self._buffer) >= PART_SIZE and (self._inflight is None or self._inflight.done()):
            if self._inflight is not None:
                self._inflight.result()  # done: re-raises a part that failed
            part = bytes(self._buffer[:PART_SIZE])
            del self._buffer[:PART_SIZE]
            self._parts.append({})
            self._inflight = self._staging.executor.submit(self._upload_part, len(self._parts), part)

    def _upload_part(self, number: int, data: bytes | bytearray) -> None:
        client, bucket = self._staging.client, self._staging.bucket
        with failures():
            if self._upload_id is None:
                self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=self._key)["UploadId"]
            answer = client.upload_part(
                Bucket=bucket, Key=self._key, PartNumber=number, UploadId=self._upload_id, Body=bytes(data)
            )
        self._parts[number - 1] = {"PartNumber": number, "ETag": answer["ETag"]}

    def finish(self) -> None:
        """Blocks until the upload is complete (call it off the event loop)."""
        client, bucket = self._staging.client, self._staging.bucket
        try:
            if self._inflight is not None:
                self._inflight.result()
            if not self._parts and len(self._buffer) <= PART_SIZE:
                with failures():
                    client.put_object(Bucket=bucket, Key=self._key, Body=bytes(self._buffer))
            else:
                while self._buffer:
                    part = bytes(self._buffer[:PART_SIZE])
                    del self._buffer[:PART_SIZE]
                    self._parts.append({})
                    self._upload_part(len(self._parts), part)
                with failures():
                    client.complete_multipart_upload(
                        Bucket=bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
                    )
        except BaseException:
            self.abort()
            raise
        self._buffer = bytearray()
        self._finished = True

    def abort(self) -> None:
        """Drops the upload (also a finished one) in the background: callable from the event loop."""
        if self._aborted:
            return
        self._aborted = True
        self._buffer = bytearray()
        self._staging.in_background(self._abort_now)

    def _abort_now(self) -> None:
        if self._inflight is not None:
            # The part's failure, if any, was reported to the request already.
            with contextlib.suppress(Exception):
                self._inflight.result()
        client, bucket = self._staging.client, self._staging.bucket
        if self._finished:
            client.delete_object(Bucket=bucket, Key=self._key)
        elif self._upload_id is not None:
            client.abort_multipart_upload(Bucket=bucket, Key=self._key, UploadId=self._upload_id)


class S3Staging:
    def __init__(self, store: S3Blobstore, client: Any, executor: ThreadPoolExecutor) -> None:
        self.store = store
        self.client = client
        self.bucket = store.bucket
        self.executor = executor
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def object_key(self, name: str) -> str:
        if not name.startswith(STAGED_PREFIX) or "/" in name:
            raise ValueError(f"not a staged upload's name: {name!r}")
        return self.store.key(AREA + name)

    def open_upload(self) -> S3Upload:
        return S3Upload(self, f"{STAGED_PREFIX}{uuid.uuid4().hex}")

    def exists(self, name: str) -> bool:
        return self.store.head_object(self.object_key(name)) is not None

    @contextmanager
    def local_file(self, name: str) -> Iterator[Path]:
        path = self.store.scratch_dir() / f"{name}-{uuid.uuid4().hex[:8]}"
        try:
            with contextlib.suppress(BlobNotFound):
                self.store.download(self.object_key(name), path, name)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def store_as(self, name: str, key: str) -> None:
        self.store.copy_object(self.object_key(name), self.store.key(key), name)

    def discard(self, name: str) -> None:
        with failures():
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(name))

    def sweep(self, keep: Collection[str], older_than_seconds: float) -> SweepResult:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        area = self.store.key(AREA)
        with failures():
            staged = self._delete_old_objects(area, keep, cutoff)
            incomplete = self._abort_old_uploads(area, cutoff)
        scratch = sweep_scratch(self.store.scratch, cutoff.timestamp())
        return SweepResult(staged=staged, incomplete=incomplete, scratch=scratch)

    def _delete_old_objects(self, area: str, keep: Collection[str], cutoff: datetime) -> int:
        doomed: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=area):
            for obj in page.get("Contents", []):
                if obj["Key"][len(area) :] not in keep and obj["LastModified"] < cutoff:
                    doomed.append(obj["Key"])
        for start in range(0, len(doomed), 1000):
            batch = [{"Key": key} for key in doomed[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(doomed)

    def _abort_old_uploads(self, area: str, cutoff: datetime) -> int:
        aborted = 0
        for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=area):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] >= cutoff:
                    continue
                # Still receiving parts (a long upload): judged by its last part, not its start.
                parts = self.client.list_parts(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                latest = max((p["LastModified"] for p in parts.get("Parts", [])), default=upload["Initiated"])
                if latest < cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
        return aborted

    def in_background(self, task: Any) -> None:
        def run() -> None:
            try:
                task()
            except Exception:
                log.warning("dropping a staged upload failed; the staging sweep removes it later", exc_info=True)

        future = self.executor.submit(run)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._settled)

    def _settled(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def settle(self, timeout: float = 30) -> None:
        """Wait for background drops to finish (at shutdown, and in tests)."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            with contextlib.suppress(Exception):  # already logged by the task
                future.result(timeout)
