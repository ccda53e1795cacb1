"""Retries and polling over real HTTP: a loopback server that fails as gateways and networks do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from capi_client import PackagesClient, ServerError
from capi_client.client import FIRST_POLL, MAX_POLL

PACKAGE = {"guid": "p1", "type": "bits", "state": "READY", "data": {}, "links": {}}


class Flaky(ThreadingHTTPServer):
    """Answers each request with the next status of `script`, then 200; notes what it saw."""

    def __init__(self, script: list[int]) -> None:
        self.script = script
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(BaseHTTPRequestHandler):
    server: Flaky

    def _answer(self) -> None:
        self.server.seen.append(self.command)
        status = self.server.script.pop(0) if self.server.script else 200
        body = json.dumps(PACKAGE if status < 400 else {"errors": [{"code": 0, "title": "HTTP", "detail": "busy"}]})
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[Flaky]:
    server = Flaky([])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(server: Flaky, sleeps: list[float]) -> PackagesClient:
    client = PackagesClient(f"http://127.0.0.1:{server.server_address[1]}", "t")
    client._sleep = sleeps.append
    return client


def test_a_get_is_retried_on_503_and_502_then_succeeds(flaky: Flaky) -> None:
    flaky.script = [503, 502]
    sleeps: list[float] = []
    with client_for(flaky, sleeps) as client:
        assert client.get_package("p1").state == "READY"
    assert flaky.seen == ["GET", "GET", "GET"]
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)


def test_retries_stop_after_two_and_the_last_answer_is_the_error(flaky: Flaky) -> None:
    flaky.script = [504, 504, 504, 504]
    with client_for(flaky, []) as client, pytest.raises(ServerError) as caught:
        client.get_package("p1")
    assert caught.value.status == 504 and len(flaky.seen) == 3


def test_a_post_that_reached_the_server_is_not_repeated(flaky: Flaky) -> None:
    flaky.script = [503]
    with client_for(flaky, []) as client, pytest.raises(ServerError):
        client.create_package("app")
    assert flaky.seen == ["POST"]


def test_a_refused_connection_is_retried_even_for_a_post() -> None:
    from tests.process.conftest import free_port

    sleeps: list[float] = []
    client = PackagesClient(f"http://127.0.0.1:{free_port()}", "t")
    client._sleep = sleeps.append
    with client, pytest.raises(Exception, match="onnect"):
        client.create_package("app")
    assert len(sleeps) == 2


def test_polling_starts_soon_and_backs_off_to_the_cf_cli_interval(flaky: Flaky) -> None:
    """The schedule of waits between looks at a package that takes its time."""
    sleeps: list[float] = []
    with client_for(flaky, sleeps) as client:
        states = iter(["PROCESSING_UPLOAD"] * 40 + ["READY"])

        def fetch() -> object:
            state = next(states)
            return type("P", (), {"state": state, "is_final": state == "READY"})()

        client._poll(fetch, "package", 600, None)
    assert sleeps[0] == FIRST_POLL
    assert sleeps == sorted(sleeps) and sleeps[-1] == MAX_POLL
