"""Citations checked against archived copies of their sources (content/archive/<id>.md).

Every test builds a small site with a fictional archived article and reads what
briefgen prints and writes, as a curator would.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from conftest import (
    DEFAULT_CONFIG,
    build_ok,
    built_as_clean,
    error_lines,
    make_site,
    noting_checks,
    page,
    run_cli,
    text_of,
)

REGISTRY = """\
- id: lw-harbour
  title: "Harbour reopens after strike"
  publisher: Lindmark Wire
  url: https://news.example.com/harbour
- id: lw-ferries
  title: "Ferry timetable cut"
  publisher: Lindmark Wire
  url: https://news.example.com/ferries
"""

ARCHIVE = """\
---
id: lw-harbour
url: https://news.example.com/harbour
title: "Harbour reopens after strike"
publisher: Lindmark Wire
accessed: 2026-11-30T10:00:00Z
sha256: 00
captured_from: text-file
---
1. The harbour of Lindmark reopened on Tuesday after a strike that lasted three weeks.

2. "We are back to work, and the cranes are moving again," said the union leader, Ana Berg.

3. Shipping firms said that delays would last until the end of the month.

4. The port authority said it would publish a new schedule for container ships on Friday.
"""


def briefing(body: str, extra: str = "") -> str:
    return f"---\ntitle: Harbour\ndate: 2016-08-02\n{extra}---\n{body}\n"


def site_with(tmp_path: Path, body: str, config: str | None = None,
              archive: str = ARCHIVE) -> Path:
    return make_site(tmp_path, {
        "content/sources/lindmark.yaml": REGISTRY,
        "content/archive/lw-harbour.md": archive,
        "content/briefings/harbour.md": briefing(body),
    }, config)


def sources_list(out: Path) -> str:
    return text_of(page(out, "2016/08/02/harbour/").find("section", class_="sources-section"))


# ---------------------------------------------------------------- locators


@pytest.mark.parametrize("locator", ["para. 2", "paras. 2\u20133", "paras. 2-3", "para. 4"])
def test_locators_inside_the_archive_build(tmp_path: Path, locator: str) -> None:
    site = site_with(tmp_path, f"The port reopened [@lw-harbour, {locator}].")
    build_ok(site)


@pytest.mark.parametrize("locator", ["para. 7", "paras. 3\u20139", "paras. 3-5", "para. 0", "\u00b6 5",
                                     "paragraphs 4 to 6"])
def test_a_locator_past_the_archive_is_an_error_at_the_citation(tmp_path: Path, locator: str) -> None:
    site = site_with(tmp_path, f"Some text.\n\nThe port reopened [@lw-harbour, {locator}].")
    result = run_cli("build", site)
    assert result.code == 1
    assert "Traceback" not in result.stderr
    column = f"The port reopened [@lw-harbour, {locator}].".index("@") + 2  # the id, as for unknown ids
    (line,) = error_lines(result.stderr)
    assert line.startswith(f"content/briefings/harbour.md:7:{column}: error: ")
    assert f"`{locator}`" in line and "paragraphs 1 to 4" in line, line
    assert not (site / "output").exists()


def test_every_spelling_of_a_paragraph_is_merged_in_the_sources_list(tmp_path: Path) -> None:
    site = site_with(tmp_path, "Reopened [@lw-harbour, paragraph 2], late [@lw-harbour, paras. 1 to 3] "
                               "and again [@lw-harbour, \u00b6 3], [@lw-harbour, Para 4].")
    build_ok(site)
    assert "Cited at paras. 1\u20134." in sources_list(site / "output")


@pytest.mark.parametrize(("locator", "message"), [
    ("paras. 2, 9", "is not in the archive of 'lw-harbour'"),
    ("paras. 1\u20132, 9", "is not in the archive of 'lw-harbour'"),
    ("paras. 2 and 9", "is not in the archive of 'lw-harbour'"),
    ("par. 9", "is not in the archive of 'lw-harbour'"),
    ("pars. 8-9", "is not in the archive of 'lw-harbour'"),
    ("para. -1", "names paragraphs, but not as this reads them"),
    ("paras. 3\u2013", "names paragraphs, but not as this reads them"),
    ("paras. 3\u20131", "runs backwards: write `paras. 1\u20133`"),
])
def test_every_paragraph_locator_is_checked_or_reported(tmp_path: Path, locator: str, message: str) -> None:
    site = site_with(tmp_path, f"The port reopened [@lw-harbour, {locator}].")
    result = run_cli("check", site)
    assert result.code == 1, result.stderr
    (line,) = error_lines(result.stderr)
    assert line.startswith("content/briefings/harbour.md:5:") and f"`{locator}` {message}" in line, line


def test_a_locator_listing_paragraphs_shows_each_passage_merged(tmp_path: Path) -> None:
    site = site_with(tmp_path, "It reopened [@lw-harbour, paras. 1, 3] and [@lw-harbour, para. 4.].")
    build_ok(site)
    assert "Cited at paras. 1, 3\u20134." in sources_list(site / "output")
    figures = page(site / "output", "2016/08/02/harbour/").find_all("figure", class_="source__passage")
    assert text_of(figures[0].find("blockquote")) == (
        "The harbour of Lindmark reopened on Tuesday after a strike that lasted three weeks. \u2026 "
        "Shipping firms said that delays would last until the end of the month.")


@pytest.mark.parametrize(("language", "shown"), [("fr", "Cité : par. 1, 3\u20134."),
                                                ("de", "Zitiert: Abs. 1, 3\u20134."),
                                                ("en", "Cited at paras. 1, 3\u20134.")])
def test_paragraphs_are_named_in_the_sites_language(tmp_path: Path, language: str, shown: str) -> None:
    config = DEFAULT_CONFIG.replace('language = "en"', f'language = "{language}"')
    site = site_with(tmp_path, "It reopened [@lw-harbour, \u00b6 1] and [@lw-harbour, paras. 3-4] "
                               "[@lw-harbour, paras. 1, 4].", config)
    build_ok(site)
    assert shown in sources_list(site / "output")


def test_sources_without_an_archive_are_not_checked(tmp_path: Path) -> None:
    site = site_with(tmp_path, 'Ferries were cut [@lw-ferries, para. 40], "a quote found nowhere" '
                               "[@lw-ferries].")
    result = build_ok(site)
    assert "warning" not in result.stderr
    assert "blockquote" not in (site / "output/2016/08/02/harbour/index.html").read_text("utf-8")


def test_other_locators_are_kept_but_not_checked(tmp_path: Path) -> None:
    site = site_with(tmp_path, "The port reopened [@lw-harbour, p. 12].")
    build_ok(site)
    assert "Cited at p. 12." in sources_list(site / "output")


def test_a_badly_numbered_archive_is_an_error_at_its_line(tmp_path: Path) -> None:
    broken = ARCHIVE.replace("3. Shipping", "5. Shipping")
    site = site_with(tmp_path, "Text [@lw-harbour].", archive=broken)
    result = run_cli("build", site)
    assert result.code == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith("content/archive/lw-harbour.md:14:1: error: ")
    assert "expected 3" in line


def test_an_archive_whose_id_is_not_its_file_name_is_an_error(tmp_path: Path) -> None:
    site = site_with(tmp_path, "Text [@lw-harbour].", archive=ARCHIVE.replace("id: lw-harbour", "id: other"))
    result = run_cli("check", site)
    assert result.code == 1
    assert "content/archive/lw-harbour.md:2:5: error: archive id 'other' does not match" in result.stderr


# ---------------------------------------------------------------- quotations


@pytest.mark.parametrize("quoted", [
    '"We are back to work"',
    "\u201cwe are  BACK to\nwork\u201d",  # case and white space, across a line break
    "\u00abthe cranes are moving again\u00bb",
    "\u201ethe cranes are moving again\u201c",
    "\u201cback to work \u2026 the cranes are moving\u201d",  # an elision
    "\u201cthe harbour of Lindmark reopened on Tuesday.\u201d",
    "\u2018back to work, and the cranes\u2019",  # British style
])
def test_quotations_found_in_the_archive_pass_silently(tmp_path: Path, quoted: str) -> None:
    site = site_with(tmp_path, f"The union leader said {quoted} on the quay [@lw-harbour].")
    result = build_ok(site)
    assert "warning" not in result.stderr, result.stderr


def test_quotations_are_compared_as_readers_see_them(tmp_path: Path) -> None:
    # The archive's own text, written with what a reader does not tell apart.
    archive = ARCHIVE.replace("3. Shipping firms said that delays",
                              "3. Ship\u00adping firms said\u200b that delays \u2014 "
                              "Lindmark\u2019s port\u2011side "
                              "[\u2018gate\u2019] budget_2024 \u2014 &c.")
    quotes = [
        "\u201cLindmark's port-side\u201d",  # modifier hyphen, curly apostrophe
        "\u201cdelays --- Lindmark\u2019s\u201d",  # "---" is the archive's em dash
        "\u201cLindmark\u2019s port\u2010side [\"gate\"]\u201d",  # inner quotes of the other kind
        "\u201c[Lindmark\u2019s](https://example.org/x) port-side\u201d",  # a link in the quotation
        "\u201cLindmark&rsquo;s port-side\u201d",  # an entity
        "\u201cbudget_2024\u201d",  # an underscore inside a word is no emphasis
        "\u201cthat *delays*\u201d",
    ]
    body = "\n\n".join(f"They said {q} [@lw-harbour]." for q in quotes)
    result = build_ok(site_with(tmp_path, body, archive=archive))
    assert "warning" not in result.stderr, result.stderr


@pytest.mark.parametrize(("quoted", "archived"), [
    ("legal under the charter", "illegal under the charter"),
    ("likely to agree", "unlikely to agree"),
    ("under the chart", "under the charter"),
])
def test_a_quotation_must_stand_in_the_archive_as_whole_words(tmp_path: Path, quoted: str,
                                                              archived: str) -> None:
    archive = ARCHIVE.replace("3. Shipping firms said", f"3. They called it {archived}. Shipping firms said")
    result = build_ok(site_with(tmp_path, f"They said \u201c{quoted}\u201d [@lw-harbour].", archive=archive))
    assert f"quotation \u201c{quoted}\u201d is not in the archived text" in result.stderr, result.stderr


def test_a_quotation_in_chinese_is_found_inside_a_run_of_characters(tmp_path: Path) -> None:
    archive = ARCHIVE.replace("3. Shipping firms said",
                              "3. \u6e2f\u53e3\u5468\u4e8c\u91cd\u65b0\u5f00\u653e\u3002 Shipping firms said")
    result = build_ok(site_with(tmp_path, "They said \u201c\u5468\u4e8c\u91cd\u65b0\u201d [@lw-harbour].",
                                archive=archive))
    assert "warning" not in result.stderr, result.stderr


def test_a_quotation_in_japanese_brackets_is_checked(tmp_path: Path) -> None:
    said = ("\u5927\u81e3\u306f\u300c\u9577\u304f\u8cbb\u7528\u306e\u304b\u304b\u308b\u4e89\u3044\u300d"
            "\u3068\u8ff0\u3079\u305f\u3002")
    archive = ARCHIVE.replace("3. Shipping firms said", f"3. {said} Shipping firms said")
    body = ("\u5927\u81e3\u306f\u300c\u9577\u304f\u8cbb\u7528\u306e\u304b\u304b\u308b\u4e89\u3044\u300d\u3068"
            "\u8ff0\u3079\u305f [@lw-harbour]\u3002\n\n"
            "\u307e\u305f\u300e\u77ed\u304f\u5b89\u3044\u4e89\u3044\u300f\u3068\u3082 [@lw-harbour]\u3002")
    result = build_ok(site_with(tmp_path, body, archive=archive))
    lines = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(lines) == 1 and "\u77ed\u304f\u5b89\u3044\u4e89\u3044" in lines[0], result.stderr


def test_a_misquotation_warns_at_the_quote_with_the_closest_passage(tmp_path: Path) -> None:
    body = ("The port reopened.\n"
            "The union leader said \u201cthe cranes are standing still\u201d [@lw-harbour].")
    site = site_with(tmp_path, body)
    result = build_ok(site)
    lines = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(lines) == 1, result.stderr
    column = body.splitlines()[1].index("\u201c") + 1
    assert lines[0].startswith(f"content/briefings/harbour.md:6:{column}: warning: quotation ")
    assert "the cranes are standing still" in lines[0]
    assert "closest passage (para. 2)" in lines[0]
    assert "the cranes are moving again" in lines[0]


@pytest.mark.parametrize(("misquoted", "shown"), [
    # Paragraph 2 opens with its own quote mark: shown as it is, not inside another pair.
    ("\u201cthe cranes are standing still\u201d",
     'closest passage (para. 2): "We are back to work, and the cranes'),
    ("\u201cdelays would last until the end of the year\u201d",
     "closest passage (para. 3): \u201cShipping firms said that delays would last until the end of the "
     "month.\u201d"),
])
def test_the_closest_passage_is_shown_in_one_pair_of_quote_marks(tmp_path: Path, misquoted: str,
                                                                  shown: str) -> None:
    result = build_ok(site_with(tmp_path, f"The union leader said {misquoted} [@lw-harbour]."))
    assert shown in result.stderr, result.stderr
    assert "\u201c\"" not in result.stderr and "\u201c\u201c" not in result.stderr


def test_single_typographic_quotes_keep_their_apostrophes(tmp_path: Path) -> None:
    result = build_ok(site_with(tmp_path, "She said \u2018the cranes don\u2019t move\u2019 [@lw-harbour]."))
    assert "quotation \u201cthe cranes don\u2019t move\u201d" in result.stderr, result.stderr


def test_a_single_mark_after_a_letter_opens_no_quotation() -> None:
    from briefgen.content.quotes import find_quotations

    text = "The band\u2019s fans\u2019 chant, \u2018back to work\u2019, rose at dawn [@a]."
    text = text.replace("band\u2019s", "band\u2018s")  # a mark typed the wrong way round
    cite = text.index("[@a]")
    found = find_quotations(text, [(cite, cite + 4, ("a",))], 1)
    assert [(q.text, q.column) for q in found] == [("back to work", text.index("\u2018b") + 1)]


def test_only_quotations_in_a_sentence_with_a_citation_are_checked(tmp_path: Path) -> None:
    body = ('Locals called it "a long summer of nothing". The harbour reopened [@lw-harbour]. '
            'A sailor said "nothing like this" yesterday.')
    result = build_ok(site_with(tmp_path, body))
    assert "warning" not in result.stderr, result.stderr


def test_a_citation_after_the_full_stop_belongs_to_the_sentence_before(tmp_path: Path) -> None:
    body = "The union said \u201cwe never stopped working.\u201d [@lw-harbour] Then it left."
    result = build_ok(site_with(tmp_path, body))
    assert "we never stopped working" in result.stderr


def test_quotations_in_code_are_not_checked(tmp_path: Path) -> None:
    body = 'The log read `"cranes stopped"` [@lw-harbour].'
    result = build_ok(site_with(tmp_path, body))
    assert "warning" not in result.stderr, result.stderr


def test_strict_quotes_makes_a_misquotation_an_error(tmp_path: Path) -> None:
    config = '[site]\ntitle = "T"\nbase_url = "https://example.org/"\n\n[build]\nstrict_quotes = true\n'
    site = site_with(tmp_path, "She said \u201cthe cranes are standing still\u201d [@lw-harbour].", config)
    result = run_cli("build", site)
    assert result.code == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith("content/briefings/harbour.md:5:10: error: quotation "), line
    assert not (site / "output").exists()


def test_strict_quotes_must_be_true_or_false(tmp_path: Path) -> None:
    config = '[site]\ntitle = "T"\n\n[build]\nstrict_quotes = "yes"\n'
    result = run_cli("check", site_with(tmp_path, "Text [@lw-harbour].", config))
    assert result.code == 1
    assert "briefgen.toml:5:1: error: build.strict_quotes must be true or false" in result.stderr


# ---------------------------------------------------------------- passages for readers


def test_each_locator_shows_its_passage_in_the_sources_list(tmp_path: Path) -> None:
    site = site_with(tmp_path, "It reopened [@lw-harbour, para. 1] and delays followed "
                               "[@lw-harbour, paras. 2\u20133].")
    build_ok(site)
    entry = page(site / "output", "2016/08/02/harbour/").find(id="source-1")
    figures = entry.find_all("figure", class_="source__passage")
    assert [text_of(f.find("figcaption")) for f in figures] == [
        "The source at para. 1:", "The source at paras. 2\u20133:"]
    quotes = [f.find("blockquote") for f in figures]
    assert text_of(quotes[0]) == ("The harbour of Lindmark reopened on Tuesday after a strike that "
                                  "lasted three weeks.")
    assert text_of(quotes[1]).startswith('"We are back to work')
    assert text_of(quotes[1]).endswith("until the end of the month.")
    assert quotes[0]["cite"] == "https://news.example.com/harbour"


def test_a_long_passage_is_cut_at_a_word_with_an_ellipsis(tmp_path: Path) -> None:
    long = " ".join(f"word{n}" for n in range(120))
    archive = ARCHIVE.replace("4. The port authority said", f"4. {long}. The port authority said")
    site = site_with(tmp_path, "It went on [@lw-harbour, para. 4].", archive=archive)
    build_ok(site)
    shown = text_of(page(site / "output", "2016/08/02/harbour/").find("blockquote"))
    assert shown.endswith("\u2026")
    assert 250 <= len(shown) <= 301
    assert re.fullmatch(r"(word\d+ )*word\d+\u2026", shown), shown


def test_the_archive_is_never_published(tmp_path: Path) -> None:
    site = site_with(tmp_path, "It reopened [@lw-harbour, para. 1].")
    build_ok(site)
    out = site / "output"
    everything = "".join(p.read_text("utf-8", errors="replace") for p in out.rglob("*") if p.is_file())
    assert "Shipping firms said" not in everything  # paragraph 3 is cited nowhere
    assert "sha256" not in everything
    assert not list(out.rglob("lw-harbour*"))


def test_archive_url_is_shown_as_an_archived_copy(tmp_path: Path) -> None:
    wayback = "https://web.archive.org/web/20160802120000/https://news.example.com/ferries"
    registry = REGISTRY.replace("  url: https://news.example.com/ferries\n",
                                f"  url: https://news.example.com/ferries\n  archive_url: {wayback}\n")
    site = make_site(tmp_path, {"content/sources/lindmark.yaml": registry,
                                "content/briefings/harbour.md": briefing("Cut [@lw-ferries].")})
    build_ok(site)
    link = page(site / "output", "2016/08/02/harbour/").find("a", class_="source__archive")
    assert link is not None and link["href"] == wayback
    assert text_of(link).lower() == "archived copy (external site)"


# ---------------------------------------------------------------- incremental builds


def test_an_archive_edit_re_renders_the_pages_that_cite_it(tmp_path: Path) -> None:
    site = site_with(tmp_path, "It reopened [@lw-harbour, para. 1].")
    (site / "content/briefings/other.md").write_text(
        "---\ntitle: Other\ndate: 2016-08-01\n---\nNo sources here.\n", "utf-8")
    build_ok(site)
    out = site / "output"
    other = out / "2016/08/01/other/index.html"
    before = other.stat().st_mtime_ns
    archive = site / "content/archive/lw-harbour.md"
    archive.write_text(archive.read_text("utf-8").replace("on Tuesday", "on Wednesday"), "utf-8")
    result = build_ok(site)
    assert "on Wednesday" in text_of(page(out, "2016/08/02/harbour/").find("blockquote"))
    assert other.stat().st_mtime_ns == before, "a page that cites no archive was rewritten"
    assert "unchanged" in result.stdout
    # And a locator the edited archive no longer has is found on the next build.
    archive.write_text(ARCHIVE.split("\n1. ")[0] + "\n", "utf-8")
    result = run_cli("build", site)
    assert result.code == 1 and "has no paragraphs" in result.stderr


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new), "utf-8")


def test_an_archive_edit_is_taken_in_place_and_every_build_after_it_ends_as_a_clean_one(
        tmp_path: Path) -> None:
    site = site_with(tmp_path, 'It reopened [@lw-harbour, para. 1]. "The cranes are moving again," '
                               'a union leader said [@lw-harbour]. Ferries wait [@lw-ferries, para. 1].')
    ferries = site / "content/archive/lw-ferries.md"
    ferries.write_text(ARCHIVE.replace("lw-harbour", "lw-ferries").replace(
        "The harbour of Lindmark reopened", "The ferries of Lindmark sailed"), "utf-8")
    (site / "content/briefings/other.md").write_text(
        "---\ntitle: Other\ndate: 2016-08-01\n---\nNo sources here.\n", "utf-8")
    archive = site / "content/archive/lw-harbour.md"
    out = site / "output"

    built = functools.partial(built_as_clean, site, tmp_path)

    built()
    other = out / "2016/08/01/other/index.html"
    before = other.stat().st_mtime_ns
    archive.write_text(archive.read_text("utf-8").replace("on Tuesday", "on Wednesday"), "utf-8")
    result = built()
    assert result.in_place and result.rendered >= 1
    assert "on Wednesday" in text_of(page(out, "2016/08/02/harbour/").find("blockquote"))
    assert other.stat().st_mtime_ns == before, "a page that cites no archive was rewritten"
    # An edit of the briefing after it, in place too, shows the passage as the archive has it now.
    body = site / "content/briefings/harbour.md"
    body.write_text(body.read_text("utf-8") + "\nMore text.\n", "utf-8")
    assert built().in_place
    assert "on Wednesday" in text_of(page(out, "2016/08/02/harbour/").find("blockquote"))
    # Another archive the briefing cites, then this one again: each edit in place reads the
    # ones before it from the last build's record.
    ferries.write_text(ferries.read_text("utf-8").replace("sailed", "stayed in port"), "utf-8")
    assert built().in_place
    archive.write_text(archive.read_text("utf-8").replace("on Wednesday", "on Thursday"), "utf-8")
    assert built().in_place
    assert "stayed in port" in sources_list(out)
    archive.write_text(archive.read_text("utf-8").replace("three weeks", "a month"), "utf-8")
    assert built().in_place
    assert "on Thursday" in text_of(page(out, "2016/08/02/harbour/").find("blockquote"))
    # An archive that no longer holds a quotation: a full build, which says so.
    edit(archive, "the cranes are moving", "the cranes are idle")
    result = built()
    assert not result.in_place
    assert any("The cranes are moving again" in str(w) for w in result.warnings)
    # Fixed again: a full build (the briefing had a warning, which may have gone), which says nothing.
    edit(archive, "the cranes are idle", "the cranes are moving")
    result = built()
    assert not result.in_place and not result.warnings


def test_a_briefings_locators_and_quotations_edited_are_checked_again_in_place(tmp_path: Path) -> None:
    site = site_with(tmp_path, 'It reopened [@lw-harbour, para. 1]. Delays go on [@lw-harbour, para. 3].')
    (site / "content/briefings/second.md").write_text(
        "---\ntitle: Second\ndate: 2016-08-03\n---\nAgain [@lw-harbour, para. 1].\n", "utf-8")
    body = site / "content/briefings/harbour.md"
    out = site / "output"
    built = functools.partial(built_as_clean, site, tmp_path)
    built()
    # Another paragraph: the passage it points at is shown, the one it left is no longer kept
    # (no other briefing points at it); para. 1, which the second briefing cites, stays.
    edit(body, "para. 3]", "para. 4]")
    assert built().in_place
    assert "new schedule for container ships" in sources_list(out)
    edit(body, "It reopened [@lw-harbour, para. 1]", "It reopened [@lw-harbour]")
    assert built().in_place
    # A quotation the archive holds, then one it does not: a full build, which warns.
    edit(body, "It reopened [@lw-harbour].", '"The cranes are moving again," a leader said [@lw-harbour].')
    assert built().in_place
    edit(body, "moving again", "idle again")
    result = built()
    assert not result.in_place and any("The cranes are idle again" in str(w) for w in result.warnings)
    edit(body, "idle again", "moving again")
    result = built()
    assert not result.in_place and not result.warnings  # it had a warning, which may have gone
    # A locator past the archive's end: the full build fails at it, and keeps the output.
    edit(body, "para. 4]", "para. 9]")
    before = (out / "2016/08/02/harbour/index.html").read_bytes()
    failed = run_cli("build", site)
    assert failed.code == 1 and "harbour.md:5:" in failed.stderr and "para. 9" in failed.stderr, failed.stderr
    assert (out / "2016/08/02/harbour/index.html").read_bytes() == before
    edit(body, "para. 9]", "paras. 2-3]")
    built()
    edit(body, "paras. 2-3]", "para. 2]")
    assert built().in_place


def test_sources_added_with_their_archives_are_taken_in_place(tmp_path: Path) -> None:
    site = site_with(tmp_path, "It reopened [@lw-harbour, para. 1]. Ferries wait [@lw-ferries, para. 1].")
    built = functools.partial(built_as_clean, site, tmp_path)
    built()
    out = site / "output"
    # What `briefgen source add` does: an entry added to a registry, and an archive beside it.
    registry = site / "content/sources/lindmark.yaml"
    registry.write_text(REGISTRY + "- id: lw-bridge\n  title: Bridge closed\n  publisher: Lindmark Wire\n"
                        "  url: https://news.example.com/bridge\n", "utf-8")
    bridge = ARCHIVE.replace("lw-harbour", "lw-bridge").replace("The harbour of", "The bridge of")
    (site / "content/archive/lw-bridge.md").write_text(bridge, "utf-8")
    result = built()
    assert result.in_place and result.rendered == 0
    # A registry of its own, as for a new publisher.
    (site / "content/sources/other.yaml").write_text(
        "- id: ow-rail\n  title: Rail strike\n  publisher: Other Wire\n  url: https://other.example.com/rail\n",
        "utf-8")
    assert built().in_place
    # The first archive of a source the briefing cites: its passage is shown now.
    ferries = ARCHIVE.replace("lw-harbour", "lw-ferries").replace("The harbour of Lindmark reopened",
                                                                  "The ferries of Lindmark sailed")
    (site / "content/archive/lw-ferries.md").write_text(ferries, "utf-8")
    assert built().in_place
    assert "The ferries of Lindmark sailed" in sources_list(out)
    # The briefing cites the new source, of a publisher with a page: in place too.
    body = site / "content/briefings/harbour.md"
    edit(body, "Ferries wait", "The bridge shut [@lw-bridge, para. 1]. Ferries wait")
    assert built().in_place
    assert "The bridge of Lindmark" in sources_list(out)
    # One of a publisher no briefing cited yet, whose page comes with it: a full build.
    edit(body, "Ferries wait", "Trains stopped [@ow-rail]. Ferries wait")
    assert not built().in_place
    edit(body, "Trains stopped [@ow-rail]. ", "")
    assert not built().in_place  # and goes
    # A source changed, or one taken out of the registry: a full build.
    edit(registry, 'title: "Ferry timetable cut"', 'title: "Ferry timetable cut again"')
    assert not built().in_place
    (site / "content/sources/other.yaml").write_text("[]\n", "utf-8")
    assert not built().in_place
    # A file removed, in the same save as a source added: a full build.
    (site / "content/archive/lw-bridge.md").unlink()
    with open(registry, "a", encoding="utf-8") as stream:
        stream.write("- id: lw-quay\n  title: Quay\n  publisher: Lindmark Wire\n  url: https://news.example.com/quay\n")
    assert not built().in_place
    assert "The bridge of Lindmark" not in sources_list(out)
    # An archive of a source no registry declares: a full build, which warns of it.
    (site / "content/archive/lw-orphan.md").write_text(ARCHIVE.replace("lw-harbour", "lw-orphan"), "utf-8")
    result = built()
    assert not result.in_place and any("lw-orphan" in str(w) for w in result.warnings)


def test_a_registry_declaring_a_source_twice_alike_still_takes_sources_added_in_place(tmp_path: Path) -> None:
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.diagnostics import BuildFailed

    site = site_with(tmp_path, "It reopened [@lw-harbour, para. 1].")
    registry = site / "content/sources/lindmark.yaml"
    harbour = REGISTRY.split("- id: lw-ferries")[0]
    registry.write_text(REGISTRY + harbour, "utf-8")  # lw-harbour twice, alike: one source
    built = functools.partial(built_as_clean, site, tmp_path)
    built()
    bridge = "- id: lw-bridge\n  title: Bridge closed\n  publisher: Lindmark Wire\n  url: https://news.example.com/bridge\n"
    registry.write_text(REGISTRY + harbour + bridge, "utf-8")
    assert built().in_place
    # Entries moved down (the model keeps where each source is declared): a full build.
    registry.write_text(harbour + REGISTRY + bridge, "utf-8")
    assert not built().in_place
    # Declared again with other fields: an error, reported by the full build it makes.
    registry.write_text(REGISTRY + harbour.replace("after strike", "after a strike") + bridge, "utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(site, BuildOptions(jobs=1))
    assert "source id 'lw-harbour' is also declared at content/sources/lindmark.yaml:1:" in str(failed.value)


def test_a_full_build_checks_against_the_archives_only_the_briefings_no_build_has_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.build.store import STORE, Store
    from briefgen.diagnostics import BuildFailed

    site = site_with(tmp_path, 'It reopened [@lw-harbour, para. 1]. "The cranes are standing still," '
                               'a union leader said [@lw-harbour].')
    briefings = site / "content/briefings"
    (briefings / "other.md").write_text(
        "---\ntitle: Other\ndate: 2016-08-01\n---\nShips wait [@lw-harbour, para. 3].\n", "utf-8")
    checked = noting_checks(monkeypatch)

    def checked_by(options: BuildOptions | None = None) -> tuple[list[str], list[str]]:
        """The briefings a build checked, and its warnings."""
        checked.clear()
        result = build(site, options or BuildOptions(jobs=1))
        return sorted(checked), [str(w) for w in result.warnings]

    def added(name: str, day: int) -> None:
        """A briefing dated among the others: the next build is a full one."""
        (briefings / name).write_text(
            f"---\ntitle: {name}\ndate: 2016-07-{day:02}\n---\nFerries wait [@lw-harbour, para. 4].\n",
            "utf-8")

    everyone, warnings = checked_by()
    assert everyone == ["content/briefings/harbour.md", "content/briefings/other.md"]
    assert len(warnings) == 1 and "The cranes are standing still" in warnings[0]
    # A briefing added: only it is checked; the others' warning and passages are as a check
    # from nothing finds them.
    added("new.md", 1)
    assert checked_by() == (["content/briefings/new.md"], warnings)
    assert "new schedule for container ships" in text_of(page(site / "output", "2016/07/01/new-md/"))
    built_as_clean(site, tmp_path)
    assert "reopened on Tuesday" in sources_list(site / "output")
    # The archive changed and a briefing added in one build: every briefing against it anew.
    edit(site / "content/archive/lw-harbour.md", "on Tuesday", "on Monday")
    added("newer.md", 2)
    names = ("harbour", "new", "newer", "other")
    assert checked_by()[0] == [f"content/briefings/{name}.md" for name in names]
    built_as_clean(site, tmp_path)
    assert "reopened on Monday" in sources_list(site / "output")
    # Misquotations made errors: nothing is taken from checks that made them warnings.
    (briefings / "newer.md").unlink()
    strict = site / "strict.toml"
    strict.write_text((site / "briefgen.toml").read_text("utf-8") + "strict_quotes = true\n", "utf-8")
    with pytest.raises(BuildFailed) as failed:
        checked_by(BuildOptions(jobs=1, config=strict))
    assert sorted(checked) == [f"content/briefings/{name}.md" for name in ("harbour", "new", "other")]
    assert any("The cranes are standing still" in str(d) for d in failed.value.diagnostics)
    # Damaged rows of kept checks: every briefing is checked, and nothing else is amiss.
    store = Store(site / ".briefgen-cache" / STORE)
    try:
        store.write_state({f"checks/{bucket}": "damaged" for bucket in range(64)})
    finally:
        store.close()
    assert checked_by()[0] == [f"content/briefings/{name}.md" for name in ("harbour", "new", "other")]
    built_as_clean(site, tmp_path)
    # A build without the cache checks every briefing, and warns as the others did.
    assert checked_by(BuildOptions(jobs=1, use_cache=False, output=tmp_path / "nocache")) == (
        [f"content/briefings/{name}.md" for name in ("harbour", "new", "other")], warnings)


def test_check_runs_the_archive_checks_and_writes_nothing(tmp_path: Path) -> None:
    site = site_with(tmp_path, "It reopened [@lw-harbour, para. 9].")
    result = run_cli("check", site)
    assert result.code == 1 and "`para. 9` is not in the archive" in result.stderr
    assert not (site / "output").exists()


# ---------------------------------------------------------------- the live preview


def test_the_live_preview_follows_archive_edits(tmp_path: Path) -> None:
    from briefgen.build.options import BuildOptions
    from briefgen.diagnostics import BuildFailed
    from briefgen.serve.session import Session

    site = site_with(tmp_path, "It reopened [@lw-harbour, para. 1].\n\nMore text.")
    session = Session(site, BuildOptions(drafts=True, use_cache=False))
    session.rebuild()
    archive = site / "content/archive/lw-harbour.md"
    archive.write_text(archive.read_text("utf-8").replace("on Tuesday", "on Wednesday"), "utf-8")
    result = session.rebuild([archive])
    page_file = "2016/08/02/harbour/index.html"
    assert page_file in result.changed_files
    assert b"on Wednesday" in session.pages[page_file]
    # A body edit that moves a locator past the archive takes the checked path, not the fast one.
    body = site / "content/briefings/harbour.md"
    body.write_text(body.read_text("utf-8").replace("para. 1]", "para. 8]"), "utf-8")
    with pytest.raises(BuildFailed, match=r"para\. 8"):
        session.rebuild([body])
    # And so does a new misquotation.
    body.write_text(body.read_text("utf-8").replace("para. 8]", "para. 1]").replace(
        "More text.", "They said \u201cnothing of the sort\u201d [@lw-harbour]."), "utf-8")
    result = session.rebuild([body])
    assert any("nothing of the sort" in str(w) for w in result.warnings)


def test_the_live_preview_takes_a_source_added_and_then_a_briefing_citing_it(tmp_path: Path) -> None:
    from briefgen.build.options import BuildOptions
    from briefgen.serve.session import Session

    site = site_with(tmp_path, "It reopened [@lw-harbour, para. 1].")
    session = Session(site, BuildOptions(drafts=True, use_cache=False))
    session.rebuild()
    registry = site / "content/sources/lindmark.yaml"
    with open(registry, "a", encoding="utf-8") as stream:
        stream.write("- id: lw-bridge\n  title: Bridge closed\n  publisher: Lindmark Wire\n"
                     "  url: https://news.example.com/bridge\n")
    archive = site / "content/archive/lw-bridge.md"
    archive.write_text(ARCHIVE.replace("lw-harbour", "lw-bridge").replace("The harbour of", "The bridge of"),
                       "utf-8")
    result = session.rebuild([registry, archive])
    assert not result.changed_files and not result.warnings
    body = site / "content/briefings/harbour.md"
    edit(body, "It reopened", "The bridge shut [@lw-bridge, para. 1]. It reopened")
    result = session.rebuild([body])
    page_file = "2016/08/02/harbour/index.html"
    assert page_file in result.changed_files
    assert b"The bridge of Lindmark" in session.pages[page_file]


def test_an_archive_of_an_undeclared_source_is_a_warning(tmp_path: Path) -> None:
    site = site_with(tmp_path, "Text [@lw-harbour].")
    orphan = ARCHIVE.replace("id: lw-harbour", "id: lw-orphan")
    (site / "content/archive/lw-orphan.md").write_text(orphan, "utf-8")
    (site / "content/archive/old").mkdir()
    (site / "content/archive/old/lw-harbour.md").write_text(ARCHIVE, "utf-8")
    result = run_cli("check", site)
    assert result.code == 1
    assert ("content/archive/lw-orphan.md:2:5: warning: archive for 'lw-orphan', a source no registry "
            "or briefing declares") in result.stderr
    (line,) = error_lines(result.stderr)
    assert "a second archive for 'lw-harbour'" in line


def test_a_bad_locator_in_a_footnote_is_reported_where_it_is_written(tmp_path: Path) -> None:
    """Footnotes are converted after the body: a citation in one is still found at its own line,
    not at a later citation of the same source."""
    body = ("It reopened [@lw-harbour, para. 1].[^n]\n\n"
            "[^n]: A note citing [@lw-harbour, para. 9].\n\n"
            "Delays followed [@lw-harbour, para. 3].")
    site = site_with(tmp_path, body)
    result = run_cli("check", site)
    assert result.code == 1, result.stderr
    (line,) = error_lines(result.stderr)
    column = body.splitlines()[2].index("lw-harbour, para. 9") + 1  # its id, as every citation's
    assert line.startswith(f"content/briefings/harbour.md:7:{column}:"), line
    assert "`para. 9` is not in the archive" in line


def test_a_quotation_is_read_without_its_footnote_references_and_citations(tmp_path: Path) -> None:
    """They are the curator's, not the source's: a quotation holding one matched nothing."""
    body = ("The union said \u201cthe cranes[^1] are moving again\u201d [@lw-harbour].\n\n"
            "It said \u201cthe cranes are moving [@lw-harbour, para. 2] again\u201d.\n\n"
            "[^1]: At the container terminal.")
    result = build_ok(site_with(tmp_path, body))
    assert "warning" not in result.stderr, result.stderr
    # And a quotation that is not there is still found out, marker or not.
    result = build_ok(site_with(tmp_path, "It said \u201cthe cranes[^1] are resting\u201d [@lw-harbour]."
                                          "\n\n[^1]: Note."))
    assert "quotation \u201cthe cranes are resting\u201d is not in the archived text" in result.stderr


def test_control_characters_in_an_archive_are_blanked_with_a_warning(tmp_path: Path) -> None:
    """A pasted text's escape sequences reached the page (and, in a warning, the terminal)."""
    archive = ARCHIVE.replace("the union leader, Ana Berg.", "the union leader,\x1b]0;x\x07 Ana Berg.")
    site = site_with(tmp_path, "It reopened [@lw-harbour, para. 2].", archive=archive)
    result = build_ok(site)
    assert "content/archive/lw-harbour.md:12:82: warning: control character U+001B removed" in result.stderr
    html = (site / "output/2016/08/02/harbour/index.html").read_text("utf-8")
    assert "union leader," in html and "\x1b" not in html and "\x07" not in html
