"""The community Python client (PyPI `cloudfoundry-client`) against a real server process."""

from __future__ import annotations

import subprocess

import httpx
from cloudfoundry_client.client import CloudFoundryClient
from cloudfoundry_client.v3.packages import PackageType

from tests.process.conftest import CLI, mint


def test_cloudfoundry_client_logs_in_and_manages_packages(server):
    url, env = server
    subprocess.run(
        [*CLI, "users", "add", "alice", "--password", "pw", "--admin"], env=env, check=True, capture_output=True
    )
    admin = {"Authorization": f"bearer {mint(env, '--user-id', 'root', '--admin')}"}
    org = httpx.post(f"{url}/v3/organizations", json={"name": "o"}, headers=admin).json()
    space = httpx.post(
        f"{url}/v3/spaces",
        json={"name": "s", "relationships": {"organization": {"data": {"guid": org["guid"]}}}},
        headers=admin,
    ).json()
    apps = [
        httpx.post(
            f"{url}/v3/apps",
            json={"name": n, "relationships": {"space": {"data": {"guid": space["guid"]}}}},
            headers=admin,
        ).json()
        for n in ("a", "b")
    ]

    client = CloudFoundryClient(url)
    client.init_with_user_credentials("alice", "pw")

    created = client.v3.packages.create(apps[0]["guid"], PackageType.BITS, meta_labels={"env": "test"})
    assert created["state"] == "AWAITING_UPLOAD"
    got = client.v3.packages.get(created["guid"])
    assert got["guid"] == created["guid"] and got["metadata"]["labels"] == {"env": "test"}
    listed = [p["guid"] for p in client.v3.packages.list(app_guids=apps[0]["guid"])]
    assert listed == [created["guid"]]
    docker = client.v3.packages.list(types="docker")
    assert list(docker) == []
    copy = client.v3.packages.copy(created["guid"], apps[1]["guid"])
    assert copy["state"] == "COPYING"
    assert {p["guid"] for p in client.v3.packages.list()} == {created["guid"], copy["guid"]}
