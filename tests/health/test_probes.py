"""GET /healthz and GET /readyz in-process: no token needed; 503 naming what failed."""

from __future__ import annotations

import shutil


def test_healthz_answers_without_a_token(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_and_blobstore_answer(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database": {"status": "ok"}, "blobstore": {"status": "ok"}}}


def test_readyz_is_503_naming_the_blobstore_when_its_directory_is_gone(client, settings):
    shutil.rmtree(settings.blobstore_dir)
    r = client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["blobstore"]["status"] == "failed"
    assert str(settings.blobstore_dir) in body["checks"]["blobstore"]["error"]
    assert "does not exist" in body["checks"]["blobstore"]["error"]
    assert client.get("/healthz").status_code == 200


def test_the_probes_are_not_in_the_api_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/healthz" not in paths and "/readyz" not in paths
