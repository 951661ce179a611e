"""Curly quotes, dashes and ellipses, exactly as Python-Markdown's smarty extension writes them.

Smarty runs fifteen quote patterns, two dash patterns and one ellipsis pattern
as a second inline pass: every pattern scans every text span, and each match
becomes a placeholder that later patterns see instead of the characters it
replaced. Most spans hold no character any pattern can match, and most of the
rest hold only apostrophes, so this pass skips what cannot match and applies
the remaining patterns with one `re.sub` each. Which spans it visits, the order
of the patterns and what a replaced match looks like to the patterns after it
are smarty's, so the output is the same; tests/test_typography.py compares
the two on hand-written, generated and random documents.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

_LSQUO, _RSQUO, _LDQUO, _RDQUO = "&lsquo;", "&rsquo;", "&ldquo;", "&rdquo;"

# Smarty's character classes. A placeholder in the text (raw HTML, an entity,
# an escaped character, or an earlier replacement) starts with STX (\x02) and
# ends with ETX (\x03), which is all a pattern ever sees of it.
_PUNCT = r"""[!"#\$\%'()*+,-.\/:;<=>?\@\[\\\]\^_`{|}~]"""
_CLOSE = r"[^\ \t\r\n\[\{\(\-\u0002\u0003]"
_OPENING = r"(\s|&nbsp;|--|\u2013|\u2014|&[mn]dash;|&#8211;|&#8212;)"


@dataclass(frozen=True)
class _QuoteRule:
    """One of smarty's quote patterns as this pass applies it, and the entity its match becomes."""

    pattern: re.Pattern[str]
    entity: str
    # Where the text of group 1 stays: "before" or "after" the entity, or "" without one.
    keeps: str = ""
    # Its look-behind fails right after a match of its own (see _apply).
    looks_behind: bool = False
    # The quotes its match takes (not those its look-ahead may meet): a span without them is
    # not searched. Most spans hold one kind, an apostrophe most often, and a pattern that
    # begins with a group of alternatives is tried at every position of the span.
    needs: str = "'"


# Smarty's quote patterns in smarty's order: the first that matches a quote decides it.
_QUOTE_RULES = (
    _QuoteRule(re.compile(rf"^'(?={_PUNCT}\B)"), _RSQUO),
    _QuoteRule(re.compile(rf'^"(?={_PUNCT}\B)'), _RDQUO, needs='"'),
    _QuoteRule(re.compile(r""""'(?=\w)"""), _LDQUO + _LSQUO, needs="'\""),
    _QuoteRule(re.compile(r"""'"(?=\w)"""), _LSQUO + _LDQUO, needs="'\""),
    _QuoteRule(re.compile(rf"""(?<={_CLOSE})'\""""), _RSQUO + _RDQUO, looks_behind=True, needs="'\""),
    _QuoteRule(re.compile(rf"""(?<={_CLOSE})"'"""), _RDQUO + _RSQUO, looks_behind=True, needs="'\""),
    _QuoteRule(re.compile(r"(?<!\w)'(?=\d{2}s)"), _RSQUO),
    _QuoteRule(re.compile(rf"{_OPENING}'(?=\w)"), _LSQUO, keeps="before"),
    _QuoteRule(re.compile(rf"(?<={_CLOSE})'(?!\s|s\b|\d)"), _RSQUO, looks_behind=True),
    _QuoteRule(re.compile(r"'(\s|s\b)"), _RSQUO, keeps="after"),
    _QuoteRule(re.compile(r"'"), _LSQUO),
    _QuoteRule(re.compile(rf'{_OPENING}"(?=\w)'), _LDQUO, keeps="before", needs='"'),
    _QuoteRule(re.compile(r'"(?=\s)'), _RDQUO, needs='"'),
    _QuoteRule(re.compile(rf'(?<={_CLOSE})"'), _RDQUO, looks_behind=True, needs='"'),
    _QuoteRule(re.compile(r'"'), _LDQUO, needs='"'),
)
# A match that keeps characters beside its entity is held back as a token until
# all quotes are done: the patterns after it must see a placeholder there, not
# the kept characters.
_HELD = re.compile("\x02\ue000([0-9]+)\x03")

_EM_DASH = re.compile(r"(?<!-)---(?!-)")
_EN_DASH = re.compile(r"(?<!-)--(?!-)")
_ELLIPSIS = re.compile(r"(?<!\.)\.{3}(?!\.)")


def educate(text: str, placeholder: Callable[[str], str]) -> str:
    """One text span with smarty's replacements; `placeholder` stashes an entity's HTML."""
    quotes = "'" in text or '"' in text
    dashes = "--" in text
    dots = "..." in text
    if not (quotes or dashes or dots):
        return text
    if dashes:
        # A dash pattern's match can never touch the next one (neither borders a
        # dash), so substituting all at once is what smarty's scan produces.
        text = _EM_DASH.sub(placeholder("&mdash;"), text)
        text = _EN_DASH.sub(placeholder("&ndash;"), text)
    held: list[str] = []
    if quotes:
        text = _educate_quotes(text, placeholder, held)
    if dots:
        text = _ELLIPSIS.sub(placeholder("&hellip;"), text)
    if held:
        text = _HELD.sub(lambda found: held[int(found.group(1))], text)
    return text


def _educate_quotes(text: str, placeholder: Callable[[str], str], held: list[str]) -> str:
    for rule in _QUOTE_RULES:
        single, double = "'" in text, '"' in text
        if not (single or double):
            break
        if ("'" in rule.needs and not single) or ('"' in rule.needs and not double):
            continue
        if rule.keeps or rule.looks_behind:
            text = _apply(rule, text, placeholder(rule.entity), held)
        else:
            text = rule.pattern.sub(placeholder(rule.entity), text)
    return text


def _apply(rule: _QuoteRule, text: str, stashed: str, held: list[str]) -> str:
    """Smarty's scan for one pattern, with re.sub.

    Smarty searches again after each replacement, so a look-behind right after
    a replaced match sees its placeholder (ETX, never a closing character)
    where re.sub would see the replaced character itself.
    """
    last_end = -1

    def replace(found: re.Match[str]) -> str:
        nonlocal last_end
        if rule.looks_behind and found.start() == last_end:
            return found.group(0)
        last_end = found.end()
        if not rule.keeps:
            return stashed
        kept = found.group(1)
        held.append(kept + stashed if rule.keeps == "before" else stashed + kept)
        return f"\x02\ue000{len(held) - 1}\x03"

    return rule.pattern.sub(replace, text)


class _Typography(Treeprocessor):
    """Educates the text of every element below the root, where smarty's pass runs."""

    def run(self, root: etree.Element) -> None:
        stashed: dict[str, str] = {}

        def placeholder(html: str) -> str:
            # One stash entry per entity and document: the entry's number never
            # reaches the output, and a shorter stash is cheaper to restore.
            found = stashed.get(html)
            if found is None:
                found = stashed[html] = self.md.htmlStash.store(html)
            return found

        for element in root.iter():
            if element is root:
                continue
            text = element.text
            if text and not isinstance(text, AtomicString):
                element.text = educate(text, placeholder)
            tail = element.tail
            if tail and not isinstance(tail, AtomicString):
                element.tail = educate(tail, placeholder)


class TypographyExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Where smarty's pass runs: after inline patterns (20) and attr_list (8), before toc (5),
        # whose heading ids are made from the educated text.
        md.treeprocessors.register(_Typography(md), "typography", 6)
        # `\"` and `\'` keep a straight quote, as with smarty.
        md.ESCAPED_CHARS.extend(['"', "'"])
