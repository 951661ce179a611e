"""View objects: what templates see. Built from the model, never the model itself."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import quote

from markupsafe import Markup, escape

from briefgen.content.markup import CONTENT_LINK_PREFIX, resolve_content_links
from briefgen.content.records import BriefingDoc, PageDoc, Source
from briefgen.content.slugs import make_slug
from briefgen.i18n.catalog import Catalog, direction_of
from briefgen.render.addresses import change_addresses
from briefgen.render.locators import compact
from briefgen.search.text import fold
from briefgen.site import urls
from briefgen.site.kinds import page_count
from briefgen.site.model import (
    Briefing,
    Page,
    Publisher,
    Site,
    Topic,
    publisher_slugs,
    related_of,
    source_citers,
)
from briefgen.site.urls import UrlScheme
from briefgen.weburl import ascii_url

WORDS_PER_MINUTE = 230


_FOOTNOTE_BACKREF = 'class="footnote-backref"'
# Python-Markdown's footnote link back, as content/markup.py's settings title it.
_BACKREF_TITLE = re.compile(r'(class="footnote-backref" href="#fnref:[^"]*") title="Back to reference (\d+)"')


def _under_base_path(html: str, base: str) -> str:
    """A text's root-relative addresses ("/img/card.png", "/2016/") as addresses on the site,
    under its base path: a site served at /news/ has its static image at /news/img/card.png. One
    written with the base path already, or of another host ("//cdn.example/x.js"), is left as it is."""

    def placed(address: str) -> str:
        on_site = address.startswith("/") and not address.startswith(("//", base))
        return base + address[1:] if on_site else address

    return change_addresses(html, placed)


def date_display(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def month_name(year: int, month: int) -> str:
    return dt.date(year, month, 1).strftime("%B")


def as_heading(text: str) -> str:
    """A text that begins a heading or a title, its first letter a capital: a date or a month
    reads "суббота, 2 марта" or "mars 2024" in a sentence, "Суббота" and "Mars" at its head."""
    return text[:1].upper() + text[1:]


def date_iso(value: dt.date) -> str:
    """A date or time as HTML's `datetime` attribute takes it: at most three digits of a second."""
    if isinstance(value, dt.datetime) and value.microsecond:
        return value.isoformat(timespec="milliseconds")
    return value.isoformat()


def language_tag(language: str) -> str:
    """The site's language as HTML's lang, XML's xml:lang and JSON Feed want it, a BCP 47 tag:
    subtags joined by hyphens ("pt_BR", as Babel and catalogs' file names have it, is "pt-BR")."""
    return language.replace("_", "-")


class SiteView(NamedTuple):
    title: str
    description: str
    language: str
    base_url: str
    base_path: str
    search: bool = True  # whether the site has a search page


class TopicRef(NamedTuple):
    name: str
    slug: str
    url: str


class BriefingSummary(NamedTuple):
    title: str
    url: str
    date: dt.datetime
    date_iso: str
    date_display: str
    summary: str
    topics: tuple[TopicRef, ...]
    draft: bool
    source_count: int
    # None when the briefing gives a date without a time of day.
    time_display: str | None = None
    day_iso: str = ""
    day_heading: str = ""
    reading_minutes: int = 1
    language: str | None = None  # the briefing's, where it is not the site's (a BCP 47 tag)
    direction: str | None = None  # of the briefing's language, with it: "ltr" or "rtl"


class DayGroup(NamedTuple):
    """Briefings of one day in a list, newest first."""

    day_iso: str
    heading: str
    items: tuple[BriefingSummary, ...]


class CitedPassage(NamedTuple):
    locator: str  # as written, e.g. "para. 6"
    text: str  # the archived paragraphs it names, cut to about 300 characters


class CitedSource(NamedTuple):
    number: int
    id: str
    title: str
    publisher: str
    publisher_url: str | None  # None when the publisher has no page (nothing of it is cited)
    url: str | None
    published_display: str | None
    published_iso: str | None
    authors: tuple[str, ...]
    archive_url: str | None
    cited: bool
    backrefs: tuple[str, ...]
    locators: tuple[str, ...]
    passages: tuple[CitedPassage, ...] = ()  # for locators into an archived copy, in locator order
    locators_display: str = ""  # sorted and merged: "paras. 1-3, 6"


class BriefingView(NamedTuple):
    title: str
    url: str
    date: dt.datetime
    date_iso: str
    date_display: str
    updated: dt.datetime | None
    updated_iso: str | None
    updated_display: str | None
    topics: tuple[TopicRef, ...]
    summary: str
    body_html: Markup
    sources: tuple[CitedSource, ...]
    curators: tuple[str, ...]
    extra: Mapping[str, Any]
    draft: bool
    word_count: int
    reading_minutes: int
    # "Updated" is worth showing only on a later day than the date.
    updated_shown: bool = False
    time_display: str | None = None
    related: tuple[BriefingSummary, ...] = ()
    image: str | None = None  # absolute URL
    json_ld: Markup = Markup()  # schema.org NewsArticle, safe inside <script>
    language: str | None = None  # the briefing's, where it is not the site's (a BCP 47 tag)
    direction: str | None = None  # of the briefing's language, with it: "ltr" or "rtl"


class PageView(NamedTuple):
    title: str
    url: str
    body_html: Markup
    extra: Mapping[str, Any]


class Pagination(NamedTuple):
    page: int
    pages: int
    total: int
    prev_url: str | None
    next_url: str | None
    first_url: str
    last_url: str


@dataclass(frozen=True)
class Link:
    """A link with a title, and a count where a list shows one."""

    title: str
    url: str
    count: int = 0


@dataclass(frozen=True)
class MonthEntry:
    """A month of the archive page, with its count of briefings."""

    year: int
    month: int
    name: str
    url: str
    count: int


@dataclass(frozen=True)
class YearEntry:
    """A year of the archive page, with its months."""

    year: int
    url: str
    count: int
    months: tuple[MonthEntry, ...]


@dataclass(frozen=True)
class PeriodView:
    """A date archive page's year, month or day."""

    kind: str
    title: str
    url: str
    count: int


@dataclass(frozen=True)
class TopicEntry:
    """A topic as the topic index and topic pages show it."""

    name: str
    slug: str
    url: str
    count: int
    feed_url: str
    description: Markup | None = None  # from content/topics/<slug>.md


class PublisherEntry(NamedTuple):
    name: str
    slug: str
    url: str
    article_count: int
    citation_count: int


class ArticleEntry(NamedTuple):
    id: str
    title: str
    url: str | None
    published_display: str | None
    published_iso: str | None
    authors: tuple[str, ...]
    archive_url: str | None
    cited_by: tuple[BriefingRef, ...]


class BriefingRef(NamedTuple):
    """A briefing as a list of the briefings citing an article names it: a publisher's page
    names thousands, and is rendered again only when one of these changes."""

    title: str
    url: str
    date_iso: str
    date_display: str
    draft: bool


class FeedLink(NamedTuple):
    title: str
    url: str
    type: str


def a_to_z(name: str) -> tuple[str, str]:
    """Where a name stands in an A-to-Z list: by its letters with accents and case folded as
    search folds them ("Économie" among the Es, "Østlandet" among the Os, not after Z), then
    by case alone."""
    return fold(name), name.casefold()


@dataclass
class Views:
    """Builds view objects for one site; summaries are made once and shared by all pages."""

    site: Site
    scheme: UrlScheme
    html_of: Callable[[BriefingDoc | PageDoc], str] = lambda doc: doc.body.html
    catalog: Catalog = field(default_factory=lambda: Catalog("en", formats={"date": "d MMMM y"}))
    site_title: str = ""
    site_image: str = ""
    topic_descriptions: Mapping[str, str] = field(default_factory=dict)  # slug -> HTML
    _summaries: dict[int, BriefingSummary] = field(default_factory=dict)
    # Rendering every page, a briefing's summary is shown about ten times (home, topic, day
    # and month pages, other briefings' related lists): made once, it is kept. Rendering a
    # few pages of a large site (a briefing added: every home page, each summary once), it
    # is not: at 50,000 briefings the kept summaries were 20 MB of the rendering process.
    keep_summaries: bool = True
    # With hold_summaries: the summaries kept, the least lately shown first, and how many at most.
    _recent: OrderedDict[int, BriefingSummary] | None = None
    _recent_limit: int = 0
    _topic_refs: dict[str, TopicRef] = field(default_factory=dict)
    # Shared by the summaries: a worker makes one of every briefing of a large site.
    _topic_tuples: dict[tuple[str, ...], tuple[TopicRef, ...]] = field(default_factory=dict)
    _day_isos: dict[dt.date, str] = field(default_factory=dict)
    _citers: dict[str, tuple[int, ...]] | None = None
    _publisher_slugs: frozenset[str] | None = None
    _topics: tuple[TopicEntry, ...] | None = None
    _busiest_topics: tuple[TopicEntry, ...] | None = None

    def href(self, rel: str) -> str:
        return self.scheme.href(rel)

    def topic_ref(self, slug: str) -> TopicRef:
        found = self._topic_refs.get(slug)
        if found is None:
            topic: Topic = self.site.topic_names[slug]
            found = self._topic_refs[slug] = TopicRef(topic.name, topic.slug, self.href(urls.topic(slug)))
        return found

    def topic_refs(self, slugs: tuple[str, ...]) -> tuple[TopicRef, ...]:
        found = self._topic_tuples.get(slugs)
        if found is None:
            found = self._topic_tuples[slugs] = tuple(self.topic_ref(s) for s in slugs)
        return found

    def day_iso(self, value: dt.datetime) -> str:
        day = value.date()
        found = self._day_isos.get(day)
        if found is None:
            found = self._day_isos[day] = day.isoformat()
        return found

    def date_display(self, value: dt.date) -> str:
        return self.catalog.date(value)

    def month_name(self, year: int, month: int) -> str:
        return self.catalog.month(month)

    def month_of_year(self, year: int, month: int) -> str:
        return self.catalog.month_of_year(year, month)

    def time_display(self, b: Briefing) -> str | None:
        return self.catalog.time(b.date) if isinstance(b.doc.date, dt.datetime) else None

    def absolute(self, url: str) -> str:
        """A URL as written in content or config (absolute, or a path on this site) made absolute,
        as it must be written in a page's head: other characters percent-encoded (a space, "ä")."""
        if "://" in url:
            try:
                return ascii_url(url)
            except ValueError:  # a malformed address (an IPv6 literal unclosed): as written
                return url
        return self.scheme.absolute(quote(url.lstrip("/"), safe="/%:@!$&'()*+,;=~"))

    def hold_summaries(self, limit: int) -> None:
        """Keep at most `limit` summaries, the least lately shown let go of first. A worker
        rendering every page of a large site shows each briefing's about four times, mostly
        close together; kept, every one was about 20 MB of each worker at 50,000 briefings."""
        self._recent = OrderedDict(self._summaries)
        while len(self._recent) > limit:
            self._recent.popitem(last=False)
        self._recent_limit = limit
        self._summaries = self._recent

    def summary(self, index: int) -> BriefingSummary:
        held = self._summaries
        cached = held.get(index)
        if cached is not None:
            if self._recent is not None:
                self._recent.move_to_end(index)
        else:
            b = self.site.briefings[index]
            cached = BriefingSummary(
                title=b.title, url=self.href(b.url), date=b.date, date_iso=date_iso(b.date),
                date_display=self.date_display(b.date), summary=b.summary,
                topics=self.topic_refs(b.topic_slugs), draft=b.draft,
                source_count=len(b.sources), time_display=self.time_display(b),
                day_iso=self.day_iso(b.date), day_heading=as_heading(self.catalog.day_heading(b.date)),
                reading_minutes=reading_minutes(b.body.word_count),
                language=(language := self._language_of(b)), direction=language and direction_of(language),
            )
            if self.keep_summaries:
                held[index] = cached
                if self._recent is not None and len(held) > self._recent_limit:
                    self._recent.popitem(last=False)
        return cached

    def reference(self, index: int) -> BriefingRef:
        b = self.site.briefings[index]
        return BriefingRef(b.title, self.href(b.url), date_iso(b.date), self.date_display(b.date), b.draft)

    def summaries(self, indexes: Sequence[int]) -> tuple[BriefingSummary, ...]:
        return tuple(self.summary(i) for i in indexes)

    @staticmethod
    def by_day(items: Sequence[BriefingSummary]) -> tuple[DayGroup, ...]:
        """Consecutive briefings of one day together, in the order given."""
        groups: list[DayGroup] = []
        for item in items:
            if groups and groups[-1].day_iso == item.day_iso:
                last = groups[-1]
                groups[-1] = DayGroup(last.day_iso, last.heading, (*last.items, item))
            else:
                groups.append(DayGroup(item.day_iso, item.day_heading, (item,)))
        return tuple(groups)

    def related(self, index: int) -> tuple[BriefingSummary, ...]:
        return self.summaries(related_of(self.site, index, self._source_citers))

    def _source_citers(self) -> dict[str, tuple[int, ...]]:
        if self._citers is None:
            self._citers = source_citers(self.site)
        return self._citers

    def body_html(self, html: str) -> Markup:
        if _FOOTNOTE_BACKREF in html:
            html = self._backrefs_in_language(html)
        base = self.scheme.base_path
        if base != "/":
            html = _under_base_path(html, base)
        if CONTENT_LINK_PREFIX not in html:
            return Markup(html)
        # Each link's URL made when met: a table of every content file's, made once, was
        # 50,000 URLs in each worker of a large site.
        url_of_path, href = self.site.url_of_path, self.href

        def url_of(path: str) -> str | None:
            url = url_of_path.get(path)
            return None if url is None else href(url)

        return Markup(resolve_content_links(html, url_of))

    def _paragraph_words(self) -> tuple[str, str]:
        text = self.catalog.text
        return text("para."), text("paras.")

    def _backrefs_in_language(self, html: str) -> str:
        """The footnotes' links back, titled in the site's language: the body, converted once
        for any language, names them in English (content/markup.py)."""
        text = self.catalog.text

        def titled(found: re.Match[str]) -> str:
            return f'{found.group(1)} title="{escape(text("Back to reference {n}", n=found.group(2)))}"'

        return _BACKREF_TITLE.sub(titled, html)

    def briefing(self, index: int, page: bool = False) -> BriefingView:
        """A briefing as its page (page=True: with related briefings and JSON-LD) or a feed shows it."""
        b: Briefing = self.site.briefings[index]
        image = b.doc.extra.get("image")
        image_url = self.absolute(image) if isinstance(image, str) and image else (
            self.absolute(self.site_image) if self.site_image else None)
        sources = self.cited_sources(b)
        view = BriefingView(
            title=b.title, url=self.href(b.url), date=b.date, date_iso=date_iso(b.date),
            date_display=self.date_display(b.date), updated=b.updated,
            updated_iso=date_iso(b.updated) if b.updated else None,
            updated_display=self.date_display(b.updated) if b.updated else None,
            topics=tuple(self.topic_ref(s) for s in b.topic_slugs), summary=b.summary,
            body_html=self.body_html(self.html_of(b.doc)), sources=sources,
            curators=b.doc.curators, extra=b.doc.extra, draft=b.draft,
            word_count=b.body.word_count,
            reading_minutes=reading_minutes(b.body.word_count),
            updated_shown=b.updated is not None and b.updated.date() > b.date.date(),
            time_display=self.time_display(b), related=self.related(index) if page else (),
            image=image_url,
            language=(language := self._language_of(b)), direction=language and direction_of(language),
        )
        return _with_json_ld(view, self._news_article(b, view)) if page else view

    def _language_of(self, b: Briefing) -> str | None:
        """A briefing's `language`, as a BCP 47 tag, where it names one other than the site's."""
        language = b.doc.extra.get("language")
        if not isinstance(language, str):
            return None
        tag = language_tag(language)
        return None if tag.casefold() == language_tag(self.catalog.language).casefold() else tag

    def _news_article(self, b: Briefing, view: BriefingView) -> dict[str, Any]:
        """schema.org NewsArticle: what search engines and readers' tools learn of a briefing."""
        publisher = {"@type": "Organization", "name": self.site_title, "url": self.scheme.absolute("")}
        data: dict[str, Any] = {
            "@context": "https://schema.org", "@type": "NewsArticle",
            "headline": b.title, "url": self.scheme.absolute(b.url),
            "datePublished": b.date.isoformat(),
            "dateModified": (b.updated or b.date).isoformat(),
            "inLanguage": view.language or language_tag(self.catalog.language), "description": b.summary,
            "author": [{"@type": "Person", "name": name} for name in b.doc.curators] or [publisher],
            "publisher": publisher,
        }
        if view.image:
            data["image"] = [view.image]
        if view.topics:
            data["keywords"] = [topic.name for topic in view.topics]
        citations = []
        for s in b.sources[: b.cited_count]:
            work: dict[str, Any] = {"@type": "CreativeWork", "name": s.title,
                                    "publisher": {"@type": "Organization", "name": s.publisher}}
            if s.url:
                work["url"] = s.url
            if s.published:
                work["datePublished"] = s.published.isoformat()
            if s.authors:
                work["author"] = [{"@type": "Person", "name": a} for a in s.authors]
            citations.append(work)
        if citations:
            data["citation"] = citations
        return data

    def website(self, description: str) -> Markup:
        """schema.org WebSite, for the home page."""
        return json_ld({"@context": "https://schema.org", "@type": "WebSite", "name": self.site_title,
                        "url": self.scheme.absolute(""), "description": description,
                        "inLanguage": language_tag(self.catalog.language)})

    def cited_sources(self, b: Briefing) -> tuple[CitedSource, ...]:
        backrefs: dict[str, list[str]] = {}
        locators: dict[str, list[str]] = {}
        numbers = {source.id: n for n, source in enumerate(b.sources, start=1)}
        for use in b.body.citations:
            refs = backrefs.setdefault(use.source_id, [])
            refs.append(f"cite-ref-{numbers.get(use.source_id, 0)}-{len(refs) + 1}")
            if use.locator and use.locator not in locators.setdefault(use.source_id, []):
                locators[use.source_id].append(use.locator)
        return tuple(
            self.cited_source(number, source, number <= b.cited_count,
                              backrefs.get(source.id, []), locators.get(source.id, []))
            for number, source in enumerate(b.sources, start=1)
        )

    def cited_source(self, number: int, s: Source, cited: bool, backrefs: Sequence[str],
                     locators: Sequence[str]) -> CitedSource:
        if self._publisher_slugs is None:
            self._publisher_slugs = publisher_slugs(self.site.publishers)
        # Only publishers with cited articles have a page.
        slug = make_slug(s.publisher)
        publisher_url = self.href(urls.publisher(slug)) if slug in self._publisher_slugs else None
        return CitedSource(
            number=number, id=s.id, title=s.title, publisher=s.publisher,
            publisher_url=publisher_url, url=s.url,
            published_display=self.date_display(s.published) if s.published else None,
            published_iso=date_iso(s.published) if s.published else None,
            authors=s.authors, archive_url=s.archive_url, cited=cited,
            backrefs=tuple(backrefs), locators=tuple(locators),
            locators_display=compact(locators, self._paragraph_words()),
            passages=tuple(CitedPassage(loc, self.site.passages[(s.id, loc)]) for loc in locators
                           if (s.id, loc) in self.site.passages),
        )

    def page(self, page: Page) -> PageView:
        return PageView(page.title, self.href(page.url), self.body_html(self.html_of(page.doc)),
                        page.doc.extra)

    def pagination(self, number: int, total: int, per_page: int,
                   rel_of: Callable[[int], str]) -> Pagination:
        pages = page_count(total, per_page)
        return Pagination(
            page=number, pages=pages, total=total,
            prev_url=self.href(rel_of(number - 1)) if number > 1 else None,
            next_url=self.href(rel_of(number + 1)) if number < pages else None,
            first_url=self.href(rel_of(1)), last_url=self.href(rel_of(pages)),
        )

    def years(self) -> tuple[YearEntry, ...]:
        months = self.site.months
        entries = []
        for year, indexes in sorted(self.site.years.items(), reverse=True):
            year_months = tuple(
                MonthEntry(y, m, as_heading(self.month_name(y, m)), self.href(urls.month(y, m)),
                           len(months[(y, m)]))
                for y, m in self.site.months_of_year[year]
            )
            entries.append(YearEntry(year, self.href(urls.year(year)), len(indexes), year_months))
        return tuple(entries)

    def topic_entry(self, slug: str) -> TopicEntry:
        ref = self.topic_ref(slug)
        described = self.topic_descriptions.get(slug)
        return TopicEntry(ref.name, slug, ref.url, len(self.site.topics[slug]),
                          self.scheme.absolute(urls.topic_feed(slug)),
                          self.body_html(described) if described else None)

    def topics(self) -> tuple[TopicEntry, ...]:
        # Once per site: every page of the home page gets them, and a site may have thousands.
        if self._topics is None:
            entries = [self.topic_entry(slug) for slug in self.site.topics]
            self._topics = tuple(sorted(entries, key=lambda t: (*a_to_z(t.name), t.slug)))
        return self._topics

    def busiest_topics(self) -> tuple[TopicEntry, ...]:
        """Every topic, the most briefings first; topics with as many stay in A-to-Z order."""
        if self._busiest_topics is None:
            self._busiest_topics = tuple(sorted(self.topics(), key=lambda t: t.count, reverse=True))
        return self._busiest_topics

    def publisher_entry(self, p: Publisher) -> PublisherEntry:
        return PublisherEntry(p.name, p.slug, self.href(urls.publisher(p.slug)), len(p.articles),
                              p.citing_briefings)

    def articles(self, p: Publisher) -> tuple[ArticleEntry, ...]:
        # A briefing citing several of the publisher's articles is named once; the names are
        # not kept past the page: across the publishers' pages they name every briefing.
        references: dict[int, BriefingRef] = {}

        def reference(index: int) -> BriefingRef:
            found = references.get(index)
            if found is None:
                found = references[index] = self.reference(index)
            return found

        return tuple(
            ArticleEntry(
                id=a.source.id, title=a.source.title, url=a.source.url,
                published_display=self.date_display(a.source.published) if a.source.published else None,
                published_iso=date_iso(a.source.published) if a.source.published else None,
                authors=a.source.authors, archive_url=a.source.archive_url,
                cited_by=tuple(reference(i) for i in a.cited_by),
            )
            for a in p.articles
        )


def reading_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def json_ld(data: Mapping[str, Any]) -> Markup:
    """A <script type="application/ld+json"> body: <, > and & as JSON escapes, so no text
    in it can end the script or read as markup."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _with_json_ld(view: BriefingView, data: Mapping[str, Any]) -> BriefingView:
    return view._replace(json_ld=json_ld(data))
