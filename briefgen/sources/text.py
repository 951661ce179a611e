"""The article in pasted text: its headline and its paragraphs, without the page around it.

Text copied from a browser is flat: menus, the headline, the byline, the article,
a newsletter box, a donation appeal and "Read more" arrive as lines of equal
standing. The pass reads them in order:

- before the article: everything is dropped; the headline is the last line before
  the first paragraph that reads like a headline;
- in the article: prose lines are paragraphs; a call to action opens a box whose
  lines are dropped until plain article prose resumes; an end marker ("Read more",
  "Related", "A message from ...", "Comments") ends the article.

Hard-wrapped paragraphs (lines broken inside a sentence, blank lines between
paragraphs) are joined first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from briefgen.sources.clutter import (
    Kind,
    is_author_note,
    is_byline_or_dated,
    is_call_to_action,
    kind,
    normalise,
    words,
)


@dataclass(frozen=True)
class Article:
    headline: str | None
    paragraphs: tuple[str, ...]
    paywalled: bool = False  # a "subscribe to continue" notice was seen


# A line that goes on with the sentence before: lowercase (Latin or Cyrillic), or a comma. Not a
# quotation mark or a dash: paragraphs open with those.
_CONTINUES = re.compile("^[a-z\u0430-\u044f\u00e4\u00f6\u00fc\u00df,;)]")


def _wrap_width(lines: list[str]) -> int | None:
    """The width text was hard-wrapped at (e-mail, a terminal), or None when it was not.

    Text copied from a browser has a paragraph per line, so long lines; wrapped text
    has none longer than its width and many close to it.
    """
    lengths = [len(line) for line in lines if line]
    if not lengths or max(lengths) > 100 or "" not in lines:
        return None
    width = max(lengths)
    near = sum(1 for n in lengths if n >= width - 15)
    return width if width >= 50 and near >= 3 else None


def lines_of(text: str) -> list[str]:
    """Non-empty lines, with a paragraph that was wrapped across lines joined back."""
    raw_lines = [normalise(raw) for raw in text.splitlines()]
    width = _wrap_width(raw_lines)
    joined: list[str] = []
    previous_blank = True
    previous_length = 0
    for line in raw_lines:
        if not line:
            previous_blank = True
            continue
        if width is not None:
            # Hard-wrapped: a line that reached the width went on in the next one.
            wrapped = bool(joined) and not previous_blank and previous_length >= width - 15
        else:
            wrapped = bool(
                joined and not previous_blank and len(joined[-1]) >= 50
                and not re.search(r"[.!?…:\"”»]$", joined[-1]) and _CONTINUES.match(line)
            )
        previous_length = len(line)
        if wrapped:
            joined[-1] = f"{joined[-1]} {line}"
        else:
            joined.append(line)
        previous_blank = False
    return joined


def _is_box_line(line: str, verdict: Kind) -> bool:
    """Inside a call-to-action box: short lines and anything still speaking of the offer."""
    return verdict is not Kind.PROSE or len(words(line)) < 8 or is_call_to_action(line)


def _body_start(lines: list[str], verdicts: list[Kind]) -> int | None:
    """The first paragraph of the article: the first prose line, unless a byline or date follows it.

    A sentence above the byline is the standfirst (the summary under the headline),
    not the article's first paragraph.
    """
    prose = [i for i, v in enumerate(verdicts) if v is Kind.PROSE]
    if not prose:
        return None
    first = prose[0]
    following = next((i for i in prose[1:]), len(verdicts))
    between = lines[first + 1:following]
    if following - first <= 4 and following < len(verdicts) and any(map(is_byline_or_dated, between)):
        return following
    return first


def _without_author_note(paragraphs: list[str]) -> tuple[str, ...]:
    if paragraphs and is_author_note(paragraphs[-1]):
        paragraphs = paragraphs[:-1]
    return tuple(paragraphs)


def _headline(candidates: list[str]) -> str | None:
    """The longest headline-like line above the article (a later one wins a tie).

    Longest, not last: a byline without "By" ("Jane Doe and John Roe") or a
    section label often stands between the headline and the first paragraph,
    and site names above it are shorter. A subtitle longer than its headline
    defeats this; the curator then gives --title.
    """
    fitting = [line for line in candidates if 2 <= len(words(line)) <= 30]
    return max(reversed(fitting), key=lambda line: len(words(line))) if fitting else None


def article_from_text(text: str) -> Article:
    lines = lines_of(text)
    verdicts = [kind(line) for line in lines]
    paywalled = Kind.PAYWALL in verdicts
    start = _body_start(lines, verdicts)
    if start is None:
        return Article(None, (), paywalled)
    before = [line for line, v in zip(lines[:start], verdicts[:start], strict=True) if v is Kind.TITLE]
    headline = _headline(before)
    paragraphs: list[str] = []
    in_box = False
    for line, verdict in zip(lines[start:], verdicts[start:], strict=True):
        if verdict is Kind.END:
            break
        if verdict in (Kind.CTA, Kind.PAYWALL):
            in_box = True
            continue
        if in_box and _is_box_line(line, verdict):
            continue
        in_box = False
        if verdict is Kind.PROSE:
            paragraphs.append(line)
    return Article(headline, _without_author_note(paragraphs), paywalled)


def drop_clutter(paragraphs: list[str], title: str | None = None) -> tuple[tuple[str, ...], bool]:
    """The same judgement on paragraphs an HTML extractor kept: calls to action, boxes, end markers.

    Returns the paragraphs kept and whether a paywall notice was among them.
    """
    kept: list[str] = []
    in_box = False
    paywalled = False
    for paragraph in paragraphs:
        text = normalise(paragraph)
        if not text or (title and text.lower() == normalise(title).lower() and not kept):
            continue
        verdict = kind(text)
        if verdict is Kind.END and kept:
            break
        if verdict in (Kind.CTA, Kind.PAYWALL, Kind.END):
            paywalled = paywalled or verdict is Kind.PAYWALL
            in_box = True
            continue
        if in_box and _is_box_line(text, verdict):
            continue
        in_box = False
        if verdict is Kind.PROSE:
            kept.append(text)
    return _without_author_note(kept), paywalled
