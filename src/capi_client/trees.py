"""Ours, not CC's: the pushed tree's digest, and asking the server whether an app already holds it.

The digest's line format is shared with the server (`capi_packages.bits.trees`): regular files as
`f\\0path\\0mode\\0sha1`, symlinks as `l\\0path\\0target`, one per line, sorted by path, sha256 of
the lot. Directories do not count (a stored package keeps none).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx

from capi_client.archive import LocalFile
from capi_client.errors import CapiError
from capi_client.models import Package

# Names no tree: a probe that can only answer "none", to learn whether the server has the endpoint.
PROBE_DIGEST = "0" * 64


def tree_digest(files: Iterable[LocalFile]) -> str:
    """The digest of what a package of `files` holds; regular files must be hashed."""
    lines: list[tuple[str, bytes]] = []
    for f in files:
        if f.is_dir:
            continue
        if f.link_target is not None:
            lines.append((f.path, f"l\0{f.path}\0{f.link_target}\n".encode()))
        else:
            if not f.sha1:
                raise ValueError(f"{f.path} is not hashed")
            lines.append((f.path, f"f\0{f.path}\0{f.mode & 0o777:o}\0{f.sha1}\n".encode()))
    digest = hashlib.sha256()
    for _, line in sorted(lines):
        digest.update(line)
    return digest.hexdigest()


class TreeCalls:
    """The push-match calls of PackagesClient; they use its plumbing (token, origin rules, errors)."""

    def _json(self, method: str, path_or_url: str | httpx.URL, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _push_match(self, app_guid: str, digest: str) -> dict[str, Any]:
        answer = self._json("POST", f"/x/apps/{quote(app_guid, safe='')}/push_matches", json={"tree_digest": digest})
        return answer if isinstance(answer, dict) else {}

    def match_pushed_tree(self, app_guid: str, digest: str) -> str | None:
        """`POST /x/apps/{guid}/push_matches`: the guid of the app's newest READY package holding
        exactly this tree, or None."""
        package = self._push_match(app_guid, digest).get("package")
        guid = package.get("guid") if isinstance(package, dict) else None
        return guid if isinstance(guid, str) else None

    def known_trees(self, app_guid: str) -> int | None:
        """How many READY packages of the app a pushed tree could match; None when the server
        answers no push matches (a Cloud Controller does not)."""
        try:
            known = self._push_match(app_guid, PROBE_DIGEST).get("known_trees")
        except (CapiError, ValueError):
            return None
        return known if isinstance(known, int) and not isinstance(known, bool) else None

    def duplicate_package(self, guid: str) -> Package:
        """`POST /x/packages/{guid}/duplicate`: a new package of the same app with its bits (COPYING)."""
        return Package.from_json(self._json("POST", f"/x/packages/{quote(guid, safe='')}/duplicate"))
