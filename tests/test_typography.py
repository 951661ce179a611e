"""briefgen's Markdown passes write exactly what stock Python-Markdown wrote.

Every document is converted twice: with briefgen's Converter, and with the same
pipeline on stock Python-Markdown: the smarty extension in place of the
typography pass, the stock inline pass in place of the one that skips patterns
a span cannot match, the stock block processors in place of those that skip a
block their regex cannot match, the stock toc processor in place of the one
that builds a table of contents only where `[TOC]` is written, the stock link
patterns in place of those that pair a link text's brackets by a stack. The whole
conversions (HTML, citations, links, first paragraph, notes) must be equal.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as etree
from pathlib import Path

import frontmatter
import markdown
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from markdown import inlinepatterns

from briefgen.content import brackets, markup
from tests.conftest import REPO

SCALE = int(os.environ.get("BRIEFGEN_PROPERTY_SCALE", "1"))
SETTINGS = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck),
                    max_examples=1500 * SCALE, phases=[p for p in Phase if p is not Phase.explain])
SMARTY_EXTENSIONS = ("tables", "fenced_code", "footnotes", "smarty", "toc", "sane_lists",
                     "attr_list", "def_list")


class SmartyConverter(markup.Converter):
    """briefgen's Converter on stock Python-Markdown with the smarty extension."""

    def _markdown(self) -> markdown.Markdown:
        return markdown.Markdown(
            extensions=[*SMARTY_EXTENSIONS, markup._BriefingExtension(self._state, self._citations)],
            extension_configs=markup.MARKDOWN_CONFIG,
            output_format="html",
        )


CONVERTERS = [(markup.Converter(), SmartyConverter()),
              (markup.Converter(citations=False), SmartyConverter(citations=False))]


def assert_same(body: str, path: str = "briefings/a.md") -> None:
    for converter, reference in CONVERTERS:
        try:
            want = reference.convert(body, path, 1)
        except ValueError as error:
            # Python-Markdown fails on some inputs (a URL such as "https://e.org[r]");
            # the pipeline must fail the same way.
            with pytest.raises(type(error), match=re.escape(str(error))):
                converter.convert(body, path, 1)
            continue
        got = converter.convert(body, path, 1)
        assert got.html == want.html, f"{body!r}\nsmarty:     {want.html!r}\ntypography: {got.html!r}"
        assert got == want


TRICKY = [
    # Apostrophes, possessives, decades, contractions, quotes at a span's start.
    "Don't stop; it's the ministry's rule, the '80s and '90s, rock 'n' roll, 'tis.",
    "'Twas brillig. 'Hello,' she said. \"Hi,\" he said. \"'Quoted' words,\" she said.",
    "'s and 's' and 'a' and '' and \"\" and ''' and \"\"\" and '\" and \"' and '\"'\"",
    "'.", "\".", "'..", "'\"", "\"'", "'?x", "\"!x", "a'\"b", "a\"'b", "a''b", "a\"\"b", "'''a'''",
    "(\"a\") ['b'] {\"c\"} -\"d\"- \"e\"? 'f'! 'g'; \"h\": 'i',",
    "He said \"the '90s\" and '1990s' and '80 and '80s' and 5'11\" tall and 12\" long.",
    "a 'b' c \"d\" e 'f's g' h's\"i\"",
    "quote\n'line start' and\n\"line start\"", "x\t'tab' y\t\"tab\"",
    "no\u00a0'nbsp' and\u00a0\"nbsp\" and &nbsp;'x' and &nbsp;\"y\"",
    # Dashes and ellipses next to quotes and each other.
    "a - b -- c --- d ---- e ----- f -- 'g' --\"h\" ---'i' ----'j'",
    "--'a' \u2014'b' \u2013\"c\" &mdash;'d' &ndash;\"e\" &#8211;'f' &#8212;\"g\"",
    "... .... ..... a...b '...' \"...\" ...'a' '...\"",
    "--", "---", "...", "-- ...", "'--'", "\"---\"",
    # Inline elements split the text: quotes right after or before them.
    "*emphasis*'s and *emphasis*\" and **strong**' and _em_\"x\" \"*a*\" '**b**'",
    "[a link](https://e.org)'s target and \"[quoted link](https://e.org)\" and [x](y)'",
    "`code 'span' \"x\" -- ...`'s and \"`code`\" and '`x`'",
    "<b>bold</b>\" and <i>x</i>' and <span>\"a\"</span> and <br>'x' &amp;\"y\" &copy;'z'",
    "Escaped \\\"quote\\\" and \\'single\\' and \\-- and \\... and \\\\\"x\\\\\"",
    # Blocks: code, headings, lists, tables, footnotes, quotes, attributes.
    "```\n'code' \"block\" -- ...\n```\n\n    indented 'code' -- x\n\nafter 'code'",
    "# It's \"the\" heading -- 'really'...\n\n## The '90s\n\n### \"Quoted\" [@src-a]\n\ntext",
    "- 'item' one\n- \"item\" two --\n  - nested 'x'\n\n1. 'first'\n2. \"second\"...",
    "| 'a' | \"b\" |\n|---|---|\n| c's | -- d... |\n",
    "Text[^1] 'with' note[^n].\n\n[^1]: The 'note' -- \"here\"...\n[^n]: It's 'x'.",
    "> 'quoted' \"block\" -- x\n> > it's nested...",
    "Term 'a'\n:   Definition \"b\" -- c",
    "# Title 'x' {: #custom-id title=\"it's -- 'y'\" }\n\nPara 'y' {: .klass data-x=\"'z'\" }",
    "[link](https://e.org \"A 'title' -- with...\") and ![img 'alt'](a.png \"t's\")",
    "[ref 'link'][r] and [r]\n\n[r]: https://e.org \"Ref 'title'\"",
    "<https://e.org/'a'> and <a@b.org> and <div>\n'raw' \"html\"\n</div>\n\nafter",
    "A sentence \"quoting [@src-a]\" and 'another [@src-a, p. 2]' -- [@src-b]...",
    "Line one 'a'  \nLine two \"b\"",
    "[see 'b'](b.md) and [\"c\"](../c.md#f)",
    "\"\n\n'\n\n\"'\n\n\"a\n\n'a",
    # The table of contents: where the marker is a paragraph of its own, and where it is not.
    "# It's 'one'\n\n[TOC]\n\n## Two [@src-a]\n\n### Three {: #three data-toc-label='3' }\n\ntext",
    "[TOC]", " [TOC] ", "Text [TOC] inline\n\n[TOC] *x*\n\n`[TOC]`\n\n    [TOC]\n\n- [TOC]\n\n> [TOC]",
    "# [TOC]\n\n## H\n\n[TOC]\n\n[TOC]",
    # Link texts holding brackets, closed and not.
    "[a [b] c](d) and [unclosed [x](y) and ]] [[z]](w) ![i [j]](k) [r [s]][r]\n\n[r]: https://e.org",
    "]] [ [ [a](b) ] [c] [@src-a] [[d](e)](f) [g]( [h] ![i](j \"[k]\")",
]


@pytest.mark.parametrize("body", TRICKY)
def test_tricky_text_converts_as_with_smarty(body: str) -> None:
    assert_same(body)


PIECES = st.sampled_from([
    "'", "'", "'", '"', '"', "-", "--", "---", ".", "...", " ", " ", " ", "\t", "\n", "\n\n", "\u00a0",
    "s", "a", "word", "It", "80s", "1990", "x's", "(", ")", "[", "]", "{", "}", ",", ";", ":", "!", "?",
    "*", "**", "_", "`", "\\", "\\'", '\\"', "&nbsp;", "&mdash;", "&#8211;", "&amp;", "\u2013", "\u2014",
    "<b>", "</b>", "<br>", "[a](b)", "[a 'b'](https://e.org \"t 'q'\")", "[x](y.md)", "[@src-a]",
    "[^1]", "\n\n[^1]: ", "# ", "## ", "- ", "1. ", "> ", "    ", "```\n", "| ", " |",
    "\n|---|---|\n", "{: #i }", "{: title=\"'a'\" }", "\n: ", "~", "/", "=",
    "![i 'a'](p.png)", "[r]", "\n\n[r]: https://e.org", "<https://e.org>", "<a@b.org>", "  \n", "<!-- c -->",
    "[TOC]", "\n\n[TOC]\n\n", "\r\n", "\r", "\x02", "\x03", "\x0212\x03", " \n",
])
BODIES = st.lists(PIECES, max_size=40).map("".join)


@SETTINGS
@given(BODIES)
def test_generated_text_converts_as_with_smarty(body: str) -> None:
    assert_same(body)


# Runs of brackets nest past the few a link text is read for before the span's are all paired.
BRACKETED = st.lists(st.sampled_from(["[", "[", "]", "]", "a", " ", "(", ")", "[a](b)", "![", "\\[", "\x02",
                                      "[" * 20, "]" * 20]), max_size=40).map("".join)


@SETTINGS
@given(BRACKETED)
def test_a_link_text_ends_where_the_stock_pattern_ends_it(data: str) -> None:
    md = markdown.Markdown()
    for stock_class, by_brackets in brackets._BY_BRACKETS.items():
        pattern = inlinepatterns.IMAGE_LINK_RE if "Image" in stock_class.__name__ else inlinepatterns.LINK_RE
        stock, ours = stock_class(pattern, md), by_brackets(pattern, md)
        for index in range(len(data) + 1):
            assert ours.getText(data, index) == stock.getText(data, index), (stock_class, index)


@SETTINGS
@given(BRACKETED)
def test_a_link_starts_where_the_stock_expression_finds_it(data: str) -> None:
    stock = re.compile(inlinepatterns.LINK_RE, re.DOTALL | re.UNICODE)
    ours = re.compile(brackets.LINK_FIRST_RE, re.DOTALL | re.UNICODE)
    assert [m.span() for m in ours.finditer(data)] == [m.span() for m in stock.finditer(data)]


PROSE = st.lists(st.one_of(st.sampled_from([" ", " ", "'", '"', "--", "...", ".", "-"]),
                           st.text(st.characters(codec="utf-8", exclude_characters="\r"), max_size=3)),
                 max_size=30).map("".join)


@SETTINGS
@given(PROSE)
def test_any_text_converts_as_with_smarty(body: str) -> None:
    assert_same(body)


def demo_documents() -> list[Path]:
    return sorted((REPO / "content").rglob("*.md"))


def test_demo_content_converts_as_with_smarty() -> None:
    documents = demo_documents()
    assert documents
    for path in documents:
        assert_same(frontmatter.loads(path.read_text(encoding="utf-8")).content,
                    path.relative_to(REPO / "content").as_posix())


def test_generated_corpus_converts_as_with_smarty(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), str(tmp_path),
                    "--count", "200", "--seed", "7"], check=True, capture_output=True)
    content = tmp_path / "briefgen" / "content"
    documents = sorted(content.rglob("*.md"))
    assert len(documents) >= 200
    for path in documents:
        assert_same(frontmatter.loads(path.read_text(encoding="utf-8")).content,
                    path.relative_to(content).as_posix())


def test_block_processors_are_guarded_only_where_their_regex_is_the_known_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from markdown import blockprocessors

    from briefgen.content.blocks import BlockSkipExtension

    def guarded() -> set[str]:
        md = markdown.Markdown(extensions=["def_list", BlockSkipExtension()])
        return {type(p).__name__ for p in md.parser.blockprocessors if "test" in vars(p) or "run" in vars(p)}

    assert {"HashHeaderProcessor", "BlockQuoteProcessor", "DefListProcessor"} <= guarded()
    # A release whose heading regex differs: its processor runs as it is.
    monkeypatch.setattr(blockprocessors.HashHeaderProcessor, "RE", re.compile(r"(?:^|\n)(#{1,6})(.*)"))
    assert "HashHeaderProcessor" not in guarded()
    assert "BlockQuoteProcessor" in guarded()
    # A release without the regex at all: nothing is guarded, and nothing fails.
    from briefgen.content import blocks

    class NoRegex:
        pass

    assert blocks._known(NoRegex(), {NoRegex: blocks._Need("RE", "c1e7ce0c158f5cf7", ("#",))}) is None


def test_whole_text_passes_are_skipped_only_where_their_code_is_the_known_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from markdown import preprocessors, treeprocessors

    from briefgen.content.passes import PassSkipExtension

    def guarded() -> set[str]:
        md = markdown.Markdown(extensions=[PassSkipExtension()])
        return {name for name, processor in (("normalize", md.preprocessors["normalize_whitespace"]),
                                             ("html", md.preprocessors["html_block"]),
                                             ("unescape", md.treeprocessors["unescape"]))
                if "run" in vars(processor) or "unescape" in vars(processor)}

    assert guarded() == {"normalize", "html", "unescape"}
    # A release whose unescaping expression differs, or whose normalizing does more: each runs as it is.
    monkeypatch.setattr(treeprocessors.UnescapeTreeprocessor, "RE", re.compile("\x02(\\w+)\x03"))
    assert guarded() == {"normalize", "html"}

    def run(self: preprocessors.NormalizeWhitespace, lines: list[str]) -> list[str]:
        return [line.rstrip() for line in lines]

    monkeypatch.setattr(preprocessors.NormalizeWhitespace, "run", run)
    monkeypatch.setattr(preprocessors.HtmlBlockPreprocessor, "run", run)
    assert guarded() == set()


def test_lookups_answer_as_the_stock_ones() -> None:
    from markdown.util import Registry

    from briefgen.content.lookups import FastLookupsExtension, kept_order

    stock = markdown.Markdown(extensions=["def_list"])
    fast = markdown.Markdown(extensions=["def_list", FastLookupsExtension()])
    for tag in ["p", "P", "div/", "span", "em", "h1", "pre", "", "hr/", None, 3, etree.Comment]:
        assert fast.is_block_level(tag) == stock.is_block_level(tag), tag
    assert [type(p) for p in fast.parser.blockprocessors] == [type(p) for p in stock.parser.blockprocessors]
    # The kept order follows the registry when items come and go.
    registry: Registry[str] = kept_order(Registry())
    registry.register("b", "b", 10)
    assert list(registry) == ["b"]
    registry.register("a", "a", 20)
    registry.register("c", "c", 5)
    assert list(registry) == ["a", "b", "c"]
    registry.deregister("b")
    assert list(registry) == ["a", "c"]


CITATION_TEXTS = st.lists(st.sampled_from([" ", "\t", "  ", "[@a]", "[@a; @b, p. 4]", "[@", "@", "[", "]",
                                           "x", "\n", "\n\n", "\n> ", "[@a\nb]", "[@]", "[@[@a]", "\\[@a]"]),
                          max_size=25).map("".join)


@SETTINGS
@given(CITATION_TEXTS, st.integers(0, 30))
def test_citations_are_found_as_the_expression_finds_them(data: str, pos: int) -> None:
    # The citation pattern searches from each `[@`, where the expression is tried at every position.
    finder = markup._CitationFinder(re.compile(markup._CITATION_INLINE, re.DOTALL | re.UNICODE))
    pos = min(pos, len(data))
    assert [m.span() for m in finder.finditer(data, pos)] == [
        m.span() for m in finder.compiled.finditer(data, pos)]
