"""The last build's output, as the live preview's first build may take it.

A preview that starts renders every page into memory: at 10,000 briefings that
is most of a cold build, repeated at every start. A built output folder holds
those pages already, and the build cache records each file's fingerprint and
the digest of its bytes. A page whose fingerprint is unchanged is taken from the
folder, when a reader asks for it and if its file still has those bytes (see
pages.py); any other page (a draft the build left out) is rendered as before.
The preview only reads the folder.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from briefgen.build.manifest import Manifest, read_manifest
from briefgen.build.store import Store


@dataclass(frozen=True)
class BuiltFiles:
    """An output folder's files, each vouched for by the digest its build recorded."""

    folder: str
    manifest: Manifest

    def digests(self) -> dict[str, str]:
        """Each file the build recorded the bytes of, with their digest."""
        return {rel: entry[1] for rel, entry in self.manifest.items() if entry[1]}


def read_built(folder: str, rel_file: str, digest: str) -> bytes | None:
    """A built file's bytes, if they are those its build wrote (`digest`); else None (render it)."""
    data = _regular_file_bytes(os.path.join(folder, rel_file))
    if data is None or hashlib.blake2b(data, digest_size=16).hexdigest() != digest:
        return None
    return data


# A build writes regular files. Anything else in their place (a link, a named pipe that would
# block the start) was put there by hand: the page is rendered instead.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _regular_file_bytes(path: str) -> bytes | None:
    """The bytes of a regular file at `path` (not followed if a link); None for anything else."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError:  # gone, a link, unreadable
        return None
    with open(descriptor, "rb") as file:  # closes the descriptor
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                return None
            return file.read()
        except OSError:
            return None


def built_files(store: Store, output: Path) -> BuiltFiles | None:
    """The files of the last build into `output`, as its cache records them; None when none is."""
    folder = output.resolve()
    manifest = read_manifest(store, folder)
    return BuiltFiles(str(folder), manifest) if manifest and folder.is_dir() else None
