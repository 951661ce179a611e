"""The search index: documents, postings and filters built from the site model.

Every file is a pure function of the model and the documents' HTML bodies
(read through the build cache), written with sorted keys and no timestamps,
so identical input gives identical bytes and an unchanged shard is kept as it
was. The postings of the whole site are built once per build, when any index
file needs rendering, and held as compact arrays.
"""

from __future__ import annotations

import hashlib
import json
import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from briefgen.content.records import BriefingDoc, PageDoc
from briefgen.search import files
from briefgen.search.text import index_text, plain_text, shard_of, words
from briefgen.site.model import Site
from briefgen.site.plan import PageSpec

HtmlOf = Callable[[BriefingDoc | PageDoc], str]

# Field flags of a posting; the client boosts matches in titles and topics.
TITLE, TOPIC, SOURCE = 1, 2, 4
_TF_LIMIT = 255
_LENGTH_STEPS = 31  # document lengths are kept as round(log2(length + 1) * 2.5), at most this


def length_step(length: int) -> int:
    return min(_LENGTH_STEPS, round(math.log2(length + 1) * 2.5))


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Record:
    """One document as a result shows it, with the text that snippets and phrases are read from."""

    id: int
    url: str  # site-relative
    title: str
    date: str  # ISO date, "" for pages
    date_display: str
    summary: str
    topics: tuple[tuple[str, str], ...]  # (slug, name)
    sources: tuple[tuple[str, str], ...]  # (title, publisher)
    text: str

    def as_json(self) -> bytes:
        return _json({
            "id": self.id, "url": self.url, "title": self.title, "date": self.date,
            "date_display": self.date_display, "summary": self.summary,
            "topics": [list(t) for t in self.topics], "sources": [list(s) for s in self.sources],
            "text": self.text,
        })


def record(site: Site, doc_id: int, html_of: HtmlOf) -> Record:
    ref = files.doc_ref(site, doc_id)
    if ref.kind == "page":
        page = site.pages[ref.index]
        return Record(doc_id, page.url, page.title, "", "", page.summary, (), (),
                      plain_text(html_of(page.doc)))
    b = site.briefings[ref.index]
    day = b.date.date()
    return Record(
        doc_id, b.url, b.title, day.isoformat(), f"{day.day} {day:%B %Y}", b.summary,
        tuple((slug, site.topic_names[slug].name) for slug in b.topic_slugs),
        tuple((s.title, s.publisher) for s in b.sources),
        plain_text(html_of(b.doc)),
    )


def _fields(site: Site, doc_id: int, html_of: HtmlOf) -> tuple[str, list[str], list[str], str]:
    """What a document is searched by: title, topic names, source titles and publishers, the rest."""
    ref = files.doc_ref(site, doc_id)
    if ref.kind == "page":
        page = site.pages[ref.index]
        return page.title, [], [], page.summary + "\n" + index_text(html_of(page.doc))
    b = site.briefings[ref.index]
    return (b.title, [site.topic_names[slug].name for slug in b.topic_slugs],
            [part for s in b.sources for part in (s.title, s.publisher)],
            b.summary + "\n" + index_text(html_of(b.doc)))


def _term_frequencies(title: str, topics: list[str], sources: list[str],
                      rest: str) -> tuple[Counter[str], dict[str, int], int]:
    """How often each word occurs in a document, the fields it occurs in, and the document's length."""
    counts = Counter(words(rest))
    length = counts.total()
    flags: dict[str, int] = {}
    for group, flag in (([title], TITLE), (topics, TOPIC), (sources, SOURCE)):
        for text in group:
            found = words(text)
            length += len(found)
            counts.update(found)
            for word in found:
                flags[word] = flags.get(word, 0) | flag
    return counts, flags, length


class SearchIndex:
    """The postings of every document, grouped into shards; built once, rendered file by file."""

    def __init__(self, site: Site, html_of: HtmlOf) -> None:
        self.site = site
        self.documents = files.document_count(site)
        self.shards = files.shard_count(self.documents)
        # term -> postings, each (id << 16 | weight); arrays, since a large site has millions.
        self.postings: dict[str, array[int]] = {}
        postings = self.postings
        total = 0
        for doc_id in range(self.documents):
            counts, flags, length = _term_frequencies(*_fields(site, doc_id, html_of))
            total += length
            base = doc_id << 16 | length_step(length) << 3
            for term, count in counts.items():
                found = postings.get(term)
                if found is None:
                    found = postings[term] = array("Q")
                found.append(base | min(count, _TF_LIMIT) << 8 | flags.get(term, 0))
        self.average_length = total / self.documents if self.documents else 0.0
        self._terms_of: dict[int, list[str]] = {}
        for term in sorted(self.postings):
            self._terms_of.setdefault(shard_of(term, self.shards), []).append(term)
        self._files: dict[str, bytes] = {}

    def term_shard(self, shard: int) -> bytes:
        parts = []
        for term in self._terms_of.get(shard, ()):
            encoded, previous = [], 0
            for posting in self.postings[term]:
                doc_id = posting >> 16
                encoded.append(f"{doc_id - previous},{posting & 0xFFFF}")
                previous = doc_id
            parts.append(f"{json.dumps(term, ensure_ascii=False)}:[{','.join(encoded)}]")
        return ("{" + ",".join(parts) + "}").encode("utf-8")

    def filter_ids(self, kind: str, value: str) -> list[int]:
        site = self.site
        if kind == "topic":
            indexes: Iterable[int] = site.topics[value]
        elif kind == "year":
            indexes = site.years[int(value)]
        else:
            publisher = next(p for p in site.publishers if p.slug == value)
            indexes = {i for article in publisher.articles for i in article.cited_by}
        return sorted(files.briefing_id(site, i) for i in indexes)

    def filter_file(self, kind: str, value: str) -> bytes:
        ids = self.filter_ids(kind, value)
        return _json([b - a for a, b in zip([0, *ids], ids, strict=False)])

    def meta(self) -> bytes:
        site = self.site
        digest = hashlib.blake2b(digest_size=8)
        for shard in range(self.shards):
            digest.update(self.file(files.term_file(shard)))
        return _json({
            "format": files.FORMAT,
            "documents": self.documents,
            "average_length": round(self.average_length, 3),
            "shards": self.shards,
            "version": digest.hexdigest(),
            "topics": [[slug, t.name] for slug, t in site.topic_names.items()],
            "publishers": [[p.slug, p.name] for p in site.publishers],
            "years": sorted(site.years, reverse=True),
        })

    def file(self, rel: str) -> bytes:
        found = self._files.get(rel)
        if found is None:
            found = self._files[rel] = self._render(rel)
        return found

    def _render(self, rel: str) -> bytes:
        if rel == files.META:
            return self.meta()
        if rel.startswith("search/terms/"):
            return self.term_shard(int(rel.rsplit("/", 1)[1].split(".")[0]))
        kind, value = rel[len("search/filters/"):-len(".json")].split("/", 1)
        return self.filter_file(kind, value)


class SearchFiles:
    """Renders the search index's files; the index itself is built on first need."""

    def __init__(self, site: Site, html_of: HtmlOf) -> None:
        self.site = site
        self.html_of = html_of
        self._index: SearchIndex | None = None

    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = SearchIndex(self.site, self.html_of)
        return self._index

    def prepare(self, specs: Iterable[PageSpec]) -> None:
        """Build the index now if any of these files needs it (before worker processes fork)."""
        if any(spec.kind in files.INDEX_KINDS for spec in specs):
            self.index()

    def render(self, spec: PageSpec) -> bytes:
        if spec.kind == "search_doc":
            return record(self.site, spec.args[0], self.html_of).as_json()
        return self.index().file(spec.rel)
