"""The cache database, `cache.sqlite`: one SQLite file, one connection per process.

Apart from the build cache (cache.py) it holds the record of the last build
per output folder (memo.py), which a build that changes nothing reads alone;
so this module imports nothing heavier than sqlite3.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import pickle
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

STORE = "cache.sqlite"
# Rows another command keeps in the build cache's database (check --links's results): kept when
# a build starts the cache afresh, as a first build does.
LINKS_ROW = "links"
KEPT_ACROSS_RESETS = (LINKS_ROW,)
_TABLES = (
    "CREATE TABLE IF NOT EXISTS bodies (key TEXT PRIMARY KEY, html TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS templates (key TEXT PRIMARY KEY, code BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS builds (output TEXT PRIMARY KEY, record TEXT NOT NULL)",
)

FileStat = tuple[int, int, int, int]  # mtime_ns, ctime_ns, size, inode


def pickled_shape(kinds: Iterable[type]) -> str:
    """The shape pickles of these data classes take: their fields, and whether they have
    slots (an object pickled before a class gained them would load with its fields wrong)."""
    return ";".join(f"{k.__name__}{'/slots' if '__slots__' in vars(k) else ''}"
                    f"({','.join(f.name for f in dataclasses.fields(k))})" for k in kinds)


def manifest_row(output: str) -> str:
    """The row of an output folder's manifest (see manifest.py)."""
    return f"manifest/{output}"


def manifest_delta_row(output: str) -> str:
    """The row of the changes to an output folder's manifest since its row was written."""
    return f"manifest-delta/{output}"


# Rows of the state table that an edit in place reads whatever it edits, named here so that a
# build can read them ahead before it imports the modules that use them (see ReadAhead).
SNAPSHOT_ROW = "snapshot"  # the last full build's model, plan and fingerprints (snapshot.py)
SNAPSHOT_DELTA_ROW = "snapshot/delta"  # the edits in place since
CATALOG_ROW = "dates"  # the dates and texts the catalog formatted (rendering._format_days)


def output_folders_row(output: str) -> str:
    """The row of the folders of the last build into an output folder (see memo.py)."""
    return f"build-folders/{output}"


def edit_rows(output: str) -> tuple[str, ...]:
    """The rows an edit in place into `output` reads, whatever it edits."""
    return (SNAPSHOT_ROW, SNAPSHOT_DELTA_ROW, manifest_row(output), manifest_delta_row(output),
            CATALOG_ROW, output_folders_row(output))


# A value larger than this is written into its row piece by piece, through SQLite's
# incremental blob I/O: bound whole, SQLite would copy it first. At 50,000 briefings the
# snapshot's head is 33 MB, and its copy was most of what writing it added to the build's
# peak of memory.
_PIECE = 1 << 20

Blob = bytes | memoryview | IO[bytes]  # a file's bytes are those from its start


class StreamedRow:
    """A row's value that writes its own bytes, in pieces, rather than being pickled whole
    (see manifest.ManifestRow); read back with Store.read_blobs."""

    def write_to(self, out: IO[bytes]) -> None:
        """Write the row's bytes into a file open for writing and seeking, at its position."""
        raise NotImplementedError


class _Spill:
    """A pickle's bytes in memory up to a piece, then in a temporary file: the bytes past a
    piece go to the file as they are written, where SpooledTemporaryFile takes each write
    into memory first (a manifest's column of 11.7 MB, at a first build's peak of memory)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._memory = bytearray()
        self.file: IO[bytes] | None = None

    def write(self, data: bytes | memoryview) -> int:
        size = memoryview(data).nbytes
        if self.file is None and len(self._memory) + size > _PIECE:
            self.file = tempfile.TemporaryFile(dir=str(self._folder))  # noqa: SIM115  (closed by pickled)
            self.file.write(self._memory)
            self._memory = bytearray()
        if self.file is not None:
            self.file.write(data)
        else:
            self._memory += data
        return size

    def blob(self) -> Blob:
        return self.file if self.file is not None else bytes(self._memory)


def pickled(values: Iterable[tuple[str, Any]], folder: Path | None = None) -> Iterator[tuple[str, Blob]]:
    """Rows pickled one at a time, as SQLite takes them: a large state's rows together would
    hold tens of megabytes at once. With a `folder`, a row that pickles to more than a piece
    is pickled into a temporary file there, not into memory (a first build's manifest at
    50,000 briefings: 21 MB, at the build's peak of memory). A StreamedRow writes its own
    bytes, into such a file when there is a folder."""
    for name, value in values:
        if isinstance(value, StreamedRow):
            if folder is None:
                memory = io.BytesIO()
                value.write_to(memory)
                yield name, memory.getvalue()
                continue
            with tempfile.TemporaryFile(dir=str(folder)) as file:
                value.write_to(file)
                yield name, file
            continue
        if folder is None:
            yield name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            continue
        spill = _Spill(folder)
        try:
            pickle.dump(value, spill, protocol=pickle.HIGHEST_PROTOCOL)
            yield name, spill.blob()
        finally:
            if spill.file is not None:
                spill.file.close()


def blob_bytes(value: Blob) -> bytes | memoryview:
    """A blob's bytes in memory (a file's read from its start)."""
    if isinstance(value, bytes | memoryview):
        return value
    value.seek(0)
    return value.read()


def _write_in_pieces(connection: sqlite3.Connection, name: str, value: Blob) -> None:
    pieces: Iterable[bytes | memoryview]
    if isinstance(value, bytes | memoryview):
        data = memoryview(value).cast("B")
        size = data.nbytes
        pieces = (data[at:at + _PIECE] for at in range(0, size, _PIECE))
    else:
        size = value.seek(0, os.SEEK_END)
        value.seek(0)
        pieces = iter(lambda: value.read(_PIECE), b"")
    connection.execute("INSERT OR REPLACE INTO state VALUES (?, zeroblob(?))", (name, size))
    (rowid,) = connection.execute("SELECT rowid FROM state WHERE name = ?", (name,)).fetchone()
    with connection.blobopen("state", "value", rowid) as blob:
        for piece in pieces:
            blob.write(piece)


def file_stat(path: str | Path) -> FileStat:
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


# Where the platform can, the many files and folders a build stats are looked up from an open
# folder, not each from the root: half a microsecond less each (the kernel walks fewer names),
# over the content's files and the output's folders (50,000 and 83,000 at 50,000 briefings).
STAT_IN_FOLDER = os.stat in os.supports_dir_fd
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)


@contextlib.contextmanager
def stat_base(folder: str) -> Iterator[tuple[str, int | None]]:
    """(prefix, dir_fd) that stat a name in `folder` as `os.stat(prefix + name, dir_fd=dir_fd)`:
    an empty prefix and the open folder where the platform can (STAT_IN_FOLDER), else the
    folder's path and no descriptor. OSError when the folder cannot be opened."""
    if not STAT_IN_FOLDER:
        yield folder + os.sep, None
        return
    at = os.open(folder, _FOLDER_FLAGS)
    try:
        yield "", at
    finally:
        os.close(at)


def _open_store(path: Path, writable: bool = True) -> sqlite3.Connection:
    if not writable:
        # The preview's: its server threads may read through it, never at once (see serve/pages.py).
        return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10, check_same_thread=False)
    connection = sqlite3.connect(path, timeout=10)
    for table in _TABLES:
        connection.execute(table)
    # A cache may be lost at a crash (it is then rebuilt); it need not be synced to disk.
    connection.execute("PRAGMA synchronous = OFF")
    return connection


# A row at least this large is read as a blob: SQLite copies it into the bytes once, where a
# SELECT of its value copies it twice (a 32 MB row: 30 against 50 ms).
_READ_AS_BLOB = 1 << 16


def _read_rows(connection: sqlite3.Connection, names: list[str]) -> Iterator[tuple[str, bytes]]:
    """These rows of the state table that are there, as (name, value), one at a time. In one
    read transaction (unless one is open): a large row's number still names it when its value
    is read. sqlite3.Error when they cannot be read."""
    began = not connection.in_transaction
    if began:
        connection.execute("BEGIN")
    try:
        for start in range(0, len(names), 500):
            batch = names[start:start + 500]
            query = (f"SELECT name, CASE WHEN length(value) < {_READ_AS_BLOB} THEN value END, rowid"
                     f" FROM state WHERE name IN ({','.join('?' * len(batch))})")
            for name, value, rowid in connection.execute(query, batch).fetchall():
                if value is None:  # the column holds no NULL: a large value, left out above
                    with connection.blobopen("state", "value", rowid, readonly=True) as blob:
                        value = blob.read()
                yield str(name), value
    finally:
        if began:
            connection.commit()


class ReadAhead:
    """Rows of the state table read by a thread of their own, while the caller does work of
    another kind: an edit's rows, read while the build imports the modules that take the edit
    (the thread waits on SQLite and the disk without Python's lock, the imports hold it). At
    50,000 briefings the snapshot and the manifest are 47 MB, 70-110 ms to read.

    A store given one (Store(read_ahead=...)) takes each row from it once, until it writes a
    row. close() must come before the process forks: a thread does not survive a fork."""

    def __init__(self, path: Path, names: Collection[str]) -> None:
        self._names = frozenset(names)  # those not yet taken
        self._rows: dict[str, bytes] = {}
        self._connection: sqlite3.Connection | None = None
        self._failed = False
        self._thread = threading.Thread(target=self._read, args=(path,), name="briefgen-read-ahead",
                                        daemon=True)
        self._thread.start()

    def _read(self, path: Path) -> None:
        try:
            self._connection = _open_store(path, writable=False)
            # Large rows are read as blobs: SQLite copies them into the bytes without Python's lock.
            self._rows = dict(_read_rows(self._connection, sorted(self._names)))
        except sqlite3.Error:  # no store, a damaged one, or closed early: the store reads them
            self._failed = True
        finally:
            if self._connection is not None:
                self._connection.close()

    def rows(self) -> dict[str, bytes] | None:
        """The rows read, by name (a name asked for that is not there is not in the table);
        None when they could not all be read."""
        self._thread.join()
        return None if self._failed else self._rows

    def take(self, names: Collection[str]) -> tuple[dict[str, bytes], list[str]]:
        """Of these names, the rows read ahead (absent: not in the table), and the names left to
        read from the store: those not asked for ahead, or all when the rows could not be read.
        Each row is given once, and let go of."""
        asked = [name for name in names if name in self._names]
        rows = self.rows() if asked else None
        if rows is None:
            return {}, list(names)
        self._names = self._names.difference(asked)
        return ({name: rows.pop(name) for name in asked if name in rows},
                [name for name in names if name not in asked])

    def close(self) -> None:
        """Stop reading, and let go of what was read."""
        if self._thread.is_alive() and self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.interrupt()
        self._thread.join()
        self._rows = {}
        self._failed = True


class Store:
    """The cache database; one connection per process. Every failure reads as "not cached"."""

    def __init__(self, path: Path | None, writable: bool = True, read_ahead: ReadAhead | None = None) -> None:
        self.path = path
        self.writable = writable
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._pending: list[tuple[str, str]] = []
        self._read_ahead = read_ahead

    @property
    def folder(self) -> Path | None:
        """The cache's folder, where temporary files as large as its rows go (a system's
        temporary folder is often memory); None for a store without a file."""
        return self.path.parent if self.path is not None else None

    def _connect(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        if self._connection is None or self._pid != os.getpid():
            if not self.writable:
                try:
                    self._connection = _open_store(self.path, writable=False)
                except sqlite3.Error:  # no store on disk: nothing to read
                    return None
                self._pid = os.getpid()
                return self._connection
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._connection = _open_store(self.path)
            except sqlite3.DatabaseError:  # not a database: start a new one
                self.path.unlink(missing_ok=True)
                self._connection = _open_store(self.path)
            self._pid = os.getpid()
        return self._connection

    def close(self) -> None:
        if self._connection is not None and self._pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
        self._connection = None

    def keys(self) -> set[str]:
        """The keys of the bodies the store can give; none when it could not give them (a
        damaged table): every document is then parsed again."""
        connection = self._connect()
        if connection is None:
            return set()
        try:
            connection.execute("SELECT html FROM bodies LIMIT 1").fetchall()
            return {str(row[0]) for row in connection.execute("SELECT key FROM bodies")}
        except sqlite3.DatabaseError:
            return set()

    def get(self, key: str) -> str | None:
        """A stored body; None when there is none. A failure to read one the store holds (a
        lock held past the timeout, a disk error) is raised: a page must not go out without
        its body."""
        connection = self._connect()
        if connection is None:
            return None
        try:
            row = connection.execute("SELECT html FROM bodies WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise OSError(f"cannot read the build cache {self.path}: {exc}; "
                          "`briefgen clean` removes it") from exc
        return None if row is None else str(row[0])

    def put(self, key: str, html: str) -> None:
        self._pending.append((key, html))

    def read_state(self, name: str) -> Any:
        """An unpickled value of the state table; None when missing or unreadable."""
        return self.read_states([name]).get(name)

    def read_states(self, names: Collection[str]) -> dict[str, Any]:
        """The unpickled values of these rows of the state table that are there and readable."""
        found: dict[str, Any] = {}
        for name, value in self._rows(names):
            with contextlib.suppress(Exception):  # a damaged value is no value
                found[name] = pickle.loads(value)
        return found

    def read_blobs(self, names: Collection[str]) -> dict[str, bytes]:
        """The pickled values of these rows of the state table that are there, for a caller that
        unpickles them its own way."""
        return {name: bytes(value) for name, value in self._rows(names)}

    def _rows(self, names: Collection[str]) -> Iterator[tuple[str, bytes]]:
        wanted = list(names)
        if self._read_ahead is not None:
            ahead, wanted = self._read_ahead.take(wanted)
            yield from ahead.items()
            if not wanted:
                return
        connection = self._connect()
        if connection is None:
            return
        try:
            yield from _read_rows(connection, wanted)
        except sqlite3.Error:
            return

    def state_names(self, prefix: str) -> set[str]:
        """The names of the state rows under `prefix/`; none when they cannot be read."""
        connection = self._connect()
        if connection is None:
            return set()
        try:
            return {str(name) for (name,) in connection.execute(
                "SELECT name FROM state WHERE substr(name, 1, ?) = ?", (len(prefix) + 1, prefix + "/"))}
        except sqlite3.Error:
            return set()

    def write_state(self, values: Mapping[str, Any], drop: tuple[str, ...] = (),
                    drop_prefix: str | None = None) -> None:
        """Write pickled values and drop others (by name, or a row `drop_prefix` and those under
        `drop_prefix/`), in one transaction: a kill leaves all or none."""
        self.write_blobs(pickled(values.items()), drop, drop_prefix)

    def write_blobs(self, rows: Iterable[tuple[str, Blob]], drop: Iterable[str] = (),
                    drop_prefix: str | None = None) -> None:
        """`write_state` for values already pickled, taken one at a time from `rows`."""
        self._read_ahead = None  # what it read may be written over now
        connection = self._connect()
        if connection is None:
            return
        try:
            with connection:
                if drop_prefix is not None:
                    connection.execute("DELETE FROM state WHERE name = ? OR substr(name, 1, ?) = ?",
                                       (drop_prefix, len(drop_prefix) + 1, drop_prefix + "/"))
                for name, value in rows:
                    if isinstance(value, bytes | memoryview) and memoryview(value).nbytes <= _PIECE:
                        connection.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (name, value))
                    else:
                        _write_in_pieces(connection, name, value)
                connection.executemany("DELETE FROM state WHERE name = ?", [(name,) for name in drop])
        except sqlite3.Error as exc:
            raise OSError(f"cannot write the build cache {self.path}: {exc}") from exc

    def _one(self, query: str, key: str) -> Any:
        connection = self._connect()
        if connection is None:
            return None
        try:
            row = connection.execute(query, (key,)).fetchone()
        except sqlite3.DatabaseError:
            return None
        return None if row is None else row[0]

    def _change(self, query: str, values: tuple[Any, ...]) -> None:
        connection = self._connect()
        if connection is None:
            return
        with contextlib.suppress(sqlite3.DatabaseError), connection:
            connection.execute(query, values)

    def template(self, key: str) -> bytes | None:
        code = self._one("SELECT code FROM templates WHERE key = ?", key)
        return None if code is None else bytes(code)

    def put_template(self, key: str, code: bytes) -> None:
        self._change("INSERT OR REPLACE INTO templates VALUES (?, ?)", (key, code))

    def build_record(self, output: str) -> bytes | None:
        """The record of the last build into an output folder (see memo.py); None when there is
        none, or it is text (as earlier versions wrote it)."""
        record = self._one("SELECT record FROM builds WHERE output = ?", output)
        return bytes(record) if isinstance(record, bytes) else None

    def put_build_record(self, output: str, record: bytes) -> None:
        self._change("INSERT OR REPLACE INTO builds VALUES (?, ?)", (output, record))

    def drop_build_record(self, output: str) -> None:
        self._change("DELETE FROM builds WHERE output = ?", (output,))

    def write_pending(self) -> bool:
        """Store the bodies put so far; False if the store could not take them."""
        connection = self._connect()
        if connection is None:
            return False
        try:
            with connection:
                connection.executemany("INSERT OR REPLACE INTO bodies (key, html) VALUES (?, ?)",
                                       self._pending)
        except sqlite3.DatabaseError:
            return False
        self._pending.clear()
        return True

    def drop_bodies(self, keys: Iterable[str]) -> None:
        self._drop_bodies(lambda connection: keys)

    def prune(self, keep: set[str]) -> None:
        """Drop every body whose key is not in `keep`."""
        self._drop_bodies(lambda connection: {row[0] for row in connection.execute("SELECT key FROM bodies")}
                          - keep)

    def _drop_bodies(self, stale: Callable[[sqlite3.Connection], Iterable[str]]) -> None:
        """Drop the bodies `stale` names (it reads them through the connection, if it needs to)."""
        connection = self._connect()
        if connection is None:
            return
        try:
            with connection:
                keys = [(key,) for key in stale(connection)]
                connection.executemany("DELETE FROM bodies WHERE key = ?", keys)
        except sqlite3.DatabaseError:
            if self.path:
                self.path.unlink(missing_ok=True)
