"""Lists of organizations, spaces, apps and roles: CC's order_by values, tie order, links and texts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update

from capi_packages.orgs.models import App, Organization, Role
from tests.factories import assert_error

BASE = "http://api.test"
SETUP_ORDER_BY = "Order by can only be: 'created_at', 'updated_at', 'name'"
APPS_ORDER_BY = "Order by can only be: 'created_at', 'updated_at', 'name', 'state'"
ROLES_ORDER_BY = "Order by can only be: 'created_at', 'updated_at'"


def listed(api: Any, path: str, key: str = "guid") -> list[Any]:
    r = api.client.get(path, headers=api.admin)
    assert r.status_code == 200, r.text
    return [resource[key] for resource in r.json()["resources"]]


def first_href(api: Any, path: str) -> str:
    r = api.client.get(path, headers=api.admin)
    assert r.status_code == 200, r.text
    return r.json()["pagination"]["first"]["href"]


def set_columns(api: Any, model: Any, guid: str, **values: Any) -> None:
    with api.app.state.sessionmaker() as session:
        session.execute(update(model).where(model.guid == guid).values(**values))
        session.commit()


def bad_query(response: Any, message: str) -> None:
    assert_error(response, 400, 10005, "CF-BadQueryParameter", f"The query parameter is invalid: {message}")


# --- organizations -------------------------------------------------------------------------------
@pytest.fixture
def orgs(api) -> dict[str, str]:
    """Organizations created in an order that is neither their name order nor its reverse."""
    return {name: api.create_org(name)["guid"] for name in ("gamma", "alpha", "zed", "delta")}


def test_organizations_order_by_name_ascending_and_descending(api, orgs):
    ascending = ["alpha", "delta", "gamma", "zed"]
    assert listed(api, "/v3/organizations?order_by=name", "name") == ascending
    assert listed(api, "/v3/organizations?order_by=%2Bname", "name") == ascending
    assert listed(api, "/v3/organizations?order_by=-name", "name") == ascending[::-1]


def test_organizations_without_order_by_keep_creation_order(api, orgs):
    assert listed(api, "/v3/organizations", "name") == ["gamma", "alpha", "zed", "delta"]


def test_organization_links_echo_the_name_order_with_its_direction(api, orgs):
    assert first_href(api, "/v3/organizations?order_by=name&per_page=2") == (
        f"{BASE}/v3/organizations?order_by=%2Bname&page=1&per_page=2"
    )
    assert first_href(api, "/v3/organizations?order_by=-name") == (
        f"{BASE}/v3/organizations?order_by=-name&page=1&per_page=50"
    )


def test_organizations_order_by_name_across_pages(api, orgs):
    assert listed(api, "/v3/organizations?order_by=-name&per_page=3&page=2", "name") == ["alpha"]


def test_organizations_order_by_timestamps_breaks_ties_by_guid(api, orgs):
    for guid in orgs.values():
        set_columns(api, Organization, guid, created_at=datetime(2020, 1, 1))
    assert listed(api, "/v3/organizations?order_by=created_at") == sorted(orgs.values())
    assert listed(api, "/v3/organizations?order_by=-created_at") == sorted(orgs.values(), reverse=True)


@pytest.mark.parametrize("value", ["state", "guid", "-id", "name%20", "names"])
def test_organizations_refuse_other_order_by_values(api, value):
    bad_query(api.client.get(f"/v3/organizations?order_by={value}", headers=api.admin), SETUP_ORDER_BY)


def test_organizations_apply_timestamp_filters(api, orgs):
    set_columns(api, Organization, orgs["zed"], created_at=datetime(2019, 6, 1, 12, 0, 0, 250000))
    assert listed(api, "/v3/organizations?created_ats=2019-06-01T12:00:00Z", "name") == ["zed"]
    assert listed(api, "/v3/organizations?created_ats[lt]=2020-01-01T00:00:00Z", "name") == ["zed"]


# --- spaces --------------------------------------------------------------------------------------
@pytest.fixture
def spaces(api) -> list[dict[str, Any]]:
    """Spaces 'b', 'a' in one org and 'b', 'c' in another: two spaces share a name."""
    org1, org2 = api.create_org()["guid"], api.create_org()["guid"]
    return [api.create_space(org, name) for org, name in ((org1, "b"), (org1, "a"), (org2, "b"), (org2, "c"))]


def test_spaces_order_by_name_with_ties_broken_by_guid_in_the_same_direction(api, spaces):
    a, c = spaces[1]["guid"], spaces[3]["guid"]
    b1, b2 = sorted([spaces[0]["guid"], spaces[2]["guid"]])
    assert listed(api, "/v3/spaces?order_by=name") == [a, b1, b2, c]
    assert listed(api, "/v3/spaces?order_by=-name") == [c, b2, b1, a]


def test_space_links_echo_the_name_order(api, spaces):
    assert first_href(api, "/v3/spaces?order_by=-name&names=b") == (
        f"{BASE}/v3/spaces?names=b&order_by=-name&page=1&per_page=50"
    )


def test_spaces_order_by_name_within_an_organization(api, spaces):
    org = spaces[0]["relationships"]["organization"]["data"]["guid"]
    assert listed(api, f"/v3/spaces?organization_guids={org}&order_by=name", "name") == ["a", "b"]


def test_spaces_refuse_other_order_by_values(api):
    bad_query(api.client.get("/v3/spaces?order_by=state", headers=api.admin), SETUP_ORDER_BY)


# --- apps ----------------------------------------------------------------------------------------
@pytest.fixture
def apps(api) -> list[dict[str, Any]]:
    """Apps 'zed', 'alpha', 'web' in one space and 'web' in another."""
    world = api.world()
    other = api.create_space(world.org["guid"])
    made = [api.create_app(world.space["guid"], name) for name in ("zed", "alpha")]
    return [world.app, *made, api.create_app(world.space["guid"], "web"), api.create_app(other["guid"], "web")]


def test_apps_order_by_name_with_ties_broken_by_guid(api, apps):
    by_name = sorted(apps, key=lambda a: (a["name"], a["guid"]))
    assert listed(api, "/v3/apps?order_by=name") == [a["guid"] for a in by_name]
    assert listed(api, "/v3/apps?order_by=-name") == [a["guid"] for a in reversed(by_name)]


def test_apps_order_by_name_in_one_space_as_cf_apps_asks(api, apps):
    space = apps[1]["relationships"]["space"]["data"]["guid"]
    names = listed(api, f"/v3/apps?order_by=name&space_guids={space}", "name")
    assert names == sorted(names) and "zed" in names and names.count("web") == 1
    assert first_href(api, f"/v3/apps?order_by=name&space_guids={space}") == (
        f"{BASE}/v3/apps?order_by=%2Bname&page=1&per_page=50&space_guids={space}"
    )


def test_apps_order_by_state(api, apps):
    started = [apps[1]["guid"], apps[3]["guid"]]
    for guid in started:
        set_columns(api, App, guid, state="STARTED")
    stopped = sorted(a["guid"] for a in apps if a["guid"] not in started)
    assert listed(api, "/v3/apps?order_by=state") == [*sorted(started), *stopped]
    assert listed(api, "/v3/apps?order_by=-state") == [*stopped[::-1], *sorted(started, reverse=True)]
    assert listed(api, "/v3/apps?order_by=state", "state") == ["STARTED", "STARTED", "STOPPED", "STOPPED", "STOPPED"]
    assert first_href(api, "/v3/apps?order_by=-state") == f"{BASE}/v3/apps?order_by=-state&page=1&per_page=50"


def test_apps_refuse_other_order_by_values(api):
    bad_query(api.client.get("/v3/apps?order_by=lifecycle_type", headers=api.admin), APPS_ORDER_BY)


# --- roles ---------------------------------------------------------------------------------------
@pytest.fixture
def roles(api) -> list[str]:
    """Three org roles created in order, then given created_at values that reverse that order."""
    org = api.create_org()["guid"]
    guids = [api.grant(user, "organization_user", org=org)["guid"] for user in ("u1", "u2", "u3")]
    for day, guid in zip((3, 2, 1), guids, strict=True):
        set_columns(api, Role, guid, created_at=datetime(2020, 1, day))
    return guids


def test_roles_are_ordered_by_created_at_unless_told_otherwise(api, roles):
    assert listed(api, "/v3/roles") == roles[::-1]
    assert listed(api, "/v3/roles?order_by=-created_at") == roles


def test_role_links_carry_the_default_order(api, roles):
    assert first_href(api, "/v3/roles?per_page=2") == f"{BASE}/v3/roles?order_by=%2Bcreated_at&page=1&per_page=2"
    assert first_href(api, "/v3/roles?order_by=-updated_at") == (
        f"{BASE}/v3/roles?order_by=-updated_at&page=1&per_page=50"
    )


def test_roles_with_a_blank_order_by_keep_creation_order_and_echo_none(api, roles):
    assert listed(api, "/v3/roles?order_by=") == roles
    assert first_href(api, "/v3/roles?order_by=") == f"{BASE}/v3/roles?page=1&per_page=50"


def test_roles_created_at_ties_are_broken_by_guid(api, roles):
    for guid in roles:
        set_columns(api, Role, guid, created_at=datetime(2020, 1, 1))
    assert listed(api, "/v3/roles") == sorted(roles)


def test_roles_refuse_order_by_name_as_unprocessable(api):
    # CC's roles controller reports query problems as 422, not 400.
    r = api.client.get("/v3/roles?order_by=name", headers=api.admin)
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", ROLES_ORDER_BY)


def test_every_message_is_collected_on_the_setup_lists(api):
    r = api.client.get("/v3/apps?order_by=bogus&per_page=0&bad=1", headers=api.admin)
    bad_query(
        r,
        f"Per page must be a positive integer, {APPS_ORDER_BY}, Unknown query parameter(s): 'bad'. "
        "Valid parameters are: 'page', 'per_page', 'order_by', 'created_ats', 'updated_ats', 'names', "
        "'guids', 'space_guids', 'organization_guids', 'label_selector'",
    )


def test_spaces_are_ordered_by_name_for_an_org_manager_too(api):
    world = api.world()
    for name in ("b", "a"):
        api.create_space(world.org["guid"], name)
    api.create_space(api.create_org()["guid"], "c")  # not visible to the manager
    manager = api.user("organization_manager", world)
    r = api.client.get("/v3/spaces?order_by=-name", headers=manager)
    assert r.status_code == 200, r.text
    assert [s["name"] for s in r.json()["resources"]] == [world.space["name"], "b", "a"]


# --- label selectors (cf orgs/spaces/apps do not send them; go-cfclient and scripts do) ----------
def _labelled(api: Any, path: str, guid: str, labels: dict[str, str]) -> None:
    api.ok("PATCH", f"{path}/{guid}", 200, json={"metadata": {"labels": labels}})


@pytest.mark.parametrize("path", ["/v3/organizations", "/v3/spaces", "/v3/apps"])
def test_setup_lists_take_a_label_selector(api, path):
    world = api.world()
    mine = {"/v3/organizations": world.org, "/v3/spaces": world.space, "/v3/apps": world.app}[path]["guid"]
    other = api.world()
    theirs = {"/v3/organizations": other.org, "/v3/spaces": other.space, "/v3/apps": other.app}[path]["guid"]
    _labelled(api, path, mine, {"env": "prod", "example.com/tier": "web"})
    _labelled(api, path, theirs, {"env": "dev"})
    assert listed(api, f"{path}?label_selector=env=prod") == [mine]
    assert listed(api, f"{path}?label_selector=env%20in%20(prod,dev),example.com/tier") == [mine]
    assert theirs in listed(api, f"{path}?label_selector=!example.com/tier")
    assert mine not in listed(api, f"{path}?label_selector=env!=prod")
    href = first_href(api, f"{path}?label_selector=env=prod&per_page=1")
    assert href == f"{BASE}{path}?label_selector=env%3Dprod&page=1&per_page=1"


def test_a_bad_label_selector_on_a_setup_list_is_cc_s_bad_query(api):
    r = api.client.get("/v3/apps?label_selector=", headers=api.admin)
    bad_query(r, "Missing label_selector value")
    r = api.client.get("/v3/organizations?label_selector=a%3D%3D%3Db", headers=api.admin)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["title"] == "CF-BadQueryParameter"
