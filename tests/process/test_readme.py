"""The README's first session, run as written against a served instance.

Every ```sh block of the README runs in one bash session (as in one terminal), in order, in a
fresh directory holding what a fresh clone has beside the README (`.venv`, and `./var` as
`make run` leaves it), with a home of its own and no CAPI_* variables. Only the server's address
is changed, to the test server's port; starting the server (`make run`) is done by the test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.process.conftest import running_server

ROOT = Path(__file__).resolve().parents[2]
README_URL = "http://127.0.0.1:8080"


def shell_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return [block for block in blocks if not block.startswith("make run")]


def test_the_readme_blocks_are_the_first_session() -> None:
    blocks = shell_blocks()
    assert blocks[0].startswith("source .venv/bin/activate")
    assert not any("jq" in block.split() for block in blocks[:2]), "the CLI path needs no jq"


def test_the_readme_first_session_works_as_written(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    # What `make install` leaves in a clone; the README activates it by its relative path.
    (clone / ".venv").symlink_to(Path(sys.prefix))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPI_", "VIRTUAL_ENV"))}
    env["HOME"] = str(home)
    with running_server(tmp_path, CAPI_DATA_DIR=str(clone / "var")) as (url, _):
        # One shell, as one terminal: the variables of a block stay for the next one.
        steps = [f"echo '--- block {n}' >&2\n{b}" for n, b in enumerate(shell_blocks(), 1)]
        script = "set -euo pipefail\n" + "\n".join(steps).replace(README_URL, url)
        result = subprocess.run(
            ["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        assert result.stderr.count("--- block") == len(steps)
    with zipfile.ZipFile(clone / "app.zip") as archive:
        assert archive.read("app.py") == b'print("hello")\n'
