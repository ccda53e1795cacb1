"""P6: `POST /v3/resource_matches` with 5,000 fingerprints (half known) against one fingerprint."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks.common import Row, interleaved, row, server


def run(quick: bool) -> list[Row]:
    count = 500 if quick else 5000
    runs = 3 if quick else 7
    work = Path(tempfile.mkdtemp(prefix="capi-bench-"))
    try:
        with server(work / "data", CAPI_WORKER_POLL_SECONDS="0.02") as s:
            app = s.new_app()
            # Fill the pool with half of the fingerprints' content (pool-sized files).
            known = [bytes([i % 256]) * 70_000 + str(i).encode() for i in range(count // 2)]
            zip_path = work / "pool.zip"
            with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
                for i, data in enumerate(known):
                    zf.writestr(f"f{i}", data)
            s.upload_and_wait(s.new_package(app), zip_path, [])
            fingerprints = [
                {
                    "checksum": {"value": hashlib.sha1(d).hexdigest()},
                    "size_in_bytes": len(d),
                    "path": f"k{i}",
                    "mode": "644",
                }
                for i, d in enumerate(known)
            ] + [
                {
                    "checksum": {"value": hashlib.sha1(str(i).encode()).hexdigest()},
                    "size_in_bytes": 100_000,
                    "path": f"u{i}",
                    "mode": "644",
                }
                for i in range(count - len(known))
            ]

            def timed(body: list[dict[str, object]]) -> float:
                start = time.perf_counter()
                s.client.post("/v3/resource_matches", json={"resources": body}).raise_for_status()
                return time.perf_counter() - start

            many, one = interleaved(runs, lambda: timed(fingerprints), lambda: timed(fingerprints[:1]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # The target is absolute (p50 ≤ 100 ms); the one-fingerprint request is the baseline beside it.
    return [
        row(
            "P6",
            f"resource_matches, {count} fingerprints, half known (p50)",
            "s",
            many,
            one,
            "p50 ≤ 100 ms",
            lambda _r: many <= 0.1,
        )
    ]
