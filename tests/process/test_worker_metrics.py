"""A `capi-packages worker` process serves its own metrics on CAPI_WORKER_METRICS_PORT."""

from __future__ import annotations

import signal
import subprocess
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.process.conftest import CLI, free_port, running_server


def test_a_worker_process_serves_its_metrics(tmp_path):
    with running_server(tmp_path) as (_url, env):
        pass  # a data dir with a migrated database and keys
    port = free_port()
    worker_env = {**env, "CAPI_WORKER_METRICS_PORT": str(port)}
    with open(tmp_path / "worker.log", "wb") as log:
        proc = subprocess.Popen([*CLI, "worker"], env=worker_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(0.2)
        assert r.status_code == 200
        names = {f.name for f in text_string_to_metric_families(r.text)}
        assert {"cc_job_queues_length_total", "cc_job_duration_seconds", "cc_failed_jobs_total"} <= names
        assert httpx.get(f"http://127.0.0.1:{port}/other", timeout=2).status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
