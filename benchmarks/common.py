"""What every benchmark scenario shares: a real server process, timing helpers and result rows."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

import httpx

CLI = [sys.executable, "-m", "capi_cli"]
MiB = 1024 * 1024


def _installed(command: str) -> str | None:
    # root's PATH may lack sbin, where Debian puts nginx
    return shutil.which(command) or next((p for p in (f"/usr/sbin/{command}",) if Path(p).exists()), None)


def ensure_debian_tool(command: str, package: str) -> str:
    """The path of `command`, installing Debian's `package` first when it is missing: `make bench`
    sets up its own baselines (nginx, wrk, Info-ZIP) on a fresh machine."""
    if (found := _installed(command)) is not None:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env, stdout=subprocess.DEVNULL)
    if (found := _installed(command)) is None:
        raise RuntimeError(f"installing {package} gave no {command}")
    return found


class Row(TypedDict):
    """One line of the results table: `ours` and `baseline` in `unit`, ratio = ours / baseline."""

    id: str
    scenario: str
    unit: str
    ours: float
    baseline: float
    ratio: float
    target: str
    verdict: str


def row(
    id: str, scenario: str, unit: str, ours: float, baseline: float, target: str, meets: Callable[[float], bool]
) -> Row:
    ratio = ours / baseline if baseline else float("inf")
    return Row(
        id=id,
        scenario=scenario,
        unit=unit,
        ours=round(ours, 4),
        baseline=round(baseline, 4),
        ratio=round(ratio, 4),
        target=target,
        verdict="pass" if meets(ratio) else "MISS",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def interleaved(runs: int, ours: Callable[[], float], baseline: Callable[[], float]) -> tuple[float, float]:
    """Medians of `runs` alternating measurements, so drift on a shared machine hits both alike."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        b.append(baseline())
        a.append(ours())
    return statistics.median(a), statistics.median(b)


class Server:
    """`capi-packages serve` on a free port with its own data dir, and an admin httpx client."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CAPI_DATA_DIR": str(data_dir),
            "CAPI_PORT": str(self.port),
            "CAPI_LOG_LEVEL": "warning",
            **env,
        }
        self.proc = subprocess.Popen(
            [*CLI, "serve"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.url + "/", timeout=1)
                break
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        self.token = subprocess.run(
            [*CLI, "token", "--user-id", "bench", "--admin"], env=self.env, capture_output=True, text=True, check=True
        ).stdout.strip()
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"bearer {self.token}"}, timeout=600)

    def stop(self) -> None:
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = self.client.post(path, json=body)
        r.raise_for_status()
        return r.json()

    def new_app(self, name: str = "a") -> str:
        org = self.post("/v3/organizations", {"name": f"bench-{name}"})
        space = self.post(
            "/v3/spaces", {"name": "s", "relationships": {"organization": {"data": {"guid": org["guid"]}}}}
        )
        app = self.post("/v3/apps", {"name": name, "relationships": {"space": {"data": {"guid": space["guid"]}}}})
        return str(app["guid"])

    def new_package(self, app_guid: str) -> str:
        body = {"type": "bits", "relationships": {"app": {"data": {"guid": app_guid}}}}
        return str(self.post("/v3/packages", body)["guid"])

    def upload_and_wait(
        self, guid: str, zip_path: Path | None, resources: list[Any], poll: float = 0.01
    ) -> tuple[float, float, int]:
        """Upload as the cf CLI does; (seconds until the upload answered, seconds until READY, bytes sent).

        Each poll costs the server a request, which competes with the job it waits for: poll
        less often where the job's own speed is measured."""
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

        def body() -> Iterator[bytes]:
            yield head
            if zip_path:
                yield file_head
                with open(zip_path, "rb") as f:
                    while chunk := f.read(MiB):
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
            time.sleep(poll)
        if state != "READY":
            raise RuntimeError(f"package {guid} ended {state}")
        return request_done, time.perf_counter() - start, length


@contextmanager
def server(data_dir: Path, **env: str) -> Iterator[Server]:
    s = Server(data_dir, **env)
    try:
        yield s
    finally:
        s.stop()
