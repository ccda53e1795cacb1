"""P5: download of a package (following the redirect, and in stream mode) against nginx's sendfile.

nginx (Debian's, installed if missing) serves the very same blob file from a loopback port; curl
fetches both, interleaved, and the row compares throughput (ours / nginx, higher is better).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from functools import partial
from pathlib import Path

from benchmarks.common import MiB, Row, ensure_debian_tool, free_port, interleaved, row, server

NGINX_CONF = """
daemon off;
worker_processes 1;
error_log {dir}/error.log;
pid {dir}/nginx.pid;
user root;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def ensure_nginx() -> str:
    return ensure_debian_tool("nginx", "nginx-light")


def make_zip(path: Path, size_mb: int) -> None:
    # Stored random bytes: the zip is as big as its content, like an app of binaries.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(size_mb // 10 or 1):
            zf.writestr(f"lib/part{i:03}.bin", os.urandom(min(10, size_mb) * MiB))


def curl_seconds(url: str, headers: list[str]) -> float:
    cmd = ["curl", "-s", "-f", "-L", "-o", "/dev/null", "-w", "%{time_total}", *(a for h in headers for a in ("-H", h))]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    return float(out)


class Nginx:
    def __init__(self, root: Path, work: Path) -> None:
        self.port = free_port()
        conf_dir = work / "nginx"
        conf_dir.mkdir()
        conf = conf_dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=conf_dir, port=self.port, root=root))
        self.proc = subprocess.Popen([ensure_nginx(), "-c", str(conf), "-p", str(conf_dir)])
        deadline = time.monotonic() + 10
        while subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{self.port}/"]).returncode:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("nginx did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(quick: bool) -> list[Row]:
    size_mb = 20 if quick else 210
    runs = 2 if quick else 7
    work = Path(tempfile.mkdtemp(prefix="capi-bench-dl-"))
    rows: list[Row] = []
    try:
        zip_path = work / "app.zip"
        make_zip(zip_path, size_mb)
        size = zip_path.stat().st_size
        data_dir = work / "data"
        with server(data_dir, CAPI_WORKER_POLL_SECONDS="0.02") as s:
            guid = s.new_package(s.new_app())
            s.upload_and_wait(guid, zip_path, [])
        blob = next(p for p in (data_dir / "blobstore" / "packages").rglob(guid) if p.is_file())
        served = work / "www"
        served.mkdir()
        os.link(blob, served / "package.zip")
        nginx = Nginx(served, work)
        try:
            baseline_url = f"http://127.0.0.1:{nginx.port}/package.zip"
            for mode in ("redirect", "stream"):
                with server(data_dir, CAPI_DOWNLOAD_MODE=mode, CAPI_WORKER_ENABLED="false") as s:
                    url = f"{s.url}/v3/packages/{guid}/download"
                    # Each server has its own port, so its own issuer name: its own token.
                    auth = [f"Authorization: bearer {s.token}"]
                    ours, base = interleaved(
                        runs, partial(curl_seconds, url, auth), partial(curl_seconds, baseline_url, [])
                    )
                mb = size / 1e6
                rows.append(
                    row(
                        "P5",
                        f"download of a {size_mb} MB package ({mode}), MB/s",
                        "MB/s",
                        mb / ours,
                        mb / base,
                        "≥ 70 % of nginx",
                        lambda r: r >= 0.7,
                    )
                )
        finally:
            nginx.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows
