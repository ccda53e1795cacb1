"""S3 blobstore (boto3): blobs are objects under an optional key prefix; so are staged uploads.

boto3 is imported when a store is built, so this module (and the app) imports without the `s3` extra.
Objects appear atomically: a PUT, or a multipart upload, is visible only once it completes.
Only scratch files (a job's work, a spooled index) touch this machine's disk.
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast

from capi_packages.blobstore.base import BlobNotFound, BlobstoreFailure
from capi_packages.blobstore.s3_staging import S3Staging, error_code, failures, is_missing
from capi_packages.blobstore.scratch import ScratchArea

MiB = 1024 * 1024
MAX_SINGLE_COPY = 5 * 1024**3  # CopyObject's limit; larger objects are copied part by part
# Threads sending staged parts for all uploads of this process: the bound on their concurrency.
PART_THREADS = 8


class _BodyReader(io.RawIOBase):
    """A botocore StreamingBody as a raw stream; wrapped in a BufferedReader it is a normal file."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Blobstore:
    max_single_copy = MAX_SINGLE_COPY

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
        scratch_dir: Path,
        addressing_style: str = "auto",
    ) -> None:
        try:
            import boto3
            from boto3.s3.transfer import TransferConfig
            from botocore.config import Config
        except ImportError as e:  # pragma: no cover - depends on the installed extras
            raise RuntimeError("the S3 blobstore needs boto3: pip install 'capi-packages[s3]'") from e
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.scratch = ScratchArea(scratch_dir)
        options: dict[str, Any] = {
            "signature_version": "s3v4",
            "s3": {"addressing_style": addressing_style},
            "retries": {"mode": "standard", "max_attempts": 5},
            "max_pool_connections": 4 * PART_THREADS,
        }
        if endpoint_url:
            # S3-compatible stores (MinIO, Ceph, …) often reject the checksums newer botocore adds.
            options.update(request_checksum_calculation="when_required", response_checksum_validation="when_required")
        # A session of our own: boto3's default session is not safe to share between threads.
        session = boto3.session.Session()

        def client(config: Any) -> Any:
            return session.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
            )

        self.region = region
        self._client = client(Config(**options))
        # Health checks must answer quickly whatever the store does: short timeouts, no retries.
        probe_options = {**options, "connect_timeout": 2, "read_timeout": 3, "retries": {"max_attempts": 1}}
        self._probe_client = client(Config(**probe_options))
        # Multipart above 16 MiB in 8 MiB parts; s3transfer holds at most 10 parts in memory at once,
        # so memory stays bounded whatever the blob's size.
        self._transfer = TransferConfig(multipart_threshold=16 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
        self._parts = ThreadPoolExecutor(PART_THREADS, thread_name_prefix="capi-s3-part")
        self.staging = S3Staging(self, self._client, self._parts)

    def key(self, key: str) -> str:
        """The object key of a blob key (under the prefix)."""
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"blob key escapes the store: {key!r}")
        return self.prefix + key

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        # Spooled to local disk, uploaded on a clean exit; the temp file goes either way.
        with tempfile.NamedTemporaryFile(dir=self.scratch_dir(), prefix=".s3-upload-") as f:
            yield cast(BinaryIO, f)
            self._upload(key, cast(BinaryIO, f))

    def _upload(self, key: str, f: BinaryIO) -> None:
        # An open handle, not a path: a staging sweep cannot pull the file away mid-upload.
        f.flush()
        f.seek(0)
        with failures():
            self._client.upload_fileobj(f, self.bucket, self.key(key), Config=self._transfer)

    def put_file(self, key: str, source: Path) -> None:
        with open(source, "rb") as f:
            self._upload(key, f)

    def move_in(self, key: str, source: Path) -> None:
        self.put_file(key, source)
        source.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        try:
            with failures():
                response = self._client.get_object(Bucket=self.bucket, Key=self.key(key))
        except self._client.exceptions.ClientError as e:
            if is_missing(e):
                raise BlobNotFound(key) from e
            raise
        return cast(BinaryIO, io.BufferedReader(_BodyReader(response["Body"]), MiB))

    def _head(self, key: str) -> dict[str, Any] | None:
        return self.head_object(self.key(key))

    def head_object(self, object_key: str) -> dict[str, Any] | None:
        try:
            with failures():
                return cast(dict[str, Any], self._client.head_object(Bucket=self.bucket, Key=object_key))
        except self._client.exceptions.ClientError as e:
            if is_missing(e):
                return None
            raise

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise BlobNotFound(key)
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        # DeleteObject succeeds for a missing key.
        with failures():
            self._client.delete_object(Bucket=self.bucket, Key=self.key(key))

    def copy(self, source_key: str, dest_key: str) -> None:
        self.copy_object(self.key(source_key), self.key(dest_key), source_key)

    def copy_object(self, source: str, dest: str, missing: str) -> None:
        """Copy between object keys server-side; raises BlobNotFound(missing) when source is absent."""
        head = self.head_object(source)
        if head is None:
            raise BlobNotFound(missing)
        copy_source = {"Bucket": self.bucket, "Key": source}
        with failures():
            if int(head["ContentLength"]) <= self.max_single_copy:
                self._client.copy_object(CopySource=copy_source, Bucket=self.bucket, Key=dest)
            else:
                # Managed copy: UploadPartCopy in parts, still server-side (no bytes pass through us).
                self._client.copy(copy_source, self.bucket, dest, Config=self._transfer)

    def download(self, object_key: str, dest: Path, missing: str) -> None:
        """Fetch an object into a local file (ranged GETs in parallel); raises BlobNotFound(missing)."""
        try:
            with failures():
                self._client.download_file(self.bucket, object_key, str(dest), Config=self._transfer)
        except self._client.exceptions.ClientError as e:
            if is_missing(e):
                raise BlobNotFound(missing) from e
            raise

    def local_path(self, key: str) -> Path | None:
        return None

    def scratch_dir(self) -> Path:
        return self.scratch.path

    def check(self, *, write: bool = False) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"s3://{self.bucket} (CAPI_S3_BUCKET)" + (f" at {self.endpoint_url}" if self.endpoint_url else "")
        try:
            self._probe_client.head_bucket(Bucket=self.bucket)
            if write:
                probe = self.key(f"staging/.probe-{uuid.uuid4().hex}")
                self._probe_client.put_object(Bucket=self.bucket, Key=probe, Body=b"probe")
                self._probe_client.delete_object(Bucket=self.bucket, Key=probe)
        except ClientError as e:
            code = error_code(e)
            if code in ("404", "NoSuchBucket"):
                raise BlobstoreFailure(
                    f"the bucket {where} does not exist: create it (capi-packages s3 create-bucket)"
                ) from e
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise BlobstoreFailure(
                    f"access to the bucket {where} was refused ({code}): check CAPI_S3_ACCESS_KEY_ID and "
                    "CAPI_S3_SECRET_ACCESS_KEY"
                ) from e
            raise BlobstoreFailure(f"the bucket {where} answered {code}") from e
        except BotoCoreError as e:
            raise BlobstoreFailure(f"cannot reach the bucket {where}: {e}") from e

    def create_bucket(self) -> bool:
        """Create the bucket unless it exists; True when it was created."""
        try:
            self._probe_client.head_bucket(Bucket=self.bucket)
            return False
        except self._client.exceptions.ClientError as e:
            if error_code(e) not in ("404", "NoSuchBucket"):
                raise BlobstoreFailure(f"cannot look at the bucket {self.bucket}: {error_code(e)}") from e
        options: dict[str, Any] = {}
        if self.region and self.region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        with failures():
            self._client.create_bucket(Bucket=self.bucket, **options)
        return True

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def close(self) -> None:
        self.staging.settle()
        self._parts.shutdown(wait=True)
        self.scratch.close()

    def signed_url(self, key: str, ttl: int, filename: str) -> str:
        """A presigned GET URL: whoever holds it downloads the blob as `filename`, no token needed."""
        safe_name = filename.replace('"', "").replace("\\", "")
        params = {
            "Bucket": self.bucket,
            "Key": self.key(key),
            "ResponseContentType": "application/zip",
            "ResponseContentDisposition": f'attachment; filename="{safe_name}"',
        }
        return cast(str, self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl))
