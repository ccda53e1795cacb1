"""Name conflicts inside a package: two files at one path, a file where a directory must be."""

from __future__ import annotations

import pytest

from capi_packages.bits.names import PackagePath, check_conflicts, member_parts
from capi_packages.errors import AppBitsUploadInvalid, FilePathInvalid


def entry(name: str, *, link: bool = False) -> PackagePath:
    return PackagePath(name, tuple(member_parts(name) or ()), is_dir=name.endswith("/"), is_symlink=link)


def resource(path: str) -> PackagePath:
    return PackagePath(path, tuple(path.split("/")), is_resource=True)


def refused(paths: list[PackagePath], fold_case: bool = False) -> str:
    with pytest.raises((AppBitsUploadInvalid, FilePathInvalid)) as caught:
        check_conflicts(paths, fold_case=fold_case)
    return caught.value.detail


@pytest.mark.parametrize(
    "names",
    [
        ["a.txt", "b.txt", "dir/a.txt"],
        ["dir/", "dir/a", "dir/", "dir/b/c"],  # repeated directory entries say the same thing twice
        ["A.txt", "a.txt"],  # two files on a case-sensitive file system
        ["a", "ab/c", "a.b/c"],
    ],
)
def test_distinct_paths_pass(names: list[str]) -> None:
    check_conflicts([entry(n) for n in names])


def test_the_same_name_twice_is_refused() -> None:
    assert refused([entry("a.txt"), entry("b"), entry("a.txt")]) == (
        "The app upload is invalid: Entry 'a.txt' occurs more than once."
    )


@pytest.mark.parametrize("other", ["./a.txt", ".//a.txt", "././a.txt"])
def test_names_that_normalise_to_one_path_are_refused(other: str) -> None:
    paths = [entry("a.txt"), PackagePath(other, ("a.txt",))]
    assert refused(paths) == f"The app upload is invalid: Entries 'a.txt' and '{other}' name the same file."


def test_backslashes_are_separators() -> None:
    assert refused([entry("dir/a"), entry("dir\\a")]) == (
        "The app upload is invalid: Entries 'dir/a' and 'dir\\a' name the same file."
    )


def test_case_is_folded_only_when_asked() -> None:
    check_conflicts([entry("Gemfile"), entry("gemfile")])
    assert refused([entry("Gemfile"), entry("gemfile")], fold_case=True) == (
        "The app upload is invalid: Entries 'Gemfile' and 'gemfile' name the same file on a case-insensitive stack."
    )
    assert refused([entry("Lib/a"), entry("lib")], fold_case=True) == (
        "The app upload is invalid: Entry 'Lib/a' needs 'Lib' to be a directory, but entry 'lib' is a file."
    )


@pytest.mark.parametrize(
    ("names", "text"),
    [
        (["a", "a/b"], "Entry 'a/b' needs 'a' to be a directory, but entry 'a' is a file."),
        (["a/b", "a"], "Entry 'a/b' needs 'a' to be a directory, but entry 'a' is a file."),
        (["a/b/c", "a/b"], "Entry 'a/b/c' needs 'a/b' to be a directory, but entry 'a/b' is a file."),
        (["a/", "a"], "Entry 'a/' needs 'a' to be a directory, but entry 'a' is a file."),
        (["a", "a/"], "Entry 'a/' needs 'a' to be a directory, but entry 'a' is a file."),
    ],
)
def test_a_file_where_a_directory_must_be_is_refused_in_either_order(names: list[str], text: str) -> None:
    assert refused([entry(n) for n in names]) == "The app upload is invalid: " + text


def test_a_symlink_where_a_directory_must_be_is_named_as_one() -> None:
    assert refused([entry("lib", link=True), entry("lib/x.rb")]) == (
        "The app upload is invalid: Entry 'lib/x.rb' needs 'lib' to be a directory, but entry 'lib' is a symlink."
    )


def test_a_conflict_with_a_cached_resource_is_a_resource_path_error() -> None:
    assert refused([entry("config"), resource("config/app.yml")]) == (
        "The resource file path is invalid: File path 'config/app.yml' needs 'config' to be a directory, "
        "but entry 'config' is a file."
    )
    assert refused([entry("config/app.yml"), resource("config")]) == (
        "The resource file path is invalid: Entry 'config/app.yml' needs 'config' to be a directory, "
        "but file path 'config' is a file."
    )
