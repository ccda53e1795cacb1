"""P1 (upload → READY against the floor and against the Cloud Controller's algorithm) and P3 (peak RSS).

P1's app is 5,000 files, half random and half source text, 200 MiB inflated (about 123 MB zipped).

- floor: what any implementation must do with those bytes: copy the zip with fsync, sha1 and
  sha256 of it, and one inflate + CRC-32 pass over every entry (single thread);
- CC: the Cloud Controller packer's steps with the tools it runs (Info-ZIP from Debian): copy the
  upload, `unzip -qq -n` it to disk, sha1 and copy the pool-sized files into a pool directory,
  `zip -q -r --symlinks` the tree into the package, sha1 and sha256 of the result;
- ours: a real `capi-packages serve` process, the multipart upload as the cf CLI sends it,
  until GET shows READY (polled every 25 ms). After the warm-up upload the resource pool holds
  the app's pool-sized files, as it does for every push of an app after its first.

P3 is the server's peak RSS (VmHWM) above its idle RSS while a 1 GB zip is received and processed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import struct
import subprocess
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

from benchmarks.app_files import AppFiles, stored_zip
from benchmarks.common import MiB, Row, ensure_debian_tool, row, rss_kib, server

POOL_MIN, POOL_MAX = 65536, 536870912
POLL = 0.025
_LOCAL = struct.Struct("<4sHHHHHIIIHH")


def ensure_info_zip() -> None:
    """CC shells out to Info-ZIP's unzip and zip; install them from Debian when missing."""
    for tool in ("unzip", "zip"):
        ensure_debian_tool(tool, tool)


def copy_and_hash(src: Path, dest: Path) -> None:
    sha1, sha256 = hashlib.sha1(usedforsecurity=False), hashlib.sha256()
    with open(src, "rb") as f, open(dest, "wb") as out:
        while chunk := f.read(MiB):
            sha1.update(chunk)
            sha256.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())


def inflate_and_crc(zip_path: Path) -> None:
    with open(zip_path, "rb") as f, zipfile.ZipFile(f) as zf:
        infos = zf.infolist()
        for info in infos:
            f.seek(info.header_offset)
            head = _LOCAL.unpack(f.read(_LOCAL.size))
            f.seek(info.header_offset + _LOCAL.size + head[9] + head[10])
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            crc, left = 0, info.compress_size
            while left > 0:
                data = f.read(min(MiB, left))
                left -= len(data)
                crc = zlib.crc32(inflater.decompress(data), crc)
            if crc != info.CRC:
                raise RuntimeError(f"bad CRC in {info.filename}")


def floor(zip_path: Path, work: Path) -> float:
    dest = work / "floor.zip"
    start = time.perf_counter()
    copy_and_hash(zip_path, dest)
    inflate_and_crc(zip_path)
    took = time.perf_counter() - start
    dest.unlink()
    return took


def cc_algorithm(zip_path: Path, work: Path) -> float:
    root = work / "cc"
    shutil.rmtree(root, ignore_errors=True)
    contents, pool = root / "application_contents", root / "pool"
    contents.mkdir(parents=True)
    pool.mkdir()
    start = time.perf_counter()
    copied = root / "copied_app_package.zip"
    shutil.copyfile(zip_path, copied)
    subprocess.run(["unzip", "-qq", "-n", str(copied), "-d", str(contents)], check=True)
    for dirpath, _dirs, files in os.walk(contents):
        for name in files:
            path = Path(dirpath, name)
            if path.is_symlink() or not POOL_MIN <= path.stat().st_size <= POOL_MAX:
                continue
            digest = hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()
            if not (pool / digest).exists():
                shutil.copyfile(path, pool / digest)
    package = root / "package.zip"
    subprocess.run(["zip", "-q", "-r", "--symlinks", str(package), "."], cwd=contents, check=True)
    copy_and_hash(package, root / "stored.zip")
    took = time.perf_counter() - start
    shutil.rmtree(root, ignore_errors=True)
    return took


def run(quick: bool) -> list[Row]:
    ensure_info_zip()
    files, inflated = (500, 20 * MiB) if quick else (5000, 200 * MiB)
    runs, cc_runs = (2, 1) if quick else (5, 3)
    work = Path(tempfile.mkdtemp(prefix="capi-bench-"))
    try:
        zip_path = AppFiles(files, inflated).write_zip(work / "app.zip")
        zip_mb = zip_path.stat().st_size / 1e6
        ours: list[float] = []
        answered: list[float] = []
        floors: list[float] = []
        ccs: list[float] = []
        with server(work / "data") as s:
            app = s.new_app()
            s.upload_and_wait(s.new_package(app), zip_path, [])  # warm the server up
            for i in range(runs):
                floors.append(floor(zip_path, work))
                request_done, ready, _sent = s.upload_and_wait(s.new_package(app), zip_path, [], poll=POLL)
                ours.append(ready)
                answered.append(request_done)
                if i < cc_runs:
                    ccs.append(cc_algorithm(zip_path, work))
        p3_rows = _peak_rss(work, quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mine, base, cc = statistics.median(ours), statistics.median(floors), statistics.median(ccs)
    scenario = f"upload → READY, {zip_mb:.0f} MB zip of {files} files, {inflated // MiB} MiB inflated"
    return [
        row("P1", scenario + " (vs floor)", "s", mine, base, "≤ 1.5× floor", lambda r: r <= 1.5),
        row("P1-cc", scenario + " (vs CC's algorithm)", "s", mine, cc, "≥ 10× faster than CC", lambda r: r <= 0.1),
        row(
            "P1-rx",
            scenario + ": until the upload is answered (vs floor)",
            "s",
            statistics.median(answered),
            base,
            "(breakdown)",
            lambda _r: True,
        ),
        *p3_rows,
    ]


def _peak_rss(work: Path, quick: bool) -> list[Row]:
    count, size = (20, 1_000_000) if quick else (1000, 1_000_000)
    zip_path = stored_zip(work / "big.zip", count, size)
    try:
        with server(work / "data-p3") as s:
            app = s.new_app()
            guid = s.new_package(app)
            idle = rss_kib(s.proc.pid)
            s.upload_and_wait(guid, zip_path, [], poll=POLL)
            peak = rss_kib(s.proc.pid, "VmHWM")
    finally:
        zip_path.unlink(missing_ok=True)
    growth_mib = (peak - idle) / 1024
    return [
        row(
            "P3",
            f"server peak RSS above idle, {count * size / 1e9:g} GB upload received and processed",
            "MiB",
            growth_mib,
            150,
            "≤ idle + 150 MB",
            lambda r: r <= 1,
        )
    ]
