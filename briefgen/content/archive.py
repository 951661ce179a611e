"""Archived copies of sources: `content/archive/<source-id>.md`, read into numbered paragraphs.

An archive file has YAML front matter (id, url, title, publisher, accessed,
sha256, captured_from) and a body of blocks `N. text`, numbered from 1 and
separated by blank lines. The numbers are the ones `para. N` locators count.
The archive is the curator's record: it is checked against, never published.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from briefgen.content.load import decode, split_front_matter
from briefgen.content.markup import SOURCE_ID
from briefgen.content.records import file_digest
from briefgen.diagnostics import Diagnostic, error

PASSAGE_LIMIT = 300

_BLOCK = re.compile(r"(\d+)\.[ \t]+(\S.*)", re.S)
_LOCATOR = re.compile(
    r"(?:paragraphs?|paras?\.?|\u00b6\u00b6?)\s*(\d+)(?:\s*(?:[-\u2013\u2014]|to)\s*(\d+))?\s*", re.I
)


@dataclass(frozen=True)
class Archive:
    """A source's archived copy (content/archive/<id>.md): its paragraphs, numbered from 1."""

    id: str
    path: str  # site-relative POSIX path
    digest: str  # of the file's bytes
    url: str | None
    paragraphs: tuple[str, ...]  # paragraph N is paragraphs[N - 1]
    line: int = field(default=1, compare=False)  # where the id is written
    column: int = field(default=1, compare=False)

    @property
    def highest(self) -> int:
        return len(self.paragraphs)


def parse_archive(path: str, data: bytes) -> tuple[Archive | None, list[Diagnostic]]:
    """An archive file's paragraphs; every problem in its numbering is reported at its line."""
    text = decode(path, data)
    if isinstance(text, Diagnostic):
        return None, [text]
    split = split_front_matter(path, text)
    if isinstance(split, Diagnostic):
        return None, [split]
    meta = split.meta
    problems: list[Diagnostic] = []
    stem = path.rsplit("/", 1)[-1].removesuffix(".md")
    source_id = meta.value.get("id", stem)
    line, column = meta.at("id") if "id" in meta.value else meta.at()
    if not isinstance(source_id, str) or not SOURCE_ID.fullmatch(source_id):
        problems.append(error(path, line, column, f"archive id {source_id!r} is not a source id"))
    elif source_id != stem:
        problems.append(error(path, line, column,
                              f"archive id {source_id!r} does not match the file name {stem}.md"))
    url = meta.value.get("url")
    paragraphs = _paragraphs(path, split.body, split.body_line, problems)
    if problems:
        return None, problems
    return Archive(str(source_id), path, file_digest(data), url if isinstance(url, str) else None,
                   tuple(paragraphs), line, column), []


def _paragraphs(path: str, body: str, body_line: int, problems: list[Diagnostic]) -> list[str]:
    paragraphs: list[str] = []
    block: list[str] = []
    start = body_line
    for number, line in enumerate([*body.split("\n"), ""], start=body_line):
        if line.strip():
            if not block:
                start = number
            block.append(line.strip())
            continue
        if not block:
            continue
        found = _BLOCK.fullmatch(" ".join(block))
        expected = len(paragraphs) + 1
        if found is None:
            problems.append(error(path, start, 1, f"expected paragraph {expected} as `{expected}. text`"))
        else:
            if int(found.group(1)) != expected:
                problems.append(error(path, start, 1,
                                      f"paragraph numbered {found.group(1)}, expected {expected}"))
            # Counted as numbered, so one slip is one error and not one per paragraph after it.
            paragraphs.append(found.group(2))
        block = []
    return paragraphs


def paragraph_range(locator: str) -> tuple[int, int] | None:
    """`para. 6` as (6, 6), `paras. 4-6` (hyphen or en dash) as (4, 6); None for other locators."""
    found = _LOCATOR.fullmatch(locator.strip())
    if found is None:
        return None
    first = int(found.group(1))
    return first, int(found.group(2) or first)


def passage(archive: Archive, first: int, last: int, limit: int = PASSAGE_LIMIT) -> str:
    """The text of paragraphs first..last, cut at a word boundary with an ellipsis past limit."""
    text = " ".join(archive.paragraphs[first - 1:last])
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:.-\u2013\u2014") + "\u2026"


# Typographic quote marks and dashes as their plain forms (by code point: several look alike).
_QUOTE_MARKS = str.maketrans(
    {c: '"' for c in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033"}
    | {c: "'" for c in "\u2018\u2019\u201a\u201b\u2039\u203a\u2032"}
    | {"\u2013": "-", "\u2014": "-", "\u00ad": None}
)


def normalise(text: str) -> str:
    """Text as quotations are compared: one kind of quote mark, single spaces, no case."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_MARKS)
    return " ".join(text.split()).casefold()
