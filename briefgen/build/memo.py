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
import errno
import hashlib
import json
import marshal
import os
import secrets
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, overload

from briefgen import __version__
from briefgen.build import forked
from briefgen.build.columns import nul_before
from briefgen.build.store import STORE, FileStat, ReadAhead, Store, output_folders_row, stat_base
from briefgen.content.files import Listing, walk_files
from briefgen.diagnostics import Diagnostic, warning

# More content files changed than this are a checkout or a batch edit: a full build suits them
# better than an edit in place (in_place.py).
MAX_CHANGED_IN_PLACE = 20


@dataclass(frozen=True)
class LastBuild:
    """The record of the last build into an output folder: what it read, made and left there."""

    inputs: str
    files: int
    briefings: int
    valid_until: dt.datetime | None  # when the next future briefing comes due
    drafts_left_out: int = 0
    future_left_out: int = 0
    # The output's folders (sorted) and their modification times: a file deleted by hand
    # from the output changes its folder's, which no input records.
    folders: Sequence[str] = ()  # a tuple, or JoinedFolders as read back
    folder_times: array[int] = field(default_factory=lambda: array("q"))
    # Names the stored list of these folders; "" until it is stored. An edit in place keeps
    # the folders and this, so only the record, not the list, is written again.
    folders_token: str = ""
    # How many content files the build read (-1: not recorded): a build that finds another
    # number has files added or removed, which no edit in place can take.
    content_files: int = -1
    # The build's warnings: a build that skips its work, or edits in place, says them again.
    warnings: tuple[Diagnostic, ...] = ()
    # The briefings it left out (drafts, and those dated in the future), by path; None when not
    # recorded. A build that finds one of them gone may edit in place (see in_place.py).
    left_out: tuple[str, ...] | None = None

    def briefing_files_added(self, found: ContentCount) -> int:
        """How many briefing files more `found`, the content files now, has than this build read
        (drafts and briefings left out included; fewer if negative): known without counting
        them when there are as many content files."""
        if self.content_files in (-1, len(found)):
            return 0
        return found.count_of("briefing") - (self.briefings + self.drafts_left_out + self.future_left_out)


class ContentCount(Protocol):
    """What briefing_files_added asks of the content files (inputs.ContentFiles)."""

    def __len__(self) -> int: ...
    def count_of(self, kind: str) -> int: ...


class JoinedFolders(Sequence[str]):
    """An output's folders (sorted, distinct, the output's own "" first) as they are stored:
    one string, split only when they are all asked for. An edit in place looks up the few it
    wrote into (see refreshed_times): at 50,000 briefings, splitting all 83,000 took 15 ms
    and 15 MB of memory."""

    def __init__(self, joined: str, count: int) -> None:
        self._joined, self._count = joined, count
        self._split: tuple[str, ...] | None = None

    def _folders(self) -> tuple[str, ...]:
        if self._split is None:
            self._split = tuple(self._joined.split("\0"))
        return self._split

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, at: int) -> str: ...
    @overload
    def __getitem__(self, at: slice) -> tuple[str, ...]: ...
    def __getitem__(self, at: int | slice) -> str | tuple[str, ...]:
        return self._folders()[at]

    def __iter__(self) -> Iterator[str]:
        return iter(self._folders())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JoinedFolders):
            return self._joined == other._joined
        if not isinstance(other, tuple):
            return NotImplemented
        if self._split is not None:
            return self._split == other
        # No folder holds NUL: the same string joined is the same folders, and splitting
        # this one was 15 MB at 50,000 briefings.
        return len(other) == self._count and self._joined == "\0".join(other)

    def lazily(self) -> Iterator[str]:
        """The folders one at a time, the stored string not split all at once."""
        if self._split is not None:
            yield from self._split
            return
        joined, start = self._joined, 0
        while (end := joined.find("\0", start)) >= 0:
            yield joined[start:end]
            start = end + 1
        yield joined[start:]

    __hash__ = None  # type: ignore[assignment]

    def positions(self, wanted: Iterable[str]) -> list[tuple[int, str]]:
        """Where those of the `wanted` folders that are among these are, in order, each with
        the folder. Found in the string as stored (a copy with a NUL at each end took 3 ms of
        every edit at 50,000 briefings), in one pass when `wanted` is sorted: no folder holds
        NUL, and only the first, the output's own, is empty."""
        if self._split is not None:
            return _positions(self._split, wanted)
        joined = self._joined
        found: list[tuple[int, str]] = []
        last, before = 0, 0  # where the last search began, and how many NULs come before it
        for folder in wanted:
            if not folder:
                found.append((0, folder))  # the output's own: the first
                continue
            at = nul_before(joined, folder, last)
            if at < 0:
                at = nul_before(joined, folder)  # `wanted` out of order
                if at < 0:
                    continue
                last, before = 0, 0
            before += joined.count("\0", last, at)
            last = at
            found.append((before + 1, folder))  # folder n comes after the n-th NUL
        return found


def _positions(folders: Sequence[str], wanted: Iterable[str]) -> list[tuple[int, str]]:
    """Where those of the `wanted` folders that are among `folders` (sorted) are, in order,
    each with the folder."""
    if isinstance(folders, JoinedFolders):
        return folders.positions(wanted)
    found = []
    for folder in wanted:
        at = bisect_left(folders, folder)
        if at < len(folders) and folders[at] == folder:
            found.append((at, folder))
    return found


def output_folders(files: Iterable[str]) -> tuple[str, ...]:
    """Every folder that holds one of these output files (relative paths), the output's own too."""
    found = {""}
    for rel_file in files:
        folder = rel_file.rpartition("/")[0]
        while folder not in found:
            found.add(folder)
            folder = folder.rpartition("/")[0]
    return tuple(sorted(found))


def folder_times(output: Path, folders: Iterable[str]) -> array[int] | None:
    """The folders' modification times; None when one is gone. An array, as a build's record
    keeps them: compared with it whole (83,000 numbers at 50,000 briefings), not number by number."""
    stat = os.stat
    try:
        with stat_base(str(output)) as (prefix, at):
            return array("q", [stat(prefix + (folder or "."), dir_fd=at).st_mtime_ns for folder in folders])
    except OSError:
        return None


@dataclass(frozen=True)
class OutputCheck:
    """The record of the last build into an output folder, its folders not read (see
    with_folders), and a way to its folders' times now."""

    record: LastBuild | None
    times: Callable[[], array[int] | None]

    def folders_as_left(self) -> bool:
        """Whether the output's folders are as that build left them."""
        return self.record is not None and self.times() == self.record.folder_times


# How much lower the priority of the copy that looks at the output's folders is (see
# checking_output): at 50,000 briefings it takes about 0.24 s of a core.
_OUTPUT_CHECK_NICE = 10


@contextlib.contextmanager
def checking_output(cache_dir: Path, output: Path, fork: bool) -> Iterator[OutputCheck]:
    """The last build into `output`, whose folders' times are taken while the block runs: by a
    forked copy of this process from the first folder on, when `fork` is true and a copy can be
    made, and by this process from the last one back, once it asks for them (see
    forked.from_both_ends). Each reads the list of folders only if it takes some: a build
    that changed nothing has no other use for it."""
    record = read_build_record(cache_dir, output)
    if record is None:
        yield OutputCheck(None, lambda: None)
        return
    count = len(record.folder_times)
    read: list[JoinedFolders | None] = []  # the folders, read once by each process

    def times_of(start: int, stop: int) -> array[int] | None:
        if not read:
            read.append(read_output_folders(cache_dir, output, record.folders_token, count))
        named = read[0]
        return None if named is None else folder_times(output, named[start:stop])

    # The copy yields to this process and to the copy that stats the content files: a build that
    # edits in place asks for the folders' times only before it writes, so they need not hold
    # up what comes first.
    with forked.from_both_ends(count, times_of, fork, nice=_OUTPUT_CHECK_NICE) as times_now:
        yield OutputCheck(record, times_now)


def refreshed_times(output: Path, last: LastBuild, folders: Sequence[str],
                    changed_files: Iterable[str]) -> array[int] | None:
    """The times of `folders` (an output's, sorted, as output_folders makes them) after files
    were written into or removed from the output (`changed_files`, relative paths), which was
    as the `last` build left it. Only a folder that held one of them, or one the last build
    did not have, can have a new time: those alone are looked at again; None when one is gone."""
    if folders == last.folders:  # an edit in place: the same folders, most often the same tuple
        times = array("q", last.folder_times)
        again = []
    else:
        times = _kept_times(last, folders)
        again = [(at, folders[at]) for at, time in enumerate(times) if time == -1]
    # The output's own folder is among these: an interrupted commit leaves its marks there.
    # Each comes with its folder: a stored one, split to be asked for, took 7 ms at 50,000 briefings.
    again += _positions(folders, output_folders(changed_files))
    base = str(output) + os.sep
    try:
        for at, folder in again:
            times[at] = os.stat(base + folder).st_mtime_ns
    except OSError:
        return None
    return times


def _kept_times(last: LastBuild, folders: Sequence[str]) -> array[int]:
    """The times `last` has of `folders` (sorted, as output_folders makes them), -1 for a folder
    it lacks: the two lists walked side by side. A table of the last build's folders and times
    was the build's peak of memory at 50,000 briefings (83,000 of each, 13 MB more)."""
    last_folders = last.folders.lazily() if isinstance(last.folders, JoinedFolders) else last.folders
    times = array("q", [-1]) * len(folders)
    at, count = 0, len(folders)
    for folder, time in zip(last_folders, last.folder_times, strict=True):
        while at < count and folders[at] < folder:
            at += 1
        if at == count:
            break
        if folders[at] == folder:
            times[at] = time
            at += 1
    return times


def _stats(folders: Iterable[Path]) -> list[tuple[str, FileStat]]:
    found = []
    for folder in folders:
        for name in walk_files(str(folder)):  # through links to folders, as the build reads them
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except OSError:  # a link to nothing: the build reports it, or leaves it out
                continue
            found.append((path, (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)))
    return found


def inputs_digest(folders: Iterable[Path], files: Iterable[Path], settings: str,
                  known_names: Iterable[bytes] = (), known_stats: array[int] | None = None) -> str:
    """A digest of what a build reads, from file metadata only; `known_names` name files whose
    stats are taken already (as bytes to digest), their numbers one after another in `known_stats`."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{__version__}\n{settings}\n".encode())
    for names in known_names:
        digest.update(names)
    if known_stats is not None:
        digest.update(known_stats.tobytes())
    entries = _stats(folders)
    # The paths joined, then the stats marshalled (version 2 writes no references, so equal
    # stats give equal bytes): a tenth of the cost of each entry's repr.
    paths = "\0".join([path for path, _ in entries])
    digest.update(paths.encode("utf-8", "surrogateescape"))
    digest.update(marshal.dumps([stat for _, stat in entries], 2))
    for path in files:
        if path.is_file():
            st = path.stat()
            digest.update(repr((str(path), st.st_mtime_ns, st.st_ctime_ns, st.st_size)).encode())
    return digest.hexdigest()


def _store(cache_dir: Path, writable: bool, read_ahead: ReadAhead | None = None) -> Store:
    return Store(cache_dir / STORE, writable, read_ahead)


# The output's folders are a row of the state table, a pickled (token, count, folders joined
# by NUL): as a list in the record's JSON, they took most of reading it (75 ms at 50,000
# briefings, 83,000 folders), which every build does; one string reads in a third of the time
# of a string a folder. Their times follow the record's JSON, after a newline, as the
# eight-byte numbers of an array: base64 in the JSON, they took 5 ms of every build to read,
# and 6 ms of every edit to write, at 50,000 briefings.
def _folders_row(output: Path) -> str:
    return output_folders_row(str(output))


def read_last_build(cache_dir: Path, output: Path) -> LastBuild | None:
    """The record of the last build into `output`, with its folders; None when there is none
    whole."""
    record = read_build_record(cache_dir, output)
    return None if record is None else with_folders(cache_dir, output, record)


def with_folders(cache_dir: Path, output: Path, record: LastBuild, read_ahead: ReadAhead | None = None
                 ) -> LastBuild | None:
    """A record read without its folders (read_build_record), with them; None when they are
    not stored as it names them. `read_ahead`: the rows of an edit being read (see
    store.edit_rows), which hold them."""
    folders = read_output_folders(cache_dir, output, record.folders_token, len(record.folder_times),
                                  read_ahead)
    return None if folders is None else replace(record, folders=folders)


def read_build_record(cache_dir: Path, output: Path) -> LastBuild | None:
    """The record of the last build into `output`, but for its folders (left empty): those are
    read apart, by read_output_folders with the record's `folders_token`."""
    store = _store(cache_dir, writable=False)
    try:
        stored = store.build_record(str(output))
        if stored is None:
            return None
        head, newline, times_bytes = stored.partition(b"\n")
        if not newline:
            return None
        record = json.loads(head)
        until = record["valid_until"]
        times = array("q")
        times.frombytes(times_bytes)
        return LastBuild(str(record["inputs"]), int(record["files"]), int(record["briefings"]),
                         dt.datetime.fromisoformat(until) if until else None,
                         int(record.get("drafts", 0)), int(record.get("future", 0)),
                         (), times, str(record["folders"]), int(record.get("content_files", -1)),
                         _warnings(record.get("warnings", [])), _paths(record.get("left_out")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    finally:
        store.close()


def read_output_folders(cache_dir: Path, output: Path, token: str, count: int,
                        read_ahead: ReadAhead | None = None) -> JoinedFolders | None:
    """The `count` output folders that the record of this token names; None when they are not
    those. Their count is stored with them, written with the string: counting its NULs took
    2.4 ms at 50,000 briefings."""
    store = _store(cache_dir, writable=False, read_ahead=read_ahead)
    try:
        row = store.read_states([_folders_row(output)]).get(_folders_row(output))
    finally:
        store.close()
    if not (isinstance(row, tuple) and len(row) == 3 and row[0] == token and row[1] == count
            and isinstance(row[2], str)):
        return None
    return JoinedFolders(row[2], count)


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


def _paths(stored: object) -> tuple[str, ...] | None:
    """The paths a record lists (None when it lists none: an earlier version's); ValueError
    when it lists something else."""
    if stored is None:
        return None
    if not (isinstance(stored, list) and all(isinstance(path, str) for path in stored)):
        raise ValueError("paths")
    return tuple(stored)


def write_last_build(cache_dir: Path, output: Path, last: LastBuild) -> None:
    token = last.folders_token or secrets.token_hex(8)
    record = {
        "inputs": last.inputs, "files": last.files, "briefings": last.briefings,
        "valid_until": last.valid_until.isoformat() if last.valid_until else None,
        "drafts": last.drafts_left_out, "future": last.future_left_out,
        "folders": token, "content_files": last.content_files,
        "warnings": [[w.path, w.line, w.column, w.message] for w in last.warnings],
        "left_out": None if last.left_out is None else list(last.left_out),
    }
    store = _store(cache_dir, writable=True)
    try:
        if not last.folders_token:
            # Written first: a record that names folders not stored is no record (see above).
            store.write_state({_folders_row(output): (token, len(last.folders), "\0".join(last.folders))})
        store.put_build_record(str(output), json.dumps(record, sort_keys=True).encode("utf-8") + b"\n"
                               + array("q", last.folder_times).tobytes())
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


def keep_listing(cache_dir: Path, content_dir: Path, listing: Listing, known: Listing) -> None:
    """Keep a listing of the content folders for the next build, when it has a folder listed
    afresh and settled that the one read (`known`) lacks: a folder it only leaves out (too
    recent, or gone) is listed again next time, which costs less than writing the whole
    listing. One not kept (the cache cannot be written, or there is no cache yet: the build's
    own would replace it) only means the next build lists every folder."""
    if not (any(known.get(folder) != entry for folder, entry in listing.items())
            and (cache_dir / STORE).is_file()):
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


def check_cache_folder(folder: Path) -> None:
    """Raise OSError, saying what to do, when the place of the build cache holds a file."""
    if folder.exists() and not folder.is_dir():
        raise OSError(errno.ENOTDIR, f"{folder.name} is a file, where briefgen keeps its build cache "
                                     f"(a folder): move it away or delete it", str(folder))
