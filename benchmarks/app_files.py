"""Deterministic app content for the bits scenarios: incompressible blobs and source-like text."""

from __future__ import annotations

import os
import random
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

# Lines of a made-up code base: deflate shrinks a file of them about five-fold, as it does real source.
# fmt: off
_WORDS = (
    "def", "class", "return", "import", "from", "self", "value", "result", "items", "index", "count",
    "name", "path", "config", "options", "request", "response", "error", "status", "handler", "client",
    "server", "buffer", "stream", "chunk", "offset", "length", "size", "if", "else", "for", "while",
    "try", "except", "finally", "with", "yield", "async", "await", "lambda", "None", "True", "False",
)
# fmt: on


def _vocabulary(rng: random.Random, lines: int = 1000) -> list[bytes]:
    out = []
    for _ in range(lines):
        indent = b"    " * rng.randrange(4)
        words = " ".join(rng.choice(_WORDS) + str(rng.randrange(100)) for _ in range(rng.randrange(3, 10)))
        out.append(indent + words.encode() + b"\n")
    return out


def _seed(index: int, salt: bytes) -> int:
    # Not hash(): bytes hashing is salted per process.
    return index * 1_000_003 + zlib.crc32(salt) * 2


class AppFiles:
    """`count` files of `total` bytes in all: even ones random, odd ones source text.

    Sizes are spread uniformly between 1 KiB and about twice the mean, so some files are
    pool-sized (>= 64 KiB) and most are not, as in a real app.
    """

    def __init__(self, count: int, total: int, seed: int = 7, fixed_size: int | None = None) -> None:
        self.rng = random.Random(seed)
        mean = total // count
        if fixed_size is not None:
            sizes = [fixed_size] * count
        else:
            raw = [self.rng.uniform(1024, 2 * mean - 1024) for _ in range(count)]
            scale = total / sum(raw)
            sizes = [max(1, int(s * scale)) for s in raw]
            sizes[-1] += total - sum(sizes)
        self.sizes = sizes
        self._lines = _vocabulary(self.rng)

    def name(self, index: int) -> str:
        kind = "vendor/lib" if index % 2 == 0 else "src/app"
        return f"{kind}{index % 50:02}/file{index:05}.{'bin' if index % 2 == 0 else 'py'}"

    def content(self, index: int, salt: bytes = b"") -> bytes:
        size = self.sizes[index]
        if index % 2 == 0:
            # Seeded per file and salt, so a re-generated tree is identical (the pool must match it).
            return random.Random(_seed(index, salt)).randbytes(size)
        rng = random.Random(_seed(index, salt) + 1)
        parts = [b"# file %d %s\n" % (index, salt)]
        length = len(parts[0])
        while length < size:
            line = rng.choice(self._lines)
            parts.append(line)
            length += len(line)
        return b"".join(parts)[:size]

    def items(self) -> Iterator[tuple[str, bytes]]:
        for i in range(len(self.sizes)):
            yield self.name(i), self.content(i)

    def write_zip(self, path: Path, level: int = 6) -> Path:
        """A zip of every file (no directory entries, as `capi_client` and most zippers write)."""
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
            for name, data in self.items():
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.create_system = 3
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                # Random bytes do not compress at any level; level 1 only builds the zip faster.
                zf.writestr(info, data, compresslevel=level if name.endswith(".py") else 1)
        return path

    def write_tree(self, root: Path) -> Path:
        for name, data in self.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return root


def stored_zip(path: Path, files: int, size: int) -> Path:
    """A zip of `files` random files of `size` bytes, stored uncompressed (quick to build at 1 GB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for i in range(files):
            info = zipfile.ZipInfo(f"blobs/b{i:05}.bin", date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, os.urandom(size))
    return path
