"""Fingerprints: a digest of everything one output file is made from.

If a file's fingerprint equals the one recorded by the previous build into the
same folder, the previous file is reused as it is. Each fingerprint covers the
global inputs (briefgen version, configuration, every template, theme files)
and the model data that the file's renderer reads, so it is sound to skip a
file exactly when its fingerprint is unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from briefgen import __version__
from briefgen.config import Config
from briefgen.content.records import Source
from briefgen.render.renderer import FEED_SIZE
from briefgen.render.themes import Asset, Theme
from briefgen.search import files as search_files
from briefgen.site.model import Briefing, Site
from briefgen.site.plan import PageSpec


def _digest(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def _text_digest(*parts: str) -> str:
    return hashlib.blake2b("\x1e".join(parts).encode("utf-8"), digest_size=16).hexdigest()


def _tree_digest(folders: Iterable[Path]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return digest.hexdigest()


# The template each kind of HTML page is rendered from.
ENTRY_TEMPLATES = {
    "home": "home.html", "briefing": "briefing.html", "archive": "archive.html",
    "year": "period.html", "month": "period.html", "day": "period.html",
    "topics": "topics.html", "topic": "topic.html", "sources": "sources.html",
    "publisher": "publisher.html", "page": "page.html", "404": "404.html", "search": "search.html",
}


def template_digests(env: jinja2.Environment, every_template: str) -> dict[str, str]:
    """For each page kind, a digest of its template and all it extends, includes or imports.

    A template edit then re-renders only the pages that use that template.
    A template that names another only at run time depends on every template.
    """
    sources: dict[str, str | None] = {}

    def source_of(name: str) -> str | None:
        if name not in sources:
            try:
                sources[name] = env.loader.get_source(env, name)[0] if env.loader else None
            except jinja2.TemplateNotFound:
                sources[name] = None
        return sources[name]

    digests = {}
    for kind, entry in ENTRY_TEMPLATES.items():
        seen: dict[str, str | None] = {}
        waiting = [entry]
        while waiting:
            name = waiting.pop()
            if name in seen:
                continue
            source = seen[name] = source_of(name)
            if source is None:
                continue
            try:
                names = list(meta.find_referenced_templates(env.parse(source)))
            except jinja2.TemplateSyntaxError:
                names = []  # rendering reports it, at its line
            if any(n is None for n in names):
                seen["*"] = every_template
            waiting += [n for n in names if n is not None]
        digests[kind] = _digest(sorted(seen.items(), key=lambda item: item[0]))
    return digests


class Fingerprints:
    def __init__(self, config: Config, site: Site, themes: tuple[Theme, ...],
                 assets: dict[str, Asset], plan: Sequence[PageSpec], env: jinja2.Environment) -> None:
        self.site = site
        self.config = config
        self.plan = plan
        templates = [config.templates_dir, *(t.templates for t in themes)]
        self.templates = template_digests(env, _tree_digest(templates))
        self.global_digest = _digest(
            __version__, repr(config.site), repr(config.build),
            sorted((a.name, a.output) for a in assets.values()),
            [(p.title, p.url) for p in site.pages],
        )
        self.static_digest = _tree_digest([config.static_dir])
        self._listing: dict[int, str] = {}
        self._full: dict[int, str] = {}
        self._source: dict[str, str] = {}
        self._search_all: str | None = None

    def listing(self, index: int) -> str:
        """What a list of briefings shows of one briefing."""
        found = self._listing.get(index)
        if found is None:
            b = self.site.briefings[index]
            names = "\x1f".join(self.site.topic_names[s].name for s in b.topic_slugs)
            # Plain strings joined: this runs for every briefing on every build.
            found = _text_digest(b.title, b.url, b.date.isoformat(), b.summary, names,
                                 "d" if b.draft else "", str(len(b.sources)))
            self._listing[index] = found
        return found

    def full(self, index: int) -> str:
        """Everything a briefing's own page and feed entry show of it."""
        found = self._full.get(index)
        if found is None:
            b: Briefing = self.site.briefings[index]
            links = "\x1f".join(str(self.site.url_of_path.get(link.target)) for link in b.body.links)
            sources = "\x1f".join(self._source_digest(source) for source in b.sources)
            updated = b.updated.isoformat() if b.updated else ""
            found = _text_digest(self.listing(index), b.doc.digest, updated, sources,
                                 str(b.cited_count), links)
            self._full[index] = found
        return found

    def _source_digest(self, source: Source) -> str:
        found = self._source.get(source.id)
        if found is None:
            found = self._source[source.id] = _digest(source)
        return found

    def _listings(self, indexes: Iterable[int]) -> list[str]:
        return [self.listing(i) for i in indexes]

    def of(self, spec: PageSpec) -> str:
        template = self.templates.get(spec.kind, "")
        return _digest(self.global_digest, template, spec.rel, spec.kind, spec.args, self._inputs(spec))

    def _inputs(self, spec: PageSpec) -> Any:
        site, per_page = self.site, self.config.build.per_page
        kind, args = spec.kind, spec.args
        if kind == "briefing":
            (i,) = args
            neighbours = [self.listing(j) for j in (i - 1, i + 1) if 0 <= j < len(site.briefings)]
            return self.full(i), neighbours, i == 0, i == len(site.briefings) - 1
        if kind == "home":
            (number,) = args
            start = (number - 1) * per_page
            shown = range(start, min(start + per_page, len(site.briefings)))
            return self._listings(shown), len(site.briefings)
        if kind == "topic":
            slug, number = args
            indexes = site.topics[slug]
            start = (number - 1) * per_page
            return site.topic_names[slug], self._listings(indexes[start:start + per_page]), len(indexes)
        if kind in ("year", "month", "day"):
            return self._period_inputs(kind, args)
        if kind == "archive":
            return sorted((key, len(ix)) for key, ix in site.months.items())
        if kind == "topics":
            return [(site.topic_names[s], len(ix)) for s, ix in site.topics.items()]
        if kind in ("sources", "publisher"):
            publishers = site.publishers if kind == "sources" else [site.publishers[args[0]]]
            return [(p.name, p.slug, [(a.source, self._listings(a.cited_by)) for a in p.articles])
                    for p in publishers]
        if kind == "page":
            page = site.pages[args[0]]
            links = [site.url_of_path.get(link.target) for link in page.doc.body.links]
            return page.doc.digest, links
        if kind in ("feed", "json_feed"):
            return [self.full(i) for i in range(min(FEED_SIZE, len(site.briefings)))]
        if kind == "topic_feed":
            return site.topic_names[args[0]], [self.full(i) for i in site.topics[args[0]][:FEED_SIZE]]
        if kind in ("sitemap", "sitemap_part"):
            return [(s.rel, s.kind, self.full(s.args[0]) if s.kind == "briefing" else None)
                    for s in self.plan]
        if kind in search_files.KINDS:
            return self._search_inputs(spec)
        if kind == "static":
            return self.static_digest
        return None  # robots, 404 and theme assets depend on the global inputs only

    def _search_inputs(self, spec: PageSpec) -> Any:
        """A document file shows one document; the shards, filters and meta.json show them all."""
        site = self.site
        if spec.kind == "search_doc":
            ref = search_files.doc_ref(site, spec.args[0])
            return self.full(ref.index) if ref.kind == "briefing" else site.pages[ref.index].doc.digest
        if self._search_all is None:
            self._search_all = _text_digest(*(self.full(i) for i in range(len(site.briefings))),
                                            *(p.doc.digest + p.url for p in site.pages))
        return self._search_all

    def _period_inputs(self, kind: str, args: tuple[Any, ...]) -> Any:
        site = self.site
        if kind == "year":
            return [(key, len(site.months[key])) for key in site.months_of_year[args[0]]]
        if kind == "month":
            month: tuple[int, int] = (args[0], args[1])
            days = [(key, len(site.days[key])) for key in site.days_of_month[month]]
            return days, self._listings(site.months[month])
        return self._listings(site.days[tuple(args)])
