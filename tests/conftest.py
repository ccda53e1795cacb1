"""Test fixtures: one migrated template database per run, copied fresh for every test."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from capi_packages.app import create_app
from capi_packages.auth.keys import load_or_create_signing_key
from capi_packages.db import migrate
from capi_packages.db.session import make_engine
from capi_packages.settings import Settings
from tests.factories import Api
from tests.openapi.observed import Observation, StatusRecorder, documented_routes, undocumented

BASE_URL = "http://api.test"
# Point the suite at PostgreSQL with e.g. postgresql+psycopg://postgres@127.0.0.1:5433/postgres
POSTGRES_URL = os.environ.get("CAPI_TEST_DATABASE_URL")
_db_numbers = itertools.count()


_admin: Any = None


def _admin_sql(sql: str) -> None:
    """CREATE/DROP DATABASE on one autocommit connection pool for the whole run."""
    global _admin
    if _admin is None:
        _admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with _admin.connect() as c:
        c.execute(text(sql))


def _template_db_name() -> str:
    return f"capi_template_{os.getpid()}"


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir with a migrated database and a signing key; each test gets a copy.

    On PostgreSQL the migrated database is a template that each test clones (CREATE DATABASE … TEMPLATE).
    """
    path = tmp_path_factory.mktemp("template")
    url = None
    if POSTGRES_URL:
        _admin_sql(f"DROP DATABASE IF EXISTS {_template_db_name()}")
        _admin_sql(f"CREATE DATABASE {_template_db_name()}")
        url = make_url(POSTGRES_URL).set(database=_template_db_name()).render_as_string(hide_password=False)
    settings = Settings(data_dir=path, database_url=url)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    load_or_create_signing_key(settings.signing_key_file)
    yield path
    if POSTGRES_URL:
        _admin_sql(f"DROP DATABASE IF EXISTS {_template_db_name()}")


@pytest.fixture
def database_url() -> Iterator[str | None]:
    if not POSTGRES_URL:
        yield None
        return
    name = f"capi_test_{os.getpid()}_{next(_db_numbers)}"
    _admin_sql(f"CREATE DATABASE {name} TEMPLATE {_template_db_name()}")
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    _admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(
    template_dir: Path, tmp_path: Path, settings_overrides: dict[str, Any], database_url: str | None
) -> Settings:
    data_dir = tmp_path / "data"
    shutil.copytree(template_dir, data_dir)
    return Settings(
        data_dir=data_dir, external_url=BASE_URL, worker_enabled=False, database_url=database_url, **settings_overrides
    )


_document: dict[str, Any] = {}


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    application = create_app(settings)
    observed: set[Observation] = set()
    application.add_middleware(StatusRecorder, observed=observed, routes=documented_routes(application))
    yield application
    application.state.engine.dispose()
    # The document is the same for every app the suite builds: made once, from the first.
    _document.setdefault("served", application.openapi())
    problems = undocumented(_document["served"], observed)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def client(app: Any) -> TestClient:
    return TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)


@pytest.fixture
def api(app: Any, client: TestClient) -> Api:
    return Api(app, client)


@pytest.fixture
def run_jobs(app: Any) -> Any:
    return app.state.worker.run_pending
