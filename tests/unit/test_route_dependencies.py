"""Route modules name what they need as typed dependencies (http/dependencies.py), never app.state."""

from __future__ import annotations

from pathlib import Path

import capi_packages

SRC = Path(capi_packages.__file__).parent


def test_no_route_module_reads_app_state():
    routes = sorted(SRC.rglob("*routes.py"))
    assert len(routes) >= 15
    readers = [str(p.relative_to(SRC)) for p in routes if "app.state" in p.read_text()]
    assert readers == []
