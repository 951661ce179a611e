"""Which files under content/ are content, and of what kind.

One rule for the build and the live preview alike: the kinds of content by
folder and ending, and the names that are never content.
"""

from __future__ import annotations

import os
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


def discover(config: Config) -> list[tuple[str, str]]:
    """Content files as (kind, path on disk), in a stable order.

    Paths are strings: this runs on every build over every file, and pathlib
    objects would cost more than the walk itself.
    """
    content = config.content_dir
    found: list[tuple[str, str]] = []
    for kind, folder, endings in CONTENT_KINDS:
        base = content / folder
        if base.is_dir():
            found += [(kind, p) for p in sorted(_walk(str(base), endings))]
    return found


def _walk(folder: str, endings: tuple[str, ...]) -> list[str]:
    """Files with the given endings below folder, skipping hidden and editor files.

    os.scandir rather than Path.rglob: this runs on every rebuild, over
    tens of thousands of files, and pathlib's overhead would dominate it.
    """
    files = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if ignored_name(entry.name):
                continue
            if entry.is_dir(follow_symlinks=False):
                files += _walk(entry.path, endings)
            elif entry.name.endswith(endings) and _is_file(entry):
                files.append(entry.path)
    return files


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:  # a symlink loop: kept, so that reading it reports it
        return True


_EDITOR_SUFFIXES: Final = (".swp", ".swx", ".swo", ".swn", ".tmp", ".bak", ".part", ".crdownload",
                           ".crswap", "___jb_tmp___", "___jb_old___", "~", "#")


def ignored_name(name: str) -> bool:
    """Hidden files and editors' swap, backup and temporary files: never content, never a
    reason for the live preview to rebuild ("4913" is the file Vim writes to test a folder)."""
    return name.startswith((".", "#", "~")) or name == "4913" or name.endswith(_EDITOR_SUFFIXES)
