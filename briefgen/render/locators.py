"""Locators of one source, compacted for the Sources list.

"para. 4; para. 2; para. 3" reads "paras. 2\u20134"; locators of no known form are kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from briefgen.content.archive import paragraph_spans

# Singular and plural of the other locator words curators write; others are kept as written.
# Paragraphs, however written, are what content/archive.py reads as paragraphs (paragraph_spans).
_PLURALS = {"p.": "pp.", "§": "§§", "line": "lines", "section": "sections", "sec.": "secs.",
            "ch.": "chs."}
EN_DASH = "\u2013"
_SINGULARS = {plural: singular for singular, plural in _PLURALS.items()}
# The word is what comes before the first digit: `[^\s\d]` (not a lazy `\S+?`, which backtracked
# over a long run of digits). Numbers of at most nine digits: longer ones are kept as written.
_NUMBERED = re.compile(r"(?P<word>[^\s\d]+)\s*(?P<first>\d{1,9})"
                       r"(?:\s*(?:[-\u2013\u2014]|to)\s*(?P<last>\d{1,9}))?", re.I)
_PARAGRAPHS = "para."  # the key of paragraphs' numbers


def compact(locators: Iterable[str], paragraphs: tuple[str, str] = ("para.", "paras.")) -> str:
    """Numbers of one kind merged into sorted ranges; anything else listed after, once each.
    Paragraphs, however written, are named by `paragraphs` (singular, plural: the site's
    language's words)."""
    # Spans of numbers, not the numbers: `p. 1-100000000` is one span, not a hundred million.
    numbers: dict[str, list[tuple[int, int]]] = {}
    other: list[str] = []
    for locator in locators:
        spans = paragraph_spans(locator)
        if spans:
            numbers.setdefault(_PARAGRAPHS, []).extend((first, max(first, last)) for first, last in spans)
            continue
        found = _NUMBERED.fullmatch(locator.strip())
        word = found.group("word") if found else ""
        singular = _SINGULARS.get(word, word)
        if not found or singular not in _PLURALS:
            if locator not in other:
                other.append(locator)
            continue
        first = int(found.group("first"))
        last = int(found.group("last") or first)
        numbers.setdefault(singular, []).append((first, max(first, last)))
    parts = [_ranges(word, spans, paragraphs) for word, spans in numbers.items()]
    return "; ".join([*parts, *other])


def _ranges(word: str, given: list[tuple[int, int]], paragraphs: tuple[str, str]) -> str:
    spans: list[tuple[int, int]] = []
    for first, last in sorted(given):  # merged where they overlap or touch
        if spans and first <= spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], max(last, spans[-1][1]))
        else:
            spans.append((first, last))
    shown = ", ".join(str(a) if a == b else f"{a}{EN_DASH}{b}" for a, b in spans)
    plural = len(spans) > 1 or spans[0][0] != spans[0][1]
    if word == _PARAGRAPHS:
        return f"{paragraphs[plural]} {shown}"
    return f"{_PLURALS[word] if plural else word} {shown}"
