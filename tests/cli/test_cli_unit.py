"""The client commands through click's CliRunner, talking to the fake API."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner, Result

from capi_cli import client_commands, output
from capi_cli import session as session_module
from capi_cli.main import main as cli_main
from tests.client.fake_api import API, TOKEN, FakeApi, envelope, parse_multipart, part_name

AUTH = ["--api", API, "--token", TOKEN]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeApi:
    api = FakeApi()
    monkeypatch.setattr(session_module, "http_client_factory", api.client)
    monkeypatch.setenv("CAPI_CONFIG", str(tmp_path / "capi" / "config.json"))
    monkeypatch.delenv("CAPI_API_URL", raising=False)
    monkeypatch.delenv("CAPI_TOKEN", raising=False)
    monkeypatch.setattr("capi_client.client.time.sleep", lambda _s: None)
    return api


@pytest.fixture
def main() -> click.Group:
    # The installed command itself: every module's commands, registered once at import.
    return cli_main


def run(main: click.Group, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def details(stdout: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in stdout.splitlines())
    return {name: value.strip() for name, value in pairs}


def small_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "print('hi')\n")
    return buffer.getvalue()


# -- output and exit codes -------------------------------------------------------------------


def test_get_prints_details_for_people_and_json_for_programs(fake: FakeApi, main: click.Group) -> None:
    package = fake.add_package(state="READY")
    result = run(main, "packages", "get", package["guid"], *AUTH)
    assert result.exit_code == 0
    assert details(result.stdout)["guid"] == package["guid"]
    assert details(result.stdout)["state"] == "READY"
    result = run(main, "packages", "get", package["guid"], *AUTH, "--json")
    assert json.loads(result.stdout) == package


@pytest.mark.parametrize(
    ("answer", "code", "message"),
    [
        (envelope(404, "CF-ResourceNotFound", "Package not found", 10010), 3, "CF-ResourceNotFound: Package not found"),
        (
            envelope(401, "CF-InvalidAuthToken", "Invalid Auth Token", 1000),
            4,
            "CF-InvalidAuthToken: Invalid Auth Token",
        ),
        (
            envelope(403, "CF-NotAuthorized", "You are not authorized", 10003),
            4,
            "CF-NotAuthorized: You are not authorized",
        ),
        (
            envelope(422, "CF-UnprocessableEntity", "Package type must be bits.", 10008),
            1,
            "CF-UnprocessableEntity: Package type must be bits.",
        ),
        (httpx.Response(503, text="upstream down"), 1, "HTTP 503: upstream down"),
    ],
)
def test_api_errors_print_title_and_detail_with_their_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    main: click.Group,
    answer: httpx.Response,
    code: int,
    message: str,
) -> None:
    monkeypatch.setattr(
        session_module,
        "http_client_factory",
        lambda: httpx.Client(transport=httpx.MockTransport(lambda _r: answer)),
    )
    result = run(main, "packages", "get", "pkg-1", *AUTH)
    assert (result.exit_code, result.stderr.splitlines()[0], result.stdout) == (code, message, "")


def test_connection_errors_exit_1(monkeypatch: pytest.MonkeyPatch, main: click.Group) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(
        session_module, "http_client_factory", lambda: httpx.Client(transport=httpx.MockTransport(refuse))
    )
    result = run(main, "packages", "get", "pkg-1", *AUTH)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Cannot connect to http://api.test: connection refused",
        "Check that the server is running (capi-packages serve) and that the API URL is right "
        "(capi-packages target, or --api / CAPI_API_URL).",
    ]


def test_a_failed_package_exits_5_and_a_timeout_exits_6(fake: FakeApi, main: click.Group) -> None:
    fake.fail_upload_with = "The app upload is invalid: Invalid zip archive."
    package = fake.add_package(state="PROCESSING_UPLOAD")
    result = run(main, "packages", "wait", package["guid"], *AUTH)
    assert result.exit_code == 5
    assert result.stderr.strip() == "PackageFailed: The app upload is invalid: Invalid zip archive."
    fake.fail_upload_with, fake.polls_until_ready = None, 10**6
    other = fake.add_package(state="PROCESSING_UPLOAD")
    result = run(main, "packages", "wait", other["guid"], *AUTH, "--timeout", "0")
    assert result.exit_code == 6 and result.stderr.startswith("Timeout: package")


def test_usage_errors_exit_2(fake: FakeApi, main: click.Group) -> None:
    result = run(main, "packages", "get", "pkg-1")
    assert result.exit_code == 2 and "no API URL" in result.stderr
    assert run(main, "packages", "update", "pkg-1", *AUTH, "--label", "nonsense").exit_code == 2
    assert run(main, "packages", "create", "--app", "a", "--type", "docker", *AUTH).exit_code == 2
    assert run(main, "packages", "create", *AUTH).exit_code == 2
    assert fake.requests == []


def test_warnings_go_to_stderr(monkeypatch: pytest.MonkeyPatch, fake: FakeApi, main: click.Group) -> None:
    package = fake.add_package()
    handle = fake.handle

    def warn(request: httpx.Request) -> httpx.Response:
        response = handle(request)
        response.headers["X-Cf-Warnings"] = "be+careful"
        return response

    monkeypatch.setattr(
        session_module, "http_client_factory", lambda: httpx.Client(transport=httpx.MockTransport(warn))
    )
    result = run(main, "packages", "get", package["guid"], *AUTH)
    assert "Warning: be careful" in result.stderr and "Warning" not in result.stdout


# -- each command -----------------------------------------------------------------------------


def test_list_walks_every_page_with_filters(fake: FakeApi, main: click.Group) -> None:
    guids = [fake.add_package(state="READY")["guid"] for _ in range(5)]
    result = run(
        main,
        "packages",
        "list",
        *AUTH,
        "--per-page",
        "2",
        "--state",
        "READY",
        "--json",
        "--created-at",
        "gt:2026-01-01T00:00:00Z",
        "--created-at",
        "lt:2027-01-01T00:00:00Z",
    )
    assert [p["guid"] for p in json.loads(result.stdout)] == guids
    first = fake.requests[0].url.params
    assert first["states"] == "READY" and first["created_ats[gt]"] == "2026-01-01T00:00:00Z"
    assert first["created_ats[lt]"] == "2027-01-01T00:00:00Z" and len(fake.requests) == 3
    page = run(main, "packages", "list", *AUTH, "--page", "1", "--per-page", "2")
    table = page.stdout.splitlines()
    assert table[0].split() == ["guid", "type", "state", "app", "created"] and len(table) == 3


def test_list_passes_every_filter(fake: FakeApi, main: click.Group) -> None:
    run(
        main,
        "packages",
        "list",
        *AUTH,
        "--app",
        "a1",
        "--app",
        "a2",
        "--guid",
        "g",
        "--type",
        "bits",
        "--space",
        "s",
        "--org",
        "o",
        "-l",
        "env=prod",
        "--order-by",
        "-created_at",
        "--updated-at",
        "2026-01-01T00:00:00Z",
    )
    assert dict(fake.requests[0].url.params) == {
        "app_guids": "a1,a2",
        "guids": "g",
        "types": "bits",
        "space_guids": "s",
        "organization_guids": "o",
        "label_selector": "env=prod",
        "order_by": "-created_at",
        "updated_ats": "2026-01-01T00:00:00Z",
    }


def test_create_update_and_copy(fake: FakeApi, main: click.Group) -> None:
    result = run(main, "packages", "create", "--app", "app-1", "--label", "env=prod", *AUTH, "--json")
    created = json.loads(result.stdout)
    assert json.loads(fake.requests[-1].content) == {
        "type": "bits",
        "relationships": {"app": {"data": {"guid": "app-1"}}},
        "metadata": {"labels": {"env": "prod"}},
    }
    fake.packages[created["guid"]]["metadata"]["labels"]["old"] = "x"
    run(
        main,
        "packages",
        "update",
        created["guid"],
        "--label",
        "tier=",
        "--label",
        "old-",
        "--annotation",
        "note=a=b",
        *AUTH,
    )
    assert json.loads(fake.requests[-1].content) == {
        "metadata": {"labels": {"tier": "", "old": None}, "annotations": {"note": "a=b"}},
    }
    assert fake.packages[created["guid"]]["metadata"]["labels"] == {"env": "prod", "tier": ""}
    fake.bits[created["guid"]] = b"zip"
    result = run(main, "packages", "copy", created["guid"], "--app", "app-2", "--wait", *AUTH)
    assert result.exit_code == 0 and details(result.stdout)["state"] == "READY"
    assert dict(fake.requests[-2].url.params) == {"source_guid": created["guid"]}
    docker = run(main, "packages", "create", "--app", "app-1", "--type", "docker", "--image", "nginx", *AUTH)
    assert details(docker.stdout)["image"] == "nginx"


def test_delete_waits_for_the_job(fake: FakeApi, main: click.Group) -> None:
    package = fake.add_package()
    result = run(main, "packages", "delete", package["guid"], "--wait", *AUTH)
    assert result.exit_code == 0 and details(result.stdout)["state"] == "COMPLETE"
    assert package["guid"] not in fake.packages


def test_upload_and_download_round_trip(fake: FakeApi, main: click.Group, tmp_path: Path) -> None:
    package = fake.add_package()
    zip_path = tmp_path / "app.zip"
    zip_path.write_bytes(small_zip())
    result = run(main, "packages", "upload", package["guid"], str(zip_path), "--wait", *AUTH)
    assert result.exit_code == 0 and details(result.stdout)["state"] == "READY"
    parts = parse_multipart(fake.requests[0])
    assert [part_name(h) for h, _ in parts] == ["resources", "bits"] and parts[0][1] == b"[]"

    out = tmp_path / "out.zip"
    result = run(main, "packages", "download", package["guid"], "-o", str(out), *AUTH)
    assert result.exit_code == 0 and out.read_bytes() == zip_path.read_bytes()
    blob_request = fake.requests[-1]
    assert blob_request.url.host == "blobs.test" and "authorization" not in blob_request.headers
    result = run(main, "packages", "download", package["guid"], "-o", "-", *AUTH)
    assert result.stdout_bytes == zip_path.read_bytes()


def test_push_prints_only_the_ready_guid_on_stdout(fake: FakeApi, main: click.Group, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hi')\n")
    result = run(main, "push", str(tmp_path), "--app-guid", "app-1", *AUTH)
    assert result.exit_code == 0
    (guid,) = fake.packages
    assert result.stdout == f"{guid}\n"
    assert fake.packages[guid]["state"] == "READY" and "1 uploaded in a" in result.stderr


# -- login, target, saved tokens --------------------------------------------------------------


def expiring_jwt() -> str:
    payload = json.dumps({"exp": int(time.time()) - 10}).encode()
    claims = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"e30.{claims}.sig"


def test_login_saves_tokens_that_later_commands_use(fake: FakeApi, main: click.Group, tmp_path: Path) -> None:
    result = run(main, "login", "--api", API, "-u", "alice", "-p", "pw")
    assert result.exit_code == 0 and "Logged in" in result.stdout
    config_file = tmp_path / "capi" / "config.json"
    assert config_file.stat().st_mode & 0o777 == 0o600
    saved = json.loads(config_file.read_text())
    assert saved["api_url"] == API and saved["access_token"] == f"bearer {TOKEN}"
    package = fake.add_package()
    assert run(main, "packages", "get", package["guid"]).exit_code == 0
    assert fake.requests[-1].headers["authorization"] == f"bearer {TOKEN}"


def test_login_prompts_for_a_missing_password_and_reports_bad_credentials(fake: FakeApi, main: click.Group) -> None:
    result = run(main, "login", "--api", API, "-u", "alice", input="wrong\n")
    assert result.exit_code == 4 and result.stderr.strip().endswith("unauthorized: Bad credentials")


def test_an_expired_saved_token_is_refreshed(fake: FakeApi, main: click.Group) -> None:
    saved = {"api_url": API, "access_token": "bearer " + expiring_jwt(), "refresh_token": "r"}
    client_commands.save_login(saved)
    package = fake.add_package()
    assert run(main, "packages", "get", package["guid"]).exit_code == 0
    assert [r.url.host for r in fake.requests] == ["api.test", "uaa.test", "api.test"]
    assert client_commands.load_saved_login()["access_token"] == f"bearer {TOKEN}"


def test_target_shows_and_sets_the_api(fake: FakeApi, main: click.Group) -> None:
    assert run(main, "target").exit_code == 1
    run(main, "login", "--api", API, "-u", "alice", "-p", "pw")
    assert "User:  alice" in run(main, "target").stdout
    run(main, "target", "https://other.example/")
    shown = json.loads(run(main, "target", "--json").stdout)
    assert shown == {"api_url": "https://other.example", "username": None, "organization": None, "space": None}
    assert run(main, "logout").exit_code == 0


def test_every_command_shows_an_example_in_its_help(main: click.Group) -> None:
    def walk(group: click.Group, prefix: list[str]) -> list[list[str]]:
        paths = []
        for name, command in group.commands.items():
            paths.append([*prefix, name])
            if isinstance(command, click.Group):
                paths.extend(walk(command, [*prefix, name]))
        return paths

    paths = walk(main, [])
    assert len(paths) == 47
    for path in paths:
        assert "Example" in run(main, *path, "--help").stdout, path


def test_progress_bar_only_for_a_terminal_and_big_transfers() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert output.should_show_progress(2 * 1024 * 1024, Tty())
    assert not output.should_show_progress(1024, Tty())
    assert not output.should_show_progress(2 * 1024 * 1024, io.StringIO())
    assert not output.should_show_progress(None, Tty())


def test_tables_align_columns() -> None:
    assert output.table(("a", "bb"), [("xxx", "y")]) == "a    bb\nxxx  y"
