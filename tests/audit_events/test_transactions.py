"""An event and its change commit together: no event without its change, no change without its event.

The failures are real: a trigger in the test's own database refuses one statement, either the
event's INSERT (the change must then be gone too) or a statement of the change that runs after
the event was written (the event must then be gone too).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.audit_events.support import count_rows, events_of
from tests.bits_api.bits_support import state_of, upload
from tests.factories import Api, World, make_zip

ZIP = make_zip({"app.py": "print('hi')\n"})


def refuse(api: Api, table: str, operation: str) -> None:
    """From now on the database refuses every `operation` (INSERT, UPDATE, DELETE) on `table`."""
    engine = api.app.state.engine
    name = f"refuse_{operation.lower()}_{table}"
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} BEGIN SELECT RAISE(ABORT, 'refused'); END")
            )
        else:
            conn.execute(
                text(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
                )
            )
            conn.execute(
                text(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
            )


def assert_unknown_error(response: Any) -> None:
    assert response.status_code == 500, (response.status_code, response.text)
    assert response.json()["errors"][0]["title"] == "UnknownError"


def app_packages(api: Api, app_guid: str) -> list[dict[str, Any]]:
    return list(api.ok("GET", f"/v3/apps/{app_guid}/packages", 200)["resources"])


def job_state(api: Api, response: Any) -> str:
    return str(api.ok("GET", response.headers["location"].removeprefix("http://api.test"), 200)["state"])


@pytest.fixture
def world(api: Api) -> World:
    return api.world()


@pytest.fixture
def ready_package(api: Api, world: World, run_jobs: Any) -> dict[str, Any]:
    pkg = api.create_package(world.app["guid"])
    assert upload(api, pkg["guid"], ZIP).status_code == 200
    run_jobs()
    return pkg


# --- the event cannot be written: the change does not happen ---------------------------------------
def test_no_package_is_created_without_its_event(api, world):
    refuse(api, "audit_events", "INSERT")
    body = {"type": "bits", "relationships": {"app": {"data": {"guid": world.app["guid"]}}}}
    assert_unknown_error(api.client.post("/v3/packages", json=body, headers=api.admin))
    assert app_packages(api, world.app["guid"]) == []


def test_no_copy_is_made_without_its_event(api, world, ready_package):
    dest = api.create_app(world.space["guid"])
    refuse(api, "audit_events", "INSERT")
    body = {"relationships": {"app": {"data": {"guid": dest["guid"]}}}}
    assert_unknown_error(
        api.client.post(f"/v3/packages?source_guid={ready_package['guid']}", json=body, headers=api.admin)
    )
    assert app_packages(api, dest["guid"]) == []


def test_no_upload_is_accepted_without_its_event(api, world, run_jobs):
    pkg = api.create_package(world.app["guid"])
    refuse(api, "audit_events", "INSERT")
    assert_unknown_error(upload(api, pkg["guid"], ZIP))
    assert run_jobs() == 0
    assert state_of(api, pkg["guid"]) == "AWAITING_UPLOAD"


def test_no_download_is_answered_without_its_event(api, ready_package):
    refuse(api, "audit_events", "INSERT")
    r = api.client.get(f"/v3/packages/{ready_package['guid']}/download", headers=api.admin, follow_redirects=False)
    assert_unknown_error(r)
    assert "location" not in r.headers


def test_no_package_is_deleted_without_its_event(api, ready_package, run_jobs):
    refuse(api, "audit_events", "INSERT")
    r = api.client.delete(f"/v3/packages/{ready_package['guid']}", headers=api.admin)
    assert r.status_code == 202
    run_jobs()
    assert job_state(api, r) == "FAILED"
    assert state_of(api, ready_package["guid"]) == "READY"


@pytest.mark.parametrize("what", ["organization", "space", "app", "role"])
def test_no_setup_resource_is_created_without_its_event(api, world, what):
    bodies = {
        "organization": ("/v3/organizations", {"name": "never"}),
        "space": (
            "/v3/spaces",
            {"name": "never", "relationships": {"organization": {"data": {"guid": world.org["guid"]}}}},
        ),
        "app": ("/v3/apps", {"name": "never", "relationships": {"space": {"data": {"guid": world.space["guid"]}}}}),
        "role": (
            "/v3/roles",
            {
                "type": "organization_auditor",
                "relationships": {
                    "user": {"data": {"guid": "frank"}},
                    "organization": {"data": {"guid": world.org["guid"]}},
                },
            },
        ),
    }
    path, body = bodies[what]
    before = api.ok("GET", path, 200)["pagination"]["total_results"]
    refuse(api, "audit_events", "INSERT")
    assert_unknown_error(api.client.post(path, json=body, headers=api.admin))
    assert api.ok("GET", path, 200)["pagination"]["total_results"] == before


def test_no_organization_is_renamed_without_its_event(api, world):
    refuse(api, "audit_events", "INSERT")
    r = api.client.patch(f"/v3/organizations/{world.org['guid']}", json={"name": "renamed"}, headers=api.admin)
    assert_unknown_error(r)
    assert api.ok("GET", f"/v3/organizations/{world.org['guid']}", 200)["name"] == world.org["name"]


def test_no_role_is_removed_without_its_event(api, world):
    role = api.grant("gina", "organization_auditor", org=world.org["guid"])
    refuse(api, "audit_events", "INSERT")
    assert_unknown_error(api.client.delete(f"/v3/roles/{role['guid']}", headers=api.admin))
    assert api.ok("GET", f"/v3/roles/{role['guid']}", 200)["guid"] == role["guid"]


@pytest.mark.parametrize("what", ["apps", "spaces", "organizations"])
def test_nothing_is_deleted_by_a_job_that_cannot_record_its_event(api, world, run_jobs, what):
    guid = {"apps": world.app, "spaces": world.space, "organizations": world.org}[what]["guid"]
    refuse(api, "audit_events", "INSERT")
    r = api.client.delete(f"/v3/{what}/{guid}", headers=api.admin)
    assert r.status_code == 202
    run_jobs()
    assert job_state(api, r) == "FAILED"
    assert api.client.get(f"/v3/{what}/{guid}", headers=api.admin).status_code == 200


# --- the change fails after its event was written: the event is gone too --------------------------
def test_a_create_whose_labels_are_refused_leaves_no_event(api, world):
    events_before = count_rows(api)
    refuse(api, "package_labels", "INSERT")
    body = {
        "type": "bits",
        "relationships": {"app": {"data": {"guid": world.app["guid"]}}},
        "metadata": {"labels": {"env": "prod"}},
    }
    assert_unknown_error(api.client.post("/v3/packages", json=body, headers=api.admin))
    assert app_packages(api, world.app["guid"]) == []
    assert count_rows(api) == events_before


@pytest.mark.parametrize("settings_overrides", [{"max_labels_per_resource": 1}])
def test_a_create_over_the_label_limit_leaves_no_event(api, world):
    body = {
        "type": "bits",
        "relationships": {"app": {"data": {"guid": world.app["guid"]}}},
        "metadata": {"labels": {"a": "1", "b": "2"}},
    }
    r = api.client.post("/v3/packages", json=body, headers=api.admin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["title"] == "CF-LabelLimitExceeded"
    assert events_of(api, "audit.app.package.create") == []


def test_a_copy_whose_job_cannot_be_queued_leaves_no_event(api, world, ready_package):
    dest = api.create_app(world.space["guid"])
    refuse(api, "jobs", "INSERT")
    body = {"relationships": {"app": {"data": {"guid": dest["guid"]}}}}
    assert_unknown_error(
        api.client.post(f"/v3/packages?source_guid={ready_package['guid']}", json=body, headers=api.admin)
    )
    assert events_of(api, "audit.app.package.create", dest["guid"]) == []


def test_an_upload_whose_job_cannot_be_queued_leaves_no_event(api, world):
    pkg = api.create_package(world.app["guid"])
    refuse(api, "jobs", "INSERT")
    assert_unknown_error(upload(api, pkg["guid"], ZIP))
    assert events_of(api, "audit.app.package.upload") == []
    assert state_of(api, pkg["guid"]) == "AWAITING_UPLOAD"


def test_a_delete_job_that_cannot_remove_the_row_leaves_no_event(api, ready_package, run_jobs):
    r = api.client.delete(f"/v3/packages/{ready_package['guid']}", headers=api.admin)
    refuse(api, "packages", "DELETE")
    run_jobs()
    assert job_state(api, r) == "FAILED"
    assert state_of(api, ready_package["guid"]) == "READY"
    assert events_of(api, "audit.app.package.delete") == []


def test_an_app_delete_that_cannot_remove_the_app_keeps_only_what_it_did(api, world, run_jobs):
    pkg = api.create_package(world.app["guid"])
    r = api.client.delete(f"/v3/apps/{world.app['guid']}", headers=api.admin)
    refuse(api, "apps", "DELETE")
    run_jobs()
    assert job_state(api, r) == "FAILED"
    assert events_of(api, "audit.app.delete-request") == []
    assert api.client.get(f"/v3/apps/{world.app['guid']}", headers=api.admin).status_code == 200
    # Each package goes in its own transaction with its own event, as it did before the app failed.
    assert [e["data"]["package_guid"] for e in events_of(api, "audit.app.package.delete")] == [pkg["guid"]]
    assert app_packages(api, world.app["guid"]) == []


def test_a_role_the_database_refuses_leaves_no_event(api, world):
    refuse(api, "roles", "INSERT")
    body = {
        "type": "organization_auditor",
        "relationships": {"user": {"data": {"guid": "hank"}}, "organization": {"data": {"guid": world.org["guid"]}}},
    }
    r = api.client.post("/v3/roles", json=body, headers=api.admin)
    assert r.status_code in (422, 500), r.text  # SQLite reports the trigger as a constraint failure
    assert events_of(api, "audit.user.organization_auditor_add") == []


def test_a_role_removal_the_database_refuses_leaves_no_event(api, world):
    role = api.grant("ivy", "organization_auditor", org=world.org["guid"])
    refuse(api, "roles", "DELETE")
    assert_unknown_error(api.client.delete(f"/v3/roles/{role['guid']}", headers=api.admin))
    assert events_of(api, "audit.user.organization_auditor_remove") == []
