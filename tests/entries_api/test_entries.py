"""GET /x/packages/{guid}/entries: shapes, tree order, pagination, prefix, rights, packages without bits."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from tests.bits_api.bits_support import package_blob_path
from tests.conftest import BASE_URL
from tests.entries_api.conftest import FILES
from tests.factories import assert_error

NOT_AUTHORIZED = (403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")
PACKAGE_NOT_FOUND = (404, 10010, "CF-ResourceNotFound", "Package not found")


def entries(api, guid, query="", headers=None):
    return api.client.get(f"/x/packages/{guid}/entries{query}", headers=headers or api.admin)


def test_entries_list_every_file_in_tree_order_with_sizes_modes_and_checksums(api, ready):
    r = entries(api, ready["guid"])
    assert r.status_code == 200, r.text
    body = r.json()
    paths = [e["path"] for e in body["resources"]]
    assert paths == ["README.md", "current", "index.js", "lib/deep/data.bin", "lib/util.js"]
    index = body["resources"][2]
    content = FILES["index.js"]
    assert index["type"] == "file"
    assert index["size"] == len(content)
    assert index["compressed_size"] > 0
    assert index["mode"] == "755"
    assert index["sha1"] == hashlib.sha1(content).hexdigest()
    assert int(index["crc32"], 16) > 0
    assert index["symlink_target"] is None
    assert index["links"]["download"]["href"] == f"{BASE_URL}/x/packages/{ready['guid']}/entries/index.js"
    link = body["resources"][1]
    assert (link["type"], link["symlink_target"], link["sha1"]) == ("symlink", "lib/util.js", None)
    assert body["pagination"]["total_results"] == 5


def test_entries_are_paginated_like_cc_lists(api, ready):
    guid = ready["guid"]
    body = entries(api, guid, "?per_page=2&page=2").json()
    assert [e["path"] for e in body["resources"]] == ["index.js", "lib/deep/data.bin"]
    pagination = body["pagination"]
    assert (pagination["total_results"], pagination["total_pages"]) == (5, 3)
    base = f"{BASE_URL}/x/packages/{guid}/entries"
    assert pagination["first"] == {"href": f"{base}?page=1&per_page=2"}
    assert pagination["last"] == {"href": f"{base}?page=3&per_page=2"}
    assert pagination["next"] == {"href": f"{base}?page=3&per_page=2"}
    assert pagination["previous"] == {"href": f"{base}?page=1&per_page=2"}


def test_a_prefix_keeps_the_paths_starting_with_it_and_stays_in_the_links(api, ready):
    body = entries(api, ready["guid"], "?prefix=lib/&per_page=1").json()
    assert [e["path"] for e in body["resources"]] == ["lib/deep/data.bin"]
    assert body["pagination"]["total_results"] == 2
    assert "prefix=lib%2F" in body["pagination"]["next"]["href"]


def test_a_prefix_matching_nothing_gives_an_empty_page(api, ready):
    body = entries(api, ready["guid"], "?prefix=nothing").json()
    assert body["resources"] == [] and body["pagination"]["total_results"] == 0


def test_unknown_query_parameters_are_refused_with_the_valid_ones(api, ready):
    assert_error(
        entries(api, ready["guid"], "?order_by=size"),
        400,
        10005,
        "CF-BadQueryParameter",
        "The query parameter is invalid: Order by can only be: 'path', "
        "Unknown query parameter(s): 'order_by'. Valid parameters are: 'page', 'per_page', 'prefix'",
    )


def test_bad_paging_is_a_bad_query_parameter(api, ready):
    assert_error(
        entries(api, ready["guid"], "?per_page=0"),
        400,
        10005,
        "CF-BadQueryParameter",
        "The query parameter is invalid: Per page must be a positive integer",
    )


@pytest.mark.parametrize("role", ["admin", "admin_read_only", "space_developer"])
def test_roles_that_may_download_may_list_entries(api, world, ready, role):
    assert entries(api, ready["guid"], headers=api.user(role, world)).status_code == 200


@pytest.mark.parametrize(
    "role", ["space_manager", "space_auditor", "space_supporter", "organization_manager", "global_auditor"]
)
def test_roles_that_see_the_package_but_may_not_download_it_are_forbidden(api, world, ready, role):
    assert_error(entries(api, ready["guid"], headers=api.user(role, world)), *NOT_AUTHORIZED)


@pytest.mark.parametrize(
    "role", ["organization_auditor", "organization_billing_manager", "organization_user", "no_role"]
)
def test_roles_that_cannot_see_the_package_get_not_found(api, world, ready, role):
    assert_error(entries(api, ready["guid"], headers=api.user(role, world)), *PACKAGE_NOT_FOUND)


def test_a_missing_package_is_not_found(api):
    assert_error(entries(api, str(uuid.uuid4())), *PACKAGE_NOT_FOUND)


def test_no_token_is_not_authenticated(api, ready):
    r = api.client.get(f"/x/packages/{ready['guid']}/entries")
    assert_error(r, 401, 10002, "CF-NotAuthenticated", "Authentication error")


def test_a_package_awaiting_upload_has_no_entries_to_list(api, world):
    pkg = api.create_package(world.app["guid"])
    assert_error(
        entries(api, pkg["guid"]),
        422,
        10008,
        "CF-UnprocessableEntity",
        "Package has no bits to list: it is AWAITING_UPLOAD.",
    )


def test_a_docker_package_has_no_entries(api):
    world = api.world(lifecycle="docker")
    pkg = api.create_package(world.app["guid"], "docker")
    assert_error(entries(api, pkg["guid"]), 422, 10008, "CF-UnprocessableEntity", "Package type must be bits.")


def test_a_ready_package_whose_zip_is_gone_is_blobstore_unavailable(api, ready):
    package_blob_path(api, ready["guid"]).unlink()
    assert_error(
        entries(api, ready["guid"]),
        502,
        150006,
        "CF-BlobstoreUnavailable",
        "Failed to perform operation due to blobstore unavailability.",
    )


def test_a_stored_zip_that_is_no_zip_is_a_blobstore_error(api, ready):
    package_blob_path(api, ready["guid"]).write_bytes(b"not a zip at all")
    assert_error(
        entries(api, ready["guid"]),
        500,
        150007,
        "CF-BlobstoreError",
        "Failed to perform blobstore operation after three retries.",
    )
