"""CC's rules for the resource pool: which files may enter it, and which fingerprints it matches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from capi_packages.bits.zip_safety import ScannedEntry


@dataclass(frozen=True)
class PoolBounds:
    minimum_size: int
    maximum_size: int

    def admits(self, size: int, mode: int) -> bool:
        """May a file enter the pool: inclusive size bounds, permissions >= 0o600 (as a number:
        CC compares the last three octal digits, not a bit mask)."""
        return self.minimum_size <= size <= self.maximum_size and mode & 0o777 >= 0o600

    def matches(self, size: int, mode: int | None) -> bool:
        """May a fingerprint be answered from the pool: strict size bounds, and a mode >= 0o600
        that the client sent (CC never matches a fingerprint without one)."""
        return self.minimum_size < size < self.maximum_size and mode is not None and mode >= 0o600


def pool_candidates(entries: Iterable[ScannedEntry], bounds: PoolBounds) -> list[ScannedEntry]:
    """Regular files of an upload that CC would copy into the pool, one per sha1.

    The pool is content-addressed, so a second copy adds nothing. Names that occur twice in the
    archive are skipped: extracting such a name by name could yield the other entry's bytes.
    Entries the scan did not fingerprint (no sha1) are not candidates.
    """
    entries = list(entries)
    name_counts = Counter(entry.name for entry in entries)
    seen: set[str] = set()
    candidates: list[ScannedEntry] = []
    for entry in entries:
        if entry.is_dir or entry.is_symlink or entry.sha1 is None or name_counts[entry.name] > 1:
            continue
        if not bounds.admits(entry.size, entry.mode) or entry.sha1 in seen:
            continue
        seen.add(entry.sha1)
        candidates.append(entry)
    return candidates
