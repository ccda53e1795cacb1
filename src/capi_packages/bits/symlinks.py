"""Symlinks inside a package: targets that resolve inside it, and neither outside nor in a loop."""

from __future__ import annotations

from collections import deque
from enum import Enum

from capi_packages.bits.names import is_absolute, member_parts
from capi_packages.errors import AppBitsUploadInvalid

MAX_LINK_TARGET = 4096  # PATH_MAX: a longer target cannot be a usable link
MAX_LINK_HOPS = 40  # same budget as Linux's ELOOP limit


def bad_link(name: str) -> AppBitsUploadInvalid:
    return AppBitsUploadInvalid(f"Symlink '{name}' has an invalid target.")


def _link_outside(name: str, target: str) -> AppBitsUploadInvalid:
    return AppBitsUploadInvalid(f"Symlink '{name}' points outside the package: '{target}'.")


def _link_loop(name: str, target: str) -> AppBitsUploadInvalid:
    return AppBitsUploadInvalid(f"Symlink '{name}' leads into a loop of symlinks: '{target}'.")


def check_link_target(name: str, raw: bytes) -> str:
    # Invalid UTF-8 bytes never decode to "/" or ".", so replacing them keeps the path shape.
    target = raw.decode("utf-8", "replace")
    if not target or "\0" in target:
        raise bad_link(name)
    parts = member_parts(name) or []
    if resolve(parts[:-1], target, {}) is not Resolved.INSIDE:
        raise _link_outside(name, target)
    return target


class Resolved(Enum):
    INSIDE = "inside"
    OUTSIDE = "outside"
    LOOP = "loop"


def resolve(link_dir: list[str], target: str, links: dict[tuple[str, ...], str]) -> Resolved:
    """Resolve `target` from `link_dir` like the kernel would, expanding links found in `links`."""
    if is_absolute(target):
        return Resolved.OUTSIDE
    current: list[str] = []
    pending: deque[str] = deque(link_dir + target.replace("\\", "/").split("/"))
    hops = 0
    while pending:
        part = pending.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if not current:
                return Resolved.OUTSIDE
            current.pop()
            continue
        current.append(part)
        next_target = links.get(tuple(current))
        if next_target is None:
            continue
        hops += 1
        if hops > MAX_LINK_HOPS:
            return Resolved.LOOP  # what the kernel calls ELOOP: never resolves
        if is_absolute(next_target):
            return Resolved.OUTSIDE
        current.pop()
        pending.extendleft(reversed(next_target.replace("\\", "/").split("/")))
    return Resolved.INSIDE


def check_links(links: dict[tuple[str, ...], str], placed: list[tuple[str, list[str], str]]) -> None:
    """With every link of the package known: refuse links leaving it through other links, or
    never resolving. `placed` holds (entry name, path parts, target) of each link."""
    for name, parts, target in placed:
        resolved = resolve(parts[:-1], target, links)
        if resolved is Resolved.LOOP:
            raise _link_loop(name, target)
        if resolved is Resolved.OUTSIDE:
            raise _link_outside(name, target)
