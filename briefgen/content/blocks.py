"""Python-Markdown's block processors, without searching a block that cannot match.

Several block processors search every block for a line that starts their kind
of block: a `#` heading, a `>` quote, a `:` definition, a rule, a link
reference or a footnote definition. Their regexes begin at a line start, so
the regex engine tries them at every position of the block, and most blocks
are paragraphs that hold none of it. A processor is skipped here only when its
regex needs a text the block does not hold, in which case the stock processor
would have found no match and changed nothing. Processors are recognised by
their class and regex, so one this module does not know, or one whose regex a
release changed, runs unchanged.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from collections.abc import Callable
from typing import Any

import markdown
from markdown import blockprocessors
from markdown.extensions import Extension, def_list, footnotes

_Test = Callable[[etree.Element, str], bool]
_Run = Callable[[etree.Element, list[str]], Any]

# (class, regex source) -> texts of which a block must hold at least one for `test` to pass.
_TEST_NEEDS: dict[tuple[type, str], tuple[str, ...]] = {
    (blockprocessors.HashHeaderProcessor, blockprocessors.HashHeaderProcessor.RE.pattern): ("#",),
    (blockprocessors.BlockQuoteProcessor, blockprocessors.BlockQuoteProcessor.RE.pattern): (">",),
    (blockprocessors.HRProcessor, blockprocessors.HRProcessor.SEARCH_RE.pattern): ("-", "_", "*"),
    (def_list.DefListProcessor, def_list.DefListProcessor.RE.pattern): (":",),
}
# The same for processors whose `test` always passes and whose `run` searches, then puts the
# block back and returns False when nothing matched.
_RUN_NEEDS: dict[tuple[type, str], str] = {
    (blockprocessors.ReferenceProcessor, blockprocessors.ReferenceProcessor.RE.pattern): "]:",
    (footnotes.FootnoteBlockProcessor, footnotes.FootnoteBlockProcessor.RE.pattern): "[^",
}


def _key(processor: blockprocessors.BlockProcessor, attribute: str) -> tuple[type, str] | None:
    pattern = getattr(getattr(processor, attribute, None), "pattern", None)  # a compiled regex's
    return (type(processor), pattern) if isinstance(pattern, str) else None


def _guarded_test(test: _Test, needs: tuple[str, ...]) -> _Test:
    if len(needs) == 1:
        need = needs[0]

        def guarded(parent: etree.Element, block: str) -> bool:
            return need in block and test(parent, block)
        return guarded

    def guarded_any(parent: etree.Element, block: str) -> bool:
        for need in needs:
            if need in block:
                return test(parent, block)
        return False
    return guarded_any


def _guarded_run(run: _Run, need: str) -> _Run:
    def guarded(parent: etree.Element, blocks: list[str]) -> Any:
        if need not in blocks[0]:
            return False  # what the stock run returns after putting the block back
        return run(parent, blocks)
    return guarded


class BlockSkipExtension(Extension):
    """Guards the known block processors; register it after every extension that adds one."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        for processor in md.parser.blockprocessors:
            test_key = _key(processor, "SEARCH_RE") or _key(processor, "RE")
            if test_key in _TEST_NEEDS:
                # An attribute of the instance, in front of the class's method.
                processor.test = _guarded_test(processor.test, _TEST_NEEDS[test_key])  # type: ignore[method-assign, assignment]
            run_key = _key(processor, "RE")
            if run_key in _RUN_NEEDS:
                processor.run = _guarded_run(processor.run, _RUN_NEEDS[run_key])  # type: ignore[method-assign, assignment]
