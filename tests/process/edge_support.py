"""Raw-socket clients for the edge tests: requests sent byte by byte, answers read as they come."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MB = 1024 * 1024
# Every socket `connect` made; the tests' autouse fixture closes them, whatever a test did.
OPEN: list[socket.socket] = []


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def connect(url: str, timeout: float = 10) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    OPEN.append(sock)
    return sock


def close_all() -> None:
    while OPEN:
        OPEN.pop().close()


def head_bytes(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answer(sock: socket.socket) -> Answer:
    """One HTTP/1.1 answer with a Content-Length body (what the server and our app send)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Answer(int(status_line.split()[1]), headers, rest[:length])


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True when the server closes the connection (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return False


def multipart_head(boundary: str, name: str, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    extra = "\r\nContent-Type: application/zip" if filename else ""
    return f"--{boundary}\r\nContent-Disposition: {disposition}{extra}\r\n\r\n".encode()


def new_package(url: str, headers: dict[str, str]) -> str:
    """A fresh org, space and app over the API, and a bits package of that app awaiting upload."""
    import uuid

    import httpx

    def post(path: str, body: dict[str, Any]) -> Any:
        r = httpx.post(url + path, json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()

    org = post("/v3/organizations", {"name": f"o-{uuid.uuid4().hex[:6]}"})
    space = post("/v3/spaces", {"name": "s", "relationships": {"organization": {"data": {"guid": org["guid"]}}}})
    app = post("/v3/apps", {"name": "a", "relationships": {"space": {"data": {"guid": space["guid"]}}}})
    return str(
        post("/v3/packages", {"type": "bits", "relationships": {"app": {"data": {"guid": app["guid"]}}}})["guid"]
    )


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []
