"""`.cfignore` rules: gitignore syntax, plus the files the cf CLI never uploads."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The cf CLI's built-in ignores. They are read after the user's lines (as the cf CLI appends
# them), so a `!` in .cfignore cannot bring them back. Only the root manifest.yml is skipped.
DEFAULT_IGNORES = (
    ".cfignore",
    "/manifest.yml",
    ".gitignore",
    ".git",
    ".hg",
    ".svn",
    "_darcs",
    ".DS_Store",
    ".cf",
)


@dataclass(frozen=True)
class IgnoreRule:
    pattern: str
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def _class_end(segment: str, start: int) -> int:
    """Index of the `]` closing the bracket expression opened at `start`, or -1."""
    i = start + 1
    if i < len(segment) and segment[i] in "!^":
        i += 1
    if i < len(segment) and segment[i] == "]":  # a leading `]` is a literal member
        i += 1
    end = segment.find("]", i)
    return end


def _translate_segment(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "\\" and i + 1 < len(segment):
            out.append(re.escape(segment[i + 1]))
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := _class_end(segment, i)) != -1:
            body = segment[i + 1 : end]
            negated = body[:1] in ("!", "^")
            if negated:
                body = body[1:]
            members = "".join("-" if c == "-" else re.escape(c) for c in body)
            # A bracket expression never matches the path separator.
            out.append(f"[^/{members}]" if negated else f"(?!/)[{members}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _translate(pattern: str) -> str:
    """Regex source for a pattern (no `!`, no trailing `/`, no leading `/`), path by path."""
    segments = pattern.split("/")
    out: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            # `**/x`, `a/**/x`: zero or more whole directories; a trailing `/**`: all inside.
            out.append(".*" if last else "(?:.*/)?")
            continue
        out.append(_translate_segment(segment))
        if not last:
            out.append("/")
    return "".join(out)


def compile_rule(line: str) -> IgnoreRule | None:
    """One .cfignore line as a rule; None for blank lines and comments."""
    text = line.rstrip("\r\n")
    if not text or text.startswith("#"):
        return None
    # Trailing spaces are dropped unless escaped with a backslash.
    while text.endswith(" ") and not text.endswith("\\ "):
        text = text[:-1]
    negated = text.startswith("!")
    if negated:
        text = text[1:]
    dir_only = text.endswith("/")
    text = text.rstrip("/")
    if not text:
        return None
    # A slash anywhere but at the end anchors the pattern to the pushed directory's root.
    anchored = "/" in text
    body = _translate(text.lstrip("/"))
    source = f"^{body}$" if anchored else f"^(?:.*/)?{body}$"
    return IgnoreRule(line.strip(), re.compile(source, re.DOTALL), negated, dir_only)


class CfIgnore:
    """Decides which paths (relative, `/`-separated) a push leaves out."""

    def __init__(self, lines: Iterable[str] = (), *, defaults: bool = True) -> None:
        all_lines = [*lines, *(DEFAULT_IGNORES if defaults else ())]
        self.rules = [rule for rule in map(compile_rule, all_lines) if rule is not None]

    @classmethod
    def from_directory(cls, root: str | os.PathLike[str], *, defaults: bool = True) -> CfIgnore:
        """The rules of `root/.cfignore` (if any), then the cf CLI's defaults."""
        cfignore = Path(root, ".cfignore")
        if not cfignore.is_file():
            return cls(defaults=defaults)
        return cls(cfignore.read_text("utf-8", errors="replace").splitlines(), defaults=defaults)

    def _matches(self, path: str, is_dir: bool) -> bool:
        ignored = False
        # The last matching rule decides, so a later `!` re-includes.
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(path):
                ignored = not rule.negated
        return ignored

    def is_ignored(self, path: str, is_dir: bool = False) -> bool:
        """True when `path` or one of its parent directories is ignored.

        As in git, a file inside an ignored directory cannot be re-included by a `!` rule.
        """
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            if self._matches("/".join(parts[:depth]), is_dir=True):
                return True
        return self._matches("/".join(parts), is_dir)
