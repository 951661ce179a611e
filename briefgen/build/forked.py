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
import os
import sys
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
