"""Migrations: upgrade → downgrade → upgrade works, and the models match the newest revision."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from capi_packages.db import migrate
from capi_packages.db.session import make_engine
from capi_packages.schema import metadata
from capi_packages.settings import Settings


def test_upgrade_downgrade_upgrade_round_trips(tmp_path):
    engine = make_engine(Settings(data_dir=tmp_path))
    migrate.upgrade(engine)
    assert {"packages", "jobs", "users", "resource_pool"} <= set(inspect(engine).get_table_names())
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert "packages" in inspect(engine).get_table_names()
    engine.dispose()


def test_models_and_migrations_agree(tmp_path):
    engine = make_engine(Settings(data_dir=tmp_path))
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []
