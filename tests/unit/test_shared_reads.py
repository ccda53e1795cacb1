"""Shared counter reads: callers at the same time share one read, and each gets a value read after
it asked (never an older one)."""

from __future__ import annotations

import threading
import time

from capi_packages.db.changes import SharedReads


class Source:
    """A value that moves on every read; a read can be held open until released."""

    def __init__(self) -> None:
        self.reads = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def read(self) -> int:
        self.reads += 1
        number = self.reads
        self.holding.set()
        self.release.wait(10)
        return number


def test_callers_one_after_another_read_each_time() -> None:
    shared: SharedReads[int] = SharedReads()
    source = Source()
    assert [shared.get(source.read) for _ in range(3)] == [1, 2, 3]


def test_callers_arriving_during_a_read_share_the_next_one() -> None:
    shared: SharedReads[int] = SharedReads()
    source = Source()
    source.release.clear()
    got: dict[str, int] = {}

    def call(name: str) -> None:
        got[name] = shared.get(source.read)

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert source.holding.wait(10)
    later = [threading.Thread(target=call, args=(f"later{i}",)) for i in range(8)]
    for t in later:
        t.start()
    time.sleep(0.2)  # let them all queue behind the read in flight
    source.release.set()
    for t in [first, *later]:
        t.join(10)
    # The read in flight began before the later callers asked: they get the one after it, read once.
    assert got["first"] == 1
    assert {got[f"later{i}"] for i in range(8)} == {2}
    assert source.reads == 2


def test_a_failed_read_fails_its_caller_and_the_waiters_read_again() -> None:
    shared: SharedReads[int] = SharedReads()
    gate = threading.Event()
    calls = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            gate.wait(10)
            raise RuntimeError("database went away")
        return 7

    errors: list[BaseException] = []
    values: list[int] = []

    def failing() -> None:
        try:
            shared.get(flaky)
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=failing)
    t.start()
    while not calls:
        time.sleep(0.01)
    waiter = threading.Thread(target=lambda: values.append(shared.get(flaky)))
    waiter.start()
    time.sleep(0.1)
    gate.set()
    t.join(10)
    waiter.join(10)
    assert [str(e) for e in errors] == ["database went away"] and values == [7]


def test_the_value_is_never_older_than_the_call() -> None:
    """Many threads hammering: every value a caller gets was read after it asked."""
    shared: SharedReads[int] = SharedReads()
    lock = threading.Lock()
    clock = [0]

    def read() -> int:
        with lock:
            clock[0] += 1
            return clock[0]

    stale: list[tuple[int, int]] = []

    def caller() -> None:
        for _ in range(300):
            with lock:
                asked = clock[0]
            value = shared.get(read)
            if value <= asked:
                stale.append((asked, value))

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert stale == []
