"""The metrics endpoint scraped after known traffic and parsed with prometheus_client's own parser."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from capi_packages.jobs.queue import enqueue
from tests.bits_api.bits_support import upload
from tests.factories import assert_error, bearer, make_zip


def scrape(client: Any, path: str = "/metrics", headers: dict[str, str] | None = None) -> dict[str, Any]:
    r = client.get(path, headers=headers or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    samples: dict[str, Any] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    return samples


def value(samples: dict[str, Any], name: str, **labels: str) -> float:
    found = [v for got, v in samples.get(name, []) if all(got.get(k) == want for k, want in labels.items())]
    assert len(found) == 1, (name, labels, samples.get(name))
    return float(found[0])


def test_counters_match_the_traffic_sent(api, run_jobs):
    world = api.world()
    for _ in range(3):
        assert api.client.get("/v3/packages", headers=api.admin).status_code == 200
    for _ in range(2):
        assert api.client.get("/v3/packages/no-such-guid", headers=api.admin).status_code == 404
    api.client.get("/no/route/here")
    pkg = api.create_package(world.app["guid"])
    bits = make_zip({"index.js": "x" * 3000})
    assert upload(api, pkg["guid"], bits).status_code == 200
    run_jobs()

    samples = scrape(api.client)
    list_route = {"method": "GET", "route": "/v3/packages"}
    assert value(samples, "capi_http_requests_total", status="200", **list_route) == 3
    assert value(samples, "capi_http_request_duration_seconds_count", status="200", **list_route) == 3
    assert value(samples, "capi_http_requests_total", method="GET", route="/v3/packages/{guid}", status="404") == 2
    assert value(samples, "capi_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert (
        value(samples, "capi_http_requests_total", method="POST", route="/v3/packages/{guid}/upload", status="200") == 1
    )
    # Every request before this scrape is completed; the scrape itself is the one outstanding.
    sent = sum(v for _, v in samples["capi_http_requests_total"])
    assert value(samples, "cc_requests_completed_total") == sent
    assert value(samples, "cc_requests_outstanding_total") == 1
    assert value(samples, "capi_package_upload_bytes_total") >= len(bits)

    queue = "package.process_upload"
    assert value(samples, "cc_job_duration_seconds_count", queue=queue) == 1
    assert value(samples, "cc_job_pickup_delay_seconds_count", queue=queue) == 1
    assert value(samples, "capi_jobs_finished_total", queue=queue, state="COMPLETE") == 1
    assert value(samples, "capi_packages", state="READY") == 1
    assert value(samples, "capi_packages", state="AWAITING_UPLOAD") == 0
    assert value(samples, "capi_database_up") == 1
    assert value(samples, "cc_job_queues_length_total", queue=queue) == 0
    assert value(samples, "cc_failed_jobs_total", queue=queue) == 0

    # The Cloud Controller's path serves the same families.
    assert set(scrape(api.client, "/internal/v4/metrics")) == set(samples)


def test_queue_gauges_count_jobs_waiting_and_failed_per_operation(api, app):
    with app.state.sessionmaker() as session, session.begin():
        for _ in range(2):
            enqueue(session, "package.copy_bits", {})
        failed = enqueue(session, "package.copy_bits", {})
        failed.state = "FAILED"
    samples = scrape(api.client)
    assert value(samples, "cc_job_queues_length_total", queue="package.copy_bits") == 2
    assert value(samples, "cc_job_queues_load_total", queue="package.copy_bits") == 2
    assert value(samples, "cc_failed_jobs_total", queue="package.copy_bits") == 1
    # Queues nobody has used yet are there too, at 0, so that dashboards see them.
    assert value(samples, "cc_job_queues_length_total", queue="package.process_upload") == 0


@pytest.mark.parametrize("settings_overrides", [{"host": "0.0.0.0", "metrics_token": "scrape-secret"}])
def test_on_a_public_bind_the_metrics_need_a_token(api):
    r = api.client.get("/metrics")
    assert_error(r, 401, 10002, "CF-NotAuthenticated", "Authentication error")
    assert scrape(api.client, headers=bearer("scrape-secret"))
    assert scrape(api.client, "/internal/v4/metrics", headers=api.admin)
    wrong = api.client.get("/metrics", headers=bearer("not-the-secret"))
    assert wrong.status_code == 401
    space_dev = api.client.get("/metrics", headers=bearer(api.token("someone")))
    assert_error(space_dev, 403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")


@pytest.mark.parametrize("settings_overrides", [{"metrics_auth": "open", "host": "0.0.0.0"}])
def test_metrics_auth_open_serves_anyone(api):
    assert scrape(api.client)
