"""Python-Markdown's block processors, without searching a block that cannot match.

Several block processors search every block for a line that starts their kind
of block: a `#` heading, a `>` quote, a heading's underline, a `:` definition, a
rule, a table row, a link reference or a footnote definition; the fenced code
preprocessor searches the whole text for a fence. Their regexes begin at a line
start, so the regex engine tries them at every position, and most blocks are
paragraphs that hold none of it. A processor is skipped here only when what it looks for needs a
text the block does not hold, in which case the stock processor would have
found no match and changed nothing. Processors are recognised by their class
and a digest of the regex their needs were read off, so one this module does
not know, or one whose regex a release changed, runs unchanged.
"""

from __future__ import annotations

import hashlib
import sys
import xml.etree.ElementTree as etree
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import markdown
from markdown import blockprocessors


def _import_codehilite_without_pygments() -> None:
    """Import Python-Markdown's codehilite module as if Pygments were not installed.

    fenced_code imports codehilite, which imports Pygments where it is installed, and Pygments'
    lexers look up plugins through importlib.metadata (email, zipfile, socket...): 15-20 ms of
    every process that converts Markdown, a twentieth of an edit's build. Fences are highlighted
    only by the codehilite extension, which briefgen never loads, so nothing here uses Pygments.
    A process that imported Pygments or codehilite already is left as it is."""
    if "markdown.extensions.codehilite" in sys.modules or "pygments" in sys.modules:
        return
    sys.modules["pygments"] = None  # type: ignore[assignment]  # an import of it now fails
    try:
        import markdown.extensions.codehilite  # noqa: F401
    finally:
        del sys.modules["pygments"]


_import_codehilite_without_pygments()

from markdown.extensions import Extension, def_list, fenced_code, footnotes, tables  # noqa: E402

_Test = Callable[[etree.Element, str], bool]
_Run = Callable[[etree.Element, list[str]], Any]
_Preprocess = Callable[[list[str]], list[str]]


class _Need(NamedTuple):
    regex: str  # the attribute holding the processor's regex
    digest: str  # of that regex's source as `texts` were read off it (Python-Markdown 3.11)
    texts: tuple[str, ...]  # a block that holds none of these cannot match


# Block processors whose `test` searches the block.
_TESTS: dict[type, _Need] = {
    blockprocessors.HashHeaderProcessor: _Need("RE", "c1e7ce0c158f5cf7", ("#",)),
    blockprocessors.BlockQuoteProcessor: _Need("RE", "53a05c29dd212a78", (">",)),
    # Its regex's `.*?` tries every line start of the block: a setext underline follows a newline.
    blockprocessors.SetextHeaderProcessor: _Need("RE", "6276ff78a44a48de", ("\n=", "\n-")),
    # A rule is three runs of one of its characters, at most two spaces apart: two of them at least.
    blockprocessors.HRProcessor: _Need("SEARCH_RE", "10a82147d94e4c89",
                                       tuple(f"{c}{gap}{c}" for c in "-_*" for gap in ("", " ", "  "))),
    def_list.DefListProcessor: _Need("RE", "ad1d57ef4db82d05", (": ",)),  # `:` then one to three spaces
    # A row splits into cells at pipes; one without a pipe, and without a border, is no table.
    tables.TableProcessor: _Need("RE_END_BORDER", "eb9402afa71ad9a6", ("|",)),
}
# Block processors whose `test` always passes and whose `run` searches, then puts the block
# back and returns False when nothing matched.
_RUNS: dict[type, _Need] = {
    blockprocessors.ReferenceProcessor: _Need("RE", "356f009acc6bc1a3", ("]:",)),
    footnotes.FootnoteBlockProcessor: _Need("RE", "85df2c3e91a2c190", ("[^",)),
}
# Preprocessors that search the whole text and return its lines unchanged when nothing matched.
_PREPROCESSORS: dict[type, _Need] = {
    fenced_code.FencedBlockPreprocessor: _Need("FENCED_BLOCK_RE", "852d8505f5b9f0e9", ("```", "~~~")),
}


def _known(processor: object, needs: dict[type, _Need]) -> tuple[str, ...] | None:
    """The texts a processor needs, when it is one of `needs` and its regex is the one they
    were read off: a release that changed or dropped the regex leaves the processor unguarded."""
    need = needs.get(type(processor))
    if need is None:
        return None
    source = getattr(getattr(processor, need.regex, None), "pattern", None)
    if not isinstance(source, str):
        return None
    return need.texts if hashlib.blake2b(source.encode(), digest_size=8).hexdigest() == need.digest else None


def holds_any(text: str, parts: Iterable[str]) -> bool:
    """Whether the text holds any of the parts (for one-character parts, a string of them will do)."""
    # A loop, not any() over a generator: the passes ask this for every block or span.
    for part in parts:  # noqa: SIM110
        if part in text:
            return True
    return False


def _guarded_test(test: _Test, texts: tuple[str, ...]) -> _Test:
    if len(texts) == 1:
        need = texts[0]

        def guarded(parent: etree.Element, block: str) -> bool:
            return need in block and test(parent, block)
        return guarded

    def guarded_any(parent: etree.Element, block: str) -> bool:
        return holds_any(block, texts) and test(parent, block)
    return guarded_any


def _guarded_run(run: _Run, texts: tuple[str, ...]) -> _Run:
    def guarded(parent: etree.Element, blocks: list[str]) -> Any:
        if not holds_any(blocks[0], texts):
            return False  # what the stock run returns after putting the block back
        return run(parent, blocks)
    return guarded


def _guarded_preprocessor(run: _Preprocess, texts: tuple[str, ...]) -> _Preprocess:
    def guarded(lines: list[str]) -> list[str]:
        text = "\n".join(lines)  # what the stock run searches, and splits again when done
        return run(lines) if holds_any(text, texts) else text.split("\n")
    return guarded


class BlockSkipExtension(Extension):
    """Guards the known processors; register it after every extension that adds one."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Attributes of the instances, in front of their classes' methods.
        for processor in md.parser.blockprocessors:
            if (texts := _known(processor, _TESTS)) is not None:
                processor.test = _guarded_test(processor.test, texts)  # type: ignore[method-assign, assignment]
            if (texts := _known(processor, _RUNS)) is not None:
                processor.run = _guarded_run(processor.run, texts)  # type: ignore[method-assign, assignment]
        for preprocessor in md.preprocessors:
            if (texts := _known(preprocessor, _PREPROCESSORS)) is not None:
                preprocessor.run = _guarded_preprocessor(preprocessor.run, texts)  # type: ignore[method-assign, assignment]
