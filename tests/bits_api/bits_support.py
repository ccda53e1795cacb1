"""Shared helpers for the bits HTTP tests: uploads, downloads, crafted zips and blob paths on disk.

Everything goes over HTTP except `package_blob_path`/`resource_blob_path`, which locate the
files the local blobstore keeps so tests can corrupt or check them.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

from tests.factories import Api

ZIP_TYPE = "application/zip"


# --- requests ---------------------------------------------------------------------------------
def upload(
    api: Api,
    guid: str,
    zip_bytes: bytes | None = None,
    resources: Any = None,
    headers: dict[str, str] | None = None,
    filename: str | None = "package.zip",
    content_type: str = ZIP_TYPE,
    fields: dict[str, str] | None = None,
) -> Any:
    """POST /upload as multipart: a `resources` text part first (like the seed client), then `bits`."""
    parts: list[tuple[str, Any]] = []
    if resources is not None:
        text = resources if isinstance(resources, str) else json.dumps(resources)
        parts.append(("resources", (None, text)))
    for name, value in (fields or {}).items():
        parts.append((name, (None, value)))
    if zip_bytes is not None:
        parts.append(("bits", (filename, zip_bytes, content_type)))
    if not parts:
        parts.append(("resources", (None, "")))
    return api.client.post(f"/v3/packages/{guid}/upload", files=parts, headers=headers or api.admin)


def get_package(api: Api, guid: str) -> dict[str, Any]:
    return api.ok("GET", f"/v3/packages/{guid}", 200)


def state_of(api: Api, guid: str) -> str:
    return get_package(api, guid)["state"]


def error_of(api: Api, guid: str) -> str | None:
    return get_package(api, guid)["data"]["error"]


def checksum_of(api: Api, guid: str) -> str | None:
    return get_package(api, guid)["data"]["checksum"]["value"]


def download_bytes(api: Api, guid: str, headers: dict[str, str] | None = None) -> bytes:
    """Download as a client would: follow the 302 (without credentials) or take the 200."""
    r = api.client.get(f"/v3/packages/{guid}/download", headers=headers or api.admin, follow_redirects=False)
    if r.status_code == 302:
        r = api.client.get(r.headers["location"], follow_redirects=False)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.content


def uploaded_package(api: Api, app_guid: str, zip_bytes: bytes, run_jobs: Any, resources: Any = None) -> dict[str, Any]:
    """Create a bits package, upload `zip_bytes`, process it and return it (READY expected)."""
    pkg = api.create_package(app_guid)
    r = upload(api, pkg["guid"], zip_bytes, resources)
    assert r.status_code == 200, r.text
    run_jobs()
    got = get_package(api, pkg["guid"])
    assert got["state"] == "READY", got
    return got


def match(api: Api, resources: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Any:
    return api.client.post("/v3/resource_matches", json={"resources": resources}, headers=headers or api.admin)


def fingerprint(content: bytes, path: str, mode: str | None = "644") -> dict[str, Any]:
    entry: dict[str, Any] = {"checksum": {"value": sha1(content)}, "size_in_bytes": len(content), "path": path}
    if mode is not None:
        entry["mode"] = mode
    return entry


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- blobs on disk ----------------------------------------------------------------------------
def _fan_out(root: Path, area: str, ident: str) -> Path:
    return root / "blobstore" / area / ident[0:2] / ident[2:4] / ident


def package_blob_path(api: Api, guid: str) -> Path:
    """Where the package's zip lives; the usual fan-out path when it is (no longer) anywhere."""
    root = api.app.state.settings.data_dir / "blobstore" / "packages"
    found = [p for p in root.rglob(guid) if p.is_file()] if root.is_dir() else []
    assert len(found) <= 1, found
    return found[0] if found else _fan_out(api.app.state.settings.data_dir, "packages", guid)


def resource_blob_path(api: Api, sha1_hex: str) -> Path:
    root = api.app.state.settings.data_dir / "blobstore" / "resources"
    found = [p for p in root.rglob(sha1_hex) if p.is_file()]
    assert len(found) == 1, f"pool blob for {sha1_hex} not found under {root}: {found}"
    return found[0]


# --- zips -------------------------------------------------------------------------------------
def zip_entries(
    entries: list[tuple[str, bytes | str, int]],
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """A zip from (name, content, st_mode) triples; st_mode holds the file type bits too."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content, st_mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = st_mode << 16
            if name.endswith("/"):
                info.external_attr |= 0x10  # MS-DOS directory bit
            info.compress_type = compression
            zf.writestr(info, content)
    return buf.getvalue()


def regular(name: str, content: bytes | str, mode: int = 0o644) -> tuple[str, bytes | str, int]:
    return (name, content, 0o100000 | mode)


def symlink(name: str, target: str) -> tuple[str, bytes | str, int]:
    return (name, target, 0o120777)


def directory(name: str) -> tuple[str, bytes | str, int]:
    return (name if name.endswith("/") else name + "/", b"", 0o040755)


def empty_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w"):
        pass
    return buf.getvalue()


def mark_encrypted(zip_bytes: bytes) -> bytes:
    """Set general-purpose flag bit 0 (encrypted) in every local and central header."""
    data = bytearray(zip_bytes)
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        infos = zf.infolist()
        cd_offset = zf.start_dir  # type: ignore[attr-defined]
    for info in infos:
        at = info.header_offset
        assert data[at : at + 4] == b"PK\x03\x04"
        flags = struct.unpack_from("<H", data, at + 6)[0]
        struct.pack_into("<H", data, at + 6, flags | 0x1)
    at = cd_offset
    while data[at : at + 4] == b"PK\x01\x02":
        flags = struct.unpack_from("<H", data, at + 8)[0]
        struct.pack_into("<H", data, at + 8, flags | 0x1)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, at + 28)
        at += 46 + name_len + extra_len + comment_len
    return bytes(data)


def read_zip(data: bytes) -> dict[str, tuple[bytes, int]]:
    """name -> (content, st_mode) for every entry of a zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: (zf.read(info), info.external_attr >> 16) for info in zf.infolist()}
