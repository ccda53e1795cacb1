"""On the S3 blobstore (a real moto server): /readyz, serve's start-up check and `s3 create-bucket`."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.blobstore.conftest import KEY_ID, REGION, SECRET
from tests.process.test_admin_commands import admin


@pytest.fixture
def missing_bucket() -> str:
    return f"capi-missing-{uuid.uuid4().hex[:12]}"


def s3_env(s3_server: Any, bucket: str, data_dir: Path) -> dict[str, str]:
    return {
        "CAPI_DATA_DIR": str(data_dir),
        "CAPI_BLOBSTORE_TYPE": "s3",
        "CAPI_S3_BUCKET": bucket,
        "CAPI_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "CAPI_S3_REGION": REGION,
        "CAPI_S3_ACCESS_KEY_ID": KEY_ID,
        "CAPI_S3_SECRET_ACCESS_KEY": SECRET,
    }


@pytest.fixture
def settings_overrides(s3_server: Any, missing_bucket: str) -> dict[str, Any]:
    return {
        "blobstore_type": "s3",
        "s3_bucket": missing_bucket,
        "s3_endpoint_url": s3_server.endpoint_url,
        "s3_region": REGION,
        "s3_access_key_id": KEY_ID,
        "s3_secret_access_key": SECRET,
    }


def test_readyz_is_503_naming_the_missing_bucket_and_200_once_it_exists(client, s3, missing_bucket):
    r = client.get("/readyz")
    assert r.status_code == 503
    check = r.json()["checks"]["blobstore"]
    assert check["status"] == "failed"
    assert f"the bucket s3://{missing_bucket} (CAPI_S3_BUCKET)" in check["error"]
    assert "does not exist" in check["error"]
    assert r.json()["checks"]["database"] == {"status": "ok"}

    s3.create_bucket(Bucket=missing_bucket)
    assert client.get("/readyz").status_code == 200


def test_serve_refuses_a_missing_bucket_in_one_line_naming_the_setting(tmp_path, s3_server, missing_bucket):
    done = admin(tmp_path, "serve", "--port", "1", **s3_env(s3_server, missing_bucket, tmp_path / "data"))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == (
        f"Error: the bucket s3://{missing_bucket} (CAPI_S3_BUCKET) at {s3_server.endpoint_url} does not exist: "
        "create it (capi-packages s3 create-bucket)"
    )
    assert "Traceback" not in done.stderr


def test_create_bucket_makes_the_bucket_the_worker_then_starts_on(tmp_path, s3_server, s3, missing_bucket):
    env = s3_env(s3_server, missing_bucket, tmp_path / "data")
    assert admin(tmp_path, "migrate", **env).returncode == 0
    refused = admin(tmp_path, "worker", "--once", **env)
    assert refused.returncode == 1
    assert "does not exist" in refused.stderr

    created = admin(tmp_path, "s3", "create-bucket", **env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == f"created bucket {missing_bucket}"
    s3.head_bucket(Bucket=missing_bucket)
    again = admin(tmp_path, "s3", "create-bucket", **env)
    assert again.stdout.strip() == f"found bucket {missing_bucket}"

    ran = admin(tmp_path, "worker", "--once", **env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "ran 0 job(s)"
    # The write probe leaves nothing behind.
    assert s3.list_objects_v2(Bucket=missing_bucket).get("KeyCount", 0) == 0


def test_create_bucket_needs_the_s3_blobstore(tmp_path):
    done = admin(tmp_path, "s3", "create-bucket", CAPI_DATA_DIR=str(tmp_path / "data"))
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: the blobstore is not S3: set CAPI_BLOBSTORE_TYPE=s3 and CAPI_S3_BUCKET"
