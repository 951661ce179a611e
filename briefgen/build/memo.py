"""The record of the last build into each output folder, to skip a build whose
inputs are all as they were.

The inputs are named by cheap facts, not contents: the size, times and inode
of every content, template, theme and static file, the configuration, the
options and the briefgen version. If all are as recorded, and no briefing
left out for being dated in the future has come due since, the output is
already what a build would make, and nothing needs to be read or rendered.
Any doubt (a touched file, a missing record, a damaged one) means: build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from briefgen import __version__

_FILE = "last-build.json"


@dataclass(frozen=True)
class LastBuild:
    inputs: str
    files: int
    briefings: int
    valid_until: dt.datetime | None  # when the next future briefing comes due
    drafts_left_out: int = 0
    future_left_out: int = 0


def _stats(folders: Iterable[Path]) -> list[tuple[str, int, int, int, int]]:
    found = []
    for folder in folders:
        for base, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(base, name)
                st = os.stat(path)
                found.append((path, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
    return found


def inputs_digest(folders: Iterable[Path], files: Iterable[Path], settings: str,
                  known: Iterable[tuple[object, ...]] = ()) -> str:
    """A digest of what a build reads, from file metadata only; `known` are stats already taken."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{__version__}\n{settings}\n".encode())
    for entry in known:
        digest.update(repr(entry).encode())
    for entry in _stats(folders):
        digest.update(repr(entry).encode())
    for path in files:
        if path.is_file():
            st = path.stat()
            digest.update(repr((str(path), st.st_mtime_ns, st.st_ctime_ns, st.st_size)).encode())
    return digest.hexdigest()


def read_last_build(cache_dir: Path, output: Path) -> LastBuild | None:
    try:
        record = json.loads((cache_dir / _FILE).read_text(encoding="utf-8"))[str(output)]
        until = record["valid_until"]
        return LastBuild(str(record["inputs"]), int(record["files"]), int(record["briefings"]),
                         dt.datetime.fromisoformat(until) if until else None,
                         int(record.get("drafts", 0)), int(record.get("future", 0)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_last_build(cache_dir: Path, output: Path, last: LastBuild) -> None:
    path = cache_dir / _FILE
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(records, dict):
            records = {}
    except (OSError, ValueError):
        records = {}
    records[str(output)] = {
        "inputs": last.inputs, "files": last.files, "briefings": last.briefings,
        "valid_until": last.valid_until.isoformat() if last.valid_until else None,
        "drafts": last.drafts_left_out, "future": last.future_left_out,
    }
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(records, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def forget(cache_dir: Path, output: Path) -> None:
    """Drop the record for an output folder, before anything in it changes."""
    path = cache_dir / _FILE
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(records, dict) and records.pop(str(output), None) is not None:
            path.write_text(json.dumps(records, sort_keys=True), encoding="utf-8")
    except (OSError, ValueError):
        pass
