"""Streaming bodies for bits: the upload's multipart form and the download's file sink."""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, BinaryIO

import httpx

# progress(bytes_done, bytes_total); the total is None when the server did not say.
ProgressCallback = Callable[[int, int | None], None]

CHUNK_SIZE = 256 * 1024


class MultipartUpload:
    """The upload form as CF reads it: the `resources` text field first, then the `bits` file part.

    Iterating yields the body chunk by chunk, re-reading the file each time, so a 1 GB zip never
    sits in memory and a retried request can iterate again. `content_length` is known up front,
    which spares the server a chunked body.
    """

    def __init__(
        self,
        resources_json: str,
        bits: BinaryIO | None = None,
        *,
        progress: ProgressCallback | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.boundary = f"capi-packages-{secrets.token_hex(16)}"
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self._bits = bits
        self._progress = progress
        self._chunk_size = chunk_size
        dash = f"--{self.boundary}\r\n".encode("ascii")
        self._head = (
            dash
            + b'Content-Disposition: form-data; name="resources"\r\n\r\n'
            + resources_json.encode("utf-8")
            + b"\r\n"
        )
        self._file_head = (
            dash
            + b'Content-Disposition: form-data; name="bits"; filename="package.zip"\r\n'
            + b"Content-Type: application/zip\r\n\r\n"
        )
        self._tail = f"--{self.boundary}--\r\n".encode("ascii")
        if bits is None:
            self._start, self.bits_size = 0, 0
            self.content_length = len(self._head) + len(self._tail)
        else:
            self._start = bits.tell()
            self.bits_size = bits.seek(0, os.SEEK_END) - self._start
            bits.seek(self._start)
            self.content_length = len(self._head) + len(self._file_head) + self.bits_size + 2 + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        if self._bits is not None:
            yield self._file_head
            self._bits.seek(self._start)
            done, remaining = 0, self.bits_size
            while remaining > 0:
                chunk = self._bits.read(min(self._chunk_size, remaining))
                if not chunk:
                    # A file that shrank would leave the Content-Length promised wrong.
                    raise OSError("the bits file got shorter while it was being uploaded")
                remaining -= len(chunk)
                done += len(chunk)
                if self._progress is not None:
                    self._progress(done, self.bits_size)
                yield chunk
            yield b"\r\n"
        yield self._tail


def _is_seekable(fileobj: IO[bytes]) -> bool:
    try:
        return bool(fileobj.seekable())
    except (AttributeError, OSError, ValueError):
        return False


@contextmanager
def open_bits(source: str | os.PathLike[str] | BinaryIO) -> Iterator[BinaryIO]:
    """A seekable binary file for `source`: a path is opened, a seekable file object is used as
    it is (and left open), anything else is spooled to a temporary file so its size is known."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fileobj:
            yield fileobj
    elif _is_seekable(source):
        yield source
    else:
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(source, spool, CHUNK_SIZE)
            spool.seek(0)
            yield spool


@contextmanager
def open_destination(dest: str | os.PathLike[str] | BinaryIO) -> Iterator[BinaryIO]:
    """A writable binary file for `dest`. A path is written to a temporary sibling and renamed into
    place only on success, so a failed download never leaves a truncated zip under the real name."""
    if not isinstance(dest, str | os.PathLike):
        yield dest
        return
    path = Path(dest)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", os.fspath(dest))
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        # Name the user's path, not the temporary sibling's.
        strerror = "No such directory" if isinstance(error, FileNotFoundError) else error.strerror
        raise type(error)(error.errno, strerror, os.fspath(dest)) from error
    try:
        with os.fdopen(fd, "wb") as fileobj:
            yield fileobj
        os.replace(tmp_name, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def save_response(
    response: httpx.Response,
    dest: str | os.PathLike[str] | BinaryIO,
    progress: ProgressCallback | None = None,
) -> int:
    """Stream a response body into `dest`; returns the number of bytes written."""
    length = response.headers.get("content-length")
    total = int(length) if length and length.isdigit() else None
    done = 0
    with open_destination(dest) as out:
        for chunk in response.iter_bytes(CHUNK_SIZE):
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return done
