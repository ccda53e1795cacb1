"""Alembic environment: uses the engine handed over by capi_packages.db.migrate when there is one."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from capi_packages.schema import metadata

config = context.config


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("alembic needs an engine or sqlalchemy.url")
        engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
