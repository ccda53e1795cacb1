"""Two API processes and two workers, each with a data directory of its own, sharing nothing but
PostgreSQL and an S3 server (moto), as docs/deploy.md lays them out.

40 concurrent pushes, copies and deletes spread over both API processes all end as they should,
no job runs twice and nothing is left in staging; a worker killed with SIGKILL mid-job leaves its
job to the other, and a worker stopped with SIGTERM mid-job hands its job back at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.blobstore.conftest import KEY_ID, REGION, SECRET
from tests.process.conftest import CLI, free_port, mint

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "capi/"
LEASE = 5  # seconds: a SIGKILLed worker's job is re-run after this


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the test PostgreSQL (started here when the run names none)."""
    server = (
        os.environ.get("CAPI_TEST_DATABASE_URL")
        or subprocess.run(
            ["bash", str(ROOT / "scripts/start-postgres.sh")], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"capi_multihost_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str | None = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


class Deployment:
    def __init__(self, base: Path, database: str, s3_server: Any, bucket: str) -> None:
        self.base = base
        self.common = {
            "CAPI_DATABASE_URL": database,
            "CAPI_BLOBSTORE_TYPE": "s3",
            "CAPI_S3_BUCKET": bucket,
            "CAPI_S3_ENDPOINT_URL": s3_server.endpoint_url,
            "CAPI_S3_REGION": REGION,
            "CAPI_S3_ACCESS_KEY_ID": KEY_ID,
            "CAPI_S3_SECRET_ACCESS_KEY": SECRET,
            "CAPI_S3_PREFIX": PREFIX,
            # The same on every API process: links, and the issuer of the tokens they accept.
            "CAPI_EXTERNAL_URL": "http://capi.test",
            "CAPI_LOG_LEVEL": "info",
            "CAPI_WORKER_POLL_SECONDS": "0.2",
            "CAPI_WORKER_LEASE_SECONDS": str(LEASE),
            # Every package of the test is kept (not only the newest five of each app).
            "CAPI_MAX_VALID_PACKAGES_STORED": "1000",
        }
        self.procs: list[Proc] = []

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CAPI_")}
        return {**clean, **self.common, "CAPI_DATA_DIR": str(data_dir), **extra}

    def run(self, data_dir: Path, *args: str) -> str:
        done = subprocess.run([*CLI, *args], env=self.env(data_dir), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, name: str, *args: str, host: str | None = None, **extra: str) -> Proc:
        """A process named `name`, on the host (its data dir) of that name unless `host` says another."""
        data_dir = self.base / (host or name)
        data_dir.mkdir(exist_ok=True)
        log = self.base / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen([*CLI, *args], env=self.env(data_dir, **extra), stdout=out, stderr=out)
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def start_api(self, name: str) -> Proc:
        port = free_port()
        proc = self.start(name, "serve", "--no-worker", CAPI_PORT=str(port))
        proc.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(proc.url + "/readyz", timeout=2).status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            assert proc.popen.poll() is None and time.monotonic() < deadline, proc.log_text()
            time.sleep(0.2)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait()


@contextmanager
def deployment(base: Path, database: str, s3_server: Any, bucket: str) -> Iterator[Deployment]:
    d = Deployment(base, database, s3_server, bucket)
    with ExitStack() as stack:
        stack.callback(d.stop_all)
        yield d


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def small_zip(i: int) -> bytes:
    return zip_of({"index.js": f"console.log({i})".encode(), "lib/pool.bin": os.urandom(70_000)})


def big_zip() -> bytes:
    # Hundreds of pool-sized files: each goes into the bucket's resource pool, so the job takes seconds.
    return zip_of({f"lib/f{i:03}.bin": os.urandom(80_000) for i in range(150)})


class Client:
    def __init__(self, urls: list[str], token: str) -> None:
        self.urls = urls
        self.headers = {"Authorization": f"bearer {token}"}
        self.http = httpx.Client(timeout=120, headers=self.headers)

    def call(self, i: int, method: str, path: str, expect: int, **kw: Any) -> Any:
        r = self.http.request(method, self.urls[i % len(self.urls)] + path, **kw)
        assert r.status_code == expect, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def create_package(self, i: int, app_guid: str) -> str:
        body = {"type": "bits", "relationships": {"app": {"data": {"guid": app_guid}}}}
        return str(self.call(i, "POST", "/v3/packages", 201, json=body)["guid"])

    def push(self, i: int, app_guid: str, data: bytes) -> str:
        guid = self.create_package(i, app_guid)
        # The upload goes to the other API process than the create: they share only the database.
        files = {"bits": ("package.zip", data, "application/zip")}
        self.call(i + 1, "POST", f"/v3/packages/{guid}/upload", 200, files=files)
        return guid

    def state(self, guid: str) -> tuple[int, dict[str, Any]]:
        r = self.http.get(self.urls[0] + f"/v3/packages/{guid}")
        return r.status_code, (r.json() if r.status_code == 200 else {})

    def wait_ready(self, guid: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status, pkg = self.state(guid)
            assert status == 200, (guid, status)
            if pkg["state"] in ("READY", "FAILED", "EXPIRED"):
                assert pkg["state"] == "READY", pkg
                return pkg
            assert time.monotonic() < deadline, pkg
            time.sleep(0.2)


def jobs(database: str) -> list[dict[str, Any]]:
    engine = create_engine(database, poolclass=NullPool)
    try:
        with engine.connect() as c:
            rows = c.execute(text("SELECT guid, operation, state, attempts, locked_by, payload FROM jobs"))
            return [dict(r._mapping) for r in rows]
    finally:
        engine.dispose()


def claimed_by(database: str, guid: str, workers: list[Proc], timeout: float = 60) -> tuple[Proc, dict[str, Any]]:
    """Wait until the upload job of package `guid` is claimed, and say by which worker (its pid)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for job in jobs(database):
            if job["operation"] != "package.process_upload" or (job["payload"] or {}).get("guid") != guid:
                continue
            assert job["state"] == "PROCESSING", f"the job ended before it was seen running: {job}"
            for worker in workers:
                if f":{worker.popen.pid}:" in (job["locked_by"] or ""):
                    return worker, job
        time.sleep(0.02)
    pytest.fail(f"no worker was seen running the upload of {guid}")


def staging_objects(s3: Any, bucket: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}staging/").get("Contents", [])
    return [o["Key"] for o in listed]


def test_two_api_hosts_and_two_workers_share_only_postgresql_and_the_bucket(tmp_path, database, s3_server, s3, bucket):
    with deployment(tmp_path, database, s3_server, bucket) as d, ExitStack() as stack:
        # The key files: made once, copied to the other API host (docs/deploy.md, section 3).
        first = tmp_path / "api1"
        d.run(first, "migrate")
        d.run(first, "keys", "create")
        shutil.copytree(first / "keys", tmp_path / "api2" / "keys")
        api1, api2 = d.start_api("api1"), d.start_api("api2")
        worker1 = d.start("worker1", "worker", CAPI_WORKER_SHUTDOWN_GRACE_SECONDS="0.5")
        worker2 = d.start("worker2", "worker", CAPI_WORKER_SHUTDOWN_GRACE_SECONDS="0.5")
        token = mint(d.env(first), "--user-id", "admin", "--admin")
        client = Client([api1.url or "", api2.url or ""], token)
        stack.callback(client.http.close)

        org = client.call(0, "POST", "/v3/organizations", 201, json={"name": f"o-{uuid.uuid4().hex[:6]}"})
        space_body = {"name": "s", "relationships": {"organization": {"data": {"guid": org["guid"]}}}}
        space = client.call(1, "POST", "/v3/spaces", 201, json=space_body)
        apps = [
            client.call(
                i,
                "POST",
                "/v3/apps",
                201,
                json={"name": f"a{i}", "relationships": {"space": {"data": {"guid": space["guid"]}}}},
            )["guid"]
            for i in range(4)
        ]

        # Packages to copy and to delete, READY first.
        seed_zips = [small_zip(i) for i in range(20)]
        seeds = [client.push(i, apps[i % 4], z) for i, z in enumerate(seed_zips)]
        for guid in seeds:
            client.wait_ready(guid)

        # 40 at once over both API processes: 20 pushes, 10 copies, 10 deletes.
        push_zips = [small_zip(100 + i) for i in range(20)]

        def operation(i: int) -> tuple[str, str]:
            if i < 20:
                return "push", client.push(i, apps[i % 4], push_zips[i])
            if i < 30:
                source = seeds[i - 20]
                body = {"relationships": {"app": {"data": {"guid": apps[(i + 1) % 4]}}}}
                copied = client.call(i, "POST", f"/v3/packages?source_guid={source}", 201, json=body)
                return "copy", str(copied["guid"])
            client.call(i, "DELETE", f"/v3/packages/{seeds[i - 20]}", 202)
            return "delete", seeds[i - 20]

        with ThreadPoolExecutor(40) as pool:
            results = list(pool.map(operation, range(40)))

        for i, (kind, guid) in enumerate(results):
            if kind == "push":
                pkg = client.wait_ready(guid)
                assert pkg["data"]["checksum"] == {"type": "sha256", "value": hashlib.sha256(push_zips[i]).hexdigest()}
            elif kind == "copy":
                pkg = client.wait_ready(guid)
                source_sha256 = hashlib.sha256(seed_zips[i - 20]).hexdigest()
                assert pkg["data"]["checksum"]["value"] == source_sha256
            else:
                deadline = time.monotonic() + 60
                while client.state(guid)[0] != 404:
                    assert time.monotonic() < deadline, guid
                    time.sleep(0.2)

        # SIGKILL a worker in the middle of a job: the other re-runs it once the lease is over.
        doomed_zip = big_zip()
        doomed = client.push(0, apps[0], doomed_zip)
        victim, killed_job = claimed_by(database, doomed, [worker1, worker2])
        victim.popen.send_signal(signal.SIGKILL)
        victim.popen.wait(timeout=10)
        survivor = worker2 if victim is worker1 else worker1
        pkg = client.wait_ready(doomed, timeout=180)
        assert pkg["data"]["checksum"]["value"] == hashlib.sha256(doomed_zip).hexdigest()

        # SIGTERM the survivor mid-job: the job is handed back at once, not after the lease.
        handed_zip = big_zip()
        handed = client.push(1, apps[1], handed_zip)
        claimed_by(database, handed, [survivor])
        survivor.popen.send_signal(signal.SIGTERM)
        assert survivor.popen.wait(timeout=20) == 0, survivor.log_text()
        [handed_job] = [j for j in jobs(database) if (j["payload"] or {}).get("guid") == handed]
        assert handed_job["state"] == "PROCESSING"
        assert handed_job["locked_by"] is None  # free for the next worker now
        assert handed_job["attempts"] == 0  # the interrupted run is not counted
        assert "handed back" in survivor.log_text()
        # The killed worker's replacement, on its host: it clears what the killed one had on disk.
        d.start("worker3", "worker", host=victim.name)
        pkg = client.wait_ready(handed, timeout=180)
        assert pkg["data"]["checksum"]["value"] == hashlib.sha256(handed_zip).hexdigest()

        # No job ran twice: only the SIGKILLed one took a second attempt.
        all_jobs = jobs(database)
        reruns = [j for j in all_jobs if j["attempts"] > 1]
        assert [j["guid"] for j in reruns] == [killed_job["guid"]]
        assert all(j["state"] == "COMPLETE" for j in all_jobs), [j for j in all_jobs if j["state"] != "COMPLETE"]

        # Nothing left in staging: not in the bucket, not on any host's disk (live processes keep
        # an empty scratch directory each).
        assert staging_objects(s3, bucket) == []
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        for name in ("api1", "api2", "worker1", "worker2"):
            leftovers = [p for p in (tmp_path / name).rglob("*") if p.is_file() and "keys" not in p.parts]
            assert [p for p in leftovers if p.name != "issuer"] == [], name
