"""PackagesClient's entries calls and `packages files|cat|diff`, against the real app in-process."""

from __future__ import annotations

import hashlib
import io
import json

import click
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from capi_cli import client_commands, entries_commands
from capi_cli import session as session_module
from capi_client import Entry, NotFoundError, PackagesClient, UnprocessableEntityError
from tests.bits_api.bits_support import regular, symlink, uploaded_package, zip_entries
from tests.conftest import BASE_URL
from tests.entries_api.conftest import FILES


@pytest.fixture
def second(api, world, run_jobs):
    return uploaded_package(
        api,
        world.app["guid"],
        zip_entries(
            [
                regular("index.js", FILES["index.js"], 0o644),
                regular("lib/util.js", b"changed\n"),
                regular("lib/deep/data.bin", FILES["lib/deep/data.bin"]),
                regular("README.md", FILES["README.md"]),
                regular("added.txt", b"new"),
                symlink("current", "lib/util.js"),
            ]
        ),
        run_jobs,
    )


@pytest.fixture
def packages_client(app, api):
    with PackagesClient(
        BASE_URL, api.token("admin-user", ("cloud_controller.admin",)), http_client=TestClient(app)
    ) as c:
        yield c


def test_the_client_walks_every_page_of_entries(packages_client, ready):
    first = packages_client.list_entries(ready["guid"], per_page=2)
    assert len(first) == 2 and first.total_results == 5 and first.next_url
    walked = list(packages_client.iter_entries(ready["guid"], per_page=2))
    assert [e.path for e in walked] == ["README.md", "current", "index.js", "lib/deep/data.bin", "lib/util.js"]
    index = walked[2]
    assert isinstance(index, Entry)
    assert (index.mode, index.size, index.sha1) == (
        "755",
        len(FILES["index.js"]),
        hashlib.sha1(FILES["index.js"]).hexdigest(),
    )
    assert [e.path for e in packages_client.iter_entries(ready["guid"], prefix="lib/")] == [
        "lib/deep/data.bin",
        "lib/util.js",
    ]


def test_the_client_streams_one_file(packages_client, ready):
    out = io.BytesIO()
    assert packages_client.download_entry(ready["guid"], "lib/util.js", out) == len(FILES["lib/util.js"])
    assert out.getvalue() == FILES["lib/util.js"]


def test_the_client_raises_cf_errors(packages_client, ready, world, api):
    with pytest.raises(NotFoundError) as missing:
        packages_client.download_entry(ready["guid"], "nope", io.BytesIO())
    assert missing.value.detail == "File not found"
    waiting = api.create_package(world.app["guid"])
    with pytest.raises(UnprocessableEntityError):
        packages_client.list_entries(waiting["guid"])


def test_the_client_compares_two_packages(packages_client, ready, second):
    diff = packages_client.diff_packages(second["guid"], ready["guid"])
    assert (diff.package_guid, diff.against_guid) == (second["guid"], ready["guid"])
    assert [e.path for e in diff.added] == ["added.txt"]
    assert [c.path for c in diff.changed] == ["lib/util.js"]
    assert [(c.path, c.before.mode, c.after.mode) for c in diff.mode_changed] == [("index.js", "755", "644")]
    assert diff.removed == () and diff.unchanged == 3 and not diff.is_empty


# -- the commands -------------------------------------------------------------------------------


@pytest.fixture
def cli(app, api, monkeypatch, tmp_path):
    monkeypatch.setattr(session_module, "http_client_factory", lambda: TestClient(app))
    monkeypatch.setenv("CAPI_CONFIG", str(tmp_path / "config.json"))
    group = click.Group("capi-packages")
    client_commands.register(group)
    entries_commands.register(group)
    auth = ["--api", BASE_URL, "--token", api.token("admin-user", ("cloud_controller.admin",))]

    def run(*args: str):
        return CliRunner().invoke(group, [*args, *auth], catch_exceptions=False)

    return run


def test_packages_files_prints_a_table(cli, ready):
    result = cli("packages", "files", ready["guid"], "--prefix", "lib/")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["mode", "size", "sha1", "path"]
    assert [line.split()[-1] for line in lines[1:]] == ["lib/deep/data.bin", "lib/util.js"]
    as_json = json.loads(cli("packages", "files", ready["guid"], "--json").stdout)
    assert as_json[0]["path"] == "README.md"


def test_packages_cat_writes_the_bytes_to_stdout(cli, ready):
    result = cli("packages", "cat", ready["guid"], "current")
    assert result.exit_code == 0 and result.stdout_bytes == FILES["lib/util.js"]


def test_packages_cat_of_a_missing_file_exits_not_found(cli, ready):
    result = cli("packages", "cat", ready["guid"], "missing.txt")
    assert result.exit_code == 3 and "CF-ResourceNotFound: File not found" in result.stderr


def test_packages_diff_lists_changes_from_old_to_new(cli, ready, second):
    result = cli("packages", "diff", ready["guid"], second["guid"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["A added.txt", "m index.js (755 -> 644)", "M lib/util.js"]
    assert "1 added, 0 removed, 1 changed, 1 mode changed, 3 unchanged" in result.stderr
