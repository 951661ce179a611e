"""What both publish targets share: the built site's files, errors and results."""

from __future__ import annotations

import os
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


def site_files(site_output: Path) -> list[str]:
    """Sorted POSIX paths of the regular files under `site_output`.

    Symlinks and other special files are skipped: a build writes regular
    files only, and following a link could publish something outside the site.
    """
    if not site_output.is_dir():
        raise PublishError(f"built site {site_output} is not a folder")
    found: list[str] = []
    for folder, dirs, files in os.walk(site_output):
        base = Path(folder)
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
        for name in files:
            path = base / name
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(site_output).as_posix())
    # The marker that says "briefgen made this folder" belongs to the build, not the site.
    return sorted(f for f in found if f != MARKER)


# --------------------------------------------------------------------------
