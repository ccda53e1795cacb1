"""GET /x/packages/{guid}/entries/{path}: bytes, headers, Range, symlinks, hostile paths, rights."""

from __future__ import annotations

import pytest

from tests.bits_api.bits_support import regular, uploaded_package, zip_entries
from tests.entries_api.conftest import FILES
from tests.factories import assert_error

FILE_NOT_FOUND = (404, 10010, "CF-ResourceNotFound", "File not found")


def entry(api, guid, path, headers=None, **kw):
    return api.client.get(f"/x/packages/{guid}/entries/{path}", headers=headers or api.admin, **kw)


def test_a_file_is_served_whole_as_an_attachment_with_a_guessed_type(api, ready):
    r = entry(api, ready["guid"], "index.js")
    assert r.status_code == 200, r.text
    assert r.content == FILES["index.js"]
    assert r.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert r.headers["content-disposition"] == "attachment; filename=\"index.js\"; filename*=UTF-8''index.js"
    assert r.headers["content-length"] == str(len(FILES["index.js"]))
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]


def test_a_nested_file_with_an_unknown_type_is_octet_stream(api, ready):
    r = entry(api, ready["guid"], "lib/deep/data.bin")
    assert r.content == FILES["lib/deep/data.bin"]
    assert r.headers["content-type"] == "application/octet-stream"


def test_a_range_is_answered_with_206_and_only_those_bytes(api, ready):
    content = FILES["lib/util.js"]
    r = entry(api, ready["guid"], "lib/util.js", headers={**api.admin, "Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == content[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(content)}"
    assert r.headers["content-length"] == "100"


def test_a_suffix_range_gives_the_last_bytes_and_an_open_range_the_rest(api, ready):
    content = FILES["lib/util.js"]
    last = entry(api, ready["guid"], "lib/util.js", headers={**api.admin, "Range": "bytes=-10"})
    assert (last.status_code, last.content) == (206, content[-10:])
    rest = entry(api, ready["guid"], "lib/util.js", headers={**api.admin, "Range": "bytes=3000-"})
    assert (rest.status_code, rest.content) == (206, content[3000:])


def test_a_range_past_the_end_is_not_satisfiable(api, ready):
    size = len(FILES["index.js"])
    r = entry(api, ready["guid"], "index.js", headers={**api.admin, "Range": f"bytes={size}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"


def test_several_ranges_or_a_malformed_one_get_the_whole_file(api, ready):
    for header in ("bytes=0-1,5-6", "lines=1-2", "bytes=9-3"):
        r = entry(api, ready["guid"], "index.js", headers={**api.admin, "Range": header})
        assert (r.status_code, r.content) == (200, FILES["index.js"]), header


def test_a_symlink_is_followed_inside_the_package(api, ready):
    r = entry(api, ready["guid"], "current")
    assert (r.status_code, r.content) == (200, FILES["lib/util.js"])


def test_an_encoded_slash_names_the_same_file(api, ready):
    assert entry(api, ready["guid"], "lib%2Futil.js").content == FILES["lib/util.js"]


def test_redundant_separators_and_dots_are_normalised(api, ready):
    assert entry(api, ready["guid"], "lib//./util.js").content == FILES["lib/util.js"]


@pytest.mark.parametrize(
    "path",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "lib/..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "C:%5Cwindows%5Cwin.ini",
        "index.js%00.png",
        "lib",
        "nope.txt",
    ],
)
def test_hostile_or_unknown_paths_never_leave_the_zip(api, ready, path):
    assert_error(entry(api, ready["guid"], path), *FILE_NOT_FOUND)


def test_raw_dot_dot_segments_sent_as_is_are_not_found(api, ready):
    # httpx would normalise "../" away, so send the request target verbatim.
    r = api.client.request(
        "GET", f"http://api.test/x/packages/{ready['guid']}/entries/lib/../../../etc/passwd", headers=api.admin
    )
    assert r.status_code == 404


def test_a_symlink_chain_pointing_at_nothing_is_not_found(api, world, run_jobs):
    from tests.bits_api.bits_support import symlink

    pkg = uploaded_package(
        api, world.app["guid"], zip_entries([regular("a.txt", b"a"), symlink("dangling", "missing.txt")]), run_jobs
    )
    assert_error(entry(api, pkg["guid"], "dangling"), *FILE_NOT_FOUND)


def test_names_with_spaces_and_unicode_are_served_and_named_safely(api, world, run_jobs):
    name = 'dir/naïve "quote".txt'
    pkg = uploaded_package(api, world.app["guid"], zip_entries([regular(name, b"hi")]), run_jobs)
    listed = api.ok("GET", f"/x/packages/{pkg['guid']}/entries", 200)["resources"][0]
    assert listed["path"] == name
    r = api.client.get(listed["links"]["download"]["href"], headers=api.admin)
    assert r.content == b"hi"
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"na?ve _quote_.txt\"; filename*=UTF-8''na%C3%AFve%20%22quote%22.txt"
    )


@pytest.mark.parametrize("role", ["space_auditor", "organization_manager", "global_auditor"])
def test_roles_that_may_not_download_may_not_read_a_file(api, world, ready, role):
    assert_error(
        entry(api, ready["guid"], "index.js", headers=api.user(role, world)),
        403,
        10003,
        "CF-NotAuthorized",
        "You are not authorized to perform the requested action",
    )


def test_an_invisible_package_is_not_found_before_the_path_is_looked_at(api, world, ready):
    assert_error(
        entry(api, ready["guid"], "nope", headers=api.user("no_role", world)),
        404,
        10010,
        "CF-ResourceNotFound",
        "Package not found",
    )


def test_head_gives_the_headers_without_the_body(api, ready):
    r = api.client.head(f"/x/packages/{ready['guid']}/entries/index.js", headers=api.admin)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(FILES["index.js"]))
