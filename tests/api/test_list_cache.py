"""Package lists answered from memory while nothing behind them changed, and never after.

Every way a list's answer can change is driven here, and each is checked to reach the next answer:
writes over the API, the job worker's, a change made by another process straight in the
database, and visibility (roles), which is not cached but computed for each request.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.bits_api.bits_support import upload
from tests.factories import make_zip

LIST = "/v3/packages?per_page=50&label_selector=env%3Dprod"


def listed(api: Any, path: str = LIST, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    r = api.client.get(path, headers=headers or api.admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    return list(r.json()["resources"])


@pytest.fixture
def cache(api):
    return api.app.state.list_cache


@pytest.fixture
def prod(api):
    world = api.world()
    pkg = api.create_package(world.app["guid"], metadata={"labels": {"env": "prod"}})
    return world, pkg


def test_a_repeated_list_is_served_from_memory_with_the_same_body(api, cache, prod):
    first = api.client.get(LIST, headers=api.admin)
    hits = cache.hits
    again = api.client.get(LIST, headers=api.admin)
    assert cache.hits == hits + 1
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    # Another query string is another page.
    assert [p["guid"] for p in listed(api, LIST + "&per_page=1")] == [prod[1]["guid"]]


def test_writes_over_the_api_reach_the_next_list(api, prod):
    world, pkg = prod
    assert [p["guid"] for p in listed(api)] == [pkg["guid"]]

    second = api.create_package(world.app["guid"], metadata={"labels": {"env": "prod"}})
    assert [p["guid"] for p in listed(api)] == [pkg["guid"], second["guid"]]

    api.ok("PATCH", f"/v3/packages/{second['guid']}", 200, json={"metadata": {"labels": {"env": "dev"}}})
    assert [p["guid"] for p in listed(api)] == [pkg["guid"]]

    api.ok("PATCH", f"/v3/packages/{pkg['guid']}", 200, json={"metadata": {"annotations": {"note": "n"}}})
    assert listed(api)[0]["metadata"]["annotations"] == {"note": "n"}

    api.ok("DELETE", f"/v3/packages/{pkg['guid']}", 202)
    api.app.state.worker.run_pending()
    assert listed(api) == []


def test_the_worker_s_state_changes_reach_the_next_list(api, run_jobs, prod):
    _, pkg = prod
    assert listed(api)[0]["state"] == "AWAITING_UPLOAD"
    assert upload(api, pkg["guid"], make_zip({"a.txt": "a"})).status_code == 200
    assert listed(api)[0]["state"] == "PROCESSING_UPLOAD"
    run_jobs()
    [ready] = listed(api)
    assert ready["state"] == "READY"
    assert ready["data"]["checksum"]["type"] == "sha256" and ready["data"]["checksum"]["value"]


def test_a_change_made_by_another_process_in_the_database_reaches_the_next_list(api, settings, prod):
    _, pkg = prod
    assert listed(api)[0]["state"] == "AWAITING_UPLOAD"
    # Not through this app, its sessions or its ORM: a plain connection of its own.
    other = create_engine(settings.effective_database_url, poolclass=NullPool)
    try:
        with other.begin() as conn:
            conn.execute(text("UPDATE packages SET state = 'FAILED' WHERE guid = :g"), {"g": pkg["guid"]})
    finally:
        other.dispose()
    assert listed(api)[0]["state"] == "FAILED"


def test_a_deleted_app_takes_its_packages_out_of_the_next_list(api, run_jobs, prod):
    world, _ = prod
    assert len(listed(api)) == 1
    api.ok("DELETE", f"/v3/apps/{world.app['guid']}", 202)
    run_jobs()
    assert listed(api) == []


def test_each_caller_sees_its_own_spaces_and_a_new_role_shows_at_once(api, prod):
    world, pkg = prod
    developer = api.user("space_developer", world)
    outsider_id = "outsider-user"
    outsider = api.headers(outsider_id, ("cloud_controller.read", "cloud_controller.write"))
    assert [p["guid"] for p in listed(api, headers=developer)] == [pkg["guid"]]
    assert listed(api, headers=outsider) == []
    assert listed(api, headers=outsider) == []  # the same page from memory: still nothing

    api.grant(outsider_id, "organization_user", org=world.org["guid"])
    api.grant(outsider_id, "space_auditor", space=world.space["guid"])
    assert [p["guid"] for p in listed(api, headers=outsider)] == [pkg["guid"]]


def test_an_app_s_package_list_is_cached_apart_and_follows_writes(api, prod):
    world, pkg = prod
    path = f"/v3/apps/{world.app['guid']}/packages"
    assert [p["guid"] for p in listed(api, path)] == [pkg["guid"]]
    second = api.create_package(world.app["guid"])
    assert [p["guid"] for p in listed(api, path)] == [pkg["guid"], second["guid"]]
    assert [p["guid"] for p in listed(api, f"/v3/packages?app_guid={world.app['guid']}")] == [
        pkg["guid"],
        second["guid"],
    ]
