"""`capi-packages serve` as a real process: migrate, listen, accept a token from `capi-packages token`."""

from __future__ import annotations

import time

import httpx

from tests.process.conftest import mint


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
    space = httpx.post(
        f"{url}/v3/spaces",
        json={"name": "s", "relationships": {"organization": {"data": {"guid": org["guid"]}}}},
        headers=h,
    ).json()
    app = httpx.post(
        f"{url}/v3/apps", json={"name": "a", "relationships": {"space": {"data": {"guid": space["guid"]}}}}, headers=h
    ).json()
    pkg = httpx.post(
        f"{url}/v3/packages",
        json={"type": "bits", "relationships": {"app": {"data": {"guid": app["guid"]}}}},
        headers=h,
    ).json()
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


def test_a_token_minted_without_the_servers_port_setting_is_still_accepted(server):
    # The strict `iss` check must not bite the admin who runs `token` in another shell.
    url, env = server
    other_shell = {k: v for k, v in env.items() if k != "CAPI_PORT"}
    token = mint(other_shell, "--user-id", "alice", "--admin")
    r = httpx.get(f"{url}/v3/packages", headers={"Authorization": f"bearer {token}"})
    assert r.status_code == 200, r.text
