"""Runs Alembic migrations programmatically, so `serve` and `migrate` need no alembic.ini on disk.

`python -m capi_packages.db.migrate revision "what changes"` autogenerates the next revision
against a scratch SQLite database at head (`make revision m=...`); read and edit it before committing.
"""

from __future__ import annotations

import fcntl
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


# Any 64-bit number shared by every process of this service; "capi" + "migr" in ASCII.
ADVISORY_LOCK_KEY = 0x6361706900006D69


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while migrating, so processes starting together take turns instead of racing.

    PostgreSQL: a session-level advisory lock on a connection of its own. SQLite: an exclusive
    file lock beside the database file (the database's own locks do not cover DDL plus the
    alembic_version row as one step). Other databases migrate unlocked.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    with migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with migration_lock(engine):
        command.downgrade(alembic_config(engine), revision)


def revision(message: str) -> None:
    """Autogenerate the next numbered revision from the models' difference to head."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/scratch.db")
        upgrade(engine)
        cfg = alembic_config(engine)
        head = ScriptDirectory.from_config(cfg).get_current_head()
        next_id = f"{int(head or 0) + 1:04d}"
        slug = "_".join(message.lower().split())[:40]
        command.revision(cfg, message=message, autogenerate=True, rev_id=next_id)
        engine.dispose()
    print(f"wrote {MIGRATIONS_DIR / 'versions'}/{next_id}_{slug}.py: read it and edit it before committing")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m capi_packages.db.migrate revision "what changes"')
    revision(sys.argv[2])
