"""Property-based tests: whatever the content, briefgen gives a site or located
errors, never a traceback; whatever happens between builds (edits, deletions,
renames, kills), the next build gives what a clean build gives."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
from array import array
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from briefgen.build import pipeline
from briefgen.build.options import BuildOptions
from briefgen.content.markup import Converter
from briefgen.content.records import BriefingPositions, parse_briefing, parse_page, parse_registry
from briefgen.diagnostics import BuildFailed, Diagnostic
from briefgen.search import documents, encoding, entries, indexing, postings, text
from tests.conftest import DEFAULT_CONFIG, REPO, run_cli, tree_bytes

# BRIEFGEN_PROPERTY_SCALE=10 runs ten times the examples, for a longer search.
SCALE = int(os.environ.get("BRIEFGEN_PROPERTY_SCALE", "1"))
# No "explain" phase: it traces every line, which multiplies the time of a build.
SETTINGS = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck),
                    max_examples=100 * SCALE, phases=[p for p in Phase if p is not Phase.explain])
CONVERTER = Converter()
PAGE_CONVERTER = Converter(citations=False)

# ---------------------------------------------------------------- strategies

# Any Unicode, with the awkward characters made likely: controls, noncharacters,
# bidi marks, combining marks, quotes, YAML and Markdown punctuation.
AWKWARD = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\u2028\u2029\ufeff\ufffe\uffff\u200f\u0301\"'\\:#&*!|>%@`[]{}-"
TEXT = st.text(st.one_of(st.characters(codec="utf-8"), st.sampled_from(AWKWARD)), max_size=40)
KEYS = st.sampled_from(["title", "date", "topics", "summary", "sources", "draft", "slug", "updated",
                        "curators", "topcis", "tags", "extra", "id", "url", "publisher", "published"])
SCALARS = st.one_of(
    TEXT, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
    st.dates(), st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.sampled_from(["2016-08-02", "0001-01-01T00:00:00+03:00", "9999-12-31T23:00:00-05:00",
                     "https://example.org/a", "javascript:x", "a, b", "[@x]"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(KEYS, TEXT), inner, max_size=4)), max_leaves=12)
FRONT = st.dictionaries(KEYS, VALUES, max_size=9)

MARKDOWN_PIECES = st.sampled_from([
    "[@src-a]", "[@src-a; @src-b, p. 4]", "[@Upper]", "[@ a]", "[@a;;@b]", "\\[@x]", "[@", "]", "[x](y.md)",
    "[x](../b.md#f)", "[t [@src-a]](https://e.org)", "`", "``", "```\n", "~~~\n", "    ", "\t", "\n", "\n\n",
    "> ", "- ", "1. ", "* ", "#", "## ", "<div>", "</div>", "<!--", "-->", "&amp;", "&#0;", "[^1]", "[^1]: ",
    "|a|b|\n|-|-|\n", "*", "_", "**", "{: #id }", ": ", "---\n", "\r\n", "\x0c", "\x00", "\ufffe",
])
BODY = st.lists(st.one_of(MARKDOWN_PIECES, TEXT), max_size=30).map("".join)


def front_matter(data: dict[str, Any]) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return "title: x\n"


def is_located(diagnostic: Diagnostic) -> bool:
    return bool(diagnostic.path) and diagnostic.line >= 1 and diagnostic.column >= 1


# ---------------------------------------------------------------- parsing never raises


@SETTINGS
@given(FRONT, BODY)
def test_any_front_matter_and_body_parse_to_a_record_or_located_errors(meta: dict[str, Any],
                                                                        body: str) -> None:
    data = f"---\n{front_matter(meta)}---\n{body}".encode("utf-8", "surrogatepass")
    started = time.monotonic()
    doc, problems = parse_briefing("content/briefings/x.md", data, CONVERTER)
    page, page_problems = parse_page("content/pages/x.md", data, PAGE_CONVERTER)
    assert time.monotonic() - started < 5
    assert doc is not None or any(p.is_error for p in problems)
    assert page is not None or any(p.is_error for p in page_problems)
    assert all(is_located(p) for p in [*problems, *page_problems])


@SETTINGS
@given(st.binary(max_size=300) | TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_parse_to_a_record_or_located_errors(data: bytes) -> None:
    for raw in (data, b"---\n" + data + b"\n---\nBody\n"):
        doc, problems = parse_briefing("content/briefings/x.md", raw, CONVERTER)
        assert doc is not None or any(p.is_error for p in problems)
        _, registry_problems = parse_registry("content/sources/x.yaml", raw)
        assert all(is_located(p) for p in [*problems, *registry_problems])


@SETTINGS
@given(st.lists(st.dictionaries(KEYS, VALUES, max_size=6), max_size=4))
def test_any_registry_parses_to_sources_or_located_errors(entries: list[dict[str, Any]]) -> None:
    _, problems = parse_registry("content/sources/x.yaml", front_matter(entries).encode())  # type: ignore[arg-type]
    assert all(is_located(p) for p in problems)


# YAML that the size limits look at: values shared through an anchor and its aliases (which
# safe_dump writes for an object met twice), merge keys, keys that are lists, deep nesting.
_YAML_TREES = st.recursive(
    st.one_of(st.text("ab", max_size=12), st.integers(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text("abc", max_size=2), inner, max_size=4)),
    max_leaves=30)
_WRITTEN_YAML = st.sampled_from([
    "a: &x {b: 1, c: [1, 2]}\nd:\n  <<: *x\n  e: 2\n", "? [a, b]\n: c\n", "[[[[[[[[1]]]]]]]]\n",
    "a: &x [1, 2, 3]\nb: [*x, *x, *x, *x]\n", "{aaaaaaaaaaaaaaaaaaaa: 1}\n", "- aaaaaaaaaaaaaaaaaaaaaa\n",
])


@SETTINGS
@given(st.one_of(st.tuples(_YAML_TREES, st.booleans()).map(
           lambda tree: yaml.safe_dump([tree[0], tree[0]] if tree[1] else tree[0], allow_unicode=True)),
       _WRITTEN_YAML),
       st.integers(1, 8), st.integers(1, 40), st.integers(0, 16))
def test_yaml_the_positions_walk_finds_plain_is_within_every_size_limit(
        written: str, depth: int, nodes: int, chars: int) -> None:
    # A plain tree, as the walk that records positions finds it, skips the walk that enforces
    # the limits: with limits small enough to be met, that walk must refuse nothing then.
    from briefgen.content import load

    with mock.patch.multiple(load, MAX_DEPTH=depth, MAX_NODES=nodes, MAX_SCALAR_CHARS=chars):
        loader = load._PositionLoader(written)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
        try:
            doubtful = load._record_positions(root, 1, {}, {})
        except load._Refused:
            return  # a key written twice
        if not doubtful:
            load._check_size(root)



IDS = st.sets(st.integers(0, 1 << 21), max_size=300).map(sorted)


@SETTINGS
@given(IDS, st.data())
def test_any_postings_decode_to_what_was_encoded(ids: list[int], data: st.DataObject) -> None:
    weights = data.draw(st.lists(st.integers(0, 0xFFFF), min_size=len(ids), max_size=len(ids)))
    assert encoding.decode(encoding.weighted(ids, weights)) == dict(zip(ids, weights, strict=True))
    entry = encoding.present(ids)
    assert encoding.decode(entry) == dict.fromkeys(ids)
    # Of the two ways to list documents without weights, the shorter one is written.
    gaps = [b - a for a, b in zip([0, *ids], ids, strict=False)]
    gap_bytes = sum(max(1, (gap.bit_length() + 6) // 7) for gap in gaps)
    bitmap_bytes = (ids[-1] >> 3) + 1 if ids else gap_bytes
    assert entry[0] == (encoding.BITMAP if bitmap_bytes < gap_bytes else encoding.GAPS)
    assert len(base64.b64decode(entry[1:])) == min(gap_bytes, bitmap_bytes)


TERM_POSTINGS = st.lists(st.tuples(IDS.filter(bool), st.data()), max_size=12)


@SETTINGS
@given(TERM_POSTINGS)
def test_terms_encoded_together_are_encoded_as_each_alone(
        terms: list[tuple[list[int], st.DataObject]]) -> None:
    weights = [data.draw(st.lists(st.integers(0, 0xFFFF), min_size=len(ids), max_size=len(ids)))
               for ids, data in terms]
    together = encoding.weighted_many([i for ids, _ in terms for i in ids], [w for ws in weights for w in ws],
                                      [len(ids) for ids, _ in terms])
    assert together == [encoding.weighted(ids, ws) for (ids, _), ws in zip(terms, weights, strict=True)]

@SETTINGS
@given(st.sets(st.integers(0, 3000), min_size=1, max_size=400), st.data())
def test_a_moved_bitmap_lists_the_ids_moved_as_one_by_one(ids: set[int], data: st.DataObject) -> None:
    # Documents kept in order, some taken out and some added among them: ids move by runs.
    old = sorted(ids)
    kept = [doc_id for doc_id in old if data.draw(st.integers(0, 9)) > 0]
    added_at = data.draw(st.sets(st.integers(0, len(kept)), max_size=5))
    new_of: dict[int, int] = {}
    added: list[int] = []
    new_id = 0
    for place, doc_id in enumerate([*kept, None]):
        if place in added_at:
            added.append(new_id)
            new_id += 1 + data.draw(st.integers(0, 3))
        if doc_id is not None:
            new_id += data.draw(st.integers(0, 1))  # a document without the term in between
            new_of[doc_id] = new_id
            new_id += 1
    runs: list[tuple[int, int, int]] = []
    for doc_id, moved in new_of.items():
        if runs and runs[-1][1] == doc_id and runs[-1][2] == moved - doc_id:
            runs[-1] = (runs[-1][0], doc_id + 1, moved - doc_id)
        else:
            runs.append((doc_id, doc_id + 1, moved - doc_id))
    expected = sorted([*new_of.values(), *added])
    if not expected:
        return
    before = encoding._bitmap(old, (old[-1] >> 3) + 1)
    moved = encoding.moved_bitmap(before, runs, added, expected[-1])
    assert moved == encoding._bitmap(expected, (expected[-1] >> 3) + 1)
    assert encoding.decode(moved) == dict.fromkeys(expected)


@SETTINGS
@given(st.sets(st.integers(0, 3000), min_size=1, max_size=400), st.sets(st.integers(0, 3100), max_size=8),
       st.data())
def test_an_edited_bitmap_lists_the_ids_as_one_made_afresh(ids: set[int], added: set[int],
                                                           data: st.DataObject) -> None:
    # Documents that gained the term and documents that lost it (the highest among them too).
    added -= ids
    removed = data.draw(st.sets(st.sampled_from(sorted(ids)), max_size=8))
    expected = sorted((ids | added) - removed)
    if not expected:
        return
    before = encoding._bitmap(sorted(ids), (max(ids) >> 3) + 1)
    edited = encoding.edited_bitmap(before, sorted(added), sorted(removed), expected[-1])
    assert edited == encoding._bitmap(expected, (expected[-1] >> 3) + 1)


@SETTINGS
@given(st.integers(1, 3000), st.integers(1, 3000), st.integers(-40, 40), st.data())
def test_the_kept_frequencies_name_every_term_whose_listing_a_new_count_changes(
        made: int, documents: int, added: int, data: st.DataObject) -> None:
    # A term whose postings an update leaves alone is listed with or without weights by its
    # frequency and the document count; the head's frequencies, kept when the site had `made`
    # documents, must name every one that changes when `documents` becomes `after`.
    after = max(1, documents + added)
    # Frequencies anywhere, and near where a listing changes (a quarter or half of the count).
    near = st.sampled_from([2, 4]).flatmap(lambda share: st.integers(-45, 45).map(
        lambda offset: documents // share + offset))
    frequencies = [f for f in data.draw(st.lists(st.integers(1, 3000) | near, max_size=40))
                   if 1 <= f <= min(documents, after, made)]
    lists = {f"t{n}": array("I", range(frequency)) for n, frequency in enumerate(frequencies)}
    least, frequent = entries.frequent_terms(lists, made)
    found = entries.flippable(frequent, least, documents, after)
    changing = {term for term, listed in lists.items()
                if entries.is_presence_only(len(listed), documents) != entries.is_presence_only(
                    len(listed), after)}
    same_share = (documents >= entries.PRESENCE_ONLY_FROM) == (after >= entries.PRESENCE_ONLY_FROM)
    if same_share and made == documents and abs(after - documents) <= documents // 2:
        assert found is not None  # the head tells, for a count that moved this little either way
    if found is not None:
        assert set(found) == changing


# Letters that folding changes or splits (decomposed and compatibility forms, final sigma,
# dotted capital I, a ligature, superscripts, Hangul), besides ASCII and the plain punctuation;
# and CJK characters, which words() gives as pairs (kanji, kana with a voiced mark, half-width
# katakana and their voiced mark, a compatibility ideograph, the iteration mark, one outside
# the Basic Multilingual Plane), and what their ranges hold that is no letter (the katakana
# middle dot, a spacing voiced mark, an unassigned code point).
FOLDED_LETTERS = ("E\u0301e\u0308\u00e9\u00c5\u00bd\u00b2\u2122\u03a3\u03c3\u0130\ufb01\u01c4"
                  "\uac00\u0416\u4e1c_\u4e2d\u304c\u30ab\uff76\uff9e\uf900\u3005\U00020001"
                  "\u30fb\u309b\u3040"
                  # Letters made plain (ø, ß, the dotless i), a soft hyphen; Thai (a vowel mark, a
                  # letter, a leading vowel, a digit, a sign that is no letter), Khmer, Myanmar.
                  "\u00f8\u00df\u0131\u00ad\u0e37\u0e01\u0e40\u0e51\u0e3f\u1780\u1000"
                  # Marks folding keeps: Devanagari's (a vowel sign, a virama) and a letter of
                  # it, Thai's tone mark, the kana's voicing; one it takes out, Hebrew's point.
                  "\u093f\u094d\u0915\u0e49\u3099\u05b8")
# Characters whose UTF-8 shares bytes with the plain punctuation's (words() reads a text as bytes),
# ASCII that is neither letter nor digit, and control characters.
NEAR_PLAIN = "\u00a9\u00aa\u00b2\u2180\u2193\u2020\u2022\u20ac"
TEXTS = st.text(st.sampled_from(" .,'-_?\t\n\x00\x1f\x7faZ09" + text.PLAIN_PUNCTUATION + FOLDED_LETTERS
                                + NEAR_PLAIN), max_size=40)


@SETTINGS
@given(TEXTS)
def test_a_text_has_the_words_of_its_folded_form(sample: str) -> None:
    # words() skips folding for ASCII and plain punctuation; that must never change a word.
    # Read character by character in the folded text: a word begins at a letter or digit and
    # goes on over letters, digits and combining marks of its kind (of the unspaced scripts or
    # not); a word of the unspaced scripts is its pairs, or itself alone.
    unspaced = re.compile(f"[{text.UNSPACED_CHARS}]")

    def kind(char: str) -> tuple[bool, bool] | None:
        """(of the unspaced scripts, a letter or digit), or None for what is in no word."""
        mark = unicodedata.category(char)[0] == "M"
        if not (mark or (char.isalnum() and char != "_")):
            return None
        return unspaced.match(char) is not None, not mark

    expected: list[str] = []
    run: list[str] = []
    run_kind: bool | None = None
    for char in [*text.fold(sample), " "]:
        found = kind(char)
        if run and found is not None and found[0] == run_kind:
            run.append(char)
            continue
        if run:
            word = "".join(run)
            expected += ([word[at:at + 2] for at in range(len(word) - 1)] if run_kind and len(word) > 1
                         else [word])
            run = []
        if found is not None and found[1]:
            run, run_kind = [char], found[0]
    assert text.words(sample) == expected
    # A text of no code point past the first unspaced one is not looked at for unspaced letters.
    assert text.has_unspaced_range(sample) or not any(text.unspaced_letter().match(char) for char in sample)


@SETTINGS
@given(TEXTS)
def test_a_texts_runs_and_words_in_order_give_its_words(sample: str) -> None:
    # What a document's words for phrases are made of (phrases.sequence): the runs of unspaced
    # letters whole and the other words, in order; None for a text without such a letter.
    found, runs = text.words_and_runs(sample)
    assert found == text.words(sample)
    if runs is None:
        assert text.unspaced_letter().search(text.fold(sample)) is None
        return
    assert any(run for run, _ in runs)
    assert all(bool(run) != bool(word) for run, word in runs)
    assert [term for run, word in runs for term in ([word] if word else text.unspaced_terms(run))] == found


@SETTINGS
@given(TEXTS)
def test_a_text_counts_its_words_between_spaces_its_cjk_characters_by_two_and_thais_by_four(
        sample: str) -> None:
    from briefgen.content.scripts import SPACELESS_CHARS, cjk_letter, word_count

    spaceless = re.compile(f"[{SPACELESS_CHARS}]")
    cjk = [char for char in sample if cjk_letter().match(char)]
    thai = [char for char in sample if spaceless.match(char)]
    if not (cjk or thai):  # as counted before CJK characters were: words between spaces
        assert word_count(sample) == len(sample.split())
        return
    spaced = "".join(" " if cjk_letter().match(char) or spaceless.match(char) else char for char in sample)
    # Between spaces, only what holds a letter or a digit is a word (not a lone 。 or ,).
    words = [token for token in spaced.split() if any(char.isalnum() for char in token)]
    assert word_count(sample) == len(words) + (len(cjk) + 1) // 2 + (len(thai) + 3) // 4


# A document's distinct terms: short ones (CJK pairs, words of three letters or fewer) and
# longer ones that begin prefix terms, in any proportion.
DOC_TERMS = st.lists(st.one_of(st.text("中国的人民", min_size=1, max_size=2),
                               st.text("abcde", min_size=1, max_size=3),
                               st.text("abcde", min_size=4, max_size=7)), max_size=60, unique=True)


@SETTINGS
@given(DOC_TERMS, st.data())
def test_a_documents_prefix_terms_are_those_of_every_one_of_its_terms(terms: list[str], data: Any) -> None:
    # A document of mostly short terms (a text in Chinese) leaves them out before looking up
    # prefix terms, which they never begin: the prefix terms and their weights are the same.
    flagged = data.draw(st.integers(0, len(terms)))  # the flagged fields' terms come first
    weights = array("H", [data.draw(st.integers(1, 255)) << 8 | 5 << 3
                          | (data.draw(st.integers(1, 7)) if at < flagged else 0)
                          for at in range(len(terms))])
    found = documents.prefix_terms(terms, weights, documents.PrefixTerms())
    expected: dict[str, int] = {}
    for term in terms:
        start = text.prefix_term(term)
        if start is not None:
            expected[start] = expected.get(start, 0) + 1
    assert found[0] == list(expected)
    for start, weight in zip(*found, strict=True):
        flags = 0
        for term, term_weight in zip(terms[:flagged], weights, strict=False):
            if text.prefix_term(term) == start:
                flags |= term_weight & 7
        assert weight == expected[start] << 8 | 5 << 3 | flags


@SETTINGS
@given(st.dictionaries(TEXT.filter(bool), st.sets(st.integers(0, 40), min_size=1, max_size=5), max_size=24),
       st.integers(0, 3000), st.data())
def test_a_term_shard_lists_each_term_with_the_entry_of_its_own_postings(
        ids_of: dict[str, set[int]], more: int, data: st.DataObject) -> None:
    # One-posting terms take the entries made for their postings (shared between terms with
    # the same one), and a shard without a term to escape is joined at once: the bytes are
    # those of each term encoded and listed alone.
    documents = max((max(ids) for ids in ids_of.values()), default=0) + 1 + more
    weights = st.sampled_from([0, 1, 0x0801, 0xFFFF]) | st.integers(0, 0xFFFF)
    # An update may leave a list of the narrower width beside wider ones.
    lists = {term: array(data.draw(st.sampled_from("IQ")),
                         sorted(doc_id << 16 | data.draw(weights) for doc_id in ids))
             for term, ids in ids_of.items()}
    terms = sorted(lists)
    index = postings.Postings(1, ["key"] * documents, [1] * documents, [""], {}, dict(lists),
                              {0: list(lists)}, {})
    made = index.shard_bytes(0)
    alone = [entries.encode_entry(lists[term], documents) for term in terms]
    assert made == ("{" + ",".join(map(entries.listed_term, terms, alone)) + "}").encode()
    assert json.loads(made) == dict(zip(terms, alone, strict=True))


def test_plain_punctuation_is_never_part_of_a_word() -> None:
    for char in text.PLAIN_PUNCTUATION:
        assert not text._WORD.search(text.fold(char)), hex(ord(char))
        assert text.words(f"ab{char}cd") == ["ab", "cd"], hex(ord(char))


# ---------------------------------------------------------------- whole sites, in process


@contextmanager
def temporary_site(files: dict[str, str]) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="briefgen-property-"))
    try:
        for relative, text in {"briefgen.toml": DEFAULT_CONFIG, **files}.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


SOURCES = ("- id: src-a\n  title: A\n  publisher: Daily\n  url: https://example.org/a\n"
           "- id: src-b\n  title: B\n  publisher: Weekly\n"
           "- id: src-c\n  title: C\n  publisher: Daily\n  url: https://example.org/c\n")


@settings(SETTINGS, max_examples=40 * SCALE)
@given(st.lists(st.tuples(FRONT, BODY), min_size=1, max_size=3), FRONT)
def test_any_site_builds_or_fails_with_located_errors(briefings: list[tuple[dict[str, Any], str]],
                                                      extra: dict[str, Any]) -> None:
    files = {"content/sources/s.yaml": SOURCES}
    for n, (meta, body) in enumerate(briefings):
        meta = {"title": f"T{n}", "date": "2016-08-02", **meta}
        files[f"content/briefings/b{n}.md"] = f"---\n{front_matter(meta)}---\n{body}"
    files["content/pages/p.md"] = f"---\n{front_matter({'title': 'P', **extra})}---\nPage.\n"
    with temporary_site(files) as root:
        try:
            pipeline.check(root)
            checked: list[Diagnostic] | None = None
        except BuildFailed as failed:
            checked = failed.diagnostics
            assert checked and all(is_located(d) for d in checked)
        try:
            pipeline.build(root, BuildOptions(drafts=True, future=True, use_cache=False))
            built: list[Diagnostic] | None = None
        except BuildFailed as failed:
            built = failed.diagnostics
        assert checked == built  # check finds exactly what build fails on
        if built is None:
            for name in ("feed.xml", "sitemap.xml"):
                from xml.etree import ElementTree

                ElementTree.parse(root / "output" / name)


@settings(SETTINGS, max_examples=3 * SCALE)
@given(FRONT, BODY)
def test_the_command_line_never_shows_a_traceback(meta: dict[str, Any], body: str) -> None:
    meta = {"title": "T", "date": "2016-08-02", **meta}
    with temporary_site({"content/briefings/a.md": f"---\n{front_matter(meta)}---\n{body}"}) as root:
        for command in ("check", "build"):
            result = run_cli(command, root)
            assert result.code in (0, 1), result.stderr
            assert "Traceback" not in result.stderr, result.stderr


# ---------------------------------------------------------------- edits, renames and kills


def briefing(n: int, text: str, kind: str = "") -> str:
    """Briefing n with this text; `kind` may make it a draft, date it in the future, give it a
    warning (an unknown key kept as extra data), a date of update, or several of these
    ("draft+future")."""
    day = dt.date(2031 if "future" in kind else 2020, 1, 1) + dt.timedelta(days=n)
    extra = ("draft: true\n" if "draft" in kind else "") + ("sumary: a typo\n" if "warning" in kind else "")
    extra += f"updated: 2020-03-0{n % 3 + 1}\n" if "updated" in kind else ""
    return (f'---\ntitle: "B{n}"\ndate: {day}\ntopics: [T{n % 3}]\nsources: [src-a]\n{extra}---\n'
            f"{text} [@src-a]\n")


# Texts of an edit, and what else the edit makes of the briefing (see `briefing`).
# "Four" cites a second source of src-a's publisher, whose page every build has: an edit that
# cites it, or stops citing it, is taken in place.
EDITS = st.tuples(st.sampled_from(["One.", "Two.", "Three [@src-b].", "Four [@src-c].",
                                   'They said "the port is open" [@src-a, para. 1].',
                                   "Officials agreed [@src-a, paras. 1-2]."]),
                  st.sampled_from(["", "", "draft", "future", "warning", "draft+future", "updated"]))


def archive(variant: int) -> str:
    """The archived copy of src-a: the quotation some edits make is in variants 0-2 (at the
    start of paragraph 1, at its end, in a new first paragraph), not in 3; 4 has one paragraph,
    which a `paras. 1-2` locator is past."""
    paragraphs = [["The port is open again, officials said.", "Ships were waiting."],
                  ["By the evening, the port is open.", "Ships were waiting offshore."],
                  ["A long night ended.", "The port is open again.", "Ships were waiting."],
                  ["The harbour is open again.", "Ships were waiting."],
                  ["The port is open again, officials said."]][variant]
    body = "\n\n".join(f"{n}. {text}" for n, text in enumerate(paragraphs, start=1))
    return f"---\nid: src-a\nurl: https://example.org/a\ntitle: A\n---\n{body}\n"


OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 7), EDITS),
    st.tuples(st.just("archive"), st.integers(0, 4), st.just("")),
    st.tuples(st.just("sources"), st.integers(0, 3), st.just("")),
    st.tuples(st.just("delete"), st.integers(0, 7), st.just("")),
    st.tuples(st.just("rename"), st.integers(0, 7), st.integers(0, 7).map(str)),
    st.tuples(st.just("kill"), st.floats(0.0, 1.0), st.just("")),
    st.tuples(st.just("build"), st.just(0), st.just("")),
), min_size=1, max_size=6)


def kill_build(root: Path, fraction: float, duration: float) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "briefgen", "build", str(root), "--quiet", "--jobs", "1"]
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(duration * fraction)
    process.send_signal(signal.SIGKILL)
    process.wait()


def output_tree(output: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree_bytes(output).items() if k != ".briefgen-output"}


@settings(SETTINGS, max_examples=6 * SCALE)
@given(OPERATIONS)
def test_any_sequence_of_edits_and_kills_ends_as_a_clean_build(
        operations: list[tuple[str, Any, Any]]) -> None:
    files = {"content/sources/s.yaml": SOURCES, "content/archive/src-a.md": archive(0)}
    files |= {f"content/briefings/b{n}.md": briefing(n, f"Text {n}.") for n in range(8)}
    files["content/briefings/b1.md"] = briefing(1, 'They said "the port is open" [@src-a, para. 1].')
    with temporary_site(files) as root:
        folder = root / "content" / "briefings"
        started = time.monotonic()
        pipeline.build(root, BuildOptions(jobs=1))
        duration = max(0.3, (time.monotonic() - started) * 3)  # a process starts slower than a call
        for operation, a, b in operations:
            path = folder / f"b{a}.md" if operation in ("edit", "delete", "rename") else None
            if operation == "edit" and path is not None:
                path.write_text(briefing(a, *b), encoding="utf-8")
            elif operation == "delete" and path is not None:
                path.unlink(missing_ok=True)
            elif operation == "rename" and path is not None and path.exists():
                path.rename(folder / f"renamed-{b}-{a}.md")
            elif operation == "archive":
                (root / "content/archive/src-a.md").write_text(archive(a), encoding="utf-8")
            elif operation == "sources":
                # Sources added to (or taken from) a registry of their own, as `source add`
                # adds them, and an archive of src-b, which some edits cite, added or removed.
                extra = "".join(f"- id: src-x{n}\n  title: X{n}\n  publisher: Extra\n" for n in range(a))
                (root / "content/sources/extra.yaml").write_text(extra or "[]\n", encoding="utf-8")
                archive_b = root / "content/archive/src-b.md"
                if a >= 2:
                    archive_b.write_text(archive(0).replace("src-a", "src-b"), encoding="utf-8")
                else:
                    archive_b.unlink(missing_ok=True)
            elif operation == "kill":
                kill_build(root, a, duration)
            else:
                attempt(lambda: pipeline.build(root, BuildOptions(jobs=1)))
        # Renames and re-creations may give two files one URL: then the build and
        # the clean build must fail alike, and the previous output stays.
        before = output_tree(root / "output")
        results: list[pipeline.BuildResult] = []
        problems = attempt(lambda: results.append(pipeline.build(root, BuildOptions(jobs=1))))
        clean_problems = attempt(lambda: results.append(pipeline.build(
            root, BuildOptions(output=root / "clean", use_cache=False, jobs=1))))
        assert problems == clean_problems
        if problems is None:
            assert output_tree(root / "output") == output_tree(root / "clean")
            # What it says and what it left out, as well as what it wrote.
            warm, clean = results
            assert ((warm.warnings, warm.drafts_left_out, warm.future_left_out)
                    == (clean.warnings, clean.drafts_left_out, clean.future_left_out))
        else:
            assert output_tree(root / "output") == before


def attempt(build: Callable[[], object]) -> list[Diagnostic] | None:
    try:
        build()
    except BuildFailed as failed:
        return failed.diagnostics
    return None


# ---------------------------------------------------------------- related briefings, kept and updated

_TOPICS = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]
_SOURCES = [f"s{n}" for n in range(6)]
_RELATED_SOURCES = "".join(
    f"- id: {s}\n  title: \"Article {s}\"\n  publisher: Desk {n % 3}\n  url: https://example.org/{s}\n"
    for n, s in enumerate(_SOURCES))

# A briefing: (day, topics, cited sources).
_briefing_st = st.tuples(st.integers(1, 28),
                         st.lists(st.sampled_from(_TOPICS), min_size=1, max_size=3, unique=True),
                         st.lists(st.sampled_from(_SOURCES), max_size=3, unique=True))


def _related_site(root: Path, briefings: dict[str, tuple[int, list[str], list[str]]]) -> Any:
    from briefgen.build.loading import load

    shutil.rmtree(root, ignore_errors=True)
    (root / "content/briefings").mkdir(parents=True)
    (root / "content/sources").mkdir(parents=True)
    (root / "briefgen.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
    (root / "content/sources/registry.yaml").write_text(_RELATED_SOURCES, encoding="utf-8")
    for name, (day, topics, sources) in briefings.items():
        cites = " ".join(f"[@{s}]" for s in sources)
        (root / f"content/briefings/{name}.md").write_text(
            f"---\ntitle: \"{name}\"\ndate: 2021-03-{day:02d}\ntopics: [{', '.join(topics)}]\n"
            f"sources: [{', '.join(sources)}]\n---\nText of {name}. {cites}\n", encoding="utf-8")
    return load(root, BuildOptions()).site


Table = tuple[tuple[int, ...], ...]


def _related_tables(before: dict[str, tuple[int, list[str], list[str]]],
                    after: dict[str, tuple[int, list[str], list[str]]],
                    window: int) -> tuple[Any, Table, Table | None, Table]:
    """The site after the change, its table before, updated from that, and found afresh; with a
    window this narrow, a topic's or a source's window leaves briefings out, as at scale."""
    from briefgen.site import model

    kept_window = model.RELATED_WINDOW
    model.RELATED_WINDOW = window
    try:
        with tempfile.TemporaryDirectory() as folder:
            old = _related_site(Path(folder) / "old", before)
            new = _related_site(Path(folder) / "new", after)
            kept = model.all_related(old)
            updated = model.updated_related(new, model.related_keys(new), model.related_keys(old), kept)
            return new, kept, updated, model.all_related(new)
    finally:
        model.RELATED_WINDOW = kept_window


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_briefing_st, min_size=1, max_size=16), st.data())
def test_related_briefings_updated_from_a_kept_table_equal_those_found_afresh(
        start: list[tuple[int, list[str], list[str]]], data: st.DataObject) -> None:
    before = {f"b{n}": b for n, b in enumerate(start)}
    after = dict(before)
    for step in data.draw(st.lists(st.sampled_from(["add", "remove", "topics", "sources", "date"]),
                                   min_size=1, max_size=4)):
        names = sorted(after)
        if step == "add" or not names:
            after[f"n{len(after)}-{step}"] = data.draw(_briefing_st)
            continue
        name = data.draw(st.sampled_from(names))
        day, topics, sources = after[name]
        if step == "remove":
            del after[name]
        elif step == "topics":
            after[name] = (day, data.draw(_briefing_st)[1], sources)
        elif step == "sources":
            after[name] = (day, topics, data.draw(_briefing_st)[2])
        else:
            after[name] = (data.draw(st.integers(1, 28)), topics, sources)
    _, _, updated, afresh = _related_tables(before, after, window=2)
    dated_again = any(name in before and before[name][0] != after[name][0] for name in after)
    if updated is None:
        assert dated_again, "only a change of order may give up on the kept table"
    else:
        assert updated == afresh


@given(st.integers(0, 5000), st.integers(1, 4))
def test_worker_batches_hold_every_item_once_in_order_and_end_in_single_items(count: int, jobs: int) -> None:
    from briefgen.build.workers import _batches

    batches = _batches(range(count), jobs)
    assert [i for batch in batches for i in batch] == list(range(count))
    sizes = [len(batch) for batch in batches]
    assert all(0 < size <= 400 for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    # Each batch is at most a share of what is left, so the last ones take an item each and
    # no worker ends long after the others.
    left = count
    for size in sizes:
        assert size <= max(1, -(-left // (jobs * 4)))
        left -= size
    assert sizes[-min(count, 3):] == [1] * min(count, 3)


def test_related_briefings_found_in_two_processes_equal_those_found_in_one(
        monkeypatch: Any, tmp_path: Path) -> None:
    from briefgen.build import forked, loading
    from briefgen.site import model

    briefings = {f"b{n}": (n % 28 + 1, sorted({_TOPICS[n % 5], _TOPICS[n * 3 % 5]}), [_SOURCES[n % 6]])
                 for n in range(15)}
    site = _related_site(tmp_path, briefings)
    copies = []
    meanwhile = forked.meanwhile

    def counted(work: Callable[[], bytes], fork: bool = True) -> Any:
        copies.append(fork and forked.can_fork())
        return meanwhile(work, fork)

    monkeypatch.setattr(loading, "_RELATED_SPLIT_FROM", 2)  # this small site is split too
    monkeypatch.setattr(forked, "meanwhile", counted)
    assert loading._all_related(site) == model.all_related(site)
    assert copies == [True]  # the second half was found by a forked copy


def test_a_briefing_that_leaves_a_topic_has_its_old_neighbours_related_found_again() -> None:
    # X's related are three of the four briefings that share its source (P, Q, R: the newest).
    # Y shares it too and sits in topic A behind C; once C leaves A, Y is X's neighbour there
    # and outscores them. Only the old C says that X must be looked at again.
    before = {"x": (28, ["Alpha"], ["s1"]), "c": (27, ["Alpha"], []), "p": (26, ["Beta"], ["s1"]),
              "q": (25, ["Beta"], ["s1"]), "r": (24, ["Beta"], ["s1"]), "y": (1, ["Alpha"], ["s1"])}
    after = {**before, "c": (27, ["Beta"], [])}
    new, kept, updated, afresh = _related_tables(before, after, window=1)
    x = [b.title for b in new.briefings].index("x")
    assert afresh[x] != kept[x]  # the case this test is about: X's related did change
    assert updated == afresh


def test_the_briefings_citing_a_source_are_looked_at_around_each_one() -> None:
    # Five briefings cite s1, each in a topic of its own, x the newest and y the oldest.
    cited = {"x": (28, ["Alpha"], ["s1"]), "p": (26, ["Beta"], ["s1"]), "q": (25, ["Gamma"], ["s1"]),
             "r": (24, ["Delta"], ["s1"]), "y": (1, ["Epsilon"], ["s1"])}
    for window, related_to_x, related_to_q in ((100, ["p", "q", "r"], ["x", "p", "r"]),
                                               (1, ["p"], ["p", "r"])):
        new, _, _, afresh = _related_tables(cited, cited, window)
        titles = [b.title for b in new.briefings]
        assert [titles[i] for i in afresh[titles.index("x")]] == related_to_x
        assert [titles[i] for i in afresh[titles.index("q")]] == related_to_q


_tuples_st = st.lists(st.lists(st.integers(0, 2**31 - 1), max_size=5).map(tuple), max_size=12)


@SETTINGS
@given(_tuples_st, _tuples_st, st.integers(-14, 13))
def test_packed_tuples_are_the_tuples_they_were_made_from(
        tuples: list[tuple[int, ...]], more: list[tuple[int, ...]], at: int) -> None:
    import pickle

    from briefgen.site.packed import PackedTuples

    packed = PackedTuples.of(tuples)
    assert len(packed) == len(tuples) and list(packed) == tuples and packed == tuple(tuples)
    assert tuple(tuples) == packed and packed[2:7] == tuples[2:7] and packed[::-1] == tuples[::-1]
    if -len(tuples) <= at < len(tuples):
        assert packed[at] == tuples[at] and type(packed[at]) is tuple
    else:
        with pytest.raises(IndexError):
            packed[at]
    again = pickle.loads(pickle.dumps(packed, pickle.HIGHEST_PROTOCOL))
    assert again == packed and list(again) == tuples and PackedTuples.of(again) is again
    assert list(packed + PackedTuples.of(more)) == tuples + more
    assert (packed == tuple([*tuples, (1,)])) is False


def test_packed_tuples_that_do_not_add_up_are_refused() -> None:
    from briefgen.site.packed import PackedTuples

    for values, ends in ((array("i", [1, 2]), array("i", [1])), (array("i", [1, 2]), array("i", [2, 1, 2])),
                         (array("q", [1, 2]), array("i", [2])), (array("i", [1]), array("i", [-1, 1]))):
        with pytest.raises(ValueError):
            PackedTuples(values, ends)


_rel_st = st.text("abc/é.", min_size=1, max_size=6)
_entry_st = st.one_of(st.just(("", "")), st.tuples(st.text("0123456789abcdef", min_size=32, max_size=32),
                                                   st.text("0123456789abcdef", min_size=32, max_size=32)))


@SETTINGS
@given(st.dictionaries(_rel_st, _entry_st, max_size=12),
       st.lists(st.dictionaries(_rel_st, st.one_of(st.none(), _entry_st), max_size=6), max_size=3),
       st.lists(_rel_st, max_size=6))
def test_a_packed_manifest_reads_as_the_dict_it_was_made_from_with_its_changes(
        files: dict[str, tuple[str, str]], changes: list[dict[str, tuple[str, str] | None]],
        asked: list[str]) -> None:
    from briefgen.build import manifest as store

    packed = _manifest_row(files)
    expected = dict(files)
    for change in changes:
        packed = packed.with_changes(change)
        for rel, entry in change.items():
            if entry is None:
                expected.pop(rel, None)
            else:
                expected[rel] = entry
    assert dict(packed) == expected and len(packed) == len(expected) and packed.as_dict() == expected
    for rel in [*asked, *files]:
        assert packed.get(rel) == expected.get(rel) and (rel in packed) == (rel in expected)
        assert packed.get(rel, ("none", "")) == expected.get(rel, ("none", ""))
    rels = [*asked, *files]
    digests = [expected[rel][1] if rel in expected else None for rel in rels]
    assert store.manifest_digests(packed, rels) == digests == store.manifest_digests(expected, rels)
    # Written again, as a full row is after a large delta, and read back: the same manifest.
    assert _manifest_row(packed).as_dict() == expected


@SETTINGS
@given(st.dictionaries(_rel_st, _entry_st, max_size=12),
       st.dictionaries(_rel_st, st.one_of(st.none(), _entry_st), max_size=6),
       st.lists(_rel_st, max_size=8), st.randoms(use_true_random=False), st.integers(0, 3))
def test_a_packed_manifest_finds_its_files_asked_for_in_any_order(
        files: dict[str, tuple[str, str]], change: dict[str, tuple[str, str] | None], asked: list[str],
        random: Any, misses: int) -> None:
    """Files are looked for from where the last one was found (a build asks in the row's order):
    asked for in another order, again, or not there, they are found all the same, before and
    after a few misses have every path indexed."""
    from briefgen.build import manifest as store

    expected = {**files, **{rel: entry for rel, entry in change.items() if entry is not None}}
    for rel, entry in change.items():
        if entry is None:
            expected.pop(rel, None)
    in_order = [*files, *asked]
    shuffled = random.sample(in_order, len(in_order))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "_MISSES", misses)
        packed = _manifest_row(files).with_changes(change)
        assert bool(packed) == bool(expected)
        for rel in [*in_order, *shuffled, *in_order]:
            assert packed.get(rel) == expected.get(rel)
        assert list(packed) == list(expected) and len(packed) == len(expected)
        # Asked for together: the row's own order is found as one run, any other all the same.
        packed = _manifest_row(files).with_changes(change)
        half = len(files) // 2
        for rels in (list(files)[:half], list(files)[half:], [*in_order, *shuffled], list(files)[1:],
                     list(files)):
            assert packed.entries(rels) == [expected.get(rel) for rel in rels]
            for rel in list(files)[-1:]:  # looked for on from where the run ended
                assert packed.get(rel) == expected.get(rel)


_digest_st = st.one_of(st.just(""), st.text("0123456789abcdef", min_size=32, max_size=32),
                       st.text("0123456789abcdefé\0", max_size=40))


@SETTINGS
@given(st.lists(_digest_st, max_size=12), st.lists(st.tuples(st.integers(-2, 13), _digest_st), max_size=8),
       st.lists(_digest_st, max_size=4))
def test_digests_by_position_read_as_the_list_they_were_set_from(
        values: list[str], sets: list[tuple[int, str]], more: list[str]) -> None:
    from briefgen.build.columns import Digests

    column, expected = Digests(len(values)), [""] * len(values)
    for at, value in [*enumerate(values), *sets]:
        if 0 <= at < len(values):
            column[at] = value
            expected[at] = value
        else:
            with pytest.raises(IndexError):
                column[at] = value
    copied = column.copy()
    column.extend(more)
    expected += more
    assert list(column) == expected and len(column) == len(expected)
    got = [column.get(at) for at in range(-1, len(expected) + 1)]
    assert got == [None, *(value or None for value in expected), None]
    assert list(copied) == expected[:len(values)]  # a copy does not follow what is set after
    again = pickle.loads(pickle.dumps(column))
    assert list(again) == expected and again == column
    assert (copied == column) == (list(copied) == expected) and column != expected  # not a list
    for at in range(0, len(expected), 2):
        again.pop(at)
    merged = Digests(len(expected))
    merged.update(again)
    assert list(merged) == ["" if at % 2 == 0 else value for at, value in enumerate(expected)]


@SETTINGS
@given(st.dictionaries(_rel_st, _entry_st, max_size=12), st.randoms(use_true_random=False))
def test_a_planned_manifest_reads_as_the_dict_of_its_entries_whatever_order_they_are_set_in(
        files: dict[str, tuple[str, str]], random: Any) -> None:
    from briefgen.build import manifest

    planned = manifest.PlannedManifest(list(files))
    places = list(range(len(files)))
    random.shuffle(places)
    for place in places:
        planned.set_fingerprint(place, files[planned.file(place)][0])
    random.shuffle(places)
    for place in places:
        planned.set_digest(place, files[planned.file(place)][1])
    assert dict(planned.items()) == files and list(planned.values()) == list(files.values())
    assert dict(planned) == files and len(planned) == len(files) and list(planned) == list(files)
    assert manifest.as_dict(planned) == files and "not/a/file" not in planned
    # Written as a row and read back, and pending (none vouched for) as the cache keeps it.
    assert _manifest_row(planned).as_dict() == files
    unvouched = manifest.Pending(planned, {})
    assert dict(unvouched.items()) == dict(unvouched) == dict.fromkeys(files, manifest.UNVOUCHED)
    assert list(unvouched.values()) == [manifest.UNVOUCHED] * len(files) and "not/a/file" not in unvouched
    assert _manifest_row(unvouched).as_dict() == dict.fromkeys(files, manifest.UNVOUCHED)


@SETTINGS
@given(st.lists(st.text("ab/.", max_size=5).map(lambda rel: rel.replace("index.html", "")), max_size=12),
       st.lists(st.text("ab/.index", max_size=14), max_size=6))
def test_a_planned_file_is_found_at_its_place_by_its_output_path(rels: list[str], others: list[str]) -> None:
    from briefgen.site import kinds, urls
    from briefgen.site.plan import PageSpec, PlanFiles

    # A plan's paths name distinct files (two that want one file are an error before this).
    plan, seen = [], set()
    for rel in [*rels, "index.html", "b/index.html"]:
        if urls.output_file(rel) not in seen:
            seen.add(urls.output_file(rel))
            plan.append(PageSpec(rel, kinds.STATIC, ()))
    files = PlanFiles(plan)
    for place, spec in enumerate(plan):
        assert files.index(spec.output_file) == place and files[place] == spec.output_file
        assert spec.rel in urls.paths_of_output_file(spec.output_file)
        assert all(urls.output_file(rel) == spec.output_file
                   for rel in urls.paths_of_output_file(spec.output_file))
    for other in [*others, *(spec.rel for spec in plan)]:
        if other not in seen:
            with pytest.raises(ValueError):
                files.index(other)


@SETTINGS
@given(st.dictionaries(_rel_st, _entry_st, max_size=10), st.dictionaries(_rel_st, _entry_st, max_size=10),
       st.lists(_rel_st, max_size=4), st.booleans())
def test_the_manifest_pending_while_files_go_in_place_vouches_only_for_files_left_as_they_were(
        made: dict[str, tuple[str, str]], previous: dict[str, tuple[str, str]], asked: list[str],
        planned: bool) -> None:
    from briefgen.build import manifest

    kept = {rel: previous[rel] for rel in list(previous)[::2] if rel in made}
    made = {**made, **kept}  # some files the build left as they were
    # What the pipeline held as a dict before: made's files unvouched, then the last build's,
    # each vouched for where the build left it as it was.
    expected = dict.fromkeys(made, manifest.UNVOUCHED)
    expected.update((rel, entry if made.get(rel) == entry else manifest.UNVOUCHED)
                    for rel, entry in previous.items())
    if planned:
        as_planned = manifest.PlannedManifest(list(made))
        for place, rel in enumerate(made):
            if rel in kept:  # as render_site sets the files it keeps
                as_planned.keep(place, previous[rel])
            else:
                as_planned.set_fingerprint(place, made[rel][0])
                as_planned.set_digest(place, made[rel][1])
        pending = manifest.Pending(as_planned, previous)
    else:
        pending = manifest.Pending(made, previous)
    assert dict(pending.items()) == expected == dict(pending) and len(pending) == len(expected)
    assert list(pending.values()) == list(expected.values()) and list(pending) == list(expected)
    for rel in [*asked, *made, *previous]:
        assert pending.get(rel) == expected.get(rel) and (rel in pending) == (rel in expected)
    assert _manifest_row(pending).as_dict() == expected
    # What the cache writes as the pending manifest's delta, and the made one's after it: as
    # two dicts would give.
    made_now = pending.made
    for before, after in ((previous, pending), (pending, made_now)):
        found = manifest.manifest_changes(before, after)
        assert found == manifest.manifest_changes(dict(before.items()), dict(after.items()))
        assert manifest.manifest_changes(before, after, at_most=1) == (found if len(found) <= 1 else None)


@SETTINGS
@given(st.dictionaries(_rel_st, _entry_st, max_size=12),
       st.lists(st.tuples(st.integers(0, 11), st.one_of(st.none(), _entry_st)), max_size=4),
       st.dictionaries(_rel_st, st.one_of(st.none(), _entry_st), max_size=2),
       st.integers(0, 12), st.integers(0, 12), st.lists(_rel_st, max_size=3))
def test_files_asked_for_as_a_run_of_the_row_have_the_digests_asked_for_one_by_one(
        files: dict[str, tuple[str, str]], changed: list[tuple[int, tuple[str, str] | None]],
        others: dict[str, tuple[str, str] | None], start: int, length: int, more: list[str]) -> None:
    from briefgen.build import manifest as store

    stored = list(files)
    # Changes since the row was written (a delta): to files it holds, dropping some, and to others.
    change = {**others, **{stored[at % len(stored)]: entry for at, entry in changed if stored}}
    expected = store._with_changes(dict(files), change)
    # A run of the row's files, as the search index's term shards are asked for; and the same
    # files with others before, after or instead, which are no run.
    for rels in (stored[start:start + length], [*stored[start:start + length], *more],
                 [*more, *stored[start:start + length]], stored[start:start + length][::-1]):
        packed = _manifest_row(files).with_changes(change)
        with mock.patch.object(store, "_RUN_FROM", 1):
            found = store.manifest_digests(packed, rels)
        assert found == [expected[rel][1] if rel in expected else None for rel in rels]


def _manifest_row(files: Mapping[str, tuple[str, str]]) -> Any:
    """A manifest's full row as the store writes it, read back."""
    from briefgen.build import manifest, store

    (_, row), = store.pickled([("row", manifest.ManifestRow(files, "0123456789abcdef"))])
    assert isinstance(row, bytes)
    found = manifest.PackedManifest.checked(row)
    assert found is not None and found[1] == "0123456789abcdef"
    return found[0]


_folder_st = st.lists(st.sampled_from("ab/é0"), min_size=1, max_size=4).map("".join)


@SETTINGS
@given(st.sets(_folder_st, max_size=10), st.lists(_folder_st, max_size=4), st.booleans())
def test_an_output_folder_is_found_in_the_stored_string_where_it_is_among_the_folders(
        named: set[str], others: list[str], split_first: bool) -> None:
    """memo.JoinedFolders finds a folder in the string the record stores (the output's own
    folder, "", first), where looking it up among the folders split apart finds it."""
    from bisect import bisect_left

    from briefgen.build import memo

    folders = tuple(sorted({"", *named}))
    joined = memo.JoinedFolders("\0".join(folders), len(folders))
    if split_first:
        assert list(joined) == list(folders) and joined[-1] == folders[-1]
    assert list(joined.lazily()) == list(folders)
    assert joined != (*folders, "x") and (len(folders) == 1 or joined != folders[:-1])
    wanted = [*folders, *others, "a/", "/a"]
    expected = [(at, folder) for at, folder in ((bisect_left(folders, folder), folder) for folder in wanted)
                if at < len(folders) and folders[at] == folder]
    assert joined.positions(wanted) == expected  # out of order: each looked for from the start
    assert joined.positions(sorted(wanted)) == sorted(expected)  # in order: in one pass
    assert memo._positions(folders, wanted) == expected  # the same, among the folders split
    assert joined == folders and len(joined) == len(folders) and joined[1:] == folders[1:]


@SETTINGS
@given(st.sets(_folder_st, max_size=10), st.sets(_folder_st, max_size=10), st.booleans())
def test_a_folder_the_last_build_had_keeps_its_time_and_a_new_one_has_none(
        before: set[str], after: set[str], joined: bool) -> None:
    """memo._kept_times, walking the last build's folders beside the new ones, gives each new
    folder the time the last build had for it, and -1 to one it lacked."""
    from briefgen.build import memo

    old = tuple(sorted({"", *before}))
    times = array("q", range(100, 100 + len(old)))
    last = memo.LastBuild("inputs", 1, 1, None, folders=memo.JoinedFolders("\0".join(old), len(old))
                          if joined else old, folder_times=times)
    new = tuple(sorted({"", *after}))
    known = dict(zip(old, times, strict=True))
    assert list(memo._kept_times(last, new)) == [known.get(folder, -1) for folder in new]


@SETTINGS
@given(st.lists(_folder_st, min_size=1, max_size=10, unique=True), st.lists(_folder_st, max_size=4))
def test_a_string_is_found_among_strings_joined_where_it_is_among_them_split(
        joined: list[str], others: list[str]) -> None:
    """columns.joined_positions finds a path among paths joined by NULs (first, last, alone, or
    one that begins or ends another) where the list of them has it."""
    from briefgen.build.columns import joined_positions

    wanted = [*joined, *others, *(path + "x" for path in joined), *("x" + path for path in joined)]
    assert joined_positions("\0".join(joined), wanted) == {path: joined.index(path) for path in wanted
                                                           if path in joined}


@SETTINGS
@given(st.dictionaries(_rel_st, _entry_st, max_size=12), st.dictionaries(_rel_st, _entry_st, max_size=12),
       st.integers(-1, 14))
def test_changes_past_a_limit_are_not_gathered_and_a_full_row_is_the_manifest_after_them(
        before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]], limit: int) -> None:
    from briefgen.build import manifest as store

    every = store.manifest_changes(before, after)
    assert every is not None
    assert store._with_changes(dict(before), every) == after
    capped = store.manifest_changes(before, after, at_most=limit)
    assert capped == (every if len(every) <= limit else None)
    # Too many changes for a delta: the row written is the manifest after them, read back whole.
    rows = _StateRows()
    kept = store.KeptManifest(before, "token" if limit >= 0 else "", {})
    values, _, now = (store.full_manifest_rows(rows, Path("/out"), after) if capped is None  # type: ignore[arg-type]
                      else store.manifest_delta_rows(rows, Path("/out"), kept, capped, after=after))  # type: ignore[arg-type]
    assert now.files == after
    if capped is None:
        row = values["manifest//out"]
        assert isinstance(row, store.ManifestRow) and row.token == now.token
        assert _manifest_row(row.files).as_dict() == after


class _StateRows:
    """A store with no rows, for manifest_rows (which reads which folders have one)."""

    def read_states(self, names: list[str]) -> dict[str, object]:
        return {}


def _raw_manifest(count: int, paths: bytes, fingerprints: bytes, digests: bytes,
                  name: bytes = b"briefgen-manifest-4") -> bytes:
    """A manifest row's bytes made by hand: its header line, then its three columns."""
    return (b"%s 0123456789abcdef %012d %012d %012d %012d\n" % (name, count, len(paths), len(fingerprints),
                                                               len(digests)) + paths + fingerprints + digests)


def test_a_manifest_row_whose_strings_do_not_line_up_is_no_manifest() -> None:
    from briefgen.build import manifest

    checked = manifest.PackedManifest.checked
    digest = b"0" * 32
    two_digests = digest + b"\0" + digest
    assert checked(("a\0b", "f1\0f2", "d1")) is None  # an earlier version's row
    assert checked(_raw_manifest(1, b"\0a\0", digest, digest, name=b"briefgen-manifest-3")) is None
    assert checked(_raw_manifest(1, b"\0a\0", digest, digest)[:-1]) is None  # shorter than it says
    assert checked(_raw_manifest(1, b"a", digest, digest)) is None  # a path not between NULs
    empty = checked(_raw_manifest(0, b"", b"", b""))
    assert empty is not None and empty[1] == "0123456789abcdef"
    assert len(empty[0]) == 0 and empty[0].as_dict() == {} and "a" not in empty[0]
    assert checked(_raw_manifest(0, b"\0a\0", b"", b"")) is None
    # Columns whose values have one width are kept as stored, and still checked against the count.
    assert checked(_raw_manifest(2, b"\0a\0b\0", two_digests + b"\0" + digest, two_digests)) is None
    assert checked(_raw_manifest(2, b"\0a\0b\0", digest, two_digests)) is None
    found = checked(_raw_manifest(2, b"\0a\0b\0", two_digests, digest + b"\0" + b"1" * 32))
    assert found is not None
    two = found[0]
    assert two.as_dict() == {"a": ("0" * 32, "0" * 32), "b": ("0" * 32, "1" * 32)}
    assert two["b"] == ("0" * 32, "1" * 32) and "c" not in two and "a\0b" not in two
    # Paths that do not line up with the count: found out when one is looked up past it, or all read.
    short = checked(_raw_manifest(2, b"\0a\0", two_digests, two_digests))
    assert short is not None and short[0].get("a") == ("0" * 32, "0" * 32)
    with pytest.raises(manifest.DamagedManifest):
        short[0].as_dict()
    # A damaged byte in a column of one width reads as a value no fingerprint equals, not an error.
    odd = checked(_raw_manifest(1, b"\0a\0", b"\xff" * 32, digest))
    assert odd is not None and odd[0]["a"] == ("\ufffd" * 32, "0" * 32)
    more = checked(_raw_manifest(1, b"\0a\0b\0", digest, digest))
    assert more is not None
    with pytest.raises(manifest.DamagedManifest):
        more[0].get("b")
    # A build that looks up every file counts the paths first (read_kept_manifest's `lined_up`).
    assert not short[0].lined_up() and not more[0].lined_up()
    assert two.lined_up() and empty[0].lined_up() and odd[0].lined_up()


@given(st.dictionaries(st.sampled_from(BriefingPositions.KEYS),
                       st.tuples(st.integers(1, 2**32 - 1), st.integers(1, 2**32 - 1))))
def test_key_positions_read_and_pickle_as_the_dict_they_were_made_from(
        found: dict[str, tuple[int, int]]) -> None:
    import pickle

    positions = BriefingPositions.of(found)
    assert positions == found and dict(positions) == found and len(positions) == len(found)
    assert positions.get("title", (0, 0)) == found.get("title", (0, 0))
    again = pickle.loads(pickle.dumps(positions, pickle.HIGHEST_PROTOCOL))
    assert type(again) is BriefingPositions and again == positions and hash(again) == hash(positions)


# ---------------------------------------------------------------- changes built by workers

# A site whose builds fork: rendering workers, the fingerprints split with a forked copy, the
# output checked and the snapshot pickled by copies, the search index updated, moved or made
# afresh. Small numbers make a small site take each of those paths.
_WORKER_TOPICS = ["Ports", "Grain", "Talks", "Energy"]
_WORKER_SOURCES = "".join(
    f"- id: w{n}\n  title: \"Article {n}\"\n  publisher: Desk {n % 3}\n  url: https://example.org/w{n}\n"
    for n in range(6))
_WORKER_CONFIG = DEFAULT_CONFIG.replace("per_page = 20", "per_page = 3")


def _worker_briefing(n: int, day: int, topics: tuple[str, ...], cites: tuple[int, ...], text: str,
                     kind: str) -> str:
    """Briefing n of the sites below, `kind` making it a draft or giving it a date of update, a
    summary or another title."""
    extra = {"draft": "draft: true\n", "updated": "updated: 2021-06-30\n"}.get(kind, "")
    summary = f"summary: \"Summary {n} {kind}\"\n" if kind == "summary" else ""
    marks = " ".join(f"[@w{c}]" for c in cites)
    return (f"---\ntitle: \"Briefing {n}{' again' if kind == 'title' else ''}\"\ndate: 2021-05-{day:02d}\n"
            f"topics: [{', '.join(topics)}]\nsources: [{', '.join(f'w{c}' for c in cites)}]\n"
            f"{summary}{extra}---\n{text} {marks}\n")


# A day of None keeps the briefing's day: most edits leave it where it is, and only those are
# taken in place.
_WORKER_BRIEFING = st.tuples(
    st.one_of(st.none(), st.none(), st.none(), st.integers(1, 28)),
    st.lists(st.sampled_from(_WORKER_TOPICS), min_size=1, max_size=2, unique=True).map(tuple),
    st.lists(st.integers(0, 5), min_size=1, max_size=2, unique=True).map(tuple),
    st.sampled_from(["Grain ships left the port.", "Talks resumed on the corridor.",
                     "Energy prices fell again.", "Официальные лица согласились."]),
    st.sampled_from(["", "draft", "updated", "summary", "title"]),
)
_WORKER_OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("write"), st.integers(0, 29), _WORKER_BRIEFING),  # an edit, or a new briefing
    st.tuples(st.just("delete"), st.integers(0, 29), st.just(None)),
    st.tuples(st.just("build"), st.just(0), st.just(None)),
), min_size=1, max_size=6)
# Always tried: a summary edited in place (which every list showing the briefing shows), a new
# briefing, one deleted, one made a draft.
_WORKER_EXAMPLE = [("write", 5, (None, ("Grain",), (5,), "Grain ships left the port.", "summary")),
                   ("build", 0, None),
                   ("write", 26, (3, ("Talks",), (1,), "Talks resumed on the corridor.", "")),
                   ("delete", 7, None),
                   ("write", 9, (None, ("Energy",), (2,), "Energy prices fell again.", "draft"))]


class _WorkerSite:
    """The site of the two tests below, with the thresholds lowered while it is in use: 24
    briefings (3 to a page), and the days they are dated now."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "content" / "briefings"
        self.days = {n: n % 28 + 1 for n in range(30)}

    def change(self, operation: str, n: int, made: Any) -> Path:
        """Write briefing n (a day of None keeps its day) or delete it; the file changed."""
        path = self.folder / f"b{n}.md"
        if operation == "write":
            self.days[n] = made[0] or self.days[n]
            path.write_text(_worker_briefing(n, self.days[n], *made[1:]), encoding="utf-8")
        else:
            path.unlink(missing_ok=True)
        return path


@contextmanager
def _worker_site() -> Iterator[_WorkerSite]:
    from briefgen.build import fingerprint, loading, rendering

    files = {"content/sources/s.yaml": _WORKER_SOURCES, "briefgen.toml": _WORKER_CONFIG}
    for n in range(24):
        made = (n % 28 + 1, (_WORKER_TOPICS[n % 4],), (n % 6,), "Grain ships left the port.", "")
        files[f"content/briefings/b{n}.md"] = _worker_briefing(n, *made)
    with ExitStack() as patches, temporary_site(files) as root:
        for owner, name, value in ((fingerprint, "_SPLIT_FROM", 0), (rendering, "_WORKERS_FROM", 2),
                                   (loading, "_RELATED_SPLIT_FROM", 2), (indexing, "UPDATE_FLOOR", 1)):
            patches.enter_context(mock.patch.object(owner, name, value))
        yield _WorkerSite(root)


@settings(SETTINGS, max_examples=6 * SCALE)
@given(_WORKER_OPERATIONS)
@example(_WORKER_EXAMPLE)
def test_any_sequence_of_changes_built_by_workers_ends_as_a_clean_build(
        operations: list[tuple[str, int, Any]]) -> None:
    with _worker_site() as site:
        pipeline.build(site.root, BuildOptions(jobs=2))
        for operation, n, made in operations:
            if operation == "build":
                pipeline.build(site.root, BuildOptions(jobs=2))
            else:
                site.change(operation, n, made)
        warm = pipeline.build(site.root, BuildOptions(jobs=2))
        clean = pipeline.build(site.root, BuildOptions(output=site.root / "clean", use_cache=False, jobs=1))
        assert output_tree(site.root / "output") == output_tree(site.root / "clean")
        assert ((warm.warnings, warm.drafts_left_out, warm.future_left_out)
                == (clean.warnings, clean.drafts_left_out, clean.future_left_out))


@settings(SETTINGS, max_examples=6 * SCALE)
@given(_WORKER_OPERATIONS, st.booleans())
@example(_WORKER_EXAMPLE, False)
@example(_WORKER_EXAMPLE, True)
def test_any_sequence_of_changes_in_the_live_preview_ends_as_a_clean_build(
        operations: list[tuple[str, int, Any]], compared_later: bool) -> None:
    """`compared_later`: every rebuild that changes the model leaves the comparison of the files
    with the last build to a thread (as on a site past COMPARED_LATER_FROM files)."""
    from briefgen.serve.session import Session

    with _worker_site() as site:
        session = Session(site.root, BuildOptions(jobs=2), compared_later_from=0 if compared_later else None)
        session.rebuild()
        changed: list[Path] = []
        for operation, n, made in operations:
            if operation == "build":  # a save the preview sees: the files changed since the last
                session.rebuild(changed)
                changed = []
            else:
                changed.append(site.change(operation, n, made))
        preview = session.rebuild(changed)
        clean = pipeline.build(site.root, BuildOptions(output=site.root / "clean", use_cache=False, jobs=1))
        assert dict(session.pages) == output_tree(site.root / "clean")
        assert preview.warnings == clean.warnings


CITATION_USES = st.lists(st.tuples(st.sampled_from(["src-a", "src.b", "c_1"]),
                                   st.sampled_from(["", "para. 2", "paras. 3-4"]),
                                   st.integers(1, 2**31 - 2), st.integers(1, 2**31 - 2)), max_size=12)


@given(CITATION_USES)
def test_citations_packed_are_the_uses_they_were_made_from(raw: list[tuple[str, str, int, int]]) -> None:
    """A body's citations as the build keeps them (markup.Citations: source places, lines and
    columns in one array, the locators apart) give back every use, in order, also once pickled."""
    import pickle

    from briefgen.content.markup import Citations, CitationUse

    uses = [CitationUse(*use) for use in raw]
    ids = tuple(dict.fromkeys(use.source_id for use in uses))
    packed = Citations.of(uses, ids)
    again = pickle.loads(pickle.dumps(packed))
    for citations in (packed, again):
        assert list(citations) == uses and len(citations) == len(uses) and citations == tuple(uses)
        assert [citations[at] for at in range(-len(uses), len(uses))] == uses * 2
        assert citations[1:-1] == tuple(uses[1:-1])
        assert citations.located() == tuple((use.source_id, use.locator) for use in uses if use.locator)
        assert citations.located_uses() == [use for use in uses if use.locator]
    assert again == packed and hash(again) == hash(packed)
    if uses:
        with pytest.raises(IndexError):
            packed[len(uses)]
        last = uses[-1]
        elsewhere = [*uses[:-1], CitationUse(last.source_id, last.locator, last.line, last.column + 1)]
        assert Citations.of(elsewhere, ids) != packed


def test_damaged_citations_are_refused() -> None:
    """A cache row whose citations do not hold together is not taken (it is parsed again)."""
    import pickle

    from briefgen.content.markup import Citations, CitationUse, _unpickled_citations

    packed = Citations.of([CitationUse("a", "p. 1", 2, 3), CitationUse("b", "", 4, 5)], ("a", "b"))
    assert pickle.loads(pickle.dumps(packed)) == packed
    for ids, numbers, locators in [(("a",), array("I", [0, 2, 3, 1, 4, 5]), ("p. 1", "")),  # an id missing
                                   (("a", "b"), array("I", [0, 2, 3, 1, 4]), ("p. 1", "")),  # a number short
                                   (("a", "b"), array("I", [0, 2, 3, 1, 4, 5]), ("p. 1",)),  # a locator short
                                   (("a", "b"), array("I", [0, 2, 3, 2, 4, 5]), ())]:  # a place past the ids
        with pytest.raises(ValueError, match="damaged citations"):
            _unpickled_citations(ids, numbers.tobytes(), locators)
    with pytest.raises(ValueError, match="damaged citations"):
        Citations(("a",), array("i", [0, 2, 3]), ())  # signed numbers: not this class's


@settings(SETTINGS, max_examples=60 * SCALE)
@given(st.dictionaries(st.tuples(st.integers(1990, 2030), st.integers(1, 12), st.integers(1, 28)),
                       st.tuples(st.integers(0, 10_000)), max_size=20),
       st.lists(st.tuples(st.integers(1990, 2030), st.integers(1, 12), st.integers(1, 28)), max_size=5))
def test_a_mapping_pickled_apart_reads_as_the_mapping(days: dict[tuple[int, int, int], tuple[int]],
                                                      asked: list[tuple[int, int, int]]) -> None:
    """An index the snapshot's head keeps pickled apart answers as the mapping it was made from,
    before and after it is first read, and pickled again once read."""
    from briefgen.build import snapshot

    kept = pickle.loads(pickle.dumps(snapshot.PickledMapping.of(days)))
    for key in [*asked, *days]:
        assert (key in kept) == (key in days) and kept.get(key) == days.get(key)
    assert dict(kept) == days and len(kept) == len(days) and dict(kept.items()) == days
    assert dict(pickle.loads(pickle.dumps(kept))) == days  # unpickled, then pickled again


_key_st = st.text("0123456789abcdef", min_size=24, max_size=24)


@SETTINGS
@given(st.lists(_key_st, max_size=12), st.dictionaries(st.integers(0, 11), _key_st, max_size=4),
       st.integers(-14, 14), st.integers(-14, 14))
def test_document_keys_kept_as_one_string_read_as_the_list_they_were_made_from(
        keys: list[str], replaced: dict[int, str], start: int, stop: int) -> None:
    """The search index's document keys, as its head keeps them: indexed, sliced, iterated and
    compared as the list; replaced by id as the list would be; pickled and read back whole."""
    from briefgen.search.state import Keys

    packed = Keys.of(keys)
    assert isinstance(packed, Keys) and packed == keys and list(packed) == keys and len(packed) == len(keys)
    assert packed[start:stop] == keys[start:stop]
    for at in range(-len(keys), len(keys)):
        assert packed[at] == keys[at]
    with pytest.raises(IndexError):
        packed[len(keys)]
    assert pickle.loads(pickle.dumps(packed)) == packed
    replaced = {at: key for at, key in replaced.items() if at < len(keys)}
    expected = [replaced.get(at, key) for at, key in enumerate(keys)]
    assert packed.replaced(replaced) == expected and packed == keys  # a new one; this one as it was
    if keys:  # a new key of another width: a list
        assert packed.replaced({0: "short"}) == ["short", *keys[1:]]
    assert Keys.of(["short", *keys]) == ["short", *keys]  # another width: left a list
    with pytest.raises(ValueError):
        Keys("0" * 23, 1)


@SETTINGS
@given(st.lists(st.dictionaries(st.integers(0, 30), st.integers(1, 4), max_size=8), max_size=6))
def test_lists_of_consecutive_runs_joined_are_each_keys_lists_one_after_another(
        runs: list[dict[int, int]]) -> None:
    """fingerprint.PackedLists.joined gives each key the positions every run noted for it, in
    the runs' order: what noting all the runs' files in one table gives."""
    from briefgen.build.fingerprint import PackedLists

    parts, whole, position = [], {}, 0
    for counts in runs:
        lists: dict[int, list[int]] = {}
        for key, count in counts.items():  # each run's positions after the last run's
            lists[key] = list(range(position, position + count))
            position += count
        parts.append(PackedLists(lists))
        for key in sorted(lists):
            whole.setdefault(key, []).extend(lists[key])
    joined = PackedLists.joined(parts)
    assert {key: list(positions) for key, positions in joined.lists()} == {
        key: sorted(positions) for key, positions in whole.items()}
    assert list(joined) == sorted(whole) and dict(joined) == {k: sorted(v) for k, v in whole.items()}


# ---------------------------------------------------------------- content files added and taken out

_KIND_FOLDERS = ("content/sources/", "content/briefings/", "content/pages/", "content/archive/")
_CONTENT_PATH = st.builds(lambda kind, folder, name: f"{_KIND_FOLDERS[kind]}{folder}{name}",
                          st.integers(0, 3), st.sampled_from(["", "2020/", "2020/x/", "2021/", "a-b/"]),
                          st.text(alphabet="ab-_.0/", min_size=1, max_size=4).filter(
                              lambda name: "//" not in name and not name.startswith("/")
                              and not name.endswith("/")))


def _listed(paths: set[str]) -> list[str]:
    """Paths in a build's listing order: each kind's together, by path."""
    return sorted(paths, key=lambda path: (next(at for at, folder in enumerate(_KIND_FOLDERS)
                                                 if path.startswith(folder)), path))


@settings(SETTINGS, max_examples=300 * SCALE)
@given(st.sets(_CONTENT_PATH, max_size=25), st.data(), st.sets(_CONTENT_PATH, max_size=4),
       st.booleans())
def test_content_files_added_and_taken_out_are_where_a_listing_puts_them(
        paths: set[str], data: st.DataObject, added: set[str], unknown_digest: bool) -> None:
    """A snapshot's content files with files added (each in its kind's files, by path) and others
    taken out are those a build lists, in its order, with their stats and digests: the next edit
    compares them with the files it finds at once (inputs.PackedContent.with_changes)."""
    from briefgen.build.inputs import PackedContent

    listed = _listed(paths)
    known = {path: ((at, at + 1, at + 2, at + 3), f"{at:032x}") for at, path in enumerate(listed)}
    packed = pickle.loads(pickle.dumps(PackedContent.of(known)))
    gone = data.draw(st.sets(st.sampled_from(listed))) if listed else set()
    added -= paths
    new = {path: ((9, 9, 9, at), "" if unknown_digest and at == 0 else f"{at + 100:032x}")
           for at, path in enumerate(sorted(added))}
    edited = {path: ((7, 7, 7, 7), "e" * 32) for path in listed[:1] if path not in gone}
    changed = packed.with_changes({**dict.fromkeys(gone), **new, **edited}, _KIND_FOLDERS)
    after = {**{path: entry for path, entry in known.items() if path not in gone}, **new, **edited}
    assert changed.paths == tuple(_listed(set(after)))
    assert dict(changed) == after
    assert dict(pickle.loads(pickle.dumps(changed))) == after
