"""Bad input, one case per test, through the real command line.

Every site here already has a good build in output/. A bad build must exit 1
(2 for wrong usage), report `path:line:col: error: ...` with the right place,
print no traceback, leave the previous output byte for byte as it was, and
leave the content files alone.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import build_ok, error_lines, make_site, run_cli, tree_bytes, write_files

CONFIG = """\
[site]
title = "Bad Input Site"
base_url = "https://example.org/"
timezone = "UTC"
"""

REGISTRY = """\
- id: alpha
  title: "Alpha reports"
  publisher: Alpha News
  url: https://alpha.example/a
"""

GOOD = """\
---
title: A good briefing
date: 2016-08-02
topics: [Syria]
sources: [alpha]
---
A claim [@alpha].
"""

BASE_FILES: dict[str, str | bytes] = {
    "content/sources/registry.yaml": REGISTRY,
    "content/briefings/2016/good.md": GOOD,
    "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
}

BAD = "content/briefings/2016/bad.md"


@pytest.fixture(scope="module")
def built_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_site(tmp_path_factory.mktemp("base"), BASE_FILES, CONFIG)
    build_ok(root)
    assert (root / "output/2016/08/02/a-good-briefing/index.html").is_file()
    return root


@pytest.fixture
def site(built_base: Path, tmp_path: Path) -> Path:
    """A fresh copy of the good site, with its good build in output/."""
    root = tmp_path / "site"
    shutil.copytree(built_base, root, ignore=shutil.ignore_patterns(".briefgen-cache"))
    return root


def snapshot(root: Path) -> dict[str, dict[str, bytes]]:
    return {
        "output": tree_bytes(root / "output"),
        "content": tree_bytes(root / "content"),
        "config": {"briefgen.toml": (root / "briefgen.toml").read_bytes()},
    }


def fails(root: Path, *args: str | Path, code: int = 1, command: str = "build") -> str:
    """Run a command that must fail; check that nothing changed; return stderr."""
    before = snapshot(root)
    neighbours = set(root.parent.iterdir())
    result = run_cli(command, root, *args)
    assert result.code == code, (
        f"expected exit {code}, got {result.code}\n{result.stderr}\n{result.stdout}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    after = snapshot(root)
    assert after["content"] == before["content"], "content files were changed"
    assert after["config"] == before["config"], "briefgen.toml was changed"
    assert after["output"] == before["output"], "the previous output was changed"
    assert set(root.parent.iterdir()) == neighbours, "files were left beside the site"
    leftovers = [p.name for p in root.iterdir() if "briefgen-new" in p.name or "briefgen-old" in p.name]
    assert not leftovers, leftovers
    return result.stderr


def diagnostic(stderr: str, path: str, line: int, column: int | set[int] | None = None,
               *contains: str) -> str:
    """The error reported at path:line(:column), with every `contains` in its message."""
    found = []
    for text in error_lines(stderr):
        match = re.match(rf"^{re.escape(path)}:(\d+):(\d+): error: (.+)$", text)
        if not match or int(match.group(1)) != line:
            continue
        columns = {column} if isinstance(column, int) else column
        if columns is not None and int(match.group(2)) not in columns:
            continue
        if all(c.lower() in match.group(3).lower() for c in contains):
            found.append(text)
    assert found, (f"no error at {path}:{line}:{column} mentioning {contains}; "
                   f"stderr was:\n{stderr}")
    return found[0]


def write_bad(root: Path, text: str | bytes, name: str = BAD) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


# ---------------------------------------------------------------- front matter


def test_malformed_yaml_is_reported_at_its_line_in_the_file(site: Path) -> None:
    write_bad(site, "---\ntitle: Fine\ntopics: [Syria]\ndate: 2016-08-03\nsummary: a: b\n---\nBody.\n")
    stderr = fails(site)
    diagnostic(stderr, BAD, 5, None, "yaml")


def test_unclosed_flow_list_is_reported_where_yaml_notices(site: Path) -> None:
    write_bad(site, "---\ntitle: Fine\ndate: 2016-08-03\ntopics: [Syria, Russia\n---\nBody.\n")
    stderr = fails(site)
    (line,) = [line for line in error_lines(stderr) if line.startswith(BAD)]
    where = int(line.split(":")[1])
    # Where the list opens (line 4), or where YAML gives up (line 5) naming line 4.
    assert where == 4 or (where == 5 and "line 4" in line), line


def test_no_front_matter(site: Path) -> None:
    write_bad(site, "Just a paragraph, no front matter.\n")
    diagnostic(fails(site), BAD, 1, 1, "front matter")


def test_empty_file(site: Path) -> None:
    write_bad(site, b"")
    diagnostic(fails(site), BAD, 1, 1)


def test_missing_title(site: Path) -> None:
    write_bad(site, "---\ndate: 2016-08-03\ntopics: [Syria]\n---\nBody.\n")
    stderr = fails(site)
    lines = [line for line in error_lines(stderr) if line.startswith(BAD)]
    assert len(lines) == 1, stderr
    assert re.match(rf"{re.escape(BAD)}:[12]:\d+: error: .*`?title`? .*required", lines[0]), lines[0]


def test_title_of_the_wrong_type(site: Path) -> None:
    write_bad(site, "---\ntitle: [one, two]\ndate: 2016-08-03\n---\nBody.\n")
    diagnostic(fails(site), BAD, 2, {1, 8}, "title", "text")


def test_missing_date(site: Path) -> None:
    write_bad(site, "---\ntitle: No date here\ntopics: [Syria]\n---\nBody.\n")
    stderr = fails(site)
    lines = [line for line in error_lines(stderr) if line.startswith(BAD)]
    assert len(lines) == 1, stderr
    assert re.match(rf"{re.escape(BAD)}:[12]:\d+: error: .*`?date`? .*required", lines[0]), lines[0]


def test_impossible_date(site: Path) -> None:
    write_bad(site, "---\ntitle: Leap\ndate: 2016-02-30\n---\nBody.\n")
    stderr = fails(site)
    diagnostic(stderr, BAD, 3, 7, "2016-02-30")
    assert len(error_lines(stderr)) == 1, "one problem, one message"


def test_impossible_date_in_quotes(site: Path) -> None:
    write_bad(site, '---\ntitle: Leap\ndate: "2016-02-30"\n---\nBody.\n')
    diagnostic(fails(site), BAD, 3, 7, "2016-02-30")


# ---------------------------------------------------------------- citations and sources


def test_cited_id_found_nowhere_is_reported_at_the_citation(site: Path) -> None:
    body = "First paragraph [@alpha].\n\nThen `[@nowhere]` in code, and [@alpha; @nowhere].\n"
    write_bad(site, "---\ntitle: Cites nothing\ndate: 2016-08-03\n---\n" + body)
    stderr = fails(site)
    line7 = body.splitlines()[2]
    bracket = line7.index("[@alpha; @nowhere]") + 1
    at = line7.index("@nowhere", bracket) + 1
    # The column of the citation: its bracket, its @, or the id itself.
    found = diagnostic(stderr, BAD, 7, {bracket, at, at + 1}, "nowhere")
    assert "alpha" not in found.split("error:")[1].replace("'nowhere'", "")
    assert len(error_lines(stderr)) == 1, "the code span is not a citation"


def test_a_source_declared_inline_is_its_own_briefings_alone(site: Path) -> None:
    """Another briefing citing or listing it fails where it does, naming where it is declared;
    a briefing declaring the same source itself may cite it."""
    (site / "content/briefings/2016/own.md").write_text(
        "---\ntitle: Declares\ndate: 2016-08-04\nsources:\n  - id: inl-x\n    title: Inline X\n"
        "    publisher: Inline Pub\n    url: https://inl.example/x\n---\nCites [@inl-x].\n", "utf-8")
    build_ok(site)
    write_bad(site, "---\ntitle: Borrows\ndate: 2016-08-05\nsources: [alpha, inl-x]\n---\n"
                    "A claim [@alpha] and [@inl-x].\n")
    stderr = fails(site)
    diagnostic(stderr, BAD, 6, {22, 23, 24}, "inl-x", "content/briefings/2016/own.md")
    diagnostic(stderr, BAD, 4, None, "listed source 'inl-x'", "content/briefings/2016/own.md")
    write_bad(site, "---\ntitle: Declares too\ndate: 2016-08-05\nsources:\n  - id: inl-x\n"
                    "    title: Inline X\n    publisher: Inline Pub\n    url: https://inl.example/x\n---\n"
                    "Cites [@inl-x].\n")
    build_ok(site)


def test_a_citation_wrapped_onto_the_next_line_is_checked_where_its_id_is(site: Path) -> None:
    body = "A claim [@alpha;\n@nowhere, p.\n2] wraps.\n"
    write_bad(site, "---\ntitle: Wraps\ndate: 2016-08-03\n---\n" + body)
    diagnostic(fails(site), BAD, 6, {1, 2}, "nowhere")
    # And nothing is checked across a blank line: that is text, left as it is.
    write_bad(site, "---\ntitle: Wraps\ndate: 2016-08-03\n---\nA claim [@alpha;\n\n@nowhere] wraps.\n")
    assert run_cli("check", site).code == 0


def test_source_id_declared_twice_with_different_fields_names_both_places(site: Path) -> None:
    write_bad(site, "- id: alpha\n  title: A different title\n  publisher: Alpha News\n"
                    "  url: https://alpha.example/a\n", "content/sources/more.yaml")
    stderr = fails(site)
    (line,) = [line for line in error_lines(stderr) if "alpha" in line]
    assert re.search(r"content/sources/registry\.yaml:1:\d+", line), line
    assert re.search(r"content/sources/more\.yaml:1:\d+", line), line


def test_source_declared_inline_and_in_the_registry_differently(site: Path) -> None:
    write_bad(site, "---\ntitle: Inline clash\ndate: 2016-08-03\nsources:\n  - id: alpha\n"
                    "    title: Not the registry's title\n    publisher: Alpha News\n"
                    "    url: https://alpha.example/a\n---\nA [@alpha].\n")
    stderr = fails(site)
    (line,) = [line for line in error_lines(stderr) if "alpha" in line]
    assert BAD in line and "content/sources/registry.yaml" in line, line


def test_the_same_source_declared_twice_identically_is_fine(site: Path) -> None:
    (site / "content/sources/copy.yaml").write_text(REGISTRY, encoding="utf-8")
    build_ok(site)


def test_source_without_title(site: Path) -> None:
    write_bad(site, "- id: ok\n  title: Fine\n  publisher: P\n  url: https://p.example/\n"
                    "- id: untitled\n  publisher: P\n  url: https://p.example/x\n",
              "content/sources/more.yaml")
    diagnostic(fails(site), "content/sources/more.yaml", 5, None, "title")


def test_source_without_publisher(site: Path) -> None:
    write_bad(site, "- id: nopub\n  title: T\n  url: https://p.example/x\n",
              "content/sources/more.yaml")
    diagnostic(fails(site), "content/sources/more.yaml", 1, None, "publisher")


def test_source_url_must_be_http(site: Path) -> None:
    write_bad(site, "- id: js\n  title: T\n  publisher: P\n  url: javascript:alert(1)\n",
              "content/sources/more.yaml")
    diagnostic(fails(site), "content/sources/more.yaml", 4, {3, 8}, "javascript:alert(1)")


def test_inline_source_url_must_be_http(site: Path) -> None:
    write_bad(site, "---\ntitle: Hi\ndate: 2016-08-03\nsources:\n  - id: x1\n    title: T\n"
                    "    publisher: P\n    url: javascript:alert(1)\n---\nA [@x1].\n")
    diagnostic(fails(site), BAD, 8, {5, 10}, "http")


# ---------------------------------------------------------------- slugs, URLs, links


def test_explicit_slug_that_is_a_path(site: Path) -> None:
    write_bad(site, "---\ntitle: Escape\ndate: 2016-08-03\nslug: ../../etc\n---\nBody.\n")
    diagnostic(fails(site), BAD, 4, {1, 7}, "slug")
    assert not (site / "etc").exists() and not (site.parent / "etc").exists()


def test_two_briefings_that_want_one_url_name_both_files(site: Path) -> None:
    write_bad(site, "---\ntitle: A good briefing\ndate: 2016-08-02\n---\nSame URL.\n",
              "content/briefings/other/copy.md")
    stderr = fails(site)
    lines = [line for line in error_lines(stderr) if "/2016/08/02/a-good-briefing/" in line]
    assert len(lines) == 1, stderr
    assert "content/briefings/other/copy.md" in lines[0]
    assert "content/briefings/2016/good.md" in lines[0]
    assert re.match(r"content/briefings/(other/copy|2016/good)\.md:2:\d+: error:", lines[0])


def test_a_page_that_wants_a_url_of_briefgen_itself(site: Path) -> None:
    write_bad(site, "---\ntitle: Archive\n---\nBody.\n", "content/pages/mine.md")
    diagnostic(fails(site), "content/pages/mine.md", 2, None, "/archive/")


def test_link_to_a_missing_markdown_file(site: Path) -> None:
    body = "Body.\n\nSee [this one](missing.md) for more.\n"
    write_bad(site, "---\ntitle: Dangling\ndate: 2016-08-03\n---\n" + body)
    stderr = fails(site)
    line = body.splitlines()[2]
    bracket, href = line.index("[") + 1, line.index("missing.md") + 1
    diagnostic(stderr, BAD, 7, {bracket, href, href - 1}, "missing.md")


# ---------------------------------------------------------------- encodings and configuration


def test_file_that_is_not_utf8(site: Path) -> None:
    write_bad(site, b"---\ntitle: caf\xe9\ndate: 2016-08-03\n---\nBody.\n")
    diagnostic(fails(site), BAD, 2, 11, "utf-8")


def test_a_file_name_that_is_not_utf8_is_an_error_in_build_and_check(site: Path) -> None:
    bad = site.as_posix().encode() + b"/content/briefings/2016/caf\xe9.md"
    with open(bad, "wb") as file:  # a name of Latin-1 bytes, as an old archive may hold
        file.write(GOOD.replace("A good briefing", "Another").encode())
    diagnostic(fails(site), "content/briefings/2016/caf\\udce9.md", 1, 1, "name is not valid UTF-8")
    diagnostic(fails(site, command="check"), "content/briefings/2016/caf\\udce9.md", 1, 1, "UTF-8")


def test_a_link_to_a_missing_file_is_an_error_not_a_briefing_lost(site: Path) -> None:
    build_ok(site)  # a cache that knows good.md
    (site / "content/briefings/2016/gone.md").symlink_to(site / "nowhere.md")
    write_bad(site, GOOD.replace("[@alpha]", "[@nowhere]"))
    stderr = fails(site)
    diagnostic(stderr, "content/briefings/2016/gone.md", 1, 1, "cannot read")
    diagnostic(stderr, BAD, 7, None, "nowhere")  # every problem of the run, not only the first
    # A file the last build read, now a link to nothing: the same.
    (site / "content/briefings/2016/good.md").unlink()
    (site / "content/briefings/2016/good.md").symlink_to(site / "nowhere.md")
    diagnostic(fails(site), "content/briefings/2016/good.md", 1, 1, "cannot read")


def test_a_stylesheet_the_settings_name_that_does_not_exist(site: Path) -> None:
    (site / "briefgen.toml").write_text(CONFIG + 'extra_css = ["custom.css"]\n', encoding="utf-8")
    for command in ("build", "check"):
        diagnostic(fails(site, command=command), "briefgen.toml", 5, 1, "extra_css", "custom.css")


def test_unknown_config_key_with_a_did_you_mean_hint(site: Path) -> None:
    (site / "briefgen.toml").write_text(
        '[site]\ntitel = "Typo"\nbase_url = "https://example.org/"\n', encoding="utf-8")
    stderr = fails(site)
    found = diagnostic(stderr, "briefgen.toml", 2, 1, "titel")
    assert re.search(r"did you mean .?title", found), found


def test_unknown_config_section(site: Path) -> None:
    (site / "briefgen.toml").write_text(CONFIG + "\n[biuld]\nper_page = 3\n", encoding="utf-8")
    found = diagnostic(fails(site), "briefgen.toml", 6, 1, "biuld")
    assert "build" in found


def test_wrong_type_in_config(site: Path) -> None:
    (site / "briefgen.toml").write_text(CONFIG + '\n[build]\nper_page = "ten"\n', encoding="utf-8")
    diagnostic(fails(site), "briefgen.toml", 7, 1, "per_page")


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_templates_syntax_is_reported_with_the_contents_errors(site: Path, command: str) -> None:
    """Rendering, which finds it, does not come when the content has errors: it was found only
    once they were fixed, a run later."""
    write_files(site, {"templates/page.html": '{% extends "base.html" %}{% block content %}{% if %}'
                                              "{% endblock %}\n"})
    write_bad(site, "---\ntitle: Cites nothing\ndate: 2016-08-03\n---\nA claim [@nowhere].\n")
    stderr = fails(site, command=command)
    diagnostic(stderr, BAD, 5, None, "nowhere")
    diagnostic(stderr, "templates/page.html", 1, 1, "template syntax")


def test_a_template_error_is_reported_and_nothing_is_written(site: Path) -> None:
    write_files(site, {"templates/briefing.html": (
        '{% extends "base.html" %}\n{% block content %}\n'
        "<p>{{ briefing.no_such_field.here }}</p>\n{% endblock %}\n"
    )})
    diagnostic(fails(site), "templates/briefing.html", 3, None, "no_such_field")


def test_an_error_in_an_included_template_is_reported_where_it_is(site: Path) -> None:
    # An include's output is joined where it is made (render.codegen): the error still names
    # the included template and its line, not the page's template.
    write_files(site, {"templates/partials/briefing-item.html": (
        "<li>\n{{ item.title }}\n{{ item.no_such_field.here }}\n</li>\n"
    )})
    diagnostic(fails(site), "templates/partials/briefing-item.html", 3, None, "no_such_field")


# ---------------------------------------------------------------- many problems at once


def test_several_problems_in_different_files_are_reported_together(site: Path) -> None:
    write_bad(site, "---\ntitle: No date\n---\nBody.\n", "content/briefings/a.md")
    write_bad(site, "---\ntitle: Cites\ndate: 2016-08-03\n---\nSee [@ghost].\n",
              "content/briefings/b.md")
    write_bad(site, "- id: Bad Id\n  title: T\n  publisher: P\n", "content/sources/c.yaml")
    write_bad(site, b"---\ntitle: \xff\n---\n", "content/pages/d.md")
    stderr = fails(site)
    for path in ("content/briefings/a.md", "content/briefings/b.md", "content/sources/c.yaml",
                 "content/pages/d.md"):
        assert any(line.startswith(path + ":") for line in error_lines(stderr)), (path, stderr)
    diagnostic(stderr, "content/briefings/b.md", 5, None, "ghost")
    assert len(error_lines(stderr)) >= 4
    # `check` finds exactly the same problems, and writes nothing either.
    assert error_lines(fails(site, command="check")) == error_lines(stderr)


# ---------------------------------------------------------------- what must still work


def test_utf8_bom_and_crlf_line_endings_build_fine(site: Path) -> None:
    text = "---\r\ntitle: Windows Notes\r\ndate: 2016-08-03\r\nsources: [alpha]\r\n---\r\n"
    text += "Line one [@alpha].\r\n\r\nSecond paragraph.\r\n"
    write_bad(site, b"\xef\xbb\xbf" + text.encode("utf-8"))
    build_ok(site)
    page = (site / "output/2016/08/03/windows-notes/index.html").read_text(encoding="utf-8")
    assert "Windows Notes" in page and "Second paragraph." in page
    assert "\r" not in page and "\ufeff" not in page
    assert 'id="cite-ref-1-1"' in page


def test_bom_and_crlf_keep_error_positions(site: Path) -> None:
    text = "---\r\ntitle: Windows\r\ndate: 2016-08-03\r\n---\r\nLine one.\r\n\r\nA [@nowhere].\r\n"
    write_bad(site, b"\xef\xbb\xbf" + text.encode("utf-8"))
    diagnostic(fails(site), BAD, 7, {3, 4, 5}, "nowhere")


# ---------------------------------------------------------------- unsafe output folders (exit 2)


def test_output_folder_not_made_by_briefgen_is_refused(site: Path) -> None:
    foreign = site / "elsewhere"
    write_files(foreign, {"keep.txt": "precious\n", "sub/also.txt": "also\n"})
    before = tree_bytes(foreign)
    stderr = fails(site, "--output", foreign, code=2)
    assert "not empty" in stderr or "not made by briefgen" in stderr, stderr
    assert tree_bytes(foreign) == before
    assert sorted(p.name for p in foreign.iterdir()) == ["keep.txt", "sub"]


def test_output_folder_inside_content_is_refused(site: Path) -> None:
    stderr = fails(site, "--output", site / "content" / "out", code=2)
    assert "content" in stderr
    assert not (site / "content" / "out").exists()


@pytest.mark.parametrize("target", ["content", "themes", "templates", "static", "."])
def test_output_folder_overlapping_the_site_is_refused(site: Path, target: str) -> None:
    (site / target).mkdir(exist_ok=True)
    fails(site, "--output", site / target, code=2)


def test_configured_output_inside_content_is_refused_at_its_setting_by_build_and_check(site: Path) -> None:
    """A setting of briefgen.toml, reported where it is written (as --output is a usage error)."""
    (site / "briefgen.toml").write_text(CONFIG + '\n[build]\noutput = "content/site"\n',
                                        encoding="utf-8")
    line = len(CONFIG.splitlines()) + 3
    for command in ("build", "check"):
        stderr = fails(site, command=command)
        assert f"briefgen.toml:{line}:1: error: output folder" in stderr and "overlaps" in stderr, stderr
    assert not (site / "content/site").exists()


def test_output_that_is_a_file_is_refused(site: Path) -> None:
    (site / "a-file").write_text("not a folder\n", encoding="utf-8")
    fails(site, "--output", site / "a-file", code=2)
    assert (site / "a-file").read_text(encoding="utf-8") == "not a folder\n"


# ---------------------------------------------------------------- other wrong usage (exit 2)


def test_zero_jobs_is_wrong_usage(site: Path) -> None:
    assert "jobs" in fails(site, "--jobs", "0", code=2)


def test_a_site_folder_that_does_not_exist(tmp_path: Path) -> None:
    result = run_cli("build", tmp_path / "nowhere")
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "nowhere").exists()


# ---------------------------------------------------------------- warnings do not fail a build


def test_a_source_without_url_is_a_warning(site: Path) -> None:
    write_bad(site, "- id: nourl\n  title: No link\n  publisher: Paper Only\n",
              "content/sources/more.yaml")
    result = build_ok(site)
    assert re.search(r"^content/sources/more\.yaml:1:\d+: warning: .*url", result.stderr, re.M), (
        result.stderr
    )


def test_an_output_folder_that_cannot_be_created_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    files = {"content/briefings/2016/a.md": "---\ntitle: A\ndate: 2016-01-01\n---\nText.\n"}
    site = make_site(tmp_path, files, '[site]\ntitle = "T"\n')
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    code, _, err = run_cli("build", site, "--output", blocker / "out")
    assert code == 1
    assert "Traceback" not in err
    assert err.strip().startswith("briefgen: error:")
    assert blocker.read_text(encoding="utf-8") == "a file where a folder should be"


def test_text_markdown_cannot_convert_is_reported_at_the_body(site: Path) -> None:
    write_bad(site, "---\ntitle: Fine\ndate: 2016-08-03\ntopics: [Syria]\n---\nSee [r].\n\n[r]: https://e.org[r]\n")
    stderr = fails(site)
    assert "Traceback" not in stderr
    diagnostic(stderr, BAD, 6, 1, "markdown could not convert", "reference definition")


def test_every_problem_of_a_briefing_is_reported_in_one_run(tmp_path: Path) -> None:
    """A title that gives no slug, a topic and a source's publisher without letters: three
    problems of one file, told at once, not one a run."""
    body = ('---\ntitle: "\U0001f525\U0001f525"\ndate: 2024-03-02\ntopics: ["!!!"]\nsources:\n'
            '  - id: s1\n    title: x\n    publisher: "\U0001f525"\n    url: https://x.example/1\n---\n'
            "Body [@s1].\n")
    site = make_site(tmp_path, {"content/briefings/a.md": body})
    result = run_cli("check", site)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert error_lines(result.stderr) == [
        "content/briefings/a.md:2:1: error: the title gives no slug; add `slug:`",
        "content/briefings/a.md:4:10: error: topic '!!!' has no letters or digits",
        "content/briefings/a.md:8:16: error: publisher '\U0001f525' has no letters or digits",
    ], result.stderr


def test_a_briefing_in_error_is_no_error_of_the_files_that_link_to_it(tmp_path: Path) -> None:
    """One mistake, one error: the links to a briefing that failed to parse are its own error's."""
    site = make_site(tmp_path, {
        "content/briefings/a.md": "---\ndate: 2016-08-02\n---\nNo title here.\n",
        "content/briefings/b.md": "---\ntitle: B\ndate: 2016-08-03\n---\nSee [the other](a.md).\n",
        "content/pages/about.md": "---\ntitle: About\n---\nSee [a briefing](../briefings/a.md).\n",
    })
    result = run_cli("check", site)
    assert result.code == 1
    expected = ["content/briefings/a.md:2:1: error: `title` is required"]
    assert error_lines(result.stderr) == expected, result.stderr


@pytest.mark.parametrize("command", ["build", "clean"])
def test_a_file_where_the_cache_folder_goes_is_named_with_what_to_do(tmp_path: Path, command: str) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": "---\ntitle: A\ndate: 2016-08-02\n---\nText.\n"})
    (site / ".briefgen-cache").write_text("not a folder\n", encoding="utf-8")
    result = run_cli(command, site)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert ".briefgen-cache is a file, where briefgen keeps its build cache (a folder)" in result.stderr
    assert (site / ".briefgen-cache").read_text(encoding="utf-8") == "not a folder\n"


def test_a_missing_template_is_an_error_where_it_is_named(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "content/briefings/a.md": "---\ntitle: A\ndate: 2016-08-02\n---\nText.\n",
        "content/pages/about.md": "---\ntitle: About\n---\nText.\n",
        "templates/page.html": ("{% extends 'base.html' %}\n{% block content %}\n<p>About</p>\n"
                                "{% include 'partials/nosuch.html' %}\n{% endblock %}\n"),
    })
    result = run_cli("build", site)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert ("templates/page.html:4:1: error: template 'partials/nosuch.html' not found in the site or "
            "theme") in result.stderr, result.stderr


def test_a_themes_settings_in_error_are_located_in_the_site(tmp_path: Path) -> None:
    files = {"content/briefings/a.md": "---\ntitle: A\ndate: 2016-08-02\n---\nText.\n",
             "themes/t/theme.toml": 'name = "t"\nextends = \n'}
    site = make_site(tmp_path, files)
    config = site / "briefgen.toml"
    config.write_text(config.read_text().replace("[site]", '[site]\ntheme = "t"'), encoding="utf-8")
    result = run_cli("build", site)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert re.search(r"^themes/t/theme\.toml:2:\d+: error: invalid theme\.toml: ", result.stderr, re.M), \
        result.stderr
    (site / "themes/t/theme.toml").write_text('name = "t"\n\nextends = "u"\n', encoding="utf-8")
    write_files(site, {"themes/u/theme.toml": 'name = "u"\nextends = "t"\n'})
    result = run_cli("build", site)
    looped = "themes/u/theme.toml:2:1: error: themes extend each other in a loop"
    assert looped in result.stderr, result.stderr


def test_an_update_before_the_briefings_date_is_a_warning_at_it(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "content/briefings/a.md": "---\ntitle: A\ndate: 2016-05-05\nupdated: 2016-05-01\n---\nText.\n"})
    result = build_ok(site)
    assert ("content/briefings/a.md:4:10: warning: `updated` 2016-05-01 is before `date` 2016-05-05"
            in result.stderr), result.stderr


def test_a_citation_wrapped_inside_a_quotation_is_checked_where_its_id_is(site: Path) -> None:
    body = "> A quoted claim [@alpha;\n> @nowhere, para. 2] goes on.\n"
    write_bad(site, "---\ntitle: Quoted\ndate: 2016-08-03\n---\n" + body)
    diagnostic(fails(site), BAD, 6, {3, 4}, "nowhere")


@pytest.mark.parametrize("line", [
    'Officials <a href="https://x.example/">said so [@alpha]</a> today.',
    'A <abbr title="Port Authority [@alpha]">PA</abbr> notice.',
    "![A map [@alpha]](map.png)",
    "<div>A block written as HTML [@alpha].</div>",
])
def test_a_citation_inside_html_or_an_image_is_an_error_where_it_is(site: Path, line: str) -> None:
    """Markdown does not read it there: it would be lost, shown as text, or put a link inside a
    link. An indented code block's is code (no error)."""
    write_bad(site, f"---\ntitle: Inside\ndate: 2016-08-03\n---\nFirst [@alpha].\n\n{line}\n\n"
                    "    [@alpha] in an indented code block\n")
    column = line.index("@alpha") + 2
    diagnostic(fails(site), BAD, 7, column, "inside HTML or an image's text")


@pytest.mark.parametrize(("static", "message"), [
    ("static/about",
     "static/about is a file where the site needs a folder for content/pages/about.md (/about/)"),
    ("static/feed.xml/inner", "static/feed.xml/inner needs a folder /feed.xml/ where the site has"),
])
def test_a_static_file_where_the_site_needs_a_folder_or_the_reverse_is_an_error(
        site: Path, static: str, message: str) -> None:
    """Found before anything is written (it failed while the output was being replaced, and
    every later build failed until output/about was deleted by hand); `check` finds it too."""
    write_files(site, {static: "not a page\n"})
    assert f"{static}:1:1: error: {message}" in fails(site, command="check")
    assert f"{static}:1:1: error: {message}" in fails(site)
    (site / static).unlink()
    build_ok(site)


def test_static_cname_and_the_cname_setting_that_disagree_are_an_error_naming_both(site: Path) -> None:
    """publish --git-branch wrote the setting over the file, and nothing said so."""
    (site / "briefgen.toml").write_text(CONFIG + 'cname = "news.example.org"\n', encoding="utf-8")
    write_files(site, {"static/CNAME": "other.example.org\n"})
    line = len(CONFIG.splitlines()) + 1
    expected = ("static/CNAME:1:1: error: static/CNAME names 'other.example.org' where site.cname "
                f"(briefgen.toml:{line}:1) names 'news.example.org': keep one of them")
    assert expected in fails(site, command="check")
    assert expected in fails(site)
    write_files(site, {"static/CNAME": "news.example.org\n"})  # agreeing, they are one
    build_ok(site)
    assert (site / "output/CNAME").read_text("utf-8") == "news.example.org\n"
