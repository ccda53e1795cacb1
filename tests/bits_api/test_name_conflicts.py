"""Uploads whose names collide, and symlink loops: the package fails with a text naming the entries."""

from __future__ import annotations

import uuid
import warnings

import pytest
from sqlalchemy import select

from capi_packages.jobs.models import Job
from tests.bits_api.bits_support import (
    directory,
    download_bytes,
    fingerprint,
    get_package,
    read_zip,
    regular,
    symlink,
    upload,
    uploaded_package,
    zip_entries,
)
from tests.factories import make_zip

BIG = b"P" * 70_000  # pool-sized


def zip_allowing_duplicates(entries):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we mean to write
        return zip_entries(entries)


def process(api, guid, run_jobs, zip_bytes, resources=None):
    r = upload(api, guid, zip_bytes, resources)
    assert r.status_code == 200, r.text
    run_jobs()
    return get_package(api, guid)


def assert_failed(got, error):
    assert got["state"] == "FAILED", got
    assert got["data"]["error"] == error
    assert got["data"]["checksum"] == {"type": "sha256", "value": None}


def windows_package(api, world):
    body = {
        "name": f"win-{uuid.uuid4().hex[:8]}",
        "relationships": {"space": {"data": {"guid": world.space["guid"]}}},
        "lifecycle": {"type": "buildpack", "data": {"stack": "windows"}},
    }
    app = api.ok("POST", "/v3/apps", 201, json=body)
    return api.create_package(app["guid"])


# --- the same path twice ----------------------------------------------------------------------
def test_two_entries_with_one_name_and_different_content_fail_the_package(api, package, run_jobs):
    z = zip_allowing_duplicates([regular("a.txt", "first"), regular("b.txt", "b"), regular("a.txt", "second")])
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, "The app upload is invalid: Entry 'a.txt' occurs more than once.")


@pytest.mark.parametrize("other", ["./a.txt", ".//a.txt", "././a.txt"])
def test_names_that_are_one_path_once_normalised_fail_the_package(api, package, run_jobs, other):
    got = process(api, package["guid"], run_jobs, zip_entries([regular("a.txt", "one"), regular(other, "two")]))
    assert_failed(got, f"The app upload is invalid: Entries 'a.txt' and '{other}' name the same file.")


def test_a_backslash_name_and_a_slash_name_for_one_path_fail_the_package(api, package, run_jobs):
    got = process(api, package["guid"], run_jobs, zip_entries([regular("lib/x.rb", "1"), regular("lib\\x.rb", "2")]))
    assert_failed(got, "The app upload is invalid: Entries 'lib/x.rb' and 'lib\\x.rb' name the same file.")


# --- a file where a directory must be ---------------------------------------------------------
@pytest.mark.parametrize(
    "entries",
    [
        [regular("a", "file"), regular("a/b", "below")],
        [regular("a/b", "below"), regular("a", "file")],
    ],
    ids=["file-first", "file-last"],
)
def test_a_file_beside_a_path_below_it_fails_the_package(api, package, run_jobs, entries):
    got = process(api, package["guid"], run_jobs, zip_entries(entries))
    assert_failed(got, "The app upload is invalid: Entry 'a/b' needs 'a' to be a directory, but entry 'a' is a file.")


def test_a_directory_entry_for_a_files_name_fails_the_package(api, package, run_jobs):
    got = process(api, package["guid"], run_jobs, zip_entries([regular("a", "file"), directory("a")]))
    assert_failed(got, "The app upload is invalid: Entry 'a/' needs 'a' to be a directory, but entry 'a' is a file.")


def test_an_entry_inside_a_symlink_fails_the_package(api, package, run_jobs):
    z = zip_entries([directory("real"), symlink("lib", "real"), regular("lib/x.rb", "x")])
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(
        got, "The app upload is invalid: Entry 'lib/x.rb' needs 'lib' to be a directory, but entry 'lib' is a symlink."
    )


def test_a_cached_resource_below_an_uploaded_file_fails_the_package(api, world, package, run_jobs):
    uploaded_package(api, world.app["guid"], make_zip({"big.bin": BIG}), run_jobs)
    got = process(api, package["guid"], run_jobs, make_zip({"config": "x"}), [fingerprint(BIG, "config/big.bin")])
    assert_failed(
        got,
        "The resource file path is invalid: File path 'config/big.bin' needs 'config' to be a directory, "
        "but entry 'config' is a file.",
    )


# --- case ------------------------------------------------------------------------------------
def test_names_differing_only_in_case_are_two_files_on_a_linux_stack(api, package, run_jobs):
    got = process(api, package["guid"], run_jobs, zip_entries([regular("Gemfile", "G"), regular("gemfile", "g")]))
    assert got["state"] == "READY", got
    stored = read_zip(download_bytes(api, package["guid"]))
    assert stored["Gemfile"][0] == b"G" and stored["gemfile"][0] == b"g"


def test_names_differing_only_in_case_fail_on_a_windows_stack(api, world, run_jobs):
    package = windows_package(api, world)
    got = process(api, package["guid"], run_jobs, zip_entries([regular("Web.config", "W"), regular("web.config", "w")]))
    assert_failed(
        got,
        "The app upload is invalid: Entries 'Web.config' and 'web.config' name the same file on a "
        "case-insensitive stack.",
    )


def test_a_windows_upload_with_distinct_names_is_ready(api, world, run_jobs):
    package = windows_package(api, world)
    got = process(
        api, package["guid"], run_jobs, zip_entries([regular("Web.config", "W"), regular("bin/app.dll", "d")])
    )
    assert got["state"] == "READY", got


# --- symlink loops ---------------------------------------------------------------------------
def test_two_symlinks_pointing_at_each_other_fail_with_their_own_text(api, package, run_jobs):
    z = zip_entries([regular("app.js", "x"), symlink("a", "b"), symlink("b", "a")])
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, "The app upload is invalid: Symlink 'a' leads into a loop of symlinks: 'b'.")


def test_a_symlink_to_itself_fails_as_a_loop(api, package, run_jobs):
    z = zip_entries([regular("app.js", "x"), directory("lib"), symlink("lib/self", "self")])
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, "The app upload is invalid: Symlink 'lib/self' leads into a loop of symlinks: 'self'.")


def test_a_link_into_a_loop_through_a_directory_link_fails_as_a_loop(api, package, run_jobs):
    # d -> . makes d/d/d/... endless; x -> d/x goes round it for ever.
    z = zip_entries([regular("app.js", "x"), symlink("d", "."), symlink("x", "d/x")])
    got = process(api, package["guid"], run_jobs, z)
    assert_failed(got, "The app upload is invalid: Symlink 'x' leads into a loop of symlinks: 'd/x'.")


# --- large request fields do not outlive the job -----------------------------------------------
def upload_jobs(api):
    with api.app.state.sessionmaker() as session:
        return session.scalars(select(Job).where(Job.operation == "package.process_upload")).all()


@pytest.mark.parametrize("ends", ["READY", "FAILED"])
def test_the_finished_upload_job_keeps_no_copy_of_the_resources(api, world, package, run_jobs, ends):
    uploaded_package(api, world.app["guid"], make_zip({"big.bin": BIG}), run_jobs)
    resources = [fingerprint(BIG, f"copy{i}/big.bin") for i in range(50)]
    bits = make_zip({"app.js": "x"}) if ends == "READY" else b"not a zip"
    got = process(api, package["guid"], run_jobs, bits, resources)
    assert got["state"] == ends, got
    jobs = upload_jobs(api)
    assert len(jobs) == 2
    assert all(job.state in ("COMPLETE", "FAILED") for job in jobs)
    assert all("resources" not in job.payload for job in jobs)
    assert all(job.payload["guid"] for job in jobs)
