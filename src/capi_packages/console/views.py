"""What the console's pages show, computed from indexes and diffs: directory listings, change trees, sizes."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field

from capi_packages.entries.archive import DIRECTORY, SYMLINK, Entry, PackageIndex
from capi_packages.entries.diff import PackageDiff

TEXT_LIMIT = 1024 * 1024  # larger files are offered as downloads only
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def mode_string(mode: int, kind: str) -> str:
    """ls -l style, e.g. -rwxr-xr-x."""
    kind_bits = stat.S_IFDIR if kind == DIRECTORY else stat.S_IFLNK if kind == SYMLINK else stat.S_IFREG
    return stat.filemode(kind_bits | (mode & 0o7777))


@dataclass
class DirectoryRow:
    name: str
    path: str
    files: int = 0
    size: int = 0


@dataclass
class Listing:
    path: str
    directories: list[DirectoryRow]
    files: list[Entry]


def directory_listing(index: PackageIndex, path: str) -> Listing | None:
    """The direct children of directory `path` ("" is the root), with each subdirectory's file count
    and size; None when nothing lives under `path`. Zips name directories only implicitly."""
    prefix = f"{path}/" if path else ""
    directories: dict[str, DirectoryRow] = {}
    files: list[Entry] = []
    for entry in index.with_prefix(prefix):
        rest = entry.path[len(prefix) :]
        name, sep, _ = rest.partition("/")
        if sep or entry.kind == DIRECTORY:
            row = directories.setdefault(name, DirectoryRow(name, prefix + name))
            if sep and entry.kind != DIRECTORY:
                row.files += 1
                row.size += entry.size
        else:
            files.append(entry)
    if not directories and not files and path:
        return None
    return Listing(path, sorted(directories.values(), key=lambda d: d.name), files)


def breadcrumbs(path: str) -> list[tuple[str, str]]:
    """(name, path) for each directory on the way down to `path`."""
    parts = path.split("/") if path else []
    return [(part, "/".join(parts[: i + 1])) for i, part in enumerate(parts)]


@dataclass
class ChangeNode:
    name: str
    path: str
    marks: list[str] = field(default_factory=list)  # added, removed, changed, mode
    detail: str = ""
    children: dict[str, ChangeNode] = field(default_factory=dict)

    @property
    def sorted_children(self) -> list[ChangeNode]:
        return sorted(self.children.values(), key=lambda n: (not n.children, n.name))


def change_tree(diff: PackageDiff) -> ChangeNode:
    """The changed paths as a tree of directories, each leaf marked with what happened to it."""
    root = ChangeNode("", "")

    def mark(path: str, what: str, detail: str = "") -> None:
        node = root
        parts = path.split("/")
        for i, part in enumerate(parts):
            node = node.children.setdefault(part, ChangeNode(part, "/".join(parts[: i + 1])))
        node.marks.append(what)
        if detail:
            node.detail = f"{node.detail}; {detail}" if node.detail else detail

    for entry in diff.added:
        mark(entry.path, "added", human_size(entry.size))
    for entry in diff.removed:
        mark(entry.path, "removed", human_size(entry.size))
    for change in diff.changed:
        mark(change.path, "changed", f"{human_size(change.before.size)} → {human_size(change.after.size)}")
    for change in diff.mode_changed:
        before, after = (
            mode_string(change.before.mode, change.before.kind),
            mode_string(change.after.mode, change.after.kind),
        )
        mark(change.path, "mode", f"{before} → {after}")
    return root


def as_text(data: bytes) -> str | None:
    """The bytes as text when they look like text (UTF-8, no NUL); None for binary content."""
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        # A multi-byte character cut at the end of a partial read is still text.
        if e.start >= len(data) - 3 and e.reason.startswith("unexpected end"):
            return data[: e.start].decode("utf-8")
        return None
