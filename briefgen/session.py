"""A build session kept in memory between rebuilds, for the live preview.

The session remembers each content file's bytes, its parse result and the
fingerprint of every rendered page, so a rebuild after a save re-reads only the
files that changed and re-renders only the pages whose inputs changed. Pages
live in memory; a new set replaces the old one whole, and only when the
rebuild has fully succeeded, so a reader never sees a half-built site.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from briefgen.build import BuildOptions, SourceFile, discover, load, read_file, render_site
from briefgen.cache import BuildCache
from briefgen.config import Config, load_config
from briefgen.diagnostics import Diagnostic


@dataclass(frozen=True)
class SessionResult:
    briefings: int
    files: int
    rendered: int
    seconds: float
    warnings: tuple[Diagnostic, ...]
    changed_files: frozenset[str]


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
        self.config: Config = load_config(self.root)
        self._files: dict[str, SourceFile] = {}
        self._cache = BuildCache.in_memory()
        self._manifest: dict[str, tuple[str, str]] = {}

    def watch_paths(self) -> list[Path]:
        from briefgen.themes import resolve_themes

        config = self.config
        paths = [config.content_dir, config.templates_dir, config.static_dir, config.config_path]
        # A broken theme setting is reported by the next rebuild, not here.
        with contextlib.suppress(Exception):
            paths += [theme.path for theme in resolve_themes(config.site.theme, config.themes_dir)]
        paths.append(config.themes_dir)
        return [p for p in dict.fromkeys(paths) if p.exists()]

    def _reader(self, changed: set[Path] | None):  # type: ignore[no-untyped-def]
        def read(config: Config) -> list[SourceFile]:
            files = []
            prefix = len(str(config.root)) + 1
            for kind, path in discover(config):
                shown = str(path)[prefix:].replace(os.sep, "/")
                known = self._files.get(shown)
                if known is None or changed is None or path in changed:
                    known = read_file(kind, path, shown)
                files.append(known)
            self._files = {f.path: f for f in files}
            return files
        return read

    def rebuild(self, changed: Iterable[Path] | None = None) -> SessionResult:
        started = time.perf_counter()
        changed_set = None if changed is None else {Path(p).resolve() for p in changed}
        loaded = load(self.root, self.options, self._cache, None, None, self._reader(changed_set))
        sink = _MemorySink(self.pages)
        outcome = render_site(loaded, sink, self._manifest)
        self.pages = sink.pages
        self.config = loaded.config
        self._manifest = outcome.manifest
        return SessionResult(loaded.briefing_count, len(loaded.plan), outcome.rendered,
                             time.perf_counter() - started, tuple(loaded.warnings),
                             outcome.changed_files)
