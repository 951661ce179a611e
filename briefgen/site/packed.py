"""Tuples of small numbers kept as two arrays: a model's table with an entry for every
briefing (each one's related briefings) held as one object of a few megabytes, not as
tens of thousands of tuples and the numbers in them."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

# Briefing indexes: four bytes each (a C int).
_NUMBERS = "i"


class PackedTuples(Sequence[tuple[int, ...]]):
    """A sequence of tuples of numbers, each made again when asked for: equal to the tuples it
    was made from, item by item. Pickled as its two arrays (see __reduce__), which unpickle as
    copies of their bytes: at 50,000 briefings the related briefings' 50,000 tuples took 7.8 MB
    and a tenth of a build's snapshot to unpickle."""

    def __init__(self, values: array[int], ends: array[int]) -> None:
        # Checked here, where a damaged head or cache row is a full build: a slice past the
        # end would not fail. In order when sorting leaves them as they are (see PackedLists).
        if (type(values) is not array or type(ends) is not array or values.typecode != _NUMBERS
                or ends.typecode != _NUMBERS or (ends[-1] if ends else 0) != len(values)):
            raise ValueError("damaged packed tuples")
        listed = ends.tolist()
        if sorted(listed) != listed or (listed and listed[0] < 0):
            raise ValueError("damaged packed tuples")
        self._values, self._ends = values, ends

    @classmethod
    def of(cls, tuples: Iterable[tuple[int, ...]]) -> PackedTuples:
        """These tuples packed; as they are when packed already."""
        if isinstance(tuples, PackedTuples):
            return tuples
        values, ends = array(_NUMBERS), array(_NUMBERS)
        for numbers in tuples:
            values.extend(numbers)
            ends.append(len(values))
        return cls(values, ends)

    def __add__(self, other: PackedTuples) -> PackedTuples:
        """These tuples, then the other's."""
        if not isinstance(other, PackedTuples):
            return NotImplemented
        offset = len(self._values)
        return PackedTuples(self._values + other._values,
                            self._ends + array(_NUMBERS, [end + offset for end in other._ends]))

    def __reduce__(self) -> tuple[type[PackedTuples], tuple[array[int], array[int]]]:
        return PackedTuples, (self._values, self._ends)

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> tuple[int, ...]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, ...]]: ...

    def __getitem__(self, index: int | slice) -> tuple[int, ...] | list[tuple[int, ...]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._ends)))]
        if index < 0:
            index += len(self._ends)
            if index < 0:
                raise IndexError("packed tuples index out of range")
        end = self._ends[index]  # IndexError past the end
        return tuple(self._values[self._ends[index - 1] if index else 0:end])

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        values, start = self._values, 0
        for end in self._ends:
            yield tuple(values[start:end])
            start = end

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedTuples):
            return self._values == other._values and self._ends == other._ends
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to tuples of tuples, whose hashes differ

    def __repr__(self) -> str:
        return f"PackedTuples({list(self)!r})"
