"""The program's entry: what it leaves out of a command's start."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from capi_cli.main import run
sys.argv = ["capi-packages", "--version"]
try:
    run()
except SystemExit:
    pass
import httpx
httpx.Client().close()  # httpcore loads, and works, without trio
print(sys.modules.get("trio") is None, sys.modules.get("httpx._main") is None, "rich" not in sys.modules)
"""


def test_a_command_imports_neither_trio_nor_httpxs_command_line_nor_rich_unless_it_draws() -> None:
    __import__("trio")  # installed here (selenium needs it), so the test means something
    __import__("rich")
    out = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True).stdout
    assert out.splitlines()[-1] == "True True True"
