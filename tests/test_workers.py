"""The worker pool's shared batches: every item done once, and a held worker waits its turn."""

from __future__ import annotations

import os
import time

import pytest

from briefgen.build.workers import WorkerPool


def _setup() -> None:
    return None


def _stamp(context: None, item: int) -> tuple[int, int, float]:
    time.sleep(0.005)
    return item, os.getpid(), time.monotonic()


def test_every_item_is_done_once_by_the_workers() -> None:
    with WorkerPool(2).sharing(_stamp, list(range(300)), _setup) as sharing:
        done = sharing.results()
    assert sorted(item for item, _, _ in done) == list(range(300))
    assert len({pid for _, pid, _ in done}) == 2
    assert os.getpid() not in {pid for _, pid, _ in done}


def test_a_held_worker_starts_only_when_released() -> None:
    with WorkerPool(2).sharing(_stamp, list(range(400)), _setup, hold_one=True) as sharing:
        time.sleep(0.6)  # the owner's own work
        released = time.monotonic()
        sharing.release()
        done = sharing.results()
    assert sorted(item for item, _, _ in done) == list(range(400))
    before = {pid for _, pid, at in done if at < released}
    after = {pid for _, pid, at in done if at > released + 0.1}
    assert len(before) == 1  # one worker only while the owner worked
    assert len(after) == 2  # then both


def test_leaving_early_stops_the_workers_without_waiting_for_every_batch() -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError), WorkerPool(2).sharing(_stamp, list(range(2000)), _setup,
                                                            hold_one=True):
        time.sleep(0.2)
        raise RuntimeError("the owner's work failed")
    # 2,000 items of 5 ms on one worker would take 10 s; the workers stop after their batch.
    assert time.monotonic() - started < 5
