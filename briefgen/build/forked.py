"""Work done by a forked copy of this process, on another core, while this one goes on.

A build starts with two sweeps of `stat` calls: the content files and the
output's folders. Threads do not run them side by side: each call is short,
and the GIL changes hands at every one. Two processes do. The copy sends its
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
                   fork: bool = True) -> Iterator[Callable[[], array[int] | None]]:
    """A number for each of `count` items, `numbers(start, stop)` giving those of a range of
    them (None if it cannot): a forked copy of this process works from the first item on
    while the block runs; asked for the numbers, this process works from the last one back
    until the two meet, and takes the copy's. The block gets a function that returns them
    all, in order; None if `numbers` could not give some.

    Meant for a run of short calls (stats) that this process finds other work to do beside:
    when it is done with that, it takes the rest of the run's far end rather than wait. The
    two tell each other how far they have come through two integers in memory they share;
    each reads the other's before every range it takes, so they meet within a range of each
    other. Whatever the copy did not give (it failed, or could not be made, or stopped short)
    this process makes itself: the numbers are the same either way.
    """
    shared = shared_cells() if fork and count and can_fork() else None
    copy = None
    if shared is not None:
        shared[0], shared[1] = 0, count  # how far the copy has come; where this process has come back to

        def forward() -> bytes:
            made = array("q")
            while (stop := min(len(made) + _CHUNK, shared[1])) > len(made):
                part = numbers(len(made), stop)
                if part is None:
                    raise LookupError("no numbers")  # the copy fails; this process finds out itself
                made.extend(part)
                shared[0] = len(made)
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
    (a native int, written and read whole)."""
    try:
        return memoryview(mmap.mmap(-1, 8)).cast("i")
    except (OSError, ValueError):
        return None


def _meet(count: int, numbers: Callable[[int, int], array[int] | None], copy: _Copy | None,
          shared: memoryview | None) -> array[int] | None:
    back: list[array[int]] = []
    end = count  # this process has the numbers from here on
    if copy is not None and shared is not None:
        while (start := max(end - _CHUNK, shared[0])) < end:
            shared[1] = start  # taken before it is made: the copy stops short of it
            part = numbers(start, end)
            if part is None:
                copy.collect()
                return None
            back.append(part)
            end = start
    made = array("q")
    data = copy.collect() if copy is not None else None
    if data is not None:
        made.frombytes(data)
        del made[end:]  # ranges both made, once the copy read a start not yet written
    if len(made) < end:
        part = numbers(len(made), end)
        if part is None:
            return None
        made.extend(part)
    for part in reversed(back):
        made.extend(part)
    return made
