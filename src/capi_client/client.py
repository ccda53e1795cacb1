"""PackagesClient: the v3 Packages API, its jobs, and the org/space/app/role setup calls."""

from __future__ import annotations

import json
import os
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from typing import Any, BinaryIO, Protocol, TypeVar, Unpack
from urllib.parse import quote, unquote_plus

import httpx
import tenacity

from capi_client import auth
from capi_client.entries import EntriesMixin
from capi_client.errors import (
    CapiError,
    JobFailedError,
    PackageFailedError,
    WaitTimeoutError,
    error_from_response,
)
from capi_client.events import AuditEventCalls
from capi_client.filters import AppPackageFilters, PackageFilters, to_query
from capi_client.models import Job, Package, PackageList, Resource
from capi_client.setup import SetupCalls
from capi_client.transfer import MultipartUpload, ProgressCallback, open_bits, save_response
from capi_client.trees import TreeCalls

USER_AGENT = "capi-packages-client/0.1"
# The API takes at most 5000 fingerprints per /v3/resource_matches call.
MATCH_CHUNK = 5000
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# As the cf CLI: requests that may be repeated are, when a gateway or the network failed them.
RETRY_STATUSES = frozenset({502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
DEFAULT_RETRIES = 2
# Polling: the first look comes soon (a small package is READY in a fraction of a second), then
# the wait grows by 15 % up to the cf CLI's fixed 3 s. Growing slowly keeps what a wait overshoots
# the READY moment by at most 15 % of the wait (growing by half, a push READY after 1.4 s was seen
# after 2.1 s); the price is about 15 looks in the first 2 seconds.
FIRST_POLL, MAX_POLL, POLL_BACKOFF = 0.05, 3.0, 1.15
CA_FILE_ENV = "CAPI_CA_FILE"


def tls_verify(skip_ssl_validation: bool = False, ca_file: str | None = None) -> ssl.SSLContext | bool:
    """What httpx should verify with: off, a CA bundle (`ca_file`, else `$CAPI_CA_FILE`), or the
    default trust (which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`)."""
    if skip_ssl_validation:
        return False
    ca_file = ca_file or os.environ.get(CA_FILE_ENV) or None
    if ca_file:
        return ssl.create_default_context(cafile=ca_file)
    return True


def _may_retry(method: str, error: BaseException | None, response: httpx.Response | None) -> bool:
    if error is not None:
        # Nothing reached the server when the connection failed, so even a POST may go again.
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
            return True
        return method in IDEMPOTENT_METHODS and isinstance(error, httpx.TransportError)
    return response is not None and method in IDEMPOTENT_METHODS and response.status_code in RETRY_STATUSES


class _Pollable(Protocol):
    @property
    def state(self) -> str: ...

    @property
    def is_final(self) -> bool: ...


T = TypeVar("T", bound=_Pollable)


def _guid(value: str) -> str:
    # Quoted so that a guid can never reach another path.
    return quote(str(value), safe="")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _resource_json(resource: Resource | Mapping[str, Any]) -> dict[str, Any]:
    return resource.to_json() if isinstance(resource, Resource) else dict(resource)


class PackagesClient(SetupCalls, AuditEventCalls, EntriesMixin, TreeCalls):
    """A synchronous client for one Cloud Foundry v3 API.

    The token goes only to the API's own origin (scheme, host and port of `api_url`), and never
    to the signed URL a download redirects to, whatever its host. Pass `http_client` to choose
    the transport (an ASGI app in tests, a proxy...); it is not closed by `close()`.
    `token_provider` is called before every request, so it may refresh; it wins over `token`.
    Both may be given with or without the `bearer ` prefix.

    Requests that may be repeated (GET, PUT, DELETE...) are retried `retries` times with backoff
    on 502, 503, 504 and network errors; any request is retried when it could not connect.
    `verify` goes to httpx (see `tls_verify` for one honouring `CAPI_CA_FILE`).
    """

    def __init__(
        self,
        api_url: str,
        token: str | None = None,
        *,
        http_client: httpx.Client | None = None,
        timeout: float = 30.0,
        token_provider: Callable[[], str | None] | None = None,
        on_warning: Callable[[str], None] | None = None,
        retries: int = DEFAULT_RETRIES,
        verify: ssl.SSLContext | bool | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._origin = _origin(httpx.URL(self.api_url))
        self._token = token
        self._token_provider = token_provider
        self._on_warning = on_warning
        self._owns_http = http_client is None
        if http_client is None:
            http_client = httpx.Client(timeout=timeout, verify=tls_verify() if verify is None else verify)
        self._http = http_client
        self.retries = retries
        # Bits can take long to be stored after the last byte: allow a longer wait for the answer.
        self._transfer_timeout = httpx.Timeout(timeout, read=max(timeout, 300.0))
        self._sleep: Callable[[float], None] = time.sleep
        self._clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_env(cls, **kwargs: Any) -> PackagesClient:
        """A client for `CAPI_API_URL` with the token in `CAPI_TOKEN` (optional)."""
        api_url = os.environ.get("CAPI_API_URL")
        if not api_url:
            raise ValueError("CAPI_API_URL is not set")
        return cls(api_url, os.environ.get("CAPI_TOKEN") or None, **kwargs)

    @classmethod
    def from_cf_config(cls, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> PackagesClient:
        """A client for the cf CLI's target and token (`~/.cf/config.json` unless `path`)."""
        target, token = auth.read_cf_config(path)
        return cls(target, token, **kwargs)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> PackagesClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    def authorization(self) -> str | None:
        """The `Authorization` header value requests to the API carry (None without a token)."""
        return self._authorization()

    def _authorization(self) -> str | None:
        token = self._token_provider() if self._token_provider is not None else self._token
        if not token:
            return None
        return token if token.lower().startswith("bearer ") else f"bearer {token}"

    def _url(self, path_or_url: str | httpx.URL) -> httpx.URL:
        if isinstance(path_or_url, str) and path_or_url.startswith("/"):
            return httpx.URL(self.api_url + path_or_url)
        return httpx.URL(self.api_url).join(path_or_url)

    def is_api_origin(self, url: str | httpx.URL) -> bool:
        return _origin(httpx.URL(url)) == self._origin

    def _request(
        self,
        method: str,
        url: httpx.URL,
        *,
        headers: Mapping[str, str] | None = None,
        bare: bool = False,
        **kw: Any,
    ) -> httpx.Request:
        all_headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        if self.is_api_origin(url) and not bare:
            authorization = self._authorization()
            if authorization:
                all_headers["Authorization"] = authorization
            return self._http.build_request(method, url, headers=all_headers, **kw)
        # Another origin, or a redirect target (a signed blobstore URL, even on the API's own
        # host): build the request bare, so that neither our token nor the client's default
        # headers or cookies travel there.
        timeout = kw.pop("timeout", self._http.timeout)
        return httpx.Request(method, url, headers=all_headers, extensions={"timeout": timeout.as_dict()}, **kw)

    def _send_raw(self, request: httpx.Request, *, stream: bool = False, bare: bool = False) -> httpx.Response:
        # No default auth either when the request leaves the API's origin or follows a redirect.
        on_api = self.is_api_origin(request.url) and not bare
        client_auth: Any = httpx.USE_CLIENT_DEFAULT if on_api else None

        def retry_wanted(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            assert outcome is not None
            if outcome.failed:
                return _may_retry(request.method, outcome.exception(), None)
            return _may_retry(request.method, None, outcome.result())

        def before_retry(state: tenacity.RetryCallState) -> None:
            if state.outcome is not None and not state.outcome.failed:
                state.outcome.result().close()

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=tenacity.wait_exponential_jitter(multiplier=0.5, max=5.0, jitter=0.5),
            retry=retry_wanted,
            before_sleep=before_retry,
            sleep=lambda seconds: self._sleep(seconds),
            reraise=True,
            # Out of tries on a retryable status: hand back that last answer, to be read as an error.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        response: httpx.Response = retrying(
            self._http.send, request, stream=stream, follow_redirects=False, auth=client_auth
        )
        self._report_warnings(response)
        return response

    def _send(self, method: str, path_or_url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        response = self._send_raw(self._request(method, self._url(path_or_url), **kwargs))
        if response.is_error:
            raise error_from_response(response)
        if response.status_code in _REDIRECTS:
            status, location = response.status_code, response.headers.get("location", "")
            detail = f"the API redirected to {location}; use that address as the API URL"
            raise CapiError(status, 0, f"HTTP {status}", detail, response=response)
        return response

    def _json(self, method: str, path_or_url: str | httpx.URL, **kwargs: Any) -> Any:
        return self._send(method, path_or_url, **kwargs).json()

    def _report_warnings(self, response: httpx.Response) -> None:
        # CC sends each warning URL-encoded, several joined with commas.
        header = response.headers.get("x-cf-warnings")
        if header and self._on_warning is not None:
            for warning in header.split(","):
                if warning.strip():
                    self._on_warning(unquote_plus(warning.strip()))

    # -- packages ---------------------------------------------------------------------------

    def list_packages(self, **filters: Unpack[PackageFilters]) -> PackageList:
        """One page of `GET /v3/packages`."""
        params = to_query(filters, PackageFilters.__annotations__)
        return PackageList.from_json(self._json("GET", "/v3/packages", params=params))

    def list_app_packages(self, app_guid: str, **filters: Unpack[AppPackageFilters]) -> PackageList:
        """One page of `GET /v3/apps/{app_guid}/packages`."""
        params = to_query(filters, AppPackageFilters.__annotations__)
        path = f"/v3/apps/{_guid(app_guid)}/packages"
        return PackageList.from_json(self._json("GET", path, params=params))

    def _walk(self, page: PackageList) -> Iterator[Package]:
        while True:
            yield from page.resources
            if not page.next_url:
                return
            # The server's link already carries the filters; follow it verbatim, as the cf CLI does.
            page = PackageList.from_json(self._json("GET", page.next_url))

    def iter_packages(self, **filters: Unpack[PackageFilters]) -> Iterator[Package]:
        """Every package matching `filters`, across all pages."""
        return self._walk(self.list_packages(**filters))

    def iter_app_packages(self, app_guid: str, **filters: Unpack[AppPackageFilters]) -> Iterator[Package]:
        """Every package of one app matching `filters`, across all pages."""
        return self._walk(self.list_app_packages(app_guid, **filters))

    def get_package(self, guid: str) -> Package:
        return Package.from_json(self._json("GET", f"/v3/packages/{_guid(guid)}"))

    def create_package(
        self,
        app_guid: str,
        type: str = "bits",
        *,
        image: str | None = None,
        username: str | None = None,
        password: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Package:
        body: dict[str, Any] = {
            "type": type,
            "relationships": {"app": {"data": {"guid": app_guid}}},
        }
        if type == "docker" or image is not None:
            data = {"image": image, "username": username, "password": password}
            body["data"] = {k: v for k, v in data.items() if v is not None}
        if metadata is not None:
            body["metadata"] = dict(metadata)
        return Package.from_json(self._json("POST", "/v3/packages", json=body))

    def update_package(
        self,
        guid: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> Package:
        """PATCH labels and annotations (a None value deletes that key) or docker credentials."""
        fields = {
            "metadata": dict(metadata) if metadata is not None else None,
            "username": username,
            "password": password,
        }
        body = {key: value for key, value in fields.items() if value is not None}
        return Package.from_json(self._json("PATCH", f"/v3/packages/{_guid(guid)}", json=body))

    def delete_package(self, guid: str) -> Job:
        """Start the delete (202) and return its job, as fetched right after."""
        return self._start_delete(f"/v3/packages/{_guid(guid)}")

    def copy_package(self, source_guid: str, app_guid: str) -> Package:
        """Copy a package to another app with CC's `POST /v3/packages?source_guid=` (201)."""
        body = {"relationships": {"app": {"data": {"guid": app_guid}}}}
        params = {"source_guid": source_guid}
        return Package.from_json(self._json("POST", "/v3/packages", params=params, json=body))

    def upload_bits(
        self,
        guid: str,
        zip_path_or_fileobj: str | os.PathLike[str] | BinaryIO | None = None,
        *,
        resources: Iterable[Resource | Mapping[str, Any]] | str | None = None,
        progress: ProgressCallback | None = None,
    ) -> Package:
        """Upload a zip and/or already-cached `resources`; the answer is PROCESSING_UPLOAD.

        The multipart body is streamed from the file; a string `resources` is sent verbatim.
        """
        if zip_path_or_fileobj is None and resources is None:
            raise ValueError("an upload needs bits, resources or both")
        if isinstance(resources, str):
            resources_json = resources
        else:
            entries = [_resource_json(r) for r in resources or ()]
            resources_json = json.dumps(entries, separators=(",", ":"))
        with ExitStack() as stack:
            bits = None
            if zip_path_or_fileobj is not None:
                bits = stack.enter_context(open_bits(zip_path_or_fileobj))
            body = MultipartUpload(resources_json, bits, progress=progress)
            headers = {
                "Content-Type": body.content_type,
                "Content-Length": str(body.content_length),
            }
            path = f"/v3/packages/{_guid(guid)}/upload"
            answer = self._json("POST", path, content=body, headers=headers, timeout=self._transfer_timeout)
        return Package.from_json(answer)

    def download_bits(
        self,
        guid: str,
        dest_path_or_fileobj: str | os.PathLike[str] | BinaryIO,
        progress: ProgressCallback | None = None,
    ) -> int:
        """Save the package's zip; returns the number of bytes written.

        Redirects are followed by hand: the signed URL gets a fresh request without our token,
        whatever its host (the signature is its credential; the blobstore must never see the
        token, and neither must a blob route on the API's own host).
        """
        url = self._url(f"/v3/packages/{_guid(guid)}/download")
        headers = {"Accept": "application/zip, application/json"}
        redirected = False
        for _ in range(MAX_REDIRECTS + 1):
            request = self._request("GET", url, headers=headers, timeout=self._transfer_timeout, bare=redirected)
            response = self._send_raw(request, stream=True, bare=redirected)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = response.url.join(response.headers["location"])
                    redirected = True
                    continue
                if response.is_error:
                    response.read()
                    raise error_from_response(response)
                return save_response(response, dest_path_or_fileobj, progress)
            finally:
                response.close()
        detail = f"more than {MAX_REDIRECTS} redirects downloading {guid}"
        raise CapiError(None, 0, "TooManyRedirects", detail)

    def match_resources(self, fingerprints: Iterable[Resource | Mapping[str, Any]]) -> list[Resource]:
        """The fingerprints the server's resource cache already holds, asked 5000 at a time."""
        entries = [_resource_json(f) for f in fingerprints]
        matched: list[Resource] = []
        for start in range(0, len(entries), MATCH_CHUNK):
            body = {"resources": entries[start : start + MATCH_CHUNK]}
            answer = self._json("POST", "/v3/resource_matches", json=body)
            matched.extend(Resource.from_json(r) for r in answer.get("resources") or ())
        return matched

    # -- jobs and waiting -------------------------------------------------------------------

    def get_job(self, guid: str) -> Job:
        return Job.from_json(self._json("GET", f"/v3/jobs/{_guid(guid)}"))

    def _poll(self, fetch: Callable[[], T], what: str, timeout: float, interval: float | None) -> T:
        """Call `fetch` until its result is in a final state, or raise WaitTimeoutError.

        A fixed `interval` waits that long between looks; None starts at FIRST_POLL and grows by
        POLL_BACKOFF up to MAX_POLL.
        """
        deadline = self._clock() + timeout
        delay = interval if interval is not None else FIRST_POLL
        while True:
            item = fetch()
            if item.is_final:
                return item
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise WaitTimeoutError(f"{what} is still {item.state} after {timeout:g}s")
            self._sleep(min(delay, remaining))
            if interval is None:
                delay = min(delay * POLL_BACKOFF, MAX_POLL)

    def wait_for_job(self, job_or_guid: Job | str, timeout: float = 300.0, interval: float | None = None) -> Job:
        """Poll until COMPLETE (returned) or FAILED (JobFailedError), for up to `timeout` s."""
        guid = job_or_guid.guid if isinstance(job_or_guid, Job) else job_or_guid
        job = self._poll(lambda: self.get_job(guid), f"job {guid}", timeout, interval)
        if job.state == "FAILED":
            raise JobFailedError(job)
        return job

    def wait_until_ready(
        self, package_or_guid: Package | str, timeout: float = 300.0, interval: float | None = None
    ) -> Package:
        """Poll until READY (returned) or FAILED/EXPIRED (PackageFailedError with `data.error`)."""
        guid = package_or_guid.guid if isinstance(package_or_guid, Package) else package_or_guid
        package = self._poll(lambda: self.get_package(guid), f"package {guid}", timeout, interval)
        if package.state != "READY":
            raise PackageFailedError(package)
        return package
