"""The postings of every document, kept from one build to the next.

An edit then re-indexes only the documents whose indexed content changed:
of their postings, those that differ are taken out and put in again, and
only the terms they touched are serialised again. The state lives in rows of
the build cache, one per term shard and one per 256 documents' terms, so an
edit reads and writes the rows of the words it changed, not the whole index;
each shard's digest is kept with it, so a build knows which shard files
changed without rendering the others. A briefing added or deleted
in the past moves the ids of every later one: their postings then move to the new
ids, and only the documents added or changed are indexed. The result is the same,
byte for byte, as indexing everything afresh, which is what happens when there is
no earlier state, or when so much changed that starting over is cheaper.

The state is an optimisation only: a missing, damaged or foreign state
means a full indexing run, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import operator
import os
import pickle
import re
import sys
import tempfile
import zlib
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar, cast, overload, runtime_checkable

from briefgen.content.records import BriefingDoc, PageDoc
from briefgen.search import encoding
from briefgen.search.text import PREFIX, index_text, prefix_term, shard_of, words
from briefgen.site import search_files as files
from briefgen.site.model import Site

HtmlOf = Callable[[BriefingDoc | PageDoc], str]

# Field flags of a posting; the client boosts matches in titles and topics.
TITLE, TOPIC, SOURCE = 1, 2, 4
_TF_LIMIT = 255  # a frequency fills a weight's high byte
_LENGTH_STEPS = 31  # document lengths are kept as round(log2(length + 1) * 2.5), at most this


def length_step(length: int) -> int:
    return min(_LENGTH_STEPS, round(math.log2(length + 1) * 2.5))


def fields(site: Site, doc_id: int) -> tuple[BriefingDoc | PageDoc, str, list[str], list[str], str]:
    """A document, and what it is searched by: title, topic names, source titles and publishers, summary."""
    ref = files.doc_ref(site, doc_id)
    if ref.kind == "page":
        page = site.pages[ref.index]
        return page.doc, page.title, [], [], page.summary
    b = site.briefings[ref.index]
    return (b.doc, b.title, [site.topic_names[slug].name for slug in b.topic_slugs],
            [part for s in b.sources for part in (s.title, s.publisher)], b.summary)


def document_key(site: Site, doc_id: int) -> str:
    """A digest of everything a document is indexed by (its file's digest covers its body)."""
    doc, title, topics, sources, summary = fields(site, doc_id)
    return _key(doc.digest, title, summary, topics, sources)


def _key(digest: str, title: str, summary: str, topics: Iterable[str], sources: Iterable[str]) -> str:
    text = "\x1f".join([digest, title, summary, "\x1e".join(topics), "\x1e".join(sources)])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def document_keys(site: Site) -> list[str]:
    """Every document's key, in id order: document_key's, made from the briefings themselves
    (one a document, 50,000 at each full build of as many briefings, on the search index's way)."""
    keys = [document_key(site, doc_id) for doc_id in range(len(site.pages))]
    names = {slug: topic.name for slug, topic in site.topic_names.items()}
    # A source's title and publisher, as `fields` lists them, joined as _key joins them.
    sources: dict[str, str] = {}
    for b in reversed(site.briefings):  # ids after the pages', the oldest briefing's first
        cited = []
        for source in b.sources:
            found = sources.get(source.id)
            if found is None:
                found = sources[source.id] = f"{source.title}\x1e{source.publisher}"
            cited.append(found)
        keys.append(_key(b.doc.digest, b.title, b.summary, [names[slug] for slug in b.topic_slugs], cited))
    return keys


@dataclass(frozen=True)
class Words:
    """A document's folded words, field by field: its postings and its phrase hashes both come
    from these, so a build that makes both splits each document's text once."""

    title: list[str]
    summary: list[str]
    text: list[str]
    topics: list[list[str]]
    sources: list[list[str]]  # each source's title, then its publisher

    def in_order(self) -> list[list[str]]:
        return [self.title, self.summary, self.text, *self.topics, *self.sources]


def document_words(site: Site, doc_id: int, html_of: HtmlOf) -> Words:
    doc, title, topics, sources, summary = fields(site, doc_id)
    return Words(words(title), words(summary), words(index_text(html_of(doc))),
                 [words(t) for t in topics], [words(s) for s in sources])


WordsSeen = Callable[[int, Words], None]  # told each document's words as it is indexed


def _weights(frequencies: Collection[int], step: int) -> array[int]:
    """Weights of frequency and length step (field flags clear), made as bytes, not number by
    number: a weight is the frequency in its high byte (hence _TF_LIMIT) over the length step
    and flags in its low one, and a long briefing has a thousand terms."""
    try:
        high = bytes(frequencies)
    except ValueError:  # a frequency above _TF_LIMIT
        high = bytes(map(min, frequencies, itertools.repeat(_TF_LIMIT)))
    packed = bytearray(bytes((step, 0)) * len(high))
    packed[1::2] = high
    weights = array("H", packed)
    if sys.byteorder == "big":
        weights.byteswap()
    return weights


class PrefixTerms(dict[str, str | None]):
    """word -> text.prefix_term(word): computed once per word a build meets, and looked up for
    every word of every document."""

    def __missing__(self, word: str) -> str | None:
        value = self[word] = prefix_term(word)
        return value


class SingleEntries(dict[int, str]):
    """posting -> the entry of a term in that one document alone (weighted, see _encoded): made
    once for each posting, and shared by the terms that have it."""

    def __missing__(self, posting: int) -> str:
        value = self[posting] = encoding.weighted_one(posting >> 16, posting & 0xFFFF)
        return value


_FIRST = operator.itemgetter(0)


def _weights_of(found: Words) -> tuple[list[str], array[int], int]:
    """A document's terms, each one's weight (frequency, length step and field flags: a
    posting's low 16 bits, see packed_postings), in the same order, and the document's length."""
    topics = [word for topic in found.topics for word in topic]
    sources = [word for source in found.sources for word in source]
    # The words of the flagged fields are counted first, so the terms that may carry a flag
    # are the first few: their weights are set right after every term's is made by map
    # (a loop in Python over every term was a third of indexing).
    counts = Counter(found.title)
    counts.update(topics)
    counts.update(sources)
    flaggable = len(counts)
    counts.update(found.summary)
    counts.update(found.text)
    length = counts.total()
    weights = _weights(counts.values(), length_step(length) << 3)
    if flaggable:
        in_title, in_topics, in_sources = set(found.title), set(topics), set(sources)
        for place, term in enumerate(itertools.islice(counts, flaggable)):
            weights[place] |= ((TITLE if term in in_title else 0) | (TOPIC if term in in_topics else 0)
                               | (SOURCE if term in in_sources else 0))
    return list(counts), weights, length


_FLAGS = TITLE | TOPIC | SOURCE
_STEP = 0xFF & ~_FLAGS  # a weight's length step, shifted


_SAMPLED = 16  # terms looked at to tell a text of short terms


def _long_terms(terms: list[str]) -> list[str]:
    """The terms, or when most are too short to begin a prefix term, only the others.

    A text in Chinese or Japanese is mostly terms of two characters (see text.cjk_terms), none
    of which begins a prefix term: looking each one up cost a document in Chinese more than
    splitting its text did. Other texts' terms are mostly words of four letters or more, which
    leaving out the rest first would only slow. The terms kept are in the same order; the
    length test is text.prefix_term's own, written out here because it runs on every term."""
    sample = terms[::max(1, len(terms) // _SAMPLED)]
    if sum(len(term) <= PREFIX for term in sample) * 2 <= len(sample):
        return terms
    return [term for term in terms if len(term) > PREFIX]


def prefix_terms(terms: list[str], weights: array[int],
                 prefixes: PrefixTerms) -> tuple[list[str], array[int]]:
    """The prefix terms (see text.PREFIX) of a document's terms as _weights_of gives them, and
    their weights: a prefix term's frequency is the number of the document's words it begins,
    its flags theirs. Made from the words, so the state keeps only those."""
    # Counted by map, in the terms' order, where a loop in Python, or summing the words'
    # frequencies, doubled indexing's cost.
    counted: Counter[str | None] = Counter(map(prefixes.__getitem__, _long_terms(terms)))
    counted.pop(None, None)
    if not counted:
        return [], array("H")
    starts = cast("Counter[str]", counted)
    prefix_weights = _weights(starts.values(), weights[0] & _STEP)
    # The words of the flagged fields come first (see _weights_of), and so do their prefixes.
    flags: dict[str, int] = {}
    for term, weight in zip(terms, weights, strict=False):
        if not weight & _FLAGS:
            break
        start = prefixes[term]
        if start is not None:
            flags[start] = flags.get(start, 0) | weight & _FLAGS
    for place, flag in enumerate(flags.values()):
        prefix_weights[place] |= flag
    return list(starts), prefix_weights


class IndexedDoc(NamedTuple):
    """One document's terms and weights, as the state keeps them (DocTerms), its prefix terms
    and theirs, and its length: a few flat values, cheap to pickle (a worker process sends them
    to the one building the index), in place of a dict of every term's posting."""

    terms: str  # joined by "\0", as DocTerms keeps them
    weights: array[int]  # in the order of terms
    length: int
    prefix_terms: str  # joined by "\0"
    prefix_weights: array[int]

    @property
    def kept(self) -> DocTerms:
        return self.terms, self.weights

    def postings(self, doc_id: int) -> dict[str, int]:
        """Every term's packed posting, its prefix terms' too (see packed_postings)."""
        found = _packed(doc_id, _split(self.terms), self.weights)
        found.update(_packed(doc_id, _split(self.prefix_terms), self.prefix_weights))
        return found


def indexed_doc(found: Words, prefixes: PrefixTerms) -> IndexedDoc:
    terms, weights, length = _weights_of(found)
    starts, start_weights = prefix_terms(terms, weights, prefixes)
    return IndexedDoc("\0".join(terms), weights, length, "\0".join(starts), start_weights)


def _indexed(site: Site, doc_id: int, html_of: HtmlOf, seen: WordsSeen | None,
             prefixes: PrefixTerms) -> IndexedDoc:
    found = document_words(site, doc_id, html_of)
    if seen is not None:
        seen(doc_id, found)
    return indexed_doc(found, prefixes)


def _split(joined: str) -> list[str]:
    """Terms joined by "\0", as DocTerms keeps them, apart again."""
    return joined.split("\0") if joined else []


def _packed(doc_id: int, terms: list[str], weights: array[int]) -> dict[str, int]:
    return dict(zip(terms, map((doc_id << 16).__or__, weights), strict=True))


def packed_postings(doc_id: int, kept: DocTerms, prefixes: PrefixTerms) -> dict[str, int]:
    """A document's terms and prefix terms, each with its packed posting: the document's id
    over the term's weight (frequency, length step, fields), so that a term's list sorts by id."""
    joined, weights = kept
    terms = _split(joined)
    found = _packed(doc_id, terms, weights)
    found.update(_packed(doc_id, *prefix_terms(terms, weights, prefixes)))
    return found


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


def _with_frequencies(frequent: dict[str, int] | None, least: int,
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
            self.under.save(_MadeRows({name: functools.partial(self._read, name) for name in self._held}),
                            self.fresh)
        self._held.clear()
        self.fresh = False
        return self.under

    def close(self) -> None:
        self._held.close()


class _MadeRows(Mapping[str, Any]):
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
_CHUNK = 256  # documents per row of document terms


def shard_row(shard: int) -> str:
    return f"search/shard/{shard}"


def terms_row(chunk: int) -> str:
    return f"search/terms/{chunk}"


def _digest(data: bytes) -> str:
    # The digest a build records for every file it writes (build/stages.py): so a shard's kept
    # digest says whether the output holds its bytes.
    return hashlib.blake2b(data, digest_size=16).hexdigest()


DocTerms = tuple[str, "array[int]"]  # a document's terms joined by "\0", and their weights


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

_ROWS_READ_AT_ONCE = 32


_KEY_WIDTH = 24  # hex digits of a document's key (see _key)


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
    # term -> its entry (see _encoded), kept so that a shard is only joined: without its term, which
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

    def _chunks(self) -> range:
        """Every row of documents' terms."""
        return range((len(self.keys) + _CHUNK - 1) // _CHUNK)

    def _chunk_ids(self, chunk: int) -> range:
        """The documents whose terms a row holds."""
        return range(chunk * _CHUNK, min((chunk + 1) * _CHUNK, len(self.keys)))

    @property
    def average_length(self) -> float:
        return sum(self.lengths) / len(self.lengths) if self.lengths else 0.0

    def load_shards(self, shards: Iterable[int]) -> None:
        if self.loaded is None:
            return
        missing = sorted(set(shards) - self.loaded)
        if not missing:
            return
        # Read a batch at a time, each row let go of once unpacked: an update after a new
        # briefing at 50,000 reads 230 rows, all held at once 38 MB over their postings.
        for start in range(0, len(missing), _ROWS_READ_AT_ONCE):
            batch = missing[start:start + _ROWS_READ_AT_ONCE]
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

    def doc_terms(self, doc_id: int) -> dict[str, int]:
        """A document's terms, each with its packed posting."""
        if doc_id >= len(self.keys):
            return {}
        return packed_postings(doc_id, self.kept_terms(doc_id), self.prefixes)

    def kept_terms(self, doc_id: int) -> DocTerms:
        """A document's terms as kept: read with the rest of its row when first asked for."""
        if doc_id not in self.terms:
            chunk = doc_id // _CHUNK
            row = self.packed_terms.get(chunk)
            if row is None and self.rows is not None:
                row = self.rows.load([terms_row(chunk)]).get(terms_row(chunk))
            found = unpack(row, terms_row(chunk))
            if not isinstance(found, list):
                raise StateError(terms_row(chunk))
            first = chunk * _CHUNK
            for doc_id_in_chunk, joined in enumerate(found, start=first):
                # Documents changed since the row was written keep their new terms.
                if doc_id_in_chunk < len(self.keys):
                    self.terms.setdefault(doc_id_in_chunk, joined)
            if doc_id not in self.terms:
                raise StateError(terms_row(chunk))
        return self.terms[doc_id]

    def encode(self, term: str) -> str:
        return _encoded(self.lists[term], len(self.keys))

    def entries(self, terms: list[str]) -> list[str]:
        """The terms' entries, those not encoded yet encoded now (see _full)."""
        encoded = self.encoded
        missing = list(itertools.filterfalse(encoded.__contains__, terms))
        if missing:
            documents = len(self.keys)
            found = list(map(self.lists.__getitem__, missing))
            if is_presence_only(1, documents):
                encoded.update(zip(missing, map(_encoded, found, itertools.repeat(documents)), strict=True))
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
                                   _encoded_several(list(itertools.compress(found, several)), documents),
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
        data = _shard_json(terms, self.entries(terms)).encode()
        if self.encoded_only and self.loaded is not None:
            # Read from its row again, should it be asked for twice.
            for term in terms:
                del self.encoded[term]
            self.loaded.discard(shard)
        return data

    def digest(self, shard: int, data: bytes | None = None) -> str:
        """A digest of a shard's bytes (pass them when at hand), kept in the state."""
        if not self.digests[shard]:
            self.digests[shard] = _digest(self.shard_bytes(shard) if data is None else data)
        return self.digests[shard]

    def save(self, rows: IndexState, let_go: bool = False) -> None:
        """Write what changed since the state was read (everything, when it was not). A shard's
        entries not encoded yet are encoded as its row is made (see entries). `let_go`: only the
        entries are asked for after this (see keep_only_encoded), so each shard's postings are
        let go of once its row is made: a first build in Chinese at 10,000 briefings held every
        posting and every entry at once, 30 MB more at its peak."""
        shards = range(self.shards) if self.fresh else sorted(self.changed_shards)
        chunks = (self._chunks() if self.fresh
                  else sorted({doc_id // _CHUNK for doc_id in self.changed_docs if doc_id < len(self.keys)}))
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
        values = _MadeRows({shard_row(shard): functools.partial(shard_value, shard) for shard in shards})
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
_STATE_FORMAT = (f"briefgen-search-state {files.FORMAT} rows-{_CHUNK} zlib digest-16 output frequent words "
                 "bare-entries joined-shards joined-keys")


def _shard_row_value(value: Any, name: str) -> tuple[list[str], array[int], array[int], list[str]]:
    """A shard's row as Postings.save writes it: its terms, how many postings each has, their
    postings one after another, and their entries."""
    if not isinstance(value, tuple) or len(value) != 4:
        raise StateError(name)
    joined, counts, entries, encoded = value
    if not (isinstance(joined, str) and isinstance(counts, array) and isinstance(entries, array)
            and isinstance(encoded, str) and entries.typecode in ("I", "Q")):
        raise StateError(name)
    terms, listed = _split(joined), _split(encoded)
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


def build(site: Site, html_of: HtmlOf, previous: Postings | None = None,
          only: Collection[int] | None = None, seen: WordsSeen | None = None,
          given: Iterator[IndexedDoc] | None = None, keys: Sequence[str] | None = None,
          previous_spare: bool = False, save_to: IndexState | None = None,
          known_order: dict[int, int] | None = None) -> Postings:
    """The postings of every document of the site, updated from `previous` when that is cheaper.

    `only` names the documents that may have changed, when the caller knows the others
    did not (the live preview after an edit): the others keep their keys unread. `seen`
    is told the words of each document indexed. `given`, when the postings are made afresh
    (with no `previous`), yields every document's, in id order, made elsewhere (a build's workers).
    `keys`, when given, are every document's key (document_key), found already.
    `previous_spare`: nothing uses `previous` after this (it was read for this build from the
    kept state), so an update may change its postings where they are rather than copy them;
    with `save_to` as well (the rows `save` will write to), it saves the shards it changes there
    as it goes, and holds their entries alone (see keep_only_encoded): `save` writes the rest.
    `known_order`, when given, is what kept_in_order(previous.keys, keys) gives, found already.
    """
    count = files.document_count(site)
    shards = files.shard_count(count)
    changed: list[int] | None = None
    if only is not None and previous is not None and len(previous.keys) == count:
        now = {doc_id: document_key(site, doc_id) for doc_id in only}
        if isinstance(previous.keys, Keys):
            keys = previous.keys.replaced(now)
        else:
            keys = list(previous.keys)
            for doc_id, key in now.items():
                keys[doc_id] = key
        # The others' keys are the previous ones: not compared one by one (50,000 at 15 ms).
        changed = sorted({doc_id for doc_id, key in now.items() if key != previous.keys[doc_id]})
    elif keys is None or len(keys) != count:
        keys = document_keys(site)
    if previous is not None and previous.shards == shards:
        if changed is None:
            before = list(previous.keys)  # made once, rather than a key sliced a document
            changed = [i for i in range(count) if i >= len(before) or before[i] != keys[i]]
            del before  # not held while the postings are updated: 50,000 keys at 50,000 briefings
        gone = list(range(count, len(previous.keys)))
        try:
            if len(changed) + len(gone) > UPDATE_FLOOR:
                # A briefing added or deleted in the past moves the ids of every newer one.
                # Moving their postings costs about what updating a few documents does, and
                # less than indexing many again: at 50,000, 1.5 s against 7 s for 4,362 ids.
                kept = known_order if known_order is not None else kept_in_order(previous.keys, keys)
                if kept is not None and count - len(kept) <= _worth_updating(count):
                    runs = _runs(kept)
                    if len(runs) <= _MOST_RUNS and any(shift for _, _, shift in runs):
                        return _moved(site, html_of, previous, keys, kept, runs, seen, previous_spare,
                                      save_to)
            if len(changed) + len(gone) <= _worth_updating(count):
                return _update(site, html_of, previous, keys, changed, gone, seen, previous_spare, save_to)
        except StateError:
            pass  # a damaged state: index everything
    return _full(site, html_of, keys, shards, previous.rows if previous is not None else None, seen, given)


# Fewest documents an update may index again: past this (and an eighth of the site),
# indexing everything afresh costs about as much.
UPDATE_FLOOR = 64


# Most runs of kept documents (see _runs) a moving update takes: it looks for each in every
# term's postings. Scattered changes make many runs, and indexing afresh suits them better.
_MOST_RUNS = 64


def _worth_updating(count: int) -> int:
    return max(UPDATE_FLOOR, count // 8)


def kept_in_order(old_keys: Sequence[str], new_keys: Sequence[str]) -> dict[int, int] | None:
    """New id -> old id of every document indexed by the same key as before, when those
    documents are in the same order as before (ids moved by documents added or taken out
    among them); None when a key is not one document's, or the order changed."""
    old_of_key = {key: old for old, key in enumerate(old_keys)}
    if len(old_of_key) != len(old_keys) or len(set(new_keys)) != len(new_keys):
        return None  # two documents indexed alike: which is which cannot be told
    kept = {new: old_of_key[key] for new, key in enumerate(new_keys) if key in old_of_key}
    olds = list(kept.values())
    if any(later <= earlier for earlier, later in itertools.pairwise(olds)):
        return None
    return kept


def _encoded(entries: array[int], documents: int) -> str:
    """A term's entry as `encoding` writes it: weighted, or for a term in many documents (see
    `is_presence_only`) the documents alone."""
    if len(entries) == 1 and not is_presence_only(1, documents):
        # Most of a large site's terms are in one document (names, places, numbers).
        return encoding.weighted_one(entries[0] >> 16, entries[0] & 0xFFFF)
    ids, weights = _apart(entries)
    if is_presence_only(len(entries), documents):
        return encoding.present(ids)
    return encoding.weighted(ids, weights)


def _encoded_several(found: list[array[int]], documents: int) -> list[str]:
    """_encoded of each of these lists, of two postings or more. Those listed with weights are
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
    present = iter(map(_encoded, itertools.compress(found, map(operator.not_, weighted)),
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


def _listed(term: str, entry: str) -> str:
    """A term and its entry as its shard's JSON lists them: `"term":"entry"`."""
    # A term is letters and digits (see text.words), which JSON writes as they are: quoted
    # directly, a large site's hundred thousand terms are spared json.dumps.
    quoted = f'"{term}"' if term.isalnum() else json.dumps(term, ensure_ascii=False)
    return f"{quoted}:\"{entry}\""


# What json.dumps escapes in a string (ensure_ascii off): a term without these is written as it is.
_ESCAPED = re.compile(r'[\x00-\x1f"\\]')


def _shard_json(terms: list[str], entries: list[str]) -> str:
    """A term shard's JSON: each term and its entry, in the order given, as _listed writes them."""
    if not terms:
        return "{}"
    if _ESCAPED.search("".join(terms)) is None:
        # Joined at once: a shard of a large site has thousands of terms.
        return '{"' + '","'.join(map('":"'.join, zip(terms, entries, strict=True))) + '"}'
    return "{" + ",".join(map(_listed, terms, entries)) + "}"


def _runs(kept: dict[int, int]) -> list[tuple[int, int, int]]:
    """The kept documents as runs of consecutive old ids that move by the same amount:
    (first old id, old id past the run, new id - old id)."""
    runs: list[tuple[int, int, int]] = []
    for new, old in sorted(kept.items()):
        if runs and runs[-1][1] == old and runs[-1][2] == new - old:
            runs[-1] = (runs[-1][0], old + 1, new - old)
        else:
            runs.append((old, old + 1, new - old))
    return runs


def _moved(site: Site, html_of: HtmlOf, previous: Postings, keys: Sequence[str], kept: dict[int, int],
           runs: list[tuple[int, int, int]], seen: WordsSeen | None, spare: bool = False,
           save_to: IndexState | None = None) -> Postings:
    """The postings after documents were added or taken out among the others: the kept
    documents' postings move to their new ids (in order, so each list stays sorted), and only
    the documents not kept are indexed. The rows of documents' terms from the first moved id on,
    and of the shards with an entry that changed, are written again. When `previous` is
    `spare` (see build), its shards are read a few at a time and let go of once moved, and a
    list that stays as it was is kept rather than copied: at 50,000 briefings, every earlier
    list and entry read at once, beside their moved copies, made this the build's peak. With
    rows to `save_to` as well, each batch's changed shards are saved to them once moved, and
    every shard's postings let go of: every posting moved, held at once, was 80 MB there."""
    shards = previous.shards
    prefixes = previous.prefixes
    previous.encode_all()  # its entries are compared with the moved ones
    indexed = {new: _indexed(site, new, html_of, seen, prefixes)
               for new in range(len(keys)) if new not in kept}
    typecode = _posting_type(len(keys))
    old_count = len(previous.keys)
    # The postings of the documents indexed again, by term, in id order.
    new_postings: dict[str, list[int]] = {}
    for new, doc in sorted(indexed.items()):
        for term, posting in doc.postings(new).items():
            new_postings.setdefault(term, []).append(posting)
    new_in: defaultdict[int, list[str]] = defaultdict(list)  # by shard, the terms indexed again
    for term in new_postings:
        new_in[shard_of(term, shards)].append(term)
    streamed = (save_to is not None and save_to.writable and spare and previous.rows is not None
                and not previous.fresh)
    least = least_frequent(len(keys))
    # Each shard's terms as _terms_by_shard lists them, made as they are moved: every term's
    # shard is known here, where hashing each one again cost a briefing added in 2019 among
    # 10,000 in Chinese (311,000 terms) 0.3-0.4 s.
    shard_terms: dict[int, list[str]] = {}
    postings = Postings(shards, keys, [], [""] * shards, {}, {},
                        cast("dict[int, Collection[str]]", shard_terms), {},
                        loaded=set() if streamed else None, rows=previous.rows, fresh=previous.fresh,
                        changed_shards=set() if previous.fresh else set(previous.changed_shards),
                        output=previous.output, frequent_least=least, frequent={}, prefixes=prefixes,
                        moved_from={new: old for new, old in kept.items() if new != old})
    if not previous.fresh:
        postings.digests = list(previous.digests)
    lists, encoded, frequent = postings.lists, postings.encoded, cast("dict[str, int]", postings.frequent)
    # A shard whose every entry was kept (the same documents and weights, listed alike) and
    # whose terms are all still there keeps its row and its digest: a briefing added or
    # deleted in the last years of a large archive changes a tenth of its shards.
    touched: set[int] = set()

    def entry(term: str, entries: array[int], count_before: int, same: bool) -> str | None:
        """The term's entry when known without encoding its postings again; None otherwise,
        for Postings.entries to encode when asked (a build's as it saves each shard)."""
        presence_only = is_presence_only(len(entries), len(keys))
        if presence_only == is_presence_only(count_before, old_count):
            if same:
                return previous.encoded[term]  # the same documents and weights, listed alike
            kept_entry = previous.encoded[term]
            last = entries[-1] >> 16
            if (presence_only and encoding.surely_bitmap(len(entries), last)
                    and kept_entry.startswith(encoding.BITMAP)):
                added = [posting >> 16 for posting in new_postings.get(term, ())]
                return encoding.moved_bitmap(kept_entry, runs, added, last)
        return None

    def move(term: str, entries: array[int], shard: int) -> None:
        moved = array(typecode)
        for first, end, shift in runs:
            start, stop = bisect_left(entries, first << 16), bisect_left(entries, end << 16)
            if start >= stop:
                continue
            if not shift and entries.typecode == typecode:
                moved.extend(entries[start:stop])
            else:  # postings are id << 16 | weight: a run's ids move by one amount, added to each
                moved.extend(map((shift << 16).__add__, entries[start:stop]))
        added = new_postings.get(term, ())
        same = not added and entries.typecode == typecode and moved == entries
        if same and spare:
            moved = entries  # one array, not two alike
        for posting in added:
            moved.insert(bisect_left(moved, posting), posting)
        if not moved:
            touched.add(shard)  # a term no document has now
            return
        lists[term] = moved
        shard_terms.setdefault(shard, []).append(term)
        found = entry(term, moved, len(entries), same)
        if found is not None:
            encoded[term] = found
        if found is None or found is not previous.encoded.get(term):
            touched.add(shard)

    every = range(shards)
    for batch in ([every[at:at + _ROWS_READ_AT_ONCE] for at in range(0, shards, _ROWS_READ_AT_ONCE)]
                  if spare else [every]):
        previous.load_shards(batch)
        for shard in batch:
            for term in previous.shard_terms.get(shard, ()):
                move(term, previous.lists.pop(term) if spare else previous.lists[term], shard)
                if spare:
                    previous.encoded.pop(term, None)
            for term in new_in.get(shard, ()):
                if term not in lists:  # a term no document had before
                    lists[term] = array(typecode, new_postings[term])
                    shard_terms.setdefault(shard, []).append(term)
                    touched.add(shard)
            frequent.update((term, len(lists[term])) for term in shard_terms.get(shard, ())
                            if len(lists[term]) >= least)
        if streamed:
            # The shards saved hold their entries alone; the others are read from the rows when asked for.
            cast("set[int]", postings.loaded).update(batch)
        postings.batch_done(batch, [shard for shard in batch if shard in touched],
                            save_to if streamed else None)
    # Rows of documents' terms before the first id that moved hold the same documents: kept as
    # they are. The others are made again.
    first_moved = min([new for new, old in kept.items() if new != old] + list(indexed) + [len(keys)])
    # In a temporary file, as a first build keeps them (see _full): a briefing added among
    # 10,000 in Chinese in 2016 made most rows again, 14 MB held until the rows were saved.
    packed_terms: MutableMapping[int, bytes] = SpooledRows[int]()
    for chunk in range((len(keys) + _CHUNK - 1) // _CHUNK):
        ids = range(chunk * _CHUNK, min((chunk + 1) * _CHUNK, len(keys)))
        row = None
        if (ids.stop <= first_moved and ids.stop == min((chunk + 1) * _CHUNK, len(previous.keys))
                and not any(doc_id in previous.terms for doc_id in ids)):
            row = previous.packed_terms.get(chunk)
            if row is None and previous.rows is not None:
                if spare and not previous.fresh:
                    continue  # the row as the rows keep it, read from there when asked for
                row = previous.rows.load([terms_row(chunk)]).get(terms_row(chunk))
        if not isinstance(row, bytes):
            row = pack([indexed[new].kept if new in indexed else previous.kept_terms(kept[new])
                        for new in ids])
            if spare:  # each earlier document's terms are read once, unpacked with their row's
                for new in ids:
                    previous.terms.pop(kept.get(new, -1), None)
        packed_terms[chunk] = row
    postings.lengths = [indexed[new].length if new in indexed else previous.lengths[kept[new]]
                        for new in range(len(keys))]
    postings.packed_terms = packed_terms
    postings.changed_docs = previous.changed_docs | set(range(first_moved, len(keys)))
    return postings


def _terms_by_shard(terms: Iterable[str], shards: int) -> dict[int, Collection[str]]:
    """Each shard's terms, listed: as sets, a large site's were 16 MB more (a shard an update
    changes is made a set then, see _update)."""
    found: dict[int, list[str]] = {}
    for term in terms:
        found.setdefault(shard_of(term, shards), []).append(term)
    return cast("dict[int, Collection[str]]", found)


def _posting_type(documents: int) -> str:
    """The array type of a term's postings: 32 bits while every id fits in 16 (postings are most
    of the index's memory), else 64. A list an update leaves alone may keep the narrower type."""
    return "I" if documents <= 1 << 16 and array("I").itemsize == 4 else "Q"


def _full(site: Site, html_of: HtmlOf, keys: Sequence[str], shards: int, rows: IndexState | None,
          seen: WordsSeen | None, given: Iterator[IndexedDoc] | None = None) -> Postings:
    chunk: list[DocTerms] = []
    # Held in a temporary file as they are made: every document's terms, packed, are about
    # a third of what indexing holds (30 MB at 50,000 briefings) until the rows are saved.
    packed_terms: MutableMapping[int, bytes] = SpooledRows[int]()
    lengths: list[int] = []
    typecode = _posting_type(len(keys))
    # A new term's list made without a call in Python (most of a large site's terms are new once).
    collected: defaultdict[str, array[int]] = defaultdict(functools.partial(array, typecode))
    prefixes = PrefixTerms()
    for doc_id in range(len(keys)):
        doc = next(given) if given is not None else _indexed(site, doc_id, html_of, seen, prefixes)
        # Each posting appended to its term's list by map, not a loop in Python.
        for joined, weights in ((doc.terms, doc.weights), (doc.prefix_terms, doc.prefix_weights)):
            deque(map(array.append, map(collected.__getitem__, _split(joined)),
                      map((doc_id << 16).__or__, weights)), maxlen=0)
        chunk.append(doc.kept)
        lengths.append(doc.length)
        if len(chunk) == _CHUNK or doc_id == len(keys) - 1:
            # Packed as each row fills: as text, a site's documents' terms are its index's largest part.
            packed_terms[doc_id // _CHUNK] = pack(chunk)
            chunk = []
    # Kept as they are, made a plain mapping: a copy was a second table of every term.
    collected.default_factory = None
    lists: dict[str, array[int]] = collected
    shard_terms = _terms_by_shard(lists, shards)
    least, frequent = frequent_terms(lists, len(keys))
    postings = Postings(shards, keys, lengths, [""] * shards, {}, lists, shard_terms, {}, rows=rows,
                        packed_terms=packed_terms, frequent_least=least, frequent=frequent,
                        prefixes=prefixes)
    # Entries are encoded as asked for (see Postings.save): a build's as it saves each shard.
    return postings


def _update(site: Site, html_of: HtmlOf, previous: Postings, keys: Sequence[str],
            changed: list[int], gone: list[int], seen: WordsSeen | None, in_place: bool = False,
            save_to: IndexState | None = None) -> Postings:
    shards = previous.shards
    prefixes = previous.prefixes
    new_docs = {doc_id: _indexed(site, doc_id, html_of, seen, prefixes) for doc_id in changed}
    new_postings = {doc_id: doc.postings(doc_id) for doc_id, doc in new_docs.items()}
    old_postings = {doc_id: previous.doc_terms(doc_id) for doc_id in [*changed, *gone]}
    old_count = len(previous.keys)
    # By term, each of its postings that differs, before and after (None: the document lacks it).
    # Only those are touched: most of an edited briefing's words keep theirs.
    edits: defaultdict[str, list[tuple[int | None, int | None]]] = defaultdict(list)
    for doc_id, old in old_postings.items():
        now = new_postings.get(doc_id, {})
        for term in old.keys() | now.keys():
            before, after = old.get(term), now.get(term)
            if before != after:
                edits[term].append((before, after))
    edited_in: defaultdict[int, list[str]] = defaultdict(list)  # by shard
    for term in edits:
        edited_in[shard_of(term, shards)].append(term)
    # Whether a term is listed with weights depends on the document count too.
    flipping = (flippable(previous.frequent, previous.frequent_least, old_count, len(keys))
                if len(keys) != old_count else [])
    to_read = (range(shards) if flipping is None
               else sorted({*edited_in, *(shard_of(term, shards) for term in flipping)}))
    # A build's own copy of the kept state is changed in place and, given rows to save to, saved
    # a batch of shards at a time, each batch's postings let go of once its rows are written: at
    # 50,000 briefings the postings of a new briefing's terms' shards were 72 MB, the build's peak.
    streamed = (save_to is not None and save_to.writable and in_place and previous.loaded is not None
                and previous.rows is not None and not previous.fresh)
    terms = dict(previous.terms)
    for doc_id in gone:
        terms.pop(doc_id, None)
    lengths = previous.lengths[:len(keys)] + [0] * max(0, len(keys) - len(previous.lengths))
    for doc_id, doc in new_docs.items():
        lengths[doc_id], terms[doc_id] = doc.length, doc.kept
    # Copy what changes, so `previous` stays whole if this fails half way, or for its holder
    # (the live preview's earlier index). A build's own copy of the kept state is changed in
    # place: at 50,000 briefings the copies of a new briefing's terms' lists took 35 MB.
    postings = Postings(shards, keys, lengths, list(previous.digests), terms, dict(previous.lists),
                        dict(previous.shard_terms), dict(previous.encoded),
                        None if previous.loaded is None else set(previous.loaded), previous.rows,
                        previous.fresh, set(previous.changed_shards),
                        previous.changed_docs | set(changed) | set(gone), previous.packed_terms,
                        previous.output, frequent_least=previous.frequent_least, prefixes=prefixes)
    lists, shard_terms = postings.lists, postings.shard_terms
    changed_terms: dict[int, set[str]] = {}  # by shard, the terms of those this update replaces
    copied: set[str] = set()
    sizes: dict[str, int] = {}  # how many postings each term whose frequency is kept has now

    def take(batch: Sequence[int]) -> None:
        """Read these shards' rows, and hold their postings and entries here."""
        if previous.loaded is None:
            return  # every one is held already
        previous.load_shards(batch)
        for shard in batch:
            found = previous.shard_terms.get(shard, ())
            shard_terms[shard] = found
            for term in found:
                lists[term] = previous.lists.pop(term) if streamed else previous.lists[term]
                postings.encoded[term] = (previous.encoded.pop(term) if streamed
                                          else previous.encoded[term])
            cast("set[int]", postings.loaded).add(shard)

    def terms_to_change(shard: int) -> set[str]:
        terms = changed_terms.get(shard)
        if terms is None:
            terms = changed_terms[shard] = set(shard_terms.get(shard, ()))
            shard_terms[shard] = terms
        return terms
    typecode = _posting_type(len(keys))

    def editable(term: str, shard: int) -> array[int]:
        if term not in copied:
            copied.add(term)
            found = lists.get(term)
            if not (in_place and found is not None and found.typecode == typecode):
                lists[term] = array(typecode, found or ())
            terms_to_change(shard).add(term)
        return lists[term]

    for batch in [to_read[at:at + _ROWS_READ_AT_ONCE] for at in range(0, len(to_read), _ROWS_READ_AT_ONCE)]:
        take(batch)
        batch_copied: list[tuple[str, int]] = []  # each term this batch changes, with its shard
        for shard in batch:
            for term in edited_in.get(shard, ()):
                entries = editable(term, shard)
                batch_copied.append((term, shard))
                for before, after in edits[term]:
                    if before is not None:
                        del entries[bisect_left(entries, before)]
                    if after is not None:
                        entries.insert(bisect_left(entries, after), after)
            if len(keys) != old_count:
                # The rows not read hold no term whose listing changes (see flippable).
                for term in shard_terms.get(shard, ()):
                    size = len(lists[term])
                    if (term not in copied and is_presence_only(size, len(keys))
                            != is_presence_only(size, old_count)):
                        copied.add(term)
                        batch_copied.append((term, shard))
            if flipping is None:  # every row is read: the frequencies are kept afresh
                sizes.update((term, len(lists[term])) for term in shard_terms.get(shard, ()))
        for term, shard in batch_copied:
            sizes[term] = len(lists[term])
            if lists[term]:
                listed = postings.encoded.get(term)
                changes = edits.get(term, ())
                added = [after >> 16 for before, after in changes if before is None and after is not None]
                removed = [before >> 16 for before, after in changes if after is None and before is not None]
                postings.encoded[term] = (postings.encode(term) if listed is None
                                          else postings.edited(term, listed, added, removed))
            else:
                del lists[term]
                postings.encoded.pop(term, None)  # not there when never asked for (see entries)
                terms_to_change(shard).discard(term)
        postings.batch_done(batch, {shard for _, shard in batch_copied}, save_to if streamed else None)
    if flipping is None:
        postings.frequent_least = least_frequent(len(keys))
        postings.frequent = {term: size for term, size in sizes.items() if size >= postings.frequent_least}
    else:
        postings.frequent = _with_frequencies(previous.frequent, postings.frequent_least, sizes)
    return postings
