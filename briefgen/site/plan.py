"""Every file of the built site, planned before anything is rendered.

The plan is plain data: a URL, what kind of page it is and the arguments that
pick its content. Rendering a spec is a pure function of the model, so any
page can be rendered alone, in any process, or skipped when its inputs are
unchanged. Two things that want one URL are found here, before any work.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from briefgen.diagnostics import Diagnostic, error
from briefgen.site import urls
from briefgen.site.model import Site


@dataclass(frozen=True)
class Origin:
    """Who wants a URL: a content file (with a position) or briefgen itself."""

    description: str
    path: str | None = None
    line: int = 1
    column: int = 1


@dataclass(frozen=True)
class PageSpec:
    rel: str
    kind: str
    args: tuple[Any, ...] = ()
    origin: Origin = Origin("briefgen")

    @property
    def output_file(self) -> str:
        return urls.output_file(self.rel)


HTML_KINDS = frozenset({"home", "briefing", "archive", "year", "month", "day", "topics", "topic",
                        "sources", "publisher", "page", "404", "search"})
SITEMAP_LIMIT = 50_000  # URLs per sitemap file, as the sitemap protocol allows


def sitemap_pages(specs: list[PageSpec]) -> list[PageSpec]:
    """The pages a sitemap lists: every HTML page but the 404 page."""
    return [s for s in specs if s.kind in HTML_KINDS and s.kind != "404"]


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def plan_site(site: Site, per_page: int, static_files: Iterable[str] = (),
              asset_outputs: Iterable[str] = (),
              extra: Iterable[PageSpec] = ()) -> tuple[list[PageSpec], list[Diagnostic]]:
    specs: list[PageSpec] = []
    add = specs.append
    for number in range(1, page_count(len(site.briefings), per_page) + 1):
        add(PageSpec(urls.home(number), "home", (number,), Origin("the home page")))
    for index, briefing in enumerate(site.briefings):
        line, column = briefing.doc.positions.get("slug", briefing.doc.positions.get("title", (1, 1)))
        add(PageSpec(briefing.url, "briefing", (index,), Origin(briefing.path, briefing.path, line, column)))
    add(PageSpec(urls.archive(), "archive", (), Origin("the archive page")))
    for year in site.years:
        add(PageSpec(urls.year(year), "year", (year,), Origin(f"the archive of {year}")))
    for y, m in site.months:
        add(PageSpec(urls.month(y, m), "month", (y, m), Origin(f"the archive of {y}-{m:02d}")))
    for y, m, d in site.days:
        add(PageSpec(urls.day(y, m, d), "day", (y, m, d), Origin(f"the archive of {y}-{m:02d}-{d:02d}")))
    add(PageSpec(urls.topics(), "topics", (), Origin("the topic index")))
    for slug, indexes in site.topics.items():
        for number in range(1, page_count(len(indexes), per_page) + 1):
            add(PageSpec(urls.topic(slug, number), "topic", (slug, number), Origin(f"topic {slug!r}")))
        add(PageSpec(urls.topic_feed(slug), "topic_feed", (slug,), Origin(f"the feed of topic {slug!r}")))
    add(PageSpec(urls.sources(), "sources", (), Origin("the sources index")))
    for index, publisher in enumerate(site.publishers):
        add(PageSpec(urls.publisher(publisher.slug), "publisher", (index,),
                     Origin(f"publisher {publisher.name!r}")))
    for index, page in enumerate(site.pages):
        line, column = page.doc.positions.get("slug", page.doc.positions.get("title", (1, 1)))
        add(PageSpec(page.url, "page", (index,), Origin(page.doc.path, page.doc.path, line, column)))
    add(PageSpec(urls.feed(), "feed", (), Origin("the Atom feed")))
    add(PageSpec(urls.json_feed(), "json_feed", (), Origin("the JSON feed")))
    specs += extra  # the search page and index files, planned by briefgen.search.files
    # Past the protocol's limit, sitemap.xml becomes an index of numbered parts.
    parts = max(1, math.ceil(len(sitemap_pages(specs)) / SITEMAP_LIMIT))
    add(PageSpec(urls.sitemap(), "sitemap", (parts,), Origin("the sitemap")))
    if parts > 1:
        for part in range(1, parts + 1):
            add(PageSpec(urls.sitemap_part(part), "sitemap_part", (part,), Origin("the sitemap")))
    add(PageSpec(urls.robots(), "robots", (), Origin("robots.txt")))
    add(PageSpec(urls.not_found(), "404", (), Origin("the 404 page")))
    for output in asset_outputs:
        add(PageSpec(output, "asset", (output,), Origin("the theme's static files")))
    for name in static_files:
        add(PageSpec(name, "static", (name,), Origin(f"static/{name}", f"static/{name}")))
    return specs, _collisions(specs)


def _collisions(specs: list[PageSpec]) -> list[Diagnostic]:
    """Two specs writing one file: report at the content file involved, naming both."""
    first: dict[str, PageSpec] = {}
    problems = []
    for spec in specs:
        key = spec.output_file
        other = first.setdefault(key, spec)
        if other is spec:
            continue
        here, there = (spec, other) if spec.origin.path else (other, spec)
        where = here.origin
        problems.append(error(
            where.path or "briefgen.toml", where.line, where.column,
            f"URL /{spec.rel} is wanted by both {here.origin.description} and {there.origin.description}",
        ))
    return problems
