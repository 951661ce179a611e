"""Many short strings kept as one, and read where they lie: digests of one width in a
bytearray, by position (Digests); a column of them joined by NULs, in a string or a row's
bytes (Column); paths joined by NULs, found without splitting them; and where each of a
sequence's paths is (Positions). At 50,000 briefings a build handles 141,803 files' digests
and 50,000 content files' paths: as string objects, one each, they were much of its memory
and of an edit's time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import ClassVar

_WIDTH = 32  # of a fingerprint and a digest: 16 bytes of blake2b, in hex


class Digests:
    """Digests in hex by position, set as they are found, in one bytearray of fixed width:
    "" (None for `get`) where none was set. A list or dict of 140,000 of them took about 90
    bytes a digest (the string, and the list's or dict's share), this takes 32; a value of
    another width is kept aside."""

    __slots__ = ("_data", "_other")

    def __init__(self, count: int = 0) -> None:
        self._data = bytearray(_WIDTH * count)
        self._other: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._data) // _WIDTH

    def get(self, at: int) -> str | None:
        data, start = self._data, at * _WIDTH
        if not 0 <= start < len(data) or data[start] == 0:  # no digest begins with a NUL
            return self._other.get(at)
        return data[start:start + _WIDTH].decode("ascii")

    def __getitem__(self, at: int) -> str:
        if not 0 <= at < len(self):
            raise IndexError(at)
        found = self.get(at)
        return "" if found is None else found

    def __setitem__(self, at: int, value: str) -> None:
        start = at * _WIDTH
        if not 0 <= start < len(self._data):
            raise IndexError(at)
        if len(value) == _WIDTH and value.isascii():
            self._data[start:start + _WIDTH] = value.encode("ascii")
            if self._other:
                self._other.pop(at, None)
            return
        self._data[start:start + _WIDTH] = bytes(_WIDTH)
        if value:
            self._other[at] = value
        else:
            self._other.pop(at, None)

    def pop(self, at: int) -> None:
        """Forget the digest at `at` (none is set there after)."""
        if 0 <= at < len(self):
            self[at] = ""

    def extend(self, values: Iterable[str]) -> None:
        first, blank = len(self), "\0" * _WIDTH
        values = list(values)
        fits = [len(value) == _WIDTH and value.isascii() for value in values]
        pairs = list(zip(values, fits, strict=True))
        self._data.extend("".join(value if fit else blank for value, fit in pairs).encode("ascii"))
        self._other.update((first + at, value) for at, (value, fit) in enumerate(pairs) if value and not fit)

    def update(self, other: Digests) -> None:
        """Take every digest set in `other` (of the same count)."""
        data, theirs = self._data, other._data
        for start in range(0, min(len(data), len(theirs)), _WIDTH):
            if theirs[start]:
                data[start:start + _WIDTH] = theirs[start:start + _WIDTH]
        self._other.update(other._other)

    def copy(self) -> Digests:
        other = Digests()
        other._data, other._other = bytearray(self._data), dict(self._other)
        return other

    def __iter__(self) -> Iterator[str]:
        # Decoded whole and sliced: a manifest's entries are read three times when it is saved.
        text, other = self._data.decode("ascii"), self._other
        for at, start in enumerate(range(0, len(text), _WIDTH)):
            if text[start] != "\0":
                yield text[start:start + _WIDTH]
            else:
                yield other.get(at, "")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Digests) and len(self) == len(other) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # set as they are found

    def __getstate__(self) -> tuple[bytearray, dict[int, str]]:
        return self._data, self._other

    def __setstate__(self, state: tuple[bytearray, dict[int, str]]) -> None:
        self._data, self._other = state


class Column:
    """A column of fingerprints or digests as a row stores it, joined by NULs, read where it
    lies when every value has the same width: in a string (the snapshot's content files) or in
    a row's bytes (a manifest's, manifest.py). Split, it was as many string objects as files:
    50,000 for the content files and 141,803 for a manifest at 50,000 briefings."""

    __slots__ = ("_count", "_joined", "_start")
    WIDTH: ClassVar[int] = _WIDTH  # of each value

    def __init__(self, joined: str | bytes, count: int, start: int = 0) -> None:
        self._joined, self._count, self._start = joined, count, start

    @classmethod
    def of(cls, joined: str | bytes, count: int, start: int = 0, end: int | None = None
           ) -> Column | list[str]:
        """The `count` values joined by NULs in `joined` (from `start` to `end`): as they lie
        when they have one width, else split (a ValueError when there are not `count`)."""
        end = len(joined) if end is None else end
        step = _WIDTH + 1
        if count and end - start == count * step - 1:
            separators = joined[start + _WIDTH:end:step]
            if separators == ("\0" if isinstance(separators, str) else b"\0") * (count - 1):
                return cls(joined, count, start)
        values = _text(joined[start:end]).split("\0") if count else []
        if len(values) != count:
            raise ValueError("a column of another length")
        return values

    def __getitem__(self, at: int) -> str:
        first = self._start + at * (_WIDTH + 1)  # a position the paths gave: within the column
        return _text(self._joined[first:first + _WIDTH])

    def __iter__(self) -> Iterator[str]:
        return iter(self.run(0, self._count))

    def replaced(self, values: Mapping[int, str]) -> str | None:
        """The column of a string as stored, with the values at these positions replaced,
        joined again without splitting it; None when a new value is of another width (or the
        column lies in bytes)."""
        joined = self._joined
        if not isinstance(joined, str) or any(len(value) != _WIDTH for value in values.values()):
            return None
        step, last = _WIDTH + 1, self._start
        pieces = []
        for at in sorted(values):
            pieces += [joined[last:self._start + at * step], values[at]]
            last = self._start + at * step + _WIDTH
        pieces.append(joined[last:self._start + self._count * step - 1])
        return "".join(pieces)

    def run(self, start: int, count: int) -> list[str]:
        """The values at positions start to start + count - 1 (within the column)."""
        first = self._start + start * (_WIDTH + 1)
        return _text(self._joined[first:first + count * (_WIDTH + 1) - 1]).split("\0") if count else []

    def __len__(self) -> int:
        return self._count


def _text(value: str | bytes) -> str:
    """A column's values as text: hex as written, and a damaged byte as a value no fingerprint
    or digest equals."""
    return value if isinstance(value, str) else value.decode("ascii", "replace")


def column_run(column: Column | list[str], start: int, count: int) -> list[str]:
    """The values of a column as Column.of gives it, at positions start to start + count - 1."""
    return column.run(start, count) if isinstance(column, Column) else column[start:start + count]


def joined_positions(joined: str, wanted: Iterable[str]) -> dict[str, int]:
    """Where each of `wanted` that is there is among strings joined by NULs (none of them
    empty, none holding NUL), found in the joined string: a few lookups need not split it."""
    found = {}
    for item in wanted:
        if joined == item or joined.startswith(item + "\0"):
            found[item] = 0
            continue
        at = nul_before(joined, item)
        if at >= 0:
            found[item] = joined.count("\0", 0, at + 1)
    return found


def nul_before(joined: str, item: str, start: int = 0) -> int:
    """Where the NUL before `item` is among strings joined by NULs, from `start` on, when it is
    one of them, whole, after the first (followed by a NUL, or last); -1 when it is not."""
    at = joined.find(f"\0{item}\0", start)
    if at < 0 and joined.endswith("\0" + item) and len(joined) - len(item) - 1 >= start:
        at = len(joined) - len(item) - 1
    return at


class Positions(Mapping[str, int]):
    """Where each of a sequence's paths is. An edit looks up a few of them: a dict of every
    path took 12 ms at 50,000 briefings (each path hashed for the first time; 16-24 ms for the
    manifest's 141,803 files), a scan takes about a millisecond. So the first few are found by
    scanning; after those, and for anything that looks up many (a file added, the live
    preview's edits), a dict of them all (`indexed`)."""

    _SCANS = 8

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = paths
        self._index: dict[str, int] | None = None
        self._scans = 0

    def get(self, path: str, default: int | None = None) -> int | None:  # type: ignore[override]
        if self._index is None and self._scans < self._SCANS:
            self._scans += 1
            try:
                return self.paths.index(path)
            except ValueError:
                return default
        return self.indexed().get(path, default)

    def indexed(self) -> dict[str, int]:
        """Every path's position, as a dict."""
        if self._index is None:
            self._index = dict(zip(self.paths, range(len(self.paths)), strict=True))
        return self._index

    def __getitem__(self, path: str) -> int:
        found = self.get(path)
        if found is None:
            raise KeyError(path)
        return found

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.get(path) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)
