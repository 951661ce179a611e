"""A build session kept in memory between rebuilds, for the live preview.

The session remembers each content file's bytes, its parse result and the
fingerprint of every rendered page, so a rebuild after a save re-reads only the
files that changed and re-renders only the pages whose inputs changed. Pages
live in memory; a new set replaces the old one whole, and only when the
rebuild has fully succeeded, so a reader never sees a half-built site.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from briefgen.build.cache import BuildCache
from briefgen.build.stages import (
    CONTENT_KINDS,
    BuildOptions,
    Loaded,
    SourceFile,
    content_kind,
    discover,
    load,
    read_file,
    render_site,
)
from briefgen.build.workers import WorkerPool
from briefgen.config import BuildSettings, Config, SiteSettings, load_config
from briefgen.content.markup import Converter
from briefgen.content.records import BriefingDoc, parse_briefing
from briefgen.diagnostics import BuildFailed, Diagnostic
from briefgen.render.renderer import FEED_SIZE, Renderer
from briefgen.search import files as search_files
from briefgen.site.model import Briefing, Site
from briefgen.site.plan import PageSpec


@dataclass(frozen=True)
class SessionResult:
    briefings: int
    files: int
    rendered: int
    seconds: float
    warnings: tuple[Diagnostic, ...]
    changed_files: frozenset[str]


_KIND_ORDER = {kind: index for index, (kind, _, _) in enumerate(CONTENT_KINDS)}


@dataclass(frozen=True)
class _LastBuild:
    loaded: Loaded
    renderer: Renderer


def _shape(doc: BriefingDoc) -> tuple[object, ...]:
    """Everything of a briefing that pages other than its own show or depend on."""
    return (doc.title, doc.date, doc.topics, doc.summary, doc.source_ids, doc.inline_sources,
            doc.draft, doc.slug, doc.updated, doc.body.cited_ids,
            tuple(link.target for link in doc.body.links),
            doc.body.first_paragraph if doc.summary is None else None)


def _shows_text_of(spec: PageSpec, changed: dict[int, Briefing], site: Site) -> bool:
    """Whether a file shows the full text of one of the changed briefings."""
    if spec.kind == "briefing":
        return spec.args[0] in changed
    if spec.kind in ("feed", "json_feed"):
        return any(i < FEED_SIZE for i in changed)
    if spec.kind == "topic_feed":
        return any(i in site.topics[spec.args[0]][:FEED_SIZE] for i in changed)
    if spec.kind == "search_doc":
        return any(search_files.briefing_id(site, i) == spec.args[0] for i in changed)
    return spec.kind in search_files.INDEX_KINDS


class _MemorySink:
    """Collects a build's files in a new dict, taking unchanged ones from the last build."""

    def __init__(self, previous: Mapping[str, bytes]) -> None:
        self.previous = previous
        self.pages: dict[str, bytes] = {}

    def reuse(self, rel_file: str) -> bool:
        data = self.previous.get(rel_file)
        if data is None:
            return False
        self.pages[rel_file] = data
        return True

    def write(self, rel_file: str, data: bytes) -> None:
        self.pages[rel_file] = data

    def register(self, rel_file: str, kept: bool) -> None:
        raise RuntimeError("the live preview renders in one process")


class Session:
    def __init__(self, root: Path, options: BuildOptions) -> None:
        self.root = root.resolve()
        self.options = options
        self.pages: Mapping[str, bytes] = {}
        try:
            self.config: Config = load_config(self.root)
        except BuildFailed:
            # A preview still starts: the first rebuild reports the errors in the page,
            # and the configuration is read again on every rebuild.
            self.config = Config(self.root, SiteSettings(title=""), BuildSettings())
        self._files: dict[str, SourceFile] = {}
        # The build cache on disk makes the first build of a known site fast; after
        # that the session's own memory is the cache, and the disk is left alone.
        self._cache = BuildCache.open(self.config.cache_dir) if options.use_cache else BuildCache.in_memory()
        self._manifest: dict[str, tuple[str, str]] = {}
        self._last: _LastBuild | None = None
        self._converter = Converter()

    def watch_paths(self) -> list[Path]:
        from briefgen.render.themes import resolve_themes

        config = self.config
        paths = [config.content_dir, config.templates_dir, config.static_dir, config.config_path]
        # A broken theme setting is reported by the next rebuild, not here.
        with contextlib.suppress(Exception):
            paths += [theme.path for theme in resolve_themes(config.site.theme, config.themes_dir)]
        paths.append(config.themes_dir)
        return [p for p in dict.fromkeys(paths) if p.exists()]

    def _reader(self, changed: set[Path] | None) -> Callable[[Config], list[SourceFile]]:
        def read(config: Config) -> list[SourceFile]:
            if changed is not None and self._files and self._can_patch(config, changed):
                files = self._patched(config, changed)
            else:
                files = self._read_all(config, changed)
            # Parse results are cached by digest; the bytes need not stay in memory.
            self._files = {f.path: replace(f, data=None) for f in files}
            return sorted(files, key=lambda f: (_KIND_ORDER[f.kind], f.path))
        return read

    @staticmethod
    def _can_patch(config: Config, changed: set[Path]) -> bool:
        """Whether the changes are single files, so the file list can be patched, not rescanned."""
        for path in changed:
            if path.is_dir():
                return False
            gone_folder = not path.exists() and path.suffix == ""
            if gone_folder and path.is_relative_to(config.content_dir):
                # A folder renamed or removed under content/: look at everything again.
                return False
        return True

    def _patched(self, config: Config, changed: set[Path]) -> list[SourceFile]:
        files = dict(self._files)
        prefix = len(str(config.root)) + 1
        for path in changed:
            kind = content_kind(config, path)
            if kind is None:
                continue
            shown = str(path)[prefix:].replace(os.sep, "/")
            if path.is_file():
                files[shown] = read_file(kind, path, shown)
            else:
                files.pop(shown, None)
        return list(files.values())

    def _read_all(self, config: Config, changed: set[Path] | None) -> list[SourceFile]:
        files = []
        prefix = len(str(config.root)) + 1
        changed_names = None if changed is None else {str(p) for p in changed}
        for kind, path in discover(config):
            shown = path[prefix:].replace(os.sep, "/")
            known = self._files.get(shown)
            if known is None or changed_names is None or path in changed_names:
                known = read_file(kind, path, shown)
            files.append(known)
        return files

    def rebuild(self, changed: Iterable[Path] | None = None) -> SessionResult:
        # As in a build, the cyclic collector would only rescan the model again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._rebuild(changed)
        finally:
            gc.freeze()
            if collecting:
                gc.enable()

    def _rebuild(self, changed: Iterable[Path] | None) -> SessionResult:
        started = time.perf_counter()
        changed_set = None if changed is None else {Path(p).resolve() for p in changed}
        if changed_set and self._last is not None:
            quick = self._body_edit(changed_set, self._last, started)
            if quick is not None:
                return quick
        first = self._last is None
        pool = WorkerPool(self.options.jobs) if first and self.options.jobs > 1 else None
        loaded = load(self.root, self.options, self._cache, pool, None, self._reader(changed_set))
        sink = _MemorySink(self.pages)
        outcome = render_site(loaded, sink, self._manifest, cache=self._cache)
        if first:
            self._cache.save()
        self.pages = sink.pages
        self.config = loaded.config
        self._manifest = outcome.manifest
        self._last = _LastBuild(loaded, outcome.renderer)
        return SessionResult(loaded.briefing_count, len(loaded.plan), outcome.rendered,
                             time.perf_counter() - started, tuple(loaded.warnings),
                             outcome.changed_files)

    def _body_edit(self, changed: set[Path], last: _LastBuild, started: float) -> SessionResult | None:
        """The common case of a save, fast: only the text of known briefings changed.

        When no changed briefing differs in anything a list, an index or a
        neighbour shows of it (title, date, topics, summary, sources, links...),
        the model keeps its shape: only the briefings' own pages and the feeds
        that carry their text are rendered again. Anything else returns None
        and takes the full path, which re-checks the whole site.
        """
        config, site = last.loaded.config, last.loaded.site
        prefix = len(str(config.root)) + 1
        index_of = {b.path: i for i, b in enumerate(site.briefings)}
        replaced: dict[int, Briefing] = {}
        for path in changed:
            shown = str(path)[prefix:].replace(os.sep, "/")
            if content_kind(config, path) != "briefing" or shown not in index_of or not path.is_file():
                return None
            source = read_file("briefing", path, shown)
            doc, problems = parse_briefing(shown, source.bytes(), self._converter)
            before = site.briefings[index_of[shown]]
            if doc is None or problems or _shape(doc) != _shape(before.doc):
                return None
            replaced[index_of[shown]] = replace(before, doc=doc)
            self._files[shown] = replace(source, data=None)
        briefings = tuple(replaced.get(i, b) for i, b in enumerate(site.briefings))
        new_site = replace(site, briefings=briefings)
        previous = last.renderer
        renderer = Renderer(config, new_site, previous.env, previous.assets, previous.plan,
                            previous.html_of)
        renderer.search.follow(previous.search)
        todo = [spec for spec in last.loaded.plan if _shows_text_of(spec, replaced, new_site)]
        pages = dict(self.pages)
        changed_files = set()
        for spec in todo:
            data = renderer.render(spec)
            if pages.get(spec.output_file) != data:
                pages[spec.output_file] = data
                changed_files.add(spec.output_file)
            # The record no longer matches this file: the next full rebuild renders it again.
            self._manifest.pop(spec.output_file, None)
        self.pages = pages
        self._last = _LastBuild(replace(last.loaded, site=new_site), renderer)
        return SessionResult(len(briefings), len(last.loaded.plan), len(todo),
                             time.perf_counter() - started, tuple(last.loaded.warnings),
                             frozenset(changed_files))
