"""The record of the last build into each output folder, to skip a build whose
inputs are all as they were.

The inputs are named by cheap facts, not contents: the size, times and inode
of every content, template, theme and static file, the configuration, the
options and the briefgen version. If all are as recorded, and no briefing
left out for being dated in the future has come due since, the output is
already what a build would make, and nothing needs to be read or rendered.
Any doubt (a touched file, a missing record, a damaged one) means: build.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from briefgen import __version__
from briefgen.build import forked
from briefgen.build.store import STORE, FileStat, Store

T = TypeVar("T")


@dataclass(frozen=True)
class LastBuild:
    inputs: str
    files: int
    briefings: int
    valid_until: dt.datetime | None  # when the next future briefing comes due
    drafts_left_out: int = 0
    future_left_out: int = 0
    # The output's folders and a digest of their modification times: a file deleted by
    # hand from the output changes its folder's, which no input records.
    folders: tuple[str, ...] = ()
    folder_times: tuple[int, ...] = ()


def output_folders(files: Iterable[str]) -> tuple[str, ...]:
    """Every folder that holds one of these output files (relative paths), the output's own too."""
    found = {""}
    for rel_file in files:
        folder = rel_file.rpartition("/")[0]
        while folder not in found:
            found.add(folder)
            folder = folder.rpartition("/")[0]
    return tuple(sorted(found))


def folder_times(output: Path, folders: Iterable[str]) -> tuple[int, ...] | None:
    """The folders' modification times; None when one is gone."""
    base = str(output) + os.sep
    try:
        return tuple(os.stat(base + folder).st_mtime_ns for folder in folders)
    except OSError:
        return None


@dataclass(frozen=True)
class OutputCheck:
    """The last build into an output folder, and a way to its folders' times now."""

    last: LastBuild | None
    times: Callable[[], tuple[int, ...] | None]

    def folders_as_left(self) -> bool:
        """Whether the output's folders are as that build left them."""
        return self.last is not None and self.times() == self.last.folder_times


@contextlib.contextmanager
def checking_output(cache_dir: Path, output: Path, fork: bool) -> Iterator[OutputCheck]:
    """The last build into `output`, whose folders' times are taken while the block runs: by a
    forked copy of this process when `fork` is true and it can be made (see forked.py)."""
    last = read_last_build(cache_dir, output)
    if last is None:
        yield OutputCheck(None, lambda: None)
        return
    folders = last.folders

    def packed_times() -> bytes:
        times = folder_times(output, folders)
        return b"" if times is None else array("q", times).tobytes()

    with forked.meanwhile(packed_times, fork) as packed:
        def times() -> tuple[int, ...] | None:
            data = packed()
            return tuple(array("q", data)) if data else None  # never empty: there is the output's own

        yield OutputCheck(last, times)


def refreshed_times(output: Path, last: LastBuild, changed: Iterable[str]) -> tuple[int, ...] | None:
    """The folders' times after files were written into the `changed` ones (and the output's own,
    where an interrupted commit leaves its marks): only those are looked at again."""
    times = list(last.folder_times)
    position = {folder: i for i, folder in enumerate(last.folders)}
    base = str(output) + os.sep
    try:
        for folder in {"", *changed}:
            times[position[folder]] = os.stat(base + folder).st_mtime_ns
    except (OSError, KeyError):
        return None
    return tuple(times)


def _stats(folders: Iterable[Path]) -> list[tuple[str, FileStat]]:
    found = []
    for folder in folders:
        for base, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(base, name)
                st = os.stat(path)
                found.append((path, (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)))
    return found


def inputs_digest(folders: Iterable[Path], files: Iterable[Path], settings: str,
                  known: Sequence[tuple[str, FileStat]] = ()) -> str:
    """A digest of what a build reads, from file metadata only; `known` are stats already taken."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{__version__}\n{settings}\n".encode())
    entries = [*known, *_stats(folders)]
    # The paths joined, then every number as eight bytes: a tenth of the cost of each entry's
    # repr, and this runs over every content file on every build, a build with nothing to do too.
    digest.update("\0".join([path for path, _ in entries]).encode("utf-8", "surrogateescape"))
    digest.update(array("q", [number for _, stat in entries for number in stat]).tobytes())
    for path in files:
        if path.is_file():
            st = path.stat()
            digest.update(repr((str(path), st.st_mtime_ns, st.st_ctime_ns, st.st_size)).encode())
    return digest.hexdigest()


def _store(cache_dir: Path, writable: bool) -> Store:
    return Store(cache_dir / STORE, writable)


def _all(kind: type[T], values: list[object]) -> tuple[T, ...]:
    """The values of a record's list, which must all be of this type (JSON gives them so)."""
    if not all(map(kind.__instancecheck__, values)):
        raise TypeError(f"not all {kind.__name__}")
    return tuple(values)  # type: ignore[arg-type]


def read_last_build(cache_dir: Path, output: Path) -> LastBuild | None:
    store = _store(cache_dir, writable=False)
    try:
        record = json.loads(store.build_record(str(output)) or "null")
        until = record["valid_until"]
        return LastBuild(str(record["inputs"]), int(record["files"]), int(record["briefings"]),
                         dt.datetime.fromisoformat(until) if until else None,
                         int(record.get("drafts", 0)), int(record.get("future", 0)),
                         _all(str, record["folders"]), _all(int, record["folder_times"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    finally:
        store.close()


def write_last_build(cache_dir: Path, output: Path, last: LastBuild) -> None:
    record = {
        "inputs": last.inputs, "files": last.files, "briefings": last.briefings,
        "valid_until": last.valid_until.isoformat() if last.valid_until else None,
        "drafts": last.drafts_left_out, "future": last.future_left_out,
        "folders": last.folders, "folder_times": last.folder_times,
    }
    store = _store(cache_dir, writable=True)
    try:
        store.put_build_record(str(output), json.dumps(record, sort_keys=True))
    finally:
        store.close()


def forget(cache_dir: Path, output: Path) -> None:
    """Drop the record for an output folder, before anything in it changes."""
    if not (cache_dir / STORE).exists():
        return
    store = _store(cache_dir, writable=True)
    try:
        store.drop_build_record(str(output))
    finally:
        store.close()
