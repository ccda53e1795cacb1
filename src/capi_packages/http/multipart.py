"""Streams an upload form: the `bits` part goes to a staging file as it arrives, hashed on the way.

Every part is bounded before it is read: the number of parts, each part's headers, each text part
(`resources` gets the JSON body limit, any other field a small one) and the whole body.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

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
    path: Path
    size: int
    sha1: str
    sha256: str
    filename: str | None


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, StagedFile] = field(default_factory=dict)
    # Set when reading stopped at the start of this file part (see read_upload_form's stop_at_file).
    stopped_at_file: str | None = None

    def discard(self) -> None:
        for staged in self.files.values():
            staged.path.unlink(missing_ok=True)


class _Collector:
    """python-multipart callbacks: headers name the part; file parts stream to disk."""

    def __init__(self, staging_dir: Path, stop_at_file: bool) -> None:
        self.staging_dir = staging_dir
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
        self._file: Any = None
        self._file_path: Path | None = None
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
            self._file_path = self.staging_dir / f"upload-{uuid.uuid4().hex}"
            self._file = open(self._file_path, "wb")  # noqa: SIM115 (closed by _part_end or close())
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
            self._file.close()
            assert self._file_path is not None
            previous = self.form.files.get(self._name)
            if previous is not None:
                previous.path.unlink(missing_ok=True)
            self.form.files[self._name] = StagedFile(
                self._file_path, self._file_size, self._sha1.hexdigest(), self._sha256.hexdigest(), self._filename
            )
            self._file = None
        else:
            self.form.fields[self._name] = self._text.decode("utf-8", "replace")

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._file_path is not None:
            self._file_path.unlink(missing_ok=True)
        self.form.discard()


async def read_upload_form(
    request: Request, staging_dir: Path, max_bytes: int, *, stop_at_file: bool = False
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
    if not stop_at_file:
        staging_dir.mkdir(parents=True, exist_ok=True)
    collector = _Collector(staging_dir, stop_at_file)
    parser = MultipartParser(boundary, collector.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise too_large(max_bytes)
            parser.write(chunk)
        parser.finalize()
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
