"""Briefings edited in place: the common save, rebuilt from the last build by the
build's own rules, for the live preview (whose last build is in memory) and the
`build` command (whose last build is read back from the cache; see in_place.py).

When every changed file is a published briefing that parses without a problem
and comes out of the model's own placing (`place_briefing`) with the same record
(but for its title, summary and date of update, which are only shown) and the
same inputs to checks across files (but for its locators and quotations, which
are checked against the archives again, and give it its passages), the rest of
the model is as it was.
Then only the files that show those briefings can differ (the page-kind table
says which, through the fingerprints), and of those only the ones whose
fingerprint changed are rendered, exactly as a full build would. Anything else
means a full build, which checks the whole site again.

An archived copy of a source (content/archive/<id>.md) edited or added alone is taken
the same way: it changes nothing but the checks of the briefings that cite its source
and the passages their locators point at. Those briefings are checked again against
it; when they pass without a problem, only the files that show them in full can differ.
So are sources added to the registry (what `briefgen source add` does, with an archive):
no briefing cites a new source yet (a build with a briefing citing an unknown one failed),
and no file shows a source no briefing cites.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from briefgen.build.fingerprint import Fingerprints
from briefgen.build.stages import Loaded, Sink, SourceFile, render_one
from briefgen.content.archive import Archive, parse_archive
from briefgen.content.markup import Converter
from briefgen.content.records import Source, parse_briefing
from briefgen.content.registries import parse_any_registry
from briefgen.render.renderer import Renderer
from briefgen.site.kinds import SITEMAP, SITEMAP_PART
from briefgen.site.model import (
    Briefing,
    Site,
    archive_inputs,
    place_briefing,
    site_inputs,
    with_passages,
    with_replaced,
)
from briefgen.site.plan import PageSpec
from briefgen.site.verify import verify


@dataclass(frozen=True)
class Baseline:
    """A finished build, as an edit starts from it."""

    loaded: Loaded
    renderer: Renderer
    fingerprints: Fingerprints
    index_of: Mapping[str, int]  # a briefing's path -> its index in the model


@dataclass(frozen=True)
class Edited:
    baseline: Baseline  # the build after the edit
    manifest: dict[str, tuple[str, str]]  # the files rendered: fingerprint and digest
    changed_files: frozenset[str]  # of those, the ones whose bytes changed
    replaced: dict[int, Briefing]  # the edited briefings' new records, by index
    archives: dict[str, Archive] = field(default_factory=dict)  # the edited archives, by source id
    # The passages their locators point at now, by (source id, locator); None for a locator
    # no briefing uses any more.
    passages: dict[tuple[str, str], str | None] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)  # sources added to the registry


def index_of(loaded: Loaded) -> dict[str, int]:
    return {b.doc.path: i for i, b in enumerate(loaded.site.briefings)}


def edit_in_place(base: Baseline, files: Mapping[str, SourceFile], converter: Converter,
                   manifest: Mapping[str, tuple[str, str]], sink: Sink) -> Edited | None:
    """The build after these content files changed or were added (site-relative path -> the
    file, read): briefings, or else archives and registries; its changed files written to
    `sink`; None when the change needs a full build."""
    loaded = base.loaded
    site = loaded.site
    if any(problem.path in files for problem in loaded.warnings):
        return None  # a full build says whether its warnings still hold
    by_kind: dict[str, dict[str, SourceFile]] = {}
    for shown, source in files.items():
        by_kind.setdefault(source.kind, {})[shown] = source
    briefings = by_kind.pop("briefing", {})
    registries, archive_files = by_kind.pop("registry", {}), by_kind.pop("archive", {})
    if by_kind or (briefings and (registries or archive_files)):
        return None  # pages, or briefings and sources at once: a full build checks them together
    replaced: dict[int, Briefing] = {}
    also: list[int] = []  # positions in the plan of files to look at besides the briefings' readers
    archives: dict[str, Archive] = {}
    passages: dict[tuple[str, str], str | None] = {}
    added: dict[str, Source] = {}
    if briefings:
        found = _briefings_edited(base, briefings, converter)
        if found is None:
            return None
        replaced, rechecked = found
        changed = set(replaced)  # the briefings whose files may show something new
        if rechecked:
            moved = _checked_again(loaded, replaced, rechecked)
            if moved is None:
                return None
            passages = moved
        new_site = replace(site, briefings=with_replaced(site.briefings, replaced),
                           passages=with_passages(site.passages, passages))
        if any(b.updated != site.briefings[index].updated for index, b in replaced.items()):
            also = _sitemap_positions(loaded.plan)  # its last-modified dates
    else:
        added_sources = _sources_added(loaded, registries)
        if added_sources is None:
            return None
        added = added_sources
        loaded = replace(loaded, sources={**loaded.sources, **added})
        checked = _archives_edited(loaded, archive_files)
        if checked is None:
            return None
        archives, changed, found_passages = checked
        passages = {**found_passages}
        new_site = replace(site, passages=with_passages(site.passages, passages))
        loaded = replace(loaded, archives={**loaded.archives, **archives})
    renderer = base.renderer.for_site(new_site, sorted(changed))
    fingerprints = base.fingerprints.for_site(new_site, changed, renderer.search.digest)
    was = base.fingerprints
    positions = set(also)
    for index in changed:
        positions.update(was.readers(index, was.listing(index) != fingerprints.listing(index)))
    rendered: dict[str, tuple[str, str]] = {}
    changed_files = set()
    for position in sorted(positions):
        spec = loaded.plan[position]
        old = manifest.get(spec.output_file)
        # Most of a large site's term shards: their bytes are as the output holds them.
        if old is not None and renderer.search.holds(spec, old[1]):
            continue
        fingerprint = fingerprints.of(spec)
        if old is not None and old[0] == fingerprint:
            continue
        result = render_one(renderer, sink, spec, old[1] if old else "")
        if result.problem is not None:
            return None  # the full build reports it
        rendered[spec.output_file] = (fingerprint, result.digest)
        if result.digest != (old[1] if old else ""):
            changed_files.add(spec.output_file)
    after_edit = Baseline(replace(loaded, site=new_site), renderer, fingerprints, base.index_of)
    return Edited(after_edit, rendered, frozenset(changed_files), replaced, archives, passages, added)


def _briefings_edited(base: Baseline, files: Mapping[str, SourceFile],
                      converter: Converter) -> tuple[dict[int, Briefing], set[int]] | None:
    """The edited briefings' new records, by index, and those whose locators or quotations
    changed (to be checked against the archives again); None when the edit needs a full build:
    a briefing the model does not have, a problem in parsing, or a record (but for its title,
    summary and date of update) or another input to checks across files that changed."""
    site = base.loaded.site
    zone = zoneinfo.ZoneInfo(base.loaded.config.site.timezone)
    replaced: dict[int, Briefing] = {}
    rechecked: set[int] = set()
    for shown, source in files.items():
        index = base.index_of.get(shown)
        if index is None:
            return None
        doc, problems = parse_briefing(shown, source.bytes(), converter)
        if doc is None or problems:
            return None
        before = site.briefings[index]
        after = place_briefing(doc, zone, base.loaded.sources, dict(site.topic_names), problems)
        if problems or after is None or site_inputs(doc) != site_inputs(before.doc):
            return None
        if archive_inputs(doc) != archive_inputs(before.doc):
            rechecked.add(index)  # its locators or quotations: checked again
        # Its summary may change (when it has none of its own, it is the lead paragraph, the one
        # most often edited): it is only shown, and the files that list the briefing are those
        # the fingerprints find when what a list shows of it changed, as with its title. So may
        # the date it was last updated, which the sitemap shows too (see edit_in_place).
        if replace(after, summary=before.summary, updated=before.updated) != replace(before, doc=doc):
            return None
        replaced[index] = after
    return replaced, rechecked


def _checked_again(loaded: Loaded, replaced: Mapping[int, Briefing],
                   rechecked: Collection[int]) -> dict[tuple[str, str], str | None] | None:
    """The passages that change when these edited briefings' locators or quotations did (None
    for a locator no briefing uses now); None when their checks against the archives of what
    they cite find a problem (a full build reports it)."""
    site = loaded.site
    briefings = [replaced[index] for index in sorted(rechecked)]
    cited = {sid: loaded.archives[sid] for b in briefings for sid in b.doc.body.cited_ids
             if sid in loaded.archives}
    verified = verify(briefings, loaded.sources, cited, loaded.config.build.strict_quotes)
    if verified.problems:
        return None
    changes: dict[tuple[str, str], str | None] = {
        key: text for key, text in verified.passages.items() if site.passages.get(key) != text}
    unused = {(use.source_id, use.locator) for index in rechecked
              for use in site.briefings[index].doc.body.citations if use.locator}
    for key in unused.difference(verified.passages).intersection(site.passages):
        # Another briefing citing its source may use the locator still.
        others = _citing(site, [key[0]]).difference(rechecked)
        if not any(key == (use.source_id, use.locator) for index in others
                   for use in site.briefings[index].doc.body.citations):
            changes[key] = None
    return changes


def _sitemap_positions(plan: Sequence[PageSpec]) -> list[int]:
    """The positions of the sitemap's files in a plan, which puts them after every page, the
    sitemap itself before its parts (see plan_site): looked for from the end."""
    found = []
    for position in range(len(plan) - 1, -1, -1):
        kind = plan[position].kind
        if kind is SITEMAP_PART or kind is SITEMAP:
            found.append(position)
            if kind is SITEMAP:
                break
    return found


def _sources_added(loaded: Loaded, files: Mapping[str, SourceFile]) -> dict[str, Source] | None:
    """The sources these registry files add, by id; None when the change needs a full build: a
    registry that does not parse without a problem, or one whose sources are not those it had
    (each as it was, where it was) and new ones."""
    added: dict[str, Source] = {}
    for shown, source in files.items():
        found, problems = parse_any_registry(shown, source.bytes())
        if problems:
            return None
        now = {s.id: s for s in found}
        if len(now) != len(found):
            return None
        had = [s for s in loaded.sources.values() if s.path == shown]
        if any(s.id not in now for s in had):
            return None
        for new in found:
            old = loaded.sources.get(new.id)
            if old is None and new.id not in added:
                added[new.id] = new
            elif old is None or old != new or old.place != new.place:
                return None
    return added


def _archives_edited(loaded: Loaded, files: Mapping[str, SourceFile]
                     ) -> tuple[dict[str, Archive], set[int], dict[tuple[str, str], str]] | None:
    """The edited or added archives by source id, the briefings that show a passage of them
    that changed, and the passages the locators into them point at now; None when the edit
    needs a full build: an archive that does not parse cleanly, one of a source no registry
    declares, a second one of a source, or a briefing whose checks against it find a problem
    (or had one: it may have gone)."""
    site = loaded.site
    edited: dict[str, Archive] = {}
    for shown, source in files.items():
        archive, problems = parse_archive(shown, source.bytes())
        if archive is None or problems:
            return None
        known = loaded.archives.get(archive.id)
        if ((known is not None and known.path != shown) or archive.id in edited
                or archive.id not in loaded.sources):
            return None
        edited[archive.id] = archive
    citing = _citing(site, edited.keys())
    warned = {problem.path for problem in loaded.warnings}
    briefings = [site.briefings[index] for index in sorted(citing)]
    if any(b.doc.path in warned for b in briefings):
        return None
    archives = {**loaded.archives, **edited}
    # Only the archives these briefings cite: the others' checks (an archive of a source no
    # one declares) are the last build's, unchanged.
    cited = {sid: archives[sid] for b in briefings for sid in b.doc.body.cited_ids if sid in archives}
    verified = verify(briefings, loaded.sources, cited, loaded.config.build.strict_quotes)
    if verified.problems:
        return None
    # Those of other sources are as they were.
    passages = {key: text for key, text in verified.passages.items() if key[0] in edited}
    # A passage is all a file shows of an archive: the briefings whose passages are as they
    # were show nothing new (most, after an edit of a paragraph few locators name).
    moved = {key for key, text in passages.items() if site.passages.get(key) != text}
    showing = {index for index, b in zip(sorted(citing), briefings, strict=True)
               if any((use.source_id, use.locator) in moved for use in b.doc.body.citations)}
    return edited, showing, passages


def _citing(site: Site, source_ids: Iterable[str]) -> set[int]:
    """The briefings (indexes) that cite any of these sources in their text."""
    wanted = set(source_ids)
    return {index for publisher in site.publishers for article in publisher.articles
            if article.source.id in wanted for index in article.cited_by}
