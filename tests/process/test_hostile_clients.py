"""A real `serve` process against clients that send too much, too slowly, or too many at once.

Each case sends raw bytes over a socket and reads the answer as it comes, so "answered without
reading the body" means what it says: the rest of the body was never sent.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import httpx
import pytest

from tests.process.conftest import PROCESSES, mint, running_server
from tests.process.edge_support import (
    MB,
    close_all,
    closed_by_server,
    connect,
    files_under,
    head_bytes,
    multipart_head,
    new_package,
    read_answer,
    rss_kib,
)

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.5
MAX_CONNECTIONS = 24
# Memory a request may cost the server at most, whatever it declares or sends (generous: allocator noise).
RSS_SLACK_KIB = 40 * 1024


@pytest.fixture(autouse=True)
def _close_sockets():
    yield
    close_all()


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    base = tmp_path_factory.mktemp("edge")
    tmpdir = base / "tmp"
    tmpdir.mkdir()
    env = {
        "CAPI_HTTP_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "CAPI_HTTP_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "CAPI_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS": "1",
        "CAPI_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "TMPDIR": str(tmpdir),
    }
    with running_server(base, **env) as (url, server_env):
        admin = {"Authorization": f"bearer {mint(server_env, '--user-id', 'root', '--admin')}"}
        nobody = f"bearer {mint(server_env, '--user-id', 'nobody')}"
        yield Edge(url, server_env, admin, nobody, base / "data", tmpdir)


class Edge:
    def __init__(self, url, env, admin, nobody, data_dir, tmpdir):
        self.url, self.env, self.admin, self.nobody, self.data_dir, self.tmpdir = (
            url,
            env,
            admin,
            nobody,
            data_dir,
            tmpdir,
        )

    @property
    def pid(self) -> int:
        return PROCESSES[self.url].pid

    def staging_files(self):
        return files_under(self.data_dir / "blobstore" / "staging")

    def package(self) -> str:
        return new_package(self.url, self.admin)

    def state(self, guid: str) -> str:
        return httpx.get(f"{self.url}/v3/packages/{guid}", headers=self.admin).json()["state"]


def send_head_and_some(edge, method, path, headers, first_bytes=b""):
    sock = connect(edge.url)
    sock.sendall(head_bytes(method, path, headers) + first_bytes)
    return sock


# --- 1./2. the token endpoint reads nothing but a small url-encoded form -------------------------
def test_a_huge_multipart_body_to_the_token_endpoint_is_refused_unread(edge):
    before = rss_kib(edge.pid)
    socks = []
    for _ in range(3):
        boundary = "b0undary"
        first = multipart_head(boundary, "junk") + b"x" * MB
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(990 * MB)}
        socks.append(send_head_and_some(edge, "POST", "/oauth/token", headers, first))
    for sock in socks:
        answer = read_answer(sock)
        assert answer.status == 415, answer
        assert answer.json()["error"] == "invalid_request"
        sock.close()
    assert rss_kib(edge.pid) - before < RSS_SLACK_KIB
    assert files_under(edge.tmpdir) == []


def test_a_file_part_for_the_token_endpoint_is_never_spooled(edge):
    boundary = "b0undary"
    first = multipart_head(boundary, "upload", "big.bin") + b"\0" * (4 * MB)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(600 * MB)}
    sock = send_head_and_some(edge, "POST", "/oauth/token", headers, first)
    assert read_answer(sock).status == 415
    sock.close()
    assert files_under(edge.tmpdir) == []


def test_an_oversized_url_encoded_token_request_is_refused_before_reading(edge):
    before = rss_kib(edge.pid)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(300 * MB)}
    sock = send_head_and_some(edge, "POST", "/oauth/token", headers, b"grant_type=password&x=" + b"a" * MB)
    answer = read_answer(sock)
    assert answer.status == 413
    assert answer.json() == {"error": "invalid_request", "error_description": "Request body too large"}
    sock.close()
    assert rss_kib(edge.pid) - before < RSS_SLACK_KIB


# --- 4. uploads are authorized from the headers and the URL before the body is read ------------
def test_an_upload_to_a_missing_package_is_not_found_before_its_bits_arrive(edge):
    before = rss_kib(edge.pid)
    boundary = "b0undary"
    first = multipart_head(boundary, "resources") + b"[]\r\n" + multipart_head(boundary, "bits", "package.zip")
    headers = {
        "Authorization": edge.nobody,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(300 * MB),
    }
    sock = send_head_and_some(edge, "POST", f"/v3/packages/{uuid.uuid4()}/upload", headers, first + b"z" * MB)
    answer = read_answer(sock)
    assert answer.status == 404, answer
    assert answer.json() == {"errors": [{"detail": "Package not found", "title": "CF-ResourceNotFound", "code": 10010}]}
    sock.close()
    assert rss_kib(edge.pid) - before < RSS_SLACK_KIB
    assert edge.staging_files() == []


def test_an_upload_by_a_user_who_cannot_see_the_package_is_not_found_before_its_bits(edge):
    guid = edge.package()
    boundary = "b0undary"
    headers = {
        "Authorization": edge.nobody,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(50 * MB),
    }
    sock = send_head_and_some(
        edge, "POST", f"/v3/packages/{guid}/upload", headers, multipart_head(boundary, "bits", "p")
    )
    assert read_answer(sock).status == 404
    sock.close()
    assert edge.state(guid) == "AWAITING_UPLOAD"


def test_a_declared_body_over_max_upload_size_is_refused_before_reading(edge):
    guid = edge.package()
    headers = {
        **edge.admin,
        "Content-Type": "multipart/form-data; boundary=b",
        "Content-Length": str(3 * 1024 * MB),
    }
    sock = send_head_and_some(edge, "POST", f"/v3/packages/{guid}/upload", headers)
    answer = read_answer(sock)
    assert answer.status == 413
    assert answer.json()["errors"][0]["title"] == "CF-RequestEntityTooLarge"
    sock.close()


def test_a_client_that_sends_its_whole_body_anyway_still_reads_the_answer(edge):
    # httpx sends the whole body before it reads; the server drains it instead of resetting.
    r = httpx.post(
        f"{edge.url}/v3/packages/{uuid.uuid4()}/upload",
        files={"bits": ("package.zip", b"x" * (8 * MB), "application/zip")},
        headers={"Authorization": edge.nobody},
        timeout=30,
    )
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == 10010


# --- 3. slow clients are cut off ------------------------------------------------------------------
def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(edge):
    sock = connect(edge.url)
    started = time.monotonic()
    answer = read_answer(sock)
    assert answer.status == 408
    assert answer.json()["errors"][0]["title"] == "CF-InvalidRequest"
    assert closed_by_server(sock, 5)
    assert time.monotonic() - started < HEADER_TIMEOUT + 5  # generous: a loaded machine


def test_headers_sent_too_slowly_are_cut_off(edge):
    sock = connect(edge.url)
    sock.sendall(b"GET /v3 HTTP/1.1\r\nHost: x\r\n")
    deadline = time.monotonic() + HEADER_TIMEOUT + 3
    try:
        while time.monotonic() < deadline:
            sock.sendall(b"X-Slow: y\r\n")
            time.sleep(0.2)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert closed_by_server(sock, 5)


def test_a_stalled_upload_is_cut_off_and_its_staging_file_removed(edge):
    guid = edge.package()
    boundary = "b0undary"
    headers = {
        **edge.admin,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(10 * MB),
    }
    sock = send_head_and_some(
        edge, "POST", f"/v3/packages/{guid}/upload", headers, multipart_head(boundary, "bits", "p.zip") + b"P" * 200_000
    )
    deadline = time.monotonic() + 3
    while not edge.staging_files() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert edge.staging_files(), "the upload should have started staging"
    answer = read_answer(sock)
    assert answer.status == 408
    assert closed_by_server(sock, 5)
    deadline = time.monotonic() + 3
    while edge.staging_files() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert edge.staging_files() == []
    assert edge.state(guid) == "AWAITING_UPLOAD"


def test_an_idle_keep_alive_connection_is_closed(edge):
    sock = connect(edge.url)
    sock.sendall(head_bytes("GET", "/v3", {}))
    assert read_answer(sock).status == 200
    assert closed_by_server(sock, 6)


def test_connections_beyond_the_cap_get_a_503_at_once(edge):
    held = [connect(edge.url) for _ in range(MAX_CONNECTIONS)]
    try:
        extra = connect(edge.url)
        answer = read_answer(extra)
        assert answer.status == 503
        assert answer.headers["retry-after"] == "1"
        error = answer.json()["errors"][0]
        assert (error["title"], error["code"]) == ("CF-ServiceUnavailable", 10015)
        extra.close()
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            if httpx.get(edge.url + "/v3", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    assert httpx.get(edge.url + "/v3", timeout=2).status_code == 200


# --- 10. header limits answer in CC's envelope, every time ---------------------------------------
@pytest.mark.parametrize("size", [70_000, 100_000, 1_000_000])
def test_oversized_headers_always_get_431_in_the_envelope(edge, size):
    for _ in range(3):
        sock = connect(edge.url)
        # The server may answer and close before the last header bytes are in.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head_bytes("GET", "/v3/packages", {"Authorization": "bearer " + "a" * size}))
        answer = read_answer(sock)
        sock.close()
        assert answer.status == 431, answer
        error = answer.json()["errors"][0]
        assert error["title"] == "CF-InvalidRequest" and error["code"] == 10004


def test_a_malformed_request_gets_400_in_the_envelope(edge):
    sock = connect(edge.url)
    sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    answer = read_answer(sock)
    assert answer.status == 400
    assert answer.json() == {
        "errors": [{"detail": "The request is invalid", "title": "CF-InvalidRequest", "code": 10004}]
    }


def test_ordinary_requests_still_work_while_slow_clients_hang_around(edge):
    slow = [connect(edge.url) for _ in range(MAX_CONNECTIONS // 2)]
    try:
        results = []

        def get():
            results.append(httpx.get(edge.url + "/v3/packages", headers=edge.admin, timeout=5).status_code)

        threads = [threading.Thread(target=get) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [200] * 5
    finally:
        for sock in slow:
            sock.close()


def test_with_256_descriptors_300_idle_connections_do_not_stop_the_server_answering(tmp_path):
    # The cap stays under the descriptor limit, so there is always a descriptor to answer with.
    with running_server(tmp_path, nofile=256, CAPI_HTTP_HEADER_TIMEOUT_SECONDS="30") as (url, env):
        admin = {"Authorization": f"bearer {mint(env, '--user-id', 'root', '--admin')}"}
        idle = []
        for _ in range(300):
            try:
                idle.append(connect(url, timeout=2))
            except OSError:
                break
        started = time.monotonic()
        sock = connect(url)
        sock.sendall(head_bytes("GET", "/v3/packages", admin))
        answer = read_answer(sock)
        assert time.monotonic() - started < 8
        assert answer.status == 503, answer
        for s in idle:
            s.close()
        deadline = time.monotonic() + 5
        while True:
            try:
                r = httpx.get(url + "/v3/packages", headers=admin, timeout=2)
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not recover once the idle connections went"
            time.sleep(0.1)
