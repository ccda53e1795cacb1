"""`token`, `users`, `migrate` and `worker` find the server's data, or refuse in one line.

Each command runs as a real subprocess in a directory of its own, with no CAPI_* variables but
the ones a test sets, as a newcomer would run it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.process.conftest import CLI, running_server

NO_DATA = "Error: no data directory at ./var (set CAPI_DATA_DIR or pass --data-dir)"


def admin(cwd: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAPI_")}
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("token", "--user-id", "alice"),
        ("users", "add", "carol", "--password", "s3cret"),
        ("users", "list"),
        ("users", "delete", "carol"),
        ("worker", "--once"),
    ],
)
def test_commands_run_away_from_the_data_refuse_and_create_nothing(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = admin(tmp_path, *args)
    assert (result.returncode, result.stdout, result.stderr.strip()) == (1, "", NO_DATA)
    assert list(tmp_path.iterdir()) == []


def test_users_add_refuses_before_asking_for_the_password(tmp_path: Path) -> None:
    result = admin(tmp_path, "users", "add", "carol", stdin="")
    assert result.returncode == 1 and result.stderr.strip() == NO_DATA
    assert "Password" not in result.stdout + result.stderr


def test_a_data_dir_without_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    result = admin(tmp_path, "users", "list")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: no database at ./var/capi.db (start capi-packages serve or run capi-packages migrate there, "
        "or set CAPI_DATABASE_URL to the server's)"
    )
    assert list((tmp_path / "var").iterdir()) == []


def test_an_explicit_sqlite_url_to_a_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    missing = tmp_path / "nowhere.db"
    result = admin(tmp_path, "users", "list", CAPI_DATABASE_URL=f"sqlite:///{missing}")
    assert result.returncode == 1 and f"no database at {missing}" in result.stderr
    assert not missing.exists()


def test_token_needs_the_servers_signing_key(tmp_path: Path) -> None:
    assert admin(tmp_path, "migrate").returncode == 0
    result = admin(tmp_path, "token", "--user-id", "alice")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: no signing key at ./var/keys/jwt-signing-key.pem: start the server once (capi-packages serve)"
    )


def test_migrate_creates_the_data_dir_and_says_so_once(tmp_path: Path) -> None:
    first = admin(tmp_path, "migrate")
    assert first.returncode == 0
    assert first.stderr.strip() == "created data directory ./var"
    assert (tmp_path / "var" / "capi.db").is_file()
    second = admin(tmp_path, "migrate")
    assert second.returncode == 0 and second.stderr == ""


def test_users_and_tokens_made_elsewhere_work_on_the_running_server(tmp_path: Path) -> None:
    """The newcomer's case: `users add` and `token` run from another directory, pointed at the
    server's data dir by CAPI_DATA_DIR, act on the server's own database and key."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running_server(tmp_path) as (url, env):
        data = env["CAPI_DATA_DIR"]
        added = admin(elsewhere, "users", "add", "carol", "--password", "s3cret", CAPI_DATA_DIR=data)
        assert added.returncode == 0, added.stderr
        form = {"grant_type": "password", "username": "carol", "password": "s3cret"}
        answer = httpx.post(f"{url}/oauth/token", data=form, auth=("cf", ""), timeout=10)
        assert answer.status_code == 200, answer.text

        token = admin(elsewhere, "token", "--user-id", "some-guid", "--admin", CAPI_DATA_DIR=data)
        assert token.returncode == 0, token.stderr
        listed = httpx.get(f"{url}/v3/packages", headers={"Authorization": f"bearer {token.stdout.strip()}"})
        assert listed.status_code == 200
    assert list(elsewhere.iterdir()) == []


def test_a_config_file_in_the_data_dir_is_read_by_every_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    database = tmp_path / "db" / "capi.sqlite"
    database.parent.mkdir()
    (data / "config.toml").write_text(f'database_url = "sqlite:///{database}"\n')
    assert admin(tmp_path, "migrate", "--data-dir", str(data)).returncode == 0
    added = admin(tmp_path, "users", "add", "dora", "--password", "pw", CAPI_DATA_DIR=str(data))
    assert added.returncode == 0, added.stderr
    listed = admin(tmp_path, "users", "list", "--data-dir", str(data))
    assert "dora" in listed.stdout
    assert database.is_file() and not (data / "capi.db").exists()
