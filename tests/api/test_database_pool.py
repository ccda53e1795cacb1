"""The connection pool: one connection kept per request thread, and on PostgreSQL a connection
pinged before use only when it sat idle (a server restart or a dropped connection is then met by a
fresh one, not by a failed request)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from capi_packages.db import session as db_session
from capi_packages.db.session import make_engine
from capi_packages.settings import Settings
from tests.conftest import POSTGRES_URL, _admin_sql

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="set CAPI_TEST_DATABASE_URL")
# database_url clones the migrated template that template_dir makes.
pytestmark = pytest.mark.usefixtures("template_dir")


def _engine(tmp_path: Path, database_url: str | None) -> Engine:
    return make_engine(Settings(data_dir=tmp_path, database_url=database_url))


def test_the_pool_keeps_a_connection_for_every_request_thread(tmp_path: Path, database_url: str | None) -> None:
    engine = _engine(tmp_path, database_url)
    try:
        assert engine.pool.size() == 40  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT pg_backend_pid()")).scalar_one())


@postgres_only
def test_a_connection_back_from_a_request_a_moment_ago_is_used_without_a_ping(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(tmp_path, database_url)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or real_ping(conn))
    try:
        first = _backend_pid(engine)
        assert _backend_pid(engine) == first and _backend_pid(engine) == first
        assert pings == []
    finally:
        engine.dispose()


@postgres_only
def test_an_idle_connection_the_server_dropped_is_replaced_before_the_request_uses_it(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(tmp_path, database_url)
    try:
        dropped = _backend_pid(engine)
        _admin_sql(f"SELECT pg_terminate_backend({dropped})")
        monkeypatch.setattr(db_session, "PING_IDLE_SECONDS", 0.0)  # as if it sat in the pool for long
        assert _backend_pid(engine) != dropped  # no error: the ping found it dead, the pool reconnected
    finally:
        engine.dispose()
