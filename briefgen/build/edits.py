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

A briefing may also come to list or cite other sources (known ones: an unknown one
is a problem). What it cites decides the publishers' articles and the related
briefings around it: those are brought up to date (see _recited), and the files
that show them are fingerprinted again, as long as no publisher comes, goes or is
renamed, which would change the plan.

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
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from briefgen.build.fingerprint import AddedLists, Fingerprints
from briefgen.build.loading import Loaded, SourceFile
from briefgen.build.manifest import manifest_digests
from briefgen.build.rendering import Sink, render_one
from briefgen.content.archive import Archive, parse_archive
from briefgen.content.markup import Converter
from briefgen.content.records import Source, parse_briefing
from briefgen.content.registries import parse_any_registry
from briefgen.render import feeds
from briefgen.render.renderer import Renderer
from briefgen.site.kinds import (
    BRIEFING,
    FEED,
    JSON_FEED,
    PUBLISHER,
    SEARCH_DOC,
    SEARCH_FILTER,
    SEARCH_TERMS,
    SITEMAP,
    SITEMAP_PART,
    SOURCES,
    TOPIC_FEED,
)
from briefgen.site.model import (
    Briefing,
    Publisher,
    Site,
    archive_inputs,
    cited_ids,
    cited_inputs,
    place_briefing,
    recited_publishers,
    recited_related,
    site_inputs,
    source_citers,
    with_passages,
    with_replaced,
)
from briefgen.site.packed import PackedTuples
from briefgen.site.plan import PageSpec, kind_and_args
from briefgen.site.search_files import document_count


@dataclass(frozen=True)
class Baseline:
    """A finished build, as an edit starts from it."""

    loaded: Loaded
    renderer: Renderer
    fingerprints: Fingerprints
    index_of: Mapping[str, int]  # a briefing's path -> its index in the model


@dataclass(frozen=True)
class Edited:
    """What an edit in place did, and what the kept build gains from it."""

    baseline: Baseline  # the build after the edit
    manifest: dict[str, tuple[str, str]]  # the files rendered: fingerprint and digest
    changed_files: frozenset[str]  # of those, the ones whose bytes changed
    replaced: dict[int, Briefing]  # the edited briefings' new records, by index
    archives: dict[str, Archive] = field(default_factory=dict)  # the edited archives, by source id
    # The passages their locators point at now, by (source id, locator); None for a locator
    # no briefing uses any more.
    passages: dict[tuple[str, str], str | None] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)  # sources added to the registry
    # When briefings came to cite other sources: the publishers that changed and the related
    # briefings that did, by index, and the files that came to name each briefing.
    publishers: dict[int, Publisher] = field(default_factory=dict)
    related: dict[int, tuple[int, ...]] = field(default_factory=dict)
    readers: dict[int, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Recited:
    """What follows from briefings citing other sources (see _recited)."""

    site: Site
    positions: list[int]  # in the plan, of the files to fingerprint again
    publishers: dict[int, Publisher]
    related: dict[int, tuple[int, ...]]
    readers: dict[int, tuple[int, ...]]


def index_of(loaded: Loaded) -> dict[str, int]:
    return {b.doc.path: i for i, b in enumerate(loaded.site.briefings)}


def edit_in_place(base: Baseline, files: Mapping[str, SourceFile], converter: Converter,
                   manifest: Mapping[str, tuple[str, str]], sink: Sink,
                   earlier_file: Callable[[str], bytes | None] | None = None) -> Edited | None:
    """The build after these content files changed or were added (site-relative path -> the
    file, read): briefings, or else archives and registries; its changed files written to
    `sink`; None when the change needs a full build. `earlier_file`, when given, reads a file
    as the baseline's build wrote it (None if changed since): its feeds' entries are kept."""
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
    recited: _Recited | None = None
    also: list[int] = []  # positions in the plan of files to look at besides the briefings' readers
    archives: dict[str, Archive] = {}
    passages: dict[tuple[str, str], str | None] = {}
    added: dict[str, Source] = {}
    if briefings:
        found = _briefings_edited(base, briefings, converter)
        if found is None:
            return None
        replaced, rechecked, recited_ones = found
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
        if recited_ones:
            recited = _recited(base, new_site, replaced, recited_ones)
            if recited is None:
                return None
            new_site = recited.site
            also += recited.positions
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
    if recited is not None and recited.readers:
        fingerprints.listed_by = AddedLists(fingerprints.listed_by, recited.readers)
    was = base.fingerprints
    positions = set(also)
    for index in changed:
        positions.update(was.readers(index, was.listing(index) != fingerprints.listing(index)))
    rendered: dict[str, tuple[str, str]] = {}
    changed_files = set()
    # Most of a large site's term shards: their bytes are as the output holds them.
    held = renderer.search.held_terms(partial(manifest_digests, manifest))
    positions.difference_update(_term_positions(loaded.plan, was.shows_every, held))
    for position in sorted(positions):
        spec = loaded.plan[position]
        old = manifest.get(spec.output_file)
        fingerprint = fingerprints.of(spec)
        if old is not None and old[0] == fingerprint:
            continue
        if earlier_file is not None and old is not None:
            _keep_entries(was, fingerprints, renderer, spec, old[0], earlier_file)
        result = render_one(renderer, sink, spec, old[1] if old else "")
        if result.problem is not None:
            return None  # the full build reports it
        rendered[spec.output_file] = (fingerprint, result.digest)
        if result.digest != (old[1] if old else ""):
            changed_files.add(spec.output_file)
    after_edit = Baseline(replace(loaded, site=new_site), renderer, fingerprints, base.index_of)
    cited = (recited.publishers, recited.related, recited.readers) if recited is not None else ({}, {}, {})
    return Edited(after_edit, rendered, frozenset(changed_files), replaced, archives, passages, added, *cited)


_FEEDS = (FEED, TOPIC_FEED, JSON_FEED)


def _keep_entries(was: Fingerprints, now: Fingerprints, renderer: Renderer, spec: PageSpec,
                  recorded: str, earlier_file: Callable[[str], bytes | None]) -> None:
    """Hand `renderer` the entries of a feed as the baseline's build wrote it of the briefings
    whose pages show what they showed then: the feed of an edited briefing's topic carries
    nineteen others, which it would otherwise read from the snapshot and render again. Only a
    feed whose bytes are those the manifest records and whose fingerprint there (`recorded`) is
    the baseline's is read: that build wrote it from the baseline's model. Files of other kinds
    are left alone."""
    if spec.kind not in _FEEDS:
        return
    earlier = earlier_file(spec.output_file) if recorded == was.of(spec) else None
    if earlier is None:
        return
    carried = spec.kind.shows(was.context, spec.args).full

    def same(index: int) -> bool:
        return was.full(index) == now.full(index)

    if spec.kind is JSON_FEED:
        items = feeds.items_of(earlier)
        if items is not None and len(items) == len(carried):
            renderer.keep_json_items({index: item for index, item in zip(carried, items, strict=True)
                                      if same(index)})
        return
    entries = feeds.entries_of(earlier)
    if entries is not None and len(entries) == len(carried):
        renderer.keep_atom_entries({index: entry for index, entry in zip(carried, entries, strict=True)
                                    if same(index)})


def _briefings_edited(base: Baseline, files: Mapping[str, SourceFile], converter: Converter
                      ) -> tuple[dict[int, Briefing], set[int], set[int]] | None:
    """The edited briefings' new records, by index, those whose locators or quotations changed
    (to be checked against the archives again), and those that list or cite other sources;
    None when the edit needs a full build: a briefing the model does not have, a problem in
    parsing, or a record (but for its title, summary, date of update and sources) or another
    input to checks across files that changed."""
    site = base.loaded.site
    zone = zoneinfo.ZoneInfo(base.loaded.config.site.timezone)
    replaced: dict[int, Briefing] = {}
    rechecked: set[int] = set()
    recited: set[int] = set()
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
        if cited_inputs(doc) != cited_inputs(before.doc):
            recited.add(index)
        if archive_inputs(doc) != archive_inputs(before.doc) or index in recited:
            rechecked.add(index)  # its locators or quotations, or what it cites: checked again
        # Its summary may change (when it has none of its own, it is the lead paragraph, the one
        # most often edited): it is only shown, and the files that list the briefing are those
        # the fingerprints find when what a list shows of it changed, as with its title. So may
        # the date it was last updated, which the sitemap shows too (see edit_in_place).
        if replace(after, summary=before.summary, updated=before.updated, sources=before.sources,
                   cited_count=before.cited_count) != replace(before, doc=doc):
            return None
        replaced[index] = after
    return replaced, rechecked, recited


def _recited(base: Baseline, site: Site, replaced: Mapping[int, Briefing],
             recited: Collection[int]) -> _Recited | None:
    """The model once these edited briefings (in `site` already) came to list or cite other
    sources: the publishers' articles and the related briefings that follow, the files to
    fingerprint again (the sources index, those publishers' pages, the pages of briefings whose
    related briefings changed) and the files that came to name a briefing; None when a
    publisher would come, go or be renamed (the plan changes with them: a full build)."""
    before = base.loaded.site
    gained: dict[str, set[int]] = defaultdict(set)
    lost: dict[str, set[int]] = defaultdict(set)
    moved: dict[int, set[str]] = {}
    for index in recited:
        was, now = cited_ids(before.briefings[index]), cited_ids(replaced[index])
        for source_id in now - was:
            gained[source_id].add(index)
        for source_id in was - now:
            lost[source_id].add(index)
        if was != now:
            moved[index] = was ^ now
    if not moved:
        return _Recited(site, [], {}, {}, {})  # the sources it lists, or their order: its own files
    found = recited_publishers(before.publishers, gained, lost, base.loaded.sources)
    if found is None:
        return None
    publishers, touched = found
    site = replace(site, publishers=publishers)
    table, related_moved = recited_related(before, site, moved)
    if table is None or before.related is None:
        return None  # no table to tell which files came to name a briefing (a build always has one)
    site = replace(site, related=PackedTuples.of(table))
    plan, fingerprints = base.loaded.plan, base.fingerprints
    first = _first_publisher_position(plan, fingerprints, before, touched)
    if first is None:
        return None
    filters = _publisher_filters(plan, fingerprints, before, sorted(touched), next(iter(moved)))
    if filters is None:
        return None
    # The sources index, the publishers' pages and their search filters.
    positions = [first - 1, *(first + at for at in touched), *filters]
    readers: dict[int, list[int]] = defaultdict(list)
    for at in touched:
        for source_id in {a.source.id for a in publishers[at].articles}.intersection(gained):
            for index in gained[source_id]:
                readers[index].append(first + at)
    for index in related_moved:
        shown_by = fingerprints.shown_full_by.get(index, ())
        page = next((at for at in shown_by if plan[at].kind is BRIEFING), None)
        if page is None:
            return None
        positions.append(page)
        for other in set(table[index]).difference(before.related[index]):
            readers[other].append(page)
    related = {index: table[index] for index in related_moved}
    return _Recited(site, positions, {at: publishers[at] for at in touched}, related,
                    {index: tuple(found) for index, found in readers.items()})


def _publisher_filters(plan: Sequence[PageSpec], fingerprints: Fingerprints, site: Site,
                       publishers: Sequence[int], index: int) -> list[int] | None:
    """The positions of these publishers' search filter files, which the plan puts after the
    search documents' files and the topics' filters, in the publishers' order (see _plan_search):
    found from briefing `index`'s search document, and checked; none on a site without search."""
    for position in fingerprints.shown_full_by.get(index, ()):
        spec = plan[position]
        if spec.kind is SEARCH_DOC:
            first = position - int(spec.args[0]) + document_count(site) + len(site.topics)
            found = [first + at for at in publishers]
            slugs = [("publisher", site.publishers[at].slug) for at in publishers]
            if all(plan[place].kind is SEARCH_FILTER and plan[place].args == args
                   for place, args in zip(found, slugs, strict=True)):
                return found
            return None
    return []


def _first_publisher_position(plan: Sequence[PageSpec], fingerprints: Fingerprints, site: Site,
                              publishers: Collection[int]) -> int | None:
    """The position of the first publisher's page in the plan, which puts the publishers' pages
    one after another, right after the sources index (see plan_site): found from a page that
    names a briefing citing one of these publishers, and checked."""
    for at in publishers:
        for article in site.publishers[at].articles:
            for index in article.cited_by[:1]:
                for position in fingerprints.listed_by.get(index, ()):
                    spec = plan[position]
                    if spec.kind is PUBLISHER:
                        first = position - int(spec.args[0])
                        if plan[first - 1].kind is SOURCES and all(
                                plan[first + other].kind is PUBLISHER and plan[first + other].args == (other,)
                                for other in publishers):
                            return first
                        return None
    return None


def _checked_again(loaded: Loaded, replaced: Mapping[int, Briefing],
                   rechecked: Collection[int]) -> dict[tuple[str, str], str | None] | None:
    """The passages that change when these edited briefings' locators or quotations did (None
    for a locator no briefing uses now); None when their checks against the archives of what
    they cite find a problem (a full build reports it)."""
    site = loaded.site
    found = _passages(loaded, [replaced[index] for index in sorted(rechecked)], loaded.archives)
    if found is None:
        return None
    changes: dict[tuple[str, str], str | None] = {
        key: text for key, text in found.items() if site.passages.get(key) != text}
    unused = {located for index in rechecked
              for located in site.briefings[index].doc.body.citations.located()}
    for key in unused.difference(found).intersection(site.passages):
        # Another briefing citing its source may use the locator still.
        others = _citing(site, [key[0]]).difference(rechecked)
        if not any(key in site.briefings[index].doc.body.citations.located() for index in others):
            changes[key] = None
    return changes


def _term_positions(plan: Sequence[PageSpec], shows_every: Sequence[int],
                    shards: Collection[tuple[int, int]]) -> list[int]:
    """The positions in a plan of these term shards' files (as (shard, shard count)).

    The plan puts a site's term shards in one run, in order (see plan_site), among the files
    that show every briefing: the run is found by its first and last files, and a shard's
    position is counted from the first, rather than each of 8,000 files' kind being looked at
    (at 50,000 briefings, a fifth of an edit's own time). A plan laid out otherwise has each
    file's kind looked at."""
    terms = SEARCH_TERMS.name
    first = next((p for p in shows_every if kind_and_args(plan, p)[0] == terms), None)
    if first is None or not shards:
        return []
    first_args = kind_and_args(plan, first)[1]
    count = first_args[1]
    last = first + count - 1
    if (first_args == (0, count) and last < len(plan)
            and kind_and_args(plan, last) == (terms, (count - 1, count))):
        return [first + shard for shard, of in shards if of == count and 0 <= shard < count]
    wanted = {(terms, args) for args in shards}
    return [p for p in shows_every if kind_and_args(plan, p) in wanted]


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
    (each as it was, where it was) and new ones. A source a registry declares twice alike is
    one source (SPEC), declared where it first is; twice with other fields, an error the full
    build reports."""
    added: dict[str, Source] = {}
    for shown, source in files.items():
        found, problems = parse_any_registry(shown, source.bytes())
        if problems:
            return None
        now: dict[str, Source] = {}
        for declared in found:
            if now.setdefault(declared.id, declared) != declared:
                return None
        had = [s for s in loaded.sources.values() if s.path == shown]
        if any(s.id not in now for s in had):
            return None
        for new in now.values():
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
    found = _passages(loaded, briefings, {**loaded.archives, **edited})
    if found is None:
        return None
    # Those of other sources are as they were.
    passages = {key: text for key, text in found.items() if key[0] in edited}
    # A passage is all a file shows of an archive: the briefings whose passages are as they
    # were show nothing new (most, after an edit of a paragraph few locators name).
    moved = {key for key, text in passages.items() if site.passages.get(key) != text}
    showing = {index for index, b in zip(sorted(citing), briefings, strict=True)
               if any(located in moved for located in b.doc.body.citations.located())}
    return edited, showing, passages


def _passages(loaded: Loaded, briefings: Sequence[Briefing],
              archives: Mapping[str, Archive]) -> Mapping[tuple[str, str], str] | None:
    """The passages these briefings' locators point at, by (source id, locator), once checked
    against the archives of what they cite; None when a check finds a problem (a full build
    reports it). Only those archives: the others' checks (an archive of a source no one
    declares) are the last build's, unchanged."""
    from briefgen.site.verify import verify  # see loading's imports

    cited = {sid: archives[sid] for b in briefings for sid in b.doc.body.cited_ids if sid in archives}
    verified = verify(briefings, loaded.sources, cited, loaded.config.build.strict_quotes)
    return None if verified.problems else verified.passages


def _citing(site: Site, source_ids: Iterable[str]) -> set[int]:
    """The briefings (indexes) that cite any of these sources in their text."""
    citers = source_citers(site)
    return {index for source_id in source_ids for index in citers.get(source_id, ())}
