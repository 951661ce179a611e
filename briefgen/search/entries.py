"""How a term's postings are written in its shard: with their weights, or for a term in
many documents the documents alone, encoded (see encoding.py), each entry beside its term
in the shard's JSON; and which terms' listing a change in the document count can turn."""

from __future__ import annotations

import itertools
import json
import operator
import re
import sys
from array import array
from collections.abc import Mapping, Sequence

from briefgen.search import encoding

# From this many documents on, a term in more than a quarter of them is listed without
# weights: its long list would cost a reader more bytes than its weights are worth to
# the ranking (such a term's idf is small). Smaller sites keep the weights of every
# term in at most half the documents.
PRESENCE_ONLY_FROM = 2048


def _share(documents: int) -> int:
    return 4 if documents >= PRESENCE_ONLY_FROM else 2


def _weighted_up_to(documents: int) -> int:
    """The most documents a term may be in and be listed with weights (see is_presence_only)."""
    return documents // _share(documents)


def is_presence_only(frequency: int, documents: int) -> bool:
    """Whether a term's postings are listed without weights (see PRESENCE_ONLY_FROM)."""
    return frequency > _weighted_up_to(documents)


# The state's head keeps the document frequency of every term in at least this share of the
# documents (1/8): when the document count changes, those are the only terms whose listing
# may change without their postings changing, so an update reads only their shards' rows.
_FREQUENT_SHARE = 8


def least_frequent(documents: int) -> int:
    """The least frequency of the terms the head keeps (see frequent_terms)."""
    return max(1, documents // _FREQUENT_SHARE)


def frequent_terms(lists: dict[str, array[int]], documents: int) -> tuple[int, dict[str, int]]:
    """The least frequency the head keeps, and term -> frequency of the terms with as much."""
    least = least_frequent(documents)
    return least, {term: len(entries) for term, entries in lists.items() if len(entries) >= least}


def with_frequencies(frequent: dict[str, int] | None, least: int,
                      sizes: Mapping[str, int]) -> dict[str, int] | None:
    """The kept frequencies once some terms' postings changed (`sizes`: how many each has now)."""
    if frequent is None:
        return None
    frequent = dict(frequent)
    for term, size in sizes.items():
        if size >= least:
            frequent[term] = size
        else:
            frequent.pop(term, None)
    return frequent


def flippable(frequent: dict[str, int] | None, least: int, before: int, after: int) -> list[str] | None:
    """The terms of unchanged postings whose listing changes when the document count goes from
    `before` to `after`; None when the kept frequencies cannot tell (every term must be read)."""
    low, high = sorted((before, after))
    share = _share(low)
    # A term in more than low / share documents may change: the head must list every such term.
    if frequent is None or _share(high) != share or low // share + 1 < least:
        return None
    return [term for term, frequency in frequent.items() if low < frequency * share <= high]


class SingleEntries(dict[int, str]):
    """posting -> the entry of a term in that one document alone (weighted, see encode_entry): made
    once for each posting, and shared by the terms that have it."""

    def __missing__(self, posting: int) -> str:
        value = self[posting] = encoding.weighted_one(posting >> 16, posting & 0xFFFF)
        return value


def encode_entry(entries: array[int], documents: int) -> str:
    """A term's entry as `encoding` writes it: weighted, or for a term in many documents (see
    `is_presence_only`) the documents alone."""
    if len(entries) == 1 and not is_presence_only(1, documents):
        # Most of a large site's terms are in one document (names, places, numbers).
        return encoding.weighted_one(entries[0] >> 16, entries[0] & 0xFFFF)
    ids, weights = _apart(entries)
    if is_presence_only(len(entries), documents):
        return encoding.present(ids)
    return encoding.weighted(ids, weights)


def encode_entries(found: list[array[int]], documents: int) -> list[str]:
    """encode_entry of each of these lists, of two postings or more. Those listed with weights are
    encoded together (see encoding.weighted_many): one by one, through the calls around each
    short list, they cost about 7.5 us a term (153,996 terms at 10,000 briefings in Chinese)."""
    weighted = list(map(_weighted_up_to(documents).__ge__, map(len, found)))
    lists = list(itertools.compress(found, weighted))
    if len({entries.typecode for entries in lists}) > 1:  # an update may leave a narrower list
        lists = [array("Q", entries) for entries in lists]
    joined = array(lists[0].typecode if lists else "I", b"".join(map(array.tobytes, lists)))
    ids, weights = _apart(joined)
    made = encoding.weighted_many(ids, weights, list(map(len, lists)))
    if len(made) == len(found):
        return made
    present = iter(map(encode_entry, itertools.compress(found, map(operator.not_, weighted)),
                       itertools.repeat(documents)))
    weighted_made = iter(made)
    return [next(weighted_made) if is_weighted else next(present) for is_weighted in weighted]


_HALVES_APART = array("I").itemsize == 4 and sys.byteorder == "little"


def _apart(entries: array[int]) -> tuple[Sequence[int], Sequence[int]]:
    """The ids and the weights of packed postings (id << 16 | weight)."""
    if entries.typecode == "I" and _HALVES_APART:
        # Read as 16-bit halves, a posting is its weight then its id: two slices, where
        # shifting and masking every posting took a third of encoding a large site's index.
        halves = array("H", entries.tobytes())
        return halves[1::2], halves[0::2]
    return list(map((16).__rrshift__, entries)), list(map((0xFFFF).__and__, entries))


def listed_term(term: str, entry: str) -> str:
    """A term and its entry as its shard's JSON lists them: `"term":"entry"`."""
    # A term is letters and digits (see text.words), which JSON writes as they are: quoted
    # directly, a large site's hundred thousand terms are spared json.dumps.
    quoted = f'"{term}"' if term.isalnum() else json.dumps(term, ensure_ascii=False)
    return f"{quoted}:\"{entry}\""


# What json.dumps escapes in a string (ensure_ascii off): a term without these is written as it is.
_ESCAPED = re.compile(r'[\x00-\x1f"\\]')


def shard_json(terms: list[str], entries: list[str]) -> str:
    """A term shard's JSON: each term and its entry, in the order given, as listed_term writes them."""
    if not terms:
        return "{}"
    if _ESCAPED.search("".join(terms)) is None:
        # Joined at once: a shard of a large site has thousands of terms.
        return '{"' + '","'.join(map('":"'.join, zip(terms, entries, strict=True))) + '"}'
    return "{" + ",".join(map(listed_term, terms, entries)) + "}"
