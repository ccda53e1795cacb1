"""Paths inside a package: one normal form for entry names, and the name conflicts we refuse."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from capi_packages.errors import ApiError, AppBitsUploadInvalid, FilePathInvalid

_DRIVE = re.compile(r"^[A-Za-z]:")


def member_parts(name: str, *, resolve_dotdot: bool = False) -> list[str] | None:
    """Normal path components of a member name; None when absolute or outside the root.

    Backslashes count as separators because Windows-made zips use them and unzip converts them;
    a leading drive letter ("C:") counts as absolute for the same reason, so a top-level name
    like "a:b" is refused too. Without resolve_dotdot any `..` component is refused outright.
    """
    path = name.replace("\\", "/")
    if "\0" in path or path.startswith("/") or _DRIVE.match(path):
        return None
    parts = path.split("/")
    if "" not in parts and "." not in parts and ".." not in parts:
        return parts  # already normal: the common case, without a loop in Python
    normal: list[str] = []
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not resolve_dotdot or not normal:
                return None
            normal.pop()
        else:
            normal.append(part)
    return normal


def is_absolute(path: str) -> bool:
    path = path.replace("\\", "/")
    return path.startswith("/") or bool(_DRIVE.match(path))


class PackagePath(NamedTuple):
    """A name that becomes a path when the package is extracted: a zip entry or a cached resource
    (a tuple: one is made per entry)."""

    name: str  # as the client spelled it
    parts: tuple[str, ...]
    is_dir: bool = False
    is_symlink: bool = False
    is_resource: bool = False

    def describe(self) -> str:
        return f"file path '{self.name}'" if self.is_resource else f"entry '{self.name}'"


def check_conflicts(paths: Iterable[PackagePath], *, fold_case: bool = False) -> None:
    """Refuse two files at one path, and a file (or symlink) where another path needs a directory.

    Extraction would keep one of two same-named files (which one depends on the tool) or fail
    outright (`unzip` exits 2 when a file stands where a directory must be). With `fold_case` the
    comparison ignores case, as the case-insensitive file systems of Windows stacks do.
    """
    files: dict[tuple[str, ...], PackagePath] = {}
    dirs: dict[tuple[str, ...], PackagePath] = {}
    for path in paths:
        key = tuple(p.casefold() for p in path.parts) if fold_case else path.parts
        for depth in range(1, len(key)):
            prefix = key[:depth]
            if prefix in files:
                raise _needs_directory(path, files[prefix], depth)
            dirs.setdefault(prefix, path)
        if path.is_dir:
            if key in files:
                raise _needs_directory(path, files[key], len(key))
            dirs.setdefault(key, path)
            continue
        if key in files:
            raise _same_file(files[key], path, fold_case)
        if key in dirs:
            raise _needs_directory(dirs[key], path, len(key))
        files[key] = path


def _error(text: str, *paths: PackagePath) -> ApiError:
    return FilePathInvalid(text) if any(p.is_resource for p in paths) else AppBitsUploadInvalid(text)


def _needs_directory(needer: PackagePath, holder: PackagePath, depth: int) -> ApiError:
    """`needer` has a path below the first `depth` parts of its own, where `holder` is a file."""
    what = "a symlink" if holder.is_symlink else "a file"
    directory = "/".join(needer.parts[:depth])
    text = f"{needer.describe()} needs '{directory}' to be a directory, but {holder.describe()} is {what}."
    return _error(text[0].upper() + text[1:], needer, holder)


def _same_file(first: PackagePath, second: PackagePath, fold_case: bool) -> ApiError:
    if first.name == second.name:
        return _error(f"Entry '{first.name}' occurs more than once.", first, second)
    where = " on a case-insensitive stack" if fold_case and first.parts != second.parts else ""
    return _error(f"Entries '{first.name}' and '{second.name}' name the same file{where}.", first, second)
