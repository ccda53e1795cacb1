"""`capi-packages serve` as a real process: migrate, listen, accept a token from `capi-packages token`."""

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


def test_served_process_lists_packages_for_a_token_minted_by_the_cli(server):
    url, env = server
    token = mint(env, "--user-id", "alice", "--admin")
    r = httpx.get(f"{url}/v3/packages", headers={"Authorization": f"bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["resources"] == []
    assert body["pagination"]["first"] == {"href": f"{url}/v3/packages?page=1&per_page=50"}


def test_served_process_runs_the_delete_job_in_its_worker(server):
    url, env = server
    h = {"Authorization": f"bearer {mint(env, '--user-id', 'alice', '--admin')}"}
    org = httpx.post(f"{url}/v3/organizations", json={"name": "o"}, headers=h).json()
    space = httpx.post(f"{url}/v3/spaces", json={"name": "s", "relationships": {"organization": {"data": {"guid": org["guid"]}}}}, headers=h).json()
    app = httpx.post(f"{url}/v3/apps", json={"name": "a", "relationships": {"space": {"data": {"guid": space["guid"]}}}}, headers=h).json()
    pkg = httpx.post(f"{url}/v3/packages", json={"type": "bits", "relationships": {"app": {"data": {"guid": app["guid"]}}}}, headers=h).json()
    r = httpx.delete(f"{url}/v3/packages/{pkg['guid']}", headers=h)
    assert r.status_code == 202
    job_url = r.headers["location"]
    deadline = time.monotonic() + 20
    while httpx.get(job_url, headers=h).json()["state"] != "COMPLETE":
        assert time.monotonic() < deadline, "delete job did not complete"
        time.sleep(0.2)
    assert httpx.get(f"{url}/v3/packages/{pkg['guid']}", headers=h).status_code == 404


def test_token_scope_flag_replaces_the_default_scopes(server):
    url, env = server
    token = mint(env, "--user-id", "bob", "--scope", "cloud_controller.write")
    r = httpx.get(f"{url}/v3/packages", headers={"Authorization": f"bearer {token}"})
    assert r.status_code == 403
    assert r.json()["errors"][0]["title"] == "CF-NotAuthorized"
