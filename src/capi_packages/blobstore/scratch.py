"""Each process's own scratch directory under a host's scratch root, and the reclaiming of dead ones.

A process killed outright (SIGKILL, the OOM killer, a lost machine) cannot remove the files it was
working on: an S3 download half written, a job's unpacked work. So every process works in its own
directory under the root and holds an advisory lock (flock) on it while it lives; the kernel drops
the lock when the process dies, however it dies. The next process to start on the host, and every
staging sweep, removes the directories whose lock it can take: nobody owns them any more.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path

# A directory is created under a dot name and renamed once locked, so that a reclaimer never takes
# one between its creation and its lock; a dot directory this old lost its process in between.
_UNCLAIMED_AGE_SECONDS = 60.0


def _release(path: Path, fd: int, owner: int) -> None:
    # A forked child inherits the finalizer, not the directory: only its owner removes it.
    if os.getpid() == owner:
        shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.close(fd)


class ScratchArea:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._path: Path | None = None
        self._guard = threading.Lock()
        self._finalizer: weakref.finalize[..., ScratchArea] | None = None
        # A process starting on a host clears what the host's dead processes left.
        self.reclaim()

    @property
    def path(self) -> Path:
        """This process's directory, made (and locked) on first use."""
        with self._guard:
            if self._path is None or not self._path.is_dir():
                self._path = self._claim()
            return self._path

    def _claim(self) -> Path:
        fresh = Path(tempfile.mkdtemp(dir=self.root, prefix=".new-"))
        fd = os.open(fresh, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        owned = self.root / f"p{os.getpid()}-{fresh.name.removeprefix('.new-')}"
        fresh.rename(owned)
        if self._finalizer is not None:
            self._finalizer()
        # Removed when the store is closed, collected or the interpreter exits.
        self._finalizer = weakref.finalize(self, _release, owned, fd, os.getpid())
        return owned

    def reclaim(self) -> int:
        """Remove the directories no living process holds; the number of files they held."""
        removed = 0
        own = self._path
        for entry in self.root.iterdir():
            if entry == own or not entry.is_dir() or entry.is_symlink():
                continue
            if entry.name.startswith("."):
                with contextlib.suppress(FileNotFoundError):
                    if time.time() - entry.stat().st_mtime < _UNCLAIMED_AGE_SECONDS:
                        continue
            removed += _remove_if_unowned(entry)
        return removed

    def close(self) -> None:
        with self._guard:
            if self._finalizer is not None:
                self._finalizer()
            self._finalizer, self._path = None, None


def _remove_if_unowned(directory: Path) -> int:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # its process is alive
        # Held by us now, so no other reclaimer counts or removes it twice.
        files = sum(len(names) for _, _, names in os.walk(directory))
        shutil.rmtree(directory, ignore_errors=True)
        return files
    finally:
        os.close(fd)
