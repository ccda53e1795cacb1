"""`.cfignore` rules: gitignore syntax (matched by pathspec), plus the files the cf CLI never uploads."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pathspec import GitIgnoreSpec

# The current cf CLI's built-in ignores (actor/sharedaction's DefaultIgnoreLines). They match at
# any depth, and come after the user's lines as the cf CLI appends them, so that a `!` in
# .cfignore cannot bring them back.
DEFAULT_IGNORES = (
    ".cfignore",
    ".DS_Store",
    ".git",
    ".gitignore",
    ".hg",
    ".svn",
    "_darcs",
    "manifest.yaml",
    "manifest.yml",
)


class CfIgnore:
    """Decides which paths (relative, `/`-separated) a push leaves out."""

    def __init__(self, lines: Iterable[str] = (), *, defaults: bool = True) -> None:
        # Windows line ends are tolerated, as the cf CLI splits the file on "\n" only.
        user_lines = [line.rstrip("\r\n") for line in lines]
        self.lines = user_lines + list(DEFAULT_IGNORES if defaults else ())
        self._spec = GitIgnoreSpec.from_lines(self.lines)
        # The defaults alone are plain names matching at any depth: a set lookup decides as the
        # spec would, without running a pattern per path (a push of 30,000 files asks 30,000 times).
        useful = [line for line in user_lines if line.strip() and not line.lstrip().startswith("#")]
        self._names_only = frozenset(DEFAULT_IGNORES if defaults else ()) if not useful else None

    @classmethod
    def from_directory(cls, root: str | os.PathLike[str], *, defaults: bool = True) -> CfIgnore:
        """The rules of `root/.cfignore` (if any), then the cf CLI's defaults."""
        cfignore = Path(root, ".cfignore")
        if not cfignore.is_file():
            return cls(defaults=defaults)
        return cls(cfignore.read_text("utf-8", errors="replace").splitlines(), defaults=defaults)

    def matches(self, path: str, is_dir: bool = False) -> bool:
        """Whether the rules leave out `path` itself (its parents unchecked: a walk that skips
        ignored directories has checked them already)."""
        if self._names_only is not None:
            return path.rsplit("/", 1)[-1] in self._names_only
        # pathspec tells a directory by its trailing slash (for patterns such as `build/`).
        return bool(self._spec.match_file(path + "/" if is_dir else path))

    def is_ignored(self, path: str, is_dir: bool = False) -> bool:
        """True when `path` or one of its parent directories is ignored.

        As in git, a file inside an ignored directory cannot be re-included by a `!` rule.
        """
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            if self.matches("/".join(parts[:depth]), is_dir=True):
                return True
        return self.matches("/".join(parts), is_dir)
