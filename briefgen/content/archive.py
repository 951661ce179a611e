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
from briefgen.content.records import clean_body, file_digest
from briefgen.diagnostics import Diagnostic, error, has_errors

PASSAGE_LIMIT = 300

_BLOCK = re.compile(r"(\d+)\.[ \t]+(\S.*)", re.S)
# A paragraph locator: a word for paragraphs, then numbers and ranges of them, listed with
# commas, "and" or "&" ("paras. 2\u20134, 9", the form the Sources list shows merged locators in).
_PARAGRAPH_WORD = re.compile(r"(?:paragraphs?\b|paras?\b\.?|pars?\.|\u00b6\u00b6?)\s*", re.I)
# A paragraph's number has at most nine digits: longer ones name no paragraph, and past 4,300
# int() refuses them.
_SPAN = r"(\d{1,9})(?:\s*(?:[-\u2010\u2011\u2013\u2014]|to)\s*(\d{1,9}))?"
_SPANS = re.compile(rf"{_SPAN}(?:\s*(?:,|&|\band\b)\s*{_SPAN})*\s*\.?", re.I)
_EACH_SPAN = re.compile(_SPAN, re.I)


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
    # Control characters (a pasted text's escape sequences) blanked and warned of, as in a briefing.
    paragraphs = _paragraphs(path, clean_body(path, split, problems), split.body_line, problems)
    if has_errors(problems):
        return None, problems
    return Archive(str(source_id), path, file_digest(data), url if isinstance(url, str) else None,
                   tuple(paragraphs), line, column), problems  # its warnings


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


Spans = tuple[tuple[int, int], ...]


def paragraph_spans(locator: str) -> Spans | None:
    """`para. 6` as ((6, 6),), `paras. 4-6, 9` (hyphen, en dash or "to"; commas, "and" or "&")
    as ((4, 6), (9, 9)); () for a locator that names paragraphs but no numbers this reads
    (`para. -1`, `paras. 7\u2013`); None for other locators (`p. 3`, `at 04:10`)."""
    text = locator.strip()
    word = _PARAGRAPH_WORD.match(text)
    if word is None:
        return None
    numbers = text[word.end():]
    if not _SPANS.fullmatch(numbers):
        return ()
    return tuple((int(first), int(last or first)) for first, last in _EACH_SPAN.findall(numbers))


def passage(archive: Archive, spans: Spans, limit: int = PASSAGE_LIMIT) -> str:
    """The text of the paragraphs of spans (an ellipsis between spans apart), cut at a word
    boundary with an ellipsis past limit."""
    text = " \u2026 ".join(" ".join(archive.paragraphs[first - 1:last]) for first, last in spans)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:.-\u2013\u2014\u2026") + "\u2026"


# Quote marks of every kind as one (a quotation's inner marks may be of the other kind than
# the source's), dashes and hyphens that look alike as "-", a modifier letter apostrophe as the
# apostrophe; soft hyphens and zero-width spaces and joiners, unseen, taken out.
_QUOTE_MARKS = str.maketrans(
    {c: "'" for c in '"\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033'
                     "\u2018\u2019\u201a\u201b\u2039\u203a\u2032\u02bc"}
    | {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}
    | {c: None for c in "\u00ad\u200b\u2060\ufeff"}
)
_DASHES = re.compile(r"-{2,}")


def normalise(text: str) -> str:
    """Text as quotations are compared: one kind of quote mark, one of dash ("--" and "---",
    which the briefing's Markdown makes dashes, too), single spaces, no case."""
    text = _DASHES.sub("-", unicodedata.normalize("NFKC", text).translate(_QUOTE_MARKS))
    return " ".join(text.split()).casefold()
