"""P2: re-push of 2,000 × 100 KiB files with one file changed, against the first push of them.

Both pushes go through `capi_client.push_directory` (as it is, with its own zipping and polling)
against a real server. Rows: bytes sent (request bodies), wall time of the push, and the server's
share: from the upload request to READY, polled every 10 ms, with the same bodies.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.app_files import AppFiles
from benchmarks.common import Row, row, server
from capi_client import PackagesClient, push_directory
from capi_client.push import POOL_MINIMUM_SIZE, collect_files, write_zip


class _Counter:
    def __init__(self) -> None:
        self.sent = 0

    def __call__(self, request: httpx.Request) -> None:
        self.sent += int(request.headers.get("content-length") or 0)


def _push(client: PackagesClient, counter: _Counter, app: str, tree: Path) -> tuple[float, int]:
    counter.sent = 0
    start = time.perf_counter()
    push_directory(client, app, tree)
    return time.perf_counter() - start, counter.sent


def _server_side(client: PackagesClient, app: str, tree: Path, work: Path, *, match: bool) -> float:
    """The push's server work alone: the upload of what `push` would send, until READY."""
    files = collect_files(tree)
    fingerprints = [f.fingerprint() for f in files if f.is_regular and f.size >= POOL_MINIMUM_SIZE]
    cached = client.match_resources(fingerprints) if match else []
    cached_paths = {r.path for r in cached}
    archive = work / "rest.zip"
    with open(archive, "wb") as f:
        write_zip(f, [f for f in files if f.path not in cached_paths])
    package = client.create_package(app, "bits")
    start = time.perf_counter()
    client.upload_bits(package.guid, archive, resources=cached)
    client.wait_until_ready(package, interval=0.025)
    return time.perf_counter() - start


def run(quick: bool) -> list[Row]:
    count = 200 if quick else 2000
    runs = 1 if quick else 3
    work = Path(tempfile.mkdtemp(prefix="capi-bench-"))
    try:
        files = AppFiles(count, count * 100 * 1024, fixed_size=100 * 1024)
        tree = files.write_tree(work / "app")
        changed = tree / files.name(1)
        counter = _Counter()
        firsts: list[tuple[float, int]] = []
        repushes: list[tuple[float, int]] = []
        server_first: list[float] = []
        server_again: list[float] = []
        for i in range(runs):
            # A fresh server per round, so each first push meets an empty resource pool.
            with server(work / f"push-{i}") as s, httpx.Client(event_hooks={"request": [counter]}, timeout=600) as http:
                client = PackagesClient(s.url, s.token, http_client=http)
                app = s.new_app()
                firsts.append(_push(client, counter, app, tree))
                changed.write_bytes(files.content(1, salt=b"push %d" % i))
                repushes.append(_push(client, counter, app, tree))
            with server(work / f"server-{i}") as s, PackagesClient(s.url, s.token, timeout=600) as client:
                app = s.new_app()
                server_first.append(_server_side(client, app, tree, work, match=False))
                changed.write_bytes(files.content(1, salt=b"server %d" % i))
                server_again.append(_server_side(client, app, tree, work, match=True))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    first_time = statistics.median(t for t, _ in firsts)
    again_time = statistics.median(t for t, _ in repushes)
    first_bytes = statistics.median(b for _, b in firsts)
    again_bytes = statistics.median(b for _, b in repushes)
    what = f"re-push of {count} × 100 KiB files, one changed, against the first push"
    return [
        row(
            "P2-bytes", what + ": bytes sent", "MB", again_bytes / 1e6, first_bytes / 1e6, "≤ 5 %", lambda r: r <= 0.05
        ),
        row("P2", what + ": time (push_directory)", "s", again_time, first_time, "≤ 0.3×", lambda r: r <= 0.3),
        row(
            "P2-server",
            what + ": upload → READY (server side)",
            "s",
            statistics.median(server_again),
            statistics.median(server_first),
            "≤ 0.3×",
            lambda r: r <= 0.3,
        ),
    ]
