from __future__ import annotations

import threading
import time

import pytest

from shared.batching import MicroBatcher


def test_groups_from_many_callers_share_one_call_and_get_their_own_results() -> None:
    calls: list[list[int]] = []

    def fn(items: list[int]) -> list[int]:
        calls.append(list(items))
        time.sleep(0.01)
        return [x * 10 for x in items]

    b = MicroBatcher(fn, max_batch=64, max_wait_s=0.1)
    results: dict[int, list[int]] = {}

    def caller(i: int) -> None:
        results[i] = b([i * 100 + k for k in range(3)], timeout=10)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    b.close()
    assert all(results[i] == [(i * 100 + k) * 10 for k in range(3)] for i in range(8))
    assert len(calls) < 8 and max(len(c) for c in calls) > 3  # merged across callers
    assert b.stats.items == 24


def test_max_batch_is_respected_and_groups_are_not_split() -> None:
    sizes: list[int] = []

    def fn(items: list[int]) -> list[int]:
        sizes.append(len(items))
        return items

    b = MicroBatcher(fn, max_batch=5, max_wait_s=0.05)
    futs = [b.submit([1, 2]) for _ in range(6)]
    assert [f.result(5) for f in futs] == [[1, 2]] * 6
    b.close()
    assert max(sizes) <= 5 and all(s % 2 == 0 for s in sizes)


def test_errors_reach_every_caller_of_that_batch() -> None:
    def fn(items: list[int]) -> list[int]:
        raise ValueError("boom")

    b = MicroBatcher(fn, max_batch=8, max_wait_s=0.01)
    with pytest.raises(ValueError, match="boom"):
        b([1], timeout=5)
    b.close()


def test_out_of_memory_halves_the_batch_and_retries() -> None:
    seen: list[int] = []

    def fn(items: list[int]) -> list[int]:
        seen.append(len(items))
        if len(items) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [x + 1 for x in items]

    ooms: list[int] = []
    b = MicroBatcher(fn, max_batch=8, max_wait_s=0.05, on_oom=ooms.append)
    assert b(list(range(8)), timeout=5) == [x + 1 for x in range(8)]
    b.close()
    assert b.stats.oom_splits == 3 and ooms == [8, 4, 4]
    assert seen.count(2) == 4


def test_a_lone_caller_does_not_wait_when_nobody_else_is_on_the_way() -> None:
    """With `expected`, a batch runs as soon as every started caller has submitted: a lone
    event at light load skips the max wait; callers still on the way are waited for."""
    from shared.batching import Upstream

    calls: list[list[int]] = []
    up = Upstream()
    b = MicroBatcher(
        lambda xs: calls.append(list(xs)) or xs, max_batch=64, max_wait_s=5.0, expected=up
    )
    up.on_change = b.poke

    def event(x: int, delay: float = 0.0, started: threading.Barrier | None = None) -> list[int]:
        with up.track():
            if started is not None:
                started.wait()  # both events have begun before either reaches the batcher
            time.sleep(delay)  # claiming, parsing...
            up.arrived()
            return b([x], timeout=10)

    t0 = time.monotonic()
    assert event(1) == [1]
    assert time.monotonic() - t0 < 1.0  # not the 5 s max wait

    # two events started together, the second reaches the batcher 0.3 s later: one batch
    out: dict[int, list[int]] = {}
    both = threading.Barrier(2)
    threads = [
        threading.Thread(target=lambda i=i, d=d: out.__setitem__(i, event(i, d, both)))
        for i, d in ((2, 0.0), (3, 0.3))
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {2: [2], 3: [3]} and calls[-1] == [2, 3]
    assert time.monotonic() - t0 < 2.0

    # a started caller that leaves without submitting (a duplicate event) releases the wait
    def duplicate() -> None:
        with up.track():
            time.sleep(0.3)

    leaver = threading.Thread(target=duplicate)
    leaver.start()
    t0 = time.monotonic()
    time.sleep(0.05)
    with up.track():
        up.arrived()
        assert b([4], timeout=10) == [4]
    assert time.monotonic() - t0 < 2.0 and up() == 0
    leaver.join()
    b.close()


def test_entrance_groups_the_events_in_flight_and_lets_a_lone_one_through() -> None:
    """The claim and commit batchers' way in (workers.context): events counted in flight are
    waited for (up to the max wait), so a backlog's events share a transaction; one that
    leaves without submitting releases the wait; a lone event never waits."""
    from shared.batching import Entrance, Upstream

    calls: list[list[str]] = []
    up = Upstream()
    b: MicroBatcher[str, str] = MicroBatcher(
        lambda xs: calls.append(list(xs)) or [x.upper() for x in xs],
        max_batch=64,
        max_wait_s=5.0,
        expected=up,
    )
    commit = Entrance(b, up, timeout=10)
    with pytest.raises(ValueError):
        Entrance(MicroBatcher(lambda xs: xs), up, timeout=10)

    started = threading.Barrier(4)
    out: dict[str, list[str]] = {}

    def event(name: str, walk_s: float, submits: bool = True) -> None:
        with up.track():
            started.wait()
            time.sleep(walk_s)  # compose, encode, upload...
            if submits:
                out[name] = commit([name])

    threads = [
        threading.Thread(target=event, args=args)
        for args in (("a", 0.0), ("b", 0.2), ("c", 0.4), ("dup", 0.3, False))
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {"a": ["A"], "b": ["B"], "c": ["C"]}
    assert calls == [["a", "b", "c"]]  # one transaction, not three
    assert time.monotonic() - t0 < 2.0 and up() == 0  # waited for the walks, not the 5 s

    t0 = time.monotonic()
    with up.track():
        assert commit(["e"]) == ["E"]
    assert time.monotonic() - t0 < 1.0 and calls[-1] == ["e"]
    b.close()
