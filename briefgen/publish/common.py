"""What both publish targets share: the built site's files, errors and results."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from briefgen.build.write import MARKER


class PublishError(Exception):
    """A one-line, user-facing message; the CLI prints `error: <message>` and exits 1."""


@dataclass(frozen=True)
class PublishResult:
    target: str  # branch name or folder path, for the summary line
    changed: bool  # False when nothing was committed / no file changed
    written: int  # files written (dir) or files in the commit tree (git)
    removed: int  # files removed (dir); 0 for git
    commit: str | None  # new commit sha (git), None otherwise
    pushed: bool


def stat_key(*paths: str) -> str | None:
    """The size, times and inode of regular files, as a build keeps a content file's
    (build.store.file_stat), in one short key; None when one is missing or no regular file.
    The change time is set by every write and cannot be set back: files with the key they had
    hold the bytes they held, and need not be read to say so."""
    facts = []
    for path in paths:
        try:
            found = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(found.st_mode):
            return None
        facts.append((found.st_mtime_ns, found.st_ctime_ns, found.st_size, found.st_ino))
    return hashlib.blake2b(repr(facts).encode(), digest_size=8).hexdigest()


def site_files(site_output: Path) -> list[str]:
    """Sorted POSIX paths of the regular files under `site_output`.

    Symlinks and other special files are skipped: a build writes regular
    files only, and following a link could publish something outside the site.
    """
    if not site_output.is_dir():
        raise PublishError(f"built site {site_output} is not a folder")
    found: list[str] = []
    # Names as strings, types from the folder listing: a Path and a stat per file took most of
    # a publish that changed nothing (28,900 files at 10,000 briefings).
    waiting = [("", str(site_output))]
    while waiting:
        prefix, folder = waiting.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        waiting.append((prefix + entry.name + "/", entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        found.append(prefix + entry.name)
        except OSError as exc:  # a site published without a folder of its pages would be broken
            raise PublishError(f"cannot read {folder}: {exc.strerror or exc}") from exc
    # The marker that says "briefgen made this folder" belongs to the build, not the site.
    return sorted(f for f in found if f != MARKER)


# --------------------------------------------------------------------------
