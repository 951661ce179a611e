"""Fingerprints: a digest of everything one output file is made from.

If a file's fingerprint equals the one recorded by the previous build into the
same folder, the previous file is reused as it is. Each fingerprint covers the
global inputs (briefgen version, configuration, every template, theme files)
and the model data that the file's renderer reads, so it is sound to skip a
file exactly when its fingerprint is unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import pickle
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from briefgen import __version__
from briefgen.build import forked
from briefgen.config import Config
from briefgen.content.records import Source
from briefgen.content.topics import description_digests
from briefgen.render.themes import Asset, Theme, template_folders
from briefgen.render.views import reading_minutes
from briefgen.site.kinds import KINDS, STATIC, PageKind, Shows
from briefgen.site.model import Briefing, Site
from briefgen.site.plan import PageSpec, plan_context

IndexDigest = Callable[[PageSpec], str]
# What a build found its templates' digests from, and the digests (see Fingerprints.read).
KnownTemplates = tuple[str, dict[str, str]]


def _digest(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def _text_digest(*parts: str) -> str:
    return hashlib.blake2b("\x1e".join(parts).encode("utf-8"), digest_size=16).hexdigest()


_NOTHING = _text_digest()


def _tree_digest(folders: Iterable[Path]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return digest.hexdigest()


def known_templates(value: object) -> KnownTemplates | None:
    """A value kept by an earlier build (in the build cache) as KnownTemplates; None if of
    another shape."""
    if (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value[1].items())):
        return value[0], value[1]
    return None


def template_digests(env: jinja2.Environment, every_template: str) -> dict[str, str]:
    """For each page kind, a digest of its template (and partials) and all they extend, include
    or import.

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

    references: dict[str, list[str | None]] = {}

    def referenced_by(name: str, source: str) -> list[str | None]:
        # Parsed once per template: most pages share base.html and its partials.
        if name not in references:
            try:
                references[name] = list(meta.find_referenced_templates(env.parse(source)))
            except jinja2.TemplateSyntaxError:
                references[name] = []  # rendering reports it, at its line
        return references[name]

    digests = {}
    for kind in KINDS.values():
        waiting = [name for name in (kind.template, *kind.partials) if name is not None]
        if not waiting:
            continue
        seen: dict[str, str | None] = {}
        while waiting:
            name = waiting.pop()
            if name in seen:
                continue
            source = seen[name] = source_of(name)
            if source is None:
                continue
            names = referenced_by(name, source)
            if any(n is None for n in names):
                seen["*"] = every_template
            waiting += [n for n in names if n is not None]
        digests[kind.name] = _digest(sorted(seen.items(), key=lambda item: item[0]))
    return digests


_DIGEST_WIDTH = len(_NOTHING)  # hex characters of a _text_digest


class KeptDigests:
    """A digest of each briefing, by index, as a full build found them (what a list shows of it,
    see Fingerprints.listing; how a list of citations names it, see Fingerprints.reference): in
    one string, with the briefings whose records have changed since. An edit of what lists show
    of a briefing re-fingerprints the files that list it, such as its publishers' pages, which
    name every briefing citing them: hundreds of others, whose records an edit would otherwise
    read from the snapshot to find their digests again."""

    def __init__(self, digests: str = "", stale: frozenset[int] = frozenset()) -> None:
        if len(digests) % _DIGEST_WIDTH:
            raise ValueError("damaged briefing digests")  # a damaged head: a full build
        self._digests, self._stale = digests, stale

    @classmethod
    def of(cls, digests: Sequence[str]) -> KeptDigests:
        return cls("".join(digests))

    def __len__(self) -> int:
        return len(self._digests) // _DIGEST_WIDTH

    def get(self, index: int) -> str | None:
        """Briefing `index`'s digest; None if its record changed since."""
        if index in self._stale or not 0 <= index < len(self):
            return None
        return self._digests[index * _DIGEST_WIDTH:(index + 1) * _DIGEST_WIDTH]

    def without(self, indexes: Iterable[int]) -> KeptDigests:
        """These, less the digests of the briefings `indexes`, whose records changed."""
        return KeptDigests(self._digests, self._stale | frozenset(indexes))

    def __reduce__(self) -> tuple[type[KeptDigests], tuple[str, frozenset[int]]]:
        return KeptDigests, (self._digests, self._stale)  # read back through __init__, which checks


@dataclass(frozen=True)
class FingerprintState:
    templates: dict[str, str]
    global_digest: str
    static_digest: str
    descriptions: dict[str, str]
    listed_by: Mapping[int, Sequence[int]]
    shown_full_by: Mapping[int, Sequence[int]]
    shows_every: Sequence[int]
    listings: KeptDigests = field(default_factory=KeptDigests)
    references: KeptDigests = field(default_factory=KeptDigests)


# Briefing indexes and plan positions: four bytes each (a C int), half of what "q" takes; the
# lists of the files listing each briefing were a quarter of the head at 50,000 briefings.
_INDEXES = "i"


class PackedLists(Mapping[int, list[int]]):
    """Lists of plan positions by briefing index (FingerprintState.listed_by, shown_full_by)
    as three arrays, which unpickle as copies of their bytes; an edit reads a few of them."""

    @classmethod
    def of(cls, lists: Mapping[int, Sequence[int]]) -> PackedLists:
        return lists if isinstance(lists, PackedLists) else cls(lists)

    def __init__(self, lists: Mapping[int, Sequence[int]]) -> None:
        keys = sorted(lists)
        self._keys = array(_INDEXES, keys)
        self._ends = array(_INDEXES)
        self._positions = array(_INDEXES)
        for key in keys:
            self._positions.extend(lists[key])
            self._ends.append(len(self._positions))

    def __getstate__(self) -> tuple[array[int], array[int], array[int]]:
        return self._keys, self._ends, self._positions

    def __setstate__(self, state: tuple[array[int], array[int], array[int]]) -> None:
        keys, ends, positions = state
        # Checked here, where a damaged head is a full build: a slice past the end would not fail.
        if (not all(type(a) is array and a.typecode == _INDEXES for a in state) or len(keys) != len(ends)
                or (ends[-1] if ends else 0) != len(positions) or any(map(int.__gt__, ends, ends[1:]))
                or any(map(int.__ge__, keys, keys[1:]))):
            raise ValueError("damaged lists of plan positions")
        self._keys, self._ends, self._positions = keys, ends, positions

    def __getitem__(self, key: int) -> list[int]:
        at = bisect_left(self._keys, key)
        if at == len(self._keys) or self._keys[at] != key:
            raise KeyError(key)
        return self._positions[self._ends[at - 1] if at else 0:self._ends[at]].tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class AddedLists(Mapping[int, list[int]]):
    """Lists of plan positions by briefing index (FingerprintState.listed_by) with positions
    added since they were made: the files that came to name a briefing when an edit in place
    changed what another cites (a publisher's page, a briefing's related briefings)."""

    def __init__(self, lists: Mapping[int, Sequence[int]], added: Mapping[int, Sequence[int]]) -> None:
        self._lists, self._added = lists, added

    def __getitem__(self, key: int) -> list[int]:
        found = list(self._lists.get(key, ()))
        more = self._added.get(key)
        if more is None:
            if key not in self._lists:
                raise KeyError(key)
            return found
        return [*found, *(position for position in more if position not in found)]

    def __iter__(self) -> Iterator[int]:
        return iter(sorted({*self._lists, *self._added}))

    def __len__(self) -> int:
        return len({*self._lists, *self._added})


# From this many planned files on, of_plan splits its work with a forked copy: below it,
# the fork and the copy's result cost about what they save.
_SPLIT_FROM = 20_000


# A file's fingerprint costs about this many times what noting what a file of a deferred
# kind shows costs (measured at 10,000 briefings).
_FINGERPRINT_COST = 3


def _middle(plan: Sequence[PageSpec], defer: Collection[PageKind]) -> int:
    """Where to split the plan so that both halves cost about the same."""
    costs = list(accumulate(1 if spec.kind in defer else _FINGERPRINT_COST for spec in plan))
    return bisect_left(costs, costs[-1] // 2) + 1 if costs else 0


class _Readers:
    """Which files show each briefing, as of_plan notes them (see Fingerprints.readers)."""

    def __init__(self) -> None:
        # Arrays rather than lists: a list holds a pointer and, past 256, an object per number.
        self.listed_by: defaultdict[int, array[int]] = defaultdict(partial(array, _INDEXES))
        self.shown_full_by: defaultdict[int, array[int]] = defaultdict(partial(array, _INDEXES))
        self.shows_every: list[int] = []

    def note(self, position: int, shown: Shows) -> None:
        # What a citation list names of a briefing is part of what a list shows of it.
        for index in (*shown.listed, *shown.named) if shown.named else shown.listed:
            self.listed_by[index].append(position)
        for index in shown.full:
            self.shown_full_by[index].append(position)
        if shown.every_briefing:
            self.shows_every.append(position)

    def extend(self, later: _Readers) -> None:
        """Add what was noted of files after all of these (positions stay in order)."""
        for mine, theirs in ((self.listed_by, later.listed_by), (self.shown_full_by, later.shown_full_by)):
            for index, positions in theirs.items():
                mine[index].extend(positions)
        self.shows_every += later.shows_every


class Fingerprints:
    def __init__(self, config: Config, site: Site, plan: Sequence[PageSpec], state: FingerprintState,
                 index_digest: IndexDigest | None = None) -> None:
        """Fingerprints from `state`: what a build knows beyond the model (see `read`, and
        `state()` for the state of a finished build, which an in-place build restores)."""
        self.site = site
        # The search index's files show every briefing: a digest of their own bytes, known
        # for the shards an edit left alone without rendering them, is cheaper and finer.
        self.index_digest = index_digest
        self.config = config
        self.plan = plan
        self.templates, self.global_digest = state.templates, state.global_digest
        self.templates_key = ""  # what `read` found the templates' digests from; "" when restored
        self.static_digest, self.descriptions = state.static_digest, state.descriptions
        self.context = plan_context(site, config.build.per_page, plan, self.descriptions)
        self._listing: dict[int, str] = {}
        self._reference: dict[int, str] = {}
        # A full build's digests, as an edit started from it finds them (not those it changed).
        count = len(site.briefings)
        self._kept_listings = state.listings if len(state.listings) == count else KeptDigests()
        self._kept_references = state.references if len(state.references) == count else KeptDigests()
        self._full: dict[int, str] = {}
        self._source: dict[str, str] = {}
        # For each briefing, the positions in the plan of the files that list it, and of
        # those that show it in full (noted by of_plan when asked).
        self.listed_by = state.listed_by
        self.shown_full_by = state.shown_full_by
        self.shows_every = state.shows_every  # files that show every briefing in full
        self._every: str | None = None
        # What the files of kinds of_plan deferred show, which it found already: for `of`.
        self._deferred_shows: dict[str, Shows] = {}

    @classmethod
    def read(cls, config: Config, site: Site, themes: tuple[Theme, ...], assets: dict[str, Asset],
             plan: Sequence[PageSpec], env: jinja2.Environment,
             index_digest: IndexDigest | None = None, known: KnownTemplates | None = None) -> Fingerprints:
        """Fingerprints of a build, reading its templates, theme and static files. `known`: the
        templates' digests as an earlier build found them (its `known_templates`), taken over
        when no template has changed since."""
        templates = template_folders(config, themes)
        tree = _tree_digest(templates)
        # Finding what each template includes means parsing every one (30 ms at 10,000
        # briefings, at each build that is not an edit in place); their bytes, and which
        # templates each kind of page is made with, name the result.
        key = _digest(tree, [(kind.name, kind.template, kind.partials) for kind in KINDS.values()])
        digests = known[1] if known is not None and known[0] == key else template_digests(env, tree)
        # Where the files go is not what they say: a preview takes a build's files (serve/built.py).
        global_digest = _digest(
            __version__, repr(config.site), repr(replace(config.build, output="")),
            sorted((a.name, a.output) for a in assets.values()),
            [(p.title, p.url) for p in site.pages],
            _tree_digest([folder / "i18n" for folder in templates]),  # language catalogs
        )
        state = FingerprintState(digests, global_digest,
                                 _tree_digest([config.static_dir]), description_digests(config.content_dir),
                                 {}, {}, [])
        found = cls(config, site, plan, state, index_digest)
        found.templates_key = key
        return found

    @property
    def known_templates(self) -> KnownTemplates:
        """The templates' digests, named by what they were found from (see `read`)."""
        return self.templates_key, self.templates

    def state(self) -> FingerprintState:
        """What these fingerprints know beyond the model, to be restored for a later edit."""
        return FingerprintState(self.templates, self.global_digest, self.static_digest, self.descriptions,
                                self.listed_by, self.shown_full_by, self.shows_every,
                                KeptDigests.of([self.listing(i) for i in range(len(self.site.briefings))]),
                                KeptDigests.of([self.reference(i) for i in range(len(self.site.briefings))]))

    def kept_kinds(self, earlier: Fingerprints) -> frozenset[PageKind] | None:
        """The kinds of file whose fingerprints are those of `earlier`, fingerprints of the same
        model (the same site and plan) whose templates may differ; None when any other input
        differs. Then this takes over what `earlier` noted of the files showing each briefing."""
        if (earlier.site is not self.site or earlier.plan is not self.plan
                or (earlier.global_digest, earlier.static_digest, earlier.descriptions)
                != (self.global_digest, self.static_digest, self.descriptions)):
            return None
        self.listed_by, self.shown_full_by = earlier.listed_by, earlier.shown_full_by
        self.shows_every = earlier.shows_every
        self._listing, self._full, self._source = earlier._listing, earlier._full, earlier._source
        self._reference = earlier._reference
        self._kept_listings, self._kept_references = earlier._kept_listings, earlier._kept_references
        return frozenset(kind for kind in KINDS.values()
                         if self.templates.get(kind.name, "") == earlier.templates.get(kind.name, ""))

    def for_site(self, site: Site, changed: Iterable[int],
                 index_digest: IndexDigest | None = None) -> Fingerprints:
        """These fingerprints for a model that differs from this one only in the records of
        the `changed` briefings (same plan, same files showing each briefing)."""
        changed = list(changed)
        other = copy.copy(self)
        other.site = site
        other.index_digest = index_digest
        other._kept_listings = self._kept_listings.without(changed)
        other._kept_references = self._kept_references.without(changed)
        other.context = plan_context(site, self.config.build.per_page, self.plan, self.descriptions)
        other._listing, other._full = dict(self._listing), dict(self._full)
        other._reference = dict(self._reference)
        other._every = None
        other._deferred_shows = {}  # of this model's plan, found again by its own of_plan
        for index in changed:
            other._listing.pop(index, None)
            other._reference.pop(index, None)
            other._full.pop(index, None)
        return other

    def of_plan(self, note_readers: bool = False, defer: Collection[PageKind] = (),
                fork: bool = False) -> list[str]:
        """Every planned file's fingerprint, in plan order ("" for a kind in `defer`, whose
        fingerprint `of` gives later). With note_readers, also note which files show each
        briefing (for an in-place edit after this build, or the live preview's). With `fork`,
        a forked copy of this process finds the second half's while this one finds the first
        (see forked.py): until the workers start, a full build would use one core."""
        plan = self.plan
        middle = _middle(plan, defer) if fork and len(plan) >= _SPLIT_FROM else len(plan)
        readers = _Readers()

        def second_half() -> bytes:
            half = _Readers()
            found = self._of_range(middle, len(plan), half if note_readers else None, defer, keep_shows=False)
            # Not the digests of what lists show and of what a briefing's page shows: the first
            # half has the home pages, which list every briefing, and most briefings' pages.
            # A digest this process lacks is found when asked for, the same.
            return pickle.dumps((found, half, self._reference), pickle.HIGHEST_PROTOCOL)

        with forked.meanwhile(second_half, fork=middle < len(plan)) as second:
            found = self._of_range(0, middle, readers if note_readers else None, defer, keep_shows=True)
            if middle < len(plan):
                rest, half, reference = pickle.loads(second())
                found += rest
                readers.extend(half)
                # What the publishers' pages name of each briefing, found by the copy: not again.
                self._reference.update(reference)
        if note_readers:
            # Packed at once: as lists of numbers they took 15 MB more at 50,000 briefings,
            # held through the rest of the build.
            self.listed_by = PackedLists(readers.listed_by)
            self.shown_full_by = PackedLists(readers.shown_full_by)
            self.shows_every = readers.shows_every
        return found

    def _of_range(self, start: int, end: int, readers: _Readers | None, defer: Collection[PageKind],
                  keep_shows: bool) -> list[str]:
        found = []
        for position in range(start, end):
            spec = self.plan[position]
            shown = spec.kind.shows(self.context, spec.args)
            if readers is not None:
                readers.note(position, shown)
            if spec.kind in defer:
                if keep_shows:
                    self._deferred_shows[spec.rel] = shown
                found.append("")
            else:
                found.append(self.of_shown(spec, shown))
        return found

    def readers(self, index: int, listing_changed: bool) -> list[int]:
        """Positions in the plan of the files whose fingerprint can change with briefing `index`:
        those that show it in full, and when what a list shows of it changed, those that list it."""
        found = [*self.shown_full_by.get(index, []), *self.shows_every]
        return [*found, *self.listed_by.get(index, [])] if listing_changed else found

    def listing(self, index: int) -> str:
        """What a list of briefings shows of one briefing."""
        found = self._listing.get(index) or self._kept_listings.get(index)
        if found is None:
            b = self.site.briefings[index]
            names = "\x1f".join(self.site.topic_names[s].name for s in b.topic_slugs)
            # Plain strings joined: this runs for every briefing on every build.
            found = _text_digest(b.title, b.url, b.date.isoformat(), b.summary, names,
                                 "d" if b.draft else "", str(len(b.sources)),
                                 str(reading_minutes(b.body.word_count)), type(b.doc.date).__name__)
            self._listing[index] = found
        return found

    def reference(self, index: int) -> str:
        """What a list of the briefings citing an article shows of one: its title, link and date."""
        found = self._reference.get(index) or self._kept_references.get(index)
        if found is None:
            b = self.site.briefings[index]
            found = self._reference[index] = _text_digest(b.title, b.url, b.date.isoformat(),
                                                          "d" if b.draft else "")
        return found

    def full(self, index: int) -> str:
        """Everything a briefing's own page and feed entry show of it."""
        found = self._full.get(index)
        if found is None:
            b: Briefing = self.site.briefings[index]
            links = "\x1f".join(str(self.site.url_of_path.get(link.target)) for link in b.body.links)
            sources = "\x1f".join(self._source_digest(source) for source in b.sources)
            updated = b.updated.isoformat() if b.updated else ""
            # The archived passages its locators point at: an archive edit changes them.
            passages = "\x1f".join(self.site.passages.get((use.source_id, use.locator), "")
                                    for use in b.body.citations if use.locator)
            found = _text_digest(self.listing(index), b.doc.digest, updated, sources,
                                 str(b.cited_count), links, passages)
            self._full[index] = found
        return found

    def _source_digest(self, source: Source) -> str:
        found = self._source.get(source.id)
        if found is None:
            found = self._source[source.id] = _digest(source)
        return found

    def of(self, spec: PageSpec) -> str:
        shown = self._deferred_shows.pop(spec.rel, None)
        return self.of_shown(spec, spec.kind.shows(self.context, spec.args) if shown is None else shown)

    def of_shown(self, spec: PageSpec, shown: Shows) -> str:
        """The fingerprint of a file that shows `shown` (what its kind's rule says it shows)."""
        kind = spec.kind
        # Digests joined as text: a list page of a large site shows thousands of briefings.
        # Most files list none, or show none in full.
        listed = _text_digest(*map(self.listing, shown.listed)) if shown.listed else _NOTHING
        named = _text_digest(*map(self.reference, shown.named)) if shown.named else _NOTHING
        full = _text_digest(*map(self.full, shown.full)) if shown.full else _NOTHING
        every = ""
        if shown.every_briefing:
            every = self.index_digest(spec) if self.index_digest else self._every_briefing()
        args = () if kind.args_are_places else spec.args
        return _digest(
            self.global_digest, self.templates.get(kind.name, ""), spec.rel, kind.name, args,
            listed, named, full, every, shown.other, self.static_digest if kind is STATIC else None,
        )

    def _every_briefing(self) -> str:
        # Once per build: hundreds of search index files show every briefing.
        if self._every is None:
            self._every = _text_digest(*(self.full(i) for i in range(len(self.site.briefings))))
        return self._every
