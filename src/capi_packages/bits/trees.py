"""The tree digest: one sha256 naming a package's exact content (paths, modes, file sha1s, links).

It is computed the same way from a scanned upload (with the pool resources merged into it) and
by our client from a directory, so equal digests mean equal stored packages. Directories do not
count: a stored package holds none. The line format is part of the wire contract with the client.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import NamedTuple

from capi_packages.bits.names import member_parts
from capi_packages.bits.resources import CachedResource
from capi_packages.bits.zip_safety import ScannedEntry


class TreeItem(NamedTuple):
    # A tuple: a package of 30,000 files makes 30,000 of them.
    path: str  # normalised: `/`-separated, no `.` or empty parts
    mode: int
    sha1: str | None = None  # regular files
    link_target: str | None = None  # symlinks

    def line(self) -> bytes:
        if self.link_target is not None:
            return f"l\0{self.path}\0{self.link_target}\n".encode()
        return f"f\0{self.path}\0{self.mode & 0o777:o}\0{self.sha1}\n".encode()


def tree_digest(items: Iterable[TreeItem]) -> str:
    return hashlib.sha256(b"".join(item.line() for item in sorted(items, key=lambda i: i.path))).hexdigest()


def package_tree(entries: list[ScannedEntry], cached: list[CachedResource]) -> list[TreeItem] | None:
    """What a package built from this scan and these resources holds; None when it cannot be told
    (a file the scan did not hash, or a name that is not plain)."""
    items: dict[str, TreeItem] = {}
    for entry in entries:
        if entry.is_dir:
            continue
        parts = member_parts(entry.name)
        if not parts or (entry.sha1 is None and not entry.is_symlink):
            return None
        path = "/".join(parts)
        items[path] = TreeItem(path, entry.mode, entry.sha1, entry.link_target if entry.is_symlink else None)
    uploaded = set(items)
    for resource in cached:  # an uploaded file wins over a resource at its path, as in assembly
        if resource.path not in uploaded:
            items[resource.path] = TreeItem(resource.path, resource.mode, resource.sha1)
    return list(items.values())
