"""Source registries in CSL-JSON (content/sources/*.json) and BibTeX (*.bib), beside YAML."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import build_ok, error_lines, make_site, page, run_cli, text_of

BODY = "---\ntitle: Harbour\ndate: 2016-08-02\n---\nIt reopened [@{id}].\n"

CSL = [
    {
        "id": "lw-harbour",
        "type": "article-newspaper",
        "title": "Harbour reopens after strike",
        "container-title": "Lindmark Wire",
        "URL": "https://news.example.com/harbour",
        "issued": {"date-parts": [[2016, 8, 2]]},
        "accessed": {"date-parts": [[2016, 8, 3]]},
        "author": [{"family": "Berg", "given": "Ana"}, {"literal": "Wire staff"}],
    },
]

BIB = """\
% exported from a reference manager
@article{lw-harbour,
  title        = {Harbour {Reopens} after Strike},
  journal      = {Lindmark Wire},
  author       = {Berg, Ana and Nils Holm},
  year         = 2016,
  month        = aug,
  day          = 2,
  url          = {https://news.example.com/harbour},
  urldate      = {2016-08-03},
}

@misc{lw-ferries,
  title        = {Ferry timetable cut},
  howpublished = {Lindmark Radio},
  date         = {2016-08-01},
  url          = {https://radio.example.com/ferries},
}
"""


def site_with(tmp_path: Path, files: dict[str, str], cite: str = "lw-harbour") -> Path:
    return make_site(tmp_path, {**files, "content/briefings/h.md": BODY.format(id=cite)})


def entry(out: Path) -> str:
    return text_of(page(out, "2016/08/02/harbour/").find(id="source-1"))


def test_csl_json_fields_are_mapped(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"content/sources/zotero.json": json.dumps(CSL, indent=2)})
    build_ok(site)
    out = site / "output"
    shown = entry(out)
    assert "Harbour reopens after strike" in shown
    assert "Lindmark Wire" in shown and "2 August 2016" in shown
    assert "By Ana Berg, Wire staff" in shown
    link = page(out, "2016/08/02/harbour/").find(id="source-1").find("a")
    assert link["href"] == "https://news.example.com/harbour"
    assert page(out, "sources/lindmark-wire/").find("a", href="https://news.example.com/harbour")


def test_csl_json_publisher_falls_back_to_publisher(tmp_path: Path) -> None:
    item = {k: v for k, v in CSL[0].items() if k != "container-title"} | {"publisher": "Lindmark Press"}
    site = site_with(tmp_path, {"content/sources/one.json": json.dumps(item)})  # one item, not a list
    build_ok(site)
    assert "Lindmark Press" in entry(site / "output")


def test_csl_json_rich_text_in_titles_is_read_as_its_words(tmp_path: Path) -> None:
    """Zotero writes <i>, <sup> and nocase spans into titles: markup for a citation style."""
    item = CSL[0] | {"title": 'How <i>Pravda</i> covered 10<sup>th</sup> <span class="nocase">iPhone</span> '
                              "footage, A <3 B",
                     "container-title": '<span style="font-variant:small-caps;">Lindmark</span> Wire'}
    site = site_with(tmp_path, {"content/sources/zotero.json": json.dumps([item])})
    build_ok(site)
    source = page(site / "output", "2016/08/02/harbour/").find(id="source-1")
    assert text_of(source.find("cite")).startswith("How Pravda covered 10th iPhone footage, A <3 B")
    assert "Lindmark Wire" in text_of(source) and "<" not in text_of(source).replace("<3", "")


def test_bibtex_fields_are_mapped(tmp_path: Path) -> None:
    site = site_with(tmp_path, {"content/sources/library.bib": BIB})
    build_ok(site)
    shown = entry(site / "output")
    assert "Harbour Reopens after Strike" in shown  # case-protecting braces removed
    assert "Lindmark Wire" in shown and "2 August 2016" in shown
    assert "By Ana Berg, Nils Holm" in shown
    site2 = site_with(tmp_path / "two", {"content/sources/library.bib": BIB}, cite="lw-ferries")
    build_ok(site2)
    shown = entry(site2 / "output")
    assert "Lindmark Radio" in shown and "1 August 2016" in shown


def test_invalid_json_is_located(tmp_path: Path) -> None:
    text = '[\n  {\n    "id": "lw-harbour",\n    "title": "x"\n    "container-title": "y"\n  }\n]\n'
    result = run_cli("check", site_with(tmp_path, {"content/sources/bad.json": text}))
    assert result.code == 1
    assert "content/sources/bad.json:5:5: error: invalid JSON: Expecting ',' delimiter" in result.stderr


def test_csl_json_missing_title_and_publisher_are_located(tmp_path: Path) -> None:
    text = '[\n  {\n    "id": "lw-harbour",\n    "URL": "https://news.example.com/h"\n  }\n]\n'
    result = run_cli("check", site_with(tmp_path, {"content/sources/bad.json": text}))
    assert result.code == 1
    lines = error_lines(result.stderr)
    assert "content/sources/bad.json:2:3: error: `title` in this source is required" in lines
    assert "content/sources/bad.json:2:3: error: `publisher` in this source is required" in lines


def test_csl_json_bad_id_is_located_at_the_id(tmp_path: Path) -> None:
    text = json.dumps([{**CSL[0], "id": "Zotero Item 7"}], indent=2)
    result = run_cli("check", site_with(tmp_path, {"content/sources/bad.json": text}))
    assert result.code == 1
    (line,) = [x for x in error_lines(result.stderr) if "bad.json" in x]
    assert line.startswith("content/sources/bad.json:3:11: error: source id 'Zotero Item 7'"), line


def test_csl_json_partial_date_is_a_warning(tmp_path: Path) -> None:
    text = json.dumps([{**CSL[0], "issued": {"date-parts": [[2016]]}}], indent=2)
    result = build_ok(site_with(tmp_path, {"content/sources/z.json": text}))
    assert "content/sources/z.json:8:15: warning: `issued` [2016] has no day" in result.stderr


def test_bibtex_addresses_are_read_verbatim(tmp_path: Path) -> None:
    url = "https://news.example.com/caf%C3%A9--harbour_2016?id=7&lang=en~x"
    archived = "https://web.archive.org/web/2016/https://news.example.com/a%20b"
    text = BIB.replace("url          = {https://news.example.com/harbour},",
                       f"url = {{{url}}},\n  archive_url = {{{archived}}},")
    site = site_with(tmp_path, {"content/sources/library.bib": text})
    build_ok(site)
    entry = page(site / "output", "2016/08/02/harbour/").find(id="source-1")
    links = [a["href"] for a in entry.find_all("a")]
    assert url in links and archived in links, links


def test_a_biblatex_date_without_a_day_is_a_warning_at_it(tmp_path: Path) -> None:
    text = BIB.replace("date         = {2016-08-01},", "date         = {2016-08},")
    result = build_ok(site_with(tmp_path, {"content/sources/lib.bib": text}))
    assert "content/sources/lib.bib:16:3: warning: `date` 2016-08 gives no full date; it is left out" \
        in result.stderr, result.stderr


def test_bibtex_missing_publisher_is_located_at_the_entry(tmp_path: Path) -> None:
    text = "% one entry\n@article{lw-harbour,\n  title = {Harbour},\n  url = {https://news.example.com/h},\n}\n"
    result = run_cli("check", site_with(tmp_path, {"content/sources/lib.bib": text}))
    assert result.code == 1
    assert "content/sources/lib.bib:2:1: error: `publisher` in this source is required" in result.stderr


def test_bibtex_bad_url_is_located_at_its_field(tmp_path: Path) -> None:
    text = BIB.replace("url          = {https://news.example.com/harbour}", "url = {ftp://x.example/h}")
    result = run_cli("check", site_with(tmp_path, {"content/sources/lib.bib": text}))
    assert result.code == 1
    assert "content/sources/lib.bib:9:3: error: `url` must be an http or https URL" in result.stderr


def test_a_bibtex_field_written_twice_is_located_where_it_is_written_again(tmp_path: Path) -> None:
    # The briefing cites this entry: its citation is not also reported as of a source found nowhere.
    text = ("@article{lw-harbour,\n  title = {A},\n  journal = {J},\n  url = {https://d.example/},\n"
            "  title = {B}}\n")
    result = run_cli("check", site_with(tmp_path, {"content/sources/lib.bib": text}))
    assert error_lines(result.stderr) == [
        "content/sources/lib.bib:5:3: error: BibTeX field 'title' is written twice in this entry"]


def test_bibtex_syntax_error_and_duplicate_key_are_located(tmp_path: Path) -> None:
    text = (BIB + "\n@misc{lw-harbour,\n  title = {Again},\n  publisher = {X},\n}\n"
            "\n@misc{broken,\n  title = {x\n")
    result = run_cli("check", site_with(tmp_path, {"content/sources/lib.bib": text}))
    assert result.code == 1
    lines = error_lines(result.stderr)
    assert any(x.startswith("content/sources/lib.bib:20:1: error: BibTeX key 'lw-harbour' is used twice")
               for x in lines), lines
    assert any(x.startswith("content/sources/lib.bib:25:1: error: invalid BibTeX") for x in lines), lines
    assert "Traceback" not in result.stderr


def test_the_same_source_in_two_formats_is_one_source(tmp_path: Path) -> None:
    yaml_entry = ("- id: lw-harbour\n  title: Harbour reopens after strike\n  publisher: Lindmark Wire\n"
                  "  url: https://news.example.com/harbour\n  published: 2016-08-02\n  accessed: 2016-08-03\n"
                  "  authors: [Ana Berg, Wire staff]\n")
    site = site_with(tmp_path, {"content/sources/a.yaml": yaml_entry,
                                "content/sources/b.json": json.dumps(CSL, indent=2)})
    build_ok(site)


def test_the_same_id_with_other_fields_across_formats_names_both_places(tmp_path: Path) -> None:
    yaml_entry = "- id: lw-harbour\n  title: Another title\n  publisher: Lindmark Wire\n  url: https://x.example/h\n"
    site = site_with(tmp_path, {"content/sources/a.yaml": yaml_entry,
                                "content/sources/b.bib": BIB})
    result = run_cli("check", site)
    assert result.code == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith("content/sources/b.bib:2:1: error: source id 'lw-harbour' is also declared at "
                           "content/sources/a.yaml:1:3 with different fields"), line
