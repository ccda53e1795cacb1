"""Fixtures for the entries API: an app with one READY package of known files."""

from __future__ import annotations

import pytest

from tests.bits_api.bits_support import regular, symlink, uploaded_package, zip_entries

FILES = {
    "index.js": b"console.log('hello')\n",
    "lib/util.js": b"module.exports = 1\n" * 200,
    "lib/deep/data.bin": bytes(range(256)) * 8,
    "README.md": b"# app\n",
}


def first_zip() -> bytes:
    return zip_entries(
        [
            regular("index.js", FILES["index.js"], 0o755),
            regular("lib/util.js", FILES["lib/util.js"]),
            regular("lib/deep/data.bin", FILES["lib/deep/data.bin"]),
            regular("README.md", FILES["README.md"]),
            symlink("current", "lib/util.js"),
        ]
    )


@pytest.fixture
def world(api):
    return api.world()


@pytest.fixture
def ready(api, world, run_jobs):
    return uploaded_package(api, world.app["guid"], first_zip(), run_jobs)
