"""Engine and session factory built from settings; nothing is created at import time."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from capi_packages.settings import Settings

# Enough kept open for every request thread (anyio's 40) on both: past the pool, each request
# under load opened and closed a connection of its own (on PostgreSQL a server process each).
SQLITE_POOL_SIZE = 40
POSTGRES_POOL_SIZE = 40
# PostgreSQL: a connection that sat in the pool this long is pinged before use (the server may
# have restarted or dropped it meanwhile); one back from a request a moment ago is not. Pinging
# on every checkout was a round trip more on every request (an eighth of a cached list's time).
PING_IDLE_SECONDS = 5.0


def make_engine(settings: Settings) -> Engine:
    url = settings.effective_database_url
    sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {
        "pool_size": settings.database_pool_size or (SQLITE_POOL_SIZE if sqlite else POSTGRES_POOL_SIZE),
        "max_overflow": settings.database_max_overflow,
        "pool_timeout": settings.database_pool_timeout_seconds,
    }
    if sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # The API threads and the worker thread share one file; wait for locks instead of failing.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    else:
        event.listen(engine, "checkin", _note_idle)
        event.listen(engine, "checkout", _ping_if_idle(engine))
    return engine


def _note_idle(_dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_SECONDS:
            return  # just connected, or just used
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as e:
            # The pool drops this connection and checks out another (a new one if need be).
            raise DisconnectionError(str(e)) from e

    return checkout


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let pysqlite leave transactions to us, so BEGIN IMMEDIATE below takes the write lock up front
    # (deferred transactions that later write deadlock into "database is locked").
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


READ_ONLY = "capi_read_only"


def _sqlite_begin_immediate(conn: Any) -> None:
    # Reads (GET requests) begin deferred: under WAL they run beside the one writer.
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def read_only_view(engine: Engine) -> Engine:
    """The engine as GET requests use it.

    On PostgreSQL in autocommit: a read's statements each see their own snapshot under READ
    COMMITTED whether or not a transaction wraps them, so BEGIN and COMMIT would only add two
    round trips to every read (a cached package list makes one query). On SQLite a read is a
    deferred transaction, so that its statements share one snapshot beside the writer.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READ_ONLY: True})
    return engine.execution_options(**{READ_ONLY: True}, isolation_level="AUTOCOMMIT")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
