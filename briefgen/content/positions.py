"""Where things are written: offsets in a text as lines and columns (LineStarts), and where a
record's front-matter keys are written, kept compactly (KeyPositions).

Every parsed briefing keeps these from its parse to the end of the build (the
cache, the model and the snapshot all hold them), for messages that point at a
key. As a dict of (line, column) tuples they were a quarter of a record's
memory: a dict, a tuple per key and, once unpickled, a copy of every key's
name. Here they are one bytes value of line and column numbers in a fixed key
order that the subclass names, and a class reference when pickled.
"""

from __future__ import annotations

import bisect
import re
import struct
from array import array
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

Position = tuple[int, int]


class LineStarts:
    """Line and column of offsets into one text, each found by bisection: a text with many
    places to report counts its lines once. Columns count from 1, lines from `first_line` (a
    document's body starts below its front matter)."""

    __slots__ = ("first_line", "starts")

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.starts = [0, *(found.end() for found in re.finditer("\n", text))]
        self.first_line = first_line

    def at(self, offset: int) -> Position:
        line = bisect.bisect_right(self.starts, offset)
        return line + self.first_line - 1, offset - self.starts[line - 1] + 1

# Two unsigned 32-bit numbers a key, line then column; a line of 0 is a key not written.
_NUMBERS = "I"
_PAIR = struct.Struct(2 * _NUMBERS)  # native, as the array's items are


class KeyPositions(Mapping[str, Position]):
    """The positions of the keys of one record; `KEYS` (set by a subclass) is their order."""

    __slots__ = ("_packed",)
    KEYS: ClassVar[tuple[str, ...]] = ()
    _INDEX: ClassVar[dict[str, int]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._INDEX = {key: at for at, key in enumerate(cls.KEYS)}

    def __init__(self, packed: bytes) -> None:
        if len(packed) != 2 * len(self.KEYS) * array(_NUMBERS).itemsize:
            raise ValueError(f"{type(self).__name__}: {len(packed)} bytes for {len(self.KEYS)} keys")
        self._packed = packed

    @classmethod
    def of(cls, found: Mapping[str, Position]) -> KeyPositions:
        """Positions of the keys in `found` (any key not in KEYS is left out)."""
        numbers = array(_NUMBERS, bytes(2 * len(cls.KEYS) * array(_NUMBERS).itemsize))
        for key, (line, column) in found.items():
            at = cls._INDEX.get(key)
            if at is not None and line > 0:
                numbers[2 * at], numbers[2 * at + 1] = line, column
        return cls(numbers.tobytes())

    def _numbers(self) -> array[int]:
        numbers = array(_NUMBERS)
        numbers.frombytes(self._packed)
        return numbers

    def __getitem__(self, key: str) -> Position:
        found = self._position(key)
        if found is None:
            raise KeyError(key)
        return found

    def get(self, key: str, default: Any = None) -> Any:
        # Mapping's, without a KeyError raised and caught: the plan asks every briefing where
        # its slug is written, and most have none.
        found = self._position(key)
        return default if found is None else found

    def _position(self, key: str) -> Position | None:
        # One key's two numbers, not an array of all.
        at = self._INDEX.get(key)
        if at is not None:
            line, column = _PAIR.unpack_from(self._packed, at * _PAIR.size)
            if line:
                return line, column
        return None

    def __iter__(self) -> Iterator[str]:
        numbers = self._numbers()
        return iter([key for at, key in enumerate(self.KEYS) if numbers[2 * at]])

    def __len__(self) -> int:
        numbers = self._numbers()
        return sum(1 for at in range(len(self.KEYS)) if numbers[2 * at])

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self._packed == other._packed
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash((type(self), self._packed))

    def __reduce__(self) -> tuple[type[KeyPositions], tuple[bytes]]:
        return type(self), (self._packed,)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self.items())!r})"
