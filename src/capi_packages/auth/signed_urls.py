"""Short-lived signed URLs for blob downloads: HMAC-SHA256 over the path and expiry."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from pathlib import Path

from capi_packages.auth.key_files import load_or_create


def load_or_create_secret(path: Path, size: int = 32) -> bytes:
    return load_or_create(path, lambda: os.urandom(size))


class UrlSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _signature(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def sign(self, path: str, ttl: int) -> str:
        expires = int(time.time()) + ttl
        return f"{path}?expires={expires}&signature={self._signature(path, expires)}"

    def verify(self, path: str, expires: str | None, signature: str | None) -> bool:
        if not expires or not signature or not expires.isdigit():
            return False
        if int(expires) < time.time():
            return False
        return hmac.compare_digest(self._signature(path, int(expires)), signature)
