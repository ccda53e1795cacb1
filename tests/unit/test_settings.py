"""Settings come from CAPI_* variables and an optional TOML/JSON file; the environment wins."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from capi_packages.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """`make` exports CAPI_HOST, CAPI_PORT and CAPI_DATA_DIR; these tests start from none."""
    import os

    for name in [n for n in os.environ if n.startswith("CAPI_")]:
        monkeypatch.delenv(name)


def test_a_toml_config_file_sets_values_and_the_environment_overrides_it(tmp_path, monkeypatch):
    config = tmp_path / "capi.toml"
    config.write_text('port = 9999\nmax_valid_packages_stored = 7\nDOWNLOAD_MODE = "stream"\n')
    monkeypatch.setenv("CAPI_CONFIG_FILE", str(config))
    monkeypatch.setenv("CAPI_PORT", "7000")
    settings = load_settings()
    assert settings.port == 7000
    assert settings.max_valid_packages_stored == 7
    assert settings.download_mode == "stream"


def test_explicit_overrides_win_and_none_means_not_given(tmp_path, monkeypatch):
    config = tmp_path / "capi.json"
    config.write_text(json.dumps({"host": "0.0.0.0"}))
    monkeypatch.setenv("CAPI_CONFIG_FILE", str(config))
    settings = load_settings(host=None, data_dir=tmp_path / "d")
    assert settings.host == "0.0.0.0"
    assert settings.data_dir == tmp_path / "d"
    assert settings.base_url == "http://127.0.0.1:8080"


def test_an_unknown_setting_in_the_file_is_refused(tmp_path, monkeypatch):
    config = tmp_path / "capi.toml"
    config.write_text("prot = 1\n")
    monkeypatch.setenv("CAPI_CONFIG_FILE", str(config))
    with pytest.raises(ValidationError):
        load_settings()


def test_database_url_defaults_to_sqlite_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("CAPI_DATABASE_URL", raising=False)
    settings = load_settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{(tmp_path / 'capi.db').resolve()}"
