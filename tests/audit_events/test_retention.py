"""Events older than CAPI_AUDIT_EVENTS_CUTOFF_AGE_DAYS (CC's audit_events.cutoff_age_in_days) are pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from capi_packages.audit_events import repository
from capi_packages.audit_events.models import AuditEvent
from capi_packages.db.base import utcnow
from capi_packages.settings import Settings
from tests.audit_events.support import count_rows, events
from tests.factories import Api


def age(api: Api, guids: list[str], days: float) -> None:
    when = utcnow() - timedelta(days=days)
    with api.app.state.sessionmaker.begin() as session:
        session.execute(update(AuditEvent).where(AuditEvent.guid.in_(guids)).values(created_at=when, updated_at=when))


def org_events(api: Api, count: int) -> list[str]:
    for _ in range(count):
        api.create_org()
    return [e["guid"] for e in events(api, "types=audit.organization.create")]


def test_the_default_keeps_a_month_of_events():
    assert Settings().audit_events_cutoff_age_days == 31


def test_maintenance_deletes_events_past_the_cutoff_and_keeps_the_rest(api):
    old, month, fresh = org_events(api, 3)
    age(api, [old], 31.01)
    age(api, [month], 30.9)
    api.app.state.worker.maintain()
    assert [e["guid"] for e in events(api, "types=audit.organization.create")] == [month, fresh]
    assert api.client.get(f"/v3/audit_events/{old}", headers=api.admin).status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"audit_events_cutoff_age_days": 2}])
def test_the_cutoff_is_a_setting(api):
    older, newer = org_events(api, 2)
    age(api, [older], 2.5)
    age(api, [newer], 1.5)
    api.app.state.worker.maintain()
    assert [e["guid"] for e in events(api, "types=audit.organization.create")] == [newer]


def test_a_long_backlog_goes_in_batches(api, monkeypatch):
    monkeypatch.setattr(repository, "PRUNE_BATCH", 2)
    guids = org_events(api, 5)
    age(api, guids, 40)
    kept = count_rows(api) - len(guids)
    api.app.state.worker.maintain()
    assert count_rows(api) == kept
    assert events(api, "types=audit.organization.create") == []
