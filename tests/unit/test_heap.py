"""The serving process's collector: startup's objects frozen, the young generation collected less often."""

from __future__ import annotations

import subprocess
import sys

from capi_packages.heap import THRESHOLDS

SCRIPT = """
import gc
from capi_packages.heap import settle_after_startup
before = gc.get_freeze_count()
settle_after_startup()
print(before, gc.get_freeze_count(), *gc.get_threshold())
"""


def test_settling_freezes_what_startup_left_and_raises_the_thresholds() -> None:
    # In a process of its own: frozen objects are never freed, which this test process must not suffer.
    out = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True).stdout.split()
    before, frozen, *thresholds = map(int, out)
    assert before == 0 and frozen > 1000
    assert tuple(thresholds) == THRESHOLDS
