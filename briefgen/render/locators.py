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
_NUMBERED = re.compile(r"(?P<word>\S+?)\s*(?P<first>\d+)(?:\s*(?:[-\u2013\u2014]|to)\s*(?P<last>\d+))?",
                       re.I)
_PARAGRAPHS = "para."  # the key of paragraphs' numbers


def compact(locators: Iterable[str], paragraphs: tuple[str, str] = ("para.", "paras.")) -> str:
    """Numbers of one kind merged into sorted ranges; anything else listed after, once each.
    Paragraphs, however written, are named by `paragraphs` (singular, plural: the site's
    language's words)."""
    numbers: dict[str, set[int]] = {}
    other: list[str] = []
    for locator in locators:
        spans = paragraph_spans(locator)
        if spans:
            merged = numbers.setdefault(_PARAGRAPHS, set())
            for first, last in spans:
                merged.update(range(first, max(first, last) + 1))
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
        numbers.setdefault(singular, set()).update(range(first, max(first, last) + 1))
    parts = [_ranges(word, sorted(values), paragraphs) for word, values in numbers.items()]
    return "; ".join([*parts, *other])


def _ranges(word: str, values: list[int], paragraphs: tuple[str, str]) -> str:
    spans: list[tuple[int, int]] = []
    for value in values:
        if spans and value == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], value)
        else:
            spans.append((value, value))
    shown = ", ".join(str(a) if a == b else f"{a}{EN_DASH}{b}" for a, b in spans)
    plural = len(values) > 1
    if word == _PARAGRAPHS:
        return f"{paragraphs[plural]} {shown}"
    return f"{_PLURALS[word] if plural else word} {shown}"
