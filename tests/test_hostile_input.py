"""Hostile and careless input: every bad value is a located error or a usage
error, never a traceback, and every output format stays writable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import feedparser
import pytest

from tests.conftest import REPO, build_ok, error_lines, make_site, page, run_cli

BRIEFING = """\
---
title: {title}
date: {date}
topics: [Energy]
summary: A summary.
---
{body}
"""


def briefing(title: str = '"Ports reopen"', date: str = "2016-08-02", body: str = "Text.") -> str:
    return BRIEFING.format(title=title, date=date, body=body)


def no_traceback(result: object) -> None:
    assert "Traceback" not in result.stderr, result.stderr  # type: ignore[attr-defined]


# ---------------------------------------------------------------- base URLs


@pytest.mark.parametrize("value", [
    "pr-42--site.netlify.app", "javascript:alert(1)//", "https://example.org/?x=1",
    "https://example.org/#top", "https://exa mple.org/", "https://example.org:99999/", "ftp://example.org/",
])
def test_bad_base_url_option_is_a_usage_error_naming_it(tmp_path: Path, value: str) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing()})
    result = run_cli("build", site, "--base-url", value)
    assert result.code == 2, result.stderr
    assert value in result.stderr
    no_traceback(result)
    assert not (site / "output").exists()


def test_publish_checks_base_url_before_writing(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing()})
    result = run_cli("publish", site, "--dir", tmp_path / "pub", "--base-url", "javascript:x")
    assert result.code == 2 and "javascript:x" in result.stderr
    assert not (tmp_path / "pub").exists() and not (site / "output").exists()


def test_good_base_url_option_is_used(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing()})
    build_ok(site, "--base-url", "https://pr-42--site.netlify.app/sub")
    canonical = page(site / "output", "2016/08/02/ports-reopen/").find("link", rel="canonical")
    assert canonical["href"] == "https://pr-42--site.netlify.app/sub/2016/08/02/ports-reopen/"


@pytest.mark.parametrize("value", [
    "https://example.org/?a=b", "https://example.org/#x", "https://exa mple.org/",
    "https://example.org:99999/", "example.org",
])
def test_bad_base_url_in_config_is_located(tmp_path: Path, value: str) -> None:
    config = f'[site]\ntitle = "T"\nbase_url = "{value}"\n'
    site = make_site(tmp_path, {"content/briefings/a.md": briefing()}, config=config)
    result = run_cli("build", site)
    assert result.code == 1
    assert any(line.startswith("briefgen.toml:3:1: error: site.base_url")
               for line in error_lines(result.stderr)), result.stderr
    no_traceback(result)


def test_source_url_uses_the_same_validator(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "content/sources/s.yaml": '- id: a\n  title: T\n  publisher: P\n  url: "https://exa mple.org/x"\n',
        "content/briefings/a.md": briefing(body="Text [@a]."),
    })
    result = run_cli("check", site)
    assert result.code == 1
    assert any(line.startswith("content/sources/s.yaml:4:8: error: `url`")
               for line in error_lines(result.stderr)), result.stderr


# ---------------------------------------------------------------- control characters


@pytest.mark.parametrize("char", ["\x0c", "\x0b", "\x1b", "\x00", "\ufffe", "\x01"])
def test_control_character_in_body_builds_with_a_warning(tmp_path: Path, char: str) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing(body=f"Before{char}after.")})
    result = build_ok(site)
    assert f"content/briefings/a.md:7:7: warning: control character U+{ord(char):04X}" in result.stderr
    feed = feedparser.parse((site / "output" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert "Before after." in feed.entries[0].content[0].value
    json.loads((site / "output" / "feed.json").read_bytes())
    assert "Before after." in page(site / "output", "2016/08/02/ports-reopen/").get_text()


@pytest.mark.parametrize("title", [r'"A\x01B"', r'"A\u001bB"', r'"A\uFFFEB"'])
def test_control_character_in_title_is_a_located_error_in_check_and_build(tmp_path: Path, title: str) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing(title=title)})
    for command in ("check", "build"):
        result = run_cli(command, site)
        assert result.code == 1, (command, result.stderr)
        assert any(line.startswith("content/briefings/a.md:2:8: error: `title` contains the control")
                   for line in error_lines(result.stderr)), result.stderr
        no_traceback(result)
    assert not (site / "output").exists()


def test_control_character_in_topic_and_config_title(tmp_path: Path) -> None:
    text = briefing().replace("topics: [Energy]", 'topics: ["En\\x07ergy"]')
    config = '[site]\ntitle = "T\\u0002"\n'
    site = make_site(tmp_path, {"content/briefings/a.md": text}, config=config)
    result = run_cli("check", site)
    assert result.code == 1
    assert any(line.startswith("briefgen.toml:2:1: error: site.title contains the control character U+0002")
               for line in error_lines(result.stderr)), result.stderr
    site2 = make_site(tmp_path / "b", {"content/briefings/a.md": text})
    result = run_cli("check", site2)
    assert any(line.startswith("content/briefings/a.md:4:10: error: `topics` contains the control")
               for line in error_lines(result.stderr)), result.stderr


@pytest.mark.parametrize("title", ["a\x01b", "a\nb", "a\x1bb"])
def test_new_refuses_a_title_with_control_characters(tmp_path: Path, title: str) -> None:
    site = make_site(tmp_path, {})
    result = run_cli("new", title, "--site", site)
    assert result.code == 2, result.stderr
    no_traceback(result)
    assert not (site / "content").exists()


@pytest.mark.parametrize("title", ['back\\slash "quoted"', "tab\there", "Ünïcode ✓"])
def test_init_title_is_written_as_valid_toml(tmp_path: Path, title: str) -> None:
    result = run_cli("init", tmp_path / "new", "--title", title)
    assert result.code == 0, result.stderr
    config = tomllib.loads((tmp_path / "new" / "briefgen.toml").read_text(encoding="utf-8"))
    assert config["site"]["title"] == title
    build_ok(tmp_path / "new")


def test_init_refuses_a_title_with_a_line_break(tmp_path: Path) -> None:
    result = run_cli("init", tmp_path / "new", "--title", "two\nlines")
    assert result.code == 2
    assert not (tmp_path / "new").exists()


# ---------------------------------------------------------------- dates at the edge


@pytest.mark.parametrize("value", [
    "0001-01-01T00:00:00+03:00", "9999-12-31T23:00:00-05:00", "0001-01-01", "9999-12-31",
    '"0001-01-01T00:00:00+03:00"',
])
def test_dates_at_the_edge_are_located_errors(tmp_path: Path, value: str) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing(date=value)})
    for command in ("check", "build"):
        result = run_cli(command, site)
        assert result.code == 1, (command, result.stderr)
        assert any(line.startswith("content/briefings/a.md:3:7: error: `date`")
                   for line in error_lines(result.stderr)), result.stderr
        no_traceback(result)


def test_dates_with_offsets_inside_the_range_build(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing(date="0002-01-01T00:00:00+14:00")},
                     config='[site]\ntitle = "T"\ntimezone = "Pacific/Kiritimati"\n')
    build_ok(site)
    feed = feedparser.parse((site / "output" / "feed.xml").read_bytes())
    assert not feed.bozo


# ---------------------------------------------------------------- Markdown edge cases

SOURCE = "- id: src-a\n  title: T\n  publisher: P\n  url: https://example.org/a\n"


def test_citation_inside_a_link_is_not_a_link_inside_a_link(tmp_path: Path) -> None:
    body = "See [the report [@src-a] today](https://example.org/r) now."
    site = make_site(tmp_path, {"content/sources/s.yaml": SOURCE,
                                "content/briefings/a.md": briefing(body=body)})
    build_ok(site)
    article = page(site / "output", "2016/08/02/ports-reopen/")
    for link in article.find_all("a"):
        assert link.find("a") is None, link
    report = article.find("a", href="https://example.org/r")
    assert report.get_text() == "the report today"
    cite = report.find_next_sibling("sup")
    assert cite is not None and cite.a["href"] == "#source-1"


@pytest.mark.parametrize("before", ["    code [@ghost]\n", "<div>[@ghost]</div>\n"])
def test_missing_source_is_reported_where_it_is_cited(tmp_path: Path, before: str) -> None:
    """An indented code block's is code; an HTML block's is no citation either, but an error of
    its own (Markdown does not read it there), which leaves the briefing out of the checks
    across files, as any error of its text does."""
    body = f"First.\n\n{before}\nReal [@ghost]."
    site = make_site(tmp_path, {"content/briefings/a.md": briefing(body=body)})
    result = run_cli("check", site)
    assert result.code == 1
    (line,) = error_lines(result.stderr)
    if before.startswith("<div>"):
        assert line == ("content/briefings/a.md:9:8: error: the citation of 'ghost' is inside HTML or "
                        "an image's text, where it cannot be a citation: move it out (after the "
                        "closing tag, or after the image)"), result.stderr
    else:
        assert line.startswith("content/briefings/a.md:11:8: error: cited source 'ghost'"), result.stderr


@pytest.mark.parametrize("marker", ["[@Upper]", "[@ a]", "[@a;;@b]"])
def test_malformed_citations_warn_where_they_are(tmp_path: Path, marker: str) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing(body=f"Claim {marker}.\n\n`{marker}`")})
    result = build_ok(site)
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 1, result.stderr  # the one in a code span is not reported
    assert warnings[0].startswith(f"content/briefings/a.md:7:7: warning: {marker!r} is not a citation")


@pytest.mark.parametrize(("body", "at"), [
    ("".join("  " * i + "- x\n" for i in range(400)), 88),
    ("".join("    " * i + "- x\n" for i in range(400)), 48),
])
def test_deeply_nested_lists_are_a_located_error(tmp_path: Path, body: str, at: int) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing(body=body),
                                "content/briefings/b.md": briefing(title="Fine", body="Fine text.")})
    for command in ("check", "build"):
        result = run_cli(command, site)
        assert result.code == 1 and "Traceback" not in result.stderr, result.stderr
        (line,) = error_lines(result.stderr)
        assert line.startswith(f"content/briefings/a.md:{at}:1: error: the text nests lists")


def test_deeply_nested_quotes_are_a_located_error_quickly(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing(body="Intro.\n\n" + "> " * 3000 + "x")})
    result = run_cli("check", site, timeout=30)
    (line,) = error_lines(result.stderr)
    assert line.startswith("content/briefings/a.md:9:1: error: the text nests lists")


# ---------------------------------------------------------------- files that are not plain files


def test_symlink_loops_are_reported_together_with_positions(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing()})
    (site / "content/briefings/loop.md").symlink_to("loop.md")
    (site / "content/sources").mkdir()
    (site / "content/sources/s.yaml").symlink_to("s.yaml")
    result = run_cli("build", site)
    assert result.code == 1 and "Traceback" not in result.stderr
    errors = error_lines(result.stderr)
    assert "content/briefings/loop.md:1:1: error: cannot read this file: Too many levels of symbolic links" \
        in errors, result.stderr
    assert any(line.startswith("content/sources/s.yaml:1:1: error: cannot read") for line in errors)


def test_a_fifo_named_briefgen_toml_is_an_error_not_a_hang(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing()})
    (site / "briefgen.toml").unlink()
    os.mkfifo(site / "briefgen.toml")
    for command in ("build", "check"):
        result = run_cli(command, site, timeout=20)
        assert result.code == 1
        assert "briefgen.toml:1:1: error: briefgen.toml is not a regular file" in result.stderr


def test_a_fifo_among_briefings_does_not_hang_the_build(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing()})
    os.mkfifo(site / "content/briefings/pipe.md")
    build_ok(site)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run briefgen as a user who cannot read a file")
def test_an_unreadable_file_is_reported_with_the_others(tmp_path: Path) -> None:
    base = Path(tempfile.mkdtemp(prefix="briefgen-unreadable-"))
    try:
        base.chmod(0o755)
        site = make_site(base, {"content/briefings/a.md": briefing(),
                                "content/briefings/b.md": briefing(title="B", date="nope")})
        for path in [site, *site.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (site / "content/briefings/a.md").chmod(0)
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                   sys.executable, "-m", "briefgen", "check", str(site)]
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        errors = error_lines(result.stderr)
        assert "content/briefings/a.md:1:1: error: cannot read this file: Permission denied" in errors, \
            result.stderr
        assert any(line.startswith("content/briefings/b.md:3:7: error: `date`") for line in errors)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_file_deleted_by_hand_from_the_output_is_restored(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": briefing()})
    build_ok(site)
    built = site / "output" / "2016/08/02/ports-reopen/index.html"
    original = built.read_bytes()
    built.unlink()
    build_ok(site)
    assert built.read_bytes() == original


def test_check_finds_what_only_rendering_meets(tmp_path: Path) -> None:
    template = ('{% extends "base.html" %}\n{% block content %}\n'
                "<p>{{ briefing.no_such_field.here }}</p>\n{% endblock %}\n")
    site = make_site(tmp_path, {"content/briefings/a.md": briefing(), "templates/briefing.html": template})
    build = run_cli("build", site)
    check = run_cli("check", site)
    assert build.code == check.code == 1
    assert error_lines(check.stderr) == error_lines(build.stderr)
    assert error_lines(check.stderr)[0].startswith("templates/briefing.html:3:")
    assert not (site / "output").exists()


NINES = "9" * 5000


@pytest.mark.parametrize(("files", "expected"), [
    # A range of a hundred million pages is one span, not a hundred million numbers in memory.
    ({"content/briefings/a.md": briefing(body="Claim [@src-a, p. 1-100000000].")}, None),
    ({"content/briefings/a.md": briefing(body=f"Claim [@src-a, para. {NINES}].")}, None),
    ({"content/briefings/a.md": briefing(body=f"Claim [@src-a, p. 1{'1' * 30000}x].")}, None),
    ({"content/briefings/a.md": briefing(body="Claim [@csl-a]."), "content/sources/r.json":
      '[{"id": "csl-a", "title": "T", "container-title": "P", "URL": "https://e.org/", '
      '"issued": {"date-parts": [[' + NINES + ", 1, 1]]}}]"},
     "content/sources/r.json:1:108: error: invalid JSON: Exceeds the limit (4300 digits)"),
    ({"content/briefings/a.md": briefing(body="Claim [@csl-a]."), "content/sources/r.json": "[" * 5000},
     "content/sources/r.json:1:102: error: invalid JSON: nested more than 100 levels deep"),
    ({"content/briefings/a.md": briefing(body="Claim [@bib-a]."), "content/sources/r.bib":
      "@article{bib-a,\n title={T},\n journal={P},\n url={https://e.org/},\n year={2016},\n"
      " month={" + NINES + "}, day={1}\n}\n"},
     "content/sources/r.bib:1:1: error: cannot read this BibTeX file: Exceeds the limit (4300 digits)"),
])
def test_numbers_too_long_and_values_too_deep_are_errors_not_tracebacks(
        tmp_path: Path, files: dict[str, str], expected: str | None) -> None:
    site = make_site(tmp_path, {"content/sources/s.yaml": SOURCE, **files})
    result = run_cli("build", site, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if expected is None:
        assert result.code == 0, result.stderr
    else:
        assert result.code == 1 and expected in result.stderr, result.stderr


@pytest.mark.parametrize("body", [
    "<div>\n" + "[@" * 30000 + "\n</div>",  # unclosed citations
    "Claim [@src-a, x" + " " * 100000 + "y].",  # a locator's run of spaces
    "".join("a" + "`" * n for n in range(1, 600)),  # backtick runs never closed
    "\u4e2d " + "!" * 100000,  # a CJK text's long run of punctuation
    "He said \u201cthe port is shut\u201d [@src-a].\n\n<div>" + "{" * 100000 + "</div>",  # unclosed braces
    "\u201cabcd\u201d [@src-a]. " * 14000,  # thousands of cited quotations
    "[a](https://e.org/) " * 6000,  # thousands of links in one paragraph
    "[" * 30000 + "]" * 30000,  # link texts nested thousands deep
    "<div>\n" + "x [@src-a] y\n" * 60000 + "</div>",  # tens of thousands of citations Markdown does not read
])
def test_hostile_bodies_build_in_time_linear_in_their_size(tmp_path: Path, body: str) -> None:
    """Each took from tens of seconds to minutes (a regex or a loop quadratic in the body); now
    each builds in about a second: the timeout leaves room for a slow machine, not for the old
    behaviour."""
    site = make_site(tmp_path, {"content/sources/s.yaml": SOURCE,
                                "content/briefings/a.md": briefing(body=body)})
    result = run_cli("build", site, timeout=20)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.code in (0, 1), result.stderr[-2000:]


def test_content_folders_nested_deep_or_linked_many_times_over_are_walked_once(tmp_path: Path) -> None:
    """A thousand nested folders stopped the walk with a RecursionError; a chain of folders each
    linking twice to the next was walked once per path (2**18 walks from 36 links)."""
    site = make_site(tmp_path, {"content/sources/s.yaml": SOURCE,
                                "content/briefings/a.md": briefing(body="Claim [@src-a].")})
    deep = site / "content/briefings" / "/".join(["d"] * 1100)
    subprocess.run(["mkdir", "-p", str(deep)], check=True)  # os.makedirs recurses a level a call
    (deep / "b.md").write_text(briefing(title='"Deep down"', body="Deep."), "utf-8")
    chain = tmp_path / "chain"
    for level in range(18):
        (chain / str(level)).mkdir(parents=True)
        for side in ("x", "y"):
            (chain / str(level) / side).symlink_to(chain / str(level + 1), target_is_directory=True)
    (chain / "18").mkdir()
    (chain / "18/c.md").write_text(briefing(title='"At the end"', body="End."), "utf-8")
    (site / "content/briefings/chain").symlink_to(chain / "0", target_is_directory=True)
    try:
        result = run_cli("build", site, timeout=30)
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
        assert result.code == 0, result.stderr
        assert (site / "output/2016/08/02/deep-down/index.html").is_file()
        assert (site / "output/2016/08/02/at-the-end/index.html").is_file()
    finally:
        # Python's shutil.rmtree, as pytest cleans its folders with, recurses a level a call.
        subprocess.run(["rm", "-rf", str(site / "content/briefings/d")], check=True)
