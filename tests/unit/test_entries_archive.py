"""The entries core without HTTP: reading indexes of every compression, ranges, links, the cache, views."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from capi_packages.blobstore.keys import package_key
from capi_packages.blobstore.local import LocalBlobstore
from capi_packages.console import views
from capi_packages.entries.archive import ArchiveUnreadable, PackageIndex, entry_chunks, read_index
from capi_packages.entries.diff import compare
from capi_packages.entries.indexes import EntryIndexes
from tests.bits_api.bits_support import directory, regular, symlink, zip_entries

CONTENT = b"".join(f"line {i}\n".encode() for i in range(5000))


def index_of(data: bytes, hash_up_to: int = 1 << 30) -> PackageIndex:
    return read_index(io.BytesIO(data), hash_up_to=hash_up_to)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])
def test_every_supported_method_reads_whole_and_in_ranges(method):
    data = zip_entries([regular("a/b.txt", CONTENT)], compression=method)
    index = index_of(data)
    entry = index.by_path["a/b.txt"]
    assert entry.sha1 == hashlib.sha1(CONTENT).hexdigest()
    f = io.BytesIO(data)
    f.seek(entry.data_offset)
    assert b"".join(entry_chunks(f, entry)) == CONTENT
    for start, end in ((0, 10), (1000, 30_000), (len(CONTENT) - 5, len(CONTENT))):
        f.seek(entry.data_offset)
        assert b"".join(entry_chunks(f, entry, start, end)) == CONTENT[start:end]


def test_a_corrupted_entry_fails_its_crc_check_on_a_full_read():
    data = bytearray(zip_entries([regular("a.txt", CONTENT)], compression=zipfile.ZIP_STORED))
    entry = index_of(bytes(data)).by_path["a.txt"]
    data[entry.data_offset + 10] ^= 0xFF
    f = io.BytesIO(bytes(data))
    f.seek(entry.data_offset)
    with pytest.raises(ArchiveUnreadable):
        b"".join(entry_chunks(f, entry))


def test_above_the_hash_limit_only_the_central_directory_is_read():
    index = index_of(zip_entries([regular("a.txt", CONTENT)]), hash_up_to=100)
    assert index.by_path["a.txt"].sha1 is None and index.by_path["a.txt"].crc32 != 0


def test_directories_links_and_tree_order():
    data = zip_entries(
        [
            regular("b.txt", b"b"),
            directory("a"),
            regular("a/z.txt", b"z"),
            regular("a-c", b"c"),
            symlink("l", "a/z.txt"),
        ]
    )
    index = index_of(data)
    assert [e.path for e in index.entries] == ["a", "a/z.txt", "a-c", "b.txt", "l"]
    assert index.by_path["a"].kind == "directory"
    assert index.resolve("l") is index.by_path["a/z.txt"]


def test_a_link_loop_resolves_to_nothing():
    index = index_of(zip_entries([symlink("x", "y"), symlink("y", "x")]))
    assert index.resolve("x") is None


def test_not_a_zip_is_unreadable():
    with pytest.raises(ArchiveUnreadable):
        index_of(b"PK but not really")


def test_the_cache_keeps_the_last_indexes_up_to_its_entry_budget(tmp_path: Path):
    store = LocalBlobstore(tmp_path / "blobs")
    for guid in ("g1aa", "g2bb", "g3cc"):
        source = tmp_path / f"{guid}.zip"
        source.write_bytes(zip_entries([regular(f"{i}.txt", b"x") for i in range(3)]))
        store.put_file(package_key(guid), source)
    indexes = EntryIndexes(store, max_cached_entries=6)
    first = indexes.get("g1aa")
    assert indexes.get("g1aa") is first
    indexes.get("g2bb")
    indexes.get("g3cc")  # over the budget: g1aa, the least recently used, goes
    assert indexes.get("g1aa") is not first


def test_views_sizes_text_and_listings():
    assert [views.human_size(n) for n in (None, 12, 2048, 5 * 1024**3)] == ["", "12 B", "2.0 KiB", "5.0 GiB"]
    assert views.as_text(b"plain \xc3\xa9") == "plain é"
    assert views.as_text("cut é".encode()[:-1]) == "cut "
    assert views.as_text(b"\x00\x01binary") is None
    assert views.as_text(b"\xff\xfe latin") is None
    index = index_of(zip_entries([regular("a/b/c.txt", b"12"), regular("a/d.txt", b"3"), regular("e", b"")]))
    root = views.directory_listing(index, "")
    assert root is not None
    assert [(d.name, d.files, d.size) for d in root.directories] == [("a", 2, 3)]
    assert [e.path for e in root.files] == ["e"]
    assert views.directory_listing(index, "nowhere") is None
    assert views.breadcrumbs("a/b") == [("a", "a"), ("b", "a/b")]


def test_a_change_tree_nests_paths_under_their_directories():
    before = index_of(zip_entries([regular("a/x.txt", b"1"), regular("gone", b"g")]))
    after = index_of(zip_entries([regular("a/x.txt", b"2", 0o755), regular("a/new/y.txt", b"y")]))
    tree = views.change_tree(compare(after, before))
    a = tree.children["a"]
    assert a.children["x.txt"].marks == ["changed", "mode"]
    assert a.children["new"].children["y.txt"].marks == ["added"]
    assert tree.children["gone"].marks == ["removed"]
    assert [n.name for n in tree.sorted_children] == ["a", "gone"]


def test_a_big_package_indexed_in_threads_gives_what_one_thread_gives(tmp_path: Path, monkeypatch):
    from capi_packages.bits import entry_data

    monkeypatch.setattr(entry_data, "PARALLEL_FROM", 0)
    files = [regular(f"d{i % 3}/f{i}.bin", bytes([i]) * 40_000 + CONTENT) for i in range(30)]
    data = zip_entries([directory("d0/"), *files, symlink("link", "d0/f0.bin")], compression=zipfile.ZIP_DEFLATED)
    path = tmp_path / "p.zip"
    path.write_bytes(data)
    with open(path, "rb") as f:
        threaded = read_index(f, hash_up_to=1 << 30, threads=3)
    assert [vars(e) for e in threaded.entries] == [vars(e) for e in index_of(data).entries]
    assert threaded.by_path["d1/f1.bin"].sha1 == hashlib.sha1(bytes([1]) * 40_000 + CONTENT).hexdigest()
    assert threaded.by_path["link"].link_target == "d0/f0.bin"
    # A corrupt file in the last thread's share is still found.
    bad = bytearray(data)
    bad[threaded.by_path["d2/f29.bin"].data_offset + 20] ^= 0xFF
    path.write_bytes(bytes(bad))
    with open(path, "rb") as f, pytest.raises(ArchiveUnreadable):
        read_index(f, hash_up_to=1 << 30, threads=3)
