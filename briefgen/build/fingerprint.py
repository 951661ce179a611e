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
import heapq
import itertools
import pickle
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from briefgen import OUTPUT_VERSION, __version__
from briefgen.build import forked
from briefgen.build.columns import Digests
from briefgen.config import Config
from briefgen.content.files import walk_files
from briefgen.content.markdown_settings import MARKDOWN_SETTINGS_KEY
from briefgen.content.records import Source
from briefgen.content.slugs import make_slug
from briefgen.content.topics import description_digests
from briefgen.render.themes import Asset, Theme, template_folders
from briefgen.render.views import reading_minutes
from briefgen.site.kinds import KINDS, STATIC, PageKind, Shows
from briefgen.site.model import Briefing, Site, publisher_slugs
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
        for name in walk_files(str(folder)):  # through links to folders, as the build reads them
            path = folder / name
            if path.is_file():
                digest.update(name.encode())
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
    see Fingerprints.listing; how a list of citations names it, see Fingerprints.reference; what
    its own page and feed entries show, see Fingerprints.full): in one string, with the
    briefings whose records have changed since. An edit of what lists show of a briefing
    re-fingerprints the files that list it, such as its publishers' pages, which name every
    briefing citing them: hundreds of others, whose records an edit would otherwise read from
    the snapshot to find their digests again; an edit of a briefing's text, the feeds of its
    topics, which carry nineteen others in full."""

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
    """What a build's fingerprints keep for the next build to start from."""

    templates: dict[str, str]
    global_digest: str
    static_digest: str
    descriptions: dict[str, str]
    listed_by: Mapping[int, Sequence[int]]
    shown_full_by: Mapping[int, Sequence[int]]
    shows_every: Sequence[int]
    listings: KeptDigests = field(default_factory=KeptDigests)
    references: KeptDigests = field(default_factory=KeptDigests)
    fulls: KeptDigests = field(default_factory=KeptDigests)


# Briefing indexes and plan positions: four bytes each (a C int), half of what "q" takes; the
# lists of the files listing each briefing were a quarter of the head at 50,000 briefings.
_INDEXES = "i"


class PackedLists(Mapping[int, list[int]]):
    """Lists of plan positions by briefing index (FingerprintState.listed_by, shown_full_by)
    as three arrays, which unpickle as copies of their bytes; an edit reads a few of them."""

    @classmethod
    def of(cls, lists: Mapping[int, Sequence[int]]) -> PackedLists | ChainedLists:
        """The lists packed; as they are when packed already, or two packed parts."""
        return lists if isinstance(lists, PackedLists | ChainedLists) else cls(lists)

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
        # In order when sorting leaves them as they are (a pass in C over sorted numbers, a third
        # of the time of comparing each with the next in Python: 50,000 of each at 50,000 briefings).
        if (not all(type(a) is array and a.typecode == _INDEXES for a in state) or len(keys) != len(ends)
                or (ends[-1] if ends else 0) != len(positions)):
            raise ValueError("damaged lists of plan positions")
        end_numbers, key_numbers = ends.tolist(), keys.tolist()
        if (sorted(end_numbers) != end_numbers or sorted(key_numbers) != key_numbers
                or len(set(key_numbers)) != len(key_numbers)):
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

    def lists(self) -> Iterator[tuple[int, array[int]]]:
        """Every key with its list, in key order, as slices of the positions' array."""
        start = 0
        for key, end in zip(self._keys, self._ends, strict=True):
            yield key, self._positions[start:end]
            start = end

    @classmethod
    def joined(cls, parts: Sequence[PackedLists]) -> PackedLists:
        """The lists of consecutive runs of files, every position of a part after those of the
        parts before it, as one: each key's lists are put one after another, in the parts'
        order, straight into the arrays (not into an array a key first)."""
        found = cls({})
        keys, ends, positions = found._keys, found._ends, found._positions
        entries = heapq.merge(*(zip(part._keys, itertools.repeat(at), [0, *part._ends[:-1]], part._ends)
                                for at, part in enumerate(parts)))
        for key, at, start, end in entries:
            if not keys or keys[-1] != key:
                if keys:
                    ends.append(len(positions))  # where the last key's list ends
                keys.append(key)
            positions.extend(parts[at]._positions[start:end])
        if keys:
            ends.append(len(positions))
        return found


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


class ChainedLists(Mapping[int, list[int]]):
    """Lists of plan positions by briefing index in two parts, every position of the second
    after the first's (FingerprintState.listed_by, shown_full_by): what of_plan's two sides
    noted, not joined into one: joining them is a loop over every briefing, which the build
    would wait for; an edit reads a few lists."""

    def __init__(self, first: PackedLists, second: PackedLists) -> None:
        self._first, self._second = first, second

    def __getstate__(self) -> tuple[PackedLists, PackedLists]:
        return self._first, self._second

    def __setstate__(self, state: tuple[PackedLists, PackedLists]) -> None:
        if not (isinstance(state, tuple) and len(state) == 2 and all(type(p) is PackedLists for p in state)):
            raise ValueError("damaged lists of plan positions")  # a damaged head: a full build
        self._first, self._second = state

    def __getitem__(self, key: int) -> list[int]:
        first, second = self._first.get(key), self._second.get(key)
        if first is None and second is None:
            raise KeyError(key)
        return [*(first or ()), *(second or ())]

    def __iter__(self) -> Iterator[int]:
        return iter(sorted({*self._first, *self._second}))

    def __len__(self) -> int:
        return len({*self._first, *self._second})


# From this many planned files on, of_plan splits its work with a forked copy: below it,
# the fork and the copy's result cost about what they save.
_SPLIT_FROM = 20_000

# Planned files a side of of_plan's split takes at a time (see Fingerprints.of_plan).
_RUN = 512


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

    def extend(self, later: _PackedReaders) -> None:
        """Add what was noted of files after all of these (positions stay in order)."""
        for mine, theirs in ((self.listed_by, later.listed_by), (self.shown_full_by, later.shown_full_by)):
            for index, positions in theirs.lists():
                mine[index].extend(positions)
        self.shows_every += later.shows_every

    def packed(self) -> _PackedReaders:
        return _PackedReaders(PackedLists(self.listed_by), PackedLists(self.shown_full_by), self.shows_every)


@dataclass(frozen=True)
class _PackedReaders:
    """What was noted of a run of files (see _Readers), each kind's lists packed in three
    arrays: the copy that fingerprints a plan from its end holds every run's notes apart until
    it is done, and at 50,000 briefings their lists were 247,000 arrays, 30 MB of its peak."""

    listed_by: PackedLists
    shown_full_by: PackedLists
    shows_every: list[int]

    def from_position(self, first: int) -> _PackedReaders:
        """What was noted of the files from position `first` on."""
        kept = _Readers()
        for mine, theirs in ((kept.listed_by, self.listed_by), (kept.shown_full_by, self.shown_full_by)):
            for index, positions in theirs.lists():
                at = bisect_left(positions, first)
                if at < len(positions):
                    mine[index].extend(positions[at:])
        kept.shows_every = [position for position in self.shows_every if position >= first]
        return kept.packed()


# A run of planned files: the first one's position, their fingerprints, what they show.
_Run = tuple[int, list[str], _PackedReaders]


def _joined(runs: Sequence[_Run], empty_at: int) -> _Run:
    """Consecutive runs of files, in plan order, as one (starting at `empty_at` if there are none)."""
    readers = _PackedReaders(PackedLists.joined([r.listed_by for _, _, r in runs]),
                             PackedLists.joined([r.shown_full_by for _, _, r in runs]),
                             [position for _, _, r in runs for position in r.shows_every])
    found = [fingerprint for _, run_found, _ in runs for fingerprint in run_found]
    return (runs[0][0] if runs else empty_at), found, readers


@dataclass(frozen=True)
class _FromTheEnd:
    """What the copy that fingerprints a plan from its last file back sends (Fingerprints.of_plan)."""

    met: _Run  # its last runs (start, fingerprints, notes), where the sides met
    found: list[str]  # the fingerprints of the files after them, in plan order
    listed_by: PackedLists  # what it noted of them
    shown_full_by: PackedLists
    shows_every: list[int]
    reference: Digests  # the digests of what a citing briefing's list shows, it found


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
        # Digests of each briefing as found (see listing, reference and full), by index.
        count = len(site.briefings)
        self._listing, self._reference, self._full = Digests(count), Digests(count), Digests(count)
        # A full build's digests, as an edit started from it finds them (not those it changed).
        self._kept_listings = state.listings if len(state.listings) == count else KeptDigests()
        self._kept_references = state.references if len(state.references) == count else KeptDigests()
        self._kept_fulls = state.fulls if len(state.fulls) == count else KeptDigests()
        self._source: dict[str, str] = {}
        self._publisher_slugs: tuple[Site, frozenset[str]] | None = None  # of the site it was found for
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
            # How the code makes files, and how it converts Markdown: the file's digest is
            # of its bytes, not of its conversion.
            __version__, OUTPUT_VERSION, MARKDOWN_SETTINGS_KEY,
            repr(config.site), repr(replace(config.build, output="")),
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
                                KeptDigests.of([self.reference(i) for i in range(len(self.site.briefings))]),
                                KeptDigests.of([self.full(i) for i in range(len(self.site.briefings))]))

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
        self._kept_fulls = earlier._kept_fulls
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
        other._kept_fulls = self._kept_fulls.without(changed)
        other.context = plan_context(site, self.config.build.per_page, self.plan, self.descriptions)
        other._listing, other._full = self._listing.copy(), self._full.copy()
        other._reference = self._reference.copy()
        other._every = None
        other._deferred_shows = {}  # of this model's plan, found again by its own of_plan
        for index in changed:
            other._listing.pop(index)
            other._reference.pop(index)
            other._full.pop(index)
        return other

    def of_plan(self, note_readers: bool = False, defer: Collection[PageKind] = (),
                fork: bool = False) -> Digests:
        """Every planned file's fingerprint, in plan order ("" for a kind in `defer`, whose
        fingerprint `of` gives later). With note_readers, also note which files show each
        briefing (for an in-place edit after this build, or the live preview's). With `fork`,
        a forked copy of this process works from the last file back while this one works from
        the first on, until they meet (see _from_the_end): until the workers start, a full
        build would use one core. Where the two meet depends on what each file costs (a home
        page's hundred microseconds, a publisher's page's milliseconds, a search document's
        three), not on a guess made beforehand."""
        plan = self.plan
        cells = forked.shared_cells() if fork and len(plan) >= _SPLIT_FROM and forked.can_fork() else None
        readers = _Readers()
        noted = readers if note_readers else None
        found = Digests()  # packed run by run: as a list, 12 MB more at 50,000 briefings
        if cells is None:
            for start in range(0, len(plan), _RUN):
                stop = min(start + _RUN, len(plan))
                found.extend(self._of_range(start, stop, noted, defer, keep_shows=True))
        else:
            # This process has taken every file before cells[0], the copy every one from
            # cells[1] on; the copy is given the last run before it starts, so that it has work
            # however soon this process is through the rest.
            cells[0], cells[1] = 0, max(0, len(plan) - _RUN)
            with forked.meanwhile(partial(self._from_the_end, cells, note_readers, defer)) as theirs:
                def make(start: int, stop: int) -> None:
                    found.extend(self._of_range(start, stop, noted, defer, keep_shows=True))

                mine = forked.take_forward(cells, _RUN, make)
                copy: _FromTheEnd = pickle.loads(theirs())
            # Files both made, where they met: this process's stand (see forked.take_backward).
            start, run_found, run_readers = copy.met
            if start + len(run_found) > mine:
                found.extend(run_found[max(0, mine - start):])
                readers.extend(run_readers if start >= mine else run_readers.from_position(mine))
            found.extend(copy.found)
            # What the publishers' pages name of each briefing, found by the copy: not again.
            self._reference.update(copy.reference)
            if note_readers:
                self.listed_by = ChainedLists(PackedLists(readers.listed_by), copy.listed_by)
                self.shown_full_by = ChainedLists(PackedLists(readers.shown_full_by), copy.shown_full_by)
                self.shows_every = readers.shows_every + copy.shows_every
            return found
        if note_readers:
            self._keep_readers(readers)
        return found

    def _from_the_end(self, cells: memoryview, note_readers: bool, defer: Collection[PageKind]) -> bytes:
        """of_plan's other side: runs of files from the last back, each taken (cells[1]) before
        its fingerprints are found, until this process meets the other's progress (cells[0]).
        Not the digests of what lists show and of what a briefing's page shows: the other side
        has the home pages, which list every briefing, and most briefings' pages; a digest it
        lacks is found when asked for, the same."""
        runs: list[_Run] = []

        def make(start: int, stop: int) -> None:
            run_readers = _Readers()
            noted = run_readers if note_readers else None
            found = self._of_range(start, stop, noted, defer, keep_shows=False)
            runs.append((start, found, run_readers.packed()))

        end = forked.take_backward(cells, len(self.plan), _RUN, make)
        runs.reverse()  # in plan order
        # The other side's last run began where it stood when this side stopped taking runs,
        # or before: the runs that begin before the end of such a run may hold files it made too.
        bound = cells[0] + _RUN
        split = next((at for at, (start, _, _) in enumerate(runs) if start >= bound), len(runs))
        met, rest = _joined(runs[:split], end), _joined(runs[split:], len(self.plan))
        # Packed: a list of positions a briefing, pickled as three arrays, not one a briefing
        # a run (tens of thousands of small arrays).
        sent = _FromTheEnd(met, rest[1], rest[2].listed_by, rest[2].shown_full_by, rest[2].shows_every,
                           self._reference)
        return pickle.dumps(sent, pickle.HIGHEST_PROTOCOL)

    def _keep_readers(self, readers: _Readers) -> None:
        # Packed at once: as lists of numbers they took 15 MB more at 50,000 briefings,
        # held through the rest of the build.
        self.listed_by = PackedLists(readers.listed_by)
        self.shown_full_by = PackedLists(readers.shown_full_by)
        self.shows_every = readers.shows_every

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
                                 str(reading_minutes(b.body.word_count)), type(b.doc.date).__name__,
                                 str(b.doc.extra.get("language", "")))
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
        found = self._full.get(index) or self._kept_fulls.get(index)
        if found is None:
            b: Briefing = self.site.briefings[index]
            links = "\x1f".join(str(self.site.url_of_path.get(link.target)) for link in b.body.links)
            sources = "\x1f".join(self._source_digest(source) for source in b.sources)
            updated = b.updated.isoformat() if b.updated else ""
            # The archived passages its locators point at: an archive edit changes them.
            passages = "\x1f".join(self.site.passages.get(located, "")
                                    for located in b.body.citations.located())
            # A source it lists without citing links its publisher's page only while another
            # briefing cites something of that publisher's.
            listed_only = b.sources[b.cited_count:]
            pages = self._publisher_pages(listed_only) if listed_only else ""
            found = _text_digest(self.listing(index), b.doc.digest, updated, sources,
                                 str(b.cited_count), links, passages, pages)
            self._full[index] = found
        return found

    def _publisher_pages(self, sources: Iterable[Source]) -> str:
        """For each source, whether its publisher has a page ("1") or not ("0")."""
        if self._publisher_slugs is None or self._publisher_slugs[0] is not self.site:
            self._publisher_slugs = (self.site, publisher_slugs(self.site.publishers))
        slugs = self._publisher_slugs[1]
        return "".join("1" if make_slug(source.publisher) in slugs else "0" for source in sources)

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
