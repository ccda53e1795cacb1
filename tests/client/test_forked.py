"""Half of a push's zipping and hashing in a forked process: the same bytes and sha1s as one
process, errors carried back, a child stopped when its result is not wanted."""

from __future__ import annotations

import hashlib
import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from capi_client import archive
from capi_client.archive import FileChangedError, LocalFile, ZipBuilder, hash_all, walk_tree
from capi_client.forked import forked, halves

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _tree(root: Path, files: int = 120) -> list[LocalFile]:
    for i in range(files):
        directory = root / f"pkg{i // 10}" / ("lib" if i % 2 else "")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{i}.js").write_bytes(f"module.exports = {i};\n".encode() * (i + 1))
    (root / "big.bin").write_bytes(os.urandom(2 << 20))
    (root / "link").symlink_to("big.bin")
    return list(walk_tree(root))


@pytest.fixture
def always_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "FORK_FROM", 0)
    monkeypatch.setattr(archive, "can_fork", lambda: True)


def _zip(files: list[LocalFile], progress: list[int] | None = None) -> tuple[bytes, list[str]]:
    out = io.BytesIO()
    builder = ZipBuilder(out, 1, directories=False)
    sha1s = builder.add_all(files, progress.append if progress is not None else None)
    builder.close()
    return out.getvalue(), sha1s


def test_halves_cut_by_weight_and_keep_the_order() -> None:
    first, second = halves([1, 1, 1, 1, 4], lambda n: n)
    assert (list(first), list(second)) == ([1, 1, 1, 1], [4])
    assert halves([], lambda n: n) == ([], [])
    first, second = halves([5], lambda n: n)
    assert [*first, *second] == [5]


def test_a_zip_made_in_two_processes_is_the_zip_one_process_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _tree(tmp_path / "app")
    monkeypatch.setattr(archive, "FORK_FROM", 1 << 62)
    alone, alone_sha1s = _zip(files)
    monkeypatch.setattr(archive, "FORK_FROM", 0)
    monkeypatch.setattr(archive, "can_fork", lambda: True)
    progress: list[int] = []
    shared, shared_sha1s = _zip(files, progress)
    assert shared == alone and shared_sha1s == alone_sha1s
    assert progress[-1] == len(files) and progress == sorted(progress)
    with zipfile.ZipFile(io.BytesIO(shared)) as z:
        assert z.testzip() is None
        names = [f.path for f in files if not f.is_dir]
        assert z.namelist() == names
        for f in files:
            if f.is_regular:
                assert hashlib.sha1(z.read(f.path)).hexdigest() == shared_sha1s[files.index(f)]


def test_hashing_in_two_processes_gives_each_file_its_sha1(tmp_path: Path, always_fork: None) -> None:
    files = [f for f in _tree(tmp_path / "app") if f.is_regular]
    seen: list[int] = []
    sha1s = hash_all(files, seen.append)
    assert sha1s == [hashlib.sha1(Path(f.abs_path).read_bytes()).hexdigest() for f in files]
    assert seen[-1] == len(files)


def test_a_file_changed_in_the_childs_half_fails_the_zip(tmp_path: Path, always_fork: None) -> None:
    files = _tree(tmp_path / "app")
    last = max(i for i, f in enumerate(files) if f.is_regular)
    files[last] = files[last].hashed("0" * 40)  # hashed once, different now
    with pytest.raises(FileChangedError, match="changed while it was being pushed"):
        _zip(files)


def test_a_child_whose_result_is_not_taken_is_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="parent failed"), forked(lambda: time.sleep(30)):
        raise RuntimeError("parent failed")
    assert time.monotonic() - started < 10


def test_a_child_that_dies_is_an_error() -> None:
    with forked(lambda: os._exit(3)) as pending, pytest.raises(ChildProcessError):
        pending.result()


def test_an_error_that_does_not_pickle_comes_back_as_its_message() -> None:
    class Local(Exception):  # a class defined in a function does not pickle
        pass

    def fail() -> None:
        raise Local("no such luck")

    with forked(fail) as pending, pytest.raises(OSError, match="no such luck"):
        pending.result()
