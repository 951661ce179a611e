"""How one term's postings are written in its shard file.

Each entry is a string: a letter saying what follows, then base64 bytes.

    w...  weighted: for each document with the term, the gap from the previous id and
          its packed weight (frequency << 8 | length step << 3 | field flags), as varints
    p...  present, unweighted: the gaps between the ids of the documents with the term
    b...  present, unweighted: a bitmap, bit i (least significant first) set for id i,
          ending at the last byte with a bit set

Varints are LEB128: seven bits a byte, low bits first, the high bit set on all but the
last. Binary is about half the size of the same numbers written as JSON, and a bitmap
is smaller again for a term in more than about one document in eight; a reader's query
downloads whole shards, so their size is what it waits for.
`static/search.js` in the default theme decodes these.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import operator
from collections import deque
from collections.abc import Iterable, Sequence
from itertools import repeat

WEIGHTED, GAPS, BITMAP = "w", "p", "b"


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


@functools.cache
def _two_byte_varints() -> bytes:
    """The varints of the values from 0x80 to 2**14 - 1, two bytes each, in order: made whole from
    two strings of bytes (a value's low seven bits, flagged, then its high ones), where making
    each pair took a loop in Python for every value."""
    low = bytes(range(0x80, 0x100)) * 0x7F  # the values from 0x80 on, seven bits each, flagged
    high = b"".join(bytes((bits,)) * 0x80 for bits in range(1, 0x80))
    pairs = bytearray(2 * len(low))
    pairs[0::2], pairs[1::2] = low, high
    return bytes(pairs)


class _Varints(dict[int, bytes]):
    """value -> its varint, made when first met: most lists are then encoded by a join of
    looked-up bytes instead of a loop in Python. A value below 2**14 (one or two bytes) is cut
    from _two_byte_varints; a larger one (a sparse term's gap, a frequent word's weight) made by
    _varint. Filled as values come, not beforehand: an edit, which encodes a few entries, met
    a few hundred of the 16,384 values a table made them all for (4 ms in every such process)."""

    def __missing__(self, value: int) -> bytes:
        if value < 0x80:
            found = bytes((value,))
        elif value < 0x4000:
            at = 2 * (value - 0x80)
            found = _two_byte_varints()[at:at + 2]
        else:
            found = _varint(value)
        self[value] = found
        return found


@functools.cache
def _varints_by_value() -> _Varints:
    return _Varints()


def _varints(values: Sequence[int]) -> bytes:
    return b"".join(map(_varints_by_value().__getitem__, values))


def _gaps(ids: Sequence[int]) -> list[int]:
    return [ids[0], *map(operator.sub, ids[1:], ids[:-1])] if ids else []


def weighted(ids: Sequence[int], weights: Sequence[int]) -> str:
    """The entry of a term listed with weights, its ids in increasing order: for each document,
    the gap from the previous id, then its weight."""
    return weighted_many(ids, weights, [len(ids)])[0]


_BASE64 = functools.partial(binascii.b2a_base64, newline=False)  # base64.b64encode, called by map


def weighted_many(ids: Sequence[int], weights: Sequence[int], lengths: Sequence[int]) -> list[str]:
    """The entries of several terms listed with weights (see `weighted`), one after the other: `ids` and
    `weights` of every term's postings in turn, `lengths` the number of each term's. Made by
    map over them all rather than a call or two in Python for each of a few lists: a large
    site has a hundred thousand such terms, most in a few documents."""
    if len(ids) != len(weights) or sum(lengths) != len(ids):
        raise ValueError("one weight per id, and the lengths cover them")
    ends = list(itertools.accumulate(lengths))
    starts = [0, *ends[:-1]]
    before = [0, *ids[:-1]]
    deque(map(before.__setitem__, starts, repeat(0)), maxlen=0)  # a term's first gap is its id
    flat: list[int] = [0] * (2 * len(ids))
    flat[0::2] = map(operator.sub, ids, before)
    flat[1::2] = weights
    varints = list(map(_varints_by_value().__getitem__, flat))
    terms = map(slice, map((2).__mul__, starts), map((2).__mul__, ends))
    data = map(b"".join, map(varints.__getitem__, terms))
    return list(map(WEIGHTED.__add__, map(bytes.decode, map(_BASE64, data))))


def weighted_one(doc_id: int, weight: int) -> str:
    """weighted([doc_id], [weight]), without its lists (a large site's most common entry)."""
    return WEIGHTED + base64.b64encode(_varints((doc_id, weight))).decode("ascii")


def bitmap_size(last: int) -> int:
    """The bytes of a bitmap whose highest id is `last`."""
    return (last >> 3) + 1


def surely_bitmap(count: int, last: int) -> bool:
    """Whether `present` lists `count` ids up to `last` as a bitmap without comparing it with
    their gaps: each gap takes a byte at least, so a bitmap of fewer bytes is shorter."""
    return bitmap_size(last) < count


def present(ids: Sequence[int]) -> str:
    """The entry of a term listed without weights: gaps or a bitmap, whichever is shorter."""
    if not ids:
        return GAPS
    size = bitmap_size(ids[-1])
    if surely_bitmap(len(ids), ids[-1]):
        return _bitmap(ids, size)
    gaps = _varints(_gaps(ids))
    if size < len(gaps):
        return _bitmap(ids, size)
    return GAPS + base64.b64encode(gaps).decode("ascii")


def _bitmap(ids: Sequence[int], size: int) -> str:
    # Written as binary digits, one set by map per id, then read as one integer: half what
    # setting bits byte by byte in a loop costs, and a frequent word lists most documents.
    digits = bytearray(b"0") * (size << 3)
    deque(map(digits.__setitem__, ids, repeat(_ONE)), maxlen=0)
    digits.reverse()  # the lowest id is the least significant digit
    return BITMAP + base64.b64encode(int(digits, 2).to_bytes(size, "little")).decode("ascii")


_ONE = ord("1")


def moved_bitmap(entry: str, runs: Sequence[tuple[int, int, int]], added: Sequence[int], last: int) -> str:
    """A bitmap entry with its ids moved: each run (first id, id past it, amount) moves by its
    amount, ids in no run are dropped, `added` ids are set; `last` is the highest id after.
    Done on the bitmap as one integer, not id by id: a frequent term lists most documents."""
    if not entry.startswith(BITMAP):
        raise ValueError("not a bitmap entry")
    before = int.from_bytes(base64.b64decode(entry[1:]), "little")
    after = 0
    for first, end, shift in runs:
        after |= (before >> first & (1 << (end - first)) - 1) << (first + shift)
    for doc_id in added:
        after |= 1 << doc_id
    return BITMAP + base64.b64encode(after.to_bytes(bitmap_size(last), "little")).decode("ascii")


def edited_bitmap(entry: str, added: Iterable[int], removed: Iterable[int], last: int) -> str:
    """A bitmap entry with the `added` ids set and the `removed` ones cleared; `last` is the
    highest id after. Done on the bitmap as one integer, as moved_bitmap is."""
    if not entry.startswith(BITMAP):
        raise ValueError("not a bitmap entry")
    value = int.from_bytes(base64.b64decode(entry[1:]), "little")
    for doc_id in added:
        value |= 1 << doc_id
    for doc_id in removed:
        value &= ~(1 << doc_id)
    return BITMAP + base64.b64encode(value.to_bytes(bitmap_size(last), "little")).decode("ascii")


def _read_varints(data: bytes) -> list[int]:
    values, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
        else:
            values.append(value)
            value, shift = 0, 0
    return values


def decode(entry: str) -> dict[int, int | None]:
    """Document id -> weight (None when unweighted): what the browser reads from an entry."""
    data = base64.b64decode(entry[1:])
    if entry[0] == BITMAP:
        return {at * 8 + bit: None for at, byte in enumerate(data) for bit in range(8) if byte >> bit & 1}
    values = _read_varints(data)
    step = 2 if entry[0] == WEIGHTED else 1
    found: dict[int, int | None] = {}
    doc_id = 0
    for at in range(0, len(values), step):
        doc_id += values[at]
        found[doc_id] = values[at + 1] if step == 2 else None
    return found
