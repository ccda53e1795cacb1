"""`make soak`: a minute of mixed traffic against 2 API and 2 worker processes on PostgreSQL.

Reports requests, 5xx answers, lost creates (a package answered 201 that later is not there, or
an upload answered 200 that never ends READY or FAILED) and double-run jobs (claimed more than
once), into bench/soak-<date>.json and bench/SOAK.md. All three must be 0; the exit code says so.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks.common import CLI, free_port

BOUNDARY = "soakboundary"


@dataclass
class Tally:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    by_status: dict[int, int] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    uploaded: set[str] = field(default_factory=set)
    transport_errors: list[str] = field(default_factory=list)

    def note(self, r: httpx.Response, what: str) -> httpx.Response:
        self.requests += 1
        self.by_status[r.status_code] = self.by_status.get(r.status_code, 0) + 1
        if r.status_code >= 500:
            self.server_errors.append(f"{what}: {r.status_code} {r.text[:200]}")
        return r


def small_zip(i: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.js", f"console.log({i})")
        zf.writestr("lib/big.bin", os.urandom(70_000))  # pool-sized: exercises the resource pool
    return buf.getvalue()


def multipart(zip_bytes: bytes) -> tuple[bytes, str]:
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="resources"\r\n\r\n[]\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="bits"; filename="package.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + zip_bytes
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={BOUNDARY}"


async def user_loop(apis: list[str], token: str, app_guids: list[str], tally: Tally, until: float, n: int) -> None:
    headers = {"Authorization": f"bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        i = 0
        while time.monotonic() < until:
            i += 1
            try:
                await one_action(client, apis, app_guids, tally, n, i)
            except httpx.TransportError as e:
                # A connection the server dropped (or never answered on) counts against it too.
                tally.requests += 1
                tally.transport_errors.append(f"{type(e).__name__}: {e}")


async def one_action(
    client: httpx.AsyncClient, apis: list[str], app_guids: list[str], tally: Tally, n: int, i: int
) -> None:
    api = random.choice(apis)
    app = random.choice(app_guids)
    roll = random.random()
    if roll < 0.35:
        body = {"type": "bits", "relationships": {"app": {"data": {"guid": app}}}}
        r = tally.note(await client.post(f"{api}/v3/packages", json=body), "create")
        if r.status_code != 201:
            return
        guid = r.json()["guid"]
        tally.created.add(guid)
        content, ctype = multipart(small_zip(n * 100_000 + i))
        r = tally.note(
            await client.post(f"{api}/v3/packages/{guid}/upload", content=content, headers={"Content-Type": ctype}),
            "upload",
        )
        if r.status_code == 200:
            tally.uploaded.add(guid)
    elif roll < 0.6:
        tally.note(await client.get(f"{api}/v3/packages", params={"per_page": 20}), "list")
    elif roll < 0.7 and tally.created:
        guid = random.choice(sorted(tally.created))
        tally.note(await client.get(f"{api}/v3/packages/{guid}"), "get")
    elif roll < 0.8 and tally.uploaded:
        guid = random.choice(sorted(tally.uploaded))
        r = tally.note(await client.get(f"{api}/v3/packages/{guid}/download"), "download")
        if r.status_code == 302:
            tally.note(await client.get(r.headers["location"]), "blob")
    elif roll < 0.9:
        fp = {"checksum": {"value": uuid.uuid4().hex[:40].ljust(40, "0")}, "size_in_bytes": 70_000}
        tally.note(
            await client.post(f"{api}/v3/resource_matches", json={"resources": [{**fp, "path": "a", "mode": "644"}]}),
            "matches",
        )
    elif tally.created - tally.uploaded - tally.deleted:
        guid = random.choice(sorted(tally.created - tally.uploaded - tally.deleted))
        r = tally.note(await client.delete(f"{api}/v3/packages/{guid}"), "delete")
        if r.status_code == 202:
            tally.deleted.add(guid)
    else:
        tally.note(await client.get(f"{api}/v3"), "root")


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/", timeout=1)
            return
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server at {url} did not start") from None
            time.sleep(0.2)


def postgres_url() -> str:
    given = os.environ.get("CAPI_TEST_DATABASE_URL")
    if given:
        return given
    return subprocess.run(["scripts/start-postgres.sh"], check=True, capture_output=True, text=True).stdout.strip()


def soak(seconds: float, users: int) -> dict[str, Any]:
    admin_url = postgres_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"capi_soak_{os.getpid()}"
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    db_url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    work = Path(tempfile.mkdtemp(prefix="capi-soak-"))
    ports = [free_port(), free_port()]
    base_env = {
        **os.environ,
        "CAPI_DATA_DIR": str(work / "data"),
        "CAPI_DATABASE_URL": db_url,
        "CAPI_LOG_LEVEL": "warning",
        # One issuer and one link base for both API processes: a token from either works on both.
        "CAPI_EXTERNAL_URL": f"http://127.0.0.1:{ports[0]}",
        "CAPI_WORKER_POLL_SECONDS": "0.05",
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*CLI, "migrate"], env=base_env, check=True, capture_output=True)
        apis = []
        for port in ports:
            env = {**base_env, "CAPI_PORT": str(port), "CAPI_WORKER_ENABLED": "false"}
            procs.append(start([*CLI, "serve"], env, work / f"api-{port}.log"))
            apis.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(apis, procs, strict=True):
            wait_ready(url, proc)
        for n in range(2):
            procs.append(start([*CLI, "worker"], base_env, work / f"worker-{n}.log"))
        token = subprocess.run(
            [*CLI, "token", "--user-id", "soak", "--admin"], env=base_env, check=True, capture_output=True, text=True
        ).stdout.strip()
        with httpx.Client(base_url=apis[0], headers={"Authorization": f"bearer {token}"}) as c:
            org = c.post("/v3/organizations", json={"name": "soak"}).json()
            rel = {"organization": {"data": {"guid": org["guid"]}}}
            space = c.post("/v3/spaces", json={"name": "s", "relationships": rel}).json()
            apps = [
                c.post(
                    "/v3/apps", json={"name": f"a{i}", "relationships": {"space": {"data": {"guid": space["guid"]}}}}
                ).json()["guid"]
                for i in range(8)
            ]
        tally = Tally()
        started = time.monotonic()

        async def everyone() -> None:
            until = time.monotonic() + seconds
            await asyncio.gather(*(user_loop(apis, token, apps, tally, until, n) for n in range(users)))

        asyncio.run(everyone())
        elapsed = time.monotonic() - started
        lost = settle_and_count_lost(apis[0], token, tally)
        engine = create_engine(db_url, poolclass=NullPool)
        with engine.connect() as c:
            double_run = c.execute(text("SELECT count(*) FROM jobs WHERE attempts > 1")).scalar() or 0
            jobs = c.execute(text("SELECT count(*) FROM jobs")).scalar() or 0
        engine.dispose()
        return {
            "seconds": round(elapsed, 1),
            "users": users,
            "requests": tally.requests,
            "requests_per_second": round(tally.requests / elapsed, 1),
            "by_status": {str(k): v for k, v in sorted(tally.by_status.items())},
            "server_errors": len(tally.server_errors),
            "server_error_samples": tally.server_errors[:5],
            "transport_errors": len(tally.transport_errors),
            "transport_error_samples": tally.transport_errors[:5],
            "creates": len(tally.created),
            "uploads": len(tally.uploaded),
            "lost_creates": lost,
            "jobs": jobs,
            "double_run_jobs": double_run,
        }
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def settle_and_count_lost(api: str, token: str, tally: Tally) -> int:
    """Every created package is still there (unless deleted); every upload ends READY, FAILED or EXPIRED."""
    headers = {"Authorization": f"bearer {token}"}
    deadline = time.monotonic() + 120
    lost = 0
    with httpx.Client(base_url=api, headers=headers, timeout=30) as c:
        for guid in sorted(tally.created - tally.deleted):
            while True:
                r = c.get(f"/v3/packages/{guid}")
                if r.status_code != 200:
                    lost += 1
                    break
                state = r.json()["state"]
                if guid not in tally.uploaded or state in ("READY", "FAILED", "EXPIRED"):
                    if guid in tally.uploaded and state == "FAILED":
                        lost += 1  # the uploads are all valid zips
                    break
                if time.monotonic() > deadline:
                    lost += 1
                    break
                time.sleep(0.2)
    return lost


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=24)
    args = parser.parse_args()
    result = soak(args.seconds, args.users)
    ok = not (
        result["server_errors"] or result["transport_errors"] or result["lost_creates"] or result["double_run_jobs"]
    )
    result["verdict"] = "pass" if ok else "FAIL"
    stamp = datetime.now(UTC)
    out = Path("bench")
    out.mkdir(exist_ok=True)
    (out / f"soak-{stamp:%Y-%m-%d}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "SOAK.md").write_text(
        f"# Soak\n\n`make soak` on {stamp:%Y-%m-%d}: {result['seconds']} s, {result['users']} concurrent users, "
        "2 API + 2 worker processes on PostgreSQL.\n\n"
        "| requests | req/s | 5xx | dropped connections | creates | uploads | lost creates | jobs | double-run jobs "
        "| verdict |\n|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {result['requests']} | {result['requests_per_second']} | {result['server_errors']} "
        f"| {result['transport_errors']} | {result['creates']} "
        f"| {result['uploads']} | {result['lost_creates']} | {result['jobs']} | {result['double_run_jobs']} "
        f"| {result['verdict']} |\n"
    )
    print(json.dumps(result, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
