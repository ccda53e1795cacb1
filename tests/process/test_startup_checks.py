"""serve and worker check the database before anything else; serve --no-worker leaves jobs to workers."""

from __future__ import annotations

import time

import httpx

from tests.factories import make_zip
from tests.process.conftest import free_port, mint, running_server
from tests.process.edge_support import new_package
from tests.process.test_admin_commands import admin


def test_serve_and_worker_refuse_an_unreachable_database_in_one_line(tmp_path):
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://capi:secret@127.0.0.1:{port}/capi"
    for args in (("serve", "--port", "1"), ("worker",), ("migrate",)):
        done = admin(tmp_path, *args, CAPI_DATA_DIR=str(tmp_path / "data"), CAPI_DATABASE_URL=url)
        assert done.returncode == 1, args
        line = done.stderr.strip().splitlines()[-1]
        assert line.startswith(
            f"Error: cannot reach the database at postgresql+psycopg://capi:***@127.0.0.1:{port}/capi "
            "(CAPI_DATABASE_URL): "
        ), line
        assert "secret" not in done.stderr
        assert "Traceback" not in done.stderr


def test_serve_no_worker_leaves_uploads_to_a_worker_process(tmp_path):
    with running_server(tmp_path, serve_args=("--no-worker",), CAPI_WORKER_POLL_SECONDS="0.1") as (url, env):
        headers = {"Authorization": f"bearer {mint(env, '--user-id', 'root', '--admin')}"}
        guid = new_package(url, headers)
        files = {"bits": ("app.zip", make_zip({"index.js": "1"}), "application/zip")}
        assert httpx.post(f"{url}/v3/packages/{guid}/upload", files=files, headers=headers).status_code == 200
        time.sleep(1.5)  # many of the in-process worker's polls
        assert httpx.get(f"{url}/v3/packages/{guid}", headers=headers).json()["state"] == "PROCESSING_UPLOAD"

        ran = admin(tmp_path, "worker", "--once", **{k: v for k, v in env.items() if k.startswith("CAPI_")})
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == "ran 1 job(s)"
        assert httpx.get(f"{url}/v3/packages/{guid}", headers=headers).json()["state"] == "READY"
