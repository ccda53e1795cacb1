"""Matching 5000 fingerprints asks the database once, not 5000 times."""

from __future__ import annotations

import hashlib

from sqlalchemy import event


def test_5000_fingerprints_are_matched_with_one_pool_query(api):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = api.app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        resources = [
            {
                "checksum": {"value": hashlib.sha1(str(i).encode()).hexdigest()},
                "size_in_bytes": 100_000,
                "path": f"f{i}",
                "mode": "644",
            }
            for i in range(5000)
        ]
        r = api.client.post("/v3/resource_matches", headers=api.admin, json={"resources": resources})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert r.status_code == 201 and r.json() == {"resources": []}
    assert len([s for s in statements if "resource_pool" in s]) == 1
