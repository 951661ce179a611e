"""Checks of briefings against the archived copies of their sources, on the whole model.

A `para. N` locator must name a paragraph the archive has; a quotation in a
sentence with a citation must be in the archived text of a source cited there.
The passages that locators point at are collected for the Sources list.
Sources without an archive are not checked.
"""

from __future__ import annotations

import difflib
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from briefgen.content.archive import Archive, Spans, normalise, paragraph_spans, passage
from briefgen.content.quotes import OPENING_MARKS, Quotation
from briefgen.content.records import BriefingDoc, Source
from briefgen.content.scripts import CJK_CHARS
from briefgen.diagnostics import Diagnostic, error, warning
from briefgen.site.model import Briefing

Passages = Mapping[tuple[str, str], str]  # (source id, locator) -> the cited passage

_ELLIPSIS = re.compile(r"\s*(?:\[\s*(?:\.\.\.|…)\s*\]|\.\.\.|…)\s*")
_EDGE_PUNCTUATION = " \t.,;:!?-'\"()[]"
_CJK_LETTER = re.compile(f"[{CJK_CHARS}]")


@dataclass(frozen=True)
class Verified:
    """The checks against the archives: the passages locators point at, and the problems found."""

    passages: Passages = field(default_factory=dict)
    problems: tuple[Diagnostic, ...] = ()


def collect_archives(archives: Iterable[Archive]) -> tuple[dict[str, Archive], list[Diagnostic]]:
    found: dict[str, Archive] = {}
    problems = []
    for archive in archives:
        first = found.setdefault(archive.id, archive)
        if first is not archive:
            problems.append(error(archive.path, archive.line, archive.column,
                                  f"a second archive for {archive.id!r}; the first is {first.path}"))
    return found, problems


# One briefing's check: the paragraphs its locators point at (source id, locator, first and
# last paragraph), and its problems. The passages' text is not kept with each check: a
# passage cited by several briefings is one text, and the kept checks stay small.
_Checked = tuple[tuple[tuple[str, str, Spans], ...], tuple[Diagnostic, ...]]
_ByFile = dict[tuple[str, str], _Checked]  # by a briefing's file and its digest


class KnownChecks:
    """Each briefing's check: a briefing whose file is as it was, against archives as they were,
    is not checked again. The live preview keeps one between its rebuilds; a build keeps its
    rows in the build cache (a full check took 0.5-0.7 s at 10,000 briefings citing 5,000
    archived sources). It holds the checks of the last run's briefings only."""

    def __init__(self) -> None:
        self._against: object = None
        self._checked: _ByFile = {}
        # The briefing files whose checks were made or let go since the rows were read (see
        # rows); None: every one, the archives having changed.
        self._changed: set[str] | None = None

    def against(self, archives: Mapping[str, Archive], strict_quotes: bool) -> _ByFile:
        """The checks made against these archives; none when they changed."""
        key = (strict_quotes, frozenset((a.id, a.path, a.digest) for a in archives.values()))
        if key != self._against:
            self._against, self._checked, self._changed = key, {}, None
        return self._checked

    def keep(self, checked: _ByFile) -> None:
        """Keep these checks, made against the archives `against` was last given, and no others."""
        if self._changed is not None:
            self._changed.update(path for path, _ in checked.keys() ^ self._checked.keys())
        self._checked = checked

    def rows(self, parsing: str) -> tuple[dict[str, object], bool]:
        """The rows of the build cache that `read` knows these checks from, and whether
        they replace every earlier row (else, the rows of checks not changed since those were
        read are left out, and are as they were). `parsing` says what, besides their bytes,
        decided how the briefings parsed."""
        changed = self._changed
        buckets = {_bucket(path) for path in changed} if changed is not None else set(range(_BUCKETS))
        self._changed = set()
        if not buckets:
            return {}, False
        by_bucket: dict[int, _ByFile] = {bucket: {} for bucket in buckets}
        for key, found in self._checked.items():
            row = by_bucket.get(_bucket(key[0]))
            if row is not None:
                row[key] = found
        rows: dict[str, object] = {f"{CHECKS}/{bucket}": row for bucket, row in by_bucket.items()}
        rows[CHECKS] = (_CHECKS_FORMAT, parsing, self._against)
        return rows, changed is None

    def read(self, rows: Mapping[str, object], parsing: str) -> None:
        """Know the checks of `rows(parsing)`, if this knows none yet and the rows are of this
        format and parsing, and whole."""
        head = rows.get(CHECKS)
        if self._against is not None or not (isinstance(head, tuple) and len(head) == 3
                                             and head[:2] == (_CHECKS_FORMAT, parsing)):
            return
        checked: _ByFile = {}
        for bucket in range(_BUCKETS):
            row = rows.get(f"{CHECKS}/{bucket}")
            if not isinstance(row, dict):
                return
            checked.update(row)
        if all(isinstance(found, tuple) and len(found) == 2 for found in checked.values()):
            self._against, self._checked, self._changed = head[2], checked, set()

    def knows_none(self) -> bool:
        return self._against is None

    @staticmethod
    def row_names() -> list[str]:
        return [CHECKS, *(f"{CHECKS}/{bucket}" for bucket in range(_BUCKETS))]


CHECKS = "checks"  # the rows' name
_CHECKS_FORMAT = 3  # bumped whenever a check's result changes for the same files
# The checks are kept in rows by their briefing's path, so that a briefing added, edited or
# taken out rewrites one row, not every briefing's checks (4 MB at 10,000 briefings each
# citing a dozen archived sources).
_BUCKETS = 64


def _bucket(path: str) -> int:
    return zlib.crc32(path.encode("utf-8", "surrogatepass")) % _BUCKETS


def verify(briefings: Iterable[Briefing], sources: Mapping[str, Source],
           archives: Mapping[str, Archive], strict_quotes: bool = False,
           known: KnownChecks | None = None) -> Verified:
    if not archives:  # nothing to check a briefing against
        return Verified()
    passages: dict[tuple[str, str], str] = {}
    problems: list[Diagnostic] = []
    for unknown in archives.values():
        if unknown.id not in sources:
            problems.append(warning(unknown.path, unknown.line, unknown.column,
                                    f"archive for {unknown.id!r}, a source no registry or briefing declares"))
    texts = _Texts()
    earlier = known.against(archives, strict_quotes) if known is not None else {}
    checked: _ByFile = {}
    for briefing in briefings:
        doc = briefing.doc
        key = (doc.path, doc.digest)
        found = earlier.get(key)
        if found is None:
            found = _check_briefing(doc, archives, texts, strict_quotes)
        if known is not None:
            checked[key] = found
        for source_id, locator, spans in found[0]:
            if (source_id, locator) not in passages:
                passages[source_id, locator] = passage(archives[source_id], spans)
        problems += found[1]
    if known is not None:
        known.keep(checked)
    return Verified(passages, tuple(problems))


def _check_briefing(doc: BriefingDoc, archives: Mapping[str, Archive], texts: _Texts,
                    strict_quotes: bool) -> _Checked:
    cited: list[tuple[str, str, Spans]] = []
    problems: list[Diagnostic] = []
    for use in doc.body.citations.located_uses():
        archive = archives.get(use.source_id)
        spans = paragraph_spans(use.locator)
        if archive is None or spans is None:
            continue
        wrong = _locator_problem(use.locator, spans, archive)
        if wrong is not None:
            problems.append(error(doc.path, use.line, use.column, wrong))
            continue
        cited.append((use.source_id, use.locator, spans))
    for quotation in doc.body.quotations:
        problem = _check_quotation(doc.path, quotation, archives, texts, strict_quotes)
        if problem is not None:
            problems.append(problem)
    return tuple(cited), tuple(problems)


def _locator_problem(locator: str, spans: Spans, archive: Archive) -> str | None:
    """Why a paragraph locator does not name paragraphs of its source's archive, or None."""
    if not spans:
        return (f"`{locator}` names paragraphs, but not as this reads them: write `para. 6`, "
                f"`paras. 4\u20136` or `paras. 2, 9`")
    for first, last in spans:
        if last < first:
            return f"`{locator}` runs backwards: write `paras. {last}\u2013{first}`"
    if all(first >= 1 and last <= archive.highest for first, last in spans):
        return None
    has = f"paragraphs 1 to {archive.highest}" if archive.highest else "no paragraphs"
    return f"`{locator}` is not in the archive of {archive.id!r}: {archive.path} has {has}"


class _Texts:
    """Each archive's text normalised once per run, however many quotations it is searched for."""

    def __init__(self) -> None:
        self._whole: dict[str, str] = {}
        self._sentences: dict[str, list[tuple[int, str, list[str], Counter[str]]]] = {}

    def whole(self, archive: Archive) -> str:
        found = self._whole.get(archive.id)
        if found is None:
            found = self._whole[archive.id] = normalise(" ".join(archive.paragraphs))
        return found

    def sentences(self, archive: Archive) -> list[tuple[int, str, list[str], Counter[str]]]:
        """(paragraph number, sentence, its normalised words, their counts) for every sentence."""
        found = self._sentences.get(archive.id)
        if found is None:
            found = self._sentences[archive.id] = [
                (number, sentence, words, Counter(words))
                for number, paragraph in enumerate(archive.paragraphs, start=1)
                for sentence in re.split(r"(?<=[.!?])\s+", paragraph)
                for words in [normalise(sentence).split()]
            ]
        return found


def _check_quotation(path: str, quotation: Quotation, archives: Mapping[str, Archive], texts: _Texts,
                     strict: bool) -> Diagnostic | None:
    cited = [archives[sid] for sid in quotation.source_ids if sid in archives]
    if not cited:
        return None
    pieces = [p.strip(_EDGE_PUNCTUATION) for p in _ELLIPSIS.split(normalise(quotation.text))]
    pieces = [p for p in pieces if p]
    if not pieces:
        return None
    for archive in cited:
        if _contains_in_order(texts.whole(archive), pieces):
            return None
    names = ", ".join(repr(a.id) for a in cited)
    message = f"quotation \u201c{_short(quotation.text, 80)}\u201d is not in the archived text of {names}"
    closest = _closest(quotation.text, cited, texts)
    if closest is not None:
        archive, number, text = closest
        where = f"{archive.id!r}, para. {number}" if len(cited) > 1 else f"para. {number}"
        message += f"; closest passage ({where}): {_quoted(_short(text, 160))}"
    report = error if strict else warning
    return report(path, quotation.line, quotation.column, message)


def _contains_in_order(text: str, pieces: list[str]) -> bool:
    """Whether each piece is in text, after the one before, as whole words: "legal" is not
    found in "illegal"."""
    at = 0
    for piece in pieces:
        found = _whole_words_at(text, piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def _whole_words_at(text: str, piece: str, start: int) -> int:
    """Where piece first stands in text from start on, not begun or ended inside a word; -1
    where it does not. A character of Chinese or Japanese is a word's edge: those are written
    without spaces."""
    found = text.find(piece, start)
    while found >= 0:
        end = found + len(piece)
        if (not _joined(text[found - 1:found], piece[0])
                and not _joined(piece[-1], text[end:end + 1])):
            return found
        found = text.find(piece, found + 1)
    return -1


def _joined(before: str, after: str) -> bool:
    """Whether two neighbouring characters are letters or digits of one word."""
    return (before.isalnum() and after.isalnum()
            and not (_CJK_LETTER.match(before) or _CJK_LETTER.match(after)))


def _closest(quote: str, archives: list[Archive], texts: _Texts) -> tuple[Archive, int, str] | None:
    """The archived sentence that holds most of the quotation's words in order (difflib's
    matching blocks over words), the more similar sentence when two hold as many."""
    wanted = normalise(quote).split()
    if not wanted:
        return None
    wanted_counts = Counter(wanted)
    best: tuple[tuple[float, float], Archive, int, str] | None = None
    matcher: difflib.SequenceMatcher[str] = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(wanted)
    for archive in archives:
        for number, sentence, words, counts in texts.sentences(archive):
            # Shared words bound the words matched in order: skip what cannot do better.
            bound = sum((wanted_counts & counts).values()) / len(wanted)
            if best is not None and bound < best[0][0]:
                continue
            matcher.set_seq1(words)
            covered = sum(block.size for block in matcher.get_matching_blocks()) / len(wanted)
            score = (covered, matcher.ratio())
            if best is None or score > best[0]:
                best = (score, archive, number, sentence)
    if best is None or best[0][0] < 0.5:
        return None
    return best[1], best[2], best[3]


def _quoted(passage: str) -> str:
    """A passage in quote marks; one that opens with its own is a quotation already, shown as it is."""
    return passage if passage.startswith(OPENING_MARKS) else f"\u201c{passage}\u201d"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
