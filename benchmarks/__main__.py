"""`make bench`: runs a real server process and reports ratios against same-run baselines.

1. processing: upload + processing of a large zip, against copying the same file and hashing it once;
2. memory: the server's peak RSS growth while taking that upload, against the zip's size;
3. re-push: bytes sent when all files but one match the pool, against the first push;
4. resource_matches: 5000 fingerprints, against one request with a single fingerprint.
Sizes: BENCH_ZIP_MB (default 200).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

CLI = [sys.executable, "-m", "capi_cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def make_zip(path: Path, total_mb: int, files: int = 200) -> dict[str, bytes]:
    """Mostly incompressible content in many files (pool-sized), like a real app's dependencies."""
    size = total_mb * 1024 * 1024 // files
    heads: dict[str, bytes] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for i in range(files):
            data = os.urandom(size)
            name = f"node_modules/pkg{i:04}/index.bin"
            zf.writestr(name, data)
            heads[name] = data
    return heads


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CAPI_DATA_DIR": str(data_dir),
            "CAPI_PORT": str(self.port),
            "CAPI_LOG_LEVEL": "warning",
            "CAPI_WORKER_POLL_SECONDS": "0.02",
        }
        self.proc = subprocess.Popen(
            [*CLI, "serve"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(300):
            try:
                httpx.get(self.url + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        token = subprocess.run(
            [*CLI, "token", "--user-id", "bench", "--admin"], env=self.env, capture_output=True, text=True, check=True
        ).stdout.strip()
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"bearer {token}"}, timeout=600)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)

    def post(self, path: str, body: dict) -> dict:
        r = self.client.post(path, json=body)
        r.raise_for_status()
        return r.json()

    def new_package(self, app_guid: str) -> str:
        return self.post("/v3/packages", {"type": "bits", "relationships": {"app": {"data": {"guid": app_guid}}}})[
            "guid"
        ]

    def upload_and_wait(self, guid: str, zip_path: Path | None, resources: list) -> tuple[float, float, int]:
        boundary = "benchboundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="resources"\r\n\r\n{json.dumps(resources)}\r\n'
        ).encode()
        file_head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="bits"; filename="package.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = zip_path.stat().st_size if zip_path else 0

        def body():
            yield head
            if zip_path:
                yield file_head
                with open(zip_path, "rb") as f:
                    while chunk := f.read(1024 * 1024):
                        yield chunk
            yield tail

        length = len(head) + len(tail) + (len(file_head) + size if zip_path else 0)
        start = time.perf_counter()
        r = self.client.post(
            f"/v3/packages/{guid}/upload",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length)},
        )
        r.raise_for_status()
        request_done = time.perf_counter() - start
        while (state := self.client.get(f"/v3/packages/{guid}").json()["state"]) == "PROCESSING_UPLOAD":
            time.sleep(0.02)
        assert state == "READY", state
        return request_done, time.perf_counter() - start, length


def baseline_store_and_hash(src: Path, dest: Path) -> float:
    start = time.perf_counter()
    h = hashlib.sha256()
    with open(src, "rb") as f, open(dest, "wb") as out:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return time.perf_counter() - start


def main() -> None:
    zip_mb = int(os.environ.get("BENCH_ZIP_MB", "200"))
    work = Path(tempfile.mkdtemp(prefix="capi-bench-"))
    results: dict[str, object] = {"zip_mb": zip_mb}
    try:
        zip_path = work / "app.zip"
        contents = make_zip(zip_path, zip_mb)
        base = baseline_store_and_hash(zip_path, work / "copy.zip")
        server = Server(work / "data")
        try:
            org = server.post("/v3/organizations", {"name": "bench"})
            space = server.post(
                "/v3/spaces", {"name": "s", "relationships": {"organization": {"data": {"guid": org["guid"]}}}}
            )
            app = server.post("/v3/apps", {"name": "a", "relationships": {"space": {"data": {"guid": space["guid"]}}}})
            rss_before = rss_kib(server.proc.pid)
            request_s, elapsed, sent_first = server.upload_and_wait(server.new_package(app["guid"]), zip_path, [])
            peak = rss_kib(server.proc.pid, "VmHWM")
            results["upload_request_seconds"] = round(request_s, 3)
            results["upload_until_ready_seconds"] = round(elapsed, 3)
            results["baseline_store_and_hash_seconds"] = round(base, 3)
            results["processing_ratio"] = round(elapsed / base, 2)
            results["peak_rss_growth_mib"] = round((peak - rss_before) / 1024, 1)
            results["rss_growth_per_zip_size"] = round((peak - rss_before) / 1024 / zip_mb, 3)

            # Re-push: everything but one changed file matches the pool.
            fingerprints = [
                {"checksum": {"value": hashlib.sha1(d).hexdigest()}, "size_in_bytes": len(d), "path": n, "mode": "644"}
                for n, d in contents.items()
            ]
            changed = next(iter(contents))
            matched = server.client.post("/v3/resource_matches", json={"resources": fingerprints[1:]}).json()[
                "resources"
            ]
            small = work / "changed.zip"
            with zipfile.ZipFile(small, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(changed, b"changed content")
            _, _, sent_second = server.upload_and_wait(server.new_package(app["guid"]), small, matched)
            results["repush_bytes_sent"] = sent_second
            results["repush_ratio"] = round(sent_second / sent_first, 5)

            # resource_matches: 5000 fingerprints vs 1.
            many = [
                {
                    "checksum": {"value": hashlib.sha1(str(i).encode()).hexdigest()},
                    "size_in_bytes": 100_000,
                    "path": f"f{i}",
                    "mode": "644",
                }
                for i in range(4800)
            ] + fingerprints[:200]
            one = many[:1]
            timings = {}
            for label, body in (("one", one), ("many", many)):
                start = time.perf_counter()
                for _ in range(5):
                    server.client.post("/v3/resource_matches", json={"resources": body}).raise_for_status()
                timings[label] = (time.perf_counter() - start) / 5
            results["resource_matches_5000_seconds"] = round(timings["many"], 4)
            results["resource_matches_ratio_vs_1"] = round(timings["many"] / timings["one"], 1)
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = io.StringIO()
    json.dump(results, out, indent=2)
    print(out.getvalue())
    Path(".bench").mkdir(exist_ok=True)
    Path(".bench/results.json").write_text(out.getvalue())


if __name__ == "__main__":
    main()
