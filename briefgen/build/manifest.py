"""An output folder's manifest in the cache: every file a build made there, with its
fingerprint and the digest of its bytes.

A manifest is a row with every file and a token, and a delta row beside it: the entries of
the files an in-place edit changed since (UNVOUCHED until they are in place; None, written by
earlier versions, drops the file), with the token of the row it applies to. An edit then
writes a few entries, not all.

The full row is not pickled. It is a header line, then three columns of bytes: the paths,
each between two NULs, and the fingerprints and the digests, joined by NULs (no path or
digest holds one). It is
written a run of files at a time, and an edit looks its few files up in the bytes as read. At
50,000 briefings it holds 141,803 files, 15 MB: pickled, its columns were joined whole and
then copied while written (27 MB at a first build's peak of memory), and copied and split
again when read (20 ms of every edit).
"""

from __future__ import annotations

import itertools
import secrets
import sys
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, overload

from briefgen.build.columns import Column, Digests, column_run
from briefgen.build.store import Store, StreamedRow, manifest_delta_row, manifest_row

Manifest = dict[str, tuple[str, str]]  # output file -> (fingerprint, digest of its bytes)
ManifestChanges = dict[str, tuple[str, str] | None]
# The entry of a file that may be in the output but whose bytes no build vouches for (one a
# killed build may have put in place or left): no fingerprint matches it, so it is rendered
# again, and a build that no longer plans it removes it.
UNVOUCHED = ("", "")

_FORMAT = b"briefgen-manifest-4"
_MANIFESTS = "manifests"  # the output folders with a manifest, the latest first
_KEEP_MANIFESTS = 4  # the build's, the preview's and a publish target or two
# Past this many entries (or a tenth of the files), a delta is folded into a new full row.
# Every build reads the delta beside the row: a few milliseconds at this size, against a
# quarter of a second to write the full row of 140,000 files again.
_MANIFEST_DELTA_LIMIT = 20_000
# From this many files asked for at once, PackedManifest.digests first tries them as a run.
_RUN_FROM = 64
_RUN = 4096  # files written at a time
# Paths looked for in vain from where the last was found before a manifest indexes them all:
# each such look reads the rest of the row's paths, 5.8 MB at 50,000 briefings.
_MISSES = 16
# The header: the format, the token, the count of files and the three columns' lengths in
# bytes, of fixed width: written first, and again once the columns' lengths are known.
_NUMBER = 12
_HEADER = len(_FORMAT) + 1 + 16 + 4 * (1 + _NUMBER) + 1


class DamagedManifest(OSError):
    """A manifest row whose paths do not line up with its count: found on a lookup, as the
    store failing to give it (an edit in place makes a full build, which reads no manifest)."""


class ManifestRow(StreamedRow):
    """A manifest's full row, written by the store a run of files at a time."""

    def __init__(self, files: Mapping[str, tuple[str, str]], token: str) -> None:
        if len(token) != 16 or not token.isascii():
            raise ValueError("a manifest's token is 16 characters")
        self.files, self.token = files, token

    def write_to(self, out: IO[bytes]) -> None:
        start = out.tell()
        out.write(b"\0" * _HEADER)
        files = self.files
        # Each path between NULs (the first after one, the last before one): found by its bytes
        # with a NUL on each side, wherever it is.
        paths = _written(out, itertools.chain([""], files, [""]) if files else iter(()))
        fingerprints = _written(out, (entry[0] for entry in files.values()))
        digests = _written(out, (entry[1] for entry in files.values()))
        end = out.tell()
        out.seek(start)
        out.write(b"%s %s %0*d %0*d %0*d %0*d\n" % (
            _FORMAT, self.token.encode("ascii"), _NUMBER, len(files), _NUMBER, paths,
            _NUMBER, fingerprints, _NUMBER, digests))
        out.seek(end)


def _written(out: IO[bytes], values: Iterator[str]) -> int:
    """Write these strings joined by NULs, a run at a time; the bytes written."""
    size, separator = 0, ""
    while run := list(itertools.islice(values, _RUN)):
        data = (separator + "\0".join(run)).encode("utf-8")
        separator = "\0"
        out.write(data)
        size += len(data)
    return size


class _RowPaths(Sequence[str]):
    """A manifest row's paths where the row holds them, each between two NULs: a path is found
    by its bytes (see `position`), and the paths are split only when they are all asked for."""

    def __init__(self, row: bytes, start: int, end: int, count: int) -> None:
        self._row, self._start, self._end, self._count = row, start, end, count
        self._split: list[str] | None = None
        # The place past the last path `position` found: its number, and where the NUL before
        # it is in the row.
        self._next = (0, start)
        self._misses = 0
        self._index: dict[str, int] | None = None

    def position(self, path: str) -> int | None:
        """Where a path is among the row's; None when it is not there. A build asks for its files
        in the order of its plan, which is the order the last build wrote them in: each is looked
        for from where the last one was found, most often right there. As a dict of every path,
        the manifest of 50,000 briefings took 27 MB (split and indexed), and every worker forked
        after the lookups held it too. A path not found on from there is looked for before it;
        past a few of those (a plan of many files the last build did not make), every path is
        indexed."""
        if self._index is not None:
            return self._index.get(path)
        needle = b"\0%s\0" % path.encode("utf-8")
        row, end, (position, offset) = self._row, self._end, self._next
        at = row.find(needle, offset, end)
        if at < 0:
            self._misses += 1
            if self._misses > _MISSES:
                self._index = dict(zip(self._paths(), range(self._count), strict=True))
                return self._index.get(path)
            position, offset = 0, self._start
            at = row.find(needle, offset, min(self._next[1] + len(needle) - 1, end))
            if at < 0:
                return None
        position = self._number(at, position, offset)
        self._next = (position + 1, at + len(needle) - 1)
        return position

    def index(self, path: Any, start: int = 0, stop: int = sys.maxsize) -> int:
        """Where a path is among the row's (or where a run of them, joined by NULs, begins);
        ValueError when it is not there."""
        if start or stop != sys.maxsize:
            return super().index(path, start, stop)
        at = self._row.find(b"\0%s\0" % str(path).encode("utf-8"), self._start, self._end)
        if at < 0:
            raise ValueError(path)
        return self._number(at, 0, self._start)

    def _number(self, at: int, position: int, offset: int) -> int:
        """The number of the path after the NUL at `at`, which is at or after the NUL before
        path `position`, at `offset`."""
        # Path n follows the column's n-th NUL (counted from 0), and from that NUL to the
        # column's end there are count - n + 1: they are counted on the shorter side (a whole
        # column of 5.8 MB of paths took 4 ms).
        if at - offset <= self._end - at:
            number = position + self._row.count(b"\0", offset, at)
        else:
            number = self._count + 1 - self._row.count(b"\0", at, self._end)
        if not 0 <= number < self._count:
            raise DamagedManifest("a manifest row whose paths do not line up")
        return number

    def lined_up(self) -> bool:
        """Whether the row holds as many paths as its count: one NUL more than the count."""
        return self._count == 0 or self._row.count(b"\0", self._start, self._end) == self._count + 1

    def run_here(self, paths: Sequence[str]) -> int | None:
        """Where these paths stand, one after another, from the place past the last path found;
        None when they do not (nothing moves then). A build asks for its files a run at a time."""
        if self._index is not None or not paths:
            return None
        needle = b"\0%s\0" % "\0".join(paths).encode("utf-8")
        position, offset = self._next
        if not self._row.startswith(needle, offset, self._end):
            return None
        self._next = (position + len(paths), offset + len(needle) - 1)
        return position

    def _paths(self) -> list[str]:
        if self._split is None:
            joined = self._row[self._start + 1:self._end - 1].decode("utf-8")
            self._split = joined.split("\0") if self._count else []
            if len(self._split) != self._count:
                raise DamagedManifest("a manifest row whose paths do not line up")
        return self._split

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, at: int) -> str: ...
    @overload
    def __getitem__(self, at: slice) -> list[str]: ...
    def __getitem__(self, at: int | slice) -> str | list[str]:
        return self._paths()[at]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths())


_NOT_CHANGED = object()  # a file the delta of a manifest does not name


class PackedManifest(Mapping[str, tuple[str, str]]):
    """A manifest row as read, with the changes of its delta row over it. An edit in place
    looks up a file or two and a run of the search index's files: each is found in the row's
    bytes (a millisecond or two at 50,000 briefings), where splitting the paths took 12 ms. A
    full build looks up every planned file, in the row's order (see _RowPaths.position)."""

    def __init__(self, paths: _RowPaths, fingerprints: Column | list[str], digests: Column | list[str],
                 changes: ManifestChanges | None = None) -> None:
        self.changes: ManifestChanges = changes or {}
        self._paths, self._fingerprints, self._digests = paths, fingerprints, digests
        self._count: int | None = None  # see __len__

    @classmethod
    def checked(cls, row: object) -> tuple[PackedManifest, str] | None:
        """The manifest of a stored row, with its token; None when it is not a manifest's."""
        if not isinstance(row, bytes) or len(row) < _HEADER:
            return None
        fields = row[:_HEADER - 1].split(b" ")
        if len(fields) != 6 or fields[0] != _FORMAT or row[_HEADER - 1:_HEADER] != b"\n":
            return None
        try:
            token = fields[1].decode("ascii")
            count, *lengths = (int(field) for field in fields[2:])
        except ValueError:
            return None
        ends = list(itertools.accumulate(lengths, initial=_HEADER))
        if ends[-1] != len(row) or any(length < 0 for length in lengths):
            return None
        # Bounded by NULs, with a NUL between each two: checked in full when split (see
        # _RowPaths); a lookup finds a path only between two NULs, at a position below the count.
        if (lengths[0] == 0) != (count == 0) or (count and not row[ends[0]] == row[ends[1] - 1] == 0):
            return None
        try:
            return cls(_RowPaths(row, ends[0], ends[1], count), Column.of(row, count, ends[1], ends[2]),
                       Column.of(row, count, ends[2], ends[3])), token
        except ValueError:
            return None

    def _stored(self, rel: str) -> tuple[str, str] | None:
        # No path holds a NUL; paths joined by them are a run (see _run_digests).
        position = None if "\0" in rel else self._paths.position(rel)
        return None if position is None else (self._fingerprints[position], self._digests[position])

    def __getitem__(self, rel: str) -> tuple[str, str]:
        found = self._entry(rel)
        if found is None:
            raise KeyError(rel)
        return found

    def get(self, rel: str, default: tuple[str, str] | None = None) -> tuple[str, str] | None:  # type: ignore[override]
        # Not Mapping's (a lookup, and a KeyError caught when missing): an edit asks for every
        # search index file, 8,000 at 50,000 briefings.
        found = self._entry(rel)
        return default if found is None else found

    def _entry(self, rel: str) -> tuple[str, str] | None:
        return self.changes[rel] if rel in self.changes else self._stored(rel)

    def entries(self, rels: Sequence[str]) -> list[tuple[str, str] | None]:
        """`get` of each of these files. Asked for in the row's order (a build's plan is the
        order the last build wrote its files in), most are found a run at a time from where the
        last lookup ended, and their entries read as runs of the columns: looked up one by one,
        a plan of 13,000 files took 40 ms more than a dict."""
        found: list[tuple[str, str] | None] = []
        changes = self.changes
        for start in range(0, len(rels), _RUN_FROM):
            run = rels[start:start + _RUN_FROM]
            at = None if any("\0" in rel for rel in run) else self._paths.run_here(run)
            if at is None:
                found += map(self._entry, run)
                continue
            fingerprints = column_run(self._fingerprints, at, len(run))
            found += zip(fingerprints, column_run(self._digests, at, len(run)), strict=True)
            if changes:
                for offset, rel in enumerate(run, start):
                    if rel in changes:
                        found[offset] = changes[rel]
        return found

    def digests(self, rels: Iterable[str]) -> list[str | None]:
        """The digest of each of these files' bytes, None for a file the manifest has not: `get`
        file by file, in one loop (an edit asks for every search index file's)."""
        rels = list(rels)
        run = self._run_digests(rels)
        if run is not None:
            return run
        return [None if entry is None else entry[1] for entry in map(self._entry, rels)]

    def _run_digests(self, rels: list[str]) -> list[str | None] | None:
        """`digests` of files the row stores one after another, in the order asked (the search
        index's term shards, which a build writes in order): found as one run of paths in the
        row's bytes; None when they are not such a run."""
        if len(rels) < _RUN_FROM:
            return None
        try:
            start = self._paths.index("\0".join(rels))
        except ValueError:
            return None
        found: list[str | None] = list(column_run(self._digests, start, len(rels)))
        for at, rel in enumerate(rels):
            if rel in self.changes:
                entry = self.changes[rel]
                found[at] = None if entry is None else entry[1]
        return found

    def __iter__(self) -> Iterator[str]:
        changes = self.changes
        if not changes:
            yield from self._paths
            return
        # The changes' files the row has are found as it is read: looked up one by one, in
        # the delta's order, each would read the row's paths from the last one found on.
        in_row = set()
        for rel in self._paths:
            entry = changes.get(rel, _NOT_CHANGED)
            if entry is _NOT_CHANGED:
                yield rel
                continue
            in_row.add(rel)
            if entry is not None:
                yield rel
        yield from (rel for rel, entry in changes.items() if entry is not None and rel not in in_row)

    def lined_up(self) -> bool:
        """Whether the row's paths are as many as its count says: counted through the row (4 ms
        at 50,000 briefings), which an edit's few lookups do not, but one of every file would
        find out halfway through a build."""
        return self._paths.lined_up()

    @property
    def stored_count(self) -> int:
        """The files of the row, without the changes over it."""
        return len(self._paths)

    def __len__(self) -> int:
        if self._count is None:  # counted once, by reading every path
            self._count = sum(1 for _ in self) if self.changes else len(self._paths)
        return self._count

    def __bool__(self) -> bool:
        # Asked of a full build's manifest before it renders, when its paths are not split.
        return len(self._paths) > len(self.changes) or len(self) > 0

    def with_changes(self, changes: ManifestChanges) -> PackedManifest:
        """This manifest with more changes over the same stored row."""
        return PackedManifest(self._paths, self._fingerprints, self._digests, {**self.changes, **changes})

    def as_dict(self) -> Manifest:
        entries = zip(self._fingerprints, self._digests, strict=True)
        files = dict(zip(self._paths, entries, strict=True))  # lengths checked
        return _with_changes(files, self.changes)


class PlannedManifest(Mapping[str, tuple[str, str]]):
    """The manifest a build makes as it renders: its files are the plan's, in the plan's order,
    and each one's fingerprint and digest are set by its place in two columns (columns.Digests).
    As a dict it was 141,803 entries at 50,000 briefings (about 50 MB: a path, a tuple and two
    strings each), held by the build's process from its fingerprints to its end, and by every
    worker forked meanwhile. A file's place is found by its path through the sequence of files
    (its `index`); an entry not set is UNVOUCHED."""

    def __init__(self, files: Sequence[str]) -> None:
        self._files = files
        self._fingerprints, self._digests = Digests(len(files)), Digests(len(files))
        self._kept = bytearray(len(files))  # 1 where the entry is the last build's (see keep)

    def file(self, place: int) -> str:
        return self._files[place]

    def place(self, rel: str) -> int:
        """Where a file is in the plan; ValueError when it is not planned."""
        return self._files.index(rel)

    def set_fingerprint(self, place: int, fingerprint: str) -> None:
        self._fingerprints[place] = fingerprint
        self._kept[place] = 0

    def set_digest(self, place: int, digest: str) -> None:
        self._digests[place] = digest
        self._kept[place] = 0

    def keep(self, place: int, entry: tuple[str, str]) -> None:
        """Set a file's entry to the one the last build's manifest has for it."""
        self._fingerprints[place], self._digests[place] = entry
        self._kept[place] = 1

    def not_kept(self) -> Iterator[tuple[str, tuple[str, str]]]:
        """The entries not set by `keep`: those that may differ from the last build's."""
        kept = self._kept
        at = kept.find(0)
        while at >= 0:
            yield self._files[at], self.entry(at)
            at = kept.find(0, at + 1)

    def entry(self, place: int) -> tuple[str, str]:
        return self._fingerprints[place], self._digests[place]

    def entries(self) -> Iterator[tuple[str, str]]:
        """Every entry, in the plan's order."""
        return zip(self._fingerprints, self._digests, strict=True)

    def _place(self, rel: object) -> int | None:
        try:
            return self._files.index(rel)
        except ValueError:
            return None

    def __getitem__(self, rel: str) -> tuple[str, str]:
        place = self._place(rel)
        if place is None:
            raise KeyError(rel)
        return self.entry(place)

    def get(self, rel: str, default: tuple[str, str] | None = None) -> tuple[str, str] | None:  # type: ignore[override]
        place = self._place(rel)
        return default if place is None else self.entry(place)

    def __contains__(self, rel: object) -> bool:
        return self._place(rel) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def items(self) -> ItemsView[str, tuple[str, str]]:
        return _ItemsOf(self, lambda: zip(self._files, self.entries(), strict=True))

    def values(self) -> ValuesView[tuple[str, str]]:
        return _ValuesOf(self, self.entries)


class _ItemsOf(ItemsView[str, tuple[str, str]]):
    """A manifest's items as it makes them (by position, or from the manifests it is a view
    of), not each looked up by its path as Mapping's are."""

    def __init__(self, files: Mapping[str, tuple[str, str]],
                 items: Callable[[], Iterator[tuple[str, tuple[str, str]]]]) -> None:
        super().__init__(files)
        self._items = items

    def __iter__(self) -> Iterator[tuple[str, tuple[str, str]]]:
        return self._items()


class _ValuesOf(ValuesView[tuple[str, str]]):
    """A manifest's entries as it makes them (see _ItemsOf)."""

    def __init__(self, files: Mapping[str, tuple[str, str]],
                 entries: Callable[[], Iterator[tuple[str, str]]]) -> None:
        super().__init__(files)
        self._entries = entries

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return self._entries()


class Pending(Mapping[str, tuple[str, str]]):
    """The manifest the cache keeps while a build puts its files in place: the files it left as
    they were, with their entries (the same in both manifests), and every other file it made
    or the last build had, vouched for by none (UNVOUCHED). A view of the two manifests, not a
    third mapping of their files (141,803 at 50,000 briefings)."""

    def __init__(self, made: Mapping[str, tuple[str, str]], previous: Mapping[str, tuple[str, str]]) -> None:
        self.made, self.previous = made, previous
        self._gone: list[str] | None = None

    def __getitem__(self, rel: str) -> tuple[str, str]:
        old = self.previous.get(rel)
        if old is not None:
            return old if self.made.get(rel) == old else UNVOUCHED
        if rel in self.made:
            return UNVOUCHED
        raise KeyError(rel)

    def gone(self) -> list[str]:
        """The files the last build had that this one did not make (found once: the row is
        written from three passes over this mapping)."""
        if self._gone is None:
            made, previous = self.made, self.previous
            # Most builds make every file the last one had: counted among the made files, a
            # lookup in a dict of the kept manifest each, rather than each kept one looked for
            # by its place. A kept row's files are read in turn instead (a lookup each in the
            # row would cost more than finding each among the made ones).
            if not isinstance(previous, PackedManifest) and (
                    not previous or sum(rel in previous for rel in made) == len(previous)):
                self._gone = []
            else:
                self._gone = [rel for rel in previous if rel not in made]
        return self._gone

    def __iter__(self) -> Iterator[str]:
        return itertools.chain(self.made, self.gone())

    def __len__(self) -> int:
        return len(self.made) + len(self.gone())

    def items(self) -> ItemsView[str, tuple[str, str]]:
        return _ItemsOf(self, self.entries)

    def values(self) -> ValuesView[tuple[str, str]]:
        return _ValuesOf(self, lambda: (entry for _, entry in self.entries()))

    def entries(self) -> Iterator[tuple[str, tuple[str, str]]]:
        for rel, entry, old in self._with_previous(self.made.items()):
            yield rel, entry if old == entry else UNVOUCHED
        for rel in self.gone():
            yield rel, UNVOUCHED

    def changes_from_previous(self) -> Iterator[tuple[str, tuple[str, str]]]:
        """The entries of this manifest that differ from the last build's (what the generic
        comparison finds, without looking each up here)."""
        for rel, entry, old in self._with_previous(self._maybe_changed()):
            if old != entry and old != UNVOUCHED:
                yield rel, UNVOUCHED
        previous = self.previous
        for rel in self.gone():
            if previous[rel] != UNVOUCHED:
                yield rel, UNVOUCHED

    def changes_to_made(self) -> Iterator[tuple[str, tuple[str, str]]]:
        """The entries of the made manifest that differ from this one's (its files gone from
        the last build aside: they are dropped)."""
        for rel, entry, old in self._with_previous(self._maybe_changed()):
            if entry != UNVOUCHED and old != entry:
                yield rel, entry

    def _with_previous(self, made: Iterable[tuple[str, tuple[str, str]]]
                       ) -> Iterator[tuple[str, tuple[str, str], tuple[str, str] | None]]:
        """These made files' entries, each with the last build's, found a run at a time (in the
        order of the plan, which a kept row's files most often have: see PackedManifest.entries)."""
        made = iter(made)
        while run := list(itertools.islice(made, _RUN)):
            olds = manifest_entries(self.previous, [rel for rel, _ in run])
            for (rel, entry), old in zip(run, olds, strict=True):
                yield rel, entry, old

    def _maybe_changed(self) -> Iterable[tuple[str, tuple[str, str]]]:
        # The files a build kept as the last one had them are alike in every manifest.
        made = self.made
        return made.not_kept() if isinstance(made, PlannedManifest) else made.items()


def manifest_entries(files: Mapping[str, tuple[str, str]], rels: Sequence[str]
                     ) -> list[tuple[str, str] | None]:
    """The entry of each of these files as a manifest has it, None where it has none."""
    if isinstance(files, PackedManifest):
        return files.entries(rels)
    return [files.get(rel) for rel in rels]


def manifest_digests(files: Mapping[str, tuple[str, str]], rels: Iterable[str]) -> list[str | None]:
    """The digest of each of these files' bytes as a manifest has it, None where it has none."""
    if isinstance(files, PackedManifest):
        return files.digests(rels)
    return [None if entry is None else entry[1] for entry in map(files.get, rels)]


@dataclass(frozen=True)
class KeptManifest:
    """A manifest as read, with what an in-place edit needs to add to its delta."""

    files: Mapping[str, tuple[str, str]]  # the delta applied: a dict, or a PackedManifest when asked
    token: str
    delta: ManifestChanges


def read_kept_manifest(store: Store, output: Path, packed: bool = False,
                       lined_up: bool = False) -> KeptManifest:
    """The manifest of an output folder as the store keeps it; `packed`: as a PackedManifest,
    for a few lookups (an edit in place) or lookups in order (a full build), rather than a dict.
    `lined_up`: a row whose paths do not line up with its count (see PackedManifest.lined_up) is
    no manifest, as for a dict; else a lookup finds that out (an edit in place: a full build)."""
    row, delta_row = manifest_row(str(output)), manifest_delta_row(str(output))
    found = PackedManifest.checked(store.read_blobs([row]).get(row))
    if found is None or (lined_up and not found[0].lined_up()):
        return KeptManifest({}, "", {})
    files, token = found
    delta = store.read_states([delta_row]).get(delta_row)
    if not (isinstance(delta, tuple) and len(delta) == 2 and delta[0] == token
            and isinstance(delta[1], dict)):
        delta = (token, {})
    files = files.with_changes(delta[1])
    if packed:
        return KeptManifest(files, token, delta[1])
    try:
        return KeptManifest(files.as_dict(), token, delta[1])
    except DamagedManifest:
        return KeptManifest({}, "", {})


def as_dict(files: Mapping[str, tuple[str, str]]) -> Manifest:
    return files.as_dict() if isinstance(files, PackedManifest) else dict(files.items())


def _with_changes(files: Manifest, changes: ManifestChanges) -> Manifest:
    """A manifest with changes applied: an entry set, or dropped where a change is None."""
    for rel, entry in changes.items():
        if entry is None:
            files.pop(rel, None)
        else:
            files[rel] = entry
    return files


def read_manifest(store: Store, output: Path) -> Manifest:
    """What the last build into this output folder made: each file's fingerprint and digest."""
    files = read_kept_manifest(store, output).files
    return files if isinstance(files, dict) else as_dict(files)


def manifest_rows(store: Store, manifests: Mapping[str, Mapping[str, tuple[str, str]]]
                  ) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The state rows that record these output folders' manifests (the latest first),
    and the rows of folders no longer worth keeping, to drop in the same write."""
    if not manifests:
        return {}, ()
    earlier = store.read_states([_MANIFESTS]).get(_MANIFESTS)
    order = [*manifests, *(o for o in earlier or () if isinstance(o, str) and o not in manifests)]
    values: dict[str, Any] = {manifest_row(o): ManifestRow(files, secrets.token_hex(8))
                              for o, files in manifests.items()}
    values[_MANIFESTS] = order[:_KEEP_MANIFESTS]
    dropped = [manifest_delta_row(o) for o in manifests]
    for o in order[_KEEP_MANIFESTS:]:
        dropped += [manifest_row(o), manifest_delta_row(o)]
    return values, tuple(dropped)


def manifest_changes(before: Mapping[str, tuple[str, str]], after: Mapping[str, tuple[str, str]],
                     at_most: int | None = None) -> ManifestChanges | None:
    """What turns one manifest into the other: the entries set, None for those dropped. With
    `at_most`, None when there are more changes than that: a full row is then written from
    `after` itself (at 50,000 briefings, a first build's changes were a third dict of 141,803
    entries, held at the build's peak of memory)."""
    # A build's pending manifest (a view of the kept one and the new) is compared with either
    # by what makes it: every entry looked up through the view cost three times as much.
    dropped: Iterable[str] | None = None
    if isinstance(after, Pending) and after.previous is before:
        changed = after.changes_from_previous()
        dropped = ()
    elif isinstance(before, Pending) and before.made is after:
        changed = before.changes_to_made()
        dropped = before.gone()
    else:
        changed = ((rel, entry) for rel, entry in after.items() if before.get(rel) != entry)
    changes: ManifestChanges = dict(changed if at_most is None else itertools.islice(changed, at_most + 1))
    if at_most is not None and len(changes) > at_most:
        return None
    changes.update(dict.fromkeys(before.keys() - after.keys() if dropped is None else dropped))
    return changes if at_most is None or len(changes) <= at_most else None


def delta_room(kept: KeptManifest) -> int:
    """How many changes a kept manifest's delta row may take before a full row is written
    instead (-1: a full row whatever changes, as when none is kept)."""
    if not kept.token:
        return -1
    # A packed manifest's size as its row has it, before the delta's few additions and removals:
    # its exact size looks up each changed file in the row, which an edit would pay for with
    # an index of every path (20 ms at 50,000 briefings) for a rough bound.
    files = kept.files
    size = files.stored_count if isinstance(files, PackedManifest) else len(files)
    return min(_MANIFEST_DELTA_LIMIT, max(100, size // 10))


def manifest_delta_rows(store: Store, output: Path, kept: KeptManifest, changes: ManifestChanges,
                        after: Mapping[str, tuple[str, str]] | None = None
                        ) -> tuple[dict[str, Any], tuple[str, ...], KeptManifest]:
    """The rows that record `changes` to a kept manifest: its delta row, or, once the delta
    has grown large, a full row (see full_manifest_rows); and the manifest as those rows keep
    it. `after`, when the caller holds it, is the manifest the changes lead to: kept as it is,
    not made again from the kept one (141,803 entries at 50,000 briefings, at each save)."""
    delta = {**kept.delta, **changes}
    if len(delta) <= delta_room(kept):
        row = {manifest_delta_row(str(output)): (kept.token, delta)}
        files: Mapping[str, tuple[str, str]] = (
            after if after is not None
            else kept.files.with_changes(changes) if isinstance(kept.files, PackedManifest)
            else _with_changes(dict(kept.files), changes))
        return row, (), KeptManifest(files, kept.token, delta)
    return full_manifest_rows(store, output, after if after is not None
                              else _with_changes(as_dict(kept.files), changes))


def full_manifest_rows(store: Store, output: Path, files: Mapping[str, tuple[str, str]]
                       ) -> tuple[dict[str, Any], tuple[str, ...], KeptManifest]:
    """The rows that record an output folder's whole manifest, with the rows to drop (as
    manifest_rows gives), and the manifest as they keep it."""
    values, dropped = manifest_rows(store, {str(output): files})
    return values, dropped, KeptManifest(files, values[manifest_row(str(output))].token, {})
