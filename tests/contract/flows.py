"""Packages in every state, made over the real API (the same helpers as the rest of the suite)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from tests.bits_api.bits_support import get_package, upload, uploaded_package
from tests.factories import Api, make_zip

BITS_STATES = ("AWAITING_UPLOAD", "PROCESSING_UPLOAD", "READY", "FAILED", "COPYING", "EXPIRED")
DOCKER_STATES = ("READY", "EXPIRED")
BIG = 70_000  # above the resource pool's default 65536-byte minimum, so the file is cached and matched


def a_zip(name: str = "index.js") -> bytes:
    return make_zip({name: "console.log(1)\n", "lib/a.txt": "a"}, modes={name: 0o755})


def bits_package(api: Api, app_guid: str, state: str, run_jobs: Callable[[], Any]) -> dict[str, Any]:
    """A bits package of `app_guid` in `state`, as GET /v3/packages/{guid} shows it."""
    if state == "AWAITING_UPLOAD":
        guid = api.create_package(app_guid)["guid"]
    elif state == "PROCESSING_UPLOAD":
        guid = api.create_package(app_guid)["guid"]
        assert upload(api, guid, a_zip()).status_code == 200
    elif state == "READY":
        guid = uploaded_package(api, app_guid, a_zip(), run_jobs)["guid"]
    elif state == "FAILED":
        guid = api.create_package(app_guid)["guid"]
        assert upload(api, guid, b"this is not a zip").status_code == 200
        run_jobs()
    elif state == "COPYING":
        # The copy job is not run, so the destination stays COPYING.
        source = uploaded_package(api, app_guid, a_zip(), run_jobs)
        other_app = api.create_app(api.ok("GET", f"/v3/apps/{app_guid}", 200)["relationships"]["space"]["data"]["guid"])
        guid = copy(api, source["guid"], other_app["guid"])["guid"]
    elif state == "EXPIRED":
        # Six READY packages with the default max_valid_packages_stored=5: the oldest expires, and
        # its blob-deletion job clears its checksum.
        guids = [uploaded_package(api, app_guid, a_zip(f"f{i}.js"), run_jobs)["guid"] for i in range(6)]
        run_jobs()
        guid = guids[0]
    else:
        raise ValueError(state)
    got = get_package(api, guid)
    assert got["state"] == state, got
    return got


def docker_package(api: Api, app_guid: str, state: str, **data: Any) -> dict[str, Any]:
    body = {"image": "registry/image:latest", **data}
    if state == "READY":
        guid = api.create_package(app_guid, "docker", data=body)["guid"]
    elif state == "EXPIRED":
        guids = [api.create_package(app_guid, "docker", data=body)["guid"] for _ in range(6)]
        guid = guids[0]
    else:
        raise ValueError(state)
    got = get_package(api, guid)
    assert got["state"] == state, got
    return got


def copy_request(api: Api, source_guid: str, app_guid: str, *, via: str = "source_guid") -> Any:
    body = {"relationships": {"app": {"data": {"guid": app_guid}}}}
    if via == "source_guid":  # CC's route
        return api.client.post(f"/v3/packages?source_guid={source_guid}", json=body, headers=api.admin)
    return api.client.post(f"/v3/packages/{source_guid}/copy", json=body, headers=api.admin)  # the seed client's


def copy(api: Api, source_guid: str, app_guid: str, *, via: str = "source_guid") -> dict[str, Any]:
    r = copy_request(api, source_guid, app_guid, via=via)
    assert r.status_code == 201, r.text
    return r.json()


def matchable_resource(api: Api, app_guid: str, run_jobs: Callable[[], Any]) -> dict[str, Any]:
    """Upload a file big enough for the resource pool; return its resource-match entry."""
    big = b"x" * BIG
    uploaded_package(api, app_guid, make_zip({"big.bin": big}), run_jobs)
    return {
        "checksum": {"value": hashlib.sha1(big).hexdigest()},
        "size_in_bytes": BIG,
        "path": "big.bin",
        "mode": "644",
    }
