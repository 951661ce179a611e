"""Worker processes that map a function over items in batches.

The pool knows nothing of parsing or rendering: a stage hands it a `setup`
function that makes each worker's context (converters, a renderer) and a
`work` function applied to (context, item). Workers are forked after the
parent has built what the setup needs, so large state (the model, compiled
templates) reaches each worker once, by inheritance, and every task is just a
batch of small items.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# The context `setup` made in this worker process; a worker serves one pool, so
# this is set once per process and never in the parent.
_worker_context: list[Any] = []


def _batches(items: Sequence[Item], jobs: int, largest: int = 400) -> list[Sequence[Item]]:
    """The items in order, in batches that shrink as they near the end: each is a share of
    what is left. Workers take batches as they finish one, so the last to finish ends about
    when the others do; with batches of one size, it could end a whole batch later (400
    long briefings to parse are five seconds)."""
    batches = []
    start = 0
    while start < len(items):
        size = max(1, min(largest, -(-(len(items) - start) // (jobs * 4))))
        batches.append(items[start:start + size])
        start += size
    return batches


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent(forked: bool) -> None:
    """Have the kernel kill this worker when the process that forked it dies.

    Without it, a build killed with SIGKILL leaves its workers running, holding
    the cache and the staging folder. Linux only; elsewhere workers still end
    when they next find their task queue closed. A worker of a fork server is
    the fork server's child: it dies with that server, which ends with the pool's owner.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    # The parent may have died before the request was made.
    if forked and parent is not None and os.getppid() != parent.pid:
        os._exit(1)


def _start(setup: Callable[..., Any], args: tuple[Any, ...], forked: bool) -> None:
    _die_with_parent(forked)
    # The parent works with the cyclic collector off and its heap frozen before
    # forking; a worker collects only what it allocates itself.
    gc.enable()
    _worker_context.append(setup(*args))


def _run(work: Callable[[Any, Item], Result], batch: Sequence[Item]) -> list[Result]:
    context = _worker_context[-1]
    return [work(context, item) for item in batch]


class WorkerPool:
    """A fork-based process pool, started per stage so it inherits that stage's state."""

    def __init__(self, jobs: int, start: str = "fork") -> None:
        self.jobs = max(1, jobs)
        # "fork" shares the parent's state for free but is safe only while the parent
        # runs no other thread; "forkserver" sends `setup` and its arguments instead.
        self._context = multiprocessing.get_context(start)

    def map(self, work: Callable[[Any, Item], Result], items: Sequence[Item],
            setup: Callable[..., Any], args: tuple[Any, ...] = ()) -> Iterator[list[Result]]:
        """Results batch by batch, in order, as the workers finish them.

        `work` and `setup` must be module-level functions (they are sent by name);
        with "fork", `args` reach `setup` by inheritance, never pickled.
        """
        with self.started(work, items, setup, args) as results:
            yield from results

    @contextlib.contextmanager
    def started(self, work: Callable[[Any, Item], Result], items: Sequence[Item],
                setup: Callable[..., Any], args: tuple[Any, ...] = ()) -> Iterator[Iterator[list[Result]]]:
        """`map`, but the workers fork and start at once: the caller may do work of its own
        before it reads the results, within the block. Leaving it early cancels what has not begun."""
        gc.freeze()
        forked = self._context.get_start_method() == "fork"
        pool = ProcessPoolExecutor(self.jobs, mp_context=self._context, initializer=_start,
                                   initargs=(setup, args, forked))
        try:
            yield pool.map(functools.partial(_run, work), _batches(items, self.jobs))
        finally:
            pool.shutdown(cancel_futures=True)
