"""SIGTERM: the server stops accepting, lets in-flight requests finish (bounded), then exits cleanly."""

from __future__ import annotations

import signal
import time

import pytest

from tests.factories import make_zip
from tests.process.conftest import PROCESSES, mint, running_server
from tests.process.edge_support import close_all, connect, head_bytes, multipart_head, new_package, read_answer


@pytest.fixture(autouse=True)
def _close_sockets():
    yield
    close_all()


def refused(url: str) -> bool:
    try:
        connect(url, timeout=1).close()
    except OSError:
        return True
    return False


def test_an_upload_in_flight_at_sigterm_completes_and_the_server_then_exits(tmp_path):
    with running_server(tmp_path, CAPI_SHUTDOWN_TIMEOUT_SECONDS="20") as (url, env):
        proc = PROCESSES[url]
        admin = {"Authorization": f"bearer {mint(env, '--user-id', 'root', '--admin')}"}
        guid = new_package(url, admin)
        boundary = "b0undary"
        body = (
            multipart_head(boundary, "bits", "package.zip")
            + make_zip({"index.js": "ok"})
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {
            **admin,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(body)),
        }
        sock = connect(url)
        sock.sendall(head_bytes("POST", f"/v3/packages/{guid}/upload", headers) + body[:100])
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not refused(url):
            assert time.monotonic() < deadline, "the server kept accepting after SIGTERM"
            time.sleep(0.1)
        sock.sendall(body[100:])
        answer = read_answer(sock)
        assert answer.status == 200, answer
        assert answer.json()["state"] == "PROCESSING_UPLOAD"
        # uvicorn re-raises the signal once it has shut down, so supervisors see "stopped by SIGTERM".
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)


def test_a_request_that_outlasts_the_shutdown_timeout_is_cut_and_the_server_exits(tmp_path):
    with running_server(tmp_path, CAPI_SHUTDOWN_TIMEOUT_SECONDS="1", CAPI_HTTP_BODY_TIMEOUT_SECONDS="60") as (url, env):
        proc = PROCESSES[url]
        admin = {"Authorization": f"bearer {mint(env, '--user-id', 'root', '--admin')}"}
        guid = new_package(url, admin)
        headers = {**admin, "Content-Type": "multipart/form-data; boundary=b", "Content-Length": "1000000"}
        sock = connect(url)
        sock.sendall(head_bytes("POST", f"/v3/packages/{guid}/upload", headers) + multipart_head("b", "bits", "p"))
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        assert time.monotonic() - started < 10
        # The cut request's staging file went with it.
        assert list((tmp_path / "data" / "blobstore" / "staging").glob("*")) == []
