"""A request holds one database connection at a time, so a small pool cannot deadlock.

The token's user is recorded in a short session of its own; while the request's session held its
connection from the start, a burst of first requests from a new user (as many as the pool has
connections) each held one and waited for another, until the pool's timeout failed them all.
With a pool of one connection that is a single request; so is this test.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def settings_overrides():
    return {"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout_seconds": 2}


@pytest.mark.parametrize("path", ["/v3/packages", "/v3/apps", "/v3/organizations"])
def test_a_new_user_s_first_request_needs_one_connection(api, path):
    r = api.client.get(path, headers=api.headers("a-user-never-seen", ("cloud_controller.read",)))
    assert r.status_code == 200, r.text


def test_a_new_user_s_first_write_needs_one_connection(api):
    r = api.client.post("/v3/organizations", json={"name": "first"}, headers=api.headers("another-new-user"))
    assert r.status_code == 201, r.text
