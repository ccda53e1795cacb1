"""The local blobstore refuses keys that would leave its directory."""

from __future__ import annotations

import pytest

from capi_packages.blobstore.local import LocalBlobstore


@pytest.mark.parametrize(
    "key", ["../outside", "packages/../../outside", "/etc/passwd", "packages//x", "packages/./x", "a\\b", "a\0b", ""]
)
def test_a_key_that_could_leave_the_store_is_refused(tmp_path, key):
    store = LocalBlobstore(tmp_path / "store")
    with pytest.raises(ValueError, match="blob key escapes the store"):
        store.exists(key)


def test_a_fanned_out_key_lives_under_the_root(tmp_path):
    store = LocalBlobstore(tmp_path / "store")
    with store.writer("resources/ab/cd/abcd") as f:
        f.write(b"content")
    assert store.local_path("resources/ab/cd/abcd") == (tmp_path / "store" / "resources/ab/cd/abcd").resolve()
    with store.open("resources/ab/cd/abcd") as f:
        assert f.read() == b"content"
