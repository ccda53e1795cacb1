"""/readyz against a private PostgreSQL that the test stops (never the shared one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from capi_packages.app import create_app
from capi_packages.settings import Settings
from tests.process.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return found[-1] if found else None


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, Path]]:
    if _pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (scripts/start-postgres.sh installs it)")
    # Under /tmp itself: the postgres user must reach it, and pytest's tmp dirs are root's alone.
    pgdir = Path(tempfile.mkdtemp(prefix="capi-readyz-pg-", dir="/tmp"))
    os.chmod(pgdir, 0o777)
    env = {**os.environ, "PGPORT": str(free_port()), "PGDIR": str(pgdir / "data")}
    out = subprocess.run(
        ["bash", str(ROOT / "scripts/start-postgres.sh")], env=env, capture_output=True, text=True, check=True
    )
    try:
        yield out.stdout.strip(), pgdir / "data"
    finally:
        stop_postgres(pgdir / "data")
        shutil.rmtree(pgdir, ignore_errors=True)


def stop_postgres(pgdir: Path) -> None:
    command = [str(_pg_bin() / "pg_ctl"), "-D", str(pgdir), "-m", "immediate", "-w", "stop"]
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, capture_output=True, check=False)


def test_readyz_is_503_naming_the_database_once_postgresql_stops(private_postgres, tmp_path):
    url, pgdir = private_postgres
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=url, worker_enabled=False))
    try:
        client = TestClient(app)
        assert client.get("/readyz").status_code == 200

        stop_postgres(pgdir)
        r = client.get("/readyz")
        assert r.status_code == 503
        body = r.json()
        assert body["checks"]["blobstore"] == {"status": "ok"}
        assert body["checks"]["database"]["status"] == "failed"
        error = body["checks"]["database"]["error"]
        assert error.startswith("cannot reach the database at postgresql+psycopg://postgres@127.0.0.1:")
        assert "(CAPI_DATABASE_URL)" in error
        assert "\n" not in error
        assert client.get("/healthz").status_code == 200
    finally:
        app.state.engine.dispose()
