"""Half of a push's CPU work in a forked process, for trees of many small files.

Zipping or hashing 30,000 files of a few KB is Python's work per file, which holds the GIL, so
threads cannot share it; a second process can. A forked child starts at once (nothing to import
or pickle on the way in: it shares the parent's memory), does its half and sends its result back
through a pipe, pickled. Where there is no fork, or one core, the caller does all the work itself.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def can_fork() -> bool:
    return hasattr(os, "fork") and cores() > 1


class Forked(Generic[R]):
    """The child's work in progress; `result()` waits for it and returns it or raises its error."""

    def __init__(self, pid: int, read_fd: int) -> None:
        self._pid = pid
        self._fd: int | None = read_fd

    def result(self) -> R:
        if self._fd is None:
            raise RuntimeError("the forked work's result was already taken")
        with os.fdopen(self._fd, "rb") as pipe:
            self._fd = None
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        if not data:
            raise ChildProcessError(f"the process doing half of the push's work died (wait status {status})")
        ok, value = pickle.loads(data)  # noqa: S301 - written by our own child, through our own pipe
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def abandon(self) -> None:
        """Stop the child when its result is no longer wanted (the parent's half failed)."""
        if self._pid:
            with suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = 0
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@contextmanager
def forked(work: Callable[[], R]) -> Iterator[Forked[R]]:
    """Run `work()` in a forked child while the body runs; leaving the body without taking the
    result stops the child."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, report, and leave without running the parent's clean-ups
        status = 0
        try:
            os.close(read_fd)
            try:
                payload: tuple[bool, object] = (True, work())
            except BaseException as e:
                payload = (False, e)
            try:
                data = pickle.dumps(payload)
            except Exception:  # an error that does not pickle: keep its message
                data = pickle.dumps((False, OSError(str(payload[1]))))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(data)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    pending: Forked[R] = Forked(pid, read_fd)
    try:
        yield pending
    finally:
        pending.abandon()


def halves(items: Sequence[T], weight: Callable[[T], int]) -> tuple[Sequence[T], Sequence[T]]:
    """`items` cut in two contiguous runs of about equal weight."""
    total = sum(weight(item) for item in items)
    done = 0
    for cut, item in enumerate(items):
        if done * 2 >= total:
            return items[:cut], items[cut:]
        done += weight(item)
    return items, items[len(items) :]
