"""A real `capi-packages serve` process on a free port, with its data dir and environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "capi_cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "CAPI_DATA_DIR": str(tmp_path / "data"), "CAPI_PORT": str(port), "CAPI_LOG_LEVEL": "warning"}
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 (closed in teardown)
    proc = subprocess.Popen([*CLI, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/", timeout=1)
            break
        except httpx.TransportError:
            if proc.poll() is not None:
                log.close()
                raise AssertionError((tmp_path / "serve.log").read_text()) from None
            time.sleep(0.1)
    else:
        proc.kill()
        proc.wait()
        log.close()
        raise AssertionError("serve did not start")
    yield url, env
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def mint(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([*CLI, "token", *args], env=env, capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


