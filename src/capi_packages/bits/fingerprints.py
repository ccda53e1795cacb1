"""Which scanned zip entries may enter the resource pool."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from capi_packages.bits.zip_safety import ScannedEntry


def pool_candidates(entries: Iterable[ScannedEntry], minimum_size: int, maximum_size: int) -> list[ScannedEntry]:
    """Regular files CC would copy into the pool: inclusive size bounds, perms >= 0o600.

    One entry per sha1 (the pool is content-addressed, a second copy adds nothing), and names
    that occur twice in the archive are skipped: extracting such a name by name could yield the
    other entry's bytes and poison the pool.
    """
    entries = list(entries)
    name_counts = Counter(entry.name for entry in entries)
    seen: set[str] = set()
    candidates: list[ScannedEntry] = []
    for entry in entries:
        if entry.is_dir or entry.is_symlink or name_counts[entry.name] > 1:
            continue
        if not minimum_size <= entry.size <= maximum_size:
            continue
        # CC compares the last three octal digits as a number, not as a bit mask.
        if entry.mode & 0o777 < 0o600:
            continue
        if entry.sha1 in seen:
            continue
        seen.add(entry.sha1)
        candidates.append(entry)
    return candidates
