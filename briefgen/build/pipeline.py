"""The `build` command's pipeline: check the output folder, skip a build whose inputs
are unchanged, then load, render and commit the site atomically."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen.build import memo
from briefgen.build.inputs import ContentFiles, global_inputs, inputs_digest, listed_content_stats
from briefgen.build.options import BuildOptions, Progress
from briefgen.build.store import STORE, ReadAhead, edit_rows
from briefgen.build.write import MARKER, OutputWriter, check_output_dir, recover_interrupted
from briefgen.config import Config, load_config
from briefgen.content.files import FolderListing
from briefgen.diagnostics import BuildFailed, Diagnostic, UsageError, error
from briefgen.tomlkeys import locate_key

if TYPE_CHECKING:
    from briefgen.build.cache import BuildCache
    from briefgen.build.in_place import InPlace
    from briefgen.build.loading import Loaded
    from briefgen.build.workers import WorkerPool


@dataclass(frozen=True)
class BuildResult:
    """What a build did: its counts, its warnings and how long it took."""

    output: Path
    briefings: int
    pages: int
    rendered: int
    reused: int
    warnings: tuple[Diagnostic, ...]
    seconds: float
    drafts_left_out: int = 0
    future_left_out: int = 0
    in_place: bool = False  # rebuilt from the last build's snapshot (see in_place.py)
    # The build's model and what it read, held by the result so that a caller about to exit can
    # keep them to the end: freeing them object by object takes a fifth of a second at 10,000
    # briefings.
    model: object = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class OutputState:
    """The last build into an output folder, against what a build would read now."""

    global_digest: str  # see inputs.global_inputs
    inputs: str  # see inputs.inputs_digest
    last: memo.LastBuild | None  # its record, the folders not read (memo.with_folders reads them)
    as_left: bool  # the output's folders are as that build left them

    def current(self, now: dt.datetime) -> bool:
        """Whether a build now would leave the output as it is."""
        last = self.last
        return (last is not None and self.as_left and last.inputs == self.inputs
                and (last.valid_until is None or now < last.valid_until))


def output_state(config: Config, options: BuildOptions, output: Path,
                 found: ContentFiles) -> OutputState:
    """The last build into `output` against what a build would read now (`found`: the content
    files' stats). A build takes the same steps with others between them (see _build)."""
    global_digest = global_inputs(config, options, output)
    inputs = inputs_digest(global_digest, found)
    if not options.use_cache:
        return _output_state(output, global_digest, inputs, None)
    with memo.checking_output(config.cache_dir, output, fork=False) as check:
        return _output_state(output, global_digest, inputs, check)


def _edit_read_ahead(config: Config, output: Path, record: memo.LastBuild | None, inputs: str,
                     found: ContentFiles, known: Mapping[str, FolderListing], now: dt.datetime,
                     leaving_out: tuple[bool, bool]) -> ReadAhead | None:
    """When the inputs changed since the last build by edits alone, as far as their stats
    tell, or by briefings it left out added or removed: the rows an edit in place reads, read
    ahead by a thread, and the modules it needs imported meanwhile. All before the output's
    folders' times are asked for, which a forked copy takes the while (see
    memo.checking_output): 10,000 briefings' edit waited 10-20 ms for them, 50,000 briefings' 50 ms."""
    if record is None or record.inputs == inputs:
        return None
    if record.briefing_files_added(found):
        # Told from the content folders' listings and the files added, not from the snapshot
        # (64-93 ms to read at 50,000 briefings), which a briefing to publish would read for nothing.
        from briefgen.build.in_place import left_out_come_and_go

        if not left_out_come_and_go(config, record, found, known, now, leaving_out):
            return None
    read_ahead = ReadAhead(config.cache_dir / STORE, edit_rows(str(output)))
    import briefgen.build.in_place  # noqa: F401  (the edit's modules, while the rows are read)

    return read_ahead


def _edited(config: Config, output: Path, found: ContentFiles, global_digest: str, inputs: str,
            now: dt.datetime, check: memo.OutputCheck, read_ahead: ReadAhead,
            leaving_out: tuple[bool, bool]) -> InPlace | None:
    """Briefings edited since the last build, rebuilt in place (see in_place.py); None when a
    full build is needed. The output's folders are looked at meanwhile, by a forked copy: the
    edit asks whether they are as the last build left them just before it changes the output
    (at 50,000 briefings the copy takes about 0.24 s, which the edit no longer waits for)."""
    from briefgen.build.in_place import build_in_place

    record = check.record
    if record is None:
        return None
    memo.forget(config.cache_dir, output)
    last = memo.with_folders(config.cache_dir, output, record, read_ahead)  # None: not stored whole
    if last is None:
        return None
    return build_in_place(config, output, found, global_digest, inputs, now, last, check.folders_as_left,
                          read_ahead, leaving_out)


def _output_state(output: Path, global_digest: str, inputs: str, check: memo.OutputCheck | None
                  ) -> OutputState:
    if check is None:  # no cache: no last build to start from
        return OutputState(global_digest, inputs, None, False)
    # The folders' times catch a file deleted by hand from the output, which
    # no input records; a changed file is the user's own doing and stays.
    as_left = check.record is not None and (output / MARKER).is_file() and check.folders_as_left()
    return OutputState(global_digest, inputs, check.record, as_left)


def protected_paths(config: Config) -> list[Path]:
    return [config.content_dir, config.templates_dir, config.static_dir, config.themes_dir,
            config.config_path, config.cache_dir]


def build(root: Path, options: BuildOptions | None = None,
          progress: Progress | None = None) -> BuildResult:
    # A build allocates many long-lived objects and frees few cycles; the cyclic
    # collector would rescan the growing heap again and again for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(root, options or BuildOptions(), progress)
    finally:
        if collecting:
            # Frozen first: else the collector's next pass would scan every object the
            # build allocated (a fifth of a second after an edit at 10,000 briefings).
            gc.freeze()
            gc.enable()


def _build(root: Path, options: BuildOptions, progress: Progress | None) -> BuildResult:
    started = time.perf_counter()
    root = root.resolve()
    config = load_config(root, options.config)
    output = (options.output or config.output_dir).resolve()
    recover_interrupted(output)
    checked_output_dir(config, root, output, given=options.output is not None)
    memo.check_cache_folder(config.cache_dir)
    # With cores to spare, the output's folders are looked at by a forked copy of this process,
    # at a lower priority, while this one and another copy look at the content files from both
    # ends: all three are long runs of stat calls. An edit in place goes on once the content
    # files are looked at, and asks for the folders' times only before it writes; a build that
    # changes nothing takes its share of the folders. (Forked after the content files, the
    # folders' copy made a build that changes nothing 40 ms slower at 50,000 briefings.)
    checking = (memo.checking_output(config.cache_dir, output, fork=options.jobs > 1)
                if options.use_cache else contextlib.nullcontext(None))
    read_ahead = None
    try:
        with checking as check:
            known = memo.read_listing(config.cache_dir, config.content_dir) if options.use_cache else {}
            found, listing = listed_content_stats(config, known, fork=options.jobs > 1)
            global_digest = global_inputs(config, options, output)
            inputs = inputs_digest(global_digest, found)
            now = options.now or dt.datetime.now(dt.UTC)
            if check is not None:
                read_ahead = _edit_read_ahead(config, output, check.record, inputs, found, known, now,
                                              (options.drafts, options.future))
            # What the build read is handed over with the result, as its model is: freed on
            # return, 50,000 content files' stats took 6 ms for nothing.
            read = (found, listing, known)
            if options.use_cache:
                memo.keep_listing(config.cache_dir, config.content_dir, listing, known)
            if check is not None and read_ahead is not None:
                edited = _edited(config, output, found, global_digest, inputs, now, check, read_ahead,
                                 (options.drafts, options.future))
                if edited is not None:
                    return BuildResult(output, edited.briefings, edited.files, edited.rendered,
                                       edited.files - edited.rendered, edited.warnings,
                                       time.perf_counter() - started,
                                       edited.drafts_left_out, edited.future_left_out, in_place=True,
                                       model=(edited.model, read))
            state = _output_state(output, global_digest, inputs, check)
        last = state.last
        if options.use_cache:
            if last is not None and state.current(now):
                return BuildResult(output, last.briefings, last.files, 0, last.files, last.warnings,
                                   time.perf_counter() - started, last.drafts_left_out, last.future_left_out,
                                   model=read)
            memo.forget(config.cache_dir, output)
            if last is not None:
                last = memo.with_folders(config.cache_dir, output, last)  # None: not stored whole
    finally:
        if read_ahead is not None:
            read_ahead.close()  # its thread, before a full build forks
    # Only a build that has something to do needs the parsers and renderers.
    from briefgen.build.cache import BuildCache
    from briefgen.build.workers import WorkerPool

    cache = BuildCache.open(config.cache_dir) if options.use_cache else None
    pool = WorkerPool(options.jobs) if options.jobs > 1 else None
    scratch = contextlib.ExitStack()
    # What parsing and rendering keep: the cache, or without one a scratch cache for bodies.
    kept = cache if cache is not None else scratch.enter_context(BuildCache.scratch())
    with scratch:
        return _built(root, options, progress, started, config, output, state, last, cache, kept, pool,
                      found)


def _import_rendering() -> None:
    """Import what a full build needs once its files are parsed (Jinja2, the renderer, the
    search index, the checks, Babel's dates), while worker processes parse them: this process
    only waits for them then, and these imports (about 60 ms) otherwise came after parsing,
    with the other core idle. The workers fork before, and have no use for them."""
    import babel.dates  # noqa: F401

    from briefgen.build import rendering, snapshot  # noqa: F401
    from briefgen.site import verify  # noqa: F401


def _built(root: Path, options: BuildOptions, progress: Progress | None, started: float,
           config: Config, output: Path, state: OutputState, last: memo.LastBuild | None,
           cache: BuildCache | None, kept: BuildCache, pool: WorkerPool | None,
           found: ContentFiles) -> BuildResult:
    """A full build, into the writer's staging folder, then committed."""
    from briefgen.build.heap import release_freed_memory
    from briefgen.build.loading import load, read_sources

    try:
        loaded = load(root, replace(options, output=output), kept, pool, progress,
                      lambda config: read_sources(config, cache, found), meanwhile=_import_rendering)
    except BuildFailed:
        # Keep what was parsed: fixing one file should not mean parsing all again.
        if cache:
            cache.save()
        raise
    kept.done_parsing()
    # Here, not at the top: imported while the workers parsed (see _import_rendering), which
    # fork without them.
    from briefgen.build import snapshot
    from briefgen.build.rendering import render_site
    # The content files' paths and stats were for finding what to parse: not held through
    # rendering (the model keeps the stats it needs). The caller's ContentFiles is this one:
    # cleared, not let go of.
    content_files = len(found)
    found.clear()
    if progress:
        progress(f"{loaded.briefing_count} briefings, {len(loaded.plan)} files planned "
                 f"({time.perf_counter() - started:.1f} s)")
    release_freed_memory()  # the parsed bodies, stored in the cache by now
    # When the output's folders are as the last build left them, so are its files: the
    # manifest's need not be looked at one by one (a stat each, 140,000 at 50,000 briefings).
    listed = bool(cache.manifest(output)) if cache else False
    writer = OutputWriter(output, listed_present=listed and state.as_left, kept_by_plan=True)
    snapshot_copy = contextlib.ExitStack()
    try:
        # The last build's manifest is not held here while rendering, which lets go of it
        # while the workers fork; it is read again after.
        outcome = render_site(loaded, writer, cache.manifest(output) if cache else {}, pool, kept, progress,
                              note_readers=bool(cache), earlier=output if cache else None,
                              previous_from_cache=bool(cache))
        previous = cache.manifest(output) if cache else {}
        release_freed_memory()  # what rendering let go, before the cache and snapshot are written
        # Pickled by a forked copy while the output is committed, into files this process
        # then writes from: pickled here, at 50,000 briefings the pickler's memo alone was the
        # build's peak of memory (29 MB over what rendering had left), and took two seconds.
        if cache:
            # Without a cache (`--no-cache`) there is no snapshot, nor its fingerprint state to make.
            made = snapshot.Snapshot(str(output), state.global_digest, loaded, outcome.fingerprints.state())
            write_snapshot = snapshot_copy.enter_context(snapshot.writing(cache.store, made,
                                                                          fork=options.jobs > 1))
            snapshot.drop(cache.store)
            # Until the new output is in place and recorded, the cache vouches only
            # for files this build leaves as they are: a build killed in between
            # must not have a later one keep a replaced page as if it were the old.
            # The others, old and new, stay known: a later build that no longer
            # plans one of them must remove it from the output.
            cache.set_manifest(output, _pending(outcome.manifest, previous))
            cache.save()
        writer.commit(previous.keys() if previous else None, planned=outcome.manifest)
    except BaseException:
        writer.abort()
        snapshot_copy.close()
        raise
    with snapshot_copy:
        if cache:
            cache.set_manifest(output, outcome.manifest)
            cache.save()
            # What the commit needed and nothing after does: the last build's manifest (at 50,000
            # briefings, 141,803 files and their digests; the cache holds the new one now) and
            # the writer's notes of every file. Let go of before the folders' list and times are
            # made, the tail's peak of memory.
            previous = {}
            writer.let_go()
            release_freed_memory()
            folders = memo.output_folders(outcome.manifest)
            # The folders the commit did not touch have the times the build started from.
            times = (memo.refreshed_times(output, last, folders, writer.changed_files)
                     if last is not None and state.as_left and writer.changed_files is not None
                     else memo.folder_times(output, folders))
            if times is not None:
                write_snapshot()
                # A build with warnings says them again when a later one skips its work.
                memo.write_last_build(config.cache_dir, output, memo.LastBuild(
                    state.inputs, len(loaded.plan), loaded.briefing_count, loaded.next_release,
                    loaded.drafts_left_out, loaded.future_left_out, folders, times,
                    content_files=content_files, warnings=tuple(loaded.warnings),
                    left_out=loaded.left_out_paths()))
    return BuildResult(output, loaded.briefing_count, len(loaded.plan), outcome.rendered,
                       outcome.reused, tuple(loaded.warnings), time.perf_counter() - started,
                       loaded.drafts_left_out, loaded.future_left_out, model=(loaded, outcome, cache))


def _pending(made: Mapping[str, tuple[str, str]], previous: Mapping[str, tuple[str, str]]
             ) -> Mapping[str, tuple[str, str]]:
    """The manifest while a build's files are put in place: the files it left as they were,
    and every other file it made or the last build had, not vouched for (manifest.Pending)."""
    from briefgen.build.manifest import Pending

    return Pending(made, previous)


class _Discard:
    """A sink that keeps nothing: `check` renders every page only to meet its errors."""

    def expect(self, writing: int, planned: int) -> None:
        pass

    def reuse(self, rel_file: str) -> bool:
        return False

    def write(self, rel_file: str, data: bytes) -> None:
        pass

    def register(self, rel_file: str, kept: bool) -> None:
        pass

    def in_worker(self) -> _Discard:
        return self


def checked_output_dir(config: Config, root: Path, output: Path, given: bool) -> None:
    """check_output_dir; the configured folder refused is an error at its key in the settings
    (`given`: the folder came from --output, a usage error as it was)."""
    try:
        check_output_dir(output, root, protected_paths(config))
    except UsageError as refused:
        if given:
            raise
        path = config.config_path
        line, column = locate_key(path.read_text(encoding="utf-8-sig"), "build", "output")
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        raise BuildFailed([error(shown, line, column, str(refused))]) from None


def check(root: Path, options: BuildOptions | None = None) -> Loaded:
    """Every validation of a build, rendering included, drafts and future briefings
    included; writes nothing. Raises BuildFailed as a build would."""
    from briefgen.build import loading, rendering
    from briefgen.build.cache import BuildCache
    from briefgen.build.workers import WorkerPool

    options = options or BuildOptions()
    config = load_config(root.resolve(), options.config)
    # As a build would refuse it: the folder is only looked at, not written.
    checked_output_dir(config, root.resolve(), (options.output or config.output_dir).resolve(),
                       given=options.output is not None)
    pool = WorkerPool(options.jobs) if options.jobs > 1 else None
    # The build's cache, only read: a file the last build parsed is not parsed again, and the
    # bodies come from it. Whatever a check parses or indexes afresh is kept in memory only;
    # with no build's cache to read (a site not built yet), in a scratch cache instead: a
    # check of a whole site parses every file (see BuildCache.scratch).
    cache = (BuildCache.open(config.cache_dir, writable=False)
             if options.use_cache else None)
    scratch = contextlib.ExitStack()
    if cache is None or not cache.knows_any():
        if cache is not None:
            cache.store.close()
        cache = scratch.enter_context(BuildCache.scratch())
    with scratch:
        try:
            loaded = loading.check(root, options, cache, pool)
            rendering.render_site(loaded, _Discard(), {}, pool, cache)
        finally:
            cache.store.close()
    return loaded
