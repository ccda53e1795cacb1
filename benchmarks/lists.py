"""P4: `GET /v3/packages?per_page=50&label_selector=env=prod` over 100,000 packages, 32 connections.

The database is seeded in bulk: the schema comes from the project's migrations, then orgs, spaces,
apps, packages and their labels and annotations are inserted with multi-row INSERTs through the
project's models and engine (no HTTP, so seeding takes seconds). Every package carries the labels
`env` (one in five `prod`, the rest `staging` or `dev`) and `team`, and one annotation. A real
`capi-packages serve` process then answers `wrk` (Debian's package) with 32 connections, alternating
runs of the baseline (`GET /`, unauthenticated, on the same server) and of the list with an admin
token; the row holds the medians of the runs. A second row repeats it on PostgreSQL when
`CAPI_BENCH_DATABASE_URL` names a server (a scratch database is created there and dropped after).

Run alone: `python -m benchmarks.lists [--quick]` (`--quick`: 2,000 packages, 2-second runs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks.common import Row, ensure_debian_tool, row, server
from capi_packages.db import migrate
from capi_packages.db.session import make_engine
from capi_packages.orgs.models import App, Organization, Space
from capi_packages.packages.models import Package, PackageAnnotation, PackageLabel
from capi_packages.settings import Settings

LIST_PATH = "/v3/packages?per_page=50&label_selector=env%3Dprod"
CONNECTIONS = 32
PACKAGES_PER_APP = 100
PROD_SHARE = 5  # one package in PROD_SHARE is env=prod
TARGET = "≥ 0.5 of GET / req/s, p99 ≤ 50 ms"
_BATCH = 5000


def seed(database_url: str | None, data_dir: Path, packages: int) -> None:
    """Migrate a fresh database and bulk-insert `packages` packages with labels and annotations."""
    settings = Settings(data_dir=data_dir, database_url=database_url)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    base = datetime(2024, 1, 1)
    apps = max(1, packages // PACKAGES_PER_APP)
    with engine.begin() as conn:
        conn.execute(insert(Organization), [{"guid": str(uuid.uuid4()), "name": "bench-org", "status": "active"}])
        org_id = conn.execute(text("SELECT id FROM organizations")).scalar_one()
        conn.execute(
            insert(Space), [{"guid": str(uuid.uuid4()), "name": "s", "organization_id": org_id, "status": "active"}]
        )
        space_id = conn.execute(text("SELECT id FROM spaces")).scalar_one()
        app_guids = [str(uuid.uuid4()) for _ in range(apps)]
        conn.execute(
            insert(App),
            [
                {"guid": g, "name": f"app-{i}", "space_id": space_id, "lifecycle_type": "buildpack"}
                for i, g in enumerate(app_guids)
            ],
        )
        for start in range(0, packages, _BATCH):
            numbers = range(start, min(packages, start + _BATCH))
            guids = [str(uuid.uuid4()) for _ in numbers]
            stamps = [base + timedelta(seconds=n) for n in numbers]
            conn.execute(
                insert(Package),
                [
                    {
                        "guid": guid,
                        "app_guid": app_guids[n % apps],
                        "type": "bits",
                        "state": "READY" if n % 3 else "AWAITING_UPLOAD",
                        "package_hash": "0" * 40,
                        "sha256_checksum": "0" * 64,
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                    for n, guid, stamp in zip(numbers, guids, stamps, strict=True)
                ],
            )
            labels: list[dict[str, Any]] = []
            for n, guid in zip(numbers, guids, strict=True):
                env = "prod" if n % PROD_SHARE == 0 else ("staging" if n % 2 else "dev")
                labels.append({"resource_guid": guid, "key_prefix": "", "key_name": "env", "value": env})
                labels.append({"resource_guid": guid, "key_prefix": "", "key_name": "team", "value": f"t{n % 40}"})
            conn.execute(insert(PackageLabel), labels)
            conn.execute(
                insert(PackageAnnotation),
                [
                    {"resource_guid": guid, "key_prefix": "example.com", "key_name": "owner", "value": f"user-{n}"}
                    for n, guid in zip(numbers, guids, strict=True)
                ],
            )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


_REQS = re.compile(r"Requests/sec:\s+([\d.]+)")
_P99 = re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def wrk(url: str, seconds: int, headers: dict[str, str] | None = None) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) of one wrk run with CONNECTIONS connections."""
    tool = ensure_debian_tool("wrk", "wrk")
    args = [tool, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if (bad := _NON_2XX.search(out)) is not None:
        raise RuntimeError(f"{bad[1]} requests to {url} failed:\n{out}")
    reqs, p99 = _REQS.search(out), _P99.search(out)
    if reqs is None or p99 is None:
        raise RuntimeError(f"unreadable wrk output:\n{out}")
    return float(reqs[1]), float(p99[1]) * _UNITS[p99[2]]


def measure(database_url: str | None, packages: int, runs: int, seconds: int, label: str) -> Row:
    work = Path(tempfile.mkdtemp(prefix="capi-bench-lists-"))
    try:
        seed(database_url, work / "data", packages)
        env = {"CAPI_WORKER_ENABLED": "false", **({"CAPI_DATABASE_URL": database_url} if database_url else {})}
        with server(work / "data", **env) as s:
            auth = {"Authorization": f"bearer {s.token}"}
            check = s.client.get(LIST_PATH).json()
            expected = -(-packages // PROD_SHARE)
            if check["pagination"]["total_results"] != expected or len(check["resources"]) != min(50, expected):
                raise RuntimeError(f"the list answered {check['pagination']}, expected {expected} packages")
            wrk(s.url + LIST_PATH, 1, auth)  # warm the caches and the connection pool
            ours: list[tuple[float, float]] = []
            base: list[tuple[float, float]] = []
            for _ in range(runs):
                base.append(wrk(s.url + "/", seconds))
                ours.append(wrk(s.url + LIST_PATH, seconds, auth))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reqs = statistics.median(r for r, _ in ours)
    p99 = statistics.median(p for _, p in ours)
    baseline = statistics.median(r for r, _ in base)
    baseline_p99 = statistics.median(p for _, p in base)
    result = row(
        "P4",
        f"GET {LIST_PATH} over {packages:,} packages, {CONNECTIONS} connections, {label} "
        f"(p99 {p99:.1f} ms; GET / p99 {baseline_p99:.1f} ms)",
        "req/s",
        reqs,
        baseline,
        TARGET,
        lambda ratio: ratio >= 0.5 and p99 <= 50,
    )
    return result


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    name = f"capi_bench_lists_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def run_p4(quick: bool) -> list[dict[str, Any]]:
    packages, runs, seconds = (2_000, 3, 2) if quick else (100_000, 3, 10)
    rows: list[dict[str, Any]] = [dict(measure(None, packages, runs, seconds, "SQLite"))]
    pg_url = os.environ.get("CAPI_BENCH_DATABASE_URL")
    if pg_url:
        with scratch_postgres(pg_url) as url:
            rows.append(dict(measure(url, packages, runs, seconds, "PostgreSQL")))
    return rows


def run(quick: bool) -> list[Row]:
    return [Row(**r) for r in run_p4(quick)]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lists")
    parser.add_argument("--quick", action="store_true", help="2,000 packages and short runs: proves it runs")
    args = parser.parse_args()
    for r in run_p4(args.quick):
        print(json.dumps(r, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
