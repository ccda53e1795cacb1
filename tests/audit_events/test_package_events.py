"""The package events after each action, every field checked (reference §2.1, §2.2, §5.4, §5.8, §6.2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from capi_packages.auth.tokens import READ, WRITE
from tests.audit_events.support import actor_headers, events, events_of, expected, stored, the_event
from tests.bits_api.bits_support import package_blob_path, upload
from tests.factories import Api, World, assert_error, make_zip

ZIP = make_zip({"app.py": "print('hi')\n"})


@pytest.fixture
def world(api: Api) -> World:
    return api.world()


@pytest.fixture
def dev(api: Api, world: World) -> dict[str, str]:
    """A space developer whose token carries an email and a user_name of its own."""
    api.grant("dev-1", "organization_user", org=world.org["guid"])
    api.grant("dev-1", "space_developer", space=world.space["guid"])
    return actor_headers(api, "dev-1", (READ, WRITE))


@pytest.fixture
def docker_world(api: Api) -> World:
    return api.world("docker")


@pytest.fixture
def docker_dev(api: Api, docker_world: World) -> dict[str, str]:
    api.grant("dev-1", "organization_user", org=docker_world.org["guid"])
    api.grant("dev-1", "space_developer", space=docker_world.space["guid"])
    return actor_headers(api, "dev-1", (READ, WRITE))


def package_event(world: World, event: dict[str, Any], type_: str, data: dict[str, Any]) -> dict[str, Any]:
    return expected(
        event,
        type_=type_,
        actor=("dev-1", "dev-1@example.com"),
        target=(world.app["guid"], "app", world.app["name"]),
        data=data,
        space=world.space["guid"],
        org=world.org["guid"],
    )


def create(api: Api, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return api.ok("POST", "/v3/packages", 201, json=body, headers=headers)


def test_creating_a_docker_package_records_the_request_with_its_password_masked(api, docker_world, docker_dev):
    world = docker_world
    body = {
        "type": "docker",
        "data": {"image": "registry/image:latest", "username": "docker-user", "password": "s3cret"},
        "relationships": {"app": {"data": {"guid": world.app["guid"]}}},
        "metadata": {"labels": {"release": "stable"}, "annotations": {"potato": "idaho"}},
    }
    pkg = create(api, docker_dev, body)
    event = the_event(api, "audit.app.package.create", world.app["guid"])
    request = {**body, "data": {"image": "registry/image:latest", "username": "docker-user", "password": "***"}}
    assert event == package_event(
        world, event, "audit.app.package.create", {"package_guid": pkg["guid"], "request": request}
    )
    assert list(event["data"]["request"]) == ["type", "data", "relationships", "metadata"]
    row = stored(api, event["guid"])
    assert (row.actor_username, row.actor_name) == ("dev-1-login", "dev-1@example.com")
    assert "s3cret" not in json.dumps(row.data)


def test_a_docker_create_without_a_password_still_records_the_mask(api, docker_world, docker_dev):
    body = {
        "type": "docker",
        "data": {"image": "registry/image:latest"},
        "relationships": {"app": {"data": {"guid": docker_world.app["guid"]}}},
    }
    create(api, docker_dev, body)
    event = the_event(api, "audit.app.package.create", docker_world.app["guid"])
    assert event["data"]["request"]["data"] == {"image": "registry/image:latest", "password": "***"}


@pytest.mark.parametrize(
    ("data", "recorded"),
    [
        pytest.param({}, {"password": "***"}, id="empty data gets CC's mask (quirk)"),
        pytest.param(None, None, id="null data stays null"),
    ],
)
def test_a_bits_create_records_data_as_cc_does(api, world, dev, data, recorded):
    body = {"type": "bits", "relationships": {"app": {"data": {"guid": world.app["guid"]}}}, "data": data}
    pkg = create(api, dev, body)
    event = the_event(api, "audit.app.package.create", world.app["guid"])
    request = {"type": "bits", "relationships": body["relationships"], "data": recorded}
    assert event == package_event(
        world, event, "audit.app.package.create", {"package_guid": pkg["guid"], "request": request}
    )


def test_a_bits_create_without_data_records_only_what_was_sent(api, world, dev):
    body = {"type": "bits", "relationships": {"app": {"data": {"guid": world.app["guid"]}}}}
    create(api, dev, body)
    assert the_event(api, "audit.app.package.create", world.app["guid"])["data"]["request"] == body


@pytest.mark.parametrize("form", ["query", "path"])
def test_a_copy_records_a_create_naming_its_source(api, world, dev, form):
    source = api.create_package(world.app["guid"])
    dest = api.create_app(world.space["guid"])
    body = {"relationships": {"app": {"data": {"guid": dest["guid"]}}}, "type": "ignored"}
    path = f"/v3/packages?source_guid={source['guid']}" if form == "query" else f"/v3/packages/{source['guid']}/copy"
    copy = api.ok("POST", path, 201, json=body, headers=dev)
    event = the_event(api, "audit.app.package.create", dest["guid"])
    data = {"package_guid": copy["guid"], "request": {"source_package_guid": source["guid"]}}
    want = package_event(world, event, "audit.app.package.create", data)
    want["target"] = {"guid": dest["guid"], "type": "app", "name": dest["name"]}
    assert event == want


def test_an_upload_records_the_package_when_it_is_accepted(api, world, dev, run_jobs):
    pkg = api.create_package(world.app["guid"])
    assert upload(api, pkg["guid"], ZIP, headers=dev).status_code == 200
    event = the_event(api, "audit.app.package.upload", world.app["guid"])
    assert event == package_event(world, event, "audit.app.package.upload", {"package_guid": pkg["guid"]})
    run_jobs()
    assert len(events_of(api, "audit.app.package.upload")) == 1


def test_a_refused_upload_records_nothing(api, world, dev, run_jobs):
    pkg = api.create_package(world.app["guid"])
    assert upload(api, pkg["guid"], ZIP, headers=dev).status_code == 200
    run_jobs()
    r = upload(api, pkg["guid"], ZIP, headers=dev)
    assert r.status_code == 400, r.text
    assert len(events_of(api, "audit.app.package.upload")) == 1


@pytest.fixture
def ready_package(api: Api, world: World, run_jobs: Any) -> dict[str, Any]:
    pkg = api.create_package(world.app["guid"])
    assert upload(api, pkg["guid"], ZIP).status_code == 200
    run_jobs()
    return pkg


def test_a_download_is_recorded_at_the_redirect_not_at_the_signed_blob_fetch(api, world, dev, ready_package):
    r = api.client.get(f"/v3/packages/{ready_package['guid']}/download", headers=dev, follow_redirects=False)
    assert r.status_code == 302, r.text
    event = the_event(api, "audit.app.package.download", world.app["guid"])
    assert event == package_event(world, event, "audit.app.package.download", {"package_guid": ready_package["guid"]})
    for _ in range(2):  # the signed URL may be fetched again (retries, Range): no more events
        assert api.client.get(r.headers["location"], follow_redirects=False).status_code == 200
    assert len(events_of(api, "audit.app.package.download")) == 1


@pytest.mark.parametrize("settings_overrides", [{"download_mode": "stream"}])
def test_a_streamed_download_is_recorded_too(api, world, dev, ready_package):
    r = api.client.get(f"/v3/packages/{ready_package['guid']}/download", headers=dev)
    assert r.status_code == 200
    assert r.content == ZIP
    event = the_event(api, "audit.app.package.download", world.app["guid"])
    assert event["data"] == {"package_guid": ready_package["guid"]}


def test_a_refused_download_records_nothing(api, world, dev):
    pkg = api.create_package(world.app["guid"])
    r = api.client.get(f"/v3/packages/{pkg['guid']}/download", headers=dev)
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Package has no bits to download.")
    auditor = api.user("space_auditor", world)
    r = api.client.get(f"/v3/packages/{pkg['guid']}/download", headers=auditor)
    assert r.status_code == 403
    assert events_of(api, "audit.app.package.download") == []


def test_a_download_of_a_missing_blob_records_nothing(api, world, dev, ready_package):
    package_blob_path(api, ready_package["guid"]).unlink()
    r = api.client.get(f"/v3/packages/{ready_package['guid']}/download", headers=dev, follow_redirects=False)
    assert r.status_code == 502
    assert events_of(api, "audit.app.package.download") == []


def test_a_delete_is_recorded_when_its_job_removes_the_package_in_the_requesters_name(api, world, dev, run_jobs):
    pkg = api.create_package(world.app["guid"])
    assert api.client.delete(f"/v3/packages/{pkg['guid']}", headers=dev).status_code == 202
    assert events_of(api, "audit.app.package.delete") == []
    run_jobs()
    event = the_event(api, "audit.app.package.delete", world.app["guid"])
    assert event == package_event(world, event, "audit.app.package.delete", {"package_guid": pkg["guid"]})
    assert stored(api, event["guid"]).actor_username == "dev-1-login"


def test_updating_a_package_records_nothing(api, world, dev):
    pkg = api.create_package(world.app["guid"])
    before = events(api)
    api.ok("PATCH", f"/v3/packages/{pkg['guid']}", 200, json={"metadata": {"labels": {"a": "b"}}}, headers=dev)
    assert events(api) == before
