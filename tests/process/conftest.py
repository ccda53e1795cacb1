"""A real `capi-packages serve` process on a free port, with its data dir and environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "capi_cli"]
# The process behind each running server's URL, for tests that watch its memory or signal it.
PROCESSES: dict[str, subprocess.Popen[bytes]] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    base: Path, *, nofile: int | None = None, serve_args: tuple[str, ...] = (), **extra_env: str
) -> Iterator[tuple[str, dict[str, str]]]:
    """`capi-packages serve` on a free port with its data dir under `base`; stopped on exit.

    `nofile` lowers the process's descriptor limit (RLIMIT_NOFILE) from its start."""
    port = free_port()
    env = {
        **os.environ,
        "CAPI_DATA_DIR": str(base / "data"),
        "CAPI_PORT": str(port),
        "CAPI_LOG_LEVEL": "warning",
        **extra_env,
    }
    log_path = base / "serve.log"
    with open(log_path, "wb") as log:
        # prlimit, not preexec_fn: a callback between fork and exec can deadlock a threaded parent.
        limit = [] if nofile is None else ["prlimit", f"--nofile={nofile}:{nofile}", "--"]
        proc = subprocess.Popen([*limit, *CLI, "serve", *serve_args], env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        PROCESSES[url] = proc
        try:
            deadline = time.monotonic() + 120  # a loaded machine imports slowly
            while True:
                try:
                    httpx.get(url + "/", timeout=1)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(log_path.read_text()) from None
                    time.sleep(0.1)
            yield url, env
        finally:
            PROCESSES.pop(url, None)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    with running_server(tmp_path) as started:
        yield started


def mint(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([*CLI, "token", *args], env=env, capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


# The client tests' module-scoped server and admin client, shared by the files that use them.
from tests.process.client_live_support import admin, live  # noqa: E402, F401
