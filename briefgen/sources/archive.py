"""The archive file: the article as captured, paragraphs numbered as locators count them.

`content/archive/<id>.md` is the curator's copy and is never published; the
format is read by the build's checks against the archive, so it is fixed:
front matter (id, url, title, publisher, accessed, sha256, captured_from), then
`N. text` blocks, one line each, separated by one blank line.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from briefgen.sources.registry import scalar


@dataclass(frozen=True)
class ArchiveCopy:
    id: str
    url: str
    title: str
    publisher: str
    accessed: dt.datetime  # UTC
    sha256: str
    captured_from: str  # url | html-file | text-file | stdin
    paragraphs: tuple[str, ...]

    def text(self) -> str:
        stamp = self.accessed.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        head = [
            "---", f"id: {self.id}", f"url: {scalar(self.url)}",
            f"title: {json.dumps(self.title, ensure_ascii=False)}", f"publisher: {scalar(self.publisher)}",
            f"accessed: {stamp}", f"sha256: {self.sha256}", f"captured_from: {self.captured_from}", "---",
        ]
        body = "\n\n".join(f"{number}. {' '.join(text.split())}"
                           for number, text in enumerate(self.paragraphs, start=1))
        return "\n".join(head) + "\n" + body + "\n"


def gzipped(data: bytes) -> bytes:
    # mtime 0: the same page gives the same file.
    return gzip.compress(data, mtime=0)


def write_all(files: dict[Path, bytes]) -> None:
    """Write every file or none: each goes to a temporary file first, and all are renamed at the end."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            staged.append((Path(name), path))
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _path in staged:
            temporary.unlink(missing_ok=True)
