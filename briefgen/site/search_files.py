"""Which files the search index is made of, and where each lives under the output.

    search/                  the search page (HTML, from the theme's search.html)
    search/meta.json         counts, shard count, filter values and a version
    search/terms/N.json      term -> postings (see search/encoding.py), for the terms whose key
                             (search/text.py: shard_key) hashes to N
    search/docs/ID.json      one document: what a result shows, and its words as 16-bit units
                             (search/phrases.py)
    search/filters/K/S.json  the documents of one topic, publisher or year

Document ids put pages first, then briefings oldest first, so a new briefing
takes a new id at the end and the files of every other document stay as they
were. One added or deleted in the past moves the ids of every later one: their
postings move with them (search/indexing.py), and their files, rewritten under the new
ids, take their words from the files the last build wrote (index.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from briefgen.site.model import Site

FORMAT = 9  # of the files below; search.js reads this version
PAGE = "search/"
META = "search/meta.json"


def term_file(shard: int) -> str:
    return f"search/terms/{shard}.json"


def doc_file(doc_id: int) -> str:
    return f"search/docs/{doc_id}.json"


def filter_file(kind: str, value: str) -> str:
    return f"search/filters/{kind}/{value}.json"


def shard_count(documents: int) -> int:
    """A power of two, about one shard per eight documents, so shards stay small as a site grows.

    It changes only when the document count crosses a power of two.
    """
    count = 16
    while count * 8 < documents and count < 16384:
        count *= 2
    return count


@dataclass(frozen=True)
class DocRef:
    """What a search document is: a page or a briefing, by its index."""

    kind: str  # "page" or "briefing"
    index: int  # into Site.pages or Site.briefings


def document_count(site: Site) -> int:
    return len(site.pages) + len(site.briefings)


def doc_ref(site: Site, doc_id: int) -> DocRef:
    pages = len(site.pages)
    if doc_id < pages:
        return DocRef("page", doc_id)
    return DocRef("briefing", len(site.briefings) - 1 - (doc_id - pages))


def briefing_id(site: Site, index: int) -> int:
    return len(site.pages) + len(site.briefings) - 1 - index


def filter_members(site: Site, kind: str, value: str) -> tuple[int, ...]:
    """The briefings (indexes into Site.briefings) of one topic, year or publisher."""
    if kind == "topic":
        return site.topics[value]
    if kind == "year":
        return site.years[int(value)]
    return tuple(i for p in site.publishers if p.slug == value for a in p.articles for i in a.cited_by)


def filter_ids(site: Site, kind: str, value: str) -> list[int]:
    """The search ids of one topic's, year's or publisher's briefings, in order: its filter file."""
    last = briefing_id(site, 0)  # briefing_id(site, i) is last - i; a call each cost more than the rest
    return sorted({last - i for i in filter_members(site, kind, value)})
