"""What changed between two package indexes: added, removed, changed content, changed mode."""

from __future__ import annotations

from dataclasses import dataclass, field

from capi_packages.entries.archive import SYMLINK, Entry, PackageIndex


@dataclass(frozen=True)
class Change:
    path: str
    before: Entry
    after: Entry


@dataclass
class PackageDiff:
    added: list[Entry] = field(default_factory=list)
    removed: list[Entry] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    mode_changed: list[Change] = field(default_factory=list)
    unchanged: int = 0


def same_content(a: Entry, b: Entry) -> bool:
    """By sha1 when both sides know it; otherwise by CRC-32 and size, which the central directory holds."""
    if a.kind != b.kind:
        return False
    if a.kind == SYMLINK:
        return a.link_target == b.link_target
    if a.sha1 is not None and b.sha1 is not None:
        return a.sha1 == b.sha1
    return a.crc32 == b.crc32 and a.size == b.size


def compare(after: PackageIndex, before: PackageIndex) -> PackageDiff:
    """`after` against `before`: a path lands in `changed` when its content differs and in
    `mode_changed` when its mode does, so a path can be in both."""
    diff = PackageDiff()
    for entry in after.entries:
        if after.by_path[entry.path] is not entry:
            continue  # an earlier copy of a name stored twice
        old = before.by_path.get(entry.path)
        if old is None:
            diff.added.append(entry)
            continue
        content_same, mode_same = same_content(old, entry), old.mode == entry.mode
        if not content_same:
            diff.changed.append(Change(entry.path, old, entry))
        if not mode_same:
            diff.mode_changed.append(Change(entry.path, old, entry))
        if content_same and mode_same:
            diff.unchanged += 1
    diff.removed = [e for e in before.entries if e.path not in after.by_path and before.by_path[e.path] is e]
    return diff
