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
from typing import Protocol

from briefgen.build.cache import BuildCache
from briefgen.build.edits import Baseline, edit_briefings, index_of
from briefgen.build.options import BuildOptions
from briefgen.build.stages import (
    SourceFile,
    load,
    read_file,
    render_site,
)
from briefgen.build.workers import WorkerPool
from briefgen.config import BuildSettings, Config, SiteSettings, load_config
from briefgen.content.files import CONTENT_KINDS, content_kind, discover
from briefgen.content.markup import Converter
from briefgen.diagnostics import BuildFailed, Diagnostic
from briefgen.serve.built import built_files


@dataclass(frozen=True)
class SessionResult:
    briefings: int
    files: int
    rendered: int
    seconds: float
    warnings: tuple[Diagnostic, ...]
    changed_files: frozenset[str]  # added, removed or with other bytes than the last good build's


_KIND_ORDER = {kind: index for index, (kind, _, _) in enumerate(CONTENT_KINDS)}


class _Pages(Protocol):
    def get(self, rel_file: str, /) -> bytes | None: ...


class _MemorySink:
    """Collects a build's files in a new dict, taking unchanged ones from the last build
    (the preview's own, or, at the start, a built output folder's: see built.py)."""

    def __init__(self, previous: _Pages) -> None:
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
            self.config: Config = load_config(self.root, options.config)
        except BuildFailed:
            # A preview still starts: the first rebuild reports the errors in the page,
            # and the configuration is read again on every rebuild.
            self.config = Config(self.root, SiteSettings(title=""), BuildSettings(),
                                 options.config.resolve() if options.config else None)
        self._files: dict[str, SourceFile] = {}
        # The build cache on disk, read only, makes the first build of a known site fast;
        # after that the session's own memory is the cache. The preview writes nothing.
        self._cache = (BuildCache.open(self.config.cache_dir, writable=False) if options.use_cache
                       else BuildCache.in_memory())
        self._manifest: dict[str, tuple[str, str]] = {}
        self._last: Baseline | None = None
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
            if collecting:
                gc.enable()

    def settle(self) -> None:
        """Collect the garbage of past rebuilds, then freeze what lives on.

        A full collection scans the whole model (a few hundred milliseconds at
        10,000 briefings), so the server calls this when the preview has been
        quiet for a while, not after every rebuild; frozen, the model is not
        rescanned by every automatic collection while the preview waits.
        """
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def _rebuild(self, changed: Iterable[Path] | None) -> SessionResult:
        started = time.perf_counter()
        changed_set = None if changed is None else {Path(p).resolve() for p in changed}
        if changed_set and self._last is not None:
            quick = self._briefing_edit(changed_set, self._last, started)
            if quick is not None:
                return quick
        first = self._last is None
        # The preview's threads (watcher, server) already run: forking them is unsafe,
        # so the workers start from a fresh server process.
        pool = (WorkerPool(self.options.jobs, start="forkserver") if first and self.options.jobs > 1
                else None)
        loaded = load(self.root, self.options, self._cache, pool, None, self._reader(changed_set))
        sink, previous = _MemorySink(self.pages), self._manifest
        built = (built_files(self._cache, self.options.output or loaded.config.output_dir)
                 if first and self.options.use_cache else None)
        if built is not None:
            sink, previous = _MemorySink(built), built.manifest
        outcome = render_site(loaded, sink, previous, cache=self._cache, note_readers=True)
        # Against the pages served until now (none, at the start), not the output's.
        differ = (frozenset(sink.pages) if built is not None
                  else outcome.changed_files | (self.pages.keys() - sink.pages.keys()))
        self.pages = sink.pages
        self.config = loaded.config
        self._manifest = outcome.manifest
        self._last = Baseline(loaded, outcome.renderer, outcome.fingerprints, index_of(loaded))
        return SessionResult(loaded.briefing_count, len(loaded.plan), outcome.rendered,
                             time.perf_counter() - started, tuple(loaded.warnings), differ)

    def _briefing_edit(self, changed: set[Path], last: Baseline, started: float) -> SessionResult | None:
        """The common save, fast and by the build's own rules: briefings edited in place
        (see build/edits.py); None when the change needs the full path."""
        config = last.loaded.config
        prefix = len(str(config.root)) + 1
        files: dict[str, SourceFile] = {}
        for path in changed:
            shown = str(path)[prefix:].replace(os.sep, "/")
            if content_kind(config, path) != "briefing" or shown not in last.index_of or not path.is_file():
                return None
            files[shown] = read_file("briefing", path, shown)
        sink = _MemorySink(self.pages)
        edited = edit_briefings(last, files, self._converter, self._manifest, sink)
        if edited is None:
            return None
        self.pages = {**self.pages, **sink.pages}
        self._manifest = {**self._manifest, **edited.manifest}
        self._files.update({shown: replace(file, data=None) for shown, file in files.items()})
        self._last = edited.baseline
        loaded = edited.baseline.loaded
        return SessionResult(len(loaded.site.briefings), len(loaded.plan), len(sink.pages),
                             time.perf_counter() - started, tuple(loaded.warnings), edited.changed_files)
