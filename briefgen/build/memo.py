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

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from briefgen import __version__
from briefgen.build import forked
from briefgen.build.store import FOLDER_FLAGS, STAT_IN_FOLDER, STORE, FileStat, Store
from briefgen.content.files import Listing
from briefgen.diagnostics import Diagnostic, warning

T = TypeVar("T")


@dataclass(frozen=True)
class LastBuild:
    inputs: str
    files: int
    briefings: int
    valid_until: dt.datetime | None  # when the next future briefing comes due
    drafts_left_out: int = 0
    future_left_out: int = 0
    # The output's folders (sorted) and their modification times: a file deleted by hand
    # from the output changes its folder's, which no input records.
    folders: tuple[str, ...] = ()
    folder_times: tuple[int, ...] = ()
    # Names the stored list of these folders; "" until it is stored. An edit in place keeps
    # the folders and this, so only the record, not the list, is written again.
    folders_token: str = ""
    # How many content files the build read (-1: not recorded): a build that finds another
    # number has files added or removed, which no edit in place can take.
    content_files: int = -1
    # The build's warnings: a build that skips its work, or edits in place, says them again.
    warnings: tuple[Diagnostic, ...] = ()


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
    if not STAT_IN_FOLDER:
        base = str(output) + os.sep
        try:
            return tuple([os.stat(base + folder).st_mtime_ns for folder in folders])
        except OSError:
            return None
    stat = os.stat
    try:
        at = os.open(output, FOLDER_FLAGS)
    except OSError:
        return None
    try:
        return tuple([stat(folder or ".", dir_fd=at).st_mtime_ns for folder in folders])
    except OSError:
        return None
    finally:
        os.close(at)


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
            if not data:
                return None  # never empty otherwise: there is the output's own folder
            numbers = array("q")
            numbers.frombytes(data)  # the copy's bytes come as a view, which array() would take byte by byte
            return tuple(numbers)

        yield OutputCheck(last, times)


def refreshed_times(output: Path, last: LastBuild, folders: Sequence[str],
                    changed_files: Iterable[str]) -> tuple[int, ...] | None:
    """The times of `folders` (an output's, sorted, as output_folders makes them) after files
    were written into or removed from the output (`changed_files`, relative paths), which was
    as the `last` build left it. Only a folder that held one of them, or one the last build
    did not have, can have a new time: those alone are looked at again; None when one is gone."""
    if folders == last.folders:  # an edit in place: the same folders, most often the same tuple
        times = list(last.folder_times)
        again = []
    else:
        known = dict(zip(last.folders, last.folder_times, strict=True))
        times = [known.get(folder, -1) for folder in folders]
        again = [at for at, time in enumerate(times) if time == -1]
    # The output's own folder is among these: an interrupted commit leaves its marks there.
    for folder in output_folders(changed_files):
        at = bisect_left(folders, folder)
        if at < len(folders) and folders[at] == folder:
            again.append(at)
    base = str(output) + os.sep
    try:
        for at in again:
            times[at] = os.stat(base + folders[at]).st_mtime_ns
    except OSError:
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


# The output's folders are a row of the state table, a pickled (token, folders): as a list in
# the record's JSON, they took most of reading it (75 ms at 50,000 briefings, 83,000 folders),
# which every build does. Their times, as the eight-byte numbers of an array, base64-encoded.
def _folders_row(output: Path) -> str:
    return f"build-folders/{output}"


def read_last_build(cache_dir: Path, output: Path) -> LastBuild | None:
    store = _store(cache_dir, writable=False)
    try:
        record = json.loads(store.build_record(str(output)) or "null")
        until = record["valid_until"]
        token = str(record["folders"])
        row = store.read_states([_folders_row(output)]).get(_folders_row(output))
        if not (isinstance(row, tuple) and len(row) == 2 and row[0] == token and isinstance(row[1], tuple)):
            return None
        folders = _all(str, list(row[1]))
        times = array("q", base64.b64decode(record["folder_times"], validate=True))
        if len(times) != len(folders):
            return None
        return LastBuild(str(record["inputs"]), int(record["files"]), int(record["briefings"]),
                         dt.datetime.fromisoformat(until) if until else None,
                         int(record.get("drafts", 0)), int(record.get("future", 0)),
                         folders, tuple(times), token, int(record.get("content_files", -1)),
                         _warnings(record.get("warnings", [])))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return None
    finally:
        store.close()


def _warnings(stored: object) -> tuple[Diagnostic, ...]:
    """The warnings a record lists; ValueError when it lists something else."""
    if not isinstance(stored, list):
        raise ValueError("warnings")
    found = []
    for item in stored:
        if not (isinstance(item, list) and len(item) == 4 and isinstance(item[0], str)
                and type(item[1]) is int and type(item[2]) is int and isinstance(item[3], str)):
            raise ValueError("warnings")
        found.append(warning(*item))
    return tuple(found)


def write_last_build(cache_dir: Path, output: Path, last: LastBuild) -> None:
    token = last.folders_token or secrets.token_hex(8)
    record = {
        "inputs": last.inputs, "files": last.files, "briefings": last.briefings,
        "valid_until": last.valid_until.isoformat() if last.valid_until else None,
        "drafts": last.drafts_left_out, "future": last.future_left_out,
        "folders": token, "content_files": last.content_files,
        "folder_times": base64.b64encode(array("q", last.folder_times).tobytes()).decode("ascii"),
        "warnings": [[w.path, w.line, w.column, w.message] for w in last.warnings],
    }
    store = _store(cache_dir, writable=True)
    try:
        if not last.folders_token:
            # Written first: a record that names folders not stored is no record (see above).
            store.write_state({_folders_row(output): (token, tuple(last.folders))})
        store.put_build_record(str(output), json.dumps(record, sort_keys=True))
    finally:
        store.close()


# The content folders as the last build found them (see files.discover_listed): one row
# for the site, whatever the output folder.
_LISTING_ROW = "content-listing"


def read_listing(cache_dir: Path, content_dir: Path) -> Listing:
    """The listing of the content folders the last build kept; empty when there is none, or
    none of these folders, or it is damaged."""
    store = _store(cache_dir, writable=False)
    try:
        row = store.read_state(_LISTING_ROW)
    finally:
        store.close()
    if not (isinstance(row, tuple) and len(row) == 2 and row[0] == str(content_dir)
            and isinstance(row[1], dict)):
        return {}
    listing: Listing = row[1]
    for folder, entry in listing.items():
        if not (isinstance(folder, str) and isinstance(entry, tuple) and len(entry) == 4
                and type(entry[0]) is int and type(entry[1]) is int
                and isinstance(entry[2], str) and isinstance(entry[3], str)):
            return {}
    return listing


def write_listing(cache_dir: Path, content_dir: Path, listing: Listing) -> None:
    """Keep a listing of the content folders for the next build; one not kept (the cache cannot
    be written, or there is no cache yet: the build's own would replace it) only means the next
    build lists every folder."""
    if not (cache_dir / STORE).is_file():
        return
    store = _store(cache_dir, writable=True)
    try:
        store.write_state({_LISTING_ROW: (str(content_dir), listing)})
    except OSError:
        pass
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
