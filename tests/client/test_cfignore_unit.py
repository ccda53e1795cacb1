"""CfIgnore: gitignore syntax as .cfignore uses it, plus the cf CLI's default ignores."""

from __future__ import annotations

from pathlib import Path

import pytest

from capi_client import DEFAULT_IGNORES, CfIgnore


@pytest.mark.parametrize(
    ("patterns", "path", "is_dir", "ignored"),
    [
        (["*.log"], "debug.log", False, True),
        (["*.log"], "deep/down/debug.log", False, True),
        (["*.log"], "debug.log.txt", False, False),
        (["debug?.txt"], "debug1.txt", False, True),
        (["debug?.txt"], "debug10.txt", False, False),
        (["debug[0-9].txt"], "debug7.txt", False, True),
        (["debug[!0-9].txt"], "debug7.txt", False, False),
        (["debug[!0-9].txt"], "debugx.txt", False, True),
        (["/build"], "build", True, True),
        (["/build"], "src/build", True, False),
        (["build/"], "build", False, False),
        (["build/"], "build", True, True),
        (["build/"], "src/build/out.o", False, True),
        (["doc/*.txt"], "doc/notes.txt", False, True),
        (["doc/*.txt"], "doc/server/arch.txt", False, False),
        (["doc/*.txt"], "other/doc/notes.txt", False, False),
        (["**/logs"], "logs", True, True),
        (["**/logs"], "a/b/logs", True, True),
        (["**/logs/debug.log"], "x/logs/debug.log", False, True),
        (["logs/**"], "logs/a/b.txt", False, True),
        # pathspec counts the directory itself in, so its empty entry does not travel either.
        (["logs/**"], "logs", True, True),
        (["a/**/b"], "a/b", False, True),
        (["a/**/b"], "a/x/y/b", False, True),
        (["a/**/b"], "xa/b", False, False),
        (["*.log", "!keep.log"], "keep.log", False, False),
        (["*.log", "!keep.log"], "other.log", False, True),
        (["!keep.log", "*.log"], "keep.log", False, True),
        (["tmp/", "!tmp/keep.txt"], "tmp/keep.txt", False, True),
        (["# a comment", "", "   "], "# a comment", False, False),
        (["\\#notcomment"], "#notcomment", False, True),
        (["\\!bang"], "!bang", False, True),
        (["trailing   "], "trailing", False, True),
        (["*"], "anything/at/all", False, True),
        (["src/*.py"], "src/a/b.py", False, False),
    ],
)
def test_gitignore_patterns(patterns: list[str], path: str, is_dir: bool, ignored: bool) -> None:
    assert CfIgnore(patterns, defaults=False).is_ignored(path, is_dir=is_dir) is ignored


@pytest.mark.parametrize(
    ("path", "is_dir", "ignored"),
    [
        (".cfignore", False, True),
        (".gitignore", False, True),
        (".git", True, True),
        (".git/config", False, True),
        ("sub/.git", True, True),
        (".hg", True, True),
        (".svn", True, True),
        ("_darcs", True, True),
        (".DS_Store", False, True),
        ("sub/.DS_Store", False, True),
        ("manifest.yml", False, True),
        ("manifest.yaml", False, True),
        # Today's cf CLI matches its defaults at any depth, and no longer skips `.cf`.
        ("config/manifest.yml", False, True),
        (".cf", True, False),
        ("app.py", False, False),
    ],
)
def test_cf_cli_default_ignores(path: str, is_dir: bool, ignored: bool) -> None:
    assert CfIgnore().is_ignored(path, is_dir=is_dir) is ignored


def test_a_cfignore_cannot_re_include_the_defaults() -> None:
    rules = CfIgnore(["!manifest.yml", "!.git"])
    assert rules.is_ignored("manifest.yml")
    assert rules.is_ignored(".git", is_dir=True)


def test_the_defaults_are_the_current_cf_cli_list() -> None:
    # actor/sharedaction/resource.go, DefaultIgnoreLines, cf CLI 8.6.1
    assert DEFAULT_IGNORES == (
        ".cfignore", ".DS_Store", ".git", ".gitignore", ".hg", ".svn", "_darcs", "manifest.yaml", "manifest.yml",
    )  # fmt: skip


def test_blank_and_comment_lines_are_not_rules() -> None:
    rules = CfIgnore(["", "# note", "/", "crlf\r"], defaults=False)
    assert not rules.is_ignored("# note")
    assert not rules.is_ignored("anything")
    assert rules.is_ignored("crlf")


def test_from_directory_reads_dot_cfignore(tmp_path: Path) -> None:
    root = tmp_path
    (root / ".cfignore").write_text("*.tmp\r\nsecret/\n", encoding="utf-8")
    rules = CfIgnore.from_directory(root)
    assert rules.is_ignored("a.tmp") and rules.is_ignored("secret", is_dir=True)
    assert not rules.is_ignored("a.py")
    assert CfIgnore.from_directory(root / "missing").is_ignored(".git", is_dir=True)
