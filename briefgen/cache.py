"""The build cache in `.briefgen-cache/`: parsed files by content hash, and what
each output file was made from, so a rebuild renders only what changed.

The cache is an optimisation only: a missing, corrupt, truncated or foreign
cache file is ignored and rebuilt, never an error.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from briefgen import __version__
from briefgen.content import BriefingDoc, PageDoc, Source
from briefgen.diagnostics import Diagnostic

_FORMAT = f"briefgen-cache-1 {__version__}"
_FILE = "build.pickle"


@dataclass(frozen=True)
class ParsedFile:
    """One content file's parse result, as the cache keeps it."""

    path: str
    digest: str
    doc: BriefingDoc | PageDoc | None
    sources: tuple[Source, ...]
    diagnostics: tuple[Diagnostic, ...]


class BuildCache:
    def __init__(self, folder: Path, parsed: dict[str, tuple[str, ParsedFile]],
                 manifest: dict[str, object]) -> None:
        self.folder = folder
        self._parsed = parsed
        self._manifest = manifest
        self._used: set[str] = set()
        self._dirty = False

    @classmethod
    def open(cls, folder: Path) -> BuildCache:
        try:
            with open(folder / _FILE, "rb") as stream:
                header, parsed, manifest = pickle.load(stream)
            if header != _FORMAT or not isinstance(parsed, dict) or not isinstance(manifest, dict):
                raise ValueError("foreign cache")
        except Exception:  # any unreadable cache means: start empty
            return cls(folder, {}, {})
        return cls(folder, parsed, manifest)

    def parsed(self, path: str, digest: str, key: str) -> ParsedFile | None:
        entry = self._parsed.get(path)
        if entry is None or entry[0] != key or entry[1].digest != digest:
            return None
        self._used.add(path)
        return entry[1]

    def store_parsed(self, item: ParsedFile, key: str) -> None:
        self._parsed[item.path] = (key, item)
        self._used.add(item.path)
        self._dirty = True

    def manifest(self, output: Path) -> dict[str, tuple[str, str]]:
        """Output file -> (fingerprint of its inputs, digest of its bytes) of the last build
        into this output folder; another folder's record says nothing about this one."""
        if self._manifest.get("output") != str(output):
            return {}
        files: dict[str, tuple[str, str]] = self._manifest.get("files", {})
        return files

    def set_manifest(self, output: Path, files: dict[str, tuple[str, str]]) -> None:
        manifest = {"output": str(output), "files": files}
        if manifest != self._manifest:
            self._manifest = manifest
            self._dirty = True

    def save(self) -> None:
        stale = set(self._parsed) - self._used
        for path in stale:
            del self._parsed[path]
        if not (self._dirty or stale):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a build killed mid-save leaves the old cache whole.
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".build-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump((_FORMAT, self._parsed, self._manifest), stream,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, self.folder / _FILE)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def clear(folder: Path) -> bool:
    """Delete the cache folder; True when there was one."""
    import shutil

    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    return True
