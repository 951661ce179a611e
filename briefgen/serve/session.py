"""A build session kept in memory between rebuilds, for the live preview.

The session remembers each content file's bytes, its parse result and the
fingerprint of every rendered page, so a rebuild after a save re-reads only the
files that changed and re-renders only the pages whose inputs changed. Pages it
rendered live in memory, the build's are read from the output when asked for
(pages.py); a new set replaces the old one whole, and only when the rebuild has
fully succeeded, so a reader never sees a half-built site.

A preview started on a site whose output a build left current, with no draft
left out, takes that build's snapshot as its model, as `build` does for an edit
(build/in_place.py): it reads, parses and fingerprints nothing more at its start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from briefgen.build import memo, snapshot
from briefgen.build.cache import BuildCache
from briefgen.build.edits import Baseline, edit_in_place, index_of
from briefgen.build.in_place import snapshot_baseline
from briefgen.build.inputs import ContentFiles, listed_content_stats
from briefgen.build.loading import SourceFile, load, read_file, read_sources
from briefgen.build.manifest import as_dict
from briefgen.build.options import BuildOptions
from briefgen.build.pipeline import output_state
from briefgen.build.rendering import render_site
from briefgen.build.store import STORE, FileStat, Store
from briefgen.build.template_cache import HeldTemplates
from briefgen.build.workers import WorkerPool
from briefgen.config import BuildSettings, Config, SiteSettings, load_config
from briefgen.content.files import CONTENT_KINDS, content_kind, discover
from briefgen.content.markup import Converter
from briefgen.diagnostics import BuildFailed, Diagnostic
from briefgen.render.renderer import Renderer, RenderError
from briefgen.render.themes import template_folders
from briefgen.serve.built import BuiltFiles, built_files
from briefgen.serve.pages import PageFailed, Pages, RenderPage
from briefgen.site.plan import PageSpec
from briefgen.site.verify import KnownChecks


@dataclass(frozen=True)
class SessionResult:
    briefings: int
    files: int
    rendered: int
    seconds: float
    warnings: tuple[Diagnostic, ...]
    changed_files: frozenset[str]  # added, removed or with other bytes than the last good build's
    # False when some files were left to be compared later (see COMPARED_LATER_FROM): they count
    # as changed, and are rendered when asked for.
    compared: bool = True


_KIND_ORDER = {kind: index for index, (kind, _, _) in enumerate(CONTENT_KINDS)}

# Changed pages a rebuild renders at once; the others are rendered when a reader asks for one.
# A new briefing changes every page of the home page's list, and a template every page made
# with it: rendering them all would hold the reload up for seconds on a large site.
RENDERED_AT_ONCE = 64
# From this many planned files, a rebuild that changes the model (a briefing added or deleted, a
# topic renamed) or a template does not compare the files with the last build before the pages
# reload: finding every fingerprint took half of a new briefing's rebuild (0.5 of 1 s at 10,000
# briefings, 2.8 of 5.4 s at 50,000), and most of a template edit's. A thread finds them
# afterwards, while the reader's page is rendered again (every open page reloads, as it does past
# livereload's 500 changed pages); the next rebuild waits for it. Below this, comparing costs
# less than 150 ms and tells which pages changed.
COMPARED_LATER_FROM = 10_000


# What a rebuild leaves the next one: the manifest of its files and its baseline.
_Made = tuple[dict[str, tuple[str, str]], Baseline]


# How long a thread that computes holds Python's lock while another waits for it, during a
# comparison (the default is 5 ms): the server's threads wait for it at every read and write they
# make, and with the default a page that reloaded while the comparison ran took 110 ms longer
# at 10,000 briefings.
_SWITCH_INTERVAL = 0.0005


class _Comparison:
    """A rebuild's comparison of every file with the last build (RenderOutcome.compare), run in
    a thread of its own; `result` waits for it and gives what it made."""

    def __init__(self, compare: Callable[[], None], made: Callable[[], _Made]) -> None:
        self._made: _Made | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(compare, made), name="briefgen-compare",
                                        daemon=True)
        self._thread.start()

    def _run(self, compare: Callable[[], None], made: Callable[[], _Made]) -> None:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(_SWITCH_INTERVAL)
        try:
            compare()
            self._made = made()
        except BaseException as exc:  # given to the rebuild that waits for it
            self._error = exc
        finally:
            sys.setswitchinterval(interval)

    def running(self) -> bool:
        return self._thread.is_alive()

    def result(self) -> _Made:
        """The manifest and the baseline of the rebuild, once compared; what the comparison
        raised, if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._made is not None
        return self._made


class _MemorySink:
    """Collects a build's files: those rendered, in memory, and the unchanged ones taken
    over from the last set (the preview's own, or, at the start, a built output folder's:
    see built.py), whose built files are read only when asked for (see pages.py)."""

    def __init__(self, previous: Pages) -> None:
        self.previous = previous
        self.pages: dict[str, bytes] = {}
        self.built: dict[str, str] = {}  # output file -> digest of its built bytes

    def expect(self, writing: int, planned: int) -> None:
        pass

    def reuse(self, rel_file: str) -> bool:
        entry = self.previous.entry(rel_file)
        if entry is None:
            return False
        if isinstance(entry, bytes):
            self.pages[rel_file] = entry
        else:
            self.built[rel_file] = entry
        return True

    def write(self, rel_file: str, data: bytes) -> None:
        self.pages[rel_file] = data

    def register(self, rel_file: str, kept: bool) -> None:
        raise RuntimeError("the live preview renders in one process")

    def in_worker(self) -> _MemorySink:
        raise RuntimeError("the live preview renders in one process")


def _page_renderer(renderer: Renderer, plan: Sequence[PageSpec], lock: threading.Lock) -> RenderPage:
    """Renders a planned page by its output file's name, for a page left unrendered or a built
    file spoiled since the build. A server thread calls it: `lock` keeps it from running beside
    a rebuild."""
    specs: dict[str, PageSpec] = {}

    def render(rel_file: str) -> bytes | None:
        with lock:
            if not specs:
                specs.update((spec.output_file, spec) for spec in plan)
            spec = specs.get(rel_file)
            if spec is None:
                return None
            try:
                return renderer.render(spec)
            except RenderError as exc:
                raise PageFailed(str(exc.diagnostic)) from exc
            except OSError:  # a body a build beside this one pruned
                return None

    return render


def _kept_build(store: Store, output: Path, global_digest: str,
                drafts: bool) -> tuple[snapshot.Snapshot, BuiltFiles] | None:
    """The snapshot and files of the last build into `output`, if it had these global inputs and
    left no draft out that the preview shows (`drafts`); None otherwise. Its briefings are read at
    once, not when first shown: a build run beside the preview replaces the snapshot's rows."""
    try:
        last = snapshot.read(store, str(output))
        if (last is None or last.global_inputs != global_digest
                or (drafts and last.loaded.drafts_left_out)):
            return None
        loaded = last.loaded
        briefings = tuple(loaded.site.briefings)
        snapshot.unpack_head(last)
    except snapshot.DamagedRow:
        return None
    built = built_files(store, output)
    if built is None:
        return None
    return replace(last, loaded=replace(loaded, site=replace(loaded.site, briefings=briefings))), built


def _known_files(config: Config, found: ContentFiles,
                 content: Mapping[str, tuple[FileStat, str]]) -> dict[str, SourceFile]:
    """The content files `found`, by site-relative path, as a build read them (`content`: each
    one's stat and digest, see Loaded.content), unread; none when one is not as that build
    read it. A preview started from a build knows its files so, and its first rebuild that is
    not an edit in place reads and hashes only the files changed since, not every one."""
    prefix = len(str(config.root)) + 1
    files = {}
    for kind, path, stat in found:
        shown = path[prefix:].replace(os.sep, "/")
        known = content.get(shown)
        if known is None or known[0] != stat:
            return {}
        files[shown] = SourceFile(kind, shown, None, known[1], stat, path)
    return files


class Session:
    def __init__(self, root: Path, options: BuildOptions, compared_later_from: int | None = None) -> None:
        """`compared_later_from`: see COMPARED_LATER_FROM (its value by default)."""
        self.root = root.resolve()
        self.options = options
        self._compared_later_from = COMPARED_LATER_FROM
        if compared_later_from is not None:
            self._compared_later_from = compared_later_from
        self._comparison: _Comparison | None = None  # a rebuild's, still running or not taken
        self.pages = Pages()
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
        # Opened when a rebuild first needs it: a start from the build's snapshot does not.
        self._cache_dir = self.config.cache_dir
        self._opened: BuildCache | None = None
        self._manifest: Mapping[str, tuple[str, str]] = {}
        self._last: Baseline | None = None
        self._converter = Converter()
        self._checks = KnownChecks()  # of briefings against the archives, kept between full rebuilds
        self._templates: HeldTemplates | None = None  # compiled templates, kept between rebuilds
        self._lock = threading.Lock()  # held by a rebuild, and by a page rendered for a reader

    @property
    def _cache(self) -> BuildCache:
        if self._opened is None:
            self._opened = (BuildCache.open(self._cache_dir, writable=False) if self.options.use_cache
                            else BuildCache.in_memory())
        return self._opened

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
            # Parse results are cached by digest; the bytes need not stay in memory. Most files
            # were read before and hold none (a copy of each cost 25 ms a rebuild at 10,000).
            self._files = {f.path: f if f.data is None else replace(f, data=None) for f in files}
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
        if changed is None:
            # Every file afresh (the start): as in a build, one whose size, times and inode
            # the cache knows is not read. The others are, for the digest that names them later.
            return [file if file.digest else read_file(file.kind, file.location, file.path)
                    for file in read_sources(config, self._cache)]
        files = []
        prefix = len(str(config.root)) + 1
        changed_names = {str(p) for p in changed}
        for kind, path in discover(config):
            shown = path[prefix:].replace(os.sep, "/")
            known = self._files.get(shown)
            if known is None or path in changed_names:
                known = read_file(kind, path, shown)
            files.append(known)
        return files

    def rebuild(self, changed: Iterable[Path] | None = None) -> SessionResult:
        # As in a build, the cyclic collector would only rescan the model again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self._lock:
                return self._rebuild(changed)
        finally:
            if collecting:
                gc.enable()

    def settle(self) -> bool:
        """Collect the garbage of past rebuilds, then freeze what lives on.

        A full collection scans the whole model (a few hundred milliseconds at
        10,000 briefings), so the server calls this when the preview has been
        quiet for a while, not after every rebuild; frozen, the model is not
        rescanned by every automatic collection while the preview waits.

        False, doing nothing, while a rebuild's comparison still runs: the server calls this
        holding its own lock, and the model that lives on is the one the comparison makes.
        """
        if self._comparison is not None and self._comparison.running():
            return False
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return True

    def _take_comparison(self) -> None:
        """The last rebuild's manifest and baseline, once its comparison is done (the caller holds
        the lock). If it failed, the next rebuild starts afresh, and the failure is raised."""
        comparison, self._comparison = self._comparison, None
        if comparison is None:
            return
        try:
            self._manifest, self._last = comparison.result()
        except BaseException:
            self._manifest, self._last, self._files = {}, None, {}
            raise

    def _rebuild(self, changed: Iterable[Path] | None) -> SessionResult:
        started = time.perf_counter()
        self._take_comparison()
        changed_set = None if changed is None else {Path(p).resolve() for p in changed}
        if changed_set and self._last is not None:
            quick = self._edit_in_place(changed_set, self._last, started)
            if quick is not None:
                return quick
        first = self._last is None
        if first and changed_set is None:
            started_from_build = self._start_from_build(started)
            if started_from_build is not None:
                return started_from_build
        # The preview's threads (watcher, server) already run: forking them is unsafe,
        # so the workers start from a fresh server process.
        pool = (WorkerPool(self.options.jobs, start="forkserver") if first and self.options.jobs > 1
                else None)
        if changed_set and self._last is not None and self._only_templates(changed_set, self._last):
            loaded = self._last.loaded  # no content, configuration or static file changed
        else:
            loaded = load(self.root, self.options, self._cache, pool, None, self._reader(changed_set),
                          self._checks)
        sink, previous = _MemorySink(self.pages), self._manifest
        built = (built_files(self._cache.store, self.options.output or loaded.config.output_dir)
                 if first and self.options.use_cache else None)
        folder = self.pages.folder
        if built is not None:
            folder = built.folder
            sink, previous = _MemorySink(Pages(built=built.digests(), folder=folder)), built.manifest
        if self._templates is None:
            self._templates = HeldTemplates(self._cache.store)
        outcome = render_site(loaded, sink, previous, cache=self._cache, note_readers=True,
                              render_at_most=RENDERED_AT_ONCE, templates=self._templates,
                              follow=(self._last.renderer, self._last.fingerprints)
                              if self._last is not None else None,
                              compare_later=self._shown(changed_set)
                              if len(loaded.plan) >= self._compared_later_from else None)
        render = _page_renderer(outcome.renderer, loaded.plan, self._lock)
        pages = Pages(sink.pages, {**sink.built, **dict.fromkeys(outcome.unrendered, "")}, folder, render)
        # Against the pages served until now (none, at the start), not the output's.
        differ = (frozenset(pages) if built is not None
                  else frozenset(outcome.changed_files | (self.pages.keys() - pages.keys())))
        self.pages = pages
        self.config = loaded.config

        def made() -> _Made:
            # A dict: each edit in place merges its entries into it (a PlannedManifest, merged so,
            # would be looked up file by file: 141,803 at 50,000 briefings, at the first save).
            return (as_dict(outcome.manifest),
                    Baseline(loaded, outcome.renderer, outcome.fingerprints, index_of(loaded)))

        if outcome.compare is None:
            self._manifest, self._last = made()
        else:
            # The last build's model and pages are let go of now, not when the next rebuild
            # takes what the comparison made.
            self._manifest, self._last = {}, None
            self._comparison = _Comparison(outcome.compare, made)
        return SessionResult(loaded.briefing_count, len(loaded.plan), outcome.rendered,
                             time.perf_counter() - started, tuple(loaded.warnings), differ,
                             compared=outcome.compare is None)

    def _shown(self, changed: set[Path] | None) -> set[str]:
        """These files' paths as the plan's origins name them (relative to the site, with "/")."""
        return {Path(os.path.relpath(path, self.root)).as_posix() for path in changed or ()}

    def _only_templates(self, changed: set[Path], last: Baseline) -> bool:
        """Whether every change is to a template (the site's or its themes'), so that the model of
        the `last` build stands: no content, configuration or static file is among them, and no
        briefing dated in the future has come due since."""
        loaded = last.loaded
        now = self.options.now or dt.datetime.now(dt.UTC)
        if loaded.next_release is not None and now >= loaded.next_release:
            return False
        folders = template_folders(loaded.config, loaded.themes)
        return all(any(path.is_relative_to(folder) for folder in folders) for path in changed)

    def _start_from_build(self, started: float) -> SessionResult | None:
        """The start on a site whose output is as a build now would make it, and whose build
        left no draft out that the preview shows: that build's snapshot is the model, read from
        the cache (no content file is read, checked or fingerprinted), and its files are the
        pages, read when asked for. None: the start takes the long way."""
        if not self.options.use_cache:
            return None
        try:
            config = load_config(self.root, self.options.config)
            # The build's listing of the content folders, only read: the preview keeps none.
            found = listed_content_stats(config, memo.read_listing(config.cache_dir, config.content_dir))[0]
        except BuildFailed:
            return None  # the long way reports it
        output = (self.options.output or config.output_dir).resolve()
        # Drafts aside, the preview's options must be the build's; with no draft left out (or
        # none shown, `--no-drafts`), the preview's model is the build's.
        state = output_state(config, replace(self.options, drafts=False), output, found)
        if not state.current(self.options.now or dt.datetime.now(dt.UTC)):
            return None
        store = Store(self._cache_dir / STORE, writable=False)  # kept open: the model reads bodies from it
        kept = _kept_build(store, output, state.global_digest, self.options.drafts)
        if kept is None:
            store.close()
            return None
        last, built = kept
        baseline = snapshot_baseline(store, last)
        loaded = baseline.loaded
        self.pages = Pages(built=built.digests(), folder=built.folder,
                           render=_page_renderer(baseline.renderer, loaded.plan, self._lock))
        self.config = loaded.config
        self._manifest = dict(built.manifest)
        self._last = baseline
        self._files = _known_files(config, found, loaded.content)
        return SessionResult(loaded.briefing_count, len(loaded.plan), 0, time.perf_counter() - started,
                             tuple(loaded.warnings), frozenset(self.pages))

    def _edit_in_place(self, changed: set[Path], last: Baseline, started: float) -> SessionResult | None:
        """The common save, fast and by the build's own rules: briefings, or archived copies
        of sources and sources added, taken in place (see build/edits.py); None when the change
        needs the full path."""
        config = last.loaded.config
        release = last.loaded.next_release
        if release is not None and (self.options.now or dt.datetime.now(dt.UTC)) >= release:
            return None  # a briefing dated in the future has come due: the whole model changes
        prefix = len(str(config.root)) + 1
        files: dict[str, SourceFile] = {}
        for path in changed:
            shown = str(path)[prefix:].replace(os.sep, "/")
            kind = content_kind(config, path)
            # Archives and registries, new or not: edits.py takes what it can of them.
            known = shown in last.index_of if kind == "briefing" else kind in ("archive", "registry")
            if kind is None or not known or not path.is_file():
                return None
            files[shown] = read_file(kind, path, shown)
        sink = _MemorySink(self.pages)
        edited = edit_in_place(last, files, self._converter, self._manifest, sink)
        if edited is None:
            return None
        baseline = edited.baseline
        self.pages = self.pages.updated(sink.pages, _page_renderer(baseline.renderer, baseline.loaded.plan,
                                                                   self._lock))
        self._manifest = {**self._manifest, **edited.manifest}
        if self._files:  # else none is known yet: the next full rebuild reads all
            self._files.update({shown: replace(file, data=None) for shown, file in files.items()})
        self._last = edited.baseline
        loaded = edited.baseline.loaded
        return SessionResult(len(loaded.site.briefings), len(loaded.plan), len(sink.pages),
                             time.perf_counter() - started, tuple(loaded.warnings), edited.changed_files)
