"""E1/E2: the entries API. E1: the first look at a package (its zip read and every file hashed once),
against the floor of that work in-process (zipfile inflating and sha1-ing every entry). E2: a page
of a package already looked at, against `GET /v3/packages/{guid}` beside it."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from benchmarks.common import Row, interleaved, row, server


def _make_zip(path: Path, files: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for i in range(files):
            if i % 2:
                data = os.urandom(rng.randint(1_000, 40_000))
            else:
                data = (f"line {i} of some source text\n" * rng.randint(20, 600)).encode()
            zf.writestr(f"src/dir{i % 50}/file{i}.txt", data)


def _floor(path: Path) -> float:
    start = time.perf_counter()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            digest = hashlib.sha1(usedforsecurity=False)
            with zf.open(info) as member:
                while chunk := member.read(256 * 1024):
                    digest.update(chunk)
    return time.perf_counter() - start


def run(quick: bool) -> list[Row]:
    files = 300 if quick else 5000
    runs = 3 if quick else 5
    work = Path(tempfile.mkdtemp(prefix="capi-bench-"))
    try:
        zip_path = work / "app.zip"
        _make_zip(zip_path, files)
        with server(work / "data", CAPI_WORKER_POLL_SECONDS="0.02") as s:
            app = s.new_app("entries")
            source = s.new_package(app)
            s.upload_and_wait(source, zip_path, [])
            # Each cold look needs a package no one has looked at: copies share the zip, not the index.
            others = [s.new_app(f"entries-{i}") for i in range(runs)]
            copies = []
            for other in others:
                body = {"relationships": {"app": {"data": {"guid": other}}}}
                copies.append(s.post(f"/v3/packages?source_guid={source}", body)["guid"])
            for guid in copies:
                while s.client.get(f"/v3/packages/{guid}").json()["state"] != "READY":
                    time.sleep(0.01)
            pending = iter(copies)

            def cold() -> float:
                start = time.perf_counter()
                s.client.get(f"/x/packages/{next(pending)}/entries").raise_for_status()
                return time.perf_counter() - start

            first_look, floor = interleaved(runs, cold, lambda: _floor(zip_path))

            def warm() -> float:
                start = time.perf_counter()
                s.client.get(f"/x/packages/{source}/entries", params={"page": 3}).raise_for_status()
                return time.perf_counter() - start

            def plain_get() -> float:
                start = time.perf_counter()
                s.client.get(f"/v3/packages/{source}").raise_for_status()
                return time.perf_counter() - start

            s.client.get(f"/x/packages/{source}/entries").raise_for_status()
            page, package = interleaved(runs * 4, warm, plain_get)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [
        row(
            "E1",
            f"first GET /x/packages/…/entries of a {files}-file package vs zipfile inflate+sha1 of it",
            "s",
            first_look,
            floor,
            "≤ 1.5× floor",
            lambda r: r <= 1.5,
        ),
        row(
            "E2",
            "a page of entries, index cached, vs GET /v3/packages/{guid} (p50)",
            "s",
            page,
            package,
            "≤ 2× a package GET",
            lambda r: r <= 2.0,
        ),
    ]
