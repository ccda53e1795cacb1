"""Ours, not CC's: the digest of a pushed tree remembered, so that an unchanged re-push reads no file.

A push that hashed every file of a tree remembers the tree's digest together with a fingerprint of
its listing: every entry's kind, path, mode, size and link target, with its mtime, ctime and inode.
A later push whose walk gives the same fingerprint knows the digest without reading a file. The
ctime moves on every write and chmod and, unlike the mtime, cannot be set back, so content changed
in place always shows.

A listing is remembered only when nothing in it changed in the RACY_SECONDS before its files were
read: a write landing within a timestamp's granularity of our read could leave every stamp as it
was (git calls such entries "racily clean"). Such a tree is hashed again next time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from capi_client.archive import LocalFile

RACY_SECONDS = 2
_VERSION = 1


def listing_key(files: Sequence[LocalFile]) -> str:
    """The fingerprint of a walked tree, from what stat says of each entry (no file is read)."""
    lines = []
    for f in files:
        kind = "d" if f.is_dir else "l" if f.link_target is not None else "f"
        mtime_ns, ctime_ns, inode = f.stamp
        lines.append(
            f"{kind}\0{f.path}\0{f.mode:o}\0{f.size}\0{mtime_ns}\0{ctime_ns}\0{inode}\0{f.link_target or ''}\n"
        )
    return hashlib.sha256("".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class TreeCache:
    """Remembered digests, one small file per pushed directory under `directory`."""

    directory: Path

    def _file(self, root: str | os.PathLike[str]) -> Path:
        name = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:32]
        return self.directory / f"{name}.json"

    def digest(self, root: str | os.PathLike[str], listing: str) -> str | None:
        """The digest remembered for `root` if its listing is still `listing`."""
        try:
            saved = json.loads(self._file(root).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("version") != _VERSION or saved.get("listing") != listing:
            return None
        digest = saved.get("digest")
        return digest if isinstance(digest, str) else None

    def remember(
        self,
        root: str | os.PathLike[str],
        files: Sequence[LocalFile],
        digest: str,
        read_from_ns: int,
        listing: str | None = None,
    ) -> bool:
        """Remember `digest` for the tree `files` were walked from, unless an entry changed within
        RACY_SECONDS of `read_from_ns` (when its files began to be read); `listing` is their
        listing_key when already known. A cache that cannot be written is no error: the next push
        hashes again."""
        newest = max((max(f.stamp[0], f.stamp[1]) for f in files), default=0)
        if newest >= read_from_ns - RACY_SECONDS * 1_000_000_000:
            return False
        record = {
            "version": _VERSION,
            "root": os.path.realpath(root),
            "listing": listing or listing_key(files),
            "digest": digest,
        }
        target = self._file(root)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=target.parent, suffix=".tmp", delete=False) as tmp:
                json.dump(record, tmp)
        except OSError:
            return False
        try:
            os.replace(tmp.name, target)
        except OSError:
            Path(tmp.name).unlink(missing_ok=True)
            return False
        return True
