"""What a build reads, named by cheap facts: the stat of every content file, and a
digest of the stats of every template, theme and static file, the configuration
and the options. A build that changes nothing stops after this, so it imports
no parser and no renderer."""

from __future__ import annotations

import itertools
import os
from array import array
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import overload

from briefgen.build import memo
from briefgen.build.options import BuildOptions
from briefgen.build.store import FileStat, file_stat, stat_base
from briefgen.config import Config
from briefgen.content.files import TOPICS_FOLDER, FolderListing, Listing, discover_listed
from briefgen.content.markdown_settings import MARKDOWN_SETTINGS_KEY
from briefgen.diagnostics import BuildFailed, Diagnostic, error
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


def unreadable(shown: str, exc: OSError) -> Diagnostic:
    return error(shown, 1, 1, f"cannot read this file: {exc.strerror or exc}")


def content_stats(config: Config) -> ContentFiles:
    """Every content file as (kind, path on disk, stat), in a stable order (by kind, then path)."""
    return listed_content_stats(config, {})[0]


def listed_content_stats(config: Config, known: Mapping[str, FolderListing]
                         ) -> tuple[ContentFiles, Listing]:
    """`content_stats`, with the content folders listed again only where their times differ
    from those of an earlier listing, `known`; and the listing made (see files.discover_listed)."""
    groups, listing = discover_listed(config, known)
    runs: list[tuple[str, str, tuple[str, ...]]] = []
    stats = array("q")
    problems = []
    prefix = len(str(config.root)) + 1
    for kind, folders in groups:
        for folder, names in folders:
            start = len(stats)
            try:
                _stats_in(folder, names, stats)
                runs.append((kind, folder, names))
            except OSError:
                del stats[start:]  # those taken before the one that failed
                for name in names:  # again one by one, to name each that cannot be read
                    path = folder + os.sep + name
                    try:
                        stats.extend(file_stat(path))
                        runs.append((kind, folder, (name,)))
                    except OSError as exc:
                        problems.append(unreadable(path[prefix:].replace(os.sep, "/"), exc))
    if problems:
        raise BuildFailed(problems)
    return _in_order(ContentFiles(runs, stats)), listing


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
                     str(output), MARKDOWN_SETTINGS_KEY))
    return memo.inputs_digest([f for f in folders if f.is_dir()], [config.config_path], settings)


def inputs_digest(global_digest: str, found: ContentFiles) -> str:
    """A digest of every input: the global ones and the content files."""
    return memo.inputs_digest([], [], global_digest, found.named(), found.stats)
