"""The site model: every briefing placed in time, with its URL, topics and sources,
and the indexes (topics, periods, publishers) built once over the whole site.

Checks that span files (citations, links between files, duplicate sources)
run here, on the whole model, before anything is rendered.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import operator
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import overload

from briefgen.content.markup import Conversion
from briefgen.content.records import BriefingDoc, DateLike, PageDoc, Source
from briefgen.content.slugs import make_slug
from briefgen.diagnostics import Diagnostic, error, warning
from briefgen.site import urls
from briefgen.slots import quick_pickle
from briefgen.suggest import closest


@dataclass(frozen=True)
class Topic:
    """A topic's name and slug."""

    name: str
    slug: str


@quick_pickle
@dataclass(frozen=True, slots=True)
class Briefing:
    """A briefing as the site shows it: its parsed file, placed in time and on the site."""

    doc: BriefingDoc
    slug: str
    date: dt.datetime  # in the site's timezone
    updated: dt.datetime | None
    url: str  # site-relative
    topic_slugs: tuple[str, ...]  # names are in Site.topic_names
    summary: str
    sources: tuple[Source, ...]  # numbered order: cited first, then listed but not cited
    cited_count: int

    @property
    def path(self) -> str:
        return self.doc.path

    @property
    def title(self) -> str:
        return self.doc.title

    @property
    def body(self) -> Conversion:
        return self.doc.body

    @property
    def draft(self) -> bool:
        return self.doc.draft


@quick_pickle
@dataclass(frozen=True, slots=True)
class Page:
    """A standalone page as the site shows it."""

    doc: PageDoc
    slug: str
    url: str
    summary: str

    @property
    def title(self) -> str:
        return self.doc.title


@quick_pickle
@dataclass(frozen=True, slots=True)
class Article:
    """A cited source and the briefings (indexes into Site.briefings) that cite it."""

    source: Source
    cited_by: tuple[int, ...]


@dataclass(frozen=True)
class Publisher:
    """A publisher and its cited articles, each with the briefings citing it."""

    name: str
    slug: str
    articles: tuple[Article, ...]

    @property
    def citing_briefings(self) -> int:
        return len({index for article in self.articles for index in article.cited_by})


class KeptPublishers(Sequence[Publisher]):
    """Publishers as a kept build holds them (see build/snapshot.py): each one's slug and name
    at hand, its articles read when first asked for."""

    __slots__ = ()
    names: tuple[tuple[str, str], ...]  # each publisher's slug and name, in order


def publisher_names(publishers: Sequence[Publisher]) -> tuple[tuple[str, str], ...]:
    """Each publisher's slug and name, in order: what a page shows of publishers it does not
    list the articles of (whether a source's publisher has a page, the search's filters)."""
    if isinstance(publishers, KeptPublishers):
        return publishers.names
    return tuple((p.slug, p.name) for p in publishers)


def publisher_slugs(publishers: Sequence[Publisher]) -> frozenset[str]:
    """The publishers' slugs: each has a page, since a publisher is listed for its cited articles."""
    return frozenset(slug for slug, _ in publisher_names(publishers))


class BriefingRows(Sequence[Briefing]):
    """A site's briefings, read a row at a time when first asked for: an edit started
    from a kept build reads the rows of the pages it renders, not every briefing.
    `starts` are the indexes where rows begin (the first is 0); `read_row(number)` gives
    a row; `replaced` are briefings put in place of the ones read (edited since the rows
    were written); `modified`, each briefing's last-modified date as the rows have it
    (proleptic ordinals), which the sitemap shows of every briefing."""

    def __init__(self, count: int, starts: Sequence[int], read_row: Callable[[int], Sequence[Briefing]],
                 replaced: Mapping[int, Briefing] | None = None,
                 rows: dict[int, Sequence[Briefing]] | None = None,
                 modified: Sequence[int] | None = None) -> None:
        self._count = count
        self._starts = starts
        self._read_row = read_row
        self._replaced = dict(replaced or {})
        self._rows = rows if rows is not None else {}  # shared by replaced() copies
        self._modified = modified

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Briefing: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Briefing, ...]: ...

    def __getitem__(self, index: int | slice) -> Briefing | tuple[Briefing, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._count)))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        found = self._replaced.get(index)
        if found is not None:
            return found
        number = bisect.bisect_right(self._starts, index) - 1
        row = self._rows.get(number)
        if row is None:
            row = self._rows[number] = self._read_row(number)
        return row[index - self._starts[number]]

    def __iter__(self) -> Iterator[Briefing]:
        return (self[i] for i in range(self._count))

    def replaced(self, briefings: Mapping[int, Briefing]) -> BriefingRows:
        """These rows with some briefings put in place of theirs; the rows read are shared."""
        return BriefingRows(self._count, self._starts, self._read_row,
                            {**self._replaced, **briefings}, self._rows, self._modified)

    def modified_on_at(self, index: int) -> dt.date:
        if self._modified is None or index in self._replaced:
            return modified_on(self[index])
        return dt.date.fromordinal(self._modified[index])


def modified_on(briefing: Briefing) -> dt.date:
    """The day a briefing last changed: its date of update, else its date (a sitemap's lastmod)."""
    return (briefing.updated or briefing.date).date()


def modified_on_at(briefings: Sequence[Briefing], index: int) -> dt.date:
    """modified_on of briefing `index`; rows read from a kept build answer without reading it."""
    if isinstance(briefings, BriefingRows):
        return briefings.modified_on_at(index)
    return modified_on(briefings[index])


def with_replaced(briefings: Sequence[Briefing], replaced: Mapping[int, Briefing]) -> Sequence[Briefing]:
    """The briefings with some put in place of others (by index), reading no more rows than asked."""
    if isinstance(briefings, BriefingRows):
        return briefings.replaced(replaced)
    changed = list(briefings)
    for index, briefing in replaced.items():
        changed[index] = briefing
    return tuple(changed)


Passages = Mapping[tuple[str, str], str]  # (source id, locator) -> the archived text it points at


def with_passages(passages: Passages, changes: Mapping[tuple[str, str], str | None]) -> Passages:
    """The passages with these changes: a new text, or None for a locator no briefing uses now."""
    if not changes:
        return passages
    return {key: text for key, text in {**passages, **changes}.items() if text is not None}


@dataclass(frozen=True)
class Site:
    """The whole site's model: briefings, pages and every index over them."""

    briefings: Sequence[Briefing]  # newest first; a tuple, or rows read on demand (snapshot.py)
    pages: tuple[Page, ...]
    topics: Mapping[str, tuple[int, ...]]  # topic slug -> briefing indexes, newest first
    topic_names: Mapping[str, Topic]
    days: Mapping[tuple[int, int, int], tuple[int, ...]]
    months: Mapping[tuple[int, int], tuple[int, ...]]
    years: Mapping[int, tuple[int, ...]]
    # The archive's tree, newest first: which months a year has, which days a month.
    months_of_year: Mapping[int, tuple[tuple[int, int], ...]]
    days_of_month: Mapping[tuple[int, int], tuple[tuple[int, int, int], ...]]
    publishers: Sequence[Publisher]  # a tuple, or KeptPublishers
    url_of_path: Mapping[str, str]  # site-relative file path -> site-relative URL
    # (source id, locator) -> the archived passage a locator points at (see site/verify.py).
    passages: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # Each briefing's related briefings, when found ahead (see related_keys); None: found on demand.
    related: Sequence[tuple[int, ...]] | None = field(default=None, compare=False, repr=False)


_NOT_IN_REGISTRY = "is not in the source registry or this briefing's sources"
_DECLARED_NOWHERE = "is declared nowhere"


def declared_inline(source: Source) -> bool:
    """Whether a source was declared in a briefing's front matter, not in a registry: briefings
    are Markdown files, registries YAML, CSL-JSON or BibTeX (content/files.py)."""
    return source.path.endswith(".md")


def _unknown_hint(source_id: str, sources: Mapping[str, Source]) -> str:
    """Where an id a briefing may not use is declared, else the closest known id."""
    found = sources.get(source_id)
    if found is not None:
        return (f" (it is declared in {found.path}: declare it in this briefing's sources too, "
                f"or move it to a registry in content/sources/)")
    # Known sources only: one the briefing lists but nobody declares is no hint.
    close = closest(source_id, sources)
    return f" (did you mean {close!r}?)" if close else ""


def is_unknown_source(diagnostic: Diagnostic) -> bool:
    """Whether a problem is a source id found nowhere, which a broken registry explains."""
    return _NOT_IN_REGISTRY in diagnostic.message or _DECLARED_NOWHERE in diagnostic.message


def to_site_time(value: DateLike, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """Dates and naive times are in the site's timezone; times with an offset are converted."""
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def is_published(doc: BriefingDoc | PageDoc, now: dt.datetime, zone: zoneinfo.ZoneInfo,
                 drafts: bool, future: bool) -> bool:
    if doc.draft and not drafts:
        return False
    return future or not isinstance(doc, BriefingDoc) or to_site_time(doc.date, zone) <= now


def collect_sources(
    registry: Iterable[Source], briefings: Iterable[BriefingDoc]
) -> tuple[dict[str, Source], list[Diagnostic]]:
    """One id, one source: the same id declared with other fields is an error naming both."""
    known: dict[str, Source] = {}
    problems = []
    every = [*registry, *(s for doc in briefings for s in doc.inline_sources)]
    for source in every:
        first = known.setdefault(source.id, source)
        if first != source:
            problems.append(error(
                source.path, source.line, source.column,
                f"source id {source.id!r} is also declared at {first.place} with different fields",
            ))
    return known, problems


def build_site(
    briefing_docs: Sequence[BriefingDoc],
    page_docs: Sequence[PageDoc],
    sources: Mapping[str, Source],
    timezone: str,
    *,
    excluded_paths: Iterable[str] = (),
    unparsed_paths: Iterable[str] = (),
) -> tuple[Site, list[Diagnostic]]:
    """Place briefings in time and index them; briefing_docs are the ones to publish.
    `unparsed_paths` are content files whose errors left them out: a link to one is theirs."""
    zone = zoneinfo.ZoneInfo(timezone)
    problems: list[Diagnostic] = []
    topic_names: dict[str, Topic] = {}
    placed = []
    for doc in briefing_docs:
        briefing = place_briefing(doc, zone, sources, topic_names, problems)
        if briefing is not None:
            placed.append(briefing)
    # By the instant, not the clock: two times of one zone compare by their wall clocks, and the
    # hour repeated when clocks go back holds times in the other order.
    placed.sort(key=lambda b: (b.date.timestamp(), b.path), reverse=True)
    briefings = tuple(placed)

    pages = []
    for page_doc in sorted(page_docs, key=lambda d: d.path):
        slug = page_doc.slug
        if not slug:  # an error where its file is parsed (records._Checker.slug)
            continue
        summary = page_doc.summary or page_doc.body.first_paragraph
        pages.append(Page(page_doc, slug, urls.page(slug), summary))

    url_of_path = {b.path: b.url for b in briefings} | {p.doc.path: p.url for p in pages}
    problems += _check_links(
        [*(b.doc for b in briefings), *(p.doc for p in pages)], url_of_path, set(excluded_paths),
        set(unparsed_paths),
    )

    topics: dict[str, list[int]] = defaultdict(list)
    days: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    months: dict[tuple[int, int], list[int]] = defaultdict(list)
    years: dict[int, list[int]] = defaultdict(list)
    for index, briefing in enumerate(briefings):
        for topic_slug in briefing.topic_slugs:
            topics[topic_slug].append(index)
        date = briefing.date
        days[(date.year, date.month, date.day)].append(index)
        months[(date.year, date.month)].append(index)
        years[date.year].append(index)

    site = Site(
        briefings=briefings,
        pages=tuple(pages),
        topics={slug: tuple(topics[slug]) for slug in sorted(topics)},
        topic_names={slug: topic_names[slug] for slug in sorted(topics)},
        days={key: tuple(days[key]) for key in sorted(days)},
        months={key: tuple(months[key]) for key in sorted(months)},
        years={key: tuple(years[key]) for key in sorted(years)},
        months_of_year={y: tuple(k for k in sorted(months, reverse=True) if k[0] == y) for y in years},
        days_of_month=_days_of_month(days),
        publishers=_publishers(briefings),
        url_of_path=url_of_path,
    )
    return site, problems


def _days_of_month(
    days: Mapping[tuple[int, int, int], object],
) -> dict[tuple[int, int], tuple[tuple[int, int, int], ...]]:
    grouped: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
    for day in sorted(days, reverse=True):
        grouped[day[:2]].append(day)
    return {month: tuple(keys) for month, keys in grouped.items()}


def site_inputs(doc: BriefingDoc) -> tuple[object, ...]:
    """What the checks and indexes that span files read of a briefing, beyond its own record,
    the sources it cites and lists (cited_inputs) and what its archives' checks read
    (archive_inputs).

    Whether it is published, the names its topics give site-wide topics, the
    sources it declares (one id, one source across the site), and the files it
    links to. With these, its cited and archive inputs and its record
    (`place_briefing`) unchanged, an edit leaves the rest of the model as it was.
    """
    return (doc.draft, doc.topics, doc.inline_sources, tuple(link.target for link in doc.body.links))


def cited_inputs(doc: BriefingDoc) -> tuple[object, ...]:
    """The sources a briefing lists and the ids it cites (checked against every registry): the
    publishers' articles and related briefings follow from them."""
    return doc.source_ids, doc.body.cited_ids


def archive_inputs(doc: BriefingDoc) -> tuple[object, ...]:
    """What the checks against the archives of its sources read of a briefing (site/verify.py):
    its locators and its quotations."""
    return (doc.body.citations.located(),
            tuple((q.text, q.source_ids) for q in doc.body.quotations))


def place_briefing(
    doc: BriefingDoc, zone: zoneinfo.ZoneInfo, sources: Mapping[str, Source],
    topic_names: dict[str, Topic], problems: list[Diagnostic],
) -> Briefing | None:
    # A briefing whose title gives no slug, or a topic without letters or digits, is an error
    # where its file is parsed (records.parse_briefing), with the file's other problems.
    slug = doc.slug
    topics = []
    for name in doc.topics:
        topic_slug = make_slug(name)
        if not topic_slug:
            continue
        # Names that give one slug are one topic; the first in sort order names it.
        known = topic_names.get(topic_slug)
        if known is None or name < known.name:
            topic_names[topic_slug] = Topic(name, topic_slug)
        topics.append(topic_slug)

    # A briefing cites and lists the registry's sources and those it declares itself: one
    # declared inline in another briefing is not its own, or that briefing's becoming a draft
    # would break it.
    own = {source.id for source in doc.inline_sources}

    def usable(source_id: str) -> bool:
        source = sources.get(source_id)
        return source is not None and (source_id in own or not declared_inline(source))

    # Each use of a source declared nowhere, where it is written: looked for only when one is.
    if not all(map(usable, doc.body.cited_ids)):
        for use in doc.body.citations:
            if not usable(use.source_id):
                hint = _unknown_hint(use.source_id, sources)
                message = f"cited source {use.source_id!r} {_NOT_IN_REGISTRY}{hint}"
                problems.append(replace(error(doc.path, use.line, use.column, message),
                                        source_id=use.source_id))
    for source_id in doc.source_ids:
        if not usable(source_id):
            line, column = doc.positions.get("sources", (1, 1))
            message = f"listed source {source_id!r} {_DECLARED_NOWHERE}{_unknown_hint(source_id, sources)}"
            problems.append(replace(error(doc.path, line, column, message, item=("sources", source_id)),
                                    source_id=source_id))
    cited = [sid for sid in doc.body.cited_ids if usable(sid)]
    listed = [sid for sid in doc.source_ids if usable(sid) and sid not in cited]
    if not slug:
        return None
    date = to_site_time(doc.date, zone)
    return Briefing(
        doc=doc,
        slug=slug,
        date=date,
        updated=to_site_time(doc.updated, zone) if doc.updated else None,
        url=urls.briefing(date.date(), slug),
        topic_slugs=tuple(dict.fromkeys(topics)),
        summary=doc.summary or doc.body.first_paragraph,
        sources=tuple(sources[sid] for sid in [*cited, *listed]),
        cited_count=len(cited),
    )


def _check_links(
    docs: Iterable[BriefingDoc | PageDoc], url_of_path: Mapping[str, str], excluded: set[str],
    unparsed: set[str],
) -> list[Diagnostic]:
    problems = []
    for doc in docs:
        for link in doc.body.links:
            if link.target in url_of_path or link.target in unparsed:  # its own errors tell
                continue
            if link.target in excluded:
                problems.append(warning(
                    doc.path, link.line, link.column,
                    f"links to {link.target}, a draft or future briefing this build leaves out",
                ))
            else:
                problems.append(error(
                    doc.path, link.line, link.column,
                    f"links to {link.target}, which is not a briefing or page in content/",
                ))
    return problems


def _publishers(briefings: Sequence[Briefing]) -> tuple[Publisher, ...]:
    """The publishers of the cited sources. Every publisher has a slug: a source whose publisher
    has no letters or digits is an error where it is parsed (records._source)."""
    citing: dict[str, list[int]] = defaultdict(list)
    by_id: dict[str, Source] = {}
    for index, briefing in enumerate(briefings):
        for source in briefing.sources[: briefing.cited_count]:
            citing[source.id].append(index)
            by_id[source.id] = source
    grouped: dict[str, list[Article]] = defaultdict(list)
    names: dict[str, str] = {}
    for source_id in sorted(by_id):
        source = by_id[source_id]
        slug = make_slug(source.publisher)
        names.setdefault(slug, source.publisher)
        grouped[slug].append(Article(source, tuple(citing[source_id])))
    publishers = []
    for slug in sorted(grouped):
        articles = sorted(grouped[slug], key=lambda a: (a.source.published or dt.date.min, a.source.id),
                          reverse=True)
        publishers.append(Publisher(names[slug], slug, tuple(articles)))
    return tuple(publishers)


def cited_ids(briefing: Briefing) -> set[str]:
    return {source.id for source in briefing.sources[: briefing.cited_count]}


def recited_publishers(publishers: Sequence[Publisher], gained: Mapping[str, Iterable[int]],
                       lost: Mapping[str, Iterable[int]], sources: Mapping[str, Source]
                       ) -> tuple[tuple[Publisher, ...], set[int]] | None:
    """The publishers once some briefings came to cite sources (`gained`: source id -> their
    indexes) and others stopped (`lost`), as _publishers would find them afresh, and the indexes
    of the publishers that changed; None when a publisher would come, go or change its name,
    which changes the site's plan."""
    found = list(publishers)
    at_slug = {p.slug: at for at, p in enumerate(publishers)}
    at_source = {a.source.id: at for at, p in enumerate(publishers) for a in p.articles}
    changed: dict[int, set[str]] = defaultdict(set)
    for source_id in {*gained, *lost}:
        at = at_source.get(source_id)
        if at is None:
            at = at_slug.get(make_slug(sources[source_id].publisher))
            if at is None:
                return None
        changed[at].add(source_id)
    for at, source_ids in changed.items():
        articles = {a.source.id: a for a in found[at].articles}
        for source_id in source_ids:
            article = articles.get(source_id, Article(sources[source_id], ()))
            cited_by = sorted(set(article.cited_by).difference(lost.get(source_id, ())).union(
                gained.get(source_id, ())))
            if cited_by:
                articles[source_id] = Article(article.source, tuple(cited_by))
            else:
                articles.pop(source_id, None)
        if not articles:
            return None
        ordered = sorted(articles.values(), key=lambda a: (a.source.published or dt.date.min, a.source.id),
                         reverse=True)
        if articles[min(articles)].source.publisher != found[at].name:
            return None  # named by the source of the smallest id, as _publishers names it
        found[at] = Publisher(found[at].name, found[at].slug, tuple(ordered))
    return tuple(found), set(changed)


RELATED_LIMIT = 3
RELATED_WINDOW = 100


def source_citers(site: Site) -> dict[str, tuple[int, ...]]:
    """Source id -> the briefings (indexes, newest first) that cite it."""
    return {article.source.id: article.cited_by
            for publisher in site.publishers for article in publisher.articles}


def all_related(site: Site, indexes: range | None = None) -> tuple[tuple[int, ...], ...]:
    """The related briefings of every briefing, or of those whose indexes are given."""
    citers = source_citers(site)
    if indexes is None:
        indexes = range(len(site.briefings))
    return tuple(related_briefings(site, index, citers) for index in indexes)


RelatedKey = tuple[str, tuple[str, ...], tuple[str, ...]]  # a briefing's path, topics and cited sources


def related_keys(site: Site) -> tuple[RelatedKey, ...]:
    """What related briefings are found from, briefing by briefing, newest first: equal topics
    and cited sources, in the same order, give equal related briefings."""
    return tuple((b.doc.path, tuple(b.topic_slugs), tuple(s.id for s in b.sources[: b.cited_count]))
                 for b in site.briefings)


def updated_related(site: Site, keys: Sequence[RelatedKey], old_keys: Sequence[RelatedKey],
                    old_table: Sequence[tuple[int, ...]]) -> tuple[tuple[int, ...], ...] | None:
    """Every briefing's related briefings (`keys` are the site's related_keys), from the table of
    a site whose briefings had `old_keys`.

    A briefing's related are found among its neighbours in its topics and cited sources (see
    related_briefings): only those near one added, removed or changed, in a topic or source of
    its old or new key, can have other related briefings. Those are found again, the others'
    are renumbered. None when unchanged briefings changed order (a date edit), which moves them
    in every topic they are in.
    """
    old_index = {key[0]: j for j, key in enumerate(old_keys)}
    kept: list[int | None] = []  # new index -> old index, for an unchanged briefing
    changed_new: list[int] = []  # new indexes of briefings added or changed
    changed_old: list[int] = []  # old indexes of briefings removed or changed
    last = -1
    for i, key in enumerate(keys):
        j = old_index.pop(key[0], None)
        if j is not None and old_keys[j] == key:
            if j < last:
                return None
            last = j
            kept.append(j)
            continue
        kept.append(None)
        changed_new.append(i)
        if j is not None:
            changed_old.append(j)
    changed_old += old_index.values()  # briefings gone
    new_of_old = {j: i for i, j in enumerate(kept) if j is not None}
    citers = source_citers(site)
    again = _near(changed_new, keys, site.topics, citers)
    old_topics, old_citers = _members(old_keys, changed_old)
    again.update(new_of_old[j] for j in _near(changed_old, old_keys, old_topics, old_citers)
                 if j in new_of_old)
    table = []
    for i in range(len(keys)):
        j = kept[i]
        moved = None
        if j is not None and i not in again:
            moved = tuple(new_of_old.get(other, -1) for other in old_table[j])
        table.append(moved if moved is not None and -1 not in moved else related_briefings(site, i, citers))
    return tuple(table)


def _members(keys: Sequence[RelatedKey],
             of: Sequence[int]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """The briefings (indexes, in order) of each topic and cited source of the briefings `of`."""
    topics: dict[str, list[int]] = {t: [] for j in of for t in keys[j][1]}
    sources: dict[str, list[int]] = {s: [] for j in of for s in keys[j][2]}
    if topics or sources:
        for j, (_, slugs, cited) in enumerate(keys):
            for t in slugs:
                if t in topics:
                    topics[t].append(j)
            for s in cited:
                if s in sources:
                    sources[s].append(j)
    return topics, sources


def _near(changed: Sequence[int], keys: Sequence[RelatedKey], topics: Mapping[str, Sequence[int]],
          sources: Mapping[str, Sequence[int]]) -> set[int]:
    """The briefings within a window's reach of the `changed` ones in their topics and sources:
    the only ones whose window (_around) takes them in or leaves them out."""
    near: set[int] = set()
    for index in changed:
        _, slugs, cited = keys[index]
        for members in [*(topics.get(t, ()) for t in slugs), *(sources.get(s, ()) for s in cited)]:
            # A window is the RELATED_WINDOW members either side of its briefing: a member added
            # or removed farther away shifts the positions of all of them together, and changes none.
            near.update(_around(members, index))
    return near


def recited_related(before: Site, after: Site, moved: Mapping[int, Iterable[str]]
                    ) -> tuple[tuple[tuple[int, ...], ...] | None, set[int]]:
    """The related briefings table once the briefings `moved` (index -> the sources they came to
    cite or stopped citing) changed what they cite, and the briefings whose related briefings may
    have changed: those briefings, and those within a window of them among the citers of those
    sources, before and after (see _near). No table when `before` had none."""
    citers_before, citers_after = source_citers(before), source_citers(after)
    near = set(moved)
    for index, source_ids in moved.items():
        for source_id in source_ids:
            for members in (citers_before.get(source_id, ()), citers_after.get(source_id, ())):
                near.update(_around(members, index))
    if before.related is None:
        return None, near
    table = list(before.related)
    for index in near:
        table[index] = related_briefings(after, index, citers_after)
    return tuple(table), {index for index in near if table[index] != before.related[index]}


def related_of(site: Site, index: int,
               citers: Callable[[], Mapping[str, tuple[int, ...]]]) -> tuple[int, ...]:
    """A briefing's related briefings: from the table found ahead, or found now."""
    if site.related is not None:
        return site.related[index]
    return related_briefings(site, index, citers())


def _around(indexes: Sequence[int], index: int) -> Sequence[int]:
    """The RELATED_WINDOW indexes either side of `index` in a sorted sequence of them."""
    at = bisect.bisect_left(indexes, index)
    return indexes[max(0, at - RELATED_WINDOW): at + RELATED_WINDOW + 1]


def related_briefings(site: Site, index: int, citers: Mapping[str, tuple[int, ...]],
                      limit: int = RELATED_LIMIT) -> tuple[int, ...]:
    """Briefings that share the most with this one: a shared source counts twice a shared
    topic, since it means the same reporting; ties go to the newest.

    A topic, and the briefings citing a source, are looked at only around this briefing's
    place among them (RELATED_WINDOW briefings either side): a large archive's topics hold
    thousands of briefings, a wire story may be cited by hundreds, and scoring every one of
    them for every page made builds quadratic.
    """
    briefing = site.briefings[index]
    # Counter and plain tuples keep the counting and ranking in C: this runs for every page.
    scores: Counter[int] = Counter()
    for source in briefing.sources[: briefing.cited_count]:
        citing = _around(citers.get(source.id, ()), index)
        scores.update(citing)
        scores.update(citing)
    for topic_slug in briefing.topic_slugs:
        scores.update(_around(site.topics.get(topic_slug, ()), index))
    scores.pop(index, None)
    # Highest score first; indexes are newest first, so the smaller index wins a tie.
    ranked = heapq.nsmallest(limit, zip(map(operator.neg, scores.values()), scores.keys(), strict=True))
    return tuple(other for _, other in ranked)
