"""Runs Alembic migrations programmatically, so `serve` and `migrate` need no alembic.ini on disk.

`python -m capi_packages.db.migrate revision "what changes"` autogenerates the next revision
against a scratch SQLite database at head (`make revision m=...`); read and edit it before committing.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
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
