"""A first build's postings set aside a batch of documents at a time, by term shard, in a
temporary file, and joined again a shard at a time as its row is saved.

Indexing a large site afresh gathers every posting before the first row is written: at
50,000 briefings of about 2,500 words, 35.6 million of them, 143 MB held in the build's
process on top of its model. Set aside as each batch fills, the process holds one batch's
postings and, when the rows are saved, one shard's (see Postings.load_shards).
"""

from __future__ import annotations

import itertools
import operator
import pickle
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from briefgen.search.documents import split_terms
from briefgen.search.state import SpooledRows
from briefgen.search.text import shard_key, shard_of_key

# Postings gathered before a batch is set aside: 32 MB at 4 bytes each. Setting aside costs
# a first build about 0.4 s a batch when its vocabulary is large (200,000 terms, in Chinese);
# a site of 10,000 briefings, of 600 or 2,500 words, gathers 5 to 7 million and sets none
# aside, and at 50,000 the build's process holds a sixth of what it would.
SPILL_AT = 8_000_000


class SpilledShards:
    """Postings set aside by batch (see `spill`), taken back by shard (see `take`)."""

    def __init__(self, shards: int, folder: Path | None = None) -> None:
        """`folder`: where the temporary file goes (the system's temporary folder if None)."""
        self.shards = shards
        self._rows: SpooledRows[tuple[int, int]] = SpooledRows(folder)
        self._batches = 0
        # Shards by shard key (a term's first letters): many terms share one, and hashing
        # each term again in every batch would cost more than the setting aside.
        self._shard_at_key: dict[str, int] = {}

    def spill(self, lists: Mapping[str, array[int]]) -> None:
        """Set aside a batch's postings, by term; their ids follow every earlier batch's."""
        # Grouped by shard by sorting, without a step in Python for each term: a batch of
        # briefings in Chinese has 200,000 terms or more.
        terms = list(lists)
        keys = list(map(shard_key, terms))
        shard_at_key, shards = self._shard_at_key, self.shards
        for key in set(keys).difference(shard_at_key):
            shard_at_key[key] = shard_of_key(key, shards)
        shard_at = list(map(shard_at_key.__getitem__, keys))
        order = sorted(range(len(terms)), key=shard_at.__getitem__)  # stable: terms as met
        terms = list(map(terms.__getitem__, order))
        shard_at = list(map(shard_at.__getitem__, order))
        found = list(map(lists.__getitem__, terms))
        del order
        start = 0
        while start < len(terms):
            shard = shard_at[start]
            end = bisect_right(shard_at, shard, lo=start)
            entries = array(found[start].typecode)
            deque(map(entries.extend, found[start:end]), maxlen=0)
            self._rows[shard, self._batches] = pickle.dumps(
                ("\0".join(terms[start:end]), array("I", map(len, found[start:end])), entries),
                protocol=pickle.HIGHEST_PROTOCOL)
            start = end
        self._batches += 1

    def take(self, shard: int) -> dict[str, array[int]]:
        """A shard's postings, each term's batches joined in id order; set aside no more."""
        joined: dict[str, array[int]] = {}
        for batch in range(self._batches):
            if (shard, batch) not in self._rows:
                continue
            joined_terms, counts, entries = pickle.loads(self._rows[shard, batch])
            del self._rows[shard, batch]
            ends = list(itertools.accumulate(counts))
            slices = map(entries.__getitem__, map(slice, [0, *ends], ends))
            parts = dict(zip(split_terms(joined_terms), slices, strict=True))
            if not joined:
                joined = parts
                continue
            # Most terms of a large site are in one batch alone: only those in several are joined.
            earlier = list(map(joined.__contains__, parts))
            for term in itertools.compress(parts, earlier):
                joined[term].extend(parts[term])
            joined.update(itertools.compress(parts.items(), map(operator.not_, earlier)))
        if not self._rows:
            self.close()
        return joined

    def close(self) -> None:
        """Let go of the file now (it goes with this object otherwise)."""
        self._rows.close()
