"""Worker processes for parsing and rendering, fed in batches.

Workers are forked after the parent has built what they need (the renderer
holds the model and compiled templates), so each worker gets the model once,
by inheritance, and every task is just a batch of small specs. Rendered bytes
never travel back: a worker writes its files into the staging folder and
returns only names and digests.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from briefgen.build.cache import ParsedFile
    from briefgen.build.stages import Rendered, Sink, SourceFile
    from briefgen.render.renderer import Renderer
    from briefgen.site.plan import PageSpec

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# Set in each worker by the pool initializer: a worker process serves one pool.
_worker_state: dict[str, Any] = {}


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _batches(items: Sequence[Any], jobs: int, largest: int = 400) -> list[Sequence[Any]]:
    size = max(1, min(largest, -(-len(items) // (jobs * 4))))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _die_with_parent() -> None:
    """Have the kernel kill this worker when the build that forked it dies.

    Without it, a build killed with SIGKILL leaves its workers running, holding
    the cache and the staging folder. Linux only; elsewhere workers still end
    when they next find their task queue closed.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    # The parent may have died before the request was made.
    if parent is not None and os.getppid() != parent.pid:
        os._exit(1)


def _init_worker() -> None:
    _die_with_parent()
    # The parent builds with the cyclic collector off and its heap frozen before
    # forking; a worker collects only what it allocates itself.
    gc.enable()


def _init_parse() -> None:
    from briefgen.content.markup import Converter

    _init_worker()
    _worker_state["converters"] = (Converter(), Converter(citations=False))


def _parse_batch(files: Sequence[SourceFile]) -> list[ParsedFile]:
    from briefgen.build.stages import parse_file

    converter, page_converter = _worker_state["converters"]
    return [parse_file(f, converter, page_converter) for f in files]


def _init_render(renderer: Renderer, writer: Sink) -> None:
    _init_worker()
    _worker_state["renderer"] = renderer
    _worker_state["writer"] = writer


def _render_batch(jobs: Sequence[tuple[PageSpec, str]]) -> list[Rendered]:
    from briefgen.build.stages import render_one

    renderer, writer = _worker_state["renderer"], _worker_state["writer"]
    return [render_one(renderer, writer, spec, digest) for spec, digest in jobs]


class WorkerPool:
    """A fork-based process pool, started per stage so it inherits that stage's state."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)
        self._context = multiprocessing.get_context("fork")

    def parse(self, files: Sequence[SourceFile]) -> Iterator[list[ParsedFile]]:
        """Parse results batch by batch, in order, as the workers finish them."""
        gc.freeze()
        with ProcessPoolExecutor(self.jobs, mp_context=self._context, initializer=_init_parse) as pool:
            yield from pool.map(_parse_batch, _batches(files, self.jobs))

    def render(self, renderer: Renderer, writer: Sink, jobs: Sequence[tuple[PageSpec, str]]
               ) -> list[Rendered]:
        gc.freeze()
        with ProcessPoolExecutor(self.jobs, mp_context=self._context, initializer=_init_render,
                                 initargs=(renderer, writer)) as pool:
            results = [r for batch in pool.map(_render_batch, _batches(jobs, self.jobs)) for r in batch]
        # The workers' writers were copies: tell the parent's what they did.
        for result in results:
            if result.problem is None:
                writer.register(result.rel_file, kept=result.kept)
        return results
