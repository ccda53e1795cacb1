"""P1 (upload → READY against storing and hashing the zip once) and P3 (server peak RSS growth)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks.common import MiB, Row, interleaved, row, rss_kib, server


def make_zip(path: Path, total_mb: int, files: int = 200) -> dict[str, bytes]:
    """Mostly incompressible content in many pool-sized files, like a real app's dependencies."""
    size = total_mb * MiB // files
    heads: dict[str, bytes] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for i in range(files):
            data = os.urandom(size)
            name = f"node_modules/pkg{i:04}/index.bin"
            zf.writestr(name, data)
            heads[name] = data
    return heads


def store_and_hash(src: Path, dest: Path) -> float:
    start = time.perf_counter()
    h = hashlib.sha256()
    with open(src, "rb") as f, open(dest, "wb") as out:
        while chunk := f.read(MiB):
            h.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return time.perf_counter() - start


def run(quick: bool) -> list[Row]:
    zip_mb = 10 if quick else 200
    runs = 1 if quick else 3
    work = Path(tempfile.mkdtemp(prefix="capi-bench-"))
    try:
        zip_path = work / "app.zip"
        make_zip(zip_path, zip_mb)
        with server(work / "data", CAPI_WORKER_POLL_SECONDS="0.02") as s:
            app = s.new_app()
            rss_before = rss_kib(s.proc.pid)

            def upload() -> float:
                return s.upload_and_wait(s.new_package(app), zip_path, [])[1]

            ours, base = interleaved(runs, upload, lambda: store_and_hash(zip_path, work / "copy.zip"))
            peak = rss_kib(s.proc.pid, "VmHWM")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    growth_mib = (peak - rss_before) / 1024
    return [
        row("P1", f"upload → READY, {zip_mb} MB zip", "s", ours, base, "≤ 1.5× floor", lambda r: r <= 1.5),
        row(
            "P3",
            f"server peak RSS growth, {zip_mb} MB upload",
            "MiB",
            growth_mib,
            150,
            "≤ idle + 150 MB",
            lambda r: r <= 1,
        ),
    ]
