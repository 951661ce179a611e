"""The postings of every document, kept from one build to the next.

An edit then re-indexes only the documents whose indexed content changed:
of their postings, those that differ are taken out and put in again, and
only the terms they touched are serialised again. The result is the same,
byte for byte, as indexing everything afresh, which is what happens when
there is no earlier state, or when so much changed (ids shifted by a briefing
inserted in the past or deleted, say) that starting over is cheaper.

The state is an optimisation only: a missing, damaged or foreign state file
means a full indexing run, never an error.
"""

from __future__ import annotations

import hashlib
import json
import math
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from typing import Any

from briefgen.content.records import BriefingDoc, PageDoc
from briefgen.search.text import index_text, shard_of, words
from briefgen.site import search_files as files
from briefgen.site.model import Site

HtmlOf = Callable[[BriefingDoc | PageDoc], str]

# Field flags of a posting; the client boosts matches in titles and topics.
TITLE, TOPIC, SOURCE = 1, 2, 4
_TF_LIMIT = 255
_LENGTH_STEPS = 31  # document lengths are kept as round(log2(length + 1) * 2.5), at most this


def length_step(length: int) -> int:
    return min(_LENGTH_STEPS, round(math.log2(length + 1) * 2.5))


def _fields(site: Site, doc_id: int) -> tuple[BriefingDoc | PageDoc, str, list[str], list[str], str]:
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
    doc, title, topics, sources, summary = _fields(site, doc_id)
    text = "\x1f".join([doc.digest, title, summary, "\x1e".join(topics), "\x1e".join(sources)])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def _postings_of(site: Site, doc_id: int, html_of: HtmlOf) -> tuple[dict[str, int], int]:
    """A document's terms, each with its packed posting (id, frequency, length, fields), and its length."""
    doc, title, topics, sources, summary = _fields(site, doc_id)
    counts = Counter(words(summary + "\n" + index_text(html_of(doc))))
    length = counts.total()
    flags: dict[str, int] = {}
    for group, flag in (([title], TITLE), (topics, TOPIC), (sources, SOURCE)):
        for text in group:
            found = words(text)
            length += len(found)
            counts.update(found)
            for word in found:
                flags[word] = flags.get(word, 0) | flag
    base = doc_id << 16 | length_step(length) << 3
    return {term: base | min(count, _TF_LIMIT) << 8 | flags.get(term, 0)
            for term, count in counts.items()}, length


def is_common(frequency: int, documents: int) -> bool:
    """Whether a term is in more than half the documents (its postings then list the others)."""
    return frequency * 2 > documents


@dataclass
class Postings:
    shards: int
    keys: list[str]  # by document id
    terms: list[str]  # by document id: its terms joined by "\0", to take them out again
    lengths: list[int]  # by document id, in words
    lists: dict[str, array[int]]  # term -> packed postings (id << 16 | weight), sorted by id
    shard_terms: dict[int, set[str]]
    encoded: dict[str, str]  # term -> its entry in its shard's JSON, kept so a shard is only joined

    @property
    def average_length(self) -> float:
        return sum(self.lengths) / len(self.lengths) if self.lengths else 0.0

    def encode(self, term: str) -> str:
        """`"term":[gap,weight,...]`; for a term in more than half the documents, `"term":[-1,gap,...]`
        listing the documents without it, so no list is longer than half the site."""
        entries = self.lists[term]
        encoded, previous = [], 0
        if is_common(len(entries), len(self.keys)):
            present = {posting >> 16 for posting in entries}
            encoded.append("-1")
            for doc_id in range(len(self.keys)):
                if doc_id not in present:
                    encoded.append(str(doc_id - previous))
                    previous = doc_id
        else:
            for posting in entries:
                doc_id = posting >> 16
                encoded.append(f"{doc_id - previous},{posting & 0xFFFF}")
                previous = doc_id
        return f"{json.dumps(term, ensure_ascii=False)}:[{','.join(encoded)}]"

    def shard_bytes(self, shard: int) -> bytes:
        entries = self.encoded
        return ("{" + ",".join(entries[t] for t in sorted(self.shard_terms.get(shard, ()))) + "}").encode()


# What a state file must say it is: a change to the shape of Postings makes older files foreign.
_STATE_FORMAT = f"briefgen-search-state {files.FORMAT} " + ",".join(f.name for f in fields(Postings))


def build(site: Site, html_of: HtmlOf, previous: Postings | None = None,
          only: Collection[int] | None = None) -> Postings:
    """The postings of every document of the site, updated from `previous` when that is cheaper.

    `only` names the documents that may have changed, when the caller knows the others
    did not (the live preview after an edit): the others keep their keys unread.
    """
    count = files.document_count(site)
    shards = files.shard_count(count)
    if only is not None and previous is not None and len(previous.keys) == count:
        keys = list(previous.keys)
        for doc_id in only:
            keys[doc_id] = document_key(site, doc_id)
    else:
        keys = [document_key(site, i) for i in range(count)]
    if previous is not None and previous.shards == shards:
        changed = [i for i in range(count) if i >= len(previous.keys) or previous.keys[i] != keys[i]]
        gone = list(range(count, len(previous.keys)))
        if len(changed) + len(gone) <= max(64, count // 8):
            return _update(site, html_of, previous, keys, changed, gone)
    return _full(site, html_of, keys, shards)


def _full(site: Site, html_of: HtmlOf, keys: list[str], shards: int) -> Postings:
    lists: dict[str, array[int]] = {}
    terms, lengths = [], []
    for doc_id in range(len(keys)):
        packed, length = _postings_of(site, doc_id, html_of)
        for term, posting in packed.items():
            found = lists.get(term)
            if found is None:
                found = lists[term] = array("Q")
            found.append(posting)
        terms.append("\0".join(packed))
        lengths.append(length)
    shard_terms: dict[int, set[str]] = {}
    for term in lists:
        shard_terms.setdefault(shard_of(term, shards), set()).add(term)
    postings = Postings(shards, keys, terms, lengths, lists, shard_terms, {})
    postings.encoded = {term: postings.encode(term) for term in lists}
    return postings


def _update(site: Site, html_of: HtmlOf, previous: Postings, keys: list[str],
            changed: list[int], gone: list[int]) -> Postings:
    # Copy what changes, so `previous` stays whole if this fails half way.
    lists = dict(previous.lists)
    shard_terms = dict(previous.shard_terms)
    copied: set[str] = set()

    def editable(term: str) -> array[int]:
        if term not in copied:
            copied.add(term)
            lists[term] = array("Q", lists.get(term, ()))
            shard = shard_of(term, previous.shards)
            shard_terms[shard] = set(shard_terms.get(shard, ()))
            shard_terms[shard].add(term)
        return lists[term]

    def old_postings(doc_id: int) -> dict[str, int]:
        if doc_id >= len(previous.keys) or not previous.terms[doc_id]:
            return {}
        found = {}
        for term in previous.terms[doc_id].split("\0"):
            entries = lists[term]
            at = bisect_left(entries, doc_id << 16)
            found[term] = entries[at]
        return found

    terms = previous.terms[:len(keys)] + [""] * max(0, len(keys) - len(previous.terms))
    lengths = previous.lengths[:len(keys)] + [0] * max(0, len(keys) - len(previous.lengths))
    for doc_id in [*changed, *gone]:
        old = old_postings(doc_id)
        new: dict[str, int] = {}
        if doc_id < len(keys):
            new, lengths[doc_id] = _postings_of(site, doc_id, html_of)
            terms[doc_id] = "\0".join(new)
        # Only postings that differ are touched: most of an edited briefing's words keep theirs.
        for term in old.keys() | new.keys():
            before, after = old.get(term), new.get(term)
            if before == after:
                continue
            entries = editable(term)
            if before is not None:
                del entries[bisect_left(entries, before)]
            if after is not None:
                entries.insert(bisect_left(entries, after), after)
    postings = Postings(previous.shards, keys, terms, lengths, lists, shard_terms, dict(previous.encoded))
    if len(keys) != len(previous.keys):
        # The entry of a common term lists documents by what they lack, up to the last id.
        old_count = len(previous.keys)
        copied |= {term for term, entries in lists.items()
                   if is_common(len(entries), len(keys)) or is_common(len(entries), old_count)}
    for term in copied:
        if lists[term]:
            postings.encoded[term] = postings.encode(term)
        else:
            del lists[term], postings.encoded[term]
            shard_terms[shard_of(term, previous.shards)].discard(term)
    return postings


def decode_state(value: Any) -> Postings | None:
    """The postings an earlier build kept; None when there are none, or this version cannot read them."""
    try:
        header, found = value
    except (TypeError, ValueError):
        return None
    return found if header == _STATE_FORMAT and isinstance(found, Postings) else None


def encode_state(found: Postings) -> tuple[str, Postings]:
    return (_STATE_FORMAT, found)
