"""PackagesClient over MockTransport: request shapes, tokens, errors, paging, waiting."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from capi_client import (
    BadRequestError,
    CapiError,
    Job,
    JobFailedError,
    NotAuthenticatedError,
    NotAuthorizedError,
    NotFoundError,
    Package,
    PackageFailedError,
    PackagesClient,
    Resource,
    ServerError,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from tests.client.fake_api import API, TOKEN, FakeApi, Recorder, body, envelope

PACKAGE = {
    "guid": "pkg-1",
    "created_at": "2026-01-02T03:04:05Z",
    "updated_at": "2026-01-02T03:04:06Z",
    "type": "bits",
    "data": {"error": None, "checksum": {"type": "sha256", "value": None}},
    "state": "AWAITING_UPLOAD",
    "relationships": {"app": {"data": {"guid": "app-1"}}},
    "metadata": {"labels": {"env": "prod"}, "annotations": {}},
    "links": {
        "self": {"href": f"{API}/v3/packages/pkg-1"},
        "upload": {"href": f"{API}/v3/packages/pkg-1/upload", "method": "POST"},
    },
}
EMPTY_PAGE = {
    "pagination": {
        "total_results": 0,
        "total_pages": 1,
        "first": {"href": "x"},
        "last": {"href": "x"},
        "next": None,
        "previous": None,
    },
    "resources": [],
}


@pytest.fixture
def fake() -> FakeApi:
    return FakeApi()


@pytest.fixture
def client(fake: FakeApi) -> PackagesClient:
    api = PackagesClient(API, TOKEN, http_client=fake.client())
    api._sleep = lambda _seconds: None
    return api


# -- request shapes --------------------------------------------------------------------------


def test_list_packages_sends_every_filter_joined_with_commas() -> None:
    recorder = Recorder(httpx.Response(200, json=EMPTY_PAGE))
    recorder.client().list_packages(
        guids=["a", "b"],
        states=["READY", "FAILED"],
        types="bits",
        app_guids=["app"],
        space_guids=["s1", "s2"],
        organization_guids=["o"],
        label_selector="env=prod,tier!=web",
        page=2,
        per_page=10,
        order_by="-created_at",
        created_ats={"gt": datetime(2026, 1, 1, tzinfo=UTC)},
        updated_ats=["2026-01-01T00:00:00Z"],
    )
    request = recorder.last
    assert request.method == "GET"
    assert request.url.path == "/v3/packages"
    assert dict(request.url.params) == {
        "guids": "a,b",
        "states": "READY,FAILED",
        "types": "bits",
        "app_guids": "app",
        "space_guids": "s1,s2",
        "organization_guids": "o",
        "label_selector": "env=prod,tier!=web",
        "page": "2",
        "per_page": "10",
        "order_by": "-created_at",
        "created_ats[gt]": "2026-01-01T00:00:00Z",
        "updated_ats": "2026-01-01T00:00:00Z",
    }
    assert request.headers["authorization"] == f"bearer {TOKEN}"
    assert request.headers["accept"] == "application/json"


def test_list_app_packages_uses_the_nested_route_and_refuses_guid_filters() -> None:
    recorder = Recorder(httpx.Response(200, json=EMPTY_PAGE))
    client = recorder.client()
    client.list_app_packages("app-1", states=["READY"], per_page=5)
    assert recorder.last.url.path == "/v3/apps/app-1/packages"
    assert dict(recorder.last.url.params) == {"states": "READY", "per_page": "5"}
    with pytest.raises(TypeError, match="space_guids"):
        client.list_app_packages("app-1", space_guids=["s"])  # type: ignore[call-arg]


def test_get_package_returns_a_typed_package() -> None:
    recorder = Recorder(httpx.Response(200, json=PACKAGE))
    package = recorder.client().get_package("pkg-1")
    assert (recorder.last.method, recorder.last.url.path) == ("GET", "/v3/packages/pkg-1")
    assert package.guid == "pkg-1" and package.state == "AWAITING_UPLOAD"
    assert package.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert package.checksum_type == "sha256" and package.checksum_value is None
    assert package.app_guid == "app-1" and package.labels == {"env": "prod"}
    assert package.links["upload"] == f"{API}/v3/packages/pkg-1/upload"
    assert package.raw == PACKAGE


def test_guids_are_quoted_into_the_path() -> None:
    recorder = Recorder(httpx.Response(200, json=PACKAGE))
    recorder.client().get_package("../apps/x")
    assert recorder.last.url.raw_path == b"/v3/packages/..%2Fapps%2Fx"


def test_create_bits_package_body() -> None:
    recorder = Recorder(httpx.Response(201, json=PACKAGE))
    recorder.client().create_package("app-1", metadata={"labels": {"a": "b"}})
    assert (recorder.last.method, recorder.last.url.path) == ("POST", "/v3/packages")
    assert body(recorder.last) == {
        "type": "bits",
        "relationships": {"app": {"data": {"guid": "app-1"}}},
        "metadata": {"labels": {"a": "b"}},
    }


def test_create_docker_package_body_omits_unset_credentials() -> None:
    recorder = Recorder(httpx.Response(201, json={**PACKAGE, "type": "docker"}))
    recorder.client().create_package("app-1", "docker", image="nginx:1.27", username="u")
    assert body(recorder.last) == {
        "type": "docker",
        "relationships": {"app": {"data": {"guid": "app-1"}}},
        "data": {"image": "nginx:1.27", "username": "u"},
    }


def test_update_package_sends_only_what_is_given() -> None:
    recorder = Recorder(httpx.Response(200, json=PACKAGE))
    client = recorder.client()
    client.update_package("pkg-1", metadata={"labels": {"a": None}})
    assert (recorder.last.method, recorder.last.url.path) == ("PATCH", "/v3/packages/pkg-1")
    assert body(recorder.last) == {"metadata": {"labels": {"a": None}}}
    client.update_package("pkg-1", username="u", password="p")
    assert body(recorder.last) == {"username": "u", "password": "p"}


def test_delete_package_fetches_the_job_named_by_location() -> None:
    job = {
        "guid": "job-1",
        "operation": "package.delete",
        "state": "PROCESSING",
        "errors": [],
        "warnings": [],
        "links": {"self": {"href": f"{API}/v3/jobs/job-1"}},
    }
    recorder = Recorder(
        httpx.Response(202, headers={"Location": "https://external.example/v3/jobs/job-1"}),
        httpx.Response(200, json=job),
    )
    result = recorder.client().delete_package("pkg-1")
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("DELETE", "/v3/packages/pkg-1"),
        ("GET", "/v3/jobs/job-1"),
    ]
    assert recorder.last.url.host == "api.test"
    assert result == Job.from_json(job) and result.state == "PROCESSING"


def test_copy_package_uses_source_guid_on_create() -> None:
    recorder = Recorder(httpx.Response(201, json=PACKAGE))
    recorder.client().copy_package("src-1", "app-2")
    request = recorder.last
    assert (request.method, request.url.path) == ("POST", "/v3/packages")
    assert dict(request.url.params) == {"source_guid": "src-1"}
    assert body(request) == {"relationships": {"app": {"data": {"guid": "app-2"}}}}


def test_match_resources_asks_in_chunks_of_5000() -> None:
    def echo_first(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"resources": body(request)["resources"][:1]})

    recorder = Recorder(echo_first)
    fingerprints = [Resource(f"f{i}", f"{i:040d}", 70000, "644") for i in range(12001)]
    matched = recorder.client().match_resources(fingerprints)
    sizes = [len(body(r)["resources"]) for r in recorder.requests]
    assert sizes == [5000, 5000, 2001]
    assert {(r.method, r.url.path) for r in recorder.requests} == {("POST", "/v3/resource_matches")}
    assert body(recorder.requests[0])["resources"][0] == {
        "checksum": {"value": "0" * 40},
        "size_in_bytes": 70000,
        "path": "f0",
        "mode": "644",
    }
    assert [m.path for m in matched] == ["f0", "f5000", "f10000"]


def test_setup_calls_send_cc_v3_bodies() -> None:
    recorder = Recorder(lambda request: httpx.Response(201, json={"guid": "g", **body(request)}))
    client = recorder.client()
    assert client.create_organization("org").name == "org"
    assert body(recorder.last) == {"name": "org"}
    space = client.create_space("dev", "org-g")
    assert recorder.last.url.path == "/v3/spaces" and space.organization_guid == "org-g"
    org = {"organization": {"data": {"guid": "org-g"}}}
    assert body(recorder.last) == {"name": "dev", "relationships": org}
    client.create_app("web", "space-g")
    space_relation = {"space": {"data": {"guid": "space-g"}}}
    assert body(recorder.last) == {"name": "web", "relationships": space_relation}
    app = client.create_app("img", "space-g", lifecycle="docker")
    assert body(recorder.last)["lifecycle"] == {"type": "docker", "data": {}}
    assert app.lifecycle_type == "docker"
    role = client.create_role("space_developer", "user-g", space_guid="space-g")
    assert recorder.last.url.path == "/v3/roles"
    assert body(recorder.last) == {
        "type": "space_developer",
        "relationships": {"user": {"data": {"guid": "user-g"}}, "space": {"data": {"guid": "space-g"}}},
    }
    assert role.space_guid == "space-g" and role.user_guid == "user-g"
    client.create_role("organization_user", "user-g", org_guid="org-g")
    assert body(recorder.last)["relationships"]["organization"] == {"data": {"guid": "org-g"}}
    with pytest.raises(ValueError, match="exactly one"):
        client.create_role("space_developer", "user-g")


# -- tokens and warnings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "header"), [("abc", "bearer abc"), ("bearer abc", "bearer abc"), ("Bearer abc", "Bearer abc")]
)
def test_token_gets_the_bearer_scheme_once(token: str, header: str) -> None:
    recorder = Recorder(httpx.Response(200, json=PACKAGE))
    recorder.client(token).get_package("pkg-1")
    assert recorder.last.headers["authorization"] == header


def test_no_token_sends_no_authorization() -> None:
    recorder = Recorder(httpx.Response(200, json=PACKAGE))
    recorder.client(None).get_package("pkg-1")
    assert "authorization" not in recorder.last.headers


def test_token_provider_is_asked_before_every_request() -> None:
    tokens = iter(["t1", "t2"])
    recorder = Recorder(httpx.Response(200, json=PACKAGE))
    client = recorder.client(None, token_provider=lambda: next(tokens))
    client.get_package("pkg-1")
    client.get_package("pkg-1")
    assert [r.headers["authorization"] for r in recorder.requests] == ["bearer t1", "bearer t2"]


def test_warnings_header_reaches_on_warning() -> None:
    seen: list[str] = []
    headers = {"X-Cf-Warnings": "first+one,second%2C+too"}
    recorder = Recorder(httpx.Response(200, json=PACKAGE, headers=headers))
    recorder.client(on_warning=seen.append).get_package("pkg-1")
    assert seen == ["first one", "second, too"]


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "title", "error_class"),
    [
        (400, "CF-BadQueryParameter", BadRequestError),
        (401, "CF-InvalidAuthToken", NotAuthenticatedError),
        (403, "CF-NotAuthorized", NotAuthorizedError),
        (404, "CF-ResourceNotFound", NotFoundError),
        (422, "CF-UnprocessableEntity", UnprocessableEntityError),
        (500, "UnknownError", ServerError),
        (502, "CF-BlobstoreUnavailable", ServerError),
        (409, "CF-Conflict", CapiError),
    ],
)
def test_error_envelope_becomes_the_matching_subclass(status: int, title: str, error_class: type) -> None:
    recorder = Recorder(envelope(status, title, "what went wrong", 12345))
    with pytest.raises(CapiError) as caught:
        recorder.client().get_package("pkg-1")
    error = caught.value
    assert type(error) is error_class
    assert (error.status, error.code, error.title) == (status, 12345, title)
    assert error.detail == "what went wrong"
    assert str(error) == f"{title}: what went wrong"


def test_a_body_that_is_not_the_envelope_falls_back_to_the_status() -> None:
    recorder = Recorder(httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(ServerError) as caught:
        recorder.client().get_package("pkg-1")
    assert (caught.value.code, caught.value.title) == (0, "HTTP 502")
    assert caught.value.detail == "<html>Bad Gateway</html>"


def test_an_unexpected_redirect_is_an_error_that_names_the_target() -> None:
    recorder = Recorder(httpx.Response(301, headers={"Location": "https://api.test/v3/x"}))
    with pytest.raises(CapiError, match=r"https://api\.test"):
        recorder.client().get_package("pkg-1")


# -- paging ----------------------------------------------------------------------------------


def test_iter_packages_walks_three_pages_following_next_verbatim(fake: FakeApi, client: PackagesClient) -> None:
    for _ in range(5):
        fake.add_package(state="READY")
    fake.add_package(state="FAILED")
    found = list(client.iter_packages(per_page=2, states=["READY"]))
    ready = [p["guid"] for p in fake.packages.values() if p["state"] == "READY"]
    assert [p.guid for p in found] == ready
    urls = [str(r.url) for r in fake.requests]
    assert urls == [
        f"{API}/v3/packages?per_page=2&states=READY",
        f"{API}/v3/packages?page=2&per_page=2&states=READY",
        f"{API}/v3/packages?page=3&per_page=2&states=READY",
    ]


def test_iter_app_packages_walks_the_nested_route(fake: FakeApi, client: PackagesClient) -> None:
    for app in ("app-1", "app-1", "app-1", "app-2"):
        fake.add_package(app)
    assert len(list(client.iter_app_packages("app-1", per_page=1))) == 3
    assert all(r.url.path == "/v3/apps/app-1/packages" for r in fake.requests)


# -- waiting ---------------------------------------------------------------------------------


def test_wait_until_ready_polls_until_ready(fake: FakeApi, client: PackagesClient) -> None:
    fake.polls_until_ready = 3
    package = fake.add_package(state="PROCESSING_UPLOAD")
    ready = client.wait_until_ready(package["guid"], timeout=60, interval=0)
    assert ready.state == "READY" and len(fake.requests) == 3


def test_wait_until_ready_raises_with_the_package_error(fake: FakeApi, client: PackagesClient) -> None:
    fake.fail_upload_with = "The app upload is invalid: Invalid zip archive."
    package = fake.add_package(state="PROCESSING_UPLOAD")
    with pytest.raises(PackageFailedError) as caught:
        client.wait_until_ready(Package.from_json(package), interval=0)
    assert caught.value.detail == "The app upload is invalid: Invalid zip archive."
    assert caught.value.package.state == "FAILED"


def test_wait_until_ready_times_out(fake: FakeApi, client: PackagesClient) -> None:
    fake.polls_until_ready = 10**6
    package = fake.add_package(state="PROCESSING_UPLOAD")
    with pytest.raises(WaitTimeoutError, match="PROCESSING_UPLOAD"):
        client.wait_until_ready(package["guid"], timeout=0, interval=0)


def test_wait_for_job_returns_complete_and_raises_failed() -> None:
    job = {"guid": "job-1", "operation": "package.delete", "state": "PROCESSING", "errors": [], "warnings": []}
    failed_error = {"title": "CF-JobTimeout", "detail": "The job execution has timed out.", "code": 290006}
    complete = {**job, "state": "COMPLETE"}
    recorder = Recorder(httpx.Response(200, json=job), httpx.Response(200, json=complete))
    assert recorder.client().wait_for_job("job-1", interval=0).state == "COMPLETE"
    failed = {**job, "state": "FAILED", "errors": [failed_error]}
    recorder = Recorder(httpx.Response(200, json=failed))
    with pytest.raises(JobFailedError) as caught:
        recorder.client().wait_for_job(Job.from_json(job), interval=0)
    assert (caught.value.code, caught.value.title) == (290006, "CF-JobTimeout")
    assert caught.value.errors == [failed_error]
    recorder = Recorder(httpx.Response(200, json=job))
    with pytest.raises(WaitTimeoutError):
        recorder.client().wait_for_job("job-1", timeout=0)
