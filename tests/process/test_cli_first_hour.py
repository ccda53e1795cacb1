"""What a newcomer meets in the CLI, against a real server process: setup by name, a target,
push by app name, scriptable output, and errors that say what to do.

Every command runs as `python -m capi_cli` in a subprocess with its own saved-login file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.process.conftest import free_port, mint, running_server


@dataclass
class World:
    url: str
    env: dict[str, str]
    admin_token: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_server(tmp_path_factory.mktemp("first-hour")) as (url, env):
        yield World(url, env, mint(env, "--user-id", "root", "--admin"))


@pytest.fixture
def cli(world: World, tmp_path: Path) -> Any:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAPI_")}
    config = tmp_path / "config.json"

    def run(*args: str, token: str | None = world.admin_token, api: str | None = world.url, shell: str = "") -> Any:
        env = {**base, "CAPI_CONFIG": str(config)}
        if token is not None:
            env["CAPI_TOKEN"] = token
        if api is not None:
            env["CAPI_API_URL"] = api
        command: Any = [sys.executable, "-m", "capi_cli", *args]
        if shell:
            command = " ".join([sys.executable, "-m", "capi_cli", *args]) + shell
        return subprocess.run(
            command,
            shell=bool(shell),
            executable="/bin/bash" if shell else None,
            env=env,
            capture_output=True,
            text=not shell,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    return run


def names() -> tuple[str, str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"org-{tag}", f"space-{tag}", f"app-{tag}"


def test_a_first_push_by_names_with_the_cli_alone(cli: Any, tmp_path: Path) -> None:
    org, space, app = names()
    org_guid = cli("orgs", "create", org, "-q").stdout.strip()
    space_guid = cli("spaces", "create", space, "-o", org, "-q").stdout.strip()
    assert cli("target", "-o", org, "-s", space).returncode == 0
    shown = json.loads(cli("target", "--json").stdout)
    assert (shown["organization"], shown["space"]) == (org, space)
    app_guid = cli("apps", "create", app, "-q").stdout.strip()
    assert json.loads(cli("apps", "list", "--json").stdout)[0]["guid"] == app_guid
    assert space_guid in cli("spaces", "list", "-o", org).stdout
    assert org_guid in cli("orgs", "list").stdout

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>hi</h1>\n")
    (tmp_path / "site" / "empty").mkdir()
    pushed = cli("push", str(tmp_path / "site"), "--app", app)
    assert pushed.returncode == 0, pushed.stderr
    package_guid = pushed.stdout.strip()
    assert len(package_guid) == 36
    # The summary goes to stderr, where a captured guid never sees it.
    assert "1 files, 1 directories" in pushed.stderr and "uploaded in a" in pushed.stderr

    as_json = json.loads(cli("push", str(tmp_path / "site"), "--app", app, "--json").stdout)
    assert as_json["state"] == "READY"
    assert as_json["push"]["files"] == 1 and as_json["push"]["directories"] == 1
    # The same tree again: copied on the server from the first push, nothing sent.
    assert as_json["push"]["bytes_sent"] == 0 and as_json["push"]["copied_from"] == package_guid

    quiet = cli("push", str(tmp_path / "site"), "--app", app, "-q")
    assert quiet.stderr == "" and len(quiet.stdout.strip()) == 36

    other_guid = cli("apps", "create", app + "-copy", "-q").stdout.strip()
    copied = cli("packages", "copy", package_guid, "--app", other_guid, "-q")
    assert copied.returncode == 0 and len(copied.stdout.strip()) == 36
    created = cli("packages", "create", "--app", app_guid, "-q")
    assert created.returncode == 0 and len(created.stdout.strip()) == 36

    assert cli("apps", "delete", app, "--wait").returncode == 0
    assert cli("apps", "delete", app + "-copy", "--wait").returncode == 0
    assert cli("spaces", "delete", space, "-o", org, "--wait").returncode == 0
    assert cli("orgs", "delete", org, "--wait").returncode == 0


def test_push_to_an_unknown_app_name_says_how_to_create_it(cli: Any, tmp_path: Path) -> None:
    org, space, app = names()
    cli("orgs", "create", org, "-q")
    cli("spaces", "create", space, "-o", org, "-q")
    (tmp_path / "a.txt").write_text("a")
    refused = cli("push", str(tmp_path), "--app", app, "-s", space, "-o", org)
    assert refused.returncode == 2 and "--create-app" in refused.stderr
    made = cli("push", str(tmp_path), "--app", app, "-s", space, "-o", org, "--create-app")
    assert made.returncode == 0, made.stderr
    assert f"created app {app}" in made.stderr


def test_a_space_role_for_a_user_guid_makes_them_an_org_user_first(cli: Any, world: World) -> None:
    org, space, _ = names()
    cli("orgs", "create", org, "-q")
    space_guid = cli("spaces", "create", space, "-o", org, "-q").stdout.strip()
    user = str(uuid.uuid4())
    added = cli("roles", "add", user, "space_developer", "-o", org, "-s", space, "--guid", "-q")
    assert added.returncode == 0, added.stderr
    in_org = json.loads(cli("roles", "list", "-o", org, "--json").stdout)
    assert [r["type"] for r in in_org if r["relationships"]["user"]["data"]["guid"] == user] == ["organization_user"]
    in_space = json.loads(cli("roles", "list", "-o", org, "-s", space, "--json").stdout)
    assert [(r["type"], r["relationships"]["space"]["data"]["guid"]) for r in in_space] == [
        ("space_developer", space_guid)
    ]
    assert cli("roles", "delete", added.stdout.strip(), "--wait").returncode == 0


def test_connection_refused_names_the_url_and_what_to_check(cli: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = cli("packages", "list", api=url)
    assert result.returncode == 1
    first, hint = result.stderr.splitlines()
    assert first.startswith(f"Cannot connect to {url}: ")
    assert "capi-packages serve" in hint and "capi-packages target" in hint


def test_no_token_and_no_saved_login_says_to_log_in(cli: Any) -> None:
    result = cli("packages", "list", token=None)
    assert result.returncode == 4
    assert result.stderr.splitlines() == [
        "CF-NotAuthenticated: Authentication error",
        "Not logged in: run: capi-packages login",
    ]


def test_an_api_url_below_the_root_is_refused_with_the_root(cli: Any, world: World) -> None:
    result = cli("packages", "list", api=world.url + "/v3")
    assert result.returncode == 2
    assert f"{world.url}/v3 is not the API root: use {world.url}" in result.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("packages", "list", "--state", "BOGUS"), "--state"),
        (("packages", "list", "--type", "tarball"), "--type"),
        (("packages", "list", "--order-by", "name"), "--order-by"),
    ],
)
def test_enum_options_are_checked_before_any_request(cli: Any, args: tuple[str, ...], option: str) -> None:
    result = cli(*args, api="http://127.0.0.1:9")  # nothing listens there: no request may be needed
    assert result.returncode == 2 and option in result.stderr and result.stdout == ""


def test_lower_case_states_are_accepted(cli: Any) -> None:
    assert cli("packages", "list", "--state", "ready").returncode == 0


def test_download_into_a_missing_folder_names_the_users_path(cli: Any, world: World, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "app.zip"
    result = cli("packages", "download", str(uuid.uuid4()), "-o", str(target))
    # The package does not exist either; the file error must not name a temporary file.
    assert ".part" not in result.stderr
    org, space, app = names()
    cli("orgs", "create", org, "-q")
    cli("spaces", "create", space, "-o", org, "-q")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    guid = cli("push", str(tmp_path / "src"), "--app", app, "-s", space, "-o", org, "--create-app", "-q").stdout.strip()
    result = cli("packages", "download", guid, "-o", str(target))
    assert result.returncode == 1
    assert result.stderr.strip() == f"No such directory: {target}"


def test_a_closed_stdout_ends_the_download_quietly(cli: Any, tmp_path: Path) -> None:
    org, space, app = names()
    cli("orgs", "create", org, "-q")
    cli("spaces", "create", space, "-o", org, "-q")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    guid = cli("push", str(tmp_path / "src"), "--app", app, "-s", space, "-o", org, "--create-app", "-q").stdout.strip()
    result = cli("packages", "download", guid, "-o", "-", shell=" | head -c 10 > /dev/null; echo ${PIPESTATUS[0]} >&2")
    assert b"Traceback" not in result.stderr and b"BrokenPipe" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == b"141"
