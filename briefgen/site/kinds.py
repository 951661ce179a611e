"""The kinds of file a site is made of, in one table.

Each kind says which template renders it, how its URL is made, and what of
the model it shows. Planning makes files of these kinds; rendering dispatches
on them; fingerprints digest exactly what `shows` returns; the live preview
finds the files an edit can change by asking which files show the edited
briefing. A rule about what a page depends on therefore lives here and only
here: a page is re-rendered exactly when something it shows has changed.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from briefgen.site import search_files, urls
from briefgen.site.model import Site, related_of, source_citers

FEED_SIZE = 20  # entries in each feed
# The Sources list, one partial for a briefing's page and its feed entries.
SOURCES_PARTIAL = "partials/sources.html"
SITEMAP_LIMIT = 50_000  # URLs per sitemap file, as the sitemap protocol allows


def page_count(total: int, per_page: int) -> int:
    """Pages a paginated list of `total` items needs; an empty list still has one page."""
    return max(1, math.ceil(total / per_page))


def page_slice(indexes: Sequence[int], number: int, per_page: int) -> Sequence[int]:
    """The items shown on page `number` (from 1) of a paginated list."""
    start = (number - 1) * per_page
    return indexes[start:start + per_page]


@dataclass(frozen=True, slots=True)
class Shows:
    """What of the model one file shows.

    `listed` are briefings shown as list entries (title, date, summary,
    topics: what a list shows of a briefing); `named` are briefings shown by
    title, link and date alone (who cites an article); `full` are briefings
    shown whole (text and sources: their own page, feed entries); `other` is
    anything else the file shows, as plain hashable data.
    """

    listed: Sequence[int] = ()
    named: Sequence[int] = ()
    full: Sequence[int] = ()
    other: Hashable = None
    every_briefing: bool = False  # shows every briefing in full (the search index)


@dataclass(frozen=True)
class PlanContext:
    """What `shows` may read besides the model: settings, the other planned files, and
    digests of the topic descriptions (content/topics/<slug>.md)."""

    site: Site
    per_page: int
    sitemap_entries: Callable[[int], Iterable[tuple[str, Any]]]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def citers(self) -> Mapping[str, tuple[int, ...]]:
        """Source id -> the briefings citing it; found once, for related briefings."""
        if "citers" not in self._memo:
            self._memo["citers"] = source_citers(self.site)
        found: Mapping[str, tuple[int, ...]] = self._memo["citers"]
        return found


ShowsRule = Callable[[PlanContext, tuple[Any, ...]], Shows]



@dataclass(frozen=True, eq=False)
class PageKind:
    """A kind of output file: its template, its URL rule and what it shows."""

    name: str
    template: str | None  # the HTML template; None for feeds, hosting files, theme and static files
    url: Callable[..., str] = field(repr=False)  # from URL arguments (slugs, numbers) to a site path
    shows: ShowsRule = field(repr=False)
    in_sitemap: bool = False
    paginated: bool = False  # `url` takes the page number as `page`
    # The arguments are only a record's place in the model (what it shows says the rest):
    # a briefing added before it moves the place, not the file.
    args_are_places: bool = False
    partials: tuple[str, ...] = ()  # templates it renders besides its own (a feed: the Sources list)

    def __reduce__(self) -> tuple[Callable[[str], PageKind], tuple[str]]:
        # Specs travel to worker processes by the thousand: send a kind by its name.
        return kind_named, (self.name,)


def kind_named(name: str) -> PageKind:
    return KINDS[name]


# -- what each kind shows ------------------------------------------------------


def _nothing(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    return Shows()


def _home(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    (number,) = args
    site = ctx.site
    every = range(len(site.briefings))
    topics = tuple((site.topic_names[s].name, len(ix)) for s, ix in site.topics.items())  # side column
    return Shows(listed=page_slice(every, number, ctx.per_page), other=(len(every), topics))


def _briefing(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    (index,) = args
    count = len(ctx.site.briefings)
    neighbours = tuple(i for i in (index - 1, index + 1) if 0 <= i < count)
    related = related_of(ctx.site, index, ctx.citers)
    # Neighbours and related briefings in one list; `other` says which is which.
    return Shows(listed=neighbours + related, full=(index,),
                 other=(index == 0, index == count - 1, len(neighbours)))


def _archive(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    return Shows(other=tuple((key, len(indexes)) for key, indexes in ctx.site.months.items()))


def _year(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    site = ctx.site
    return Shows(other=tuple((key, len(site.months[key])) for key in site.months_of_year[args[0]]))


def _month(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    site, month = ctx.site, (args[0], args[1])
    days = tuple((key, len(site.days[key])) for key in site.days_of_month[month])
    return Shows(listed=site.months[month], other=days)


def _day(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    return Shows(listed=ctx.site.days[(args[0], args[1], args[2])])


def _topics(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    site = ctx.site
    return Shows(other=tuple((site.topic_names[s], len(ix)) for s, ix in site.topics.items()))


def _topic(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    slug, number = args
    indexes = ctx.site.topics[slug]
    return Shows(listed=page_slice(indexes, number, ctx.per_page),
                 other=(ctx.site.topic_names[slug], len(indexes), ctx.descriptions.get(slug)))


def _topic_feed(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    (slug,) = args
    return Shows(full=ctx.site.topics[slug][:FEED_SIZE], other=ctx.site.topic_names[slug])


def _publisher(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    p = ctx.site.publishers[args[0]]
    # How many cite each article, not which places they hold in the model: a briefing added
    # before them moves those, not what the page shows.
    other = (p.name, p.slug, p.citing_briefings, tuple((a.source, len(a.cited_by)) for a in p.articles))
    return Shows(named=tuple(i for a in p.articles for i in a.cited_by), other=other)


def _sources(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    # Every publisher with its counts, and no briefing: an edit of what lists show of a
    # briefing leaves this page alone (and need not digest every citing briefing's listing).
    return Shows(other=tuple((p.name, p.slug, p.citing_briefings, len(p.articles))
                             for p in ctx.site.publishers))


def _page(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    page = ctx.site.pages[args[0]]
    links = tuple(ctx.site.url_of_path.get(link.target) for link in page.doc.body.links)
    return Shows(other=(page.doc.digest, links))


def _feed(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    return Shows(full=range(min(FEED_SIZE, len(ctx.site.briefings))))


def _sitemap(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    (parts,) = args
    return Shows(other=parts if parts > 1 else tuple(ctx.sitemap_entries(1)))


def _sitemap_part(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    return Shows(other=tuple(ctx.sitemap_entries(args[0])))


def _search_index(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    # Terms, filters and counts of every briefing and page.
    return Shows(every_briefing=True, other=tuple((p.doc.digest, p.url) for p in ctx.site.pages))


def _search_filter(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    # The documents of one topic, year or publisher: their search ids, not what they say. A
    # digest of them, not the numbers: a first build holds what each file shows until its
    # fingerprint is found (9 MB of numbers at 50,000 briefings).
    ids = array("i", search_files.filter_ids(ctx.site, args[0], args[1]))
    return Shows(other=hashlib.blake2b(ids.tobytes(), digest_size=16).hexdigest())


def _search_document(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    ref = search_files.doc_ref(ctx.site, args[0])
    if ref.kind == "briefing":
        return Shows(full=(ref.index,))
    page = ctx.site.pages[ref.index]
    return Shows(other=(page.doc.digest, page.url))


def _static(ctx: PlanContext, args: tuple[Any, ...]) -> Shows:
    return Shows(other=args)  # the file's bytes are digested where files are read


HOME = PageKind("home", "home.html", urls.home, _home, in_sitemap=True, paginated=True)
BRIEFING = PageKind("briefing", "briefing.html", urls.briefing, _briefing, in_sitemap=True,
                    args_are_places=True)
ARCHIVE = PageKind("archive", "archive.html", urls.archive, _archive, in_sitemap=True)
YEAR = PageKind("year", "period.html", urls.year, _year, in_sitemap=True)
MONTH = PageKind("month", "period.html", urls.month, _month, in_sitemap=True)
DAY = PageKind("day", "period.html", urls.day, _day, in_sitemap=True)
TOPICS = PageKind("topics", "topics.html", urls.topics, _topics, in_sitemap=True)
TOPIC = PageKind("topic", "topic.html", urls.topic, _topic, in_sitemap=True, paginated=True)
TOPIC_FEED = PageKind("topic_feed", None, urls.topic_feed, _topic_feed, partials=(SOURCES_PARTIAL,))
SOURCES = PageKind("sources", "sources.html", urls.sources, _sources, in_sitemap=True)
PUBLISHER = PageKind("publisher", "publisher.html", urls.publisher, _publisher, in_sitemap=True)
PAGE = PageKind("page", "page.html", urls.page, _page, in_sitemap=True, args_are_places=True)
NOT_FOUND = PageKind("404", "404.html", urls.not_found, _nothing)
FEED = PageKind("feed", None, urls.feed, _feed, partials=(SOURCES_PARTIAL,))
JSON_FEED = PageKind("json_feed", None, urls.json_feed, _feed, partials=(SOURCES_PARTIAL,))
SITEMAP = PageKind("sitemap", None, urls.sitemap, _sitemap)
SITEMAP_PART = PageKind("sitemap_part", None, urls.sitemap_part, _sitemap_part)
ROBOTS = PageKind("robots", None, urls.robots, _nothing)
SEARCH = PageKind("search", "search.html", lambda: search_files.PAGE, _nothing, in_sitemap=True)
SEARCH_META = PageKind("search_meta", None, lambda: search_files.META, _search_index)
SEARCH_TERMS = PageKind("search_terms", None, search_files.term_file, _search_index)
SEARCH_FILTER = PageKind("search_filter", None, search_files.filter_file, _search_filter)
SEARCH_DOC = PageKind("search_doc", None, search_files.doc_file, _search_document)
SEARCH_INDEX_KINDS = frozenset({SEARCH_META, SEARCH_TERMS, SEARCH_FILTER})
ASSET = PageKind("asset", None, str, _static)  # a theme file, under its content-hashed name
STATIC = PageKind("static", None, str, _static)  # a file of the site's static/, as it is

KINDS: dict[str, PageKind] = {kind.name: kind for kind in (
    HOME, BRIEFING, ARCHIVE, YEAR, MONTH, DAY, TOPICS, TOPIC, TOPIC_FEED, SOURCES, PUBLISHER, PAGE,
    NOT_FOUND, FEED, JSON_FEED, SITEMAP, SITEMAP_PART, ROBOTS, SEARCH, SEARCH_META, SEARCH_TERMS,
    SEARCH_FILTER, SEARCH_DOC, ASSET, STATIC,
)}
