"""GET /v3/audit_events filters, operators, ordering, pagination links and CF-BadQueryParameter texts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update

from capi_packages.audit_events.models import AuditEvent
from tests.audit_events.support import events
from tests.conftest import BASE_URL
from tests.factories import Api, World, assert_error

ORG_CREATE = "audit.organization.create"
BAD_QUERY = (400, 10005, "CF-BadQueryParameter")
VALID = (
    "Valid parameters are: 'page', 'per_page', 'order_by', 'created_ats', 'updated_ats', 'guids', 'types', "
    "'target_guids', 'space_guids', 'organization_guids'"
)


def orgs_with_events(api: Api, count: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """`count` organizations and their create events, in creation order."""
    made = [api.create_org() for _ in range(count)]
    found = {e["target"]["guid"]: e for e in events(api, f"types={ORG_CREATE}&per_page=5000")}
    return [(org, found[org["guid"]]) for org in made]


def set_times(api: Api, times: dict[str, str]) -> None:
    """Give events (by guid) a creation instant; CC's specs build their events the same way."""
    with api.app.state.sessionmaker.begin() as session:
        for guid, when in times.items():
            instant = datetime.strptime(when, "%Y-%m-%dT%H:%M:%S.%f")
            session.execute(
                update(AuditEvent).where(AuditEvent.guid == guid).values(created_at=instant, updated_at=instant)
            )


def guids(api: Api, query: str) -> list[str]:
    return [e["guid"] for e in events(api, query)]


def bad_query(api: Api, query: str, detail: str) -> None:
    r = api.client.get(f"/v3/audit_events?{query}", headers=api.admin)
    assert_error(r, *BAD_QUERY, f"The query parameter is invalid: {detail}")


@pytest.fixture
def world(api: Api) -> World:
    return api.world()


# --- filters ------------------------------------------------------------------------------------
def test_types_filter_takes_several_types(api, world):
    kinds = {e["type"] for e in events(api, "types=audit.space.create,audit.app.create")}
    assert kinds == {"audit.space.create", "audit.app.create"}
    assert events(api, "types=audit.app.restart") == []


def test_target_guids_keeps_those_targets(api, world):
    assert {e["target"]["guid"] for e in events(api, f"target_guids={world.app['guid']},{world.org['guid']}")} == {
        world.app["guid"],
        world.org["guid"],
    }


def test_target_guids_not_leaves_those_targets_out(api, world):
    all_targets = [e["target"]["guid"] for e in events(api)]
    rest = [e["target"]["guid"] for e in events(api, f"target_guids[not]={world.app['guid']}")]
    assert rest == [t for t in all_targets if t != world.app["guid"]]
    both = f"target_guids[not]={world.app['guid']},{world.org['guid']}"
    assert [e["target"]["guid"] for e in events(api, both)] == [t for t in rest if t != world.org["guid"]]


def test_target_guids_not_also_reads_the_form_of_ccs_own_links(api, world):
    query = f"target_guids[not][]={world.app['guid']}&target_guids[not][]={world.org['guid']}"
    assert events(api, query) == events(api, f"target_guids[not]={world.app['guid']},{world.org['guid']}")


def test_space_and_organization_guids_filter_by_where_the_event_happened(api, world):
    other = api.world()
    in_space = events(api, f"space_guids={world.space['guid']}")
    assert {e["type"] for e in in_space} == {"audit.space.create", "audit.app.process.create", "audit.app.create"}
    in_org = events(api, f"organization_guids={world.org['guid']}")
    assert [e["type"] for e in in_org] == [
        "audit.organization.create",
        "audit.space.create",
        "audit.app.process.create",
        "audit.app.create",
    ]
    both = events(api, f"organization_guids={world.org['guid']},{other.org['guid']}")
    assert len(both) == 2 * len(in_org)


def test_guids_filter(api, world):
    (_, first), (_, second), _ = orgs_with_events(api, 3)
    assert guids(api, f"guids={first['guid']},{second['guid']},nope") == [first["guid"], second["guid"]]


def test_filters_combine(api, world):
    query = "types=audit.app.create,audit.space.create"
    query += f"&space_guids={world.space['guid']}&target_guids[not]={world.app['guid']}"
    assert [e["type"] for e in events(api, query)] == ["audit.space.create"]


# --- timestamps ---------------------------------------------------------------------------------
@pytest.fixture
def timed(api: Api) -> list[str]:
    made = orgs_with_events(api, 4)
    times = [
        "2020-05-26T18:47:01.250000",
        "2020-05-26T18:47:02.000000",
        "2020-05-26T18:47:03.999999",
        "2020-05-26T18:47:04.000000",
    ]
    set_times(api, {event["guid"]: when for (_, event), when in zip(made, times, strict=True)})
    return [event["guid"] for _, event in made]


@pytest.mark.parametrize("field", ["created_ats", "updated_ats"])
@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("=2020-05-26T18:47:03Z", [2]),
        ("=2020-05-26T18:47:01Z,2020-05-26T18:47:04Z", [0, 3]),
        ("[lt]=2020-05-26T18:47:03Z", [0, 1]),
        ("[lte]=2020-05-26T18:47:03Z", [0, 1, 2]),
        ("[gt]=2020-05-26T18:47:02Z", [2, 3]),
        ("[gte]=2020-05-26T18:47:02Z", [1, 2, 3]),
        ("[gt]=2020-05-26T18:47:01Z&{field}[lt]=2020-05-26T18:47:04Z", [1, 2]),
    ],
)
def test_timestamp_filters_and_their_operators(api, timed, field, condition, expected):
    query = f"types={ORG_CREATE}&{field}{condition.format(field=field)}"
    assert guids(api, query) == [timed[i] for i in expected]


def test_events_show_their_creation_instant_in_whole_seconds(api, timed):
    first = api.ok("GET", f"/v3/audit_events/{timed[0]}", 200)
    assert (first["created_at"], first["updated_at"]) == ("2020-05-26T18:47:01Z", "2020-05-26T18:47:01Z")


# --- ordering and pagination --------------------------------------------------------------------
def test_default_order_is_creation_order_and_order_by_sorts_by_time_then_guid(api, timed):
    query = f"types={ORG_CREATE}&guids={','.join(timed)}"
    assert guids(api, query) == timed
    assert guids(api, query + "&order_by=-created_at") == timed[::-1]
    assert guids(api, query + "&order_by=updated_at") == timed
    set_times(api, dict.fromkeys(timed, "2021-01-01T00:00:00.000000"))
    assert guids(api, query + "&order_by=created_at") == sorted(timed)
    assert guids(api, query + "&order_by=-created_at") == sorted(timed, reverse=True)


def test_pagination_links_carry_the_filters_as_cc_writes_them(api, world):
    made = orgs_with_events(api, 5)
    excluded = [made[0][0]["guid"], made[1][0]["guid"]]
    query = f"types={ORG_CREATE}&per_page=2&page=2&order_by=-created_at&target_guids[not]={','.join(excluded)}"
    r = api.client.get(f"/v3/audit_events?{query}", headers=api.admin)
    assert r.status_code == 200, r.text
    body = r.json()
    # The world's org and three of the five new ones remain; newest first.
    remaining = [world.org["guid"]] + [org["guid"] for org, _ in made[2:]]
    assert body["pagination"]["total_results"] == 4
    assert [e["target"]["guid"] for e in body["resources"]] == remaining[::-1][2:4]

    def link(page: int) -> dict[str, str]:
        nots = "&".join(f"target_guids%5Bnot%5D%5B%5D={guid}" for guid in excluded)
        return {
            "href": f"{BASE_URL}/v3/audit_events?order_by=-created_at&page={page}&per_page=2&{nots}&types={ORG_CREATE}"
        }

    assert body["pagination"] == {
        "total_results": 4,
        "total_pages": 2,
        "first": link(1),
        "last": link(2),
        "next": None,
        "previous": link(1),
    }
    # The links can be followed: page 1 through `previous` holds the two newest.
    previous = api.ok("GET", body["pagination"]["previous"]["href"].removeprefix(BASE_URL), 200)
    assert [e["target"]["guid"] for e in previous["resources"]] == remaining[::-1][:2]


def test_plain_filters_appear_in_links_joined_with_commas(api, world):
    query = f"types=audit.app.create,audit.space.create&space_guids={world.space['guid']}&per_page=1"
    body = api.ok("GET", f"/v3/audit_events?{query}", 200)
    expected_next = (
        f"{BASE_URL}/v3/audit_events?page=2&per_page=1&space_guids={world.space['guid']}"
        "&types=audit.app.create%2Caudit.space.create"
    )
    assert body["pagination"]["next"] == {"href": expected_next}
    assert body["pagination"]["total_pages"] == 2


# --- refused queries ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("label_selector=a%3Db", f"Unknown query parameter(s): 'label_selector'. {VALID}"),
        ("states=READY&app_guids=x", f"Unknown query parameter(s): 'states', 'app_guids'. {VALID}"),
        ("types[in]=x", "Types must be an array"),
        ("space_guids[x]=y", "Space guids must be an array"),
        ("organization_guids[x]=y", "Organization guids must be an array"),
        ("guids[x]=y", "Guids must be an array"),
        ("target_guids[in]=x", "Target guids target_guids has an invalid operator"),
        ("target_guids[not][x]=y", "Target guids target_guids must be an array"),
        ("order_by=type", "Order by can only be: 'created_at', 'updated_at'"),
        ("page=0", "Page must be a positive integer"),
        ("per_page=5001", "Per page must be between 1 and 5000"),
        (
            "created_ats=yesterday",
            "Created ats has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'",
        ),
        ("updated_ats[after]=2020-01-01T00:00:00Z", "Updated ats Invalid relational operator: 'after'"),
        (
            "created_ats[lt]=2020-01-01T00:00:00Z,2020-01-02T00:00:00Z",
            "Created ats only accepts one value when using a relational operator",
        ),
    ],
)
def test_a_bad_query_is_refused_with_ccs_text(api, query, detail):
    bad_query(api, query, detail)


def test_every_problem_is_reported_in_ccs_order(api):
    query = "types[a]=b&target_guids[in]=x&foo=1&per_page=0&guids[x]=y&order_by=name"
    bad_query(
        api,
        query,
        ", ".join(
            [
                "Per page must be a positive integer",
                "Order by can only be: 'created_at', 'updated_at'",
                "Guids must be an array",
                f"Unknown query parameter(s): 'foo'. {VALID}",
                "Target guids target_guids has an invalid operator",
                "Types must be an array",
            ]
        ),
    )


def test_a_filter_given_plain_and_bracketed_is_an_invalid_request(api):
    r = api.client.get("/v3/audit_events?target_guids=a&target_guids[not]=b", headers=api.admin)
    assert_error(r, 400, 10004, "CF-InvalidRequest", "The request is invalid")
