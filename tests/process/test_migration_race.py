"""Processes starting together on a fresh database migrate it once between them, whatever the database."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.conftest import POSTGRES_URL
from tests.process.conftest import CLI

PROCESSES = 3


def migrate_together(env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    procs = [
        subprocess.Popen([*CLI, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(PROCESSES)
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out))
    return results


def assert_all_migrated(results) -> None:
    for r in results:
        assert r.returncode == 0, r.stdout
        assert "database is at the newest revision" in r.stdout


@pytest.mark.skipif(not POSTGRES_URL, reason="needs CAPI_TEST_DATABASE_URL (PostgreSQL)")
@pytest.mark.parametrize("trial", range(4))
def test_processes_migrating_a_fresh_postgresql_database_at_once_all_succeed(tmp_path, trial):
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"capi_race_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        env = {**os.environ, "CAPI_DATA_DIR": str(tmp_path / "data"), "CAPI_DATABASE_URL": url}
        assert_all_migrated(migrate_together(env))
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        engine.dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_processes_migrating_a_fresh_sqlite_database_at_once_all_succeed(tmp_path):
    env = {**os.environ, "CAPI_DATA_DIR": str(tmp_path / "data")}
    env.pop("CAPI_DATABASE_URL", None)
    (tmp_path / "data").mkdir()
    assert_all_migrated(migrate_together(env))
