"""Fixtures shared by the bits tests: an org/space/app, and a bits package awaiting upload."""

from __future__ import annotations

import pytest


@pytest.fixture
def world(api):
    return api.world()


@pytest.fixture
def package(api, world):
    return api.create_package(world.app["guid"])
