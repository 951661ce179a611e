"""The postings of every document, kept from one build to the next.

An edit then re-indexes only the documents whose indexed content changed (see
indexing.py): of their postings, those that differ are taken out and put in again,
and only the terms they touched are serialised again. The state lives in rows of
the build cache (state.py), one per term shard and one per 256 documents' terms, so
an edit reads and writes the rows of the words it changed, not the whole index;
each shard's digest is kept with it, so a build knows which shard files changed
without rendering the others. The result is the same, byte for byte, as indexing
everything afresh, which is what happens when there is no earlier state, or when
so much changed that starting over is cheaper.

The state is an optimisation only: a missing, damaged or foreign state
means a full indexing run, never an error.
"""

from __future__ import annotations

import functools
import itertools
import operator
from array import array
from collections import deque
from collections.abc import Collection, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from briefgen.search import encoding, state
from briefgen.search.documents import DocTerms, PrefixTerms, packed_postings, split_terms
from briefgen.search.entries import SingleEntries, encode_entries, encode_entry, is_presence_only, shard_json
from briefgen.search.spill import SpilledShards
from briefgen.search.state import (
    HEAD,
    IndexState,
    Keys,
    MadeRows,
    StateError,
    file_digest,
    pack,
    shard_row,
    terms_row,
    unpack,
)
from briefgen.site import search_files as files

_FIRST = operator.itemgetter(0)


@dataclass
class Postings:
    """The index's postings. Kept in rows (a head, one row per shard, one per 256
    documents' terms), so an edit reads and writes only the rows of the words it
    changed; `loaded` says which shards are in memory (None: all of them)."""

    shards: int
    keys: Sequence[str]  # by document id: a list, or Keys as read back
    lengths: list[int]  # by document id, in words
    digests: list[str]  # by shard: a digest of its bytes, "" until known
    terms: dict[int, DocTerms]  # document id -> its terms and their weights, to take them out again
    lists: dict[str, array[int]]  # term -> packed postings (id << 16 | weight), sorted by id
    # By shard, its terms: an update replaces those of a shard it changes, never changes them
    # in place (see SearchIndex._keep_unchanged_shards).
    shard_terms: dict[int, Collection[str]]
    # term -> its entry (see encode_entry), kept so that a shard is only joined: without its term, which
    # the shard's JSON puts before it, and so ASCII (a CJK or Cyrillic term made the whole string
    # two bytes a character: a first build of 10,000 briefings in Chinese peaked 39 MB higher).
    # A term's entry is made when first asked for (see entries).
    encoded: dict[str, str]
    loaded: set[int] | None = None
    rows: IndexState | None = None  # where the shards not loaded are read from
    fresh: bool = True  # the rows hold none of this yet
    changed_shards: set[int] = field(default_factory=set)
    changed_docs: set[int] = field(default_factory=set)
    # Rows of documents' terms in memory, packed as `terms_row` keeps them: made while indexing,
    # or read by `detach`. A document in `terms` is read from there instead.
    packed_terms: MutableMapping[int, bytes] = field(default_factory=dict)
    # The output folder whose build last saved the state, and for documents a moving update
    # gave new ids, their ids in that build (new id -> old id): their files there hold their words.
    output: str = ""
    moved_from: dict[int, int] = field(default_factory=dict)
    # See frequent_terms; None when not known (a state written before they were kept).
    frequent_least: int = 1
    frequent: dict[str, int] | None = None
    # A build's postings once the rows hold them (see keep_only_encoded): each shard is made
    # once, from its encoded entries alone, and let go of once made.
    encoded_only: bool = False
    # Every word's prefix term, as indexing met them (see PrefixTerms).
    prefixes: PrefixTerms = field(default_factory=PrefixTerms)
    # By posting, the entry of a term in that one document: most of a large site's terms are
    # in one document, and share few postings (at 10,000 briefings in Chinese, 157,326 such
    # terms have 10,051), so `entries` makes each such entry once and the terms share it.
    single_entries: SingleEntries = field(default_factory=SingleEntries, repr=False)
    # A first build's postings set aside by batch (see indexing._full): its shards not loaded
    # are read from there, and their terms' frequencies kept as they are.
    spilled: SpilledShards | None = field(default=None, repr=False)

    def _chunks(self) -> range:
        """Every row of documents' terms."""
        return range((len(self.keys) + state.CHUNK - 1) // state.CHUNK)

    def _chunk_ids(self, chunk: int) -> range:
        """The documents whose terms a row holds."""
        return range(chunk * state.CHUNK, min((chunk + 1) * state.CHUNK, len(self.keys)))

    @property
    def average_length(self) -> float:
        return sum(self.lengths) / len(self.lengths) if self.lengths else 0.0

    def load_shards(self, shards: Iterable[int]) -> None:
        if self.loaded is None:
            return
        missing = sorted(set(shards) - self.loaded)
        if not missing:
            return
        if self.spilled is not None:
            self._take_spilled(missing, self.spilled)
            return
        # Read a batch at a time, each row let go of once unpacked: an update after a new
        # briefing at 50,000 reads 230 rows, all held at once 38 MB over their postings.
        for start in range(0, len(missing), state.ROWS_READ_AT_ONCE):
            batch = missing[start:start + state.ROWS_READ_AT_ONCE]
            found = self.rows.load([shard_row(s) for s in batch]) if self.rows is not None else {}
            for shard in batch:
                terms, counts, entries, encoded = _shard_row_value(
                    unpack(found.pop(shard_row(shard), None), shard_row(shard)), shard_row(shard))
                if not self.encoded_only:
                    at = 0
                    for term, count in zip(terms, counts, strict=True):
                        self.lists[term] = entries[at:at + count]
                        at += count
                self.encoded.update(zip(terms, encoded, strict=True))
                self.shard_terms[shard] = terms
                self.loaded.add(shard)

    def _take_spilled(self, shards: Iterable[int], spilled: SpilledShards) -> None:
        least, frequent = self.frequent_least, self.frequent
        for shard in shards:
            found = spilled.take(shard)
            self.lists.update(found)
            self.shard_terms[shard] = list(found)
            if frequent is not None:
                frequent.update((term, len(entries)) for term, entries in found.items()
                                if len(entries) >= least)
            cast("set[int]", self.loaded).add(shard)
        if len(cast("set[int]", self.loaded)) == self.shards:
            # Every shard held now, as indexing afresh holds them without setting any aside.
            spilled.close()
            self.spilled, self.loaded = None, None

    def doc_terms(self, doc_id: int) -> dict[str, int]:
        """A document's terms, each with its packed posting."""
        if doc_id >= len(self.keys):
            return {}
        return packed_postings(doc_id, self.kept_terms(doc_id), self.prefixes)

    def kept_terms(self, doc_id: int) -> DocTerms:
        """A document's terms as kept: read with the rest of its row when first asked for."""
        if doc_id not in self.terms:
            chunk = doc_id // state.CHUNK
            row = self.packed_terms.get(chunk)
            if row is None and self.rows is not None:
                row = self.rows.load([terms_row(chunk)]).get(terms_row(chunk))
            found = unpack(row, terms_row(chunk))
            if not isinstance(found, list):
                raise StateError(terms_row(chunk))
            first = chunk * state.CHUNK
            for doc_id_in_chunk, joined in enumerate(found, start=first):
                # Documents changed since the row was written keep their new terms.
                if doc_id_in_chunk < len(self.keys):
                    self.terms.setdefault(doc_id_in_chunk, joined)
            if doc_id not in self.terms:
                raise StateError(terms_row(chunk))
        return self.terms[doc_id]

    def encode(self, term: str) -> str:
        return encode_entry(self.lists[term], len(self.keys))

    def entries(self, terms: list[str]) -> list[str]:
        """The terms' entries, those not encoded yet encoded now (see indexing._full)."""
        encoded = self.encoded
        missing = list(itertools.filterfalse(encoded.__contains__, terms))
        if missing:
            documents = len(self.keys)
            found = list(map(self.lists.__getitem__, missing))
            if is_presence_only(1, documents):
                encoded.update(zip(missing, map(encode_entry, found, itertools.repeat(documents)),
                                   strict=True))
            else:
                # Most terms of a large site are in one document: their entries are taken by
                # map from those made for each posting, rather than through a call in Python
                # for each term (157,326 such terms at 10,000 briefings in Chinese).
                alone = list(map((1).__eq__, map(len, found)))
                encoded.update(zip(itertools.compress(missing, alone),
                                   map(self.single_entries.__getitem__,
                                       map(_FIRST, itertools.compress(found, alone))), strict=True))
                several = list(map(operator.not_, alone))
                encoded.update(zip(itertools.compress(missing, several),
                                   encode_entries(list(itertools.compress(found, several)), documents),
                                   strict=True))
        return list(map(encoded.__getitem__, terms))

    def encode_all(self) -> None:
        """Encode every term not encoded yet, for an update that reads the entries as kept."""
        if len(self.encoded) < len(self.lists):
            self.entries(list(self.lists))

    def edited(self, term: str, before: str, added: list[int], removed: list[int]) -> str:
        """What `encode` gives for a term encoded as `before` whose postings have since gained
        the documents `added` and lost `removed` (their weights may differ too)."""
        entries = self.lists[term]
        last = entries[-1] >> 16
        # A frequent term's bitmap lists most documents: one bit is set or cleared in it, rather
        # than the bitmap made again from every id (most of an addition's indexing otherwise).
        if (before.startswith(encoding.BITMAP) and is_presence_only(len(entries), len(self.keys))
                and encoding.surely_bitmap(len(entries), last)):
            return encoding.edited_bitmap(before, added, removed, last)
        return self.encode(term)

    def shard_bytes(self, shard: int) -> bytes:
        self.load_shards([shard])
        terms = sorted(self.shard_terms.get(shard, ()))
        data = shard_json(terms, self.entries(terms)).encode()
        if self.encoded_only and self.loaded is not None:
            # Read from its row again, should it be asked for twice.
            for term in terms:
                del self.encoded[term]
            self.loaded.discard(shard)
        return data

    def digest(self, shard: int, data: bytes | None = None) -> str:
        """A digest of a shard's bytes (pass them when at hand), kept in the state."""
        if not self.digests[shard]:
            self.digests[shard] = file_digest(self.shard_bytes(shard) if data is None else data)
        return self.digests[shard]

    def save(self, rows: IndexState, let_go: bool = False) -> None:
        """Write what changed since the state was read (everything, when it was not). A shard's
        entries not encoded yet are encoded as its row is made (see entries). `let_go`: only the
        entries are asked for after this (see keep_only_encoded), so each shard's postings are
        let go of once its row is made: a first build in Chinese at 10,000 briefings held every
        posting and every entry at once, 30 MB more at its peak."""
        shards = range(self.shards) if self.fresh else sorted(self.changed_shards)
        chunks = (self._chunks() if self.fresh
                  else sorted({doc_id // state.CHUNK for doc_id in self.changed_docs
                               if doc_id < len(self.keys)}))
        # Shards' rows are written as they are: their postings compress only to about half (20 to
        # 10 MB at 10,000 briefings), which took 0.3 s of a first build's time in this process,
        # and an edit reads them back. Documents' terms compress to a third and are kept so.

        def shard_value(shard: int) -> bytes:
            return self._shard_row(shard, let_go)

        def terms_value(chunk: int) -> bytes:
            ids = self._chunk_ids(chunk)
            row = self.packed_terms.get(chunk)
            if row is None or any(i in self.terms for i in ids):
                row = pack([self.kept_terms(i) for i in ids])
            return row

        def head_value() -> tuple[Any, ...]:
            for shard in range(self.shards):
                self.digest(shard)
            # The keys as one string and the lengths as an array: each edit writes the head again.
            return (_STATE_FORMAT, self.shards, Keys.of(self.keys), array("H", self.lengths), self.digests,
                    self.output, self.frequent_least, self.frequent)

        # The head made last, when its shards' digests are known.
        values = MadeRows({shard_row(shard): functools.partial(shard_value, shard) for shard in shards})
        values.makers.update((terms_row(chunk), functools.partial(terms_value, chunk)) for chunk in chunks)
        values.makers[HEAD] = head_value
        rows.save(values, self.fresh)
        self.rows, self.fresh = rows, False
        self.changed_shards, self.changed_docs = set(), set()

    def _shard_row(self, shard: int, let_go: bool) -> bytes:
        """A shard's row, its digest found first (the head names it); `let_go`: its terms'
        postings are let go of once the row is made."""
        self.load_shards([shard])
        self.digest(shard)
        terms = list(self.shard_terms.get(shard, ()))
        lists = [self.lists[t] for t in terms]
        # Every term's postings in one array, the terms and their entries each in one
        # string: a row of a dictionary of arrays took a first build in Chinese 1.3 s to
        # pickle at 10,000 briefings, and kept a UTF-8 copy of every term it pickled.
        entries = array("Q" if any(found.typecode == "Q" for found in lists) else "I")
        deque(map(entries.extend, lists), maxlen=0)
        value = ("\0".join(terms), array("I", map(len, lists)), entries,
                 "\0".join(self.entries(terms)))
        if let_go:
            deque(map(self.lists.__delitem__, terms), maxlen=0)
        return pack(value, compress=False)

    def _save_shards(self, rows: IndexState, shards: Iterable[int]) -> None:
        """Write these changed shards' rows to `rows` now, and let go of their postings (their
        entries stay, for their files): an update that saves as it goes holds a batch of
        shards' postings at a time. `rows` are read from from now on; `save` writes the rest."""
        for shard in shards:
            self.digests[shard] = ""  # changed: found again from its bytes
            rows.save({shard_row(shard): self._shard_row(shard, let_go=True)}, fresh=False)
            self.changed_shards.discard(shard)
        self.rows = rows

    def batch_done(self, batch: Iterable[int], touched: Collection[int], save_to: IndexState | None) -> None:
        """An update's batch of shards is done, `touched` those of them that changed: with rows
        to `save_to` (an update that saves as it goes), their rows are saved now and the batch's
        others forgotten; else they are marked to be saved with the rest, digests found again."""
        if save_to is not None:
            self._save_shards(save_to, sorted(touched))
            self._forget_shards(shard for shard in batch if shard not in touched)
            return
        for shard in touched:
            self.digests[shard] = ""
        self.changed_shards |= set(touched)

    def _forget_shards(self, shards: Iterable[int]) -> None:
        """Let go of these unchanged shards' postings and entries: read from the rows again
        when asked for."""
        if self.loaded is None:
            return
        for shard in shards:
            for term in self.shard_terms.pop(shard, ()):
                self.lists.pop(term, None)
                self.encoded.pop(term, None)
            self.loaded.discard(shard)

    def detach(self) -> None:
        """Read every row now and never again: a live preview's rows are a build's, which a
        later build may rewrite while the preview still runs. Documents' terms stay packed."""
        self.load_shards(range(self.shards))
        missing = [chunk for chunk in self._chunks() if chunk not in self.packed_terms]
        found = self.rows.load([terms_row(c) for c in missing]) if self.rows is not None and missing else {}
        for chunk in missing:
            row = found.get(terms_row(chunk))
            if isinstance(row, bytes):
                self.packed_terms[chunk] = row
            elif not all(i in self.terms for i in self._chunk_ids(chunk)):
                raise StateError(terms_row(chunk))
        self.rows, self.loaded = None, None

    def keep_only_encoded(self) -> None:
        """Let go of what only an update needs (every term's postings, every document's terms),
        once the rows hold it: a build renders shards from the encoded entries alone, and lets
        go of a shard's once it is made (at 10,000 briefings, 14 MB of postings read with the
        shards an update did not touch were held to the end of the build)."""
        self.lists, self.terms, self.packed_terms = {}, {}, {}
        self.encoded_only = True
        self.single_entries = SingleEntries()
        if self.loaded is None:
            self.loaded = set(range(self.shards))


# What a state must say it is: a change to the shape of the rows makes older ones foreign.
_STATE_FORMAT = (f"briefgen-search-state {files.FORMAT} rows-{state.CHUNK} zlib digest-16 output frequent "
                 "words bare-entries joined-shards joined-keys")


def _shard_row_value(value: Any, name: str) -> tuple[list[str], array[int], array[int], list[str]]:
    """A shard's row as Postings.save writes it: its terms, how many postings each has, their
    postings one after another, and their entries."""
    if not isinstance(value, tuple) or len(value) != 4:
        raise StateError(name)
    joined, counts, entries, encoded = value
    if not (isinstance(joined, str) and isinstance(counts, array) and isinstance(entries, array)
            and isinstance(encoded, str) and entries.typecode in ("I", "Q")):
        raise StateError(name)
    terms, listed = split_terms(joined), split_terms(encoded)
    if len(terms) != len(counts) or len(listed) != len(terms) or sum(counts) != len(entries):
        raise StateError(name)
    return terms, counts, entries, listed


def _all(kind: type, values: Iterable[Any]) -> bool:
    return all(map(kind.__instancecheck__, values))


def read_state(rows: IndexState) -> Postings | None:
    """The head of the postings an earlier build kept, its shards left in the rows until needed;
    None when there are none, or this version cannot read them."""
    try:
        header, shards, keys, lengths, digests, output, least, frequent = rows.load([HEAD])[HEAD]
    except Exception:  # missing or foreign: index afresh
        return None
    # A damaged value of the wrong type would fail an update half way: it means indexing afresh.
    known = frequent is None or (isinstance(frequent, dict) and _all(str, frequent)
                                 and _all(int, frequent.values()))
    if (header != _STATE_FORMAT or not isinstance(shards, int)
            or not (isinstance(keys, Keys) or (isinstance(keys, list) and _all(str, keys)))
            or not (isinstance(lengths, array) and lengths.typecode == "H") or len(lengths) != len(keys)
            or not isinstance(digests, list) or len(digests) != shards or not _all(str, digests)
            or not isinstance(output, str) or not isinstance(least, int) or not known):
        return None
    return Postings(shards, keys, lengths.tolist(), digests, {}, {}, {}, {}, loaded=set(), rows=rows,
                    fresh=False, output=output, frequent_least=least, frequent=frequent)
