"""Test fixtures: one migrated template database per run, copied fresh for every test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from capi_packages.app import create_app
from capi_packages.auth.keys import load_or_create_signing_key
from capi_packages.db import migrate
from capi_packages.db.session import make_engine
from capi_packages.settings import Settings
from tests.factories import Api

BASE_URL = "http://api.test"


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with a migrated database and a signing key; each test gets a copy."""
    path = tmp_path_factory.mktemp("template")
    settings = Settings(data_dir=path)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    load_or_create_signing_key(settings.signing_key_file)
    return path


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(template_dir: Path, tmp_path: Path, settings_overrides: dict[str, Any]) -> Settings:
    data_dir = tmp_path / "data"
    shutil.copytree(template_dir, data_dir)
    return Settings(data_dir=data_dir, external_url=BASE_URL, worker_enabled=False, **settings_overrides)


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: Any) -> TestClient:
    return TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)


@pytest.fixture
def api(app: Any, client: TestClient) -> Api:
    return Api(app, client)


@pytest.fixture
def run_jobs(app: Any) -> Any:
    return app.state.worker.run_pending
