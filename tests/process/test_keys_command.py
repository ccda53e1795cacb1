"""`capi-packages keys create`: the key files an API host needs, made once, kept on a second run."""

from __future__ import annotations

from tests.process.test_admin_commands import admin


def test_keys_create_makes_the_three_shared_keys_once(tmp_path):
    data = tmp_path / "data"
    first = admin(tmp_path, "keys", "create", "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    names = [line.rsplit("/", 1)[-1] for line in first.stdout.splitlines()]
    assert names == ["jwt-signing-key.pem", "url-signing-key", "db-encryption-key"]
    before = {p.name: p.read_bytes() for p in (data / "keys").iterdir()}
    again = admin(tmp_path, "keys", "create", "--data-dir", str(data))
    assert again.returncode == 0
    assert {p.name: p.read_bytes() for p in (data / "keys").iterdir()} == before
