"""What one document puts in the search index: the fields it is searched by, a key
that changes when any of them does, its words, and its terms with their weights and
prefix terms (see postings.py for the index they make, indexing.py for how it is made)."""

from __future__ import annotations

import hashlib
import itertools
import math
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import NamedTuple, cast

from briefgen.content.records import BriefingDoc, PageDoc
from briefgen.search.text import PREFIX, Tokens, index_text, prefix_term, words_and_runs
from briefgen.site import search_files as files
from briefgen.site.model import Site

HtmlOf = Callable[[BriefingDoc | PageDoc], str]
DocTerms = tuple[str, "array[int]"]  # a document's terms joined by "\0", and their weights

# Field flags of a posting; the client boosts matches in titles and topics.
TITLE, TOPIC, SOURCE = 1, 2, 4
_TF_LIMIT = 255  # a frequency fills a weight's high byte
_LENGTH_STEPS = 31  # document lengths are kept as round(log2(length + 1) * 2.5), at most this
_LENGTH_LIMIT = 0xFFFF  # a document's length in words, as the state keeps it


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
    runs: list[Tokens | None]  # each field's, as in_order lists them; None without unspaced letters

    def in_order(self) -> list[list[str]]:
        return [self.title, self.summary, self.text, *self.topics, *self.sources]

    def for_phrases(self) -> list[tuple[list[str], Tokens | None]]:
        """Each field's words and runs, as phrases.sequence takes them."""
        return list(zip(self.in_order(), self.runs, strict=True))


def document_words(site: Site, doc_id: int, html_of: HtmlOf) -> Words:
    doc, title, topics, sources, summary = fields(site, doc_id)
    split = [words_and_runs(text) for text in (title, summary, index_text(html_of(doc)), *topics, *sources)]
    found = [words for words, _ in split]
    return Words(found[0], found[1], found[2], found[3:3 + len(topics)], found[3 + len(topics):],
                 [runs for _, runs in split])


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
    # Kept as 16 bits (the state's lengths, for the average): past that, a document is long
    # enough that its exact length changes no score.
    length = min(length, _LENGTH_LIMIT)
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

    A text in Chinese or Japanese is mostly terms of two characters (see text.unspaced_terms), none
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
        found = _packed(doc_id, split_terms(self.terms), self.weights)
        found.update(_packed(doc_id, split_terms(self.prefix_terms), self.prefix_weights))
        return found


def indexed_doc(found: Words, prefixes: PrefixTerms) -> IndexedDoc:
    terms, weights, length = _weights_of(found)
    starts, start_weights = prefix_terms(terms, weights, prefixes)
    return IndexedDoc("\0".join(terms), weights, length, "\0".join(starts), start_weights)


def index_document(site: Site, doc_id: int, html_of: HtmlOf, seen: WordsSeen | None,
             prefixes: PrefixTerms) -> IndexedDoc:
    found = document_words(site, doc_id, html_of)
    if seen is not None:
        seen(doc_id, found)
    return indexed_doc(found, prefixes)


def split_terms(joined: str) -> list[str]:
    """Terms joined by "\0", as DocTerms keeps them, apart again."""
    return joined.split("\0") if joined else []


def _packed(doc_id: int, terms: list[str], weights: array[int]) -> dict[str, int]:
    return dict(zip(terms, map((doc_id << 16).__or__, weights), strict=True))


def packed_postings(doc_id: int, kept: DocTerms, prefixes: PrefixTerms) -> dict[str, int]:
    """A document's terms and prefix terms, each with its packed posting: the document's id
    over the term's weight (frequency, length step, fields), so that a term's list sorts by id."""
    joined, weights = kept
    terms = split_terms(joined)
    found = _packed(doc_id, terms, weights)
    found.update(_packed(doc_id, *prefix_terms(terms, weights, prefixes)))
    return found
