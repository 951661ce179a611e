"""Quotations in a briefing's text, and the sources cited in the same sentence.

Pure text analysis on the Markdown body with code already blanked out: a
quotation is text between quote marks (straight, typographic, «», „“, 「」, 『』); it is
tied to the citations of the sentence it stands in, so the build can look for
it in those sources' archived text.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from briefgen.content.positions import LineStarts
from briefgen.slots import quick_pickle


@quick_pickle
@dataclass(frozen=True, slots=True)
class Quotation:
    """A quotation in a briefing's body, with the sources its sentence cites."""

    text: str  # between the marks, Markdown emphasis removed
    line: int  # of the opening mark
    column: int
    source_ids: tuple[str, ...]  # cited in the same sentence, in order


# A citation as (start, end, source ids) in the body's offsets.
CitationSpan = tuple[int, int, tuple[str, ...]]

# Double quotes of every style, and typographic single quotes (British style): an
# apostrophe inside a single-quoted passage is followed by a letter, a closing mark is not.
# Every alternative starts with its mark (an opening single mark's look-behind comes after
# it): the engine then skips to the next mark, not trying each position of a text without one.
_QUOTE = re.compile(
    "\u201c[^\u201d]*\u201d|\u201e[^\u201c\u201d]*[\u201c\u201d]|\u00ab[^\u00bb]*\u00bb|\"[^\"]*\""
    "|\u2018(?<!\\w\u2018)(?:[^\u2018\u2019]|\u2019(?=\\w))*\u2019(?!\\w)"
    "|\u300c[^\u300d]*\u300d|\u300e[^\u300f]*\u300f"  # Japanese 「…」 and 『…』
)
# The marks that open a quotation, one for each alternative of _QUOTE.
OPENING_MARKS = ("\u201c", "\u201e", "\u00ab", '"', "\u2018", "\u300c", "\u300e")
# What is not prose: HTML tags, link targets and titles, attribute lists.
# Each stops at the next opener (tried at every one of a long line that never closes them,
# they ran to the line's end: quadratic).
_NOT_PROSE = re.compile(r"<[^<>\n]*>|\]\([^)\]\n]*\)|\{:?[^{}\n]*\}")
# A full stop and what closes after it, then a space; in Chinese and Japanese, which set no
# space between sentences, their own full stop, exclamation and question marks (U+3002,
# U+FF01, U+FF1F) and closing marks alone.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"\u201d\u00bb\u201c\u2019')\]]*\s+"
                           r"|[\u3002\uff01\uff1f][\u300d\u300f\uff09\u201d]*\s*")
_ABBREVIATION = re.compile(
    r"(?:(?:\b|^)[A-Za-z]\.)+$|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|No|vs|Jr|Sr)\.$")
# Emphasis marks: asterisks anywhere, underscores only at a word's edge ("port_budget_2024"
# is one word to Markdown).
_EMPHASIS = re.compile(r"(?<!\\)(?:\*+|(?<![^\W_])_+|_+(?![^\W_]))")
# Markup inside a quotation, as readers do not see it: a link's target, a reference link's
# label, HTML tags, attribute lists.
_LINK_TEXT = re.compile(r"\[([^\]\n]*)\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_MARKUP = re.compile(r"<[^>\n]*>|\{:?[^}\n]*\}")


# A footnote's reference ([^1]) or a citation ([@a, para. 2]) inside a quotation is the
# curator's, not the source's words.
_MARKERS = re.compile(r"[ \t]*\[(?:\^[^\]\s]+|@[^\]]*)\]")


def quoted_text(markdown: str) -> str:
    """A quotation's words as readers see them: without footnote references and citations, its
    Markdown links' targets, tags and emphasis marks, with entities read (`&rsquo;` is an
    apostrophe), on one line."""
    text = _MARKUP.sub("", _LINK_TEXT.sub(r"\1", _MARKERS.sub("", markdown)))
    text = html.unescape(_EMPHASIS.sub("", text).replace("\\", ""))
    return " ".join(text.split())


def find_quotations(masked: str, citations: Sequence[CitationSpan], body_line: int) -> tuple[Quotation, ...]:
    """Every quotation that shares a sentence with at least one citation."""
    if not citations or not _QUOTE.search(masked):
        return ()
    prose = _NOT_PROSE.sub(lambda m: " " * len(m.group(0)), masked)
    # Sentences, citations and lines are looked up by bisection: looked through for each
    # quotation, a briefing of thousands of them was quadratic.
    cited = sorted(citations)
    cited_starts = [c_start for c_start, _, _ in cited]
    lines = LineStarts(masked, body_line)
    found = []
    for start, end in _paragraphs(prose):
        spans = [(m.start(), m.end()) for m in _QUOTE.finditer(prose, start, end)]
        spans = [span for span in spans if span[1] - span[0] > 3]
        if not spans:
            continue
        bounds = _sentences(prose, start, end, spans)
        bound_starts = [a for a, _ in bounds]
        for q_start, q_end in spans:
            at = bisect.bisect_right(bound_starts, q_start) - 1
            sentence = bounds[at] if at >= 0 and q_start < bounds[at][1] else (start, end)
            first = bisect.bisect_left(cited_starts, sentence[0])
            last = bisect.bisect_left(cited_starts, sentence[1])
            ids = tuple(dict.fromkeys(sid for _, _, c_ids in cited[first:last] for sid in c_ids))
            if not ids:
                continue
            line, column = lines.at(q_start)
            found.append(Quotation(quoted_text(masked[q_start + 1:q_end - 1]), line, column, ids))
    return tuple(found)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    found = []
    start = 0
    for blank in re.finditer(r"\n[ \t]*\n", text):
        found.append((start, blank.start()))
        start = blank.end()
    found.append((start, len(text)))
    return [(a, b) for a, b in found if text[a:b].strip()]


def _sentences(text: str, start: int, end: int, quotes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans of one paragraph; a citation just after a full stop belongs before it."""
    bounds = []
    begin = start
    quote_starts = [a for a, _ in quotes]  # in order, apart (found left to right)
    for found in _SENTENCE_END.finditer(text, start, end):
        stop = found.start()
        inside = bisect.bisect_left(quote_starts, stop) - 1
        if inside >= 0 and stop < quotes[inside][1] - 1:
            continue  # a full stop inside a quotation does not end the sentence around it
        if text.startswith("[@", found.end()):
            continue
        if _ABBREVIATION.search(text[max(start, stop - 8):stop + 1]):
            continue
        bounds.append((begin, found.end()))
        begin = found.end()
    bounds.append((begin, end))
    return bounds
