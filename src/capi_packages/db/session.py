"""Engine and session factory built from settings; nothing is created at import time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from capi_packages.settings import Settings

SQLITE_POOL_SIZE = 40
POSTGRES_POOL_SIZE = 20


def make_engine(settings: Settings) -> Engine:
    url = settings.effective_database_url
    sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {
        # Enough kept open for every request thread (anyio's 40): a connection opened and closed
        # per request under load costs more than the request.
        "pool_size": settings.database_pool_size or (SQLITE_POOL_SIZE if sqlite else POSTGRES_POOL_SIZE),
        "max_overflow": settings.database_max_overflow,
        "pool_timeout": settings.database_pool_timeout_seconds,
    }
    if sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # The API threads and the worker thread share one file; wait for locks instead of failing.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


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
