"""P7: `capi-packages push` of a node_modules-like tree (30,000 files of 1-4 KB) until READY,
against the floor of zipping the same tree with zipfile at level 1 while hashing every file.

P8: the same tree pushed again, unchanged, with the CLI, against its first push to a fresh app
(rounds interleaved: the floor, a first push to a fresh app, the re-push; medians of 3)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks.common import CLI, Row, row, server

WORDS = [b"var", b"function", b"return", b"const", b"require('x')", b"=>", b"{", b"}", b";", b"\n", b"exports"]


def make_tree(root: Path, files: int) -> None:
    """Files of 1-4 KB of source-like text, 30 to a package, every third one in a `lib/`."""
    rng = random.Random(7)
    for i in range(files):
        directory = root / "node_modules" / f"pkg{i // 30:04}" / ("lib" if i % 3 else "")
        directory.mkdir(parents=True, exist_ok=True)
        size = rng.randint(1024, 4096)
        data = b" ".join(rng.choice(WORDS) for _ in range(size // 3))[:size]
        (directory / f"file{i}.js").write_bytes(data)


def zip_floor(root: Path, dest: Path) -> float:
    """The least a push must do: read each file once, hash it, deflate it at level 1."""
    start = time.perf_counter()
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    data = f.read()
                hashlib.sha1(data).hexdigest()
                archive.writestr(os.path.relpath(path, root), data)
    return time.perf_counter() - start


def run(quick: bool) -> list[Row]:
    files = 2_000 if quick else 30_000
    runs = 1 if quick else 3
    work = Path(tempfile.mkdtemp(prefix="capi-bench-push-"))
    try:
        tree = work / "app"
        make_tree(tree, files)
        with server(work / "data", CAPI_WORKER_POLL_SECONDS="0.02") as s:
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("CAPI_")},
                "CAPI_API_URL": s.url,
                "CAPI_TOKEN": s.token,
                "CAPI_CONFIG": str(work / "cli-config.json"),
            }

            def push(to: str) -> tuple[float, dict[str, int]]:
                start = time.perf_counter()
                done = subprocess.run(
                    [*CLI, "push", str(tree), "--app-guid", to, "--json"],
                    env=env,
                    check=True,
                    capture_output=True,
                    stdin=subprocess.DEVNULL,
                )
                return time.perf_counter() - start, json.loads(done.stdout)["push"]

            # Each round: the floor, a first push to a fresh app (P7, and P8's baseline), the same
            # tree pushed again to that app (P8). A first push must meet an app without this tree.
            floors: list[float] = []
            firsts: list[tuple[float, dict[str, int]]] = []
            again: list[tuple[float, dict[str, int]]] = []
            for i in range(runs):
                floors.append(zip_floor(tree, work / "floor.zip"))
                fresh = s.new_app(f"push-{i}")
                firsts.append(push(fresh))
                again.append(push(fresh))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    first_time = statistics.median(t for t, _ in firsts)
    again_time = statistics.median(t for t, _ in again)
    first_sent = statistics.median(summary["bytes_sent"] for _, summary in firsts)
    again_sent = statistics.median(summary["bytes_sent"] for _, summary in again)
    unchanged = f"push of {files:,} files of 1-4 KB again, unchanged, vs its first push (CLI, to READY)"
    return [
        row("P8", unchanged + ": time", "s", again_time, first_time, "≤ 0.3×", lambda ratio: ratio <= 0.3),
        row(
            "P8-bytes",
            unchanged + ": bytes sent",
            "MB",
            again_sent / 1e6,
            first_sent / 1e6,
            "(breakdown)",
            lambda ratio: ratio <= 0.05,
        ),
        row(
            "P7",
            f"push of {files:,} files of 1-4 KB to READY vs zipfile level 1 + sha1 of the tree",
            "s",
            first_time,
            statistics.median(floors),
            "≤ 1.3×",
            lambda ratio: ratio <= 1.3,
        ),
    ]
