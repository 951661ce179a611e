"""Work done by a forked copy of this process, on another core, while this one goes on.

A build starts with two sweeps of `stat` calls: the content files (this
process and a copy, from both ends) and the output's folders (another copy).
Threads do not run them side by side: each call is short, and the GIL changes
hands at every one. Processes do. The copy sends its
result back through a pipe as bytes. If the copy cannot be made or fails, the
work runs in this process when its result is asked for, so the result is the
same either way, only later.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import sys
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_DONE = b"done\n"  # the copy's bytes start with this once its work is done and whole
_SIZE = 8  # then the length of what follows, in this many bytes
Result = bytes | memoryview  # what the work made: from the copy, a view of the bytes it sent


def can_fork() -> bool:
    """Whether this process may fork: fork exists, and no other thread is running (a
    forked copy would inherit the locks that thread holds, and might wait on them forever)."""
    threading = sys.modules.get("threading")  # not imported: no thread was started from Python
    return hasattr(os, "fork") and (threading is None or threading.active_count() == 1)


@dataclass
class _Copy:
    """A forked copy at work: its process and the pipe it sends its result through."""

    pid: int
    reader: int  # the pipe's end this process reads

    def collect(self) -> Result | None:
        """The copy's bytes, once it has ended; None if it failed."""
        with open(self.reader, "rb", buffering=0) as stream:
            head = _read_into(stream, bytearray(len(_DONE) + _SIZE))
            # Read into one buffer of the size the copy gives, not grown as they come: a
            # snapshot's rows are tens of megabytes at 50,000 briefings, and each growth
            # may copy them.
            data = (_read_into(stream, bytearray(int.from_bytes(head[len(_DONE):], "little")))
                    if head is not None and head.startswith(_DONE) else None)
            if data is not None and stream.read(1):
                data = None  # more than the copy said it sent
        _, status = os.waitpid(self.pid, 0)
        return memoryview(data) if status == 0 and data is not None else None


def _read_into(stream: io.RawIOBase, buffer: bytearray) -> bytearray | None:
    """The buffer filled from the stream; None if the stream ends first."""
    view, filled = memoryview(buffer), 0
    while filled < len(buffer):
        got = stream.readinto(view[filled:])
        if not got:
            return None
        filled += got
    return buffer


def _start(work: Callable[[], bytes]) -> _Copy | None:
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:
        # The copy ends here whatever happens: it must not go on to run the caller's code, nor
        # this process's exit handlers, nor flush output buffers it inherited.
        status = 1
        try:
            os.close(reader)
            data = work()
            with open(writer, "wb") as stream:
                stream.write(_DONE + len(data).to_bytes(_SIZE, "little"))
                stream.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    return _Copy(pid, reader)


@contextlib.contextmanager
def meanwhile(work: Callable[[], bytes], fork: bool = True) -> Iterator[Callable[[], Result]]:
    """Start `work` in a forked copy of this process, and run the block beside it. The block
    gets a function that returns what `work` returned: from the copy, or, if the copy could
    not be made or failed, from running `work` here. On leaving the block, the copy is
    waited for, so none is left behind."""
    copy = _start(work) if fork and can_fork() else None
    result: list[Result] = []

    def result_of_work() -> Result:
        nonlocal copy
        if not result:
            made = None
            if copy is not None:
                made, copy = copy.collect(), None
            result.append(work() if made is None else made)
        return result[0]

    try:
        yield result_of_work
    finally:
        if copy is not None:
            copy.collect()


_CHUNK = 512  # items a side takes at a time: at a few microseconds each, a millisecond or two


@contextlib.contextmanager
def from_both_ends(count: int, numbers: Callable[[int, int], array[int] | None],
                   fork: bool = True, nice: int = 0) -> Iterator[Callable[[], array[int] | None]]:
    """A number for each of `count` items, `numbers(start, stop)` giving those of a range of
    them (None if it cannot): a forked copy of this process works from the first item on
    while the block runs; asked for the numbers, this process works from the last one back
    until the two meet, and takes the copy's. The block gets a function that returns them
    all, in order; None if `numbers` could not give some.

    With `nice`, the copy runs at that lower priority: it takes the cores other processes leave.

    Meant for a run of short calls (stats) that this process finds other work to do beside:
    when it is done with that, it takes the rest of the run's far end rather than wait. The
    two tell each other how far they have come through two integers in memory they share
    (take_forward, take_backward). Whatever the copy did not give (it failed, or could not be
    made, or stopped short) this process makes itself: the numbers are the same either way.
    """
    shared = shared_cells() if fork and count and can_fork() else None
    copy = None
    if shared is not None:
        shared[0], shared[1] = 0, count  # how far the copy has come; where this process has come back to

        def forward() -> bytes:
            if nice:
                with contextlib.suppress(OSError):
                    os.nice(nice)
            made = array("q")

            def make(start: int, stop: int) -> None:
                part = numbers(start, stop)
                if part is None:
                    raise LookupError("no numbers")  # the copy fails; this process finds out itself
                made.extend(part)

            take_forward(shared, _CHUNK, make)
            return made.tobytes()

        copy = _start(forward)
    result: list[array[int] | None] = []

    def all_numbers() -> array[int] | None:
        nonlocal copy
        if not result:
            result.append(_meet(count, numbers, copy, shared))
            copy = None
        return result[0]

    try:
        yield all_numbers
    finally:
        if copy is not None:
            copy.collect()


def shared_cells() -> memoryview | None:
    """Two integers in memory a forked copy shares; each written by one side, read by the other
    (a native int, written and read whole): see take_forward and take_backward."""
    try:
        return memoryview(mmap.mmap(-1, 8)).cast("i")
    except (OSError, ValueError):
        return None


def take_forward(cells: memoryview, run: int, make: Callable[[int, int], None]) -> int:
    """One side of a run of items that two processes share out through `cells` (shared_cells):
    ranges of `run` items from the first on, each made (`make(start, stop)`) and then told to
    the other side (cells[0]), until the next would reach what the other side has taken
    (cells[1], set to the run's end or less before either starts); how far this side came."""
    done = 0
    while (stop := min(done + run, cells[1])) > done:
        make(done, stop)
        done = cells[0] = stop
    return done


def take_backward(cells: memoryview, count: int, run: int, make: Callable[[int, int], None]) -> int:
    """The other side (see take_forward): ranges from the last of `count` items back, each taken
    (cells[1]) before it is made, until the next would start where the first side has told it
    has come (cells[0]); where this side stopped.

    The first side tells of a range only once it has made it, so where the two meet both may
    have made some items: the first side's last range may reach past where this one stopped,
    and this one may have taken, before it was told, items of the first side's last range or
    two. Together they made every item; the caller keeps one side's where both did."""
    end = count
    while (start := max(end - run, cells[0])) < end:
        cells[1] = start
        make(start, end)
        end = start
    return end


class _NoNumbers(Exception):
    pass


def _meet(count: int, numbers: Callable[[int, int], array[int] | None], copy: _Copy | None,
          shared: memoryview | None) -> array[int] | None:
    back: list[array[int]] = []
    end = count  # this process has the numbers from here on
    if copy is not None and shared is not None:

        def make(start: int, stop: int) -> None:
            part = numbers(start, stop)
            if part is None:
                raise _NoNumbers
            back.append(part)

        try:
            end = take_backward(shared, count, _CHUNK, make)
        except _NoNumbers:
            copy.collect()
            return None
    made = array("q")
    data = copy.collect() if copy is not None else None
    if data is not None:
        made.frombytes(data)
        del made[end:]  # where both made some, this process's stand
    if len(made) < end:
        part = numbers(len(made), end)
        if part is None:
            return None
        made.extend(part)
    for part in reversed(back):
        made.extend(part)
    return made
