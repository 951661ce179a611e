"""Which files under content/ are content, and of what kind.

One rule for the build and the live preview alike: the kinds of content by
folder and ending, and the names that are never content.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from briefgen.config import Config

# Defined here, not beside their parsers, so that looking for content files (which a
# build that changes nothing does, and nothing more) imports no parser.
ARCHIVE_FOLDER = "archive"  # content/archive/: archived copies of source articles
REGISTRY_ENDINGS = (".yaml", ".yml", ".json", ".bib")  # files of content/sources/
TOPICS_FOLDER = "topics"  # content/topics/<slug>.md: topic descriptions, read by every build

# Content kinds, with their folders under content/ and file endings.
CONTENT_KINDS = (("registry", "sources", REGISTRY_ENDINGS), ("briefing", "briefings", (".md",)),
                 ("page", "pages", (".md",)), ("archive", ARCHIVE_FOLDER, (".md",)))


def content_kind(config: Config, path: Path) -> str | None:
    """The kind of content file a path would be, or None if it is none."""
    for kind, folder, endings in CONTENT_KINDS:
        base = config.content_dir / folder
        if path.is_relative_to(base) and path.name.endswith(endings):
            relative = path.relative_to(base).parts
            return None if any(ignored_name(part) for part in relative) else kind
    return None


# A content folder as a walk found it: its modification and change times, and the names in it
# of content files and of folders to walk, each joined by NUL (which no name holds): kept by
# the cache, where one string a folder reads in a third of the time of a string a name.
FolderListing = tuple[int, int, str, str]
Listing = dict[str, FolderListing]  # by the folder's path on disk

# A folder's times are trusted to show a change in it only once they are this far behind the
# clock: a file added within the same tick of a coarse clock (two seconds on FAT) may leave
# them as they were.
SETTLED_NS: Final = 3_000_000_000


def discover(config: Config) -> list[tuple[str, str]]:
    """Content files as (kind, path on disk), in a stable order (by kind, then by path).

    Paths are strings: this runs on every build over every file, and pathlib
    objects would cost more than the walk itself.
    """
    found = []
    for kind, groups in discover_listed(config, {})[0]:
        found += [(kind, path) for path in sorted(folder + os.sep + name for folder, names in groups
                                                  for name in names)]
    return found


def discover_listed(config: Config, known: Mapping[str, FolderListing]
                    ) -> tuple[list[tuple[str, list[tuple[str, tuple[str, ...]]]]], Listing]:
    """The content files of each kind, as (kind, [(folder on disk, names of its files)]), and the
    listing of every folder walked. Folders are walked, and names listed, in order; a listing
    `known` from before this was so keeps its own order (content_stats sorts every path).

    A folder is listed again only when its times differ from those `known` has for it (a
    listing of an earlier walk): adding, removing or renaming an entry changes them, editing a
    file does not. Left out of the listing made, so always listed again: a folder whose times
    are too recent to show the next change (SETTLED_NS), and one that holds a symbolic link
    (what it points to may change with nothing in the folder changing).
    """
    content = config.content_dir
    settled = time.time_ns() - SETTLED_NS
    found = []
    listing: Listing = {}
    for kind, folder, endings in CONTENT_KINDS:
        base = content / folder
        if base.is_dir():
            found.append((kind, _walk(str(base), endings, known, listing, settled)))
    return found, listing


def _walk(folder: str, endings: tuple[str, ...], known: Mapping[str, FolderListing],
          listing: Listing, settled: int) -> list[tuple[str, tuple[str, ...]]]:
    """(folder, names of its files with the given endings) for this folder and every folder
    below it that holds any, skipping hidden and editor files. A symbolic link to a folder is
    walked as the folder, unless the folder was walked already (by another link, or above it:
    a loop). With a stack, not a call a level: a thousand nested folders are walked too."""
    groups = []
    walked: set[tuple[int, int]] = set()
    stack = [folder]
    while stack:
        folder = stack.pop()
        st = os.stat(folder)  # before the listing: a change made while it is taken shows next time
        here = (st.st_dev, st.st_ino)
        if here in walked:
            continue  # links to one folder from many (a chain of them doubles at each link)
        walked.add(here)
        times = (st.st_mtime_ns, st.st_ctime_ns)
        last = known.get(folder)
        if last is not None and last[:2] == times:
            files, folders = _names(last[2]), _names(last[3])
            listing[folder] = last
        else:
            files, folders, linked = _list(folder, endings)
            if not linked and max(times) < settled:
                listing[folder] = (*times, "\0".join(files), "\0".join(folders))
        if files:
            groups.append((folder, files))
        stack.extend(folder + os.sep + name for name in reversed(folders))  # in order, as before
    return groups


def walk_files(folder: str) -> list[str]:
    """Every file below a folder (static/, templates, themes), as paths relative to it, sorted:
    a symbolic link to a folder is walked as the folder, unless the folder was walked already
    (a loop, or another link to it: the first path in order keeps its files). As content files
    are found (_walk); os.walk and Path.rglob skip such links."""
    found: list[str] = []
    walked: set[str] = set()
    for base, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(base)
        if real in walked:  # a loop, or another link to a folder walked already
            dirs[:] = []
            continue
        walked.add(real)
        dirs.sort()
        relative = os.path.relpath(base, folder)
        found += (name if relative == "." else f"{relative}{os.sep}{name}" for name in files)
    return sorted(path.replace(os.sep, "/") for path in found)


def _names(joined: str) -> tuple[str, ...]:
    return tuple(joined.split("\0")) if joined else ()


def _list(folder: str, endings: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """The names of the content files and of the folders in a folder, and whether it holds a
    symbolic link. os.scandir rather than Path.iterdir: pathlib's overhead would dominate a
    folder of thousands of files."""
    files, folders, linked = [], [], False
    with os.scandir(folder) as entries:
        for entry in entries:
            if ignored_name(entry.name):
                continue
            link = entry.is_symlink()
            linked = linked or link
            if entry.is_dir(follow_symlinks=False) or (link and _is_dir(entry)):
                folders.append(entry.name)
            elif entry.name.endswith(endings) and _is_file(entry):
                files.append(entry.name)
    # In order: content_stats sorts every path, which costs a tenth of the time on names in order.
    return tuple(sorted(files)), tuple(sorted(folders)), linked


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        # A link to nothing is kept too, so that reading it reports it rather than lose it.
        return entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
    except OSError:  # a symlink loop: kept, so that reading it reports it
        return True


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


_EDITOR_SUFFIXES: Final = (".swp", ".swx", ".swo", ".swn", ".tmp", ".bak", ".part", ".crdownload",
                           ".crswap", "___jb_tmp___", "___jb_old___", "~", "#")


def ignored_name(name: str) -> bool:
    """Hidden files and editors' swap, backup and temporary files: never content, never a
    reason for the live preview to rebuild ("4913" is the file Vim writes to test a folder)."""
    return name.startswith((".", "#", "~")) or name == "4913" or name.endswith(_EDITOR_SUFFIXES)
