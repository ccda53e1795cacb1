"""The upload job: what ends up in the stored package, hostile archives, cached resources, concurrency."""

from __future__ import annotations

import io
import stat
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.bits_api.bits_support import (
    directory,
    download_bytes,
    empty_zip,
    fingerprint,
    get_package,
    mark_encrypted,
    match,
    read_zip,
    regular,
    resource_blob_path,
    sha1,
    sha256,
    symlink,
    upload,
    uploaded_package,
    zip_entries,
)
from tests.factories import make_zip

INVALID_ZIP = "The app upload is invalid: Invalid zip archive."
BIG_A = b"A" * 70_000  # above the default 65536-byte pool minimum
BIG_B = bytes(range(256)) * 300  # 76_800 bytes
CHECKSUM_MISMATCH = (
    "One or more cached resources did not match the given checksum. They have been deleted; "
    "please retry package upload."
)


def process(api, guid, run_jobs, zip_bytes=None, resources=None):
    r = upload(api, guid, zip_bytes, resources)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "PROCESSING_UPLOAD"
    run_jobs()
    return get_package(api, guid)


def assert_failed(got, error):
    assert got["state"] == "FAILED", got
    assert got["data"]["error"] == error
    assert got["data"]["checksum"] == {"type": "sha256", "value": None}


# --- what is stored ---------------------------------------------------------------------------
def test_the_stored_package_keeps_every_files_bytes_and_mode_and_symlinks_stay_symlinks(api, package, run_jobs):
    binary = bytes(range(256)) * 40
    z = zip_entries(
        [
            directory("bin"),
            regular("bin/run.sh", "#!/bin/sh\necho hi\n", 0o755),
            regular("secret.key", "k", 0o600),
            regular("data.bin", binary, 0o644),
            directory("lib"),
            directory("lib/nested"),
            regular("lib/nested/deep.txt", "deep", 0o640),
            symlink("current", "lib/nested/deep.txt"),
            symlink("lib/up", "../secret.key"),
        ]
    )
    got = process(api, package["guid"], run_jobs, z)
    assert got["state"] == "READY", got
    assert got["data"]["error"] is None
    stored = read_zip(download_bytes(api, package["guid"]))
    assert sorted(stored) == ["bin/run.sh", "current", "data.bin", "lib/nested/deep.txt", "lib/up", "secret.key"]
    assert stored["bin/run.sh"] == (b"#!/bin/sh\necho hi\n", 0o100755)
    assert stored["secret.key"] == (b"k", 0o100600)
    assert stored["data.bin"] == (binary, 0o100644)
    assert stored["lib/nested/deep.txt"] == (b"deep", 0o100640)
    for name, target in (("current", b"lib/nested/deep.txt"), ("lib/up", b"../secret.key")):
        content, mode = stored[name]
        assert stat.S_ISLNK(mode), oct(mode)
        assert content == target


def test_directory_entries_are_dropped_from_the_stored_package(api, package, run_jobs):
    z = zip_entries([directory("a"), directory("a/b"), regular("a/b/c.txt", "c"), directory("empty")])
    assert process(api, package["guid"], run_jobs, z)["state"] == "READY"
    with zipfile.ZipFile(io.BytesIO(download_bytes(api, package["guid"]))) as zf:
        assert [i.filename for i in zf.infolist()] == ["a/b/c.txt"]
        assert not any(i.is_dir() for i in zf.infolist())


def test_the_checksum_is_the_sha256_of_the_downloaded_zip(api, package, run_jobs):
    got = process(api, package["guid"], run_jobs, make_zip({"a.txt": "a", "b/c.txt": "c" * 5000}))
    data = download_bytes(api, package["guid"])
    assert got["data"]["checksum"] == {"type": "sha256", "value": sha256(data)}
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])
def test_stored_deflated_and_bzip2_entries_all_round_trip(api, package, run_jobs, compression):
    content = b"hello world " * 1000
    z = zip_entries([regular("f.txt", content, 0o644)], compression=compression)
    assert process(api, package["guid"], run_jobs, z)["state"] == "READY"
    assert read_zip(download_bytes(api, package["guid"]))["f.txt"] == (content, 0o100644)


# --- hostile archives -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "a/b/../../../evil.txt"])
def test_an_entry_climbing_out_with_dot_dot_fails_the_package(api, package, run_jobs, name):
    z = zip_entries([regular("ok.txt", "ok"), regular(name, "evil")])
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, f"The app upload is invalid: Entry '{name}' has a path outside the package.")


def test_an_entry_with_an_absolute_path_fails_the_package(api, package, run_jobs):
    z = zip_entries([regular("/etc/evil.conf", "evil")])
    assert zipfile.ZipFile(io.BytesIO(z)).namelist() == ["/etc/evil.conf"]
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, "The app upload is invalid: Entry '/etc/evil.conf' has a path outside the package.")


@pytest.mark.parametrize(
    ("name", "target"),
    [("link", "../../etc/passwd"), ("link", "/etc/passwd"), ("sub/link", "../../outside"), ("l", "..")],
)
def test_a_symlink_pointing_outside_the_package_fails_it(api, package, run_jobs, name, target):
    z = zip_entries([regular("app.js", "x"), symlink(name, target)])
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, f"The app upload is invalid: Symlink '{name}' points outside the package: '{target}'.")


def test_a_symlink_escaping_through_another_symlink_fails_the_package(api, package, run_jobs):
    # dir/l1 -> .. is the package root (fine); l2 -> dir/l1/.. goes one level above it.
    z = zip_entries([directory("dir"), symlink("dir/l1", ".."), symlink("l2", "dir/l1/..")])
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, "The app upload is invalid: Symlink 'l2' points outside the package: 'dir/l1/..'.")


@pytest.mark.parametrize("settings_overrides", [{"max_package_size": 10_000_000}])
def test_a_zip_bomb_by_ratio_fails_on_the_uncompressed_size(api, package, run_jobs):
    z = zip_entries([regular("zeros.bin", b"\0" * 50_000_000)])
    assert len(z) < 200_000
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, "The app package is invalid: Package may not be larger than 10000000 bytes")


@pytest.mark.parametrize("settings_overrides", [{"max_package_size": 1000}])
def test_a_package_exactly_at_max_package_size_is_accepted(api, package, run_jobs):
    z = zip_entries([regular("a", b"a" * 600), regular("b", b"b" * 400)])
    assert process(api, package["guid"], run_jobs, z)["state"] == "READY"


@pytest.mark.parametrize("settings_overrides", [{"max_package_size": 10_000_000}])
def test_a_zip_whose_headers_understate_the_size_is_refused(api, package, run_jobs):
    z = bytearray(zip_entries([regular("zeros.bin", b"\0" * 50_000_000)]))
    with zipfile.ZipFile(io.BytesIO(bytes(z))) as zf:
        info = zf.infolist()[0]
        cd = zf.start_dir  # type: ignore[attr-defined]
    z[info.header_offset + 22 : info.header_offset + 26] = (100).to_bytes(4, "little")  # local usize
    z[cd + 24 : cd + 28] = (100).to_bytes(4, "little")  # central usize
    got = process(api, package["guid"], run_jobs, bytes(z))
    assert got["state"] == "FAILED"
    assert got["data"]["error"] in (
        INVALID_ZIP,
        "The app package is invalid: Package may not be larger than 10000000 bytes",
    )


@pytest.mark.parametrize("settings_overrides", [{"max_package_entries": 5}])
def test_a_zip_bomb_by_entry_count_fails_the_package(api, package, run_jobs):
    z = make_zip({f"f{i}.txt": str(i) for i in range(6)})
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, "The app package is invalid: Package may not contain more than 5 entries")


@pytest.mark.parametrize("settings_overrides", [{"max_package_entries": 5}])
def test_a_zip_with_exactly_max_package_entries_is_accepted(api, package, run_jobs):
    assert process(api, package["guid"], run_jobs, make_zip({f"f{i}": "x" for i in range(5)}))["state"] == "READY"


def test_a_truncated_zip_fails_as_an_invalid_archive(api, package, run_jobs):
    z = make_zip({"a.txt": "a" * 10_000, "b.txt": bytes(range(256)) * 50})
    assert_failed(process(api, package["guid"], run_jobs, z[: len(z) // 2]), INVALID_ZIP)


def test_a_zip_cut_just_before_its_end_record_fails_as_an_invalid_archive(api, package, run_jobs):
    z = make_zip({"a.txt": "a" * 1000})
    assert_failed(process(api, package["guid"], run_jobs, z[:-10]), INVALID_ZIP)


def test_an_encrypted_zip_fails_as_an_invalid_archive(api, package, run_jobs):
    z = mark_encrypted(zip_entries([regular("secret.txt", "top secret")], compression=zipfile.ZIP_STORED))
    with zipfile.ZipFile(io.BytesIO(z)) as zf:
        assert zf.infolist()[0].flag_bits & 0x1
    assert_failed(process(api, package["guid"], run_jobs, z), INVALID_ZIP)


@pytest.mark.parametrize("body", [b"this is not a zip", b"", b"PK\x03\x04garbage", b"\x1f\x8b\x08\x00tar.gz"])
def test_something_that_is_not_a_zip_fails_as_an_invalid_archive(api, package, run_jobs, body):
    assert_failed(process(api, package["guid"], run_jobs, body), INVALID_ZIP)


@pytest.mark.parametrize("z", [empty_zip(), zip_entries([directory("only-a-dir")])], ids=["no-entries", "only-dirs"])
def test_a_zip_with_no_files_and_no_resources_fails(api, package, run_jobs, z):
    assert_failed(process(api, package["guid"], run_jobs, z), INVALID_ZIP)


def test_an_empty_zip_with_cached_resources_is_fine(api, world, package, run_jobs):
    uploaded_package(api, world.app["guid"], make_zip({"big": BIG_A}), run_jobs)
    got = process(api, package["guid"], run_jobs, empty_zip(), [fingerprint(BIG_A, "big", "644")])
    assert got["state"] == "READY", got
    assert read_zip(download_bytes(api, package["guid"])) == {"big": (BIG_A, 0o100644)}


# --- cached resources -------------------------------------------------------------------------
def test_v2_and_v3_resources_are_merged_with_their_modes_and_0744_by_default(api, world, package, run_jobs):
    uploaded_package(api, world.app["guid"], make_zip({"a.bin": BIG_A, "b.bin": BIG_B}), run_jobs)
    resources = [
        {"checksum": {"value": sha1(BIG_A)}, "size_in_bytes": len(BIG_A), "path": "v3/a.bin", "mode": "755"},
        {"checksum": {"value": sha1(BIG_B)}, "size_in_bytes": len(BIG_B), "path": "v3/b-default.bin"},
        {"sha1": sha1(BIG_B), "size": len(BIG_B), "fn": "v2/b.bin", "mode": "0600"},
        {"sha1": sha1(BIG_A), "size": len(BIG_A), "fn": "v2/deep/a-default.bin"},
        {"checksum": {"value": sha1(BIG_A)}, "size_in_bytes": len(BIG_A), "path": "v3/a-100644.bin", "mode": "100644"},
    ]
    got = process(api, package["guid"], run_jobs, make_zip({"own.txt": "mine"}, modes={"own.txt": 0o640}), resources)
    assert got["state"] == "READY", got
    data = download_bytes(api, package["guid"])
    assert got["data"]["checksum"]["value"] == sha256(data)
    assert read_zip(data) == {
        "own.txt": (b"mine", 0o100640),
        "v3/a.bin": (BIG_A, 0o100755),
        "v3/b-default.bin": (BIG_B, 0o100744),
        "v2/b.bin": (BIG_B, 0o100600),
        "v2/deep/a-default.bin": (BIG_A, 0o100744),
        "v3/a-100644.bin": (BIG_A, 0o100644),
    }


def test_a_resource_path_climbing_out_fails_the_package(api, world, package, run_jobs):
    uploaded_package(api, world.app["guid"], make_zip({"a.bin": BIG_A}), run_jobs)
    resources = [{"sha1": sha1(BIG_A), "size": len(BIG_A), "fn": "../x", "mode": "644"}]
    got = process(api, package["guid"], run_jobs, make_zip({"ok": "ok"}), resources)
    assert_failed(got, "The resource file path is invalid: File path '../x' is not safe.")


def test_an_absolute_resource_path_fails_the_package(api, world, package, run_jobs):
    uploaded_package(api, world.app["guid"], make_zip({"a.bin": BIG_A}), run_jobs)
    resources = [{"checksum": {"value": sha1(BIG_A)}, "size_in_bytes": len(BIG_A), "path": "/etc/x", "mode": "644"}]
    got = process(api, package["guid"], run_jobs, make_zip({"ok": "ok"}), resources)
    assert_failed(got, "The resource file path is invalid: File path '/etc/x' is not safe.")


@pytest.mark.parametrize("mode", ["0444", "0500", "1000"])
def test_a_resource_mode_without_owner_read_and_write_fails_the_package(api, world, package, run_jobs, mode):
    uploaded_package(api, world.app["guid"], make_zip({"a.bin": BIG_A}), run_jobs)
    resources = [{"sha1": sha1(BIG_A), "size": len(BIG_A), "fn": "a", "mode": mode}]
    got = process(api, package["guid"], run_jobs, make_zip({"ok": "ok"}), resources)
    assert_failed(
        got,
        f"The resource file mode is invalid: File mode '{mode}' with path 'a' is invalid. Minimum file mode is '0600'",
    )


@pytest.mark.parametrize("mode", ["0644", "0653", "0700"])
def test_resource_modes_with_owner_read_and_write_are_accepted(api, world, package, run_jobs, mode):
    uploaded_package(api, world.app["guid"], make_zip({"a.bin": BIG_A}), run_jobs)
    resources = [{"sha1": sha1(BIG_A), "size": len(BIG_A), "fn": "a", "mode": mode}]
    assert process(api, package["guid"], run_jobs, None, resources)["state"] == "READY"
    assert read_zip(download_bytes(api, package["guid"]))["a"] == (BIG_A, 0o100000 | int(mode, 8))


def test_a_corrupted_pool_blob_fails_the_package_and_leaves_the_pool(api, world, package, run_jobs):
    uploaded_package(api, world.app["guid"], make_zip({"a.bin": BIG_A}), run_jobs)
    fp = fingerprint(BIG_A, "a.bin", "644")
    assert match(api, [fp]).json() == {"resources": [fp]}
    blob = resource_blob_path(api, sha1(BIG_A))
    blob.write_bytes(b"Z" * len(BIG_A))
    got = process(api, package["guid"], run_jobs, make_zip({"ok": "ok"}), [fp])
    assert_failed(got, CHECKSUM_MISMATCH)
    r = match(api, [fp])
    assert r.status_code == 201
    assert r.json() == {"resources": []}
    assert not blob.exists()


def test_a_pool_entry_whose_blob_is_gone_fails_the_package_and_is_forgotten(api, world, package, run_jobs):
    uploaded_package(api, world.app["guid"], make_zip({"a.bin": BIG_A}), run_jobs)
    fp = fingerprint(BIG_A, "a.bin", "644")
    resource_blob_path(api, sha1(BIG_A)).unlink()
    assert match(api, [fp]).json() == {"resources": [fp]}  # the index still promises it
    got = process(api, package["guid"], run_jobs, make_zip({"ok": "ok"}), [fp])
    assert_failed(got, f"Could not find object '{sha1(BIG_A)}'")
    assert match(api, [fp]).json() == {"resources": []}


def test_a_pooled_file_is_reused_compressed_as_first_uploaded(api, world, package, run_jobs):
    first = uploaded_package(api, world.app["guid"], make_zip({"lib/a.bin": BIG_A}), run_jobs)
    got = process(api, package["guid"], run_jobs, make_zip({"own.txt": "mine"}), [fingerprint(BIG_A, "copy/a.bin")])
    assert got["state"] == "READY", got
    with zipfile.ZipFile(io.BytesIO(download_bytes(api, first["guid"]))) as zf:
        original = zf.getinfo("lib/a.bin")
    data = download_bytes(api, package["guid"])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        reused = zf.getinfo("copy/a.bin")
        assert zf.read(reused) == BIG_A
        assert (reused.compress_type, reused.compress_size, reused.CRC) == (
            original.compress_type,
            original.compress_size,
            original.CRC,
        )
    assert got["data"]["checksum"]["value"] == sha256(data)


def test_a_referenced_sha1_that_is_not_in_the_pool_fails_the_package(api, package, run_jobs):
    missing = sha1(b"never uploaded" * 10_000)
    resources = [{"checksum": {"value": missing}, "size_in_bytes": 140_000, "path": "gone.bin", "mode": "644"}]
    got = process(api, package["guid"], run_jobs, make_zip({"ok": "ok"}), resources)
    assert got["state"] == "FAILED", got
    assert got["data"]["error"]
    assert got["data"]["checksum"]["value"] is None


def test_an_uploaded_file_wins_over_a_resource_with_the_same_path(api, world, package, run_jobs):
    uploaded_package(api, world.app["guid"], make_zip({"a.bin": BIG_A}), run_jobs)
    got = process(api, package["guid"], run_jobs, make_zip({"same.txt": "uploaded"}), [fingerprint(BIG_A, "same.txt")])
    assert got["state"] == "READY"
    assert read_zip(download_bytes(api, package["guid"])) == {"same.txt": (b"uploaded", 0o100644)}


@pytest.mark.parametrize("settings_overrides", [{"max_package_size": 100_000}])
def test_the_size_limit_also_counts_merged_resources(api, world, package, run_jobs):
    uploaded_package(api, world.app["guid"], make_zip({"a.bin": BIG_A}), run_jobs)
    got = process(api, package["guid"], run_jobs, make_zip({"own": b"o" * 40_000}), [fingerprint(BIG_A, "a.bin")])
    assert_failed(got, "The app package is invalid: Package may not be larger than 100000 bytes")


# --- concurrency ------------------------------------------------------------------------------
def test_concurrent_uploads_to_several_packages_all_become_ready(api, world, run_jobs):
    apps = [world.app] + [api.create_app(world.space["guid"]) for _ in range(2)]
    packages = [api.create_package(apps[i % len(apps)]["guid"]) for i in range(8)]
    zips = {
        p["guid"]: make_zip({"id.txt": p["guid"], "blob.bin": bytes([i]) * (1000 + i)}) for i, p in enumerate(packages)
    }

    def send(guid):
        return upload(api, guid, zips[guid]).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, zips))
    assert statuses == [200] * len(packages)
    run_jobs()
    for i, p in enumerate(packages):
        got = get_package(api, p["guid"])
        assert got["state"] == "READY", got
        data = download_bytes(api, p["guid"])
        assert got["data"]["checksum"]["value"] == sha256(data)
        stored = read_zip(data)
        assert stored["id.txt"][0] == p["guid"].encode()
        assert stored["blob.bin"][0] == bytes([i]) * (1000 + i)


def test_concurrent_second_uploads_to_one_package_let_exactly_one_through(api, package, run_jobs):
    z = make_zip({"a": "a"})
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(lambda _: upload(api, package["guid"], z).status_code, range(6)))
    assert statuses == [200] + [400] * 5
    run_jobs()
    assert get_package(api, package["guid"])["state"] == "READY"
