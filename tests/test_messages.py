"""The messages a newcomer meets first: plain words, the offending line, what to do."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import build_ok, error_lines, make_site, run_cli

SOURCES = """\
- id: mt-kerry-restraint
  title: "Restraint"
  publisher: Example Times
  url: https://example.org/a
"""


def doc(front: str, body: str = "Text.") -> str:
    return f"---\n{front}---\n{body}\n"


def lines_with(stderr: str, kind: str) -> list[str]:
    return [line for line in stderr.splitlines() if f": {kind}: " in line]


def test_tab_in_yaml_says_use_spaces_and_shows_the_line(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": doc("title: T\n\tdate: 2016-08-02\n")})
    result = run_cli("check", site)
    assert result.code == 1
    assert "content/briefings/a.md:3:1: error: YAML does not allow tabs for indentation; use spaces" \
        in result.stderr
    lines = result.stderr.splitlines()
    at = next(i for i, line in enumerate(lines) if "tabs for indentation" in line)
    assert lines[at + 1].strip() == "date: 2016-08-02" and lines[at + 2].strip() == "^"


def test_unquoted_colon_says_quote_the_value(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": doc("title: Syria: talks\ndate: 2016-08-02\n")})
    result = run_cli("check", site)
    assert result.code == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith("content/briefings/a.md:2:13: error:") and "quote the value" in line
    assert "title: Syria: talks" in result.stderr and "            ^" in result.stderr


def test_duplicate_key_is_an_error_at_the_second(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md":
                                doc("title: One\ndate: 2016-08-02\ntitle: Two\n")})
    result = run_cli("build", site)
    assert result.code == 1
    assert any(line.startswith("content/briefings/a.md:4:1: error: duplicate key `title`")
               for line in error_lines(result.stderr)), result.stderr


@pytest.mark.parametrize("front", [
    # an alias bomb: nine to the seventh values from a few lines
    "title: T\ndate: 2016-08-02\na: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(7)),
    "title: T\ndate: 2016-08-02\nx: " + "[" * 500 + "]" * 500 + "\n",
    "title: T\ndate: 2016-08-02\nx: " + "".join("\n" + "  " * i + "-" for i in range(1, 400)) + " y\n",
    "title: T\ndate: 2016-08-02\nsummary: " + "x" * 3_000_000 + "\n",
])
def test_hostile_yaml_is_refused_quickly_at_a_place(tmp_path: Path, front: str) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": doc(front),
                                "content/sources/s.yaml": front.replace("title: T\n", "- id: a\n  t: T\n")})
    started = time.monotonic()
    result = run_cli("check", site)
    assert time.monotonic() - started < 10
    assert result.code == 1 and "Traceback" not in result.stderr, result.stderr
    errors = error_lines(result.stderr)
    assert any(line.startswith("content/briefings/a.md:") for line in errors), result.stderr
    assert any(line.startswith("content/sources/s.yaml:") for line in errors), result.stderr


@pytest.mark.parametrize(("key", "meant"), [("topcis", "topics"), ("tags", "topics"),
                                            ("categories", "topics"), ("sumary", "summary"),
                                            ("Title", "title")])
def test_unknown_key_gets_did_you_mean(tmp_path: Path, key: str, meant: str) -> None:
    front = f"title: T\ndate: 2016-08-02\n{key}: [Energy]\n" if key != "Title" else \
        "Title: T\ntitle: T\ndate: 2016-08-02\n"
    site = make_site(tmp_path, {"content/briefings/a.md": doc(front)})
    result = build_ok(site)
    warnings = lines_with(result.stderr, "warning")
    assert any(f"unknown key `{key}` (did you mean `{meant}`?)" in line for line in warnings), result.stderr


def test_image_is_a_known_key_of_text(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "content/briefings/a.md": doc("title: T\ndate: 2016-08-02\nimages: /a.jpg\n"),
        "content/briefings/b.md": doc("title: U\ndate: 2016-08-03\nimage: [a, b]\n"),
    })
    result = run_cli("check", site)
    typo = "content/briefings/a.md:4:1: warning: unknown key `images` (did you mean `image`?)"
    assert typo in result.stderr
    assert "content/briefings/b.md:4:8: error: `image` must be text, not a list" in error_lines(result.stderr)


def test_topics_as_a_string_with_commas_suggests_a_list(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md":
                                doc("title: T\ndate: 2016-08-02\ntopics: Energy, Shipping\n")})
    result = build_ok(site)
    (line,) = lines_with(result.stderr, "warning")
    assert line.startswith("content/briefings/a.md:4:9: warning: `topics` is one topic")
    assert "`topics: [Energy, Shipping]`" in line


def test_mistyped_citation_gets_did_you_mean(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/sources/s.yaml": SOURCES, "content/briefings/a.md":
                                doc("title: T\ndate: 2016-08-02\n", "Claim [@mt-kery-restraint].")})
    result = run_cli("check", site)
    (line,) = error_lines(result.stderr)
    assert line.startswith("content/briefings/a.md:5:9: error: cited source 'mt-kery-restraint'")
    assert "(did you mean 'mt-kerry-restraint'?)" in line


def test_a_source_listed_and_cited_but_declared_nowhere_is_not_suggested_for_itself(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/sources/s.yaml": SOURCES, "content/briefings/a.md": doc(
        "title: T\ndate: 2016-08-02\nsources:\n  - mt-kerry-restrain\n", "Claim [@mt-kerry-restrain].")})
    result = run_cli("check", site)
    lines = error_lines(result.stderr)
    # At the list's item, with the registry's close id as a hint.
    assert any(line.startswith("content/briefings/a.md:5:5: error: listed source 'mt-kerry-restrain'")
               and line.endswith("(did you mean 'mt-kerry-restraint'?)") for line in lines), lines
    (cited,) = [line for line in lines if "cited source 'mt-kerry-restrain'" in line]
    # The id it names is the one declared nowhere: the hint is the registry's close id.
    assert "(did you mean 'mt-kerry-restraint'?)" in cited, cited


def test_a_list_item_the_model_rejects_is_pointed_at_not_its_key(tmp_path: Path) -> None:
    """The record keeps where its keys are written; the item's place is read from the file."""
    front = ("title: T\ndate: 2016-08-02\ntopics: [Energy, \"!!!\"]\nsources:\n  - mt-kerry-restraint\n"
             "  - id: own-source\n    title: Own\n    publisher: Own Desk\n  - nowhere-id\n")
    site = make_site(tmp_path, {"content/sources/s.yaml": SOURCES, "content/briefings/a.md": doc(front)})
    result = run_cli("build", site)
    assert result.code == 1
    lines = error_lines(result.stderr)
    assert "content/briefings/a.md:4:18: error: topic '!!!' has no letters or digits" in lines, lines
    listed = "content/briefings/a.md:10:5: error: listed source 'nowhere-id' is declared nowhere"
    assert listed in lines, lines
    assert not (site / "output").exists()


def test_messages_name_what_was_written_in_its_words_and_place(tmp_path: Path) -> None:
    """No Python repr, no message about a source that already has an error, and a character
    YAML refuses pointed at where it is, after letters of more than one byte."""
    registry = SOURCES + "- id: shouting\n  title: Loud\n  publisher: '!!!'\n  url: https://example.org/b\n"
    site = make_site(tmp_path, {
        "content/sources/s.yaml": registry,
        "content/briefings/a.md": doc("title: T\ndate: [2016-08-02]\n"),
        "content/briefings/b.md": doc("title: T\ndate: 2016-08-02\nsources:\n  - title: No id\n"
                                      "    publisher: Desk\n"),
        "content/briefings/c.md": doc("date: 2016-08-02\ntitle: \"Café\x07\"\n"),
        "content/briefings/d.md": doc("title: T\ndate: 2016-08-02\n", "Loud [@shouting]."),
    })
    result = run_cli("check", site)
    assert result.code == 1
    lines = error_lines(result.stderr)
    assert ("content/briefings/a.md:3:7: error: `date` must be a date such as 2016-08-02 or "
            "2016-08-02T09:30:00+03:00, not a list") in lines, lines
    assert "content/briefings/b.md:5:5: error: `id` in this source is required" in lines, lines
    assert not [line for line in result.stderr.splitlines() if "None" in line], result.stderr
    assert ("content/briefings/c.md:3:13: error: invalid YAML: character U+0007 is not allowed here "
            "(control characters are not allowed)") in lines, lines
    assert "content/sources/s.yaml:7:14: error: publisher '!!!' has no letters or digits" in lines, lines
    # The entry in error explains its citation: not also "not in the source registry (did you mean...)".
    assert not [line for line in lines if "'shouting'" in line], lines
    assert "position" not in result.stderr


def test_messages_about_a_cached_record_point_at_its_keys(tmp_path: Path) -> None:
    """A record the cache keeps (not parsed again) still says where its keys are written."""
    site = make_site(tmp_path, {"content/sources/s.yaml": SOURCES, "content/briefings/a.md": doc(
        "title: T\ndate: 2016-08-02\nslug: same\nsources:\n  - mt-kerry-restraint\n", "Claim.")})
    build_ok(site)
    # The registry loses the source, and a second briefing takes the slug: a.md is unchanged.
    (site / "content/sources/s.yaml").write_text(SOURCES.replace("mt-kerry-restraint", "other-id"))
    (site / "content/briefings/b.md").write_text(doc("title: U\ndate: 2016-08-02\nslug: same\n"))
    result = run_cli("build", site)
    assert result.code == 1
    lines = error_lines(result.stderr)
    assert any(line.startswith("content/briefings/a.md:6:5: error: listed source 'mt-kerry-restraint'")
               for line in lines), lines
    slug_lines = ("content/briefings/a.md:4:1: error: URL", "content/briefings/b.md:4:1: error: URL")
    assert any(line.startswith(slug_lines) for line in lines), lines


def test_wrong_theme_is_reported_at_its_line_with_the_themes_there_are(tmp_path: Path) -> None:
    config = '[site]\ntitle = "T"\n\ntheme = "defualt"\n'
    site = make_site(tmp_path, {"content/briefings/a.md": doc("title: T\ndate: 2016-08-02\n")}, config)
    result = run_cli("build", site)
    assert result.code == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith("briefgen.toml:4:1: error: theme 'defualt' not found (did you mean 'default'?)")
    assert "the themes there are: default" in line


def test_broken_registry_is_the_root_cause_and_its_consequences_are_not_shown(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"content/sources/s.yaml": SOURCES.replace("  title:", "\ttitle:")}
    for n in range(5):
        files[f"content/briefings/b{n}.md"] = doc(f"title: T{n}\ndate: 2016-08-0{n + 1}\n",
                                                  "Claim [@mt-kerry-restraint].")
    result = run_cli("check", make_site(tmp_path, files))
    assert result.code == 1
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("content/sources/s.yaml:2:1: error: source registry unreadable, so none "
                                "of its sources is known: YAML does not allow tabs")


def test_summary_counts_warnings_and_what_was_left_out(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "content/briefings/a.md": doc("title: A\ndate: 2016-08-02\ntopcis: [x]\n"),
        "content/briefings/b.md": doc("title: B\ndate: 2016-08-03\ndraft: true\n"),
        "content/briefings/c.md": doc("title: C\ndate: 2999-08-03\n"),
        "content/briefings/d.md": doc("title: D\ndate: 2998-08-03\n"),
    })
    result = build_ok(site)
    assert "Built 1 briefing into" in result.stdout
    assert "; 1 warning; left out 1 draft (--drafts includes them) and 2 future briefings " \
           "(--future includes them)" in result.stdout
    again = build_ok(site)  # the warning is said again, and so is what was left out
    assert "1 warning" in again.stderr + again.stdout and "left out 1 draft" in again.stdout
    check = run_cli("check", site)
    assert check.code == 0 and "Checked 4 briefings and" in check.stdout
    assert "no errors; 1 warning" in check.stdout
    assert "left out" not in build_ok(site, "--drafts", "--future").stdout


def test_one_briefing_is_counted_as_one(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": doc("title: A\ndate: 2016-08-02\n")})
    assert "Built 1 briefing into" in build_ok(site).stdout
    check = run_cli("check", site)
    assert check.code == 0 and "Checked 1 briefing and" in check.stdout


def test_publish_warns_about_the_placeholder_base_url(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": doc("title: A\ndate: 2016-08-02\n")})
    result = run_cli("publish", site, "--dir", tmp_path / "www")
    assert result.code == 0, result.stderr
    assert "briefgen.toml:3:1: warning: site.base_url is still the placeholder https://example.org/" \
        in result.stderr
    result = run_cli("publish", site, "--dir", tmp_path / "www", "--base-url", "https://news.test/")
    assert "placeholder" not in result.stderr


def test_a_large_registry_parses_and_a_huge_one_is_refused_with_advice(tmp_path: Path) -> None:
    entry = ("- id: src-{n}\n  title: \"Article {n}\"\n  publisher: Daily\n"
             "  url: https://example.org/a/{n}\n  published: 2016-08-02\n")
    large = "".join(entry.format(n=n) for n in range(2000))
    huge = "".join(entry.format(n=n) for n in range(2000, 7000))
    body = "Claim [@src-1999]."
    site = make_site(tmp_path, {"content/sources/large.yaml": large,
                                "content/briefings/a.md": doc("title: A\ndate: 2016-08-02\n", body)})
    build_ok(site)
    (site / "content/sources/huge.yaml").write_text(huge, encoding="utf-8")
    started = time.monotonic()
    result = run_cli("check", site)
    assert time.monotonic() - started < 20
    (line,) = error_lines(result.stderr)
    assert line.startswith("content/sources/huge.yaml:1:1: error:") and "split it into several files" in line


def test_a_failed_build_counts_its_warnings_too(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": doc("title: A\ntopcis: [x]\n")})
    result = run_cli("build", site)
    assert result.code == 1
    assert result.stderr.splitlines()[-1] == "briefgen: 1 error, 1 warning; nothing was written"


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_a_port_out_of_range_is_a_usage_error_not_a_traceback(tmp_path: Path, port: str) -> None:
    root = make_site(tmp_path, {})
    result = run_cli("serve", root, "--port", port, timeout=60)
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"--port must be from 0 (any free port) to 65535, not {port}" in result.stderr


def test_control_characters_in_a_file_name_are_shown_escaped_not_written_to_the_terminal(
        tmp_path: Path) -> None:
    """A newline in a name forged a message line of its own; an escape sequence drove the terminal."""
    root = make_site(tmp_path, {
        "content/briefings/forged\nbriefgen.toml:1:1: error: forged\x1b]0;title\x07.md":
            doc("title: Forged\ndate: 2016-08-02", "A claim [@nowhere]."),
    })
    result = run_cli("check", root)
    assert result.code == 1
    lines = result.stderr.splitlines()
    assert not [line for line in lines if line.startswith("briefgen.toml")], result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    shown = "content/briefings/forged\\nbriefgen.toml:1:1: error: forged\\x1b]0;title\\x07.md:"
    assert any(line.startswith(shown) for line in lines), result.stderr
