"""The build's last stages: render every planned file whose inputs changed (fingerprints
say which; in parallel) and hand it to the sink that writes it: the staging folder of a
build (write.py), or memory for the live preview.

    plan → render (incremental, parallel) → write (staging folder, swapped in on success)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import jinja2

from briefgen.build.cache import BuildCache
from briefgen.build.fingerprint import Fingerprints, known_templates
from briefgen.build.loading import Loaded, collecting, parse_key
from briefgen.build.manifest import PlannedManifest, manifest_entries
from briefgen.build.options import Progress
from briefgen.build.store import CATALOG_ROW
from briefgen.build.template_cache import TemplateCache
from briefgen.diagnostics import BuildFailed, Diagnostic
from briefgen.i18n.catalog import Catalog
from briefgen.render.renderer import Renderer, RenderError, make_environment
from briefgen.search.documents import IndexedDoc
from briefgen.search.index import SearchFiles
from briefgen.site.kinds import (
    ASSET,
    BRIEFING,
    PUBLISHER,
    SEARCH_DOC,
    SEARCH_INDEX_KINDS,
    SITEMAP,
    SITEMAP_PART,
    STATIC,
    PageKind,
)
from briefgen.site.model import Site
from briefgen.site.plan import PageSpec, PlanFiles
from briefgen.site.search_files import document_count
from briefgen.slots import quick_pickle

if TYPE_CHECKING:  # the workers' module loads multiprocessing: only builds with a pool need it
    from briefgen.build.workers import WorkerPool


class Sink(Protocol):
    """Where rendered files go: the staging folder of a build, or memory for `serve`."""

    def expect(self, writing: int, planned: int) -> None: ...
    def reuse(self, rel_file: str) -> bool: ...
    def write(self, rel_file: str, data: bytes) -> None: ...
    def register(self, rel_file: str, kept: bool) -> None: ...
    def in_worker(self) -> Sink: ...


@dataclass(frozen=True)
class RenderOutcome:
    """What rendering did: the new manifest, its counts, and the renderer and fingerprints it used."""

    manifest: Mapping[str, tuple[str, str]]  # a PlannedManifest
    rendered: int
    reused: int
    changed_files: AbstractSet[str]  # not copied into a frozenset: all 141,803 files of a first build
    renderer: Renderer
    fingerprints: Fingerprints
    # Changed files left for the caller to render when asked for (see `render_at_most`); their
    # manifest entries have a fingerprint and no digest, and they count as changed.
    unrendered: frozenset[str] = frozenset()
    # With `compare_later`: finds the fingerprints of the files left unrendered, into `manifest`
    # and `fingerprints` (which are whole only once it has run), in whatever thread the caller
    # gives it. Until then those files count as changed.
    compare: Callable[[], None] | None = None


def first_to_render(jobs: list[tuple[PageSpec, str]], count: int) -> tuple[list[tuple[PageSpec, str]],
                                                                          list[tuple[PageSpec, str]]]:
    """The changed files to render now, at most `count` of them (or one of each kind, if more), and
    the others. One of each kind comes first, so that a template's error shows at once; then the
    briefings' own pages, where a content file's shows; then the plan's order."""
    if len(jobs) <= count:
        return jobs, []
    chosen: set[int] = set()
    kinds = set()
    for position, (spec, _) in enumerate(jobs):
        if spec.kind not in kinds:
            kinds.add(spec.kind)
            chosen.add(position)
    briefing_pages = (p for p, (spec, _) in enumerate(jobs) if spec.kind is BRIEFING)
    for position in itertools.chain(briefing_pages, range(len(jobs))):
        if len(chosen) >= count:
            break
        chosen.add(position)
    return ([job for p, job in enumerate(jobs) if p in chosen],
            [job for p, job in enumerate(jobs) if p not in chosen])


def render_site(loaded: Loaded, sink: Sink, previous: Mapping[str, tuple[str, str]],
                pool: WorkerPool | None = None, cache: BuildCache | None = None,
                progress: Progress | None = None, note_readers: bool = False,
                earlier: Path | None = None, render_at_most: int | None = None,
                templates: jinja2.BytecodeCache | None = None,
                follow: tuple[Renderer, Fingerprints] | None = None,
                previous_from_cache: bool = False,
                compare_later: AbstractSet[str] | None = None) -> RenderOutcome:
    """Render every planned file whose inputs changed; reuse the rest from the previous build,
    whose files (`previous` names them and their digests) are in `earlier`, when given.
    With `render_at_most` (the live preview), render only that many of the changed files, in
    this process, and leave the others to the caller (RenderOutcome.unrendered). `templates`
    holds compiled templates (by default, the cache's, when it is writable). `follow` is the
    renderer and fingerprints of the last build of this site, in memory (the live preview),
    whose manifest `previous` is: its search index is updated, rather than the one the cache
    keeps; and when that build had this same model (a template edit), files whose kind's
    template is unchanged keep their entries without being fingerprinted again.
    `previous_from_cache`: `previous` is the cache's manifest of `earlier`, which the caller
    does not hold: let go of while the workers fork, and read from the cache again if needed.
    `compare_later` (with `render_at_most` and `follow`): the files that changed (site-relative
    paths). Only the search index's files, the static files and (after a template edit) the
    files of kinds whose templates are unchanged are compared now; the pages of those content
    files are rendered, and one file of each other kind; every other file is left unrendered,
    and the outcome's `compare` finds their fingerprints afterwards."""
    from briefgen.build.heap import release_freed_memory  # ctypes: not an edit in place's to load

    last = _LastManifest(previous, cache if previous_from_cache else None, earlier)
    del previous  # held by `last` alone, which may let go of it

    if render_at_most is not None:
        pool = None
    if templates is None and cache is not None and cache.writable:
        templates = TemplateCache(cache.store)
    env = make_environment(loaded.config, loaded.themes, templates)
    assets = loaded.assets
    key = parse_key()
    html_of = (lambda doc: cache.html(doc, key)) if cache is not None else (lambda doc: doc.body.html)
    renderer = Renderer(loaded.config, loaded.site, env, assets, loaded.plan, html_of)
    if cache is not None:
        _format_days(renderer.catalog, loaded.site, cache)
    if follow is not None:
        # The same model: no briefing's record differs.
        renderer.search.follow(follow[0].search, () if follow[0].site is loaded.site else None)
    elif cache is not None:
        renderer.search.use_state(cache.state_rows("search"))
    if earlier is not None:
        renderer.search.use_earlier_output(str(earlier), earlier_files(earlier, last.get))
    # The templates' digests as the last build found them (the preview's cache remembers its own).
    rows = cache.state_rows("template-digests", remember=True) if cache is not None else None
    kept = rows.load(["template-digests"]).get("template-digests") if rows is not None else None
    known = known_templates(kept)

    def read_fingerprints() -> Fingerprints:
        return Fingerprints.read(loaded.config, loaded.site, loaded.themes, assets, loaded.plan, env,
                                 renderer.search.digest, known)

    def keep_known(fingerprints: Fingerprints) -> None:
        if rows is not None and fingerprints.known_templates != known:
            rows.save({"template-digests": fingerprints.known_templates}, fresh=False)

    # With workers, the search index is built in this process while they render the other
    # files, and its own files are rendered here: it would otherwise hold every core up. So
    # are the search documents' files, which reuse the words indexing split; but an index
    # made afresh from every document (a first build) has the workers split each document's
    # text as they render its file, and send its postings here, where they are only gathered:
    # splitting and counting long briefings would otherwise keep this process busy long
    # after the workers are done.
    doc_specs = (sorted((spec for spec in loaded.plan if spec.kind is SEARCH_DOC),
                        key=lambda spec: spec.args[0])
                 if pool is not None and follow is None and renderer.search.indexes_everything() else [])
    index_in_workers = bool(doc_specs)  # the plan has one per document: the index takes each one's
    spool = cache.folder if cache is not None and cache.writable else None
    # Every file is rendered when no earlier manifest names any (see _render_everything);
    # but with search on, only an index made afresh takes every document's postings as it goes.
    if (pool is not None and follow is None and not last.names_files and len(loaded.plan) > _WORKERS_FROM
            and (index_in_workers or not loaded.config.site.search)):
        outcome = _render_everything(loaded, renderer, sink, pool, doc_specs, read_fingerprints,
                                     note_readers, spool, progress)
        keep_known(outcome.fingerprints)
        return outcome
    held = contextlib.ExitStack()
    if pool is None and render_at_most is None and follow is None and spool is not None:
        # Without workers the index is built as the fingerprints are found (below): its state is
        # held aside as with them, so that an update saves the shards it changes as it goes (at
        # 50,000 briefings with `--jobs 1`, a briefing added otherwise held 89 MB more).
        held.enter_context(renderer.search.holding_state(spool))
    with held:
        fingerprints = read_fingerprints()
        keep_known(fingerprints)
        manifest = PlannedManifest(PlanFiles(loaded.plan))

        def forced(specs: Iterable[PageSpec]) -> list[tuple[PageSpec, str]]:
            """The files, with their previous digests, to render whatever their fingerprints say."""
            todo = []
            for spec in specs:
                output_file = spec.output_file
                old = last.get(output_file)
                todo.append((spec, old[1] if old else ""))
                manifest.set_fingerprint(manifest.place(output_file), fingerprints.of(spec))
            return todo

        def needed(printed: Iterable[tuple[int, PageSpec, str]]) -> list[tuple[PageSpec, str]]:
            """The files whose fingerprint changed, with their previous digest (by their places in
            the plan); the manifest keeps the rest."""
            todo = []
            printed = iter(printed)
            # A run of files at a time: their entries are found together (see PackedManifest.entries).
            while run := list(itertools.islice(printed, 512)):
                files = [spec.output_file for _, spec, _ in run]  # made from the spec's path at each call
                entries = last.entries(files)
                for (place, spec, fingerprint), output_file, old in zip(run, files, entries, strict=True):
                    if old is not None and old[0] == fingerprint and sink.reuse(output_file):
                        manifest.keep(place, old)
                    else:
                        todo.append((spec, old[1] if old else ""))
                        manifest.set_fingerprint(place, fingerprint)
            return todo

        # Documents whose ids moved may go to the workers (see _documents_apart): their files'
        # fingerprints are then found with the others', before the workers start.
        docs_to_workers = (pool is not None and not index_in_workers and follow is None
                           and renderer.search.ids_may_have_moved())
        deferred_kinds: frozenset[PageKind] = frozenset()
        if pool is not None:
            deferred_kinds = SEARCH_INDEX_KINDS if docs_to_workers else SEARCH_INDEX_KINDS | {SEARCH_DOC}
        kept_kinds = fingerprints.kept_kinds(follow[1]) if follow is not None else None

        def kept_or_found(spec: PageSpec) -> str:
            """A file's fingerprint: the last build's when its kind is one of `kept_kinds` (the same
            model, the kind's templates unchanged), else found."""
            if kept_kinds is not None and spec.kind in kept_kinds:
                kept_entry = last.get(spec.output_file)
                if kept_entry is not None:
                    return kept_entry[0]
            return fingerprints.of(spec)

        if compare_later is not None and render_at_most is not None and follow:
            # Compared as always: the search index's files, whose fingerprints are digests of their
            # bytes (which the index, brought up to date here, keeps), the theme's and the site's
            # static files, which pages load (one counted as changed reloads every page in full),
            # and after a template edit, the files of the kinds whose templates are unchanged.
            # Rendered now besides them: the changed files' own pages and one file of each other
            # kind, so that an error in a template, or in what a changed file gives it, shows at
            # once, as it does when the changed files are known (see first_to_render).
            plan = loaded.plan
            compared: list[int] = []
            now: list[int] = []
            left_places: list[int] = []
            kinds: set[PageKind] = set()
            for place, spec in enumerate(plan):
                if spec.kind in _COMPARED_AT_ONCE or (kept_kinds is not None and spec.kind in kept_kinds):
                    compared.append(place)
                elif spec.kind not in kinds or spec.origin.path in compare_later:
                    kinds.add(spec.kind)
                    now.append(place)
                else:
                    left_places.append(place)
            todo = needed((place, plan[place], kept_or_found(plan[place])) for place in compared)
            todo += forced(plan[place] for place in now)
            taken = _Taken(manifest, last.names_files, sink)
            taken.take(_rendered_here(renderer, sink, todo), by_worker=False)
            left = frozenset(plan[place].output_file for place in left_places)
            outcome = taken.outcome(len(plan), renderer, fingerprints, left)
            # A template edit keeps the model, and what the last build noted of the files showing
            # each briefing (see Fingerprints.kept_kinds): only the files left are fingerprinted.
            return replace(outcome, compare=partial(_compare_rest, plan, fingerprints, manifest, last,
                                                    left_places, note_readers and kept_kinds is None))
        if kept_kinds is not None:
            # The readers of each briefing are those the last build noted; its other kinds' files,
            # as they were.
            printed: Iterable[tuple[int, PageSpec, str]] = (
                (place, spec, kept_or_found(spec)) for place, spec in enumerate(loaded.plan))
        else:
            printed = ((place, spec, fingerprint) for place, (spec, fingerprint) in enumerate(zip(
                loaded.plan, fingerprints.of_plan(note_readers, defer=deferred_kinds, fork=pool is not None),
                strict=True)))
        todo = needed(printed_one for printed_one in printed if printed_one[1].kind not in deferred_kinds)
        # Every fingerprint is in the manifest now: their list (4.7 MB at 50,000 briefings) is not
        # held while the files are rendered, nor copied into the workers.
        del printed
        docs_here: list[tuple[PageSpec, str]] = []  # search documents' files to render in this process
        if index_in_workers:
            # Every document's file is rendered (an unchanged one is kept), each document's postings
            # being needed; first, so that the index is ready while the workers render the rest.
            todo = [*forced(doc_specs), *todo]
            deferred_kinds = SEARCH_INDEX_KINDS
        elif docs_to_workers:
            todo, docs_here = _documents_apart(todo, renderer.search, document_count(loaded.site))
        deferred_places = array("l", (place for place, spec in enumerate(loaded.plan)
                                      if spec.kind in deferred_kinds))
        # At most: the search files may keep theirs.
        sink.expect(len(todo) + len(deferred_places) + len(docs_here), len(loaded.plan))
        if render_at_most is None and follow is None:
            # A build that renders a few of the site's pages shows each summary about once; the
            # live preview's renderer renders again and again (see Views.keep_summaries).
            renderer.views.keep_summaries = 2 * len(todo) >= len(loaded.plan)

        def deferred_needed() -> list[tuple[PageSpec, str]]:
            plan = loaded.plan
            return [*needed((place, plan[place], fingerprints.of(plan[place])) for place in deferred_places),
                    *docs_here]

        if progress:
            kept = len(loaded.plan) - len(todo) - len(deferred_places)
            progress(f"rendering {len(todo)} changed files, keeping {kept}"
                     + (f"; the search index's {len(deferred_places)} files as it is built"
                        if deferred_places else ""))

        later: list[tuple[PageSpec, str]] = []
        taken = _Taken(manifest, last.names_files, sink)
        if pool is not None and len(todo) > _WORKERS_FROM:
            # What is asked of the last build's manifest from here on, kept apart from it: the
            # entries of the files deferred, and of the earlier files whose words the workers
            # read (see _documents_apart).
            plan = loaded.plan
            last.let_go([*(plan[place].output_file for place in deferred_places),
                         *renderer.search.earlier_files()])
            # Memory freed but held (fingerprinting's, the manifest's) is given back first: each
            # worker forked would count it in its own size too.
            release_freed_memory()
            with (renderer.search.holding_state(spool),
                  pool.started(_render_in_worker, todo, _render_setup, (renderer, sink, index_in_workers))
                  as batches):
                results = (r for batch in batches for r in batch)
                if index_in_workers:
                    renderer.search.use_indexed(_gathered(itertools.islice(results, len(doc_specs)), taken))
                jobs = deferred_needed()  # builds the search index, and holds its state
                release_freed_memory()  # the postings, once held packed
                taken.take(_rendered_here(renderer, sink, jobs), by_worker=False)
                taken.take(results, by_worker=True)
        else:
            todo += deferred_needed()
            if render_at_most is not None:
                todo, later = first_to_render(todo, render_at_most)
            taken.take(_rendered_here(renderer, sink, todo), by_worker=False)
        left = frozenset(spec.output_file for spec, _ in later)
        return taken.outcome(len(loaded.plan), renderer, fingerprints, left)


_WORKERS_FROM = 50  # files to render: below, forking the workers costs more than they save
# The kinds of a large site's largest files: a publisher's page names every briefing that cites
# it (3-4 MB each at 50,000 briefings), a sitemap part up to 50,000 pages.
_LARGEST = frozenset({PUBLISHER, SITEMAP, SITEMAP_PART})


def _render_everything(loaded: Loaded, renderer: Renderer, sink: Sink, pool: WorkerPool,
                       doc_specs: list[PageSpec], read_fingerprints: Callable[[], Fingerprints],
                       note_readers: bool, spool: Path | None, progress: Progress | None) -> RenderOutcome:
    """render_site with no earlier manifest (a first build, or one without a cache): every
    file is made, whatever its fingerprint, so the workers fork before anything is
    fingerprinted and start at once, on the search documents' files first, whose postings
    this process gathers into the index as they come (with search on), then writes the index's
    own files; only then does it find the fingerprints the manifest keeps, while the workers
    render the rest. Forked first, the workers neither inherit the fingerprints and the
    manifest (at 50,000 briefings 60-75 MB in each) nor wait for them, and this process does
    not hold the manifest while it gathers the postings."""
    from briefgen.build.heap import release_freed_memory

    plan = loaded.plan
    sink.expect(len(plan), len(plan))
    # Each file's place in the plan, by what is done with it, in one pass over the plan: the
    # manifest's entries are by place. The largest files are rendered first after the documents'
    # (which the index waits for): the plan puts them last, where both workers made them at once,
    # each holding a few megabytes of a page as it was joined, at the build's largest (at 50,000
    # briefings, 15-20 MB more in each).
    docs, deferred_places, largest, rest = array("l"), array("l"), array("l"), array("l")
    for place, spec in enumerate(plan):
        kind = spec.kind
        if kind is SEARCH_DOC:
            docs.append(place)
        elif kind in SEARCH_INDEX_KINDS:
            deferred_places.append(place)
        else:
            (largest if kind in _LARGEST else rest).append(place)
    # In the documents' order, as doc_specs.
    doc_places = array("l", sorted(docs, key=lambda place: plan[place].args[0]))
    other_places = largest + rest
    del docs, largest, rest
    if len(doc_places) != len(doc_specs):
        raise RuntimeError("the search documents to render are not the plan's")
    if progress:
        index_files = (f"; the search index's {len(deferred_places)} files as it is built"
                       if deferred_places else "")
        progress(f"rendering {len(doc_places) + len(other_places)} changed files, keeping 0{index_files}")
    # The workers are given places in the plan they inherit, not its specs: a job as a (spec,
    # digest) tuple was 9 MB at 50,000 briefings, in this process and in each worker forked.
    jobs = array("l", doc_places)
    jobs.extend(other_places)
    manifest = PlannedManifest(PlanFiles(plan))
    taken = _Taken(manifest, False, sink)
    release_freed_memory()  # what planning let go of, which each worker forked would count too
    with (renderer.search.holding_state(spool),
          pool.started(_render_place_in_worker, jobs, _render_setup, (renderer, sink, bool(doc_specs)))
          as batches):
        del jobs
        results = (r for batch in batches for r in batch)
        if doc_specs:
            renderer.search.use_indexed(_gathered(itertools.islice(results, len(doc_specs)), taken,
                                                  iter(doc_places)))
            renderer.search.index()  # every document's postings, gathered as the workers send them
            # The index's own files next, before any fingerprint: each term shard's entries are
            # let go of once its file is written, and the fingerprints then take their place (at
            # 50,000 briefings the entries were 30-40 MB, held while every fingerprint was found).
            # Their fingerprints, digests of their bytes that the index keeps, are found below.
            taken.take(_rendered_here(renderer, sink, [(plan[place], "") for place in deferred_places]),
                       by_worker=False, places=deferred_places)
            release_freed_memory()  # the postings, packed and written
        # The workers are forked: this process alone finds the fingerprints.
        fingerprints = read_fingerprints()
        found = fingerprints.of_plan(note_readers, defer=SEARCH_INDEX_KINDS, fork=False)
        for place, (spec, fingerprint) in enumerate(zip(plan, found, strict=True)):
            if spec.kind not in SEARCH_INDEX_KINDS:
                manifest.set_fingerprint(place, fingerprint)
        del found
        for place in deferred_places:
            manifest.set_fingerprint(place, fingerprints.of(plan[place]))
        # What finding them let go of (at 50,000 briefings about 20 MB), held to the end otherwise,
        # while the workers, at their largest, finish.
        release_freed_memory()
        taken.take(results, by_worker=True, places=other_places)
    return taken.outcome(len(plan), renderer, fingerprints, frozenset())


_COMPARED_AT_ONCE = SEARCH_INDEX_KINDS | {ASSET, STATIC}


def _compare_rest(plan: Sequence[PageSpec], fingerprints: Fingerprints, manifest: PlannedManifest,
                  last: _LastManifest, later: Sequence[int], note_readers: bool) -> None:
    """What render_site left for later with `compare_later`: each file at a place in `later` gets
    its fingerprint, and keeps the last build's entry when that is unchanged (the file, rendered
    when asked for, makes the same bytes). With `note_readers`, every file's fingerprint is found,
    noting which files show each briefing."""
    if note_readers:
        found = fingerprints.of_plan(True, defer=SEARCH_INDEX_KINDS)
    for start in range(0, len(later), 512):
        places = later[start:start + 512]
        entries = last.entries([plan[place].output_file for place in places])
        for place, old in zip(places, entries, strict=True):
            fingerprint = found[place] if note_readers else fingerprints.of(plan[place])
            if old is not None and old[0] == fingerprint:
                manifest.keep(place, old)
            else:
                manifest.set_fingerprint(place, fingerprint)


def _rendered_here(renderer: Renderer, sink: Sink, jobs: list[tuple[PageSpec, str]]) -> list[Rendered]:
    with collecting():
        return [render_one(renderer, sink, spec, digest) for spec, digest in jobs]


class _LastManifest:
    """The last build's manifest, as render_site asks it for files' entries. A full build from
    the cache lets go of it while the workers fork, keeping the entries it will still ask for:
    at 50,000 briefings the manifest's row is 15 MB, which every worker would hold and none reads."""

    def __init__(self, files: Mapping[str, tuple[str, str]], cache: BuildCache | None,
                 output: Path | None) -> None:
        """`cache`: the cache whose manifest of `output` `files` is, when it may be let go of."""
        self._files: Mapping[str, tuple[str, str]] | None = files
        self._kept_by = (cache, output) if cache is not None and output is not None else None
        self._kept: dict[str, tuple[str, str] | None] = {}
        self.names_files = bool(files)

    def get(self, rel: str) -> tuple[str, str] | None:
        files = self._files
        if files is None:
            if rel in self._kept:
                return self._kept[rel]
            assert self._kept_by is not None  # only then let go of
            cache, output = self._kept_by
            files = self._files = cache.manifest(output)
        return files.get(rel)

    def entries(self, rels: Sequence[str]) -> list[tuple[str, str] | None]:
        """`get` of each of these files."""
        if self._files is None:
            return [self.get(rel) for rel in rels]
        return manifest_entries(self._files, rels)

    def let_go(self, keeping: Sequence[str]) -> None:
        """Let go of the manifest, keeping these files' entries, when it is the cache's."""
        files = self._files
        if files is None or self._kept_by is None:
            return
        self._kept = dict(zip(keeping, manifest_entries(files, keeping), strict=True))
        self._files = None
        del files
        cache, output = self._kept_by
        cache.forget_manifest(output)


class _Taken:
    """Rendering's results, taken as they come rather than held until the end (140,000 of
    them at 50,000 briefings): each file's digest into the manifest, which already has its
    fingerprint; the files whose bytes changed; the problems."""

    def __init__(self, manifest: PlannedManifest, has_previous: bool, sink: Sink) -> None:
        """`has_previous`: the previous build's manifest names files (each result says whether
        its file's bytes differ from that manifest's)."""
        self.manifest = manifest
        self.has_previous = has_previous
        self.sink = sink
        self.count = 0
        self.changed: set[str] = set()
        self.problems: list[Diagnostic] = []

    def take(self, results: Iterable[Rendered], by_worker: bool, places: Iterable[int] | None = None) -> None:
        """`by_worker`: rendered by a worker process, whose sink was a copy: this one is told.
        `places`: the results' places in the plan, in order, when known; else each file's is
        looked up."""
        if places is None:
            for result in results:
                self.take_one(result, by_worker)
        else:
            for result, place in zip(results, places, strict=True):
                self.take_one(result, by_worker, place)

    def take_one(self, result: Rendered, by_worker: bool, place: int | None = None) -> None:
        manifest, rel_file = self.manifest, result.rel_file
        if place is None:
            place = manifest.place(rel_file)
        elif rel_file != manifest.file(place):
            raise RuntimeError(f"{rel_file}: rendered out of the plan's order")
        self.count += 1
        if result.problem is not None:
            self.problems.append(result.problem)
        elif by_worker:
            self.sink.register(rel_file, kept=result.kept)
        if self.has_previous and result.changed:
            self.changed.add(rel_file)
        manifest.set_digest(place, result.digest)

    def outcome(self, planned: int, renderer: Renderer, fingerprints: Fingerprints,
                left: frozenset[str]) -> RenderOutcome:
        if self.problems:
            raise BuildFailed(self.problems)
        # With no earlier manifest every file is new: not noted one by one (all 141,803 files
        # of a first build at 50,000 briefings).
        changed = self.changed if self.has_previous else self.manifest.keys()
        return RenderOutcome(self.manifest, self.count, planned - self.count - len(left),
                             changed | left if left else changed, renderer, fingerprints, left)


def _format_days(catalog: Catalog, site: Site, cache: BuildCache) -> None:
    """The dates, day headings and times of day of every briefing formatted here, before the
    workers fork: each worker would otherwise format each day it shows (at 50,000 briefings over
    decades, 25,000 days, Babel's 10-20 us each, twice), and a build after it would again. Kept
    in the cache, so that a build formats only what no build had, and an edit in place (which
    reads the same row) need not load Babel's data at all. So are the other dates pages show: a
    briefing's date of update and its sources' dates of publication."""
    rows = cache.state_rows(CATALOG_ROW, remember=True)
    catalog.keep(rows.load([CATALOG_ROW]).get(CATALOG_ROW))
    days = {briefing.date.toordinal() for briefing in site.briefings}
    days.update(briefing.updated.toordinal() for briefing in site.briefings if briefing.updated)
    published = {source.published for briefing in site.briefings for source in briefing.sources}
    days.update(day.toordinal() for day in published if day)
    times = (briefing.date for briefing in site.briefings if isinstance(briefing.doc.date, dt.datetime))
    if catalog.format_ahead(days, times):
        kept = catalog.kept()
        if kept is not None:
            rows.save({CATALOG_ROW: kept}, fresh=False)


def _documents_apart(todo: list[tuple[PageSpec, str]], search: SearchFiles,
                     documents: int) -> tuple[list[tuple[PageSpec, str]], list[tuple[PageSpec, str]]]:
    """The files to render, and apart from them the search documents' that this process renders
    once the index is built, reusing the words indexing split. When many documents' files are
    to be made (briefings added or taken out among older ones move the ids of every newer one),
    those whose words their earlier files hold go with the others to the workers."""
    docs = [job for job in todo if job[0].kind is SEARCH_DOC]
    # Finding them costs every document's key; below this, their files cost less to make here.
    kept = search.words_kept() if len(docs) > max(_MANY_DOCUMENTS, documents // 32) else frozenset()
    return ([job for job in todo if job[0].kind is not SEARCH_DOC or job[0].args[0] in kept],
            [job for job in docs if job[0].args[0] not in kept])


_MANY_DOCUMENTS = 50


@quick_pickle
@dataclass(frozen=True, slots=True)
class Rendered:
    """One file rendered (or kept): its digest, or the problem that stopped it. With slots:
    the workers' results wait in the build's process while it gathers the search index and
    fingerprints every file (tens of thousands at 50,000 briefings)."""

    rel_file: str
    digest: str
    problem: Diagnostic | None = None
    kept: bool = False  # the bytes equal the previous build's, whose file was kept
    changed: bool = True  # the bytes differ from what the previous build's manifest says it wrote
    indexed: IndexedDoc | None = None  # a search document's postings, made as its file was


def _gathered(results: Iterator[Rendered], taken: _Taken, places: Iterator[int] | None = None
              ) -> Iterator[IndexedDoc]:
    """The postings of the documents' results, in order, as the workers send them; the
    results themselves taken at once (at 50,000 briefings, 50,000 of them held until every
    file's fingerprint was found). `places`: theirs in the plan, in order, when known."""
    for result in results:
        if result.indexed is None:  # every result of _render_indexed has them
            raise RuntimeError(f"{result.rel_file}: rendered without its postings")
        taken.take_one(result, by_worker=True, place=None if places is None else next(places))
        yield result.indexed


def render_one(renderer: Renderer, sink: Sink, spec: PageSpec, previous_digest: str) -> Rendered:
    """Render and write one file; identical bytes keep the previous file and its mtime."""
    try:
        data = renderer.render(spec)
    except RenderError as exc:
        return Rendered(spec.output_file, "", exc.diagnostic)
    return _write(sink, spec, data, previous_digest)


def _write(sink: Sink, spec: PageSpec, data: bytes, previous_digest: str,
           indexed: IndexedDoc | None = None) -> Rendered:
    digest = _digest(data)
    if digest == previous_digest and sink.reuse(spec.output_file):
        return Rendered(spec.output_file, digest, kept=True, changed=False, indexed=indexed)
    sink.write(spec.output_file, data)
    return Rendered(spec.output_file, digest, changed=digest != previous_digest, indexed=indexed)


def _digest(data: bytes) -> str:
    """What the manifest records of a file's bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def earlier_files(output: Path, recorded: Callable[[str], tuple[str, str] | None]
                  ) -> Callable[[str], bytes | None]:
    """A reader of the files in `output` as the build whose manifest `recorded` reads (an output
    path's fingerprint and digest) wrote them, by output path: None for a file gone or changed since."""
    def earlier_file(rel_file: str) -> bytes | None:
        entry = recorded(rel_file)
        if entry is None:
            return None
        try:
            data = (output / rel_file).read_bytes()
        except OSError:
            return None
        return data if _digest(data) == entry[1] else None

    return earlier_file


# Summaries a worker keeps (see Views.hold_summaries). Rendering every page of 10,000 `long`
# briefings, a worker was asked for 44,000-58,000 summaries: 67-73% were among the last 8,000 it
# was asked for, 78% among all it had made.
_SUMMARIES_HELD = 8192


def _render_setup(renderer: Renderer, sink: Sink, index: bool) -> tuple[Renderer, Sink, bool]:
    renderer.views.hold_summaries(_SUMMARIES_HELD)  # this worker's copy
    return renderer, sink.in_worker(), index


def _render_in_worker(context: tuple[Renderer, Sink, bool], job: tuple[PageSpec, str]) -> Rendered:
    renderer, sink, index = context
    spec, previous_digest = job
    if index and spec.kind is SEARCH_DOC:
        return _render_indexed(renderer, sink, spec, previous_digest)
    return render_one(renderer, sink, spec, previous_digest)


def _render_place_in_worker(context: tuple[Renderer, Sink, bool], place: int) -> Rendered:
    """_render_in_worker for a file of the plan the worker inherited, new to the output."""
    return _render_in_worker(context, (context[0].plan[place], ""))


def _render_indexed(renderer: Renderer, sink: Sink, spec: PageSpec, previous_digest: str) -> Rendered:
    """A search document's file, written as render_one writes any, with the document's postings."""
    data, indexed = renderer.search.render_indexed(spec.args[0])  # no template: no RenderError
    return _write(sink, spec, data, previous_digest, indexed)
