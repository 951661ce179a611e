"""Rendering one planned file to bytes: templates for pages, feeds, hosting files.

`Renderer.render(spec)` depends only on the model, the configuration and the
templates, so a page can be rendered alone (live preview, incremental builds)
and in any worker process that holds the same renderer.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import traceback
from collections import ChainMap
from collections.abc import Callable, Collection, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from briefgen.config import Config
from briefgen.content.records import BriefingDoc, PageDoc
from briefgen.content.topics import load_topic_descriptions
from briefgen.diagnostics import BuildFailed, Diagnostic, error
from briefgen.i18n.catalog import load_catalog
from briefgen.render import feeds
from briefgen.render.codegen import JoinedOutput
from briefgen.render.relative import relative_links
from briefgen.render.themes import Asset, Theme, asset_bytes, template_folders, template_syntax_problem
from briefgen.render.views import (
    FeedLink,
    Link,
    PeriodView,
    SiteView,
    Views,
    a_to_z,
    as_heading,
    language_tag,
)
from briefgen.search.index import SearchFiles
from briefgen.site import kinds, urls
from briefgen.site.kinds import FEED_SIZE, KINDS, SOURCES_PARTIAL, PageKind, page_slice
from briefgen.site.model import Site
from briefgen.site.plan import PageSpec, sitemap_entries
from briefgen.tomlkeys import locate_key

# Method names by page kind (names, not bound methods, so a renderer is no reference cycle).
_HANDLERS: dict[PageKind, str] = {
    kinds.HOME: "_home", kinds.BRIEFING: "_briefing", kinds.ARCHIVE: "_archive",
    kinds.YEAR: "_period", kinds.MONTH: "_period", kinds.DAY: "_period",
    kinds.TOPICS: "_topics", kinds.TOPIC: "_topic", kinds.SOURCES: "_sources",
    kinds.PUBLISHER: "_publisher", kinds.PAGE: "_page", kinds.NOT_FOUND: "_not_found",
    kinds.FEED: "_feed", kinds.JSON_FEED: "_json_feed", kinds.TOPIC_FEED: "_topic_feed",
    kinds.SITEMAP: "_sitemap", kinds.SITEMAP_PART: "_sitemap_part", kinds.ROBOTS: "_robots",
    kinds.SEARCH: "_search_page", kinds.SEARCH_META: "_search_file", kinds.SEARCH_TERMS: "_search_file",
    kinds.SEARCH_DOC: "_search_file", kinds.SEARCH_FILTER: "_search_file",
    kinds.ASSET: "_asset", kinds.STATIC: "_static",
}


_ATOM_ENTRIES_KEPT = 16 << 20  # characters of Atom entries a renderer keeps (each holds its briefing's body)


class _AtomEntries:
    """Atom entries by briefing index, the least recently used let go past _ATOM_ENTRIES_KEPT
    characters: bounded by size, since long briefings' entries are ten times short ones'."""

    def __init__(self) -> None:
        self._entries: dict[int, feeds.AtomEntry] = {}
        self._size = 0

    def get(self, index: int) -> feeds.AtomEntry | None:
        entry = self._entries.pop(index, None)
        if entry is not None:
            self._entries[index] = entry  # the most recently used last
        return entry

    def add(self, index: int, entry: feeds.AtomEntry) -> None:
        self._entries[index] = entry
        self._size += len(entry.xml)
        while self._size > _ATOM_ENTRIES_KEPT and len(self._entries) > 1:
            oldest = next(iter(self._entries))
            self._size -= len(self._entries.pop(oldest).xml)

    def without(self, indexes: Collection[int]) -> _AtomEntries:
        """A copy of these entries, less those of the briefings `indexes`."""
        other = _AtomEntries()
        other._entries = {index: entry for index, entry in self._entries.items() if index not in indexes}
        other._size = sum(len(entry.xml) for entry in other._entries.values())
        return other


class RenderError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


class _Globals(ChainMap[str, Any]):
    """A template's globals over the environment's, whose keys are a set made at once.

    Jinja compares the keys of an imported template's globals with the importing
    context's at every `{% from ... import %}`, which every item of a list runs: through
    a ChainMap's key view, that was a tenth of rendering a list page. Iterated, it goes over
    that set too."""

    def keys(self) -> set[str]:  # type: ignore[override]
        return set().union(*self.maps)

    def __iter__(self) -> Iterator[str]:
        # Jinja makes a set of a template's globals for each context it makes (every page, and
        # every include: each item of a list), by iterating them: through a ChainMap's own
        # __iter__, which merges its maps in Python, that was 4 % of rendering a page.
        return iter(self.keys())


class _Environment(jinja2.Environment):
    # Names what the filters Jinja runs as it compiles a template read (see Renderer): a
    # compiled template kept in the build cache is reused only by an environment that names
    # the same (see build.template_cache.TemplateCache).
    compiled_with: str = ""
    code_generator_class = JoinedOutput

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _Globals({} if d is None else d, self.globals)


def make_environment(config: Config, themes: Sequence[Theme],
                     bytecode: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """Templates from the site, then the theme chain; compiled templates are kept in
    `bytecode` (the build cache), so a process does not recompile unchanged ones."""
    search = template_folders(config, themes)
    return _Environment(
        bytecode_cache=bytecode,
        loader=jinja2.FileSystemLoader([str(p) for p in search if p.is_dir()]),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        # An environment lives for one build or one preview state; a changed template makes a
        # new one. Checking each template's file at every include would cost a stat each time.
        auto_reload=False,
        # A theme has a few dozen templates: kept in a plain dict, not an LRU cache whose
        # bookkeeping at every lookup cost as much as a small include's rendering.
        cache_size=-1,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _at_render(function: Callable[..., str]) -> Callable[..., str]:
    """`function` as a filter that Jinja calls when a page is rendered, whatever its arguments:
    given constants (`'home' | url_for`), a plain filter is called once, as the template is
    compiled, and its result kept in the compiled template."""

    @jinja2.pass_context
    def at_render(context: jinja2.runtime.Context, value: Any, *args: Any, **kwargs: Any) -> str:
        return function(value, *args, **kwargs)

    return at_render


def _missing_stylesheet(config: Config, css: str) -> Diagnostic:
    """site.extra_css names a file neither the site's static/ nor the theme's holds."""
    try:
        line, column = locate_key(config.config_path.read_text(encoding="utf-8-sig"), "site", "extra_css")
    except (OSError, UnicodeDecodeError):
        line, column = 1, 1
    shown = config.config_path.relative_to(config.root).as_posix() if config.config_path.is_relative_to(
        config.root) else str(config.config_path)
    return error(shown, line, column, f"site.extra_css: {css!r} is not in the site's static/ folder "
                                      f"(nor the theme's)")


class Renderer:
    def __init__(self, config: Config, site: Site, env: jinja2.Environment,
                 assets: dict[str, Asset], plan: Sequence[PageSpec],
                 html_of: Callable[[BriefingDoc | PageDoc], str] = lambda doc: doc.body.html,
                 catalogs_tried: bool = False) -> None:
        """`catalogs_tried`: the theme's catalogs are those a full build read and checked (see
        load_catalog's `try_formats`)."""
        self.config = config
        self.site = site
        self.env = env
        self.assets = assets
        self.plan = plan
        self.html_of = html_of
        self.scheme = urls.UrlScheme(config.site.base_url)
        searchpath = getattr(env.loader, "searchpath", [])
        catalog, problems = load_catalog(config.site.language, [Path(p) for p in searchpath], config.root,
                                         try_formats=not catalogs_tried)
        if problems:
            raise BuildFailed(problems)
        self.catalog = catalog
        descriptions, problems = load_topic_descriptions(config.content_dir, config.root)
        if problems:
            raise BuildFailed(problems)
        missing = [css for css in config.site.extra_css
                   if css not in assets and not (config.static_dir / css).is_file()]
        if missing:
            raise BuildFailed([_missing_stylesheet(config, css) for css in missing])
        self._view_options: dict[str, Any] = {
            "catalog": catalog, "site_title": config.site.title, "site_image": config.site.image,
            "topic_descriptions": {slug: d.html for slug, d in descriptions.items()},
        }
        self.views = Views(site, self.scheme, html_of, **self._view_options)
        self.site_view = SiteView(config.site.title, config.site.description,
                                  language_tag(config.site.language),
                                  config.site.base_url, self.scheme.base_path, config.site.search)
        # What every template may read, as globals rather than render variables: a template
        # imported without context sees them too, and Jinja then keeps one copy of its module
        # instead of running it again at every import (every briefing of a list imports the
        # macros). They are the same for every page the environment renders.
        env.globals.update(site=self.site_view, url_for=self.url_for, i18n=catalog, t=catalog.text)
        # The same two as filters, `{{ "Home" | t }}` and `{{ 'home' | url_for }}`: Jinja calls a
        # filter directly, a function through the context's call (1.5 us more each), and the
        # default theme's chrome alone makes two dozen such calls on every page. Given a
        # constant, `t` is run once, as the template is compiled, and its result kept in the
        # compiled template: so the catalog names what a compiled template was made with.
        # `url_for` runs at render time: what it reads (hashed names of static files, the
        # base URL, which static files exist) is more than a compiled template should name.
        env.filters.update(t=catalog.text, url_for=_at_render(self.url_for))
        if isinstance(env, _Environment):
            env.compiled_with = hashlib.blake2b(repr(catalog).encode(), digest_size=16).hexdigest()
        self.nav_pages = tuple(self.views.page(p) for p in site.pages)
        self.search = SearchFiles(site, html_of, self.catalog.date, self.catalog.made_with())
        self._feed_entries_kept: dict[int, feeds.FeedEntry] = {}
        self._atom_entries_kept = _AtomEntries()
        self._json_items_kept: dict[int, feeds.JsonItem] = {}


    def for_site(self, site: Site, changed_briefings: Collection[int] | None = None) -> Renderer:
        """This renderer for another model of the same site (the live preview after an edit):
        templates, catalogs and topic descriptions are kept, not read again. When given,
        changed_briefings are the only briefings whose records differ."""
        other = copy.copy(self)
        other.site = site
        other.views = Views(site, self.scheme, self.html_of, **self._view_options)
        other.nav_pages = tuple(other.views.page(p) for p in site.pages)
        other.search = SearchFiles(site, self.html_of, self.catalog.date, self.catalog.made_with())
        other.search.follow(self.search, changed_briefings)
        other._feed_entries_kept = {}
        # A briefing's feed entries show what its page does (see Fingerprints.full), which only
        # the changed briefings' records can change: the live preview's next save of a briefing
        # makes its feeds again with the other entries as they were.
        if changed_briefings is None:
            other._atom_entries_kept, other._json_items_kept = _AtomEntries(), {}
        else:
            changed = frozenset(changed_briefings)
            other._atom_entries_kept = self._atom_entries_kept.without(changed)
            other._json_items_kept = {index: item for index, item in self._json_items_kept.items()
                                      if index not in changed}
        return other

    # -- dispatch -------------------------------------------------------------

    def render(self, spec: PageSpec) -> bytes:
        handler: Callable[[PageSpec], bytes] = getattr(self, _HANDLERS[spec.kind])
        return handler(spec)

    def url_for(self, name: Any, *args: Any, absolute: bool = False, page: int = 1) -> str:
        if hasattr(name, "url"):
            href = str(name.url)
            return self._origin() + href if absolute and href.startswith("/") else href
        rel = self._rel_for(str(name), args, page)
        return self.scheme.absolute(rel) if absolute else self.scheme.href(rel)

    def _extra_css(self, css: str) -> str:
        """A stylesheet of site.extra_css: the site's own, from its static/ folder, even where
        the theme has one of that name (which url_for('static', ...) gives first)."""
        if (self.config.static_dir / css).is_file():
            return self.scheme.href(css)
        return self.url_for("static", css)

    def _rel_for(self, name: str, args: tuple[Any, ...], page: int) -> str:
        if name == "static":
            asset = self.assets.get(str(args[0]))
            if asset is not None:
                return asset.output
            if (self.config.static_dir / str(args[0])).is_file():
                return str(args[0])
            raise KeyError(f"url_for('static', {args[0]!r}): no such file in the theme's or site's static/")
        kind = KINDS.get(name)
        if kind is None or kind in (kinds.ASSET, kinds.STATIC):
            raise KeyError(f"url_for: unknown name {name!r}")
        return kind.url(*args, page=page) if kind.paginated else kind.url(*args)

    # -- templates ------------------------------------------------------------

    def _template(self, name: str, spec: PageSpec, page_title: str | None, description: str,
                  extra_feeds: Sequence[FeedLink] = (), **context: Any) -> bytes:
        feeds_list = [
            FeedLink(f"{self.config.site.title} (Atom)", self.scheme.absolute(urls.feed()),
                     "application/atom+xml"),
            FeedLink(f"{self.config.site.title} (JSON Feed)", self.scheme.absolute(urls.json_feed()),
                     "application/feed+json"),
            *extra_feeds,
        ]
        kind = "period" if spec.kind in (kinds.YEAR, kinds.MONTH, kinds.DAY) else spec.kind.name
        html = self._render(
            name, page_kind=kind,
            canonical_url=self.scheme.absolute(spec.rel), page_title=page_title,
            page_description=description or self.config.site.description,
            nav_pages=self.nav_pages, feeds=feeds_list, by_day=self.views.by_day,
            site_image=self.views.absolute(self.config.site.image) if self.config.site.image else None,
            extra_css=tuple(self._extra_css(css) for css in self.config.site.extra_css),
            extra_head=Markup(self.config.site.extra_head), **context,
        )
        if self.config.build.relative_urls:
            html = relative_links(html, spec.rel, self.scheme.base_path)
        return html.encode("utf-8")

    def _render(self, name: str, **context: Any) -> str:
        """Render a template with what every template gets; a failure is a located error."""
        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(template_syntax_problem(self._shown(exc.filename or name), exc.lineno,
                                                      exc.message or "")) from None
        except jinja2.TemplateNotFound as exc:
            # At the include, import or extends that names it, when a template did.
            message = f"template {exc.name!r} not found in the site or theme"
            for frame in reversed(traceback.extract_tb(exc.__traceback__)):
                if frame.filename.endswith((".html", ".xml", ".htm")):
                    at = self._shown(frame.filename)
                    raise RenderError(error(at, frame.lineno or 1, 1, message)) from None
            raise RenderError(error(self._shown(name), 1, 1, message)) from None
        except Exception as exc:  # any failure inside a template: report where it happened
            raise RenderError(self._template_failure(exc, name)) from None

    def _shown(self, filename: str) -> str:
        path = Path(filename)
        try:
            return path.resolve().relative_to(self.config.root).as_posix()
        except ValueError:
            return str(path)

    def _template_failure(self, exc: Exception, name: str) -> Diagnostic:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith((".html", ".xml", ".htm")):
                return error(self._shown(frame.filename), frame.lineno or 1, 1,
                             f"template failed: {type(exc).__name__}: {exc}")
        return error(name, 1, 1, f"template failed: {type(exc).__name__}: {exc}")

    def _per_page(self) -> int:
        return self.config.build.per_page

    def _page_of(self, indexes: Sequence[int], number: int) -> Sequence[int]:
        return page_slice(indexes, number, self._per_page())

    def _home(self, spec: PageSpec) -> bytes:
        (number,) = spec.args
        indexes = range(len(self.site.briefings))
        pagination = self.views.pagination(number, len(indexes), self._per_page(), urls.home)
        title = None if number == 1 else self.catalog.text("Page {n}", n=number)
        latest = self.views.summaries(range(min(5, len(self.site.briefings))))
        return self._template("home.html", spec, title, self.config.site.description,
                              briefings=self.views.summaries(self._page_of(indexes, number)),
                              pagination=pagination, topics=self.views.topics(),
                              busiest_topics=self.views.busiest_topics(), latest=latest,
                              json_ld=self.views.website(self.config.site.description))

    def _briefing(self, spec: PageSpec) -> bytes:
        (index,) = spec.args
        briefings = self.site.briefings
        view = self.views.briefing(index, page=True)
        older = self.views.summary(index + 1) if index + 1 < len(briefings) else None
        newer = self.views.summary(index - 1) if index > 0 else None
        return self._template("briefing.html", spec, view.title, view.summary,
                              briefing=view, prev=older, next=newer)

    def _archive(self, spec: PageSpec) -> bytes:
        t = self.catalog.text
        return self._template("archive.html", spec, t("Archive"), t("All briefings by year and month"),
                              years=self.views.years())

    def _period(self, spec: PageSpec) -> bytes:
        views, site = self.views, self.site
        date_display = views.date_display

        def month_of_year(year: int, month: int) -> str:
            return as_heading(views.month_of_year(year, month))

        in_sentence = None  # the period's name inside a sentence, where it differs from its title
        if spec.kind is kinds.YEAR:
            (y,) = spec.args
            count = len(site.years[y])
            period = PeriodView("year", str(y), views.href(urls.year(y)), count)
            parent = None
            children = [
                Link(month_of_year(y, m), views.href(urls.month(y, m)), len(site.months[(y, m)]))
                for _, m in site.months_of_year[y]
            ]
            briefings: Sequence[int] = ()
        elif spec.kind is kinds.MONTH:
            y, m = spec.args
            indexes = site.months[(y, m)]
            period = PeriodView("month", month_of_year(y, m), views.href(urls.month(y, m)), len(indexes))
            in_sentence = views.month_of_year(y, m)
            parent = Link(str(y), views.href(urls.year(y)))
            children = [
                Link(date_display(dt.date(*key)), views.href(urls.day(*key)), len(site.days[key]))
                for key in site.days_of_month[(y, m)]
            ]
            briefings = indexes
        else:
            y, m, d = spec.args
            indexes = site.days[(y, m, d)]
            period = PeriodView("day", date_display(dt.date(y, m, d)), views.href(urls.day(y, m, d)),
                                  len(indexes))
            parent = Link(month_of_year(y, m), views.href(urls.month(y, m)))
            children = []
            briefings = indexes
        return self._template("period.html", spec, period.title,
                              self.catalog.text("Briefings of {period}", period=in_sentence or period.title),
                              period=period, parent=parent, children=tuple(children),
                              briefings=views.summaries(briefings))

    def _topics(self, spec: PageSpec) -> bytes:
        t = self.catalog.text
        return self._template("topics.html", spec, t("Topics"), t("All topics with their briefings"),
                              topics=self.views.topics())

    def _topic(self, spec: PageSpec) -> bytes:
        slug, number = spec.args
        indexes = self.site.topics[slug]
        topic = self.views.topic_entry(slug)
        pagination = self.views.pagination(number, len(indexes), self._per_page(),
                                           lambda n: urls.topic(slug, n))
        title = topic.name if number == 1 else self.catalog.text("{topic}, page {n}", topic=topic.name,
                                                                      n=number)
        feed = FeedLink(f"{topic.name} ({self.config.site.title})", topic.feed_url, "application/atom+xml")
        return self._template("topic.html", spec, title,
                              self.catalog.text("Briefings on {topic}", topic=topic.name),
                              extra_feeds=[feed], topic=topic, pagination=pagination,
                              briefings=self.views.summaries(self._page_of(indexes, number)))

    def _sources(self, spec: PageSpec) -> bytes:
        publishers = sorted((self.views.publisher_entry(p) for p in self.site.publishers),
                            key=lambda p: (*a_to_z(p.name), p.slug))
        t = self.catalog.text
        return self._template("sources.html", spec, t("Sources"), t("Publishers cited in the briefings"),
                              publishers=tuple(publishers))

    def _publisher(self, spec: PageSpec) -> bytes:
        (index,) = spec.args
        publisher = self.site.publishers[index]
        return self._template("publisher.html", spec, publisher.name,
                              self.catalog.text("Articles from {publisher} cited in the briefings",
                                                publisher=publisher.name),
                              publisher=self.views.publisher_entry(publisher),
                              articles=self.views.articles(publisher))

    def _page(self, spec: PageSpec) -> bytes:
        (index,) = spec.args
        page = self.site.pages[index]
        return self._template("page.html", spec, page.title, page.summary, page=self.views.page(page))

    def _not_found(self, spec: PageSpec) -> bytes:
        t = self.catalog.text
        return self._template("404.html", spec, t("Page not found"), t("This page does not exist."))

    # -- feeds and hosting files ----------------------------------------------

    def _origin(self) -> str:
        """Scheme and host of the base URL, to make root-relative links absolute."""
        return self.config.site.base_url[: -len(self.scheme.base_path)]

    def _feed_entry(self, index: int) -> feeds.FeedEntry:
        """A briefing as feeds carry it. The last few are kept: the site's Atom and JSON feeds
        carry the same newest briefings."""
        kept = self._feed_entries_kept
        found = kept.get(index)
        if found is None:
            view = self.views.briefing(index)
            url = self.scheme.absolute(self.site.briefings[index].url)
            found = feeds.FeedEntry(view, url, self._render(SOURCES_PARTIAL, briefing=view, in_feed=True))
            if len(kept) >= FEED_SIZE:
                del kept[next(iter(kept))]  # the oldest kept
            kept[index] = found
        return found

    def _atom_entries(self, indexes: Sequence[int]) -> list[feeds.AtomEntry]:
        """The Atom entries of the first FEED_SIZE briefings of `indexes`. A briefing is in the
        feeds of most of its topics: its entry is kept (see _AtomEntries) rather than made again."""
        kept = self._atom_entries_kept
        found = []
        for index in indexes[:FEED_SIZE]:
            entry = kept.get(index)
            if entry is None:
                entry = feeds.atom_entry(self._feed_entry(index))
                kept.add(index, entry)
            found.append(entry)
        return found

    def keep_atom_entries(self, entries: Mapping[int, feeds.AtomEntry]) -> None:
        """Take these entries, by briefing index, for the Atom feeds to carry rather than make them:
        entries an earlier build made of briefings whose records are as they were then."""
        for index, entry in entries.items():
            self._atom_entries_kept.add(index, entry)

    def keep_json_items(self, items: Mapping[int, feeds.JsonItem]) -> None:
        """As keep_atom_entries, for the JSON Feed's items (which carries the newest briefings)."""
        self._json_items_kept.update(items)

    def _feed_info(self, title: str, rel: str, home_rel: str) -> feeds.FeedInfo:
        s = self.config.site
        return feeds.FeedInfo(title, s.description, language_tag(s.language), self.scheme.absolute(home_rel),
                              self.scheme.absolute(rel), s.title)

    def _feed(self, spec: PageSpec) -> bytes:
        info = self._feed_info(self.config.site.title, spec.rel, urls.home())
        return feeds.atom_feed(info, self._atom_entries(range(len(self.site.briefings))))

    def _json_feed(self, spec: PageSpec) -> bytes:
        info = self._feed_info(self.config.site.title, spec.rel, urls.home())
        kept = self._json_items_kept
        items = []
        for index in range(min(FEED_SIZE, len(self.site.briefings))):
            item = kept.get(index)
            if item is None:
                item = kept[index] = feeds.json_item(self._feed_entry(index))
            items.append(item)
        return feeds.json_feed(info, items)

    def _topic_feed(self, spec: PageSpec) -> bytes:
        (slug,) = spec.args
        name = self.site.topic_names[slug].name
        info = self._feed_info(f"{name} — {self.config.site.title}", spec.rel, urls.topic(slug))
        return feeds.atom_feed(info, self._atom_entries(self.site.topics[slug]))

    def _sitemap_entries(self, part: int) -> Iterator[tuple[str, dt.date | None]]:
        absolute = self.scheme.absolute
        return ((absolute(rel), lastmod) for rel, lastmod in sitemap_entries(self.plan, self.site, part))

    def _sitemap(self, spec: PageSpec) -> bytes:
        (parts,) = spec.args
        if parts > 1:
            return feeds.sitemap_index([self.scheme.absolute(urls.sitemap_part(n))
                                        for n in range(1, parts + 1)])
        return feeds.sitemap(self._sitemap_entries(1))

    def _sitemap_part(self, spec: PageSpec) -> bytes:
        return feeds.sitemap(self._sitemap_entries(spec.args[0]))

    def _robots(self, spec: PageSpec) -> bytes:
        return feeds.robots(self.scheme.absolute(urls.sitemap()))

    def _asset(self, spec: PageSpec) -> bytes:
        output: str = spec.args[0]
        asset = next(a for a in self.assets.values() if a.output == output)
        return asset_bytes(asset.source)

    def _search_page(self, spec: PageSpec) -> bytes:
        t = self.catalog.text
        title = t("Search {site}", site=self.config.site.title)
        return self._template("search.html", spec, t("Search"), title)

    def _search_file(self, spec: PageSpec) -> bytes:
        return self.search.render(spec)

    def _static(self, spec: PageSpec) -> bytes:
        name: str = spec.args[0]
        return (self.config.static_dir / name).read_bytes()
