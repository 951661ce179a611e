"""Python-Markdown's link patterns, finding a link text's closing bracket by the brackets alone.

Every link, image and reference pattern asks `getText` for the text between a
`[` and the `]` that closes it. Python-Markdown 3.11.4 answers by walking the
whole span character by character in Python each time the span changes (once
per link found in it, since each match rewrites the span), to stay linear where
brackets never close; on long briefings that walk was a tenth of a build. Here
the span's brackets are found by one regular expression and paired with a
stack: linear in the brackets too, and the answer is the stock one (a bracket's
match is where the depth first falls back to what it was before it).
"""

from __future__ import annotations

import re

import markdown
from markdown import inlinepatterns
from markdown.extensions import Extension

_BRACKET = re.compile(r"[\[\]]")


def closing_brackets(data: str) -> dict[int, int]:
    """For the index just past each `[` of `data` that is closed, the index just past its `]`."""
    ends: dict[int, int] = {}
    opened: list[int] = []
    for found in _BRACKET.finditer(data):
        if found.group() == "[":
            opened.append(found.end())
        elif opened:
            ends[opened.pop()] = found.end()
    return ends


class _ByBrackets(inlinepatterns.LinkInlineProcessor):
    """`getText` from the span's brackets, worked out once per span."""

    _span: str | None = None
    _ends: dict[int, int]

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:
        if index < 1 or data[index - 1] != "[":
            # Every stock pattern asks from just past a `[`; anything else gets the stock answer.
            return super().getText(data, index)
        if self._span is not data:
            self._span = data
            self._ends = closing_brackets(data)
        end = self._ends.get(index)
        if end is None:
            return data[index:], len(data), False
        return data[index:end - 1], end, True


class _Link(_ByBrackets):
    pass


class _Image(_ByBrackets, inlinepatterns.ImageInlineProcessor):
    pass


class _Reference(_ByBrackets, inlinepatterns.ReferenceInlineProcessor):
    pass


class _ShortReference(_ByBrackets, inlinepatterns.ShortReferenceInlineProcessor):
    pass


class _ImageReference(_ByBrackets, inlinepatterns.ImageReferenceInlineProcessor):
    pass


class _ShortImageReference(_ByBrackets, inlinepatterns.ShortImageReferenceInlineProcessor):
    pass


# The stock classes, each with its counterpart: a pattern of another class (an extension's
# subclass) keeps its own getText.
_BY_BRACKETS: dict[type, type] = {
    inlinepatterns.LinkInlineProcessor: _Link,
    inlinepatterns.ImageInlineProcessor: _Image,
    inlinepatterns.ReferenceInlineProcessor: _Reference,
    inlinepatterns.ShortReferenceInlineProcessor: _ShortReference,
    inlinepatterns.ImageReferenceInlineProcessor: _ImageReference,
    inlinepatterns.ShortImageReferenceInlineProcessor: _ShortImageReference,
}


class LinkBracketsExtension(Extension):
    """Gives the stock link patterns `getText` by brackets; register it after them."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        for pattern in md.inlinePatterns:
            by_brackets = _BY_BRACKETS.get(type(pattern))
            if by_brackets is not None:
                # The same pattern, registered where it was, with the method replaced: its
                # class changed in place rather than made again from its regex and settings.
                pattern.__class__ = by_brackets
