"""`PackagesClient.list_audit_events`/`iter_audit_events` and `capi-packages events`, against the app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from capi_cli import session as cli_session
from capi_cli.main import main
from capi_client import AuditEvent, AuditEventList, NotFoundError, PackagesClient
from capi_packages.auth.tokens import ADMIN, READ, WRITE
from tests.audit_events.support import events
from tests.conftest import BASE_URL
from tests.factories import Api, World


@pytest.fixture
def world(api: Api) -> World:
    return api.world()


@pytest.fixture
def token(api: Api) -> str:
    return api.token("auditor", (READ, WRITE, ADMIN), user_name="auditor", extra={"email": "auditor@example.com"})


@pytest.fixture
def capi(api: Api, token: str) -> Iterator[PackagesClient]:
    with PackagesClient(BASE_URL, token, http_client=api.client) as capi:
        yield capi


# --- the client -----------------------------------------------------------------------------------
def test_list_audit_events_returns_a_typed_page(api, world, capi):
    page = capi.list_audit_events(types=["audit.app.create"], target_guids=[world.app["guid"]])
    assert isinstance(page, AuditEventList)
    assert (page.total_results, page.total_pages, page.next_url, len(page)) == (1, 1, None, 1)
    (event,) = page
    raw = events(api, f"types=audit.app.create&target_guids={world.app['guid']}")[0]
    assert replace(event, data={}, links={}, raw={}) == AuditEvent(
        guid=raw["guid"],
        type="audit.app.create",
        created_at=datetime.strptime(raw["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
        actor_guid="admin-user",
        actor_type="user",
        actor_name="admin-user",
        target_guid=world.app["guid"],
        target_type="app",
        target_name=world.app["name"],
        space_guid=world.space["guid"],
        organization_guid=world.org["guid"],
    )
    assert event.data == raw["data"]
    assert event.links == {"self": f"{BASE_URL}/v3/audit_events/{raw['guid']}"}
    assert event.raw == raw


def test_iter_audit_events_follows_every_page(api, world, capi):
    everything = [e["guid"] for e in events(api)]
    assert len(everything) >= 3
    assert [e.guid for e in capi.iter_audit_events(per_page=1)] == everything
    assert capi.list_audit_events(per_page=1).next_url is not None


def test_the_client_sends_exclusions_and_time_operators_as_cc_reads_them(api, world, capi):
    left_out = [world.app["guid"], world.org["guid"]]
    kept = {e.target_guid for e in capi.iter_audit_events(target_guids={"not": left_out})}
    assert kept.isdisjoint(left_out)
    assert kept == {world.space["guid"]}
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert list(capi.iter_audit_events(created_ats={"gt": tomorrow})) == []
    assert len(list(capi.iter_audit_events(created_ats={"lt": tomorrow}, types="audit.space.create"))) == 1


def test_get_audit_event_and_its_not_found(api, world, capi):
    guid = events(api)[0]["guid"]
    assert capi.get_audit_event(guid).guid == guid
    with pytest.raises(NotFoundError) as caught:
        capi.get_audit_event("no-such-event")
    assert (caught.value.status, caught.value.code, caught.value.detail) == (404, 10010, "Event not found")


def test_an_unknown_filter_is_refused_before_any_request(capi):
    with pytest.raises(TypeError, match="unknown audit event filter"):
        capi.list_audit_events(states=["READY"])  # type: ignore[call-arg]


# --- the command ----------------------------------------------------------------------------------
@pytest.fixture
def cli(api: Api, token: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setattr(cli_session, "http_client_factory", lambda: TestClient(api.app, base_url=BASE_URL))
    monkeypatch.setenv("CAPI_CONFIG", str(tmp_path / "capi" / "config.json"))

    def run(*args: str, with_token: str | None = token) -> Any:
        auth = ["--api", BASE_URL] + (["--token", with_token] if with_token else [])
        return CliRunner().invoke(main, [*args, *auth], catch_exceptions=False)

    return run


def test_events_prints_a_table_filtered_by_type_and_target(api, world, cli):
    api.create_package(world.app["guid"])
    r = cli("events", "--type", "audit.app.package.create", "--type", "audit.app.create", "--target", world.app["guid"])
    assert r.exit_code == 0, r.output
    header, *rows = r.stdout.splitlines()
    assert header.split() == ["time", "type", "actor", "target", "target", "guid"]
    assert [row.split()[1:] for row in rows] == [
        ["audit.app.create", "admin-user", "app", world.app["name"], world.app["guid"]],
        ["audit.app.package.create", "admin-user", "app", world.app["name"], world.app["guid"]],
    ]


def test_events_json_is_what_the_api_answered(api, world, cli):
    r = cli("events", "--space", world.space["guid"], "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == events(api, f"space_guids={world.space['guid']}")


def test_events_can_leave_targets_out_and_sort_newest_first(api, world, cli):
    r = cli(
        "events", "--org", world.org["guid"], "--not-target", world.org["guid"], "--order-by", "-created_at", "--json"
    )
    assert r.exit_code == 0, r.output
    assert [e["type"] for e in json.loads(r.stdout)] == [
        "audit.app.create",
        "audit.app.process.create",
        "audit.space.create",
    ]


def test_events_refuses_target_and_not_target_together(cli, world):
    r = cli("events", "--target", "a", "--not-target", "b")
    assert r.exit_code == 2
    assert "give --target or --not-target, not both" in r.output


def test_events_reports_api_errors_with_their_exit_code(cli):
    r = cli("events", with_token="not-a-jwt")
    assert r.exit_code == 4
    assert "CF-InvalidAuthToken: Invalid Auth Token" in r.stderr
