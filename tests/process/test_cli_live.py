"""The `capi-packages` client commands, run as real subprocesses against a real server process.

Every command goes through `python -m capi_cli` with `CAPI_API_URL`, `CAPI_TOKEN` and a
`CAPI_CONFIG` inside tmp_path, so a saved login never comes from (or goes to) the real home.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from capi_client import App, PackagesClient
from tests.process.conftest import CLI, free_port, mint, running_server

GUID_CHARS = set("0123456789abcdef-")


@dataclass
class Live:
    url: str
    env: dict[str, str]
    admin_token: str
    admin: PackagesClient
    org_guid: str
    space_guid: str

    def app(self, lifecycle: str = "buildpack") -> App:
        return self.admin.create_app(f"app-{uuid.uuid4().hex[:10]}", self.space_guid, lifecycle)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_server(tmp_path_factory.mktemp("cli-live")) as (url, env):
        token = mint(env, "--user-id", "root", "--admin")
        with PackagesClient(url, token) as admin:
            org = admin.create_organization(f"org-{uuid.uuid4().hex[:8]}")
            space = admin.create_space("space", org.guid)
            yield Live(url, env, token, admin, org.guid, space.guid)


@pytest.fixture
def cli(live: Live, tmp_path: Path) -> Any:
    """Run `python -m capi_cli ARGS`; the admin token and API URL come from the environment
    unless `token=`/`api=` say otherwise (None leaves the variable unset)."""
    config = tmp_path / "capi-config" / "config.json"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CAPI_")}

    def run(
        *args: str,
        token: str | None = live.admin_token,
        api: str | None = live.url,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        env = {**base_env, "CAPI_CONFIG": str(config)}
        if token is not None:
            env["CAPI_TOKEN"] = token
        if api is not None:
            env["CAPI_API_URL"] = api
        return subprocess.run(
            [sys.executable, "-m", "capi_cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    run.config = config  # type: ignore[attr-defined]
    return run


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(result).stdout)


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10))
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, content)
    return path


def zip_contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


# -- packages list / create / get / update ---------------------------------------------------


def test_packages_create_get_and_list_print_details_tables_and_json(live: Live, cli: Any) -> None:
    app = live.app()
    created = as_json(
        cli(
            "packages",
            "create",
            "--app",
            app.guid,
            "--label",
            "env=cli",
            "--annotation",
            "a=b",
            "--json",
        )
    )
    assert (created["type"], created["state"]) == ("bits", "AWAITING_UPLOAD")
    assert created["relationships"]["app"]["data"]["guid"] == app.guid
    assert created["metadata"] == {"labels": {"env": "cli"}, "annotations": {"a": "b"}}

    human = ok(cli("packages", "get", created["guid"])).stdout
    assert f"guid:        {created['guid']}" in human
    assert "state:       AWAITING_UPLOAD" in human and "labels:      env=cli" in human
    assert as_json(cli("packages", "get", created["guid"], "--json")) == created

    second = as_json(cli("packages", "create", "--app", app.guid, "--json"))
    listed = as_json(cli("packages", "list", "--app", app.guid, "--json"))
    assert [p["guid"] for p in listed] == [created["guid"], second["guid"]]
    # Every page is fetched unless --page is given.
    paged = as_json(cli("packages", "list", "--app", app.guid, "--per-page", "1", "--json"))
    assert [p["guid"] for p in paged] == [created["guid"], second["guid"]]
    only_first = as_json(cli("packages", "list", "--app", app.guid, "--per-page", "1", "--page", "2", "--json"))
    assert [p["guid"] for p in only_first] == [second["guid"]]
    labelled = as_json(cli("packages", "list", "--app", app.guid, "-l", "env=cli", "--json"))
    assert [p["guid"] for p in labelled] == [created["guid"]]
    assert as_json(cli("packages", "list", "--app", app.guid, "--state", "READY", "--json")) == []

    table = ok(cli("packages", "list", "--app", app.guid)).stdout.splitlines()
    assert table[0].split() == ["guid", "type", "state", "app", "created"]
    assert [line.split()[:4] for line in table[1:]] == [
        [created["guid"], "bits", "AWAITING_UPLOAD", app.guid],
        [second["guid"], "bits", "AWAITING_UPLOAD", app.guid],
    ]


def test_a_docker_package_is_created_ready_from_the_command_line(live: Live, cli: Any) -> None:
    app = live.app("docker")
    created = as_json(
        cli(
            "packages",
            "create",
            "--app",
            app.guid,
            "--type",
            "docker",
            "--image",
            "nginx:1.27",
            "--username",
            "bob",
            "--password",
            "secret",
            "--json",
        )
    )
    assert (created["type"], created["state"], created["data"]["image"]) == (
        "docker",
        "READY",
        "nginx:1.27",
    )
    assert created["data"]["password"] == "***"
    human = ok(cli("packages", "get", created["guid"])).stdout
    assert "image:       nginx:1.27" in human and "secret" not in human


def test_packages_update_sets_and_deletes_labels_like_kubectl(live: Live, cli: Any) -> None:
    app = live.app()
    created = as_json(
        cli(
            "packages",
            "create",
            "--app",
            app.guid,
            "--label",
            "old=1",
            "--label",
            "keep=2",
            "--json",
        )
    )
    updated = as_json(
        cli(
            "packages",
            "update",
            created["guid"],
            "--label",
            "env=prod",
            "--label",
            "old-",
            "--annotation",
            "note=hello",
            "--json",
        )
    )
    assert updated["metadata"]["labels"] == {"keep": "2", "env": "prod"}
    assert updated["metadata"]["annotations"] == {"note": "hello"}
    assert live.admin.get_package(created["guid"]).labels == {"keep": "2", "env": "prod"}
    bad = cli("packages", "update", created["guid"], "--label", "nonsense")
    assert bad.returncode == 2 and "KEY=VALUE or KEY-" in bad.stderr


# -- bits: upload, download, copy, delete ----------------------------------------------------


def test_upload_wait_then_download_saves_the_zip_the_server_stored(live: Live, cli: Any, tmp_path: Path) -> None:
    app = live.app()
    files = {"index.html": b"<p>cli</p>", "lib/app.py": b"print('cli')\n" * 50}
    source = write_zip(tmp_path / "app.zip", files)
    created = as_json(cli("packages", "create", "--app", app.guid, "--json"))
    ready = as_json(cli("packages", "upload", created["guid"], str(source), "--wait", "--json"))
    assert ready["state"] == "READY" and ready["data"]["checksum"]["type"] == "sha256"

    target = tmp_path / "out" / "back.zip"
    target.parent.mkdir()
    result = ok(cli("packages", "download", created["guid"], "-o", str(target)))
    data = target.read_bytes()
    assert result.stdout == ""
    assert result.stderr.strip() == f"Saved {len(data)} bytes to {target}"
    assert hashlib.sha256(data).hexdigest() == ready["data"]["checksum"]["value"]
    assert zip_contents(target) == files
    assert [p.name for p in target.parent.iterdir()] == ["back.zip"]

    info = as_json(cli("packages", "download", created["guid"], "-o", str(tmp_path / "again.zip"), "--json"))
    assert info == {
        "guid": created["guid"],
        "path": str(tmp_path / "again.zip"),
        "bytes": len(data),
    }
    to_stdout = subprocess.run(
        [sys.executable, "-m", "capi_cli", "packages", "download", created["guid"], "-o", "-"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("CAPI_")},
            "CAPI_API_URL": live.url,
            "CAPI_TOKEN": live.admin_token,
            "CAPI_CONFIG": str(tmp_path / "c.json"),
        },
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert to_stdout.returncode == 0 and to_stdout.stdout == data

    again = cli("packages", "upload", created["guid"], str(source))
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "CF-PackageBitsAlreadyUploaded: Bits may be uploaded only once. Create a new package to upload different bits."
    )


def test_upload_wait_of_a_non_zip_exits_5_with_the_package_error(live: Live, cli: Any, tmp_path: Path) -> None:
    app = live.app()
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"definitely not a zip")
    created = as_json(cli("packages", "create", "--app", app.guid, "--json"))
    result = cli("packages", "upload", created["guid"], str(junk), "--wait")
    assert result.returncode == 5
    assert result.stderr.strip().startswith("PackageFailed: The app upload is invalid: Invalid zip archive")
    waited = cli("packages", "wait", created["guid"])
    assert waited.returncode == 5 and waited.stderr.startswith("PackageFailed: ")


def test_copy_wait_prints_the_ready_copy_in_the_other_app(live: Live, cli: Any, tmp_path: Path) -> None:
    source_app, target_app = live.app(), live.app()
    created = as_json(cli("packages", "create", "--app", source_app.guid, "--json"))
    ready = as_json(
        cli(
            "packages",
            "upload",
            created["guid"],
            str(write_zip(tmp_path / "a.zip", {"a": b"A"})),
            "--wait",
            "--json",
        )
    )
    copy = as_json(cli("packages", "copy", created["guid"], "--app", target_app.guid, "--wait", "--json"))
    assert copy["guid"] != created["guid"] and copy["state"] == "READY"
    assert copy["relationships"]["app"]["data"]["guid"] == target_app.guid
    assert copy["data"]["checksum"] == ready["data"]["checksum"]
    no_wait = as_json(cli("packages", "copy", created["guid"], "--app", target_app.guid, "--json"))
    assert no_wait["state"] == "COPYING"


def test_delete_wait_shows_the_complete_job_and_then_get_exits_3(live: Live, cli: Any) -> None:
    app = live.app()
    created = as_json(cli("packages", "create", "--app", app.guid, "--json"))
    result = ok(cli("packages", "delete", created["guid"], "--wait"))
    lines = result.stdout.splitlines()
    assert lines[1:3] == ["operation: package.delete", "state:     COMPLETE"]
    gone = cli("packages", "get", created["guid"])
    assert gone.returncode == 3 and gone.stdout == ""
    assert gone.stderr == "CF-ResourceNotFound: Package not found\n"
    other = as_json(cli("packages", "create", "--app", app.guid, "--json"))
    job = as_json(cli("packages", "delete", other["guid"], "--wait", "--json"))
    assert (job["operation"], job["state"], job["errors"]) == ("package.delete", "COMPLETE", [])


# -- push ------------------------------------------------------------------------------------


def test_push_prints_only_the_package_guid_and_honours_cfignore(live: Live, cli: Any, tmp_path: Path) -> None:
    app = live.app()
    root = tmp_path / "site"
    (root / "lib").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<h1>pushed</h1>")
    (root / "lib" / "big.bin").write_bytes(os.urandom(80 * 1024))
    (root / "start.sh").write_bytes(b"#!/bin/sh\nexec true\n")
    (root / "start.sh").chmod(0o755)
    (root / "notes.txt").write_bytes(b"private")
    (root / ".cfignore").write_text("notes.txt\n")
    (root / "manifest.yml").write_text("applications: []\n")

    result = ok(cli("push", str(root), "--app-guid", app.guid))
    guid = result.stdout.strip()
    assert result.stdout == guid + "\n" and set(guid) <= GUID_CHARS and len(guid) == 36
    assert "files" in result.stderr  # progress reports go to stderr only
    package = live.admin.get_package(guid)
    assert (package.state, package.app_guid) == ("READY", app.guid)
    sink = io.BytesIO()
    live.admin.download_bits(guid, sink)
    with zipfile.ZipFile(sink) as archive:
        names = {info.filename: info for info in archive.infolist()}
        assert set(names) == {"index.html", "lib/big.bin", "start.sh"}
        assert stat.S_IMODE(names["start.sh"].external_attr >> 16) == 0o755

    # Pushed again unchanged, the package is a copy made on the server; the result is the same.
    again = ok(cli("push", str(root), "--app-guid", app.guid, "--json"))
    pushed = json.loads(again.stdout)
    assert pushed["state"] == "READY" and pushed["guid"] != guid
    # The summary goes to stderr with --json too, and into the JSON.
    assert f"unchanged since package {guid}" in again.stderr
    assert (pushed["push"]["copied_from"], pushed["push"]["bytes_sent"]) == (guid, 0)
    sink = io.BytesIO()
    live.admin.download_bits(pushed["guid"], sink)
    with zipfile.ZipFile(sink) as archive:
        assert archive.read("lib/big.bin") == (root / "lib" / "big.bin").read_bytes()


# -- errors and exit codes -------------------------------------------------------------------


def test_exit_codes_are_3_for_not_found_4_for_auth_and_1_for_other_api_errors(live: Live, cli: Any) -> None:
    missing = str(uuid.uuid4())
    result = cli("packages", "get", missing)
    assert (result.returncode, result.stderr) == (3, "CF-ResourceNotFound: Package not found\n")
    result = cli("packages", "list", "--app", missing)  # filters: an empty list, not an error
    assert (result.returncode, result.stdout.split()) == (
        0,
        ["guid", "type", "state", "app", "created"],
    )

    result = cli("packages", "list", token="garbage")
    assert (result.returncode, result.stderr.splitlines()[0]) == (4, "CF-InvalidAuthToken: Invalid Auth Token")
    result = cli("packages", "get", missing, token=None)
    assert (result.returncode, result.stderr.splitlines()[0]) == (4, "CF-NotAuthenticated: Authentication error")

    app = live.app()
    auditor = f"auditor-{uuid.uuid4().hex[:8]}"
    live.admin.create_role("organization_user", auditor, org_guid=live.org_guid)
    live.admin.create_role("space_auditor", auditor, space_guid=live.space_guid)
    result = cli("packages", "create", "--app", app.guid, token=mint(live.env, "--user-id", auditor))
    assert (result.returncode, result.stderr) == (
        4,
        "CF-NotAuthorized: You are not authorized to perform the requested action\n",
    )

    result = cli("packages", "create", "--app", missing)
    assert (result.returncode, result.stderr) == (
        1,
        "CF-UnprocessableEntity: App is invalid. Ensure it exists and you have access to it.\n",
    )
    # A query the CLI cannot judge itself (its enum options it checks first, exit 2) is the server's 400.
    result = cli("packages", "list", "--label-selector", "env in (")
    assert result.returncode == 1
    assert result.stderr == "CF-BadQueryParameter: The query parameter is invalid: Invalid label_selector value\n"


def test_usage_errors_exit_2(live: Live, cli: Any, tmp_path: Path) -> None:
    for args in (
        ("packages", "create"),  # --app is required
        ("packages", "frobnicate"),
        ("packages", "list", "--per-page", "0"),
        ("packages", "create", "--app", "x", "--type", "docker"),  # a docker package needs --image
        ("packages", "upload", "guid", str(tmp_path / "missing.zip")),
        ("push", str(tmp_path / "no-such-dir"), "--app", "x"),
    ):
        result = cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == "" and "Error" in result.stderr
    no_api = cli("packages", "list", api=None)
    assert no_api.returncode == 2 and "no API URL" in no_api.stderr


def test_unreachable_api_exits_1_with_the_transport_error(cli: Any) -> None:
    result = cli("packages", "list", api=f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1 and result.stderr.startswith("Cannot connect to ")


# -- login -----------------------------------------------------------------------------------


def test_login_saves_the_tokens_and_later_commands_use_them_without_capi_token(live: Live, cli: Any) -> None:
    username = f"dev{uuid.uuid4().hex[:8]}"
    added = subprocess.run(
        [*CLI, "users", "add", username, "--password", "s3cret"],
        env=live.env,
        capture_output=True,
        text=True,
        check=True,
    )
    user_guid = added.stdout.strip()
    live.admin.create_role("organization_user", user_guid, org_guid=live.org_guid)
    live.admin.create_role("space_developer", user_guid, space_guid=live.space_guid)
    app = live.app()
    package = live.admin.create_package(app.guid)

    wrong = cli("login", "--api", live.url, "-u", username, "-p", "nope", token=None, api=None)
    assert wrong.returncode == 4 and wrong.stderr == "unauthorized: Bad credentials\n"
    assert not cli.config.exists()

    result = ok(cli("login", "--api", live.url, "-u", username, "-p", "s3cret", token=None, api=None))
    assert result.stdout == f"Logged in to {live.url} as {username}.\n"
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600
    saved = json.loads(cli.config.read_text())
    assert saved["api_url"] == live.url and saved["username"] == username
    assert saved["access_token"].startswith("bearer ") and saved["refresh_token"]

    # Neither CAPI_TOKEN nor CAPI_API_URL: both come from the saved login.
    listed = as_json(cli("packages", "list", "--app", app.guid, "--json", token=None, api=None))
    assert [p["guid"] for p in listed] == [package.guid]
    created = as_json(cli("packages", "create", "--app", app.guid, "--json", token=None, api=None))
    assert created["state"] == "AWAITING_UPLOAD"
    assert as_json(cli("target", "--json", token=None, api=None)) == {
        "api_url": live.url,
        "username": username,
        "organization": None,
        "space": None,
    }

    assert ok(cli("logout", token=None, api=None)).stdout == "Logged out.\n"
    after = cli("packages", "list", token=None, api=None)
    assert (after.returncode, after.stderr) == (
        4,
        "CF-NotAuthenticated: Authentication error\nNot logged in: run: capi-packages login\n",
    )


# -- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("packages",),
        ("packages", "list"),
        ("packages", "get"),
        ("packages", "create"),
        ("packages", "update"),
        ("packages", "delete"),
        ("packages", "upload"),
        ("packages", "download"),
        ("packages", "copy"),
        ("packages", "wait"),
        ("push",),
        ("login",),
        ("logout",),
        ("target",),
    ],
    ids=" ".join,
)
def test_help_of_each_client_command_shows_an_example(cli: Any, command: tuple[str, ...]) -> None:
    result = ok(cli(*command, "--help", token=None, api=None))
    assert result.stdout.startswith("Usage: ")
    assert "Example" in result.stdout
    assert f"capi-packages {' '.join(command)}" in result.stdout
