"""What a build reads, named by cheap facts: the stat of every content file, and a
digest of the stats of every template, theme and static file, the configuration
and the options. A build that changes nothing stops after this, so it imports
no parser and no renderer."""

from __future__ import annotations

import itertools
import os
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import overload

from briefgen import OUTPUT_VERSION
from briefgen.build import forked, memo
from briefgen.build.columns import Column, Positions, joined_positions
from briefgen.build.options import BuildOptions
from briefgen.build.store import FileStat, file_stat, stat_base
from briefgen.config import Config
from briefgen.content.files import CONTENT_KINDS, TOPICS_FOLDER, FolderListing, Listing, discover_listed
from briefgen.content.markdown_settings import MARKDOWN_SETTINGS_KEY
from briefgen.diagnostics import Diagnostic, error
from briefgen.render.themes import builtin_themes_dir

ContentStat = tuple[str, str, FileStat]  # kind, path on disk, stat


class ContentFiles(Sequence[ContentStat]):
    """Every content file as (kind, path on disk, stat), packed: the names of each folder's
    files as the listing gives them (a run), the stats' numbers one after another in one array,
    four a file; every path made only when asked for. Every build stats every content file and
    digests the stats: at 50,000 briefings, as tuples of tuples with their paths, they took 34 ms
    more to make and digest (a tenth of a build that changes nothing), and 34 MB more memory."""

    def __init__(self, runs: list[tuple[str, str, tuple[str, ...]]], stats: array[int]) -> None:
        self.runs = runs  # (kind, folder on disk, names of its files), each kind's together, by path
        self.stats = stats
        self._paths: list[str] | None = None

    @property
    def paths(self) -> list[str]:
        if self._paths is None:
            self._paths = [folder + os.sep + name for _, folder, names in self.runs for name in names]
        return self._paths

    def shown_joined(self, root: Path) -> str:
        """Every file's path in the site (from `root`, with "/" between names), in order, joined
        by NULs: made run by run, as an edit compares them whole with the last build's (at
        50,000 briefings, 7 ms less than making every path)."""
        prefix = len(str(root)) + 1
        parts = []
        for _, folder, names in self.runs:
            if names:
                within = folder[prefix:].replace(os.sep, "/") + "/"
                parts.append(within + ("\0" + within).join(names))
        return "\0".join(parts)

    def shown_at(self, root: Path, at: int) -> str:
        """One file's path in the site, as shown_joined has it."""
        return self[at][1][len(str(root)) + 1:].replace(os.sep, "/")

    @property
    def kinds(self) -> list[str]:
        return [kind for kind, _, names in self.runs for _ in names]

    def count_of(self, kind: str) -> int:
        return sum(len(names) for of_kind, _, names in self.runs if of_kind == kind)

    def __len__(self) -> int:
        return len(self.stats) // _STAT_NUMBERS

    @overload
    def __getitem__(self, at: int) -> ContentStat: ...
    @overload
    def __getitem__(self, at: slice) -> Sequence[ContentStat]: ...
    def __getitem__(self, at: int | slice) -> ContentStat | Sequence[ContentStat]:
        if isinstance(at, slice):
            return list(itertools.islice(self, *at.indices(len(self))))
        if not -len(self) <= at < len(self):
            raise IndexError("no such content file")
        at %= len(self)
        left = at
        for kind, folder, names in self.runs:
            if left < len(names):
                return kind, folder + os.sep + names[left], self.stat_at(at)
            left -= len(names)
        raise AssertionError("runs shorter than the stats")

    def stat_at(self, at: int) -> FileStat:
        first = _STAT_NUMBERS * at
        mtime, ctime, size, inode = self.stats[first:first + _STAT_NUMBERS]
        return mtime, ctime, size, inode

    def __iter__(self) -> Iterator[ContentStat]:
        numbers = iter(self.stats)
        return zip(self.kinds, self.paths, zip(numbers, numbers, numbers, numbers, strict=True), strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ContentFiles):
            return (self.runs, self.stats) == (other.runs, other.stats)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ContentFiles({len(self)} files)"

    def named(self) -> Iterator[bytes]:
        """What names the files, in order, as bytes to digest: each run's kind, folder and names
        joined (the listing keeps each folder's names so), not every path made and joined. No
        name holds NUL, nor is empty, so two NULs end a part and three a run."""
        for kind, folder, names in self.runs:
            yield f"{kind}\0\0{folder}\0\0{chr(0).join(names)}\0\0\0".encode("utf-8", "surrogateescape")

    def clear(self) -> None:
        """Let go of every file's entry (a full build holds them no longer than it needs them)."""
        self.runs, self.stats, self._paths = [], array("q"), None


_STAT_NUMBERS = 4  # a FileStat's
_COMPARED = 4096  # bytes of stats compared at once, looking for the few that differ


def stat_numbers(stats: Iterable[FileStat]) -> array[int]:
    """Stats as one array of their numbers, in order."""
    return array("q", [number for stat in stats for number in stat])


class PackedContent(Mapping[str, tuple[FileStat, str]]):
    """Each content file's stat and digest (Loaded.content) as a build's model and the snapshot's
    head keep them: the paths joined by NULs, the stats' numbers in an array, the digests one
    column (columns.Column); the paths are split, and a dict by path made, only when one is looked
    up by path. Every edit compares every file's stat with these: as a dict of tuples, unpickling
    them and comparing them entry by entry took a tenth of an edit; as tuples of 50,000 paths and
    digests, their strings took 10 ms of an edit to unpickle, and comparing the paths with the
    files found made every path of those too."""

    def __init__(self, joined: str, stats: array[int], digests: str, count: int | None = None) -> None:
        """`count`: the paths' number, when known (counting them costs a millisecond at 50,000)."""
        if type(joined) is not str or type(digests) is not str:
            raise ValueError("damaged content files")  # in a head: a full build
        if count is None:
            count = joined.count("\0") + 1 if joined else 0
        if type(stats) is not array or stats.typecode != "q" or len(stats) != _STAT_NUMBERS * count:
            raise ValueError("damaged content files")
        self.joined, self.stats, self._digests = joined, stats, digests
        self.digests = Column.of(digests, count)  # a ValueError unless there is one a file
        self._paths: tuple[str, ...] | None = None
        self._positions: Positions | None = None

    @classmethod
    def of(cls, content: Mapping[str, tuple[FileStat, str]]) -> PackedContent:
        """Content files packed; every path and digest as a NUL-free string (each is)."""
        if isinstance(content, PackedContent):
            return content
        paths = tuple(content)
        return cls.of_files(paths, (content[path][0] for path in paths), [content[path][1] for path in paths])

    @classmethod
    def of_files(cls, paths: Sequence[str], stats: Iterable[FileStat],
                 digests: Sequence[str]) -> PackedContent:
        """Content files given path by path, stat by stat and digest by digest, in one order. A
        build's model keeps its files so (Loaded.content) rather than as a dict of tuples: at
        50,000 briefings, 15 MB less in the build's process and every process forked from it."""
        return cls("\0".join(paths), stat_numbers(stats), "\0".join(digests))

    def __reduce__(self) -> tuple[type[PackedContent], tuple[str, array[int], str]]:
        return PackedContent, (self.joined, self.stats, self._digests)

    @property
    def paths(self) -> tuple[str, ...]:
        if self._paths is None:
            self._paths = tuple(self.joined.split("\0")) if self.joined else ()
        return self._paths

    def _position(self, path: str) -> int | None:
        if self._positions is None:
            self._positions = Positions(self.paths)
        return self._positions.get(path)

    def __getitem__(self, path: str) -> tuple[FileStat, str]:
        at = self._position(path)
        if at is None:
            raise KeyError(path)
        first = _STAT_NUMBERS * at
        stat = self.stats[first:first + _STAT_NUMBERS]
        return (stat[0], stat[1], stat[2], stat[3]), self.digests[at]

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.stats) // _STAT_NUMBERS

    def changes(self, joined: str, stats: array[int]) -> tuple[list[tuple[int, str]], list[str]]:
        """The files whose stats differ from these, as (position, known digest: "" for a file
        added), given every content file's path joined by NULs and their stat numbers, in this
        order; and the paths of these files that are gone."""
        if joined != self.joined:
            return self._changed_by_path(joined.split("\0") if joined else [], stats)
        now, then = stats.tobytes(), self.stats.tobytes()
        if len(now) != len(then):  # the same paths, not as many stats: none is taken as known
            return [], list(self.paths)
        width = _STAT_NUMBERS * stats.itemsize
        found = []
        # Long runs of bytes compared at once, then each stat of a run that differs.
        for start in range(0, len(now), _COMPARED):
            if now[start:start + _COMPARED] != then[start:start + _COMPARED]:
                offsets = range(start, min(start + _COMPARED, len(now)), width)
                found += [at // width for at in offsets if now[at:at + width] != then[at:at + width]]
        return [(at, self.digests[at]) for at in found], []

    def _changed_by_path(self, paths: Sequence[str], stats: array[int]
                         ) -> tuple[list[tuple[int, str]], list[str]]:
        found, kept = [], []
        for at, path in enumerate(paths):
            known = self._position(path)
            if known is None:
                found.append((at, ""))
                continue
            kept.append(known)
            if (stats[_STAT_NUMBERS * at:_STAT_NUMBERS * (at + 1)]
                    != self.stats[_STAT_NUMBERS * known:_STAT_NUMBERS * (known + 1)]):
                found.append((at, self.digests[known]))
        if len(kept) == len(self):
            return found, []
        gone = set(range(len(self))).difference(kept)
        return found, [self.paths[at] for at in sorted(gone)]

    def with_changes(self, content: Mapping[str, tuple[FileStat, str] | None],
                     kind_folders: Sequence[str] = ()) -> PackedContent:
        """These files with some stats and digests replaced, some added, and those given None
        taken out. Every edit's snapshot applies its delta so: the few paths are found in the
        joined ones and the digests replaced in their column, neither split (8 ms at 50,000
        briefings). A file added goes where a build's listing puts it (see _in_order), given each
        kind's folder as a site path ending in "/", in the listing's order of kinds: the next
        edit finds the files in the same order, and compares their stats at once."""
        if self._positions is not None:
            positions = {path: at for path in content if (at := self._positions.get(path)) is not None}
        else:
            positions = joined_positions(self.joined, content)
        if len(positions) != len(content) or None in content.values():  # a file new to these, or gone
            return self._with_files_changed(content, positions, kind_folders)
        stats = array("q", self.stats)
        entries = {path: entry for path, entry in content.items() if entry is not None}
        for path, (stat, _) in entries.items():
            at = positions[path]
            stats[_STAT_NUMBERS * at:_STAT_NUMBERS * (at + 1)] = array("q", stat)
        digests = {positions[path]: digest for path, (_, digest) in entries.items()}
        joined = self.digests.replaced(digests) if isinstance(self.digests, Column) else None
        if joined is None:
            values = list(self.digests)
            for at, digest in digests.items():
                values[at] = digest
            joined = "\0".join(values)
        return PackedContent(self.joined, stats, joined, len(self))

    def _with_files_changed(self, content: Mapping[str, tuple[FileStat, str] | None],
                            positions: Mapping[str, int], kind_folders: Sequence[str]) -> PackedContent:
        known = {path: entry for path, entry in content.items() if entry is not None and path in positions}
        packed = self.with_changes(known) if known else self
        gone = [path for path, entry in content.items() if entry is None and path in positions]
        added = {path: entry for path, entry in content.items()
                 if entry is not None and path not in positions}
        # Each file taken out or put in where it lies in the joined paths, found by searching them:
        # splitting the paths and the digests took 10 ms at 50,000 briefings, every time an edit
        # reads a snapshot whose delta has a file added or taken out. The digests likewise when
        # they have one width; else (one the snapshot does not vouch for, see
        # snapshot.delta_rows) as a list.
        joined, count = packed.joined, len(packed)
        stats = array("q", packed.stats)
        step = Column.WIDTH + 1
        one_width = (isinstance(packed.digests, Column)
                     and all(len(digest) == Column.WIDTH for _, digest in added.values()))
        digests: str | list[str] = packed._digests if one_width else list(packed.digests)
        for path in gone:
            start = _item_start(joined, path)
            at = joined.count("\0", 0, start)
            joined = _cut(joined, start, len(path))
            if isinstance(digests, str):
                digests = _cut(digests, at * step, Column.WIDTH)
            else:
                del digests[at]
            del stats[_STAT_NUMBERS * at:_STAT_NUMBERS * (at + 1)]
            count -= 1
        for path, (stat, digest) in added.items():
            start = _listed_offset(joined, path, kind_folders)
            at = joined.count("\0", 0, start) if start <= len(joined) else count
            joined = _put(joined, start, path)
            if isinstance(digests, str):
                digests = _put(digests, at * step, digest)
            else:
                digests.insert(at, digest)
            stats[_STAT_NUMBERS * at:_STAT_NUMBERS * at] = array("q", stat)
            count += 1
        joined_digests = digests if isinstance(digests, str) else "\0".join(digests)
        return PackedContent(joined, stats, joined_digests, count)


def _item_start(joined: str, item: str) -> int:
    """Where `item`, one of the NUL-joined items of `joined`, begins."""
    if joined == item or joined.startswith(item + "\0"):
        return 0
    found = joined.find("\0" + item + "\0")
    return found + 1 if found >= 0 else len(joined) - len(item)


def _cut(joined: str, start: int, length: int) -> str:
    """`joined` without the item of this length that begins at `start`, and a NUL beside it."""
    if start + length < len(joined):
        return joined[:start] + joined[start + length + 1:]
    return joined[:max(0, start - 1)]


def _put(joined: str, start: int, item: str) -> str:
    """`joined` with `item` put in before the item that begins at `start` (at the end, past it)."""
    if not joined:
        return item
    if start >= len(joined):
        return joined + "\0" + item
    return joined[:start] + item + "\0" + joined[start:]


def _listed_offset(joined: str, path: str, kind_folders: Sequence[str]) -> int:
    """Where, in NUL-joined paths in a build's listing order (each kind's files together, by
    path, the kinds in the order of `kind_folders`; see _in_order), `path` goes: the offset of
    the path it goes before, or past the end (also for a path of none of those kinds)."""
    past = len(joined) + 1
    kind = next((at for at, folder in enumerate(kind_folders) if path.startswith(folder)), None)
    if kind is None or not joined:
        return past
    # Where the kinds after its own begin.
    end = min((_first_of(joined, folder) for folder in kind_folders[kind + 1:]), default=past)
    first = _first_of(joined, kind_folders[kind])
    if first == past:
        return end  # the first of its kind
    low, high = first, end  # offsets where paths begin (or past the end): by halves
    while low < high:
        middle = (low + high) // 2
        begins = joined.rfind("\0", low, middle) + 1 or low
        ends = joined.find("\0", begins)
        ends = len(joined) if ends < 0 else ends
        if joined[begins:ends] < path:
            low = ends + 1
        else:
            high = begins
    return low


def _first_of(joined: str, folder: str) -> int:
    """The offset of the first of NUL-joined paths that is in `folder`; past the end if none is."""
    if joined.startswith(folder):
        return 0
    found = joined.find("\0" + folder)
    return found + 1 if found >= 0 else len(joined) + 1


def kind_folders(config: Config) -> tuple[str, ...]:
    """Each content kind's folder as a site path ending in "/", in the order a build lists the
    kinds (see PackedContent.with_changes); none when the content folder is outside the site."""
    if not config.content_dir.is_relative_to(config.root):
        return ()
    content = config.content_dir.relative_to(config.root).as_posix()
    return tuple(f"{content}/{folder}/" if content != "." else f"{folder}/" for _, folder, _ in CONTENT_KINDS)


_NO_STAT = array("q", [0] * _STAT_NUMBERS)


def unreadable(shown: str, exc: OSError) -> Diagnostic:
    return error(shown, 1, 1, f"cannot read this file: {exc.strerror or exc}")


def content_stats(config: Config) -> ContentFiles:
    """Every content file as (kind, path on disk, stat), in a stable order (by kind, then path)."""
    return listed_content_stats(config, {})[0]


def listed_content_stats(config: Config, known: Mapping[str, FolderListing], fork: bool = False
                         ) -> tuple[ContentFiles, Listing]:
    """`content_stats`, with the content folders listed again only where their times differ
    from those of an earlier listing, `known`; and the listing made (see files.discover_listed).
    With `fork`, a forked copy of this process stats the files from the first on while this
    one stats them from the last back (see forked.from_both_ends): a build's first step, and
    most of what an edit at 50,000 briefings waits for (143 ms in one process)."""
    groups, listing = discover_listed(config, known)
    runs = [(kind, folder, names) for kind, folders in groups for folder, names in folders]
    stats = _stats_of_runs(runs, fork)
    if stats is None:  # a file could not be statted: each is taken again, to name those
        runs, stats = _stats_one_by_one(config, runs)
    return _in_order(ContentFiles(runs, stats)), listing


def files_added_and_gone(known: Mapping[str, FolderListing], found: ContentFiles, config: Config, kind: str
                         ) -> tuple[list[str], list[str]] | None:
    """The content files of one kind added and gone since the listing `known` was made (the last
    build's, see listed_content_stats), as paths on disk; None when a folder that holds some now
    is not in it (a folder new, or changed too recently to be listed: its earlier files are not
    known)."""
    base = next(str(config.content_dir / folder) for of_kind, folder, _ in CONTENT_KINDS if of_kind == kind)
    added: list[str] = []
    gone: list[str] = []
    walked = set()
    for of_kind, folder, names in found.runs:
        if of_kind != kind:
            continue
        walked.add(folder)
        listed = known.get(folder)
        if listed is None:
            return None
        if listed[2] == "\0".join(names):
            continue  # most folders: the same files
        before, now = set(_joined_names(listed[2])), set(names)
        added += [folder + os.sep + name for name in names if name not in before]
        gone += [folder + os.sep + name for name in sorted(before - now)]
    within = base + os.sep
    for folder, listed in known.items():  # folders that held files, and hold none now
        if folder not in walked and listed[2] and (folder == base or folder.startswith(within)):
            gone += [folder + os.sep + name for name in _joined_names(listed[2])]
    return added, gone


def _joined_names(joined: str) -> list[str]:
    return joined.split("\0") if joined else []


def _stats_of_runs(runs: list[tuple[str, str, tuple[str, ...]]], fork: bool) -> array[int] | None:
    """The stats' numbers of every file of these runs, in order; None when one cannot be statted."""
    starts = list(itertools.accumulate((len(names) for _, _, names in runs), initial=0))

    def numbers(start: int, stop: int) -> array[int] | None:
        # A range of numbers, whole files' (the two sides take runs of forked._CHUNK numbers,
        # a multiple of _STAT_NUMBERS, from either end of a multiple of it).
        made = array("q")
        first, last = start // _STAT_NUMBERS, stop // _STAT_NUMBERS
        at = bisect_right(starts, first) - 1
        try:
            while first < last:
                _, folder, names = runs[at]
                offset = first - starts[at]
                taken = min(len(names) - offset, last - first)
                _stats_in(folder, names[offset:offset + taken] if taken < len(names) else names, made)
                first += taken
                at += 1
        except OSError:
            return None
        return made

    with forked.from_both_ends(starts[-1] * _STAT_NUMBERS, numbers, fork) as all_numbers:
        return all_numbers()


def _stats_one_by_one(config: Config, runs: list[tuple[str, str, tuple[str, ...]]]
                      ) -> tuple[list[tuple[str, str, tuple[str, ...]]], array[int]]:
    """The runs' stats taken folder by folder, and file by file in a folder where one cannot be
    statted. A file that cannot be (a link to nothing) is kept with a stat of zeros, which no
    cache knows: reading it reports it, beside every other problem of the build."""
    kept: list[tuple[str, str, tuple[str, ...]]] = []
    stats = array("q")
    for kind, folder, names in runs:
        start = len(stats)
        try:
            _stats_in(folder, names, stats)
            kept.append((kind, folder, names))
        except OSError:
            del stats[start:]  # those taken before the one that failed
            for name in names:  # again one by one
                try:
                    stats.extend(file_stat(folder + os.sep + name))
                except OSError:
                    stats.extend(_NO_STAT)
                kept.append((kind, folder, (name,)))
    return kept, stats


def _in_order(found: ContentFiles) -> ContentFiles:
    """`found` with each kind's files by path. Each folder's names are in order, and folders
    are walked in order (see files.discover_listed), so each run ends before the next one of
    its kind begins, but where a folder's files and its subfolders' meet: only then are the
    paths sorted, each file a run of its own."""
    runs = found.runs
    if all(kind != next_kind or folder + os.sep + names[-1] <= next_folder + os.sep + next_names[0]
           for (kind, folder, names), (next_kind, next_folder, next_names) in itertools.pairwise(runs)):
        return found
    numbers = found.stats
    kind_order = {kind: order for order, kind in enumerate(dict.fromkeys(kind for kind, _, _ in runs))}
    ordered = sorted(zip(found.kinds, found.paths, range(len(found)), strict=True),
                     key=lambda file: (kind_order[file[0]], file[1]))
    stats = array("q")
    ordered_runs: list[tuple[str, str, tuple[str, ...]]] = []
    for kind, path, at in ordered:
        folder, _, name = path.rpartition(os.sep)
        ordered_runs.append((kind, folder, (name,)))
        stats.extend(numbers[_STAT_NUMBERS * at:_STAT_NUMBERS * (at + 1)])
    return ContentFiles(ordered_runs, stats)


def _stats_in(folder: str, names: tuple[str, ...], stats: array[int]) -> None:
    """The stats of the files of these names in a folder, added to `stats`; OSError if one
    cannot be statted."""
    stat = os.stat
    add = stats.extend
    with stat_base(folder) as (prefix, at):
        for name in names:
            st = stat(prefix + name, dir_fd=at)
            add((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))


def global_inputs(config: Config, options: BuildOptions, output: Path) -> str:
    """A digest of every input but the content files: templates, themes, static files,
    topic descriptions, the configuration and the options."""
    folders = [config.templates_dir, config.static_dir, config.themes_dir, builtin_themes_dir(),
               config.content_dir / TOPICS_FOLDER]
    settings = repr((config.site, config.build, options.drafts, options.future, options.base_url,
                     str(output), MARKDOWN_SETTINGS_KEY, OUTPUT_VERSION))
    return memo.inputs_digest([f for f in folders if f.is_dir()], [config.config_path], settings)


def inputs_digest(global_digest: str, found: ContentFiles) -> str:
    """A digest of every input: the global ones and the content files."""
    return memo.inputs_digest([], [], global_digest, found.named(), found.stats)
