"""Scratch directories per process: a killed process's files are removed by the next one on the host.

Real processes, really killed: the lock that says a directory is owned is the kernel's, dropped
however its holder dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capi_packages.blobstore.local import LocalBlobstore
from capi_packages.blobstore.scratch import ScratchArea

# A process that opens a scratch area, leaves a half-written file in it, says where, and waits.
HOLDER = """
import sys, time
from pathlib import Path
from capi_packages.blobstore.scratch import ScratchArea
area = ScratchArea(Path(sys.argv[1]))
(area.path / "download.part").write_bytes(b"half")
(area.path / "work").mkdir()
(area.path / "work" / "unpacked.txt").write_bytes(b"x")
print(area.path, flush=True)
time.sleep(120)
"""


def holder(root: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line, "the holder process did not start"
    return proc, Path(line)


@pytest.fixture
def processes():
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_killed_process_s_directory_goes_when_the_next_store_opens_and_a_living_one_s_stays(tmp_path, processes):
    root = tmp_path / "blobstore" / "tmp"
    killed, killed_dir = holder(root)
    alive, alive_dir = holder(root)
    processes += [killed, alive]
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)

    store = LocalBlobstore(tmp_path / "blobstore")  # a process starting on the host
    assert not killed_dir.exists()
    assert (alive_dir / "download.part").read_bytes() == b"half"
    own = store.scratch_dir()
    assert own.parent == root and own != alive_dir

    store.close()
    assert not own.exists()
    assert sorted(p.name for p in root.iterdir()) == [alive_dir.name]


def test_the_staging_sweep_reclaims_a_directory_whose_process_died_after_the_store_opened(tmp_path, processes):
    store = LocalBlobstore(tmp_path / "blobstore")
    killed, killed_dir = holder(store.scratch_dir().parent)
    processes.append(killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)

    # However young: a dead process's files have no owner to wait for.
    swept = store.staging.sweep(set(), older_than_seconds=3600)
    assert swept.scratch == 2
    assert not killed_dir.exists()
    assert store.scratch_dir().is_dir()
    store.close()


def test_a_directory_being_set_up_is_left_alone_until_it_is_old(tmp_path):
    root = tmp_path / "tmp"
    root.mkdir()
    unclaimed = root / ".new-abc"
    unclaimed.mkdir()
    (unclaimed / "f").write_bytes(b"x")
    area = ScratchArea(root)
    assert unclaimed.exists()  # its process may be about to lock it
    old = time.time() - 3600
    os.utime(unclaimed, (old, old))
    assert area.reclaim() == 1
    assert not unclaimed.exists()
    area.close()
