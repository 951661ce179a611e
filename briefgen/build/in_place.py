"""`build` after briefings were edited in place: the common save, at the cost of
what it changes rather than of the whole site.

The last full build left a snapshot (snapshot.py). If every input but the
content files is as it was then, and the only content files changed are published
briefings (or briefings the build left out, which it leaves out still), or else
archived copies of sources and registries that add sources (files added, none
removed), the build starts from the snapshot and takes the preview's own path
(edits.py): parse the changed files, check that the model around them is unchanged
(for an archive, check the briefings that cite it against it again), render the
files that show them and whose fingerprints changed. Anything else, or any doubt,
returns None and the caller makes a full build.

Briefings the build leaves out may also come and go: a draft or a briefing dated in
the future added (what `briefgen new` writes), or one the build left out removed.
No file shows them, so the output stays as it is; the snapshot and the build's
record learn of them (a future one's date says when a build must publish it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from briefgen.build import memo, snapshot
from briefgen.build.cache import StateRows, body_key, stored_html
from briefgen.build.columns import Positions
from briefgen.build.edits import Baseline, edit_in_place
from briefgen.build.fingerprint import Fingerprints
from briefgen.build.inputs import ContentFiles, files_added_and_gone
from briefgen.build.loading import Loaded, SourceFile, parse_key, read_file
from briefgen.build.manifest import UNVOUCHED, KeptManifest, Manifest, manifest_delta_rows, read_kept_manifest
from briefgen.build.rendering import earlier_files
from briefgen.build.store import CATALOG_ROW, STORE, ReadAhead, Store
from briefgen.build.template_cache import TemplateCache
from briefgen.build.write import OutputWriter
from briefgen.config import Config
from briefgen.content.files import FolderListing
from briefgen.content.markup import Converter
from briefgen.content.records import parse_briefing
from briefgen.diagnostics import Diagnostic
from briefgen.render.renderer import Renderer, make_environment
from briefgen.site.model import is_published, to_site_time


@dataclass(frozen=True)
class InPlace:
    """What a build in place did, as the build's result reports it."""

    rendered: int
    files: int
    briefings: int
    drafts_left_out: int
    future_left_out: int
    # The last build's, which hold: an edit of a file with warnings makes a full build, and
    # an edit in place changes nothing that a check across files reads.
    warnings: tuple[Diagnostic, ...] = ()
    model: object = field(default=None, repr=False, compare=False)  # see BuildResult.model


def build_in_place(config: Config, output: Path, found: ContentFiles, global_digest: str,
                   inputs: str, now: dt.datetime, last_build: memo.LastBuild,
                   as_left: Callable[[], bool], read_ahead: ReadAhead | None = None,
                   leaving_out: tuple[bool, bool] = (False, False)) -> InPlace | None:
    """Rebuild after briefings were edited in place; None when a full build is needed.
    `last_build` is the record of the last build; `as_left`, whether the output is as it left
    it, asked before anything is written (a full build takes what is not); `read_ahead`, the
    store's edit_rows being read already; `leaving_out`, the build's options `drafts` and
    `future` (which publish what it would otherwise leave out)."""
    if abs(last_build.briefing_files_added(found)) > memo.MAX_CHANGED_IN_PLACE:
        return None  # many briefings added or removed, known without reading the snapshot
    store = Store(config.cache_dir / STORE, read_ahead=read_ahead)
    attempt = _Attempt()
    built = None
    try:
        built = _build(store, attempt, config, output, found, global_digest, inputs, now, last_build, as_left,
                       leaving_out)
    except snapshot.DamagedRow as damaged:
        # Rows are kept by name from one snapshot to the next: this one must be written again.
        with contextlib.suppress(OSError):
            snapshot.forget_row(store, damaged.row)
    except OSError:
        # A cache that cannot give what the snapshot names (a body): the full build reads it
        # with its own checks, and reports whatever is really wrong.
        pass
    finally:
        store.close()
    if built is None and attempt.set_up:
        # A full build follows, with the cyclic collector off: what this attempt set up (a
        # renderer, whose Jinja environment holds it in a cycle, and the snapshot it reads)
        # would stay through all of it. 32,000 objects and 45 ms at 10,000 briefings.
        gc.collect()
    return built


@dataclass
class _Attempt:
    """How far an attempt at an edit in place got."""

    set_up: bool = False  # a renderer was made for the edit


def _build(store: Store, attempt: _Attempt, config: Config, output: Path, found: ContentFiles,
           global_digest: str, inputs: str, now: dt.datetime, last_build: memo.LastBuild,
           as_left: Callable[[], bool], leaving_out: tuple[bool, bool]) -> InPlace | None:
    last = snapshot.read(store, str(output))
    if last is None or last.global_inputs != global_digest:
        return None
    loaded = last.loaded
    if loaded.next_release is not None and now >= loaded.next_release:
        return None  # a briefing dated in the future has come due
    changed, gone = snapshot.changed_content(loaded.content, found.shown_joined(config.root), found.stats)
    if not (changed or gone) or len(changed) + len(gone) > memo.MAX_CHANGED_IN_PLACE:
        return None
    if gone and not gone_unseen(gone, loaded):
        return None
    files: dict[str, SourceFile] = {}
    content: snapshot.ContentChanges = dict.fromkeys(gone)
    added: set[str] = set()
    for at, known_digest in changed:
        kind, path, _ = found[at]
        shown = found.shown_at(config.root, at)
        try:
            file = read_file(kind, path, shown)
        except OSError:
            return None  # the full build reports it
        content[shown] = (file.stat, file.digest)
        if file.digest != known_digest:
            files[shown] = file
        if not known_digest and kind == "briefing":
            added.add(shown)
    converter = Converter()
    left_out = {shown: file for shown, file in files.items()
                if shown in loaded.drafts or shown in loaded.scheduled}
    if left_out:
        if not still_left_out(left_out, loaded, converter):
            return None
        files = {shown: file for shown, file in files.items() if shown not in left_out}
        added.difference_update(left_out)  # known, its digest unknown (see delta_rows): checked above
    comes_and_goes: dict[str, snapshot.LeftOut] = dict.fromkeys(gone)
    if added:
        found_left_out = newly_left_out({shown: files[shown] for shown in added},
                                        zoneinfo.ZoneInfo(config.site.timezone), converter, now, leaving_out)
        if found_left_out is None:
            return None  # a briefing to publish: a full build places it
        comes_and_goes.update(found_left_out)
        files = {shown: file for shown, file in files.items() if shown not in added}
    loaded = snapshot.with_left_out(loaded, comes_and_goes)
    kept_manifest = read_kept_manifest(store, output, packed=True) if files else KeptManifest({}, "", {})
    manifest = kept_manifest.files
    change = snapshot.Delta.of_content(content, comes_and_goes)  # what the snapshot's delta gains
    rendered: Manifest = {}
    written: frozenset[str] = frozenset()
    if files:
        writer = OutputWriter(output)
        attempt.set_up = True
        try:
            edited = edit_in_place(snapshot_baseline(store, last), files, converter, manifest, writer,
                                   earlier_files(output, manifest.get))
            # Asked once the edit is made, before anything is written: the forked copy that
            # looks at the output's folders has most often finished by now.
            if edited is None or not as_left():
                writer.abort()
                return None
            key = parse_key()
            for briefing in edited.replaced.values():
                store.put(body_key(briefing.doc, key), briefing.doc.body.html)
            if not store.write_pending():
                writer.abort()
                return None
            # Until the new files are in place, the manifest vouches only for the files this
            # edit leaves as they are, and the snapshot knows the edited files' digests no
            # more: a build killed in between must not take the old output for the new.
            kept, kept_dropped, kept_manifest = manifest_delta_rows(store, output, kept_manifest,
                                                                    dict.fromkeys(edited.manifest, UNVOUCHED))
            unknown = snapshot.delta_rows(store, last, snapshot.Delta.of_content(
                {shown: (f.stat, "") for shown, f in files.items()}))
            if unknown is None:
                snapshot.drop(store, kept, also=kept_dropped)
            else:
                store.write_state({**kept, **unknown}, drop=kept_dropped)
            writer.commit_in_place()
        except BaseException:
            writer.abort()
            raise
        rendered, written = edited.manifest, edited.changed_files
        change = snapshot.Delta(edited.replaced, content, edited.archives, edited.passages, edited.sources,
                                edited.publishers, edited.related, edited.readers, comes_and_goes)
    elif not as_left():
        return None
    delta = snapshot.delta_rows(store, last, change)
    values, dropped, _ = (manifest_delta_rows(store, output, kept_manifest, dict(rendered))
                          if rendered else ({}, (), kept_manifest))
    if delta is None:
        snapshot.drop(store, values, also=dropped)
    else:
        store.write_state({**values, **delta}, drop=dropped)
    times = memo.refreshed_times(output, last_build, last_build.folders, written)
    if times is not None:
        memo.write_last_build(config.cache_dir, output,
                              replace(last_build, inputs=inputs, folder_times=times,
                                      content_files=len(found), valid_until=loaded.next_release,
                                      drafts_left_out=loaded.drafts_left_out,
                                      future_left_out=loaded.future_left_out,
                                      left_out=loaded.left_out_paths()))
    return InPlace(len(rendered), len(loaded.plan), loaded.briefing_count,
                   loaded.drafts_left_out, loaded.future_left_out, tuple(loaded.warnings), model=last)


def still_left_out(files: dict[str, SourceFile], loaded: Loaded, converter: Converter) -> bool:
    """Whether these files, briefings the last build left out, are left out still for the same
    reason and parse without a problem: a draft is a draft still; a briefing dated in the future
    is no draft and keeps its date (which says when a build must publish it). A build checks no
    more of a briefing it leaves out, and no file shows one: the output stays as it is. A file
    with a warning may have lost it, which a full build tells."""
    if any(problem.path in files for problem in loaded.warnings):
        return False
    zone = zoneinfo.ZoneInfo(loaded.config.site.timezone)
    for shown, file in files.items():
        try:
            data = file.bytes()
        except OSError:
            return False  # the full build reports it
        doc, problems = parse_briefing(shown, data, converter)
        if doc is None or problems:
            return False
        if shown in loaded.drafts:
            if not doc.draft:
                return False
        elif doc.draft or to_site_time(doc.date, zone) != loaded.scheduled[shown]:
            return False
    return True


def left_out_come_and_go(config: Config, record: memo.LastBuild, found: ContentFiles,
                         known: Mapping[str, FolderListing], now: dt.datetime,
                         leaving_out: tuple[bool, bool]) -> bool:
    """Whether the briefing files added and removed since the last build (`record`) may all be
    briefings a build leaves out, as far as the content folders' listings (`known`, the last
    build's), the record and the files added tell: each one gone was left out, each one added
    is to be left out. Asked before the snapshot is read, which tells the rest (see _build)."""
    if record.left_out is None:
        return False  # a record of an earlier version
    changes = files_added_and_gone(known, found, config, "briefing")
    if changes is None or len(changes[0]) - len(changes[1]) != record.briefing_files_added(found):
        # A folder new, or one changed too soon before a build to be listed then (files.SETTLED_NS):
        # which of its files are new is not known here, and the snapshot tells.
        return True
    added, gone = changes
    if len(added) + len(gone) > memo.MAX_CHANGED_IN_PLACE:
        return False
    prefix = len(str(config.root)) + 1
    left_out = set(record.left_out)
    if any(path[prefix:].replace(os.sep, "/") not in left_out for path in gone):
        return False  # a briefing the build showed
    files = {}
    for path in added:
        shown = path[prefix:].replace(os.sep, "/")
        try:
            files[shown] = read_file("briefing", path, shown)
        except OSError:
            return False  # the full build reports it
    return newly_left_out(files, zoneinfo.ZoneInfo(config.site.timezone), Converter(), now,
                          leaving_out) is not None


def newly_left_out(files: dict[str, SourceFile], zone: zoneinfo.ZoneInfo, converter: Converter,
                   now: dt.datetime, leaving_out: tuple[bool, bool]) -> dict[str, snapshot.LeftOut] | None:
    """For briefing files new to the build, what it leaves each of them out as: a draft, or a
    briefing due at a later time; None when one would be published, or has a problem to report
    (a full build places the one, and tells the other). Nothing links to a new file: a link to
    a file that was not there failed the last build."""
    drafts, future = leaving_out
    found: dict[str, snapshot.LeftOut] = {}
    for shown, file in files.items():
        try:
            data = file.bytes()
        except OSError:
            return None
        doc, problems = parse_briefing(shown, data, converter)
        if doc is None or problems or is_published(doc, now, zone, drafts, future):
            return None
        found[shown] = snapshot.DRAFT if doc.draft and not drafts else to_site_time(doc.date, zone)
    return found


def gone_unseen(paths: list[str], loaded: Loaded) -> bool:
    """Whether every one of these files, gone since the last build, was a briefing it left out,
    with no warning about it or naming it (a link to it, from a briefing or a page, is one: the
    link would be an error now)."""
    left_out = set(loaded.left_out_paths())
    return all(path in left_out and not any(problem.path == path or path in problem.message
                                            for problem in loaded.warnings)
               for path in paths)


def snapshot_baseline(store: Store, last: snapshot.Snapshot) -> Baseline:
    """The snapshot's build as the preview would hold it: a renderer and fingerprints. A store
    opened read-only (the preview's) is only read."""
    loaded = last.loaded
    env = make_environment(loaded.config, loaded.themes, TemplateCache(store) if store.writable else None)
    key = parse_key()
    # The snapshot is used only while every input but the content files is as its build found
    # them (in_place._build, the preview's _start_from_build): so are the catalogs that build checked.
    renderer = Renderer(loaded.config, loaded.site, env, loaded.assets, loaded.plan,
                        lambda doc: stored_html(store, doc, key), catalogs_tried=True)
    renderer.search.use_state(StateRows(store, "search", store.writable))
    # What the last full build formatted (rendering._format_days); what an edit formats anew is
    # kept by the next full build.
    renderer.catalog.keep(store.read_states([CATALOG_ROW]).get(CATALOG_ROW))
    fingerprints = Fingerprints(loaded.config, loaded.site, loaded.plan, last.fingerprints,
                                renderer.search.digest)
    return Baseline(loaded, renderer, fingerprints, Positions(tuple(last.paths)))
