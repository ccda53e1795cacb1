"""The service's own RS256 signing key: generated into the data dir on first use, never leaving it."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from capi_packages.auth.key_files import load_or_create


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: bytes
    public_key: rsa.RSAPublicKey

    def jwk(self) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        return {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _b64uint(numbers.n),
            "e": _b64uint(numbers.e),
            "value": self.public_pem().decode(),
        }

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64uint(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def load_or_create_signing_key(path: Path) -> SigningKey:
    pem = load_or_create(path, _new_private_pem)
    private = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    public = private.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = "capi-" + hashlib.sha256(der).hexdigest()[:16]
    return SigningKey(kid=kid, private_pem=pem, public_key=public)


def _new_private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def record_issuer(path: Path, issuer: str) -> None:
    """Note beside the signing key the `iss` the serving process expects of local tokens.

    `capi-packages token` runs in another shell, perhaps without the server's host, port or
    external URL settings; reading this it mints tokens that server accepts.
    """
    if path.exists() and path.read_text() == issuer:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(issuer)
    os.replace(tmp, path)


def recorded_issuer(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None
