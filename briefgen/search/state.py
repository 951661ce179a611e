"""Where the postings are kept between builds: rows of the build cache (a head, one row
per term shard, one per CHUNK documents' terms), each value packed; rows held aside in a
temporary file while a build renders; and every document's key, packed in one string."""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, overload, runtime_checkable


class StateError(Exception):
    """The kept state lacks a row it names: the index is built afresh."""


class IndexState(Protocol):
    """Rows of the build cache where the index is kept between builds."""

    @property
    def writable(self) -> bool: ...
    def load(self, names: Collection[str]) -> dict[str, Any]: ...
    def save(self, values: Mapping[str, Any], fresh: bool) -> None: ...


@runtime_checkable
class TakesPickled(Protocol):
    """Rows that can be saved as the bytes their values pickle to (pickle's highest protocol)."""

    def save_pickled(self, rows: Iterable[tuple[str, bytes]], fresh: bool) -> None: ...


K = TypeVar("K")


class SpooledRows(MutableMapping[K, bytes]):
    """Rows of bytes kept in a temporary file (in `folder`, when given) rather than in memory."""

    def __init__(self, folder: Path | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (see close)
        self._places: dict[K, tuple[int, int]] = {}

    def __getitem__(self, key: K) -> bytes:
        at, length = self._places[key]
        self._file.flush()
        return os.pread(self._file.fileno(), length, at)

    def __setitem__(self, key: K, data: bytes) -> None:
        at = self._file.seek(0, os.SEEK_END)
        self._file.write(data)
        self._places[key] = (at, len(data))

    def __delitem__(self, key: K) -> None:
        del self._places[key]

    def __contains__(self, key: object) -> bool:
        return key in self._places  # Mapping's own would read the row

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._places))

    def __len__(self) -> int:
        return len(self._places)

    def clear(self) -> None:
        self._places = {}
        self._file.truncate(0)

    def close(self) -> None:
        """Let go of the file now (it goes with this mapping otherwise)."""
        self._file.close()


class HeldRows:
    """Rows saved aside, to be written to `under` later (by `flush`): a build's workers read
    the cache while this process indexes, and should not wait on its writing. They are held
    pickled in a temporary file (in `spool`, when given) rather than in memory: at 50,000
    briefings they are 30 MB, which the build's process would otherwise hold while it renders."""

    def __init__(self, under: IndexState, spool: Path | None = None) -> None:
        self.under = under
        self.folder = spool  # where a build's temporary files go (see indexing.build)
        self.fresh = False
        self._held: SpooledRows[str] = SpooledRows(spool)

    @property
    def writable(self) -> bool:
        return self.under.writable

    def _read(self, name: str) -> Any:
        return pickle.loads(self._held[name])

    def load(self, names: Collection[str]) -> dict[str, Any]:
        found = {name: self._read(name) for name in names if name in self._held}
        rest = [name for name in names if name not in found]
        if rest and not self.fresh:
            found.update(self.under.load(rest))
        return found

    def save(self, values: Mapping[str, Any], fresh: bool) -> None:
        if fresh:
            self._held.clear()
            self.fresh = True
        for name, value in values.items():
            self._held[name] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def flush(self) -> IndexState:
        """Write the held rows, read back one at a time; the rows to read from now on."""
        if self._held and isinstance(self.under, TakesPickled):
            # As they are held: unpickled and pickled again, a briefing added at 50,000 briefings
            # made its 583 rows' 72 MB of postings twice more.
            self.under.save_pickled(((name, self._held[name]) for name in self._held), self.fresh)
        elif self._held:
            self.under.save(MadeRows({name: functools.partial(self._read, name) for name in self._held}),
                            self.fresh)
        self._held.clear()
        self.fresh = False
        return self.under

    def close(self) -> None:
        self._held.close()


class MadeRows(Mapping[str, Any]):
    """Rows made as they are taken, one at a time (see Postings.save): made together, the rows
    of a first build at 50,000 briefings were 37 MB held at once, on top of the index."""

    def __init__(self, makers: dict[str, Callable[[], Any]]) -> None:
        self.makers = makers

    def __getitem__(self, name: str) -> Any:
        return self.makers[name]()

    def __iter__(self) -> Iterator[str]:
        return iter(self.makers)

    def __len__(self) -> int:
        return len(self.makers)


HEAD = "search"
# Documents per row of documents' terms. This and ROWS_READ_AT_ONCE are read as
# state.CHUNK where used, so that one setting holds in every module. An edit reads its
# document's row and writes it again, compressed: 256 long briefings' terms took 13 ms of it.
CHUNK = 64


def shard_row(shard: int) -> str:
    return f"search/shard/{shard}"


def terms_row(chunk: int) -> str:
    return f"search/terms/{chunk}"


def file_digest(data: bytes) -> str:
    # The digest a build records for every file it writes (build/rendering.py): so a shard's kept
    # digest says whether the output holds its bytes.
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def pack(value: Any, compress: bool = True) -> bytes:
    """A row's value as kept: compressed unless told not to, since a large site's documents'
    terms are tens of megabytes as text (about a third of that compressed), held until the
    rows are written. `unpack` reads either."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return zlib.compress(data, 1) if compress else data


def unpack(value: Any, name: str) -> Any:
    if not isinstance(value, bytes):
        raise StateError(name)
    try:
        # A pickle starts with its protocol opcode; a zlib stream never does.
        return pickle.loads(value if value[:1] == _PICKLE_START else zlib.decompress(value))
    except Exception as exc:  # a damaged row: index afresh
        raise StateError(name) from exc


_PICKLE_START = pickle.dumps(None, protocol=pickle.HIGHEST_PROTOCOL)[:1]

ROWS_READ_AT_ONCE = 32  # shards' rows read in one batch


_KEY_WIDTH = 24  # hex digits of a document's key (see documents.document_key)


class Keys(Sequence[str]):
    """Every document's key, by id, as the state's head keeps them: one string, each key in
    _KEY_WIDTH characters. As a list, at 50,000 briefings, every edit took 3.3 ms to read
    them and 5.2 ms to write them again, for the one or two it changes (see replaced)."""

    __slots__ = ("_count", "_joined")

    def __init__(self, joined: str, count: int) -> None:
        if type(joined) is not str or len(joined) != count * _KEY_WIDTH:
            raise ValueError("damaged document keys")  # in a head: the index is made afresh
        self._joined, self._count = joined, count

    @classmethod
    def of(cls, keys: Sequence[str]) -> Sequence[str]:
        """These keys packed; as they are when one is of another width (none is, as made)."""
        if isinstance(keys, Keys) or any(len(key) != _KEY_WIDTH for key in keys):
            return keys
        return cls("".join(keys), len(keys))

    def joined(self) -> str:
        """Every key, one after another."""
        return self._joined

    def __reduce__(self) -> tuple[type[Keys], tuple[str, int]]:
        return Keys, (self._joined, self._count)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Keys):
            return self._joined == other._joined
        return isinstance(other, Sequence) and len(other) == self._count and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, at: int) -> str: ...
    @overload
    def __getitem__(self, at: slice) -> list[str]: ...
    def __getitem__(self, at: int | slice) -> str | list[str]:
        if isinstance(at, slice):
            return [self[i] for i in range(*at.indices(self._count))]
        if at < 0:
            at += self._count
        if not 0 <= at < self._count:
            raise IndexError("document key index out of range")
        return self._joined[at * _KEY_WIDTH:(at + 1) * _KEY_WIDTH]

    def __iter__(self) -> Iterator[str]:
        joined = self._joined
        return (joined[start:start + _KEY_WIDTH] for start in range(0, len(joined), _KEY_WIDTH))

    def replaced(self, keys: Mapping[int, str]) -> Sequence[str]:
        """These keys with some replaced, by id; a list when a new one is of another width."""
        if any(len(key) != _KEY_WIDTH for key in keys.values()):
            made = list(self)
            for at, key in keys.items():
                made[at] = key
            return made
        pieces, last = [], 0
        for at in sorted(keys):
            if not 0 <= at < self._count:
                raise IndexError("document key index out of range")
            pieces += [self._joined[last:at * _KEY_WIDTH], keys[at]]
            last = (at + 1) * _KEY_WIDTH
        pieces.append(self._joined[last:])
        return Keys("".join(pieces), self._count)
