"""push_directory and login against a real server process."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from capi_client import (
    CapiError,
    NotAuthenticatedError,
    PackagesClient,
    login,
    push_directory,
    refresh,
    token_endpoint,
    token_expiry,
)
from tests.process.client_live_support import (
    Live,
    multipart_parts,
    new_app,
    zip_contents,
)
from tests.process.conftest import CLI

MB = 1024 * 1024


def _tree(root: Path) -> dict[str, bytes]:
    """An app directory; returns the contents the package must hold (ignored files left out)."""
    (root / "lib" / "nested" / "deep").mkdir(parents=True)
    (root / "bin").mkdir()
    contents = {
        "bin/run.sh": b"#!/bin/sh\n" + b"# padding so the script is matchable\n" * 2100,
        "big.bin": os.urandom(80 * 1024),
        "lib/nested/deep/data.bin": os.urandom(100 * 1024),
        "config.json": b'{"version": 1}\n',
    }
    for rel, data in contents.items():
        (root / rel).write_bytes(data)
    (root / "bin" / "run.sh").chmod(0o755)
    (root / "secret.txt").write_bytes(b"do not upload me")
    (root / ".cfignore").write_text("secret.txt\n")
    (root / "run").symlink_to("bin/run.sh")
    assert (root / "bin" / "run.sh").stat().st_size >= 70 * 1024
    return contents


def _check_package(data: bytes, expected: dict[str, bytes]) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert set(infos) == {*expected, "run"}
        for name, content in expected.items():
            assert archive.read(name) == content, name
        assert stat.S_IMODE(infos["bin/run.sh"].external_attr >> 16) == 0o755
        assert stat.S_IMODE(infos["config.json"].external_attr >> 16) == 0o644
        link = infos["run"]
        assert stat.S_ISLNK(link.external_attr >> 16)
        assert archive.read(link) == b"bin/run.sh"


def test_push_directory_uploads_only_what_the_cache_lacks_and_keeps_modes_links_and_ignores(
    live: Live, tmp_path: Path
) -> None:
    old_umask = os.umask(0o022)
    try:
        root = tmp_path / "app"
        root.mkdir()
        expected = _tree(root)
    finally:
        os.umask(old_umask)
    client, recorder = live.recording(capture_uploads=True)
    app = new_app(client, live)
    reports: list[str] = []

    first = push_directory(client, app.guid, root, timeout=60, report=reports.append)
    assert first.state == "READY" and first.app_guid == app.guid
    sink = io.BytesIO()
    client.download_bits(first.guid, sink)
    _check_package(sink.getvalue(), expected)
    first_parts = multipart_parts(recorder.upload_bodies[0])
    assert json.loads(first_parts["resources"]) == []
    # No directory entries: the package keeps none, and so the upload is stored as it came.
    assert set(zip_contents(first_parts["bits"])) == {*expected, "run"}
    assert sink.getvalue() == first_parts["bits"]

    (root / "config.json").write_bytes(b'{"version": 2}\n')
    expected["config.json"] = b'{"version": 2}\n'
    second = push_directory(client, app.guid, root, timeout=60, report=reports.append)
    assert second.guid != first.guid and second.state == "READY"
    second_body = recorder.upload_bodies[1]
    parts = multipart_parts(second_body)
    # The changed file travels, plus the symlink (links are never matched); the big unchanged
    # files are named as cached resources.
    assert set(zip_contents(parts["bits"])) == {"config.json", "run"}
    cached = {entry["path"]: entry for entry in json.loads(parts["resources"])}
    assert set(cached) == {"bin/run.sh", "big.bin", "lib/nested/deep/data.bin"}
    assert cached["bin/run.sh"]["mode"] == "755"
    assert len(second_body) * 20 < len(recorder.upload_bodies[0])
    assert any("3 already cached" in line for line in reports)

    sink = io.BytesIO()
    client.download_bits(second.guid, sink)
    _check_package(sink.getvalue(), expected)


# -- login -----------------------------------------------------------------------------------


def test_login_with_a_password_and_refresh_give_working_tokens(live: Live) -> None:
    username = f"user{uuid.uuid4().hex[:8]}"
    added = subprocess.run(
        [*CLI, "users", "add", username, "--password", "pw-123"],
        env=live.env,
        capture_output=True,
        text=True,
        check=True,
    )
    user_guid = added.stdout.strip()
    assert token_endpoint(live.url) == live.url

    tokens = login(live.url, username, "pw-123")
    assert tokens.token_type.lower() == "bearer" and tokens.refresh_token
    assert tokens.authorization == f"bearer {tokens.access_token}"
    expiry = token_expiry(tokens.access_token)
    assert expiry is not None and expiry > datetime.now(UTC)

    with PackagesClient(live.url, live.admin_token) as admin:
        admin.create_role("organization_user", user_guid, org_guid=live.org.guid)
        admin.create_role("space_developer", user_guid, space_guid=live.space.guid)
        app = new_app(admin, live)
    with PackagesClient(live.url, tokens.authorization) as client:
        mine = client.create_package(app.guid)
        assert [p.guid for p in client.list_packages(app_guids=app.guid)] == [mine.guid]

    renewed = refresh(live.url, tokens.refresh_token)
    assert renewed.access_token and renewed.refresh_token
    with PackagesClient(live.url, renewed.access_token) as client:
        assert client.get_package(mine.guid).guid == mine.guid

    with pytest.raises(NotAuthenticatedError) as wrong:
        login(live.url, username, "wrong")
    assert (wrong.value.status, wrong.value.title) == (401, "unauthorized")
    with pytest.raises(CapiError) as bad_refresh:
        refresh(live.url, "not-a-refresh-token")
    assert bad_refresh.value.status == 401
