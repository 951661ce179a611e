"""Python-Markdown's inline pass, without trying patterns a span cannot match.

The stock pass tries every inline pattern on every text span, and most spans
hold none of the characters most patterns begin with: the backtick pattern
alone, whose look-behinds keep the regex engine from skipping ahead, costs
more than all the links it finds. A pattern is skipped here only when its
regex needs a character the span does not hold, in which case the stock pass
would have found no match, changed nothing and gone on to the next pattern;
everything else is the stock pass. Patterns are recognised by their regex, so
a pattern this module does not know is always tried.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from collections.abc import Callable, Mapping
from typing import Any

import markdown
from markdown import inlinepatterns
from markdown.extensions import Extension
from markdown.treeprocessors import InlineProcessor
from markdown.util import AtomicString

from briefgen.content.blocks import holds_any
from briefgen.content.brackets import LINK_FIRST_RE

# Regex source -> characters of which it needs at least one.
_NEEDS: dict[str, str] = {
    inlinepatterns.BACKTICK_RE: "`",
    inlinepatterns.ESCAPE_RE: "\\",
    inlinepatterns.LINK_RE: "[",  # links, references, short references
    LINK_FIRST_RE: "[",  # the same, as brackets.py writes it
    inlinepatterns.IMAGE_LINK_RE: "[",  # images and image references
    inlinepatterns.AUTOLINK_RE: "<",
    inlinepatterns.AUTOMAIL_RE: "<",
    inlinepatterns.LINE_BREAK_RE: "\n",
    inlinepatterns.HTML_RE: "<",
    inlinepatterns.ENTITY_RE: "&",
    r"\*|_": "*_",  # emphasis and strong, with both delimiters
    r"\[\^([^\]]*)\]": "[",  # footnote references
}

_ApplyPattern = Callable[[Any, str, int, int], tuple[str, bool, int]]


class _InlinePass(InlineProcessor):
    """The stock pass with its per-span loop replaced.

    Both steps it relies on are private to Python-Markdown: should a release
    rename them, building the pass fails (the apply step) or the stock loop
    runs unchanged (the loop), never a different output.
    """

    def __init__(self, md: markdown.Markdown, needs: Mapping[str, str]) -> None:
        super().__init__(md)
        self._known = {**_NEEDS, **needs}
        self._patterns: list[Any] = []
        self._needs: list[str | None] = []
        # The stock pass's private step, which the type stubs do not declare.
        self._apply: _ApplyPattern = getattr(self, "_InlineProcessor__applyPattern")  # noqa: B009

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        # The registry sorts on every lookup; the patterns cannot change during a pass.
        self._patterns = list(self.inlinePatterns)
        self._needs = [self._need_of(pattern) for pattern in self._patterns]
        return super().run(tree, ancestors)

    def _need_of(self, pattern: Any) -> str | None:
        compiled = getattr(pattern, "compiled_re", None)
        return None if compiled is None else self._known.get(compiled.pattern)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        # The stock loop (markdown.treeprocessors.InlineProcessor.__handleInline), plus the skip.
        if isinstance(data, AtomicString):
            return data
        patterns, needs = self._patterns, self._needs
        start = 0
        while patternIndex < len(patterns):
            need = needs[patternIndex]
            # Most needs are one character, tested by `in` alone: a generator for each span and
            # pattern was a tenth of converting a long briefing.
            if need is not None and (need not in data if len(need) == 1 else not holds_any(data, need)):
                patternIndex += 1
                start = 0
                continue
            data, matched, start = self._apply(patterns[patternIndex], data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


class InlinePassExtension(Extension):
    """Replaces the inline pass; `needs` adds {regex source: characters} for other patterns."""

    def __init__(self, needs: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.needs = dict(needs or {})

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_InlinePass(md, self.needs), "inline", 20)
