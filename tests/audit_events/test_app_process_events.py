"""App updates, environment reads, processes and manifests, recorded as CC's app and process event
repositories record them (manifest-triggered process and app changes inside the job are not)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.audit_events.support import actor_headers, events, events_of, expected, the_event
from tests.factories import Api, World

ROOT = ("root", "root@example.com")
HIDDEN = "[PRIVATE DATA HIDDEN]"


@pytest.fixture
def world(api: Api) -> World:
    return api.world()


@pytest.fixture
def admin(api: Api) -> dict[str, str]:
    return actor_headers(api, "root")


def app_event(world: World, event: dict[str, Any], type_: str, data: dict[str, Any], name: str | None = None) -> Any:
    return expected(
        event,
        type_=type_,
        actor=ROOT,
        target=(world.app["guid"], "app", name or world.app["name"]),
        data=data,
        space=world.space["guid"],
        org=world.org["guid"],
    )


def test_creating_an_app_records_its_web_process_then_the_app(api, world):
    recorded = events(api, f"target_guids={world.app['guid']}")
    assert [e["type"] for e in recorded] == ["audit.app.process.create", "audit.app.create"]
    process = recorded[0]
    want = app_event(
        world, process, "audit.app.process.create", {"process_guid": world.app["guid"], "process_type": "web"}
    )
    want["actor"] = {"guid": "admin-user", "type": "user", "name": "admin-user"}
    assert process == want


def test_updating_an_app_records_the_request(api, world, admin):
    body = {"name": "renamed", "metadata": {"labels": {"tier": "web"}}}
    api.ok("PATCH", f"/v3/apps/{world.app['guid']}", 200, json=body, headers=admin)
    event = the_event(api, "audit.app.update", world.app["guid"])
    assert event == app_event(world, event, "audit.app.update", {"request": body}, name="renamed")


def test_updating_environment_variables_records_them_hidden(api, world, admin):
    body = {"var": {"DB_PASSWORD": "s3cret"}}
    api.ok("PATCH", f"/v3/apps/{world.app['guid']}/environment_variables", 200, json=body, headers=admin)
    event = the_event(api, "audit.app.update", world.app["guid"])
    assert event == app_event(world, event, "audit.app.update", {"request": {"environment_variables": HIDDEN}})
    assert "s3cret" not in json.dumps(events(api))


@pytest.mark.parametrize(
    ("path", "type_"),
    [("env", "audit.app.environment.show"), ("environment_variables", "audit.app.environment_variables.show")],
)
def test_reading_an_apps_environment_is_recorded(api, world, admin, path, type_):
    assert api.client.get(f"/v3/apps/{world.app['guid']}/{path}", headers=admin).status_code == 200
    event = the_event(api, type_, world.app["guid"])
    assert event == app_event(world, event, type_, {})
    auditor = api.user("space_auditor", world)
    assert api.client.get(f"/v3/apps/{world.app['guid']}/{path}", headers=auditor).status_code == 403
    assert len(events_of(api, type_)) == 1


def test_updating_a_process_records_the_request_with_its_command_hidden(api, world, admin):
    body = {"command": "bin/start --token abc", "health_check": {"type": "process"}}
    api.ok("PATCH", f"/v3/processes/{world.app['guid']}", 200, json=body, headers=admin)
    event = the_event(api, "audit.app.process.update", world.app["guid"])
    request = {"command": HIDDEN, "health_check": {"type": "process"}}
    data = {"process_guid": world.app["guid"], "process_type": "web", "request": request}
    assert event == app_event(world, event, "audit.app.process.update", data)


@pytest.mark.parametrize("route", ["process", "app"])
def test_scaling_a_process_records_the_request(api, world, admin, route):
    body = {"instances": 3, "memory_in_mb": 256}
    path = (
        f"/v3/processes/{world.app['guid']}/actions/scale"
        if route == "process"
        else f"/v3/apps/{world.app['guid']}/processes/web/actions/scale"
    )
    assert api.client.post(path, json=body, headers=admin).status_code == 202
    event = the_event(api, "audit.app.process.scale", world.app["guid"])
    data = {"process_guid": world.app["guid"], "process_type": "web", "request": body}
    assert event == app_event(world, event, "audit.app.process.scale", data)


def test_applying_a_manifest_records_each_app_and_creates_new_ones_as_app_create_does(api, world, admin, run_jobs):
    manifest = {
        "applications": [
            {"name": world.app["name"], "env": {"SECRET": "x"}, "instances": 2},
            {"name": "fresh", "buildpacks": ["ruby_buildpack"], "memory": "256M"},
        ]
    }
    r = api.client.post(
        f"/v3/spaces/{world.space['guid']}/actions/apply_manifest",
        content=yaml.safe_dump(manifest),
        headers={**admin, "Content-Type": "application/x-yaml"},
    )
    assert r.status_code == 202, r.text
    applied = events_of(api, "audit.app.apply_manifest")
    assert [e["target"]["name"] for e in applied] == [world.app["name"], "fresh"]
    assert applied[0] == app_event(world, applied[0], "audit.app.apply_manifest", applied[0]["data"])
    first = yaml.safe_load(applied[0]["data"]["request"]["manifest"])
    assert first == {"applications": [{"name": world.app["name"], "env": HIDDEN, "instances": 2}]}
    assert applied[0]["data"]["request"]["manifest"].startswith("---\n")
    fresh_guid = applied[1]["target"]["guid"]
    created = events(api, f"target_guids={fresh_guid}&types=audit.app.create,audit.app.process.create")
    assert [e["type"] for e in created] == ["audit.app.process.create", "audit.app.create"]
    request = {
        "name": "fresh",
        "relationships": {"space": {"data": {"guid": world.space["guid"]}}},
        "lifecycle": {"data": {"buildpacks": ["ruby_buildpack"]}},
    }
    assert created[1]["data"] == {"request": request}
    assert events_of(api, "audit.app.create", world.app["guid"])[0]["actor"]["guid"] == "admin-user"
    run_jobs()
    assert api.ok("GET", f"/v3/processes/{world.app['guid']}", 200)["instances"] == 2
