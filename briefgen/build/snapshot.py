"""The last full build into an output folder, kept in the cache so that `build` can
take an in-place edit from it (see in_place.py) without reading, checking and
planning the whole site again.

A full build writes the snapshot in rows: a head with the loaded site (less its
briefings) and its plan, what the fingerprints know beyond the model (which
files show each briefing) and each content file's stat and digest; then the
briefings, about CHUNK to a row, read only when an edit asks for one of theirs
(the head names each briefing's file, so finding the edited ones reads none).
A row of briefings is named by a digest of what its records are made from, and
the head lists the rows it is made of: a full build writes only the rows whose
names are new (a briefing added or deleted changes one), and drops the rest.
An in-place edit adds to a small delta beside
it: the edited briefings' new records and their files' new stats. Both carry a
token, so a delta never applies to another snapshot; a full build drops both.
Like the rest of the cache, the snapshot is an optimisation only: missing,
damaged or foreign, it means a full build.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import itertools
import os
import pickle
import secrets
import tempfile
import zlib
from array import array
from collections.abc import Callable, Collection, ItemsView, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import IO, Any, NamedTuple, overload

from briefgen import __version__
from briefgen.build import forked
from briefgen.build.cache import parsed_shape, without_body
from briefgen.build.fingerprint import AddedLists, FingerprintState, KeptDigests, PackedLists
from briefgen.build.inputs import PackedContent, kind_folders
from briefgen.build.loading import Loaded, parse_key
from briefgen.build.store import (
    SNAPSHOT_DELTA_ROW,
    SNAPSHOT_ROW,
    Blob,
    FileStat,
    Store,
    blob_bytes,
    pickled_shape,
)
from briefgen.content.archive import Archive
from briefgen.content.records import Source
from briefgen.diagnostics import Diagnostic
from briefgen.site.model import (
    Article,
    Briefing,
    BriefingRows,
    KeptPublishers,
    Page,
    Publisher,
    Site,
    Topic,
    modified_on_at,
    publisher_names,
    with_passages,
    with_replaced,
)
from briefgen.site.packed import PackedTuples
from briefgen.site.plan import Origin, PageSpec, PlanRow, PlanRows, each_plan_row

HEAD = SNAPSHOT_ROW
DELTA = SNAPSHOT_DELTA_ROW
# Past this many edited briefings, the delta would cost more to read than a full build.
DELTA_LIMIT = 500
DELTA_PASSAGES = 20_000  # passages of briefings citing edited archives, likewise


def _shape() -> str:
    kinds = (Loaded, Site, Briefing, Page, Article, Publisher, Topic, PageSpec, Origin, FingerprintState,
             Diagnostic)
    return pickled_shape(kinds) + ";" + parsed_shape()  # the parse results it holds too


_FORMAT = (f"briefgen-snapshot-19 {__version__} "
           + hashlib.blake2b(_shape().encode(), digest_size=8).hexdigest())

ContentFiles = dict[str, tuple[FileStat, str]]  # site-relative path -> stat, digest


@dataclass(frozen=True)
class Snapshot:
    """The last full build as an edit in place starts from it (see the module's text)."""

    output: str
    global_inputs: str  # see inputs.global_inputs
    loaded: Loaded  # its `content` holds each content file's stat and digest
    fingerprints: FingerprintState
    token: str = ""
    paths: tuple[str, ...] = ()  # each briefing's file (site-relative), in the model's order
    plan: PackedRows = field(default_factory=lambda: PackedRows(()))  # loaded.plan is left empty in the head
    rows: tuple[tuple[str, int], ...] = ()  # each row of briefings: its name, its first briefing's index
    # Each briefing's last-modified date (an ordinal), in the model's order: the sitemap shows every
    # briefing's, and an edit that changes one would otherwise read every row to find the others.
    modified: array[int] = field(default_factory=lambda: array("i"))


class DamagedRow(Exception):
    """A row of briefings the snapshot names is missing or unreadable: a full build."""

    def __init__(self, row: str) -> None:
        super().__init__(row)
        self.row = row


# Briefings per row, on average. Each row is pickled on its own, so writing the snapshot
# holds one row's bytes and pickle memo at a time, not the whole site's (tens of megabytes).
# An edit reads the rows of the briefings its pages show (its own, its neighbours, related
# ones, the newest of each of its topics for their feeds), wherever they are in the archive:
# at 1,024 to a row that was two to four rows of 1,000-2,000 records each, 50 ms of a 0.5 s
# edit at 10,000 briefings; at 128, 5-7 ms. A site of many small topics spreads a topic's
# newest briefings over years: an edit there read 37 rows, and took 0.54 s at 32 to a row
# against 0.65 s at 128 (10,000 briefings of 2,000 topics; no change on 40 topics); at 8, 0.303
# s against 0.323 s at 32 (43 briefings read from 38 rows there: 28 ms of unpickling at 32), and
# no less at 4.
CHUNK = 8
_LONGEST_ROW = 4  # times CHUNK
BRIEFINGS = "snapshot/briefings"


def row_starts(paths: Sequence[str]) -> list[int]:
    """Where rows of briefings begin: after each briefing whose file's path hashes to 0
    modulo CHUNK (or that fills a row). Cut by their briefings rather than by count, rows
    do not shift when a briefing is added or deleted: the one it is in changes, and the
    others keep their contents, so a full build after it rewrites one row, not all of them."""
    starts = [0] if paths else []
    longest = CHUNK * _LONGEST_ROW
    for index, path in enumerate(paths[:-1], start=1):
        if zlib.crc32(path.encode("utf-8")) % CHUNK == 0 or index - starts[-1] >= longest:
            starts.append(index)
    return starts


def _ends(starts: Sequence[int], count: int) -> list[int]:
    """Where each row of briefings ends (a site without briefings has no rows)."""
    return [*starts[1:], count] if starts else []


def _row_names(snapshot: Snapshot, starts: Sequence[int]) -> list[str]:
    """Each row's name: a digest of what its records are made from. A briefing's record is a
    function of its file as parsed (parse_key), the site's time zone and the registry's ids
    (sources are pickled as their ids), and not of templates or the rest of the configuration:
    a full build after a template edit rewrites no row."""
    loaded = snapshot.loaded
    briefings = loaded.site.briefings
    made_from = "\0".join([_FORMAT, parse_key(), loaded.config.site.timezone, *sorted(loaded.sources)])
    base = hashlib.blake2b(made_from.encode("utf-8"), digest_size=16)
    names = []
    for start, end in zip(starts, _ends(starts, len(briefings)), strict=True):
        digest = base.copy()
        made = "".join(f"{b.doc.path}\0{b.doc.digest}\n" for b in briefings[start:end])
        digest.update(made.encode("utf-8"))
        names.append(f"{BRIEFINGS}/{digest.hexdigest()}")
    return names


_PACKED_ROWS = 1024  # plan rows pickled together


class PackedRows:
    """The plan's rows, pickled in runs of _PACKED_ROWS and unpickled when one of a run is
    asked for. An edit looks at the few files that show what it changed: unpickling every row
    of the head was most of the time it took to read (tens of thousands of nested tuples)."""

    def __init__(self, rows: Iterable[PlanRow]) -> None:
        """`rows` are taken a run at a time: made all at once, the rows of 141,803 files (at
        50,000 briefings) were 25 MB held while the head was made, the peak of a build's
        memory with `--jobs 1`."""
        rows = iter(rows)
        runs: list[bytes] = []
        self._count = 0
        while run := list(itertools.islice(rows, _PACKED_ROWS)):
            # Compressed: the head is read whole by every edit, and its rows repeat much (paths, kinds).
            runs.append(zlib.compress(pickle.dumps(run, pickle.HIGHEST_PROTOCOL), 1))
            self._count += len(run)
        self._runs = tuple(runs)
        self._unpacked: dict[int, list[PlanRow]] = {}

    def __getstate__(self) -> tuple[int, tuple[bytes, ...]]:
        return self._count, self._runs

    def __setstate__(self, state: tuple[int, tuple[bytes, ...]]) -> None:
        self._count, self._runs = state
        self._unpacked = {}

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> PlanRow:
        if not 0 <= index < self._count:
            raise IndexError(index)
        run, offset = divmod(index, _PACKED_ROWS)
        return self._run(run)[offset]

    def __iter__(self) -> Iterator[PlanRow]:
        for run in range(len(self._runs)):
            yield from self._run(run)

    def _run(self, run: int) -> list[PlanRow]:
        rows = self._unpacked.get(run)
        if rows is None:
            try:
                rows = pickle.loads(zlib.decompress(self._runs[run]))
            except Exception as exc:
                raise DamagedRow(HEAD) from exc
            if not isinstance(rows, list) or len(rows) != min(_PACKED_ROWS, self._count - run * _PACKED_ROWS):
                raise DamagedRow(HEAD)
            self._unpacked[run] = rows
        return rows

    def unpack(self) -> None:
        """Unpickle every run now (DamagedRow if one cannot be), for a holder that keeps them all."""
        for run in range(len(self._runs)):
            self._run(run)


class _MadeWhenRead(Mapping[Any, Any]):
    """A mapping the head keeps in a form cheaper to read back, made when first asked for
    (`unpacked`); every question is the made mapping's."""

    __slots__ = ()

    def unpacked(self) -> Mapping[Any, Any]:
        raise NotImplementedError

    def __getitem__(self, key: Any) -> Any:
        return self.unpacked()[key]

    def get(self, key: Any, default: Any = None) -> Any:
        return self.unpacked().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.unpacked()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.unpacked())

    def __len__(self) -> int:
        return len(self.unpacked())

    def items(self) -> ItemsView[Any, Any]:
        return self.unpacked().items()


class PackedStrings(_MadeWhenRead):
    """Strings by string (Site.url_of_path) as the head keeps them: the keys joined by NULs,
    the values too; a dict is made on the first lookup. An edit looks one up only when its
    briefing links to another file: unpickled as a dict, 50,000 took 27 ms of every edit."""

    def __init__(self, keys: str, values: str) -> None:
        if type(keys) is not str or type(values) is not str or keys.count("\0") != values.count("\0"):
            raise ValueError("damaged strings")  # in a head: a full build
        self._keys, self._values = keys, values
        self._dict: dict[str, str] | None = None

    @classmethod
    def of(cls, mapping: Mapping[str, str]) -> Mapping[str, str]:
        """These strings packed; as they are if one holds a NUL (a path or URL never does)."""
        if isinstance(mapping, PackedStrings) or not mapping:
            return mapping
        keys, values = "\0".join(mapping), "\0".join(mapping.values())
        separators = len(mapping) - 1
        return cls(keys, values) if keys.count("\0") == values.count("\0") == separators else mapping

    def __reduce__(self) -> tuple[type[PackedStrings], tuple[str, str]]:
        return PackedStrings, (self._keys, self._values)

    def unpacked(self) -> dict[str, str]:
        if self._dict is None:
            self._dict = dict(zip(self._keys.split("\0"), self._values.split("\0"), strict=True))
        return self._dict


class PickledMapping(_MadeWhenRead):
    """A mapping as the head keeps it, pickled on its own, and unpickled when first read (see
    rows_to_write). An edit in place reads few of the head's indexes: one that changes a
    briefing's text reads none of the archive's days and months, nor the lists of the files
    that list each briefing, nor (for a briefing past its topics' newest) the topics and the
    links' URLs; unpickled with the rest of the head, they took about 24 ms of every edit at
    50,000 briefings. A mapping that cannot be unpickled is a damaged head (DamagedRow): a
    full build."""

    __slots__ = ("_data", "_mapping")

    def __init__(self, data: bytes) -> None:
        if type(data) is not bytes:
            raise ValueError("damaged pickled mapping")  # in a head: a full build
        self._data = data
        self._mapping: Mapping[Any, Any] | None = None

    @classmethod
    def of(cls, mapping: Mapping[Any, Any]) -> PickledMapping:
        return cls(pickle.dumps(mapping, pickle.HIGHEST_PROTOCOL))

    def __reduce__(self) -> tuple[type[PickledMapping], tuple[bytes]]:
        data = self._data if self._mapping is None else pickle.dumps(self._mapping, pickle.HIGHEST_PROTOCOL)
        return PickledMapping, (data,)

    @property
    def is_read(self) -> bool:
        """Whether the mapping was unpickled."""
        return self._mapping is not None

    def unpacked(self) -> Mapping[Any, Any]:
        """The mapping, unpickled now if it was not yet (its bytes are let go of then)."""
        if self._mapping is None:
            self._mapping, self._data = _head_part(self._data, lambda found: isinstance(found, Mapping)), b""
        return self._mapping


def _head_part(data: bytes, is_whole: Callable[[Any], bool]) -> Any:
    """A part of the head pickled on its own, unpickled; DamagedRow if it cannot be, or if it is
    not what `is_whole` takes."""
    try:
        found = pickle.loads(data)
    except Exception as exc:
        raise DamagedRow(HEAD) from exc
    if not is_whole(found):
        raise DamagedRow(HEAD)
    return found


class PickledPublishers(KeptPublishers):
    """The site's publishers as the head keeps them: their slugs and names apart, the rest (every
    cited article, with the briefings citing it) pickled on its own and unpickled when first read.
    An edit that changes no briefing's sources reads only the names (whether a source's publisher
    has a page, the search's filters): unpickled with the head, the publishers were 12 ms of its
    54 ms at 50,000 long briefings. Damaged, it is a damaged head (DamagedRow): a full build."""

    __slots__ = ("_data", "_publishers", "names")

    def __init__(self, names: tuple[tuple[str, str], ...], data: bytes) -> None:
        if not (type(data) is bytes and type(names) is tuple
                and all(type(pair) is tuple and len(pair) == 2 and all(type(part) is str for part in pair)
                        for pair in names)):
            raise ValueError("damaged publishers")  # in a head: a full build
        self.names, self._data = names, data
        self._publishers: tuple[Publisher, ...] | None = None

    @classmethod
    def of(cls, publishers: Sequence[Publisher]) -> PickledPublishers:
        if isinstance(publishers, PickledPublishers):
            return publishers
        return cls(publisher_names(publishers), pickle.dumps(tuple(publishers), pickle.HIGHEST_PROTOCOL))

    def __reduce__(self) -> tuple[type[PickledPublishers], tuple[tuple[tuple[str, str], ...], bytes]]:
        data = (self._data if self._publishers is None
                else pickle.dumps(self._publishers, pickle.HIGHEST_PROTOCOL))
        return PickledPublishers, (self.names, data)

    def unpacked(self) -> tuple[Publisher, ...]:
        """The publishers, unpickled now if they were not yet (their bytes are let go of then)."""
        if self._publishers is None:
            self._publishers, self._data = _head_part(self._data, self._is_whole), b""
        return self._publishers

    def _is_whole(self, found: Any) -> bool:
        return (isinstance(found, tuple) and all(isinstance(p, Publisher) for p in found)
                and publisher_names(found) == self.names)

    @overload
    def __getitem__(self, index: int) -> Publisher: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Publisher, ...]: ...

    def __getitem__(self, index: int | slice) -> Publisher | tuple[Publisher, ...]:
        return self.unpacked()[index]

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[Publisher]:
        return iter(self.unpacked())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return self.unpacked() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to the tuple it was made from

    def __repr__(self) -> str:
        return f"PickledPublishers({self.unpacked()!r})"


def unpack_head(snapshot: Snapshot) -> None:
    """Unpickle every part of the head now (DamagedRow if one cannot be), for a holder that keeps
    the snapshot's model for long (the live preview)."""
    snapshot.plan.unpack()
    site = snapshot.loaded.site
    for part in (*(getattr(site, each.name) for each in fields(site)), snapshot.fingerprints.listed_by):
        if isinstance(part, PickledMapping | PickledPublishers):
            part.unpacked()


def _packed(state: FingerprintState) -> FingerprintState:
    """The state with its lists packed: a restored state's lists are only read (Fingerprints.readers)."""
    # The lists of the files that list each briefing are read only when what lists show of one
    # changed: pickled apart (see PickledMapping).
    return replace(state, listed_by=PickledMapping.of(PackedLists.of(state.listed_by)),
                   shown_full_by=PackedLists.of(state.shown_full_by))


class _Pickler(pickle.Pickler):
    """Writes a registry source as its id: the head row holds the registry, once, and
    briefings read back share its objects as a full build's do."""

    def __init__(self, file: io.BytesIO, sources: Mapping[str, Source]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.sources = sources

    def persistent_id(self, obj: Any) -> str | None:
        if type(obj) is Source and self.sources.get(obj.id) is obj:
            return obj.id
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, sources: Mapping[str, Source]) -> None:
        super().__init__(io.BytesIO(data))
        self.sources = sources

    def persistent_load(self, pid: Any) -> Source:
        return self.sources[pid]


def _with_briefings(snapshot: Snapshot, briefings: Sequence[Briefing]) -> Snapshot:
    loaded = snapshot.loaded
    return replace(snapshot, loaded=replace(loaded, site=replace(loaded.site, briefings=briefings)))


def write(store: Store, snapshot: Snapshot) -> None:
    with tempfile.TemporaryFile(dir=store.folder) as head_file:
        store.write_blobs(*rows_to_write(snapshot, store.state_names(BRIEFINGS), head_file))


def rows_to_write(snapshot: Snapshot, kept: Collection[str],
                  head_file: IO[bytes]) -> tuple[Iterator[tuple[str, Blob]], tuple[str, ...]]:
    """The rows that store this snapshot, pickled as they are taken (given the rows of
    briefings the store `kept`: the others it names are new), and the rows to drop. No store
    is read: a forked copy of the build may make them while the build commits its output.
    The head is pickled into `head_file`, which is its row: pickled into memory, it would be
    held whole, beside what the pickler holds."""
    snapshot = replace(snapshot, token=secrets.token_hex(8))
    loaded = snapshot.loaded
    briefings = loaded.site.briefings
    paths = tuple(b.doc.path for b in briefings)
    starts = row_starts(paths)
    names = _row_names(snapshot, starts)
    head = replace(_with_briefings(snapshot, ()), paths=paths, plan=PackedRows(each_plan_row(loaded.plan)),
                   fingerprints=_packed(snapshot.fingerprints),
                   rows=tuple(zip(names, starts, strict=True)),
                   modified=array("i", [modified_on_at(briefings, at).toordinal()
                                        for at in range(len(paths))]))
    # The indexes an edit of a briefing's text does not read, pickled apart (see PickledMapping,
    # PickledPublishers): its years, publishers' names and related briefings it reads.
    site = head.loaded.site
    site = replace(site, topics=PickledMapping.of(site.topics), days=PickledMapping.of(site.days),
                   months=PickledMapping.of(site.months),
                   months_of_year=PickledMapping.of(site.months_of_year),
                   days_of_month=PickledMapping.of(site.days_of_month),
                   url_of_path=PickledMapping.of(PackedStrings.of(site.url_of_path)),
                   publishers=PickledPublishers.of(site.publishers))
    head = replace(head, loaded=replace(head.loaded, plan=[], site=site,
                                        content=PackedContent.of(loaded.content)))

    def rows() -> Iterator[tuple[str, Blob]]:
        pickle.dump((_FORMAT, head), head_file, protocol=pickle.HIGHEST_PROTOCOL)
        head_file.flush()
        yield HEAD, head_file
        for name, start, end in zip(names, starts, _ends(starts, len(briefings)), strict=True):
            if name not in kept:
                data = io.BytesIO()
                _Pickler(data, loaded.sources).dump(briefings[start:end])
                yield name, data.getvalue()

    return rows(), (DELTA, *sorted(set(kept).difference(names)))


@contextlib.contextmanager
def writing(store: Store | None, snapshot: Snapshot, fork: bool) -> Iterator[Callable[[], None]]:
    """A function that writes this snapshot into `store` (or nothing, without a store). With
    `fork`, a forked copy of this process pickles its rows while the block runs (see forked.py):
    at 50,000 briefings, a second of work beside the commit of the output."""
    if store is None:
        yield lambda: None
        return
    if not fork:
        yield lambda: write(store, snapshot)
        return
    kept = store.state_names(BRIEFINGS)  # read here: a forked copy must not use the store
    # Made before the copy, which writes the rows into them: what it sends back is only where
    # they are. Sent back whole, they were tens of megabytes at once in this process.
    folder = store.folder
    with tempfile.TemporaryFile(dir=folder) as head_file, tempfile.TemporaryFile(dir=folder) as rows_file:

        def spooled_rows() -> bytes:
            """The head written into its file, the other rows one after another into theirs; the
            rows' names and places, and the rows to drop, pickled."""
            for file in (head_file, rows_file):  # a copy that failed may have begun them
                file.seek(0)
                file.truncate()
            rows, dropped = rows_to_write(snapshot, kept, head_file)
            places = []
            for name, data in rows:
                if name != HEAD:
                    data = blob_bytes(data)
                    places.append((name, rows_file.tell(), len(data)))
                    rows_file.write(data)
            rows_file.flush()  # a copy ends without flushing what it buffered
            return pickle.dumps((places, dropped), protocol=pickle.HIGHEST_PROTOCOL)

        def write_spooled() -> None:
            places, dropped = pickle.loads(spooled())
            fd = rows_file.fileno()
            rows = ((name, os.pread(fd, length, at)) for name, at, length in places)
            store.write_blobs(itertools.chain([(HEAD, head_file)], rows), drop=dropped)

        with forked.meanwhile(spooled_rows) as spooled:
            yield write_spooled


def drop(store: Store, values: dict[str, Any] | None = None, also: tuple[str, ...] = ()) -> None:
    """Forget the snapshot (the output no longer matches it); in the same transaction, write
    `values` and drop the rows named in `also`. Its rows of briefings stay for the next
    snapshot to take up (those it does not, it drops)."""
    store.write_state(values or {}, drop=(HEAD, DELTA, *also))


def forget_row(store: Store, row: str) -> None:
    """Drop a damaged row of briefings, so that the next snapshot writes it again."""
    store.write_blobs((), drop=(row,))


def read(store: Store, output: str) -> Snapshot | None:
    """The snapshot of the last full build into `output`, with its in-place edits applied."""
    try:
        header, snapshot = pickle.loads(store.read_blobs([HEAD])[HEAD])
    except Exception:  # missing, damaged or foreign: a full build
        return None
    if header != _FORMAT or not isinstance(snapshot, Snapshot) or snapshot.output != output:
        return None
    count = len(snapshot.paths)
    starts = [start for _, start in snapshot.rows]
    ends = _ends(starts, count)
    if starts[:1] != ([0] if count else []) or any(e <= s for s, e in zip(starts, ends, strict=True)):
        return None
    snapshot = replace(snapshot, loaded=replace(snapshot.loaded, plan=PlanRows(snapshot.plan)))
    sources = snapshot.loaded.sources
    # Not the snapshot itself: it will hold this function, and a cycle outlives a build that
    # finds it of no use (builds run with the cyclic collector off): 100,000 objects at 50,000.
    rows, paths = snapshot.rows, snapshot.paths

    def read_row(number: int) -> tuple[Briefing, ...]:
        name = rows[number][0]
        try:
            row = store.read_blobs([name])[name]
            briefings = _Unpickler(row, sources).load()
        except Exception as exc:
            raise DamagedRow(name) from exc
        start, end = starts[number], ends[number]
        if (not isinstance(briefings, tuple) or len(briefings) != end - start
                or any(not isinstance(b, Briefing) or b.doc.path != path
                       for b, path in zip(briefings, paths[start:end], strict=True))):
            raise DamagedRow(name)
        return briefings

    modified = snapshot.modified
    if not isinstance(modified, array) or modified.typecode != "i" or len(modified) != count:
        return None
    snapshot = _with_briefings(snapshot, BriefingRows(count, starts, read_row, modified=modified))
    delta = _delta(store, snapshot)
    if delta is None:
        return snapshot
    return _applied(snapshot, delta)


DRAFT = "draft"
LeftOut = str | dt.datetime | None  # see Delta.left_out
ContentChanges = dict[str, tuple[FileStat, str] | None]  # ContentFiles, with None for a file gone


class Delta(NamedTuple):
    """The in-place edits since the snapshot was written."""

    replaced: dict[int, Briefing]  # edited briefings' records (bodies in the body store), by index
    content: ContentChanges  # the edited files' stats and digests
    archives: dict[str, Archive]  # edited or added archives, by source id
    # The passages of the briefings citing them, or whose locators changed, as now (None: a
    # locator no briefing uses any more).
    passages: dict[tuple[str, str], str | None]
    sources: dict[str, Source]  # sources added to the registry, which no briefing cites yet
    # When edited briefings came to cite other sources: the publishers and the related
    # briefings that changed, and the files that came to name each briefing, by index.
    publishers: dict[int, Publisher]
    related: dict[int, tuple[int, ...]]
    readers: dict[int, tuple[int, ...]]
    # Briefings the build leaves out, added or removed since: by path, DRAFT, the time a future
    # one is due, or None for one gone (in_place.py). Their files' stats are in `content`, a
    # removed one's as None.
    left_out: dict[str, LeftOut]

    @classmethod
    def of_content(cls, content: ContentChanges, left_out: dict[str, LeftOut] | None = None) -> Delta:
        """A delta of content files' stats and digests alone (and of briefings left out)."""
        return cls({}, content, {}, {}, {}, {}, {}, {}, left_out or {})


def _delta(store: Store, snapshot: Snapshot) -> Delta | None:
    found = store.read_states([DELTA]).get(DELTA)
    if not (isinstance(found, tuple) and len(found) == 10 and found[0] == snapshot.token
            and all(isinstance(part, dict) for part in found[1:])):
        return None
    return Delta(*found[1:])


def with_left_out(loaded: Loaded, changes: Mapping[str, LeftOut]) -> Loaded:
    """The build's model with briefings it leaves out added or removed (see Delta.left_out): its
    drafts, its future briefings, how many of each, and when the first of those comes due."""
    if not changes:
        return loaded
    drafts, scheduled = set(loaded.drafts), dict(loaded.scheduled)
    for path, state in changes.items():
        drafts.discard(path)
        scheduled.pop(path, None)
        if state == DRAFT:
            drafts.add(path)
        elif isinstance(state, dt.datetime):
            scheduled[path] = state
    return replace(loaded, drafts=frozenset(drafts), scheduled=scheduled, drafts_left_out=len(drafts),
                   future_left_out=len(scheduled), next_release=min(scheduled.values(), default=None))


def _applied(snapshot: Snapshot, delta: Delta) -> Snapshot:
    site = snapshot.loaded.site
    site = replace(site, briefings=with_replaced(site.briefings, delta.replaced),
                   passages=with_passages(site.passages, delta.passages))
    if delta.publishers:
        publishers = tuple(delta.publishers.get(at, p) for at, p in enumerate(site.publishers))
        site = replace(site, publishers=publishers)
    if delta.related and site.related is not None:
        related = PackedTuples.of(delta.related.get(at, r) for at, r in enumerate(site.related))
        site = replace(site, related=related)
    sources = snapshot.loaded.sources
    loaded = replace(snapshot.loaded, site=site,
                     sources={**sources, **delta.sources} if delta.sources else sources,
                     archives={**snapshot.loaded.archives, **delta.archives},
                     content=PackedContent.of(snapshot.loaded.content).with_changes(
                         delta.content, kind_folders(snapshot.loaded.config)))
    loaded = with_left_out(loaded, delta.left_out)
    kept = snapshot.fingerprints
    # What a briefing's own page shows changes with its record, and with the archives it cites:
    # an archive's edit changed what briefings it did not replace show (their passages).
    fulls = KeptDigests() if delta.archives else kept.fulls.without(delta.replaced)
    kept = replace(kept, listings=kept.listings.without(delta.replaced),
                   references=kept.references.without(delta.replaced), fulls=fulls)
    if delta.readers:
        kept = replace(kept, listed_by=AddedLists(kept.listed_by, delta.readers))
    return replace(snapshot, loaded=loaded, fingerprints=kept)


def changed_content(known: Mapping[str, tuple[FileStat, str]], joined: str,
                    stats: array[int]) -> tuple[list[tuple[int, str]], list[str]]:
    """The content files whose stats are not the known ones, as (position, known digest, ""
    for a file added), given every content file's site path joined by NULs (see
    inputs.ContentFiles.shown_joined) and the stats' numbers one after another, as
    ContentFiles keeps them; and the paths of the known files that are gone. A snapshot's are
    packed already."""
    return PackedContent.of(known).changes(joined, stats)


def delta_rows(store: Store, snapshot: Snapshot, change: Delta) -> dict[str, Any] | None:
    """The delta row after an in-place edit, with `change` over the delta before it (records
    with their bodies left out: the body store keeps those); None when the delta has grown too
    large to be worth keeping."""
    earlier = _delta(store, snapshot) or Delta.of_content({})
    stored = {index: replace(b, doc=without_body(b.doc)) for index, b in change.replaced.items()}
    readers = dict(earlier.readers)
    for index, positions in change.readers.items():
        readers[index] = tuple(dict.fromkeys([*readers.get(index, ()), *positions]))
    merged = Delta({**earlier.replaced, **stored}, {**earlier.content, **change.content},
                   {**earlier.archives, **change.archives}, {**earlier.passages, **change.passages},
                   {**earlier.sources, **change.sources}, {**earlier.publishers, **change.publishers},
                   {**earlier.related, **change.related}, readers, {**earlier.left_out, **change.left_out})
    if (len(merged.replaced) + len(merged.archives) + len(merged.sources) > DELTA_LIMIT
            or len(merged.passages) > DELTA_PASSAGES):
        return None
    return {DELTA: (snapshot.token, *merged)}
