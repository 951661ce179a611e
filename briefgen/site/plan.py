"""Every file of the built site, planned before anything is rendered.

The plan is plain data: a URL, what kind of page it is and the arguments that
pick its content. Rendering a spec is a pure function of the model, so any
page can be rendered alone, in any process, or skipped when its inputs are
unchanged. Two things that want one URL are found here, before any work.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, overload

from briefgen.diagnostics import Diagnostic, error
from briefgen.site import kinds, search_files, urls
from briefgen.site.kinds import SITEMAP_LIMIT, PageKind, PlanContext, page_count
from briefgen.site.model import Site, modified_on_at
from briefgen.slots import quick_pickle


@quick_pickle
@dataclass(frozen=True, slots=True)
class Origin:
    """Who wants a URL: a content file (with a position) or briefgen itself."""

    description: str
    path: str | None = None
    line: int = 1
    column: int = 1


@quick_pickle
@dataclass(frozen=True, slots=True)
class PageSpec:
    """One planned output file: its site path, its kind and the arguments its kind takes."""

    rel: str
    kind: PageKind
    args: tuple[Any, ...] = ()
    origin: Origin = Origin("briefgen")

    @property
    def output_file(self) -> str:
        return urls.output_file(self.rel)


# A spec as plain values (rel, kind name, args, origin's fields): a large site's plan
# unpickles in a fraction of the time as rows as it does as objects.
PlanRow = tuple[str, str, tuple[Any, ...], tuple[str, str | None, int, int]]


def plan_rows(specs: Iterable[PageSpec]) -> list[PlanRow]:
    return list(each_plan_row(specs))


def each_plan_row(specs: Iterable[PageSpec]) -> Iterator[PlanRow]:
    """plan_rows one at a time, for a holder that packs them as they come."""
    return ((s.rel, s.kind.name, s.args, (o.description, o.path, o.line, o.column))
            for s in specs for o in (s.origin,))


class Rows(Protocol):
    """Plan rows by position (a list, or rows kept packed): IndexError past the end."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> PlanRow: ...
    def __iter__(self) -> Iterator[PlanRow]: ...


class PlanRows(Sequence[PageSpec]):
    """A plan kept as rows (plan_rows), each made a spec when first asked for: an edit started
    from a kept build looks at the few files that show what it changed, not every file."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows
        self._specs: dict[int, PageSpec] = {}
        self._paths: dict[frozenset[str], list[tuple[str, str, tuple[Any, ...]]]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> PageSpec: ...
    @overload
    def __getitem__(self, index: slice) -> list[PageSpec]: ...

    def __getitem__(self, index: int | slice) -> PageSpec | list[PageSpec]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._rows)))]
        if index < 0:
            index += len(self._rows)
        spec = self._specs.get(index)
        if spec is None:
            rel, kind, args, origin = self._rows[index]  # IndexError past the end
            spec = self._specs[index] = PageSpec(rel, kinds.KINDS[kind], args, Origin(*origin))
        return spec

    def kind_and_args(self, index: int) -> tuple[str, tuple[Any, ...]]:
        """The kind's name and the arguments of a file, read from its row without making a spec."""
        spec = self._specs.get(index)
        if spec is not None:
            return spec.kind.name, spec.args
        _, kind, args, _ = self._rows[index]
        return kind, args

    def paths_and_args(self, kind_names: frozenset[str]) -> list[tuple[str, str, tuple[Any, ...]]]:
        """(path, kind name, arguments) of the files of these kinds, in order, read from the rows
        without making a spec of every file (an edit that changes the sitemap reads them all);
        found once: the fingerprint of each sitemap file and the one rendered ask again."""
        found = self._paths.get(kind_names)
        if found is None:
            found = self._paths[kind_names] = [(rel, kind, args) for rel, kind, args, _ in self._rows
                                               if kind in kind_names]
        return found


class PlanFiles(Sequence[str]):
    """The output files of a plan, made from its specs when asked; a file's place found by the
    specs' own paths (urls.paths_of_output_file), which the plan holds already, rather than a
    table of 141,803 output paths at 50,000 briefings."""

    def __init__(self, plan: Sequence[PageSpec]) -> None:
        self._plan = plan
        self._at: dict[str, int] | None = None

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [spec.output_file for spec in self._plan[index]]
        return self._plan[index].output_file

    def __len__(self) -> int:
        return len(self._plan)

    def __iter__(self) -> Iterator[str]:
        return (spec.output_file for spec in self._plan)

    def index(self, output_file: Any, start: int = 0, stop: int = sys.maxsize) -> int:
        if start or stop != sys.maxsize or not isinstance(output_file, str):
            return super().index(output_file, start, stop)
        at = self._at
        if at is None:
            at = self._at = {spec.rel: place for place, spec in enumerate(self._plan)}
        for rel in urls.paths_of_output_file(output_file):
            place = at.get(rel)
            if place is not None:
                return place
        raise ValueError(output_file)


def kind_and_args(specs: Sequence[PageSpec], index: int) -> tuple[str, tuple[Any, ...]]:
    """The kind's name and the arguments of a planned file: from a kept plan's row, without
    making its spec (see PlanRows)."""
    if isinstance(specs, PlanRows):
        return specs.kind_and_args(index)
    spec = specs[index]
    return spec.kind.name, spec.args


_IN_SITEMAP = frozenset(name for name, kind in kinds.KINDS.items() if kind.in_sitemap)


def _sitemap_pages(specs: Sequence[PageSpec]) -> Iterable[tuple[str, str, tuple[Any, ...]]]:
    """(path, kind name, arguments) of the pages a sitemap lists, in order: every HTML page but
    the 404 page. Made one by one from a plan's specs (a part names 50,000 of them)."""
    if isinstance(specs, PlanRows):
        return specs.paths_and_args(_IN_SITEMAP)
    return ((s.rel, s.kind.name, s.args) for s in specs if s.kind.in_sitemap)


def sitemap_entries(specs: Sequence[PageSpec], site: Site, part: int) -> Iterator[tuple[str, dt.date | None]]:
    """The site paths and last-modified dates that sitemap part `part` (from 1) lists, one by
    one: a part names 50,000 pages, and the one who asks holds only what it makes of them."""
    briefing = kinds.BRIEFING.name
    pages = _sitemap_pages(specs)
    for rel, kind, args in itertools.islice(pages, (part - 1) * SITEMAP_LIMIT, part * SITEMAP_LIMIT):
        yield rel, modified_on_at(site.briefings, args[0]) if kind == briefing else None


def plan_context(site: Site, per_page: int, specs: Sequence[PageSpec],
                 descriptions: Mapping[str, str] | None = None) -> PlanContext:
    return PlanContext(site, per_page, lambda part: sitemap_entries(specs, site, part), descriptions or {})


def plan_site(site: Site, per_page: int, static_files: Iterable[str] = (),
              asset_outputs: Iterable[str] = (), search: bool = False
              ) -> tuple[list[PageSpec], list[Diagnostic]]:
    # An edit in place (build/edits.py) finds some files by this order, and checks each kind it
    # finds: the sources index right before the publishers' pages, in the publishers' order;
    # the term shards in one run, in order; the publishers' search filters after the documents'
    # files and the topics' filters; the sitemap and its parts after every page.
    specs: list[PageSpec] = []

    def add(kind: PageKind, args: tuple[Any, ...], origin: Origin, *url_args: Any, **page: int) -> None:
        specs.append(PageSpec(kind.url(*url_args, **page), kind, args, origin))

    for number in range(1, page_count(len(site.briefings), per_page) + 1):
        add(kinds.HOME, (number,), Origin("the home page"), page=number)
    # A spec a briefing, and one a search document: made here rather than through `add`, at
    # 50,000 briefings a tenth of the plan's time. A briefing's URL is its record's, which the
    # model made as the kind makes it (urls.briefing).
    append = specs.append
    for index, briefing in enumerate(site.briefings):
        positions = briefing.doc.positions
        line, column = positions.get("slug") or positions.get("title") or (1, 1)
        origin = Origin(briefing.path, briefing.path, line, column)
        append(PageSpec(briefing.url, kinds.BRIEFING, (index,), origin))
    add(kinds.ARCHIVE, (), Origin("the archive page"))
    for year in site.years:
        add(kinds.YEAR, (year,), Origin(f"the archive of {year}"), year)
    for y, m in site.months:
        add(kinds.MONTH, (y, m), Origin(f"the archive of {y}-{m:02d}"), y, m)
    for y, m, d in site.days:
        add(kinds.DAY, (y, m, d), Origin(f"the archive of {y}-{m:02d}-{d:02d}"), y, m, d)
    add(kinds.TOPICS, (), Origin("the topic index"))
    for slug, indexes in site.topics.items():
        for number in range(1, page_count(len(indexes), per_page) + 1):
            add(kinds.TOPIC, (slug, number), Origin(f"topic {slug!r}"), slug, page=number)
        add(kinds.TOPIC_FEED, (slug,), Origin(f"the feed of topic {slug!r}"), slug)
    add(kinds.SOURCES, (), Origin("the sources index"))
    for index, publisher in enumerate(site.publishers):
        add(kinds.PUBLISHER, (index,), Origin(f"publisher {publisher.name!r}"), publisher.slug)
    for index, page in enumerate(site.pages):
        line, column = page.doc.positions.get("slug", page.doc.positions.get("title", (1, 1)))
        add(kinds.PAGE, (index,), Origin(page.doc.path, page.doc.path, line, column), page.slug)
    if search:
        _plan_search(site, add, append)
    add(kinds.FEED, (), Origin("the Atom feed"))
    add(kinds.JSON_FEED, (), Origin("the JSON feed"))
    # Past the protocol's limit, sitemap.xml becomes an index of numbered parts.
    parts = page_count(sum(1 for _ in _sitemap_pages(specs)), SITEMAP_LIMIT)
    add(kinds.SITEMAP, (parts,), Origin("the sitemap"))
    if parts > 1:
        for part in range(1, parts + 1):
            add(kinds.SITEMAP_PART, (part,), Origin("the sitemap"), part)
    add(kinds.ROBOTS, (), Origin("robots.txt"))
    add(kinds.NOT_FOUND, (), Origin("the 404 page"))
    for output in asset_outputs:
        add(kinds.ASSET, (output,), Origin("the theme's static files"), output)
    for name in static_files:
        add(kinds.STATIC, (name,), Origin(f"static/{name}", f"static/{name}"), name)
    return specs, _collisions(specs)


def _plan_search(site: Site, add: Callable[..., None], append: Callable[[PageSpec], None]) -> None:
    """The search page and the files of its index (see site/search_files.py); `append` adds a
    spec made whole, `add` one made from its kind."""
    add(kinds.SEARCH, (), Origin("the search page"))
    origin = Origin("the search index")
    add(kinds.SEARCH_META, (), origin)
    shards = search_files.shard_count(search_files.document_count(site))
    for shard in range(shards):
        add(kinds.SEARCH_TERMS, (shard, shards), origin, shard)
    doc_file, doc_kind = search_files.doc_file, kinds.SEARCH_DOC
    for doc_id in range(search_files.document_count(site)):
        append(PageSpec(doc_file(doc_id), doc_kind, (doc_id,), origin))
    values = [("topic", slug) for slug in site.topics]
    values += [("publisher", p.slug) for p in site.publishers] + [("year", str(y)) for y in site.years]
    for kind, value in values:
        add(kinds.SEARCH_FILTER, (kind, value), origin, kind, value)


def _collisions(specs: list[PageSpec]) -> list[Diagnostic]:
    """Two specs writing one file: report at the content file involved, naming both."""
    first: dict[str, PageSpec] = {}
    problems = []
    output_file = urls.output_file  # as PageSpec.output_file, one call a file rather than two
    for spec in specs:
        other = first.setdefault(output_file(spec.rel), spec)
        if other is spec:
            continue
        here, there = (spec, other) if spec.origin.path else (other, spec)
        where = here.origin
        problems.append(error(
            where.path or "briefgen.toml", where.line, where.column,
            f"URL /{spec.rel} is wanted by both {here.origin.description} and {there.origin.description}",
        ))
    return problems + _file_and_folder(specs, first)


def _file_and_folder(specs: list[PageSpec], files: dict[str, PageSpec]) -> list[Diagnostic]:
    """A file of static/ where the site needs a folder (static/about against the /about/ page),
    or a folder of static/ where it needs a file (static/feed.xml/x against the feed): reported
    at the static file, naming both. Only static/ can do either: every other file's path is
    one of the site's own shapes."""
    statics = [spec for spec in specs if spec.kind is kinds.STATIC]
    if not statics:
        return []
    folders: set[str] = set()  # every folder holding a file of the site
    for path in files:
        folder = path.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    problems = []
    for spec in statics:
        at = spec.origin.path or f"static/{spec.rel}"
        path = urls.output_file(spec.rel)
        if path in folders:
            inside = next(files[other] for other in sorted(files) if other.startswith(path + "/"))
            problems.append(error(at, 1, 1, f"{spec.origin.description} is a file where "
                                  f"the site needs a folder for {inside.origin.description} (/{inside.rel})"))
        folder = path.rpartition("/")[0]
        while folder:
            found = files.get(folder)
            if found is not None and found is not spec:
                problems.append(error(at, 1, 1,
                                      f"{spec.origin.description} needs a folder /{folder}/ where the site "
                                      f"has {found.origin.description} (/{found.rel})"))
                break
            folder = folder.rpartition("/")[0]
    return problems
