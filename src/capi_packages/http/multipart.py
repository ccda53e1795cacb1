"""Streams an upload form: the `bits` part goes into the blobstore's staging as it arrives, hashed on the way.

On S3 that is a multipart upload fed part by part; reading the body waits while a part is in
flight, so a request holds about two parts in memory whatever the upload's size.

Every part is bounded before it is read: the number of parts, each part's headers, each text part
(`resources` gets the JSON body limit, any other field a small one) and the whole body.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from capi_packages.blobstore.base import StagedUpload, Staging
from capi_packages.errors import ApiError, BlobstoreUnavailable, MessageParseError, PayloadTooLarge
from capi_packages.http.bodies import refuse_declared_over, too_large

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELDS = ("bits",)
MAX_PARTS = 32
MAX_PART_HEADERS = 16 * 1024
MAX_TEXT_FIELD = 64 * 1024
# The cf CLI sends every matched file of an app here; a JSON body's limit keeps it in line.
TEXT_FIELD_LIMITS = {"resources": 15 * 1024 * 1024}


class StoppedAtFile(Exception):
    """Raised inside the parser when a form is only being looked at up to its first file part."""


@dataclass
class StagedFile:
    upload: StagedUpload
    size: int
    sha1: str
    sha256: str
    filename: str | None

    @property
    def name(self) -> str:
        """The staged upload's name, which the job's payload carries."""
        return self.upload.name


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, StagedFile] = field(default_factory=dict)
    # Set when reading stopped at the start of this file part (see read_upload_form's stop_at_file).
    stopped_at_file: str | None = None

    def discard(self) -> None:
        """Drop what was staged (without blocking: on S3 the delete runs in the background)."""
        for staged in self.files.values():
            staged.upload.abort()


class _Collector:
    """python-multipart callbacks: headers name the part; file parts stream into staging."""

    def __init__(self, staging: Staging | None, stop_at_file: bool) -> None:
        self.staging = staging
        self.stop_at_file = stop_at_file
        self.form = UploadForm()
        self._parts = 0
        self._header_bytes = 0
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._filename: str | None = None
        self._text = bytearray()
        self._file: StagedUpload | None = None
        # File parts whose bytes are all in, waiting for finish() (which may block: run off the loop).
        self.ended: list[tuple[str, StagedFile]] = []
        self._file_size = 0
        self._sha1: Any = None
        self._sha256: Any = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._acc("_header_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._acc("_header_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _acc(self, attr: str, data: bytes) -> None:
        self._header_bytes += len(data)
        if self._header_bytes > MAX_PART_HEADERS:
            raise MessageParseError()
        setattr(self, attr, getattr(self, attr) + data)

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise MessageParseError()
        self._headers, self._name, self._filename = {}, None, None
        self._header_bytes = 0
        self._text = bytearray()
        self._text_limit = MAX_TEXT_FIELD

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        _, params = parse_options_header(disposition)
        name = params.get(b"name")
        if name is None:
            raise MessageParseError()
        self._name = name.decode("utf-8", "replace")
        filename = params.get(b"filename")
        self._filename = filename.decode("utf-8", "replace") if filename is not None else None
        self._text_limit = TEXT_FIELD_LIMITS.get(self._name, MAX_TEXT_FIELD)
        # Any part named `bits` is the zip, whatever its filename or content type (clients differ).
        if self._name in FILE_FIELDS:
            if self.stop_at_file:
                self.form.stopped_at_file = self._name
                raise StoppedAtFile()
            assert self.staging is not None
            self._file = self.staging.open_upload()
            self._file_size = 0
            # Hashed on the way in: an upload stored verbatim needs no second read.
            self._sha1, self._sha256 = hashlib.sha1(usedforsecurity=False), hashlib.sha256()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None:
            self._file.write(chunk)
            self._sha1.update(chunk)
            self._sha256.update(chunk)
            self._file_size += len(chunk)
        else:
            if len(self._text) + len(chunk) > self._text_limit:
                raise PayloadTooLarge(f"The form field '{self._name}' may not be larger than {self._text_limit} bytes")
            self._text += chunk

    def _part_end(self) -> None:
        assert self._name is not None
        if self._file is not None:
            staged = StagedFile(
                self._file, self._file_size, self._sha1.hexdigest(), self._sha256.hexdigest(), self._filename
            )
            self.ended.append((self._name, staged))
            self._file = None
        else:
            self.form.fields[self._name] = self._text.decode("utf-8", "replace")

    def backlog(self) -> Any:
        return self._file.backlog() if self._file is not None else None

    async def finish_ended(self) -> None:
        while self.ended:
            name, staged = self.ended[0]
            await run_in_threadpool(staged.upload.finish)
            self.ended.pop(0)
            previous = self.form.files.get(name)
            if previous is not None:
                previous.upload.abort()
            self.form.files[name] = staged

    def abort(self) -> None:
        if self._file is not None:
            self._file.abort()
            self._file = None
        for _name, staged in self.ended:
            staged.upload.abort()
        self.ended = []
        self.form.discard()


async def read_upload_form(
    request: Request, staging: Staging | None, max_bytes: int, *, stop_at_file: bool = False
) -> UploadForm:
    """Read a multipart body, never holding a file part in memory; bounded by max_bytes.

    With stop_at_file, reading ends where the first file part begins (nothing is staged): enough
    to see the text fields a client sent before its file.
    """
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise MessageParseError()
    refuse_declared_over(request, max_bytes)
    collector = _Collector(staging, stop_at_file)
    parser = MultipartParser(boundary, collector.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise too_large(max_bytes)
            parser.write(chunk)
            while (backlog := collector.backlog()) is not None:
                # A part is still going up: wait before reading more (memory stays bounded).
                await asyncio.wrap_future(backlog)
            if collector.ended:
                await collector.finish_ended()
        parser.finalize()
        await collector.finish_ended()
    except StoppedAtFile:
        return collector.form
    except ApiError:
        collector.abort()
        raise
    except OSError as e:
        # Staging could not be written (disk full, no permission): the store's fault, not the body's.
        collector.abort()
        raise BlobstoreUnavailable() from e
    except BaseException as e:
        # Also on cancellation (a stalled or vanished client): the staging file must not outlive the request.
        collector.abort()
        if isinstance(e, Exception):
            raise MessageParseError() from e
        raise
    if collector._file is not None:  # the body ended inside a file part
        collector.abort()
        raise MessageParseError()
    return collector.form
