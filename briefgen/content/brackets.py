"""Python-Markdown's link patterns, finding a link text's closing bracket by the brackets alone.

Every link, image and reference pattern asks `getText` for the text between a
`[` and the `]` that closes it. Python-Markdown 3.11.4 answers by walking the
whole span character by character in Python each time the span changes (once
per link found in it, since each match rewrites the span), to stay linear where
brackets never close; on long briefings that walk was a tenth of a build, and a
paragraph of thousands of links took it minutes. Here a link text is read up to
its closing bracket, the regular expression engine skipping all but brackets;
only when a `[` is not closed within a few brackets are the span's brackets
paired, all at once by a stack, and kept for the span's other `[`s: linear for
many links, for brackets nested deep and for brackets never closed. The
answer is the stock one (a bracket's match is where the depth falls back to
what it was before it).
"""

from __future__ import annotations

import re

import markdown
from markdown import inlinepatterns
from markdown.extensions import Extension

_BRACKET = re.compile(r"[\[\]]")
# The links' and references' expression (a `[` not just after a `!`, inlinepatterns.LINK_RE) with
# its `[` first: the same matches, but the regex engine looks for the `[` at once, where a
# look-behind first has it try every position of the span.
LINK_FIRST_RE = r"\[(?<!\!\[)"


# Brackets read from a `[` for the one that closes it, before the span's are all paired: a link
# text holds one or two, and brackets nested thousands deep are read once, not once a `[`.
_MOST_READ = 32


def closing_bracket(data: str, index: int) -> int | None:
    """The index just past the `]` that closes the `[` just before `index`; None if none does
    within _MOST_READ brackets."""
    depth = 1
    for read, found in enumerate(_BRACKET.finditer(data, index)):
        if read == _MOST_READ:
            return None
        depth += 1 if found.group() == "[" else -1
        if not depth:
            return found.end()
    return None


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
    """`getText` from the brackets of the link text, or of the span once one is found unclosed."""

    _span: str | None = None
    _ends: dict[int, int]

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:
        if index < 1 or data[index - 1] != "[":
            # Every stock pattern asks from just past a `[`; anything else gets the stock answer.
            return super().getText(data, index)
        if self._span is data:
            end = self._ends.get(index)
        else:
            end = closing_bracket(data, index)
            if end is None:
                # Unclosed, or far: this `[` and the span's others are answered from one pass.
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
                if pattern.compiled_re.pattern == inlinepatterns.LINK_RE:
                    pattern.compiled_re = re.compile(LINK_FIRST_RE, pattern.compiled_re.flags)
