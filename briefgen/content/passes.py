"""Three of Python-Markdown's passes over a whole text, skipped when they would change nothing.

`NormalizeWhitespace`, the first preprocessor, joins the lines, takes out its placeholder
markers, makes every line end a newline, expands tabs and empties lines of spaces, then
splits the text again: a briefing written with newlines, spaces and no tabs needs only the
join, the two newlines it adds at the end and the split. `HtmlBlockPreprocessor` runs an HTML
parser over the whole text to set raw HTML aside: a text without `<` or `&` holds no tag,
comment or character reference, and the parser gives every character back as it was.
`UnescapeTreeprocessor` looks for its placeholders (STX digits ETX) in the text, the tail and
every attribute of every element, by a regular expression each time: most hold no STX. Each
pass is taken over only where its code is the code this was read off (Python-Markdown 3.11:
the names and constants of its function, and the expression it searches with), so a release
that changed one runs it as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import CodeType, FunctionType
from typing import Any

import markdown
from markdown import preprocessors, treeprocessors, util
from markdown.extensions import Extension
from markdown.util import Registry


def code_digest(function: Callable[..., Any]) -> str:
    """A digest of what a function's code names and holds (not its bytecode, which each Python
    version writes its own way)."""
    code = function.__code__ if isinstance(function, FunctionType) else None
    if code is None:
        return ""
    # A nested function's code is named, not shown: its repr holds its address.
    consts = tuple(const.co_name if isinstance(const, CodeType) else const for const in code.co_consts)
    return hashlib.blake2b(repr((code.co_names, consts)).encode(), digest_size=8).hexdigest()


_NORMALIZE_RUN = "230a7173fccb1aee"
_HTML_BLOCK_RUN = "1de2c054aa0c74e3"
_UNESCAPE = "0a7f1230a6d860da"
_UNESCAPE_RE = f"{util.STX}(\\d+){util.ETX}"
# What a text must hold for NormalizeWhitespace to do more than join, add two newlines and split.
_NOT_PLAIN = (util.STX, util.ETX, "\r", "\t", " \n")


def _normalize_whitespace(stock: Callable[[list[str]], list[str]]) -> Callable[[list[str]], list[str]]:
    def run(lines: list[str]) -> list[str]:
        # With the newlines it adds, as the stock pass empties lines of spaces: a text that ends
        # in a space ends in a line of spaces then.
        source = "\n".join(lines) + "\n\n"
        for part in _NOT_PLAIN:
            if part in source:
                return stock(lines)
        return source.split("\n")
    return run


def _html_block(stock: Callable[[list[str]], list[str]]) -> Callable[[list[str]], list[str]]:
    def run(lines: list[str]) -> list[str]:
        source = "\n".join(lines)
        if "<" in source or "&" in source:
            return stock(lines)
        return source.split("\n")  # what the stock pass joins and splits again
    return run


def _unescape(stock: Callable[[str], str]) -> Callable[[str], str]:
    def unescape(text: str) -> str:
        return stock(text) if util.STX in text else text
    return unescape


def _named(registry: Registry[Any], name: str) -> Any:
    return registry[name] if name in registry else None  # noqa: SIM401  # a Registry has no get()


class PassSkipExtension(Extension):
    """Guards the three passes (any extension may come before or after it)."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        normalize = _named(md.preprocessors, "normalize_whitespace")
        if (type(normalize) is preprocessors.NormalizeWhitespace
                and code_digest(preprocessors.NormalizeWhitespace.run) == _NORMALIZE_RUN):
            normalize.run = _normalize_whitespace(normalize.run)  # type: ignore[method-assign, assignment]
        html_block = _named(md.preprocessors, "html_block")
        if (type(html_block) is preprocessors.HtmlBlockPreprocessor
                and code_digest(preprocessors.HtmlBlockPreprocessor.run) == _HTML_BLOCK_RUN):
            html_block.run = _html_block(html_block.run)  # type: ignore[method-assign, assignment]
        unescape = _named(md.treeprocessors, "unescape")
        if (type(unescape) is treeprocessors.UnescapeTreeprocessor
                and code_digest(treeprocessors.UnescapeTreeprocessor.unescape) == _UNESCAPE
                and unescape.RE.pattern == _UNESCAPE_RE):
            unescape.unescape = _unescape(unescape.unescape)  # type: ignore[method-assign, assignment]
