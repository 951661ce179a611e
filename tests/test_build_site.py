"""A good site, built for real in tmp_path, checked file by file against SPEC sections 3 to 7."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from array import array
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import (
    REPO,
    CliResult,
    assert_no_broken_links,
    build_ok,
    crawl,
    make_site,
    page,
    run_cli,
    soup_of,
    text_of,
    tree_bytes,
    write_files,
)

from briefgen.build import loading, pipeline
from briefgen.build.cache import STORED, BuildCache
from briefgen.build.options import BuildOptions
from briefgen.i18n.catalog import Catalog, load_catalog

BASE = "https://example.org/"

CONFIG = """\
[site]
title = "Test Briefings"
base_url = "https://example.org/"
language = "en"
timezone = "America/New_York"
description = "Briefings for the test suite"

[build]
per_page = 2
"""

REGISTRY = """\
- id: alpha
  title: "Alpha reports the first thing"
  publisher: Alpha News
  url: https://alpha.example/first
  published: 2016-08-01
- id: beta
  title: "Beta reports the second thing"
  publisher: Beta Times
  url: https://beta.example/second
  published: 2016-08-02
- id: gamma
  title: "Gamma background piece"
  publisher: Alpha News
  url: https://alpha.example/background
  published: 2016-07-30
"""

MAIN = """\
---
title: "Main briefing on the corridors"
date: 2016-08-02T12:00:00+00:00
topics: [Syria, Russia]
summary: The main briefing's own summary.
sources:
  - alpha
  - gamma
  - id: inline-one
    title: "An inline source"
    publisher: Beta Times
    url: https://beta.example/inline
    published: 2016-08-02
curators: [A. Editor]
---
First claim [@alpha]. Two at once [@beta; @alpha]. With a locator [@alpha, para. 6].
The inline one [@inline-one].

Not a citation: \\[@escaped] and `[@codespan]` and write to user@example.org today.

```
[@codeblock] stays literal
```

## Why it matters

He said "it's fine" -- and left.[^1] See [the late one](../late.md)
and [about](../../../pages/about.md#team).

| Side | Claim |
| ---- | ----- |
| A    | yes   |

[^1]: A footnote.
"""

FILES: dict[str, str | bytes] = {
    "content/sources/registry.yaml": REGISTRY,
    "content/briefings/2016/aug/main.md": MAIN,
    "content/briefings/2016/late.md": """\
        ---
        title: Late night in New York
        date: 2016-08-02T02:00:00+00:00
        topics: [Syria]
        sources: [beta]
        ---
        **Late** news from [Alpha](https://alpha.example/) arrived overnight [@beta], as _expected_.

        Second paragraph.
        """,
    "content/briefings/2016/cyr.md": """\
        ---
        title: Алеппо под огнём
        date: 2016-07-15
        topics: [Syria]
        ---
        Cyrillic.
        """,
    "content/briefings/2016/greek.md": """\
        ---
        title: Αθήνα και Βρυξέλλες
        date: 2016-07-14
        topics: [Europe]
        ---
        Greek.
        """,
    "content/briefings/2016/accent.md": """\
        ---
        title: Café société à Zürich
        date: 2016-06-01
        topics: [Europe]
        ---
        Accents.
        """,
    "content/briefings/2016/explicit.md": """\
        ---
        title: A title that is not the slug
        slug: custom-slug
        date: 2016-09-01
        topics: [Syria]
        ---
        Explicit.
        """,
    "content/briefings/2016/draft.md": """\
        ---
        title: Draft briefing
        date: 2016-09-05
        draft: true
        topics: [Syria]
        ---
        Draft text.
        """,
    "content/briefings/future.md": """\
        ---
        title: Future briefing
        date: 2099-01-01
        topics: [Syria]
        ---
        Future text.
        """,
    "content/pages/about.md": """\
        ---
        title: About us
        ---
        About this site.

        ## Team

        We are a team.
        """,
    "static/files/hello.txt": "hello\n",
}

# Newest first, as the site lists them.
EXPLICIT = "2016/09/01/custom-slug/"
MAIN_URL = "2016/08/02/main-briefing-on-the-corridors/"
LATE = "2016/08/01/late-night-in-new-york/"
CYR = "2016/07/15/aleppo-pod-ognem/"
ACCENT = "2016/06/01/cafe-societe-a-zurich/"
NEWEST_FIRST_TITLES = [
    "A title that is not the slug", "Main briefing on the corridors", "Late night in New York",
    "Алеппо под огнём", "Αθήνα και Βρυξέλλες", "Café société à Zürich",
]
BRIEFING_URL = re.compile(r"^/(\d{4}/\d{2}/\d{2}/[a-z0-9-]+/)$")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_site(tmp_path_factory.mktemp("main"), FILES, CONFIG)
    build_ok(root)
    return root


@pytest.fixture(scope="module")
def out(site: Path) -> Path:
    return site / "output"


def briefing_links(soup: BeautifulSoup, base_path: str = "/") -> list[str]:
    """Site-relative URLs of the briefings a page lists in <main>, in order, once each."""
    main = soup.find("main")
    assert main is not None, "page has no <main>"
    found: list[str] = []
    for a in main.find_all("a", href=True):
        href = str(a["href"])
        if not href.startswith(base_path):
            continue
        matched = BRIEFING_URL.match("/" + href[len(base_path):])
        if matched and matched.group(1) not in found:
            found.append(matched.group(1))
    return found


def html_files(output: Path) -> list[Path]:
    return sorted(output.rglob("*.html"))


def all_links(output: Path) -> list[tuple[Path, str]]:
    links = []
    for path in html_files(output):
        soup = soup_of(path)
        for tag in soup.find_all(["a", "link", "script", "img"]):
            for attribute in ("href", "src"):
                if tag.has_attr(attribute):
                    links.append((path, str(tag[attribute])))
    return links


# ---------------------------------------------------------------- URLs (SPEC §5)


def test_every_url_of_the_site_layout_exists(out: Path) -> None:
    expected = [
        "index.html", "page/2/index.html", "page/3/index.html",
        *(u + "index.html" for u in (EXPLICIT, MAIN_URL, LATE, CYR, ACCENT)),
        "2016/index.html", "2016/08/index.html", "2016/08/02/index.html", "2016/08/01/index.html",
        "archive/index.html", "topics/index.html", "topics/syria/index.html",
        "topics/syria/page/2/index.html", "topics/syria/feed.xml", "topics/europe/feed.xml",
        "sources/index.html", "sources/alpha-news/index.html", "sources/beta-times/index.html",
        "about-us/index.html", "feed.xml", "feed.json", "sitemap.xml", "robots.txt", "404.html",
    ]
    missing = [name for name in expected if not (out / name).is_file()]
    assert not missing, f"not built: {missing}"
    assert not (out / "page/4/index.html").exists()
    assert not (out / "page/1/index.html").exists(), "page 1 of the home page is / itself"


def test_every_prefix_of_a_briefing_url_is_a_page(out: Path) -> None:
    briefing_pages = [p for p in out.glob("[0-9]*/[0-9]*/[0-9]*/*/index.html")]
    assert len(briefing_pages) == 6
    for path in briefing_pages:
        rel = path.parent.relative_to(out).parts
        for depth in (1, 2, 3):
            prefix = out.joinpath(*rel[:depth], "index.html")
            assert prefix.is_file(), f"{'/'.join(rel[:depth])}/ is missing for {path}"


def test_standalone_page_is_built_and_linked(out: Path) -> None:
    about = page(out, "about-us/")
    assert "About this site." in text_of(about.find("main"))
    home = page(out, "")
    assert home.find("a", href="/about-us/") is not None, "the home page does not link the page"


# ---------------------------------------------------------------- citations (SPEC §3)


def test_citations_are_numbered_in_order_of_first_citation(out: Path) -> None:
    soup = page(out, MAIN_URL)
    sups = soup.select("main sup.citation")
    numbers = [text_of(s) for s in sups]
    # `[@beta; @alpha]` shows its markers sorted: 1, 2.
    assert numbers == ["1", "1", "2", "1", "3"]
    assert [s["id"] for s in sups] == [
        "cite-ref-1-1", "cite-ref-1-2", "cite-ref-2-1", "cite-ref-1-3", "cite-ref-3-1",
    ]
    for sup in sups:
        link = sup.find("a", href=True)
        assert link is not None and link["href"] == f"#source-{text_of(sup)}"
        assert soup.find(id=f"source-{text_of(sup)}") is not None


def test_sources_list_entries_link_back_to_each_citation(out: Path) -> None:
    soup = page(out, MAIN_URL)
    entries = [soup.find(id=f"source-{n}") for n in (1, 2, 3, 4)]
    assert all(e is not None for e in entries), "source-1 .. source-4 must all exist"
    titles = [text_of(e) for e in entries]
    assert "Alpha reports the first thing" in titles[0]
    assert "Beta reports the second thing" in titles[1]
    assert "An inline source" in titles[2]
    assert "Gamma background piece" in titles[3]
    backrefs = {n: [a["href"] for a in e.find_all("a", href=re.compile(r"^#cite-ref-"))]
                for n, e in enumerate(entries, start=1)}
    assert backrefs == {
        1: ["#cite-ref-1-1", "#cite-ref-1-2", "#cite-ref-1-3"],
        2: ["#cite-ref-2-1"],
        3: ["#cite-ref-3-1"],
        4: [],
    }
    for hrefs in backrefs.values():
        for href in hrefs:
            assert soup.find(id=href[1:]) is not None, f"{href} points nowhere"


def test_a_citation_wrapped_onto_the_next_line_is_a_citation(tmp_path: Path) -> None:
    body = ("Hard-wrapped text [@alpha;\n@beta, para.\n6] goes on.\n\n"
            "- A list item [@alpha,\n  p. 2] too.\n\n> A quotation [@beta,\n> p. 3] as well.\n")
    briefing = "---\ntitle: Wrapped\ndate: 2016-08-02\n---\n" + body
    root = make_site(tmp_path, {"content/sources/registry.yaml": REGISTRY,
                                "content/briefings/2016/wrap.md": briefing}, CONFIG)
    build_ok(root)
    soup = page(root / "output", "2016/08/02/wrapped/")
    cites = soup.find("main").find_all("sup", class_="citation")
    assert [(text_of(c), c.a.get("title")) for c in cites] == [
        ("1", None), ("2", "para. 6"), ("1", "p. 2"), ("2", "p. 3")]
    assert "[@" not in text_of(soup.find("main"))


def briefing_site(tmp_path: Path, name: str, title: str, body: str) -> tuple[Path, CliResult]:
    """A site of one briefing (`title`, 2 August 2016) citing the registry's sources, built."""
    root = make_site(tmp_path, {"content/sources/registry.yaml": REGISTRY,
                                f"content/briefings/2016/{name}.md":
                                    f"---\ntitle: {title}\ndate: 2016-08-02\n---\n{body}"}, CONFIG)
    return root, build_ok(root)


def test_citations_side_by_side_read_as_a_group(tmp_path: Path) -> None:
    """`[@a] [@b]` and `[@a][@b]` read "1, 2" as `[@a; @b]` does, not "12"."""
    body = "Grouped [@alpha; @beta].\n\nApart [@beta] [@alpha].\n\nTouching [@alpha][@beta] here.\n"
    root, _ = briefing_site(tmp_path, "side", "Side", body)
    paragraphs = [p for p in page(root / "output", "2016/08/02/side/").find("main").find_all("p")
                  if p.find("sup", class_="citation")]
    assert [p.get_text() for p in paragraphs] == ["Grouped1, 2.", "Apart1, 2.", "Touching1, 2 here."]
    assert [len(p.find_all("span", class_="citation-group")) for p in paragraphs] == [1, 1, 1]


def test_multiple_citations_and_locators(out: Path) -> None:
    soup = page(out, MAIN_URL)
    group = soup.find(id="cite-ref-2-1").parent
    # `[@beta; @alpha]` reads "1, 2": sorted and separated, never "21".
    numbers = [text_of(s) for s in group.find_all("sup", class_="citation")]
    assert numbers == ["1", "2"], numbers
    assert group.get_text() == "1, 2"
    assert "para. 6" in text_of(soup.find(id="source-1")), "the locator is shown with the source"
    locator_ref = soup.find(id="cite-ref-1-3")
    assert "para. 6" in str(locator_ref), "the citation with a locator carries it"
    body_text = text_of(soup.find("main"))
    for raw in ("[@alpha", "@beta;", "[@inline-one]", "para. 6]"):
        assert raw not in body_text, f"citation syntax {raw!r} leaked into the page"


def test_uncited_front_matter_sources_follow_cited_ones(out: Path) -> None:
    soup = page(out, MAIN_URL)
    order = [tag["id"] for tag in soup.find_all(id=re.compile(r"^source-\d+$"))]
    assert order == ["source-1", "source-2", "source-3", "source-4"]
    gamma = soup.find(id="source-4")
    assert "Gamma background piece" in text_of(gamma)
    assert not soup.select('sup.citation a[href="#source-4"]'), "gamma is listed, never cited"


def test_escaped_citations_and_code_stay_literal(out: Path) -> None:
    soup = page(out, MAIN_URL)
    main = soup.find("main")
    text = text_of(main)
    assert "[@escaped]" in text
    assert "\\[@escaped]" not in text
    codes = [c.get_text() for c in main.find_all("code")]
    assert "[@codespan]" in codes
    assert any("[@codeblock] stays literal" in c for c in codes)
    for code in main.find_all(["code", "pre"]):
        assert code.find("sup") is None
    assert "user@example.org" in text
    assert not main.find("a", href=re.compile("user@example")), "an address is not a citation"
    assert len(main.select("sup.citation")) == 5


def test_inline_source_is_numbered_like_a_registry_source(out: Path) -> None:
    soup = page(out, MAIN_URL)
    entry = soup.find(id="source-3")
    link = entry.find("a", href="https://beta.example/inline")
    assert link is not None and text_of(link) == "An inline source (external site)"


# ---------------------------------------------------------------- Markdown


def test_markdown_tables_footnotes_smart_quotes_and_heading_ids(out: Path) -> None:
    soup = page(out, MAIN_URL)
    main = soup.find("main")
    table = main.find("table")
    assert table is not None and [text_of(th) for th in table.find_all("th")] == ["Side", "Claim"]
    heading = main.find("h2", string="Why it matters")
    assert heading is not None and heading.get("id") == "why-it-matters"
    text = main.get_text()
    assert "\u201cit\u2019s fine\u201d" in text, "straight quotes were not made typographic"
    assert "\u2013" in text, "-- was not made a dash"
    refs = main.select('a[href^="#fn"]')
    assert refs, "no footnote reference"
    for ref in refs:
        assert soup.find(id=ref["href"][1:]) is not None
    assert "A footnote." in text


def test_links_to_content_files_become_urls(out: Path) -> None:
    soup = page(out, MAIN_URL)
    late = soup.find("a", string="the late one")
    assert late is not None and late["href"] == "/" + LATE
    about = soup.find("a", string="about")
    assert about is not None and about["href"] == "/about-us/#team"
    assert page(out, "about-us/").find(id="team") is not None
    assert ".md" not in " ".join(str(a.get("href")) for a in soup.find_all("a"))


def test_summary_defaults_to_first_paragraph_as_plain_text(out: Path) -> None:
    listing = page(out, "page/2/")
    text = text_of(listing.find("main"))
    assert "Late news from Alpha arrived overnight, as expected." in text
    assert "Second paragraph" not in text
    feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    summaries = {item["title"]: item.get("summary") for item in feed["items"]}
    late = "Late news from Alpha arrived overnight, as expected."
    assert summaries["Late night in New York"] == late
    assert summaries["Main briefing on the corridors"] == "The main briefing's own summary."


def test_summary_keeps_superscripts_and_reads_a_paragraph_with_attributes(tmp_path: Path) -> None:
    body = ("The flooded area grew to 40 km<sup>2</sup> as the 1<sup>st</sup> convoy arrived [@alpha].\n"
            "{: .lead }\n\nSecond paragraph.\n")
    root, _ = briefing_site(tmp_path, "flood", "Flood", body)
    soup = page(root / "output", "2016/08/02/flood/")
    assert soup.find("p", class_="lead") is not None
    expected = "The flooded area grew to 40 km2 as the 1st convoy arrived."
    assert soup.find("meta", attrs={"name": "description"})["content"] == expected
    feed = json.loads((root / "output/feed.json").read_text(encoding="utf-8"))
    assert feed["items"][0]["summary"] == expected


def test_cited_headings_get_unique_ids_and_table_of_contents_entries_without_numbers(tmp_path: Path) -> None:
    body = ("[TOC]\n\n## Background [@alpha]\n\nText.\n\n## Background [@beta]\n\nMore.\n\n"
            "## Reaction\n\nA.\n\n## Reaction [@alpha; @beta]\n\nB.\n")
    root, _ = briefing_site(tmp_path, "heads", "Heads", body)
    raw = (root / "output/2016/08/02/heads/index.html").read_text("utf-8")
    assert "data-toc-label" not in raw
    soup = BeautifulSoup(raw, "html.parser")
    ids = [h["id"] for h in soup.find("main").find_all("h2")
           if h.get("id", "").startswith(("background", "reaction"))]
    assert ids == ["background", "background_1", "reaction", "reaction_1"]
    toc = soup.find("div", class_="toc")
    assert [(a["href"], text_of(a)) for a in toc.find_all("a")] == [
        ("#background", "Background"), ("#background_1", "Background"),
        ("#reaction", "Reaction"), ("#reaction_1", "Reaction")]


# ---------------------------------------------------------------- slugs


def test_slugs_are_transliterated_and_explicit_slugs_win(out: Path) -> None:
    slugs = {p.parent.name for p in out.glob("[0-9]*/[0-9]*/[0-9]*/*/index.html")}
    assert "aleppo-pod-ognem" in slugs
    assert "cafe-societe-a-zurich" in slugs
    assert "custom-slug" in slugs
    assert "a-title-that-is-not-the-slug" not in slugs
    greek = [s for s in slugs if (out / "2016/07/14" / s).is_dir()]
    assert len(greek) == 1
    assert re.fullmatch(r"ath[a-z]*-kai-[a-z]+", greek[0]), greek[0]
    for slug in slugs:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) and len(slug) <= 80, slug


# ---------------------------------------------------------------- lists and indexes


def test_home_is_paginated_newest_first(out: Path) -> None:
    pages = [briefing_links(page(out, rel)) for rel in ("", "page/2/", "page/3/")]
    greek = "2016/07/14/" + _greek_slug(out) + "/"
    assert pages == [[EXPLICIT, MAIN_URL], [LATE, CYR], [greek, ACCENT]]
    first, second, last = (page(out, rel) for rel in ("", "page/2/", "page/3/"))
    assert first.find("a", rel="next")["href"] == "/page/2/"
    assert first.find("a", rel="prev") is None
    assert second.find("a", rel="prev")["href"] == "/"
    assert second.find("a", rel="next")["href"] == "/page/3/"
    assert last.find("a", rel="next") is None


def _greek_slug(out: Path) -> str:
    (found,) = [p.name for p in (out / "2016/07/14").iterdir() if p.is_dir()]
    return found


def test_topic_pages_are_paginated_and_list_their_briefings(out: Path) -> None:
    first, second = page(out, "topics/syria/"), page(out, "topics/syria/page/2/")
    assert briefing_links(first) == [EXPLICIT, MAIN_URL]
    assert briefing_links(second) == [LATE, CYR]
    assert not (out / "topics/syria/page/3").exists()
    assert first.find("a", rel="next")["href"] == "/topics/syria/page/2/"
    assert second.find("a", rel="prev")["href"] == "/topics/syria/"
    assert briefing_links(page(out, "topics/russia/")) == [MAIN_URL]
    assert len(briefing_links(page(out, "topics/europe/"))) == 2


def test_topic_index_lists_topics_with_counts(out: Path) -> None:
    soup = page(out, "topics/")
    counts = {}
    for slug in ("syria", "europe", "russia"):
        link = soup.find("a", href=f"/topics/{slug}/")
        assert link is not None, f"topic {slug} missing from /topics/"
        counts[slug] = text_of(link.find_parent("li"))
    assert re.search(r"\b4 briefings\b", counts["syria"]), counts["syria"]
    assert re.search(r"\b2 briefings\b", counts["europe"]), counts["europe"]
    assert re.search(r"\b1 briefing\b", counts["russia"]), counts["russia"]
    assert not (out / "topics/draft").exists()


def test_briefing_page_shows_topics_and_adjacent_briefings(out: Path) -> None:
    soup = page(out, MAIN_URL)
    main = soup.find("main")
    topic_hrefs = {a["href"] for a in main.find_all("a", href=re.compile(r"^/topics/"))}
    assert topic_hrefs == {"/topics/syria/", "/topics/russia/"}
    assert main.find("a", rel="prev")["href"] == "/" + LATE, "prev is the next older briefing"
    assert main.find("a", rel="next")["href"] == "/" + EXPLICIT, "next is the next newer briefing"
    assert page(out, EXPLICIT).find("main").find("a", rel="next") is None
    assert page(out, ACCENT).find("main").find("a", rel="prev") is None


def test_date_archives_bucket_in_the_site_timezone(out: Path) -> None:
    # 2016-08-02T02:00Z is the evening of 1 August in New York.
    assert (out / LATE / "index.html").is_file()
    assert not (out / "2016/08/02/late-night-in-new-york").exists()
    assert briefing_links(page(out, "2016/08/01/")) == [LATE]
    assert briefing_links(page(out, "2016/08/02/")) == [MAIN_URL]
    assert briefing_links(page(out, "2016/08/")) == [MAIN_URL, LATE]
    time = page(out, LATE).find("main").find("time")
    assert time["datetime"].startswith("2016-08-01T22:00:00-04:00"), time


def test_year_month_and_archive_pages_count_briefings(out: Path) -> None:
    year = text_of(page(out, "2016/").find("main"))
    assert re.search(r"\b6 briefings\b", year), year
    archive = page(out, "archive/")
    main = archive.find("main")
    assert main.find("a", href="/2016/") is not None
    months = {m: text_of(main.find("a", href=f"/2016/{m}/").find_parent("li"))
              for m in ("06", "07", "08", "09")}
    assert re.search(r"\b1 briefing\b", months["06"])
    assert re.search(r"\b2 briefings\b", months["07"])
    assert re.search(r"\b2 briefings\b", months["08"])
    assert re.search(r"\b1 briefing\b", months["09"])
    assert main.find("a", href="/2016/05/") is None


def test_publisher_pages_list_cited_articles_with_citing_briefings(out: Path) -> None:
    alpha = page(out, "sources/alpha-news/").find("main")
    text = text_of(alpha)
    assert "Alpha reports the first thing" in text
    assert "Gamma background piece" not in text, "an uncited source is not a cited article"
    assert briefing_links(BeautifulSoup(str(alpha), "html.parser")) == [MAIN_URL]

    beta = page(out, "sources/beta-times/").find("main")
    articles = {}
    for title in ("Beta reports the second thing", "An inline source"):
        link = next((a for a in beta.find_all("a", class_="external")
                     if text_of(a) == f"{title} (external site)"), None)
        assert link is not None, f"{title!r} missing from the Beta Times page"
        item = link.find_parent("li")
        articles[title] = briefing_links(BeautifulSoup(f"<main>{item}</main>", "html.parser"))
    assert articles["Beta reports the second thing"] == [MAIN_URL, LATE]
    assert articles["An inline source"] == [MAIN_URL]

    index = page(out, "sources/")
    assert index.find("a", href="/sources/alpha-news/") is not None
    assert index.find("a", href="/sources/beta-times/") is not None


# ---------------------------------------------------------------- drafts and the future


def test_drafts_and_future_briefings_are_left_out(out: Path) -> None:
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"Draft briefing" not in data, f"a draft leaked into {path}"
            assert b"Future briefing" not in data, f"a future briefing leaked into {path}"
    assert not (out / "2099").exists()
    assert not (out / "2016/09/05").exists()


def test_drafts_and_future_flags_include_them(site: Path, tmp_path: Path) -> None:
    both = tmp_path / "both"
    build_ok(site, "--output", both, "--drafts", "--future")
    assert (both / "2016/09/05/draft-briefing/index.html").is_file()
    assert (both / "2099/01/01/future-briefing/index.html").is_file()
    assert "/2016/09/05/draft-briefing/" in briefing_links_all(both, "topics/syria/")
    drafts = tmp_path / "drafts"
    build_ok(site, "--output", drafts, "--drafts")
    assert (drafts / "2016/09/05/draft-briefing/index.html").is_file()
    assert not (drafts / "2099").exists()


def briefing_links_all(output: Path, first: str) -> list[str]:
    """Briefing URLs on every page of a paginated list, as root-relative hrefs."""
    found, rel = [], first
    while rel is not None:
        soup = page(output, rel)
        found += ["/" + u for u in briefing_links(soup)]
        nxt = soup.find("a", rel="next")
        rel = str(nxt["href"]).lstrip("/") if nxt else None
    return found


# ---------------------------------------------------------------- feeds, sitemap, hosting files


def test_atom_feed(out: Path) -> None:
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Test Briefings"
    assert [e.title for e in feed.entries] == NEWEST_FIRST_TITLES
    published = [dt.datetime(*e.published_parsed[:6]) for e in feed.entries]
    assert published == sorted(published, reverse=True)
    assert feed.entries[1].link == BASE + MAIN_URL
    for entry in feed.entries:
        assert entry.link.startswith(BASE) and entry.id.startswith(BASE)
        content = entry.content[0].value
        assert not re.search(r'(href|src)="(/|#)', content), "relative link in a feed entry"
    self_links = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_links == [BASE + "feed.xml"]
    main_entry = feed.entries[1]
    assert [(link.rel, link.type, link.href) for link in main_entry.links] == [
        ("alternate", "text/html", BASE + MAIN_URL)]
    assert [(tag.term, tag.label) for tag in main_entry.tags] == [("syria", "Syria"), ("russia", "Russia")]
    assert [author.name for author in main_entry.authors] == ["A. Editor"]
    assert main_entry.summary == "The main briefing's own summary."
    main = main_entry.content[0].value
    assert f'href="{BASE}{MAIN_URL}#source-1"' in main
    assert "Alpha reports the first thing" in main, "the feed entry carries its sources"
    # Without the site's CSS, text meant for screen readers alone would show.
    assert "visually-hidden" not in main and "(external site)" not in main


def test_per_topic_atom_feeds(out: Path) -> None:
    syria = feedparser.parse((out / "topics/syria/feed.xml").read_bytes())
    assert not syria.bozo
    assert [e.link for e in syria.entries] == [BASE + u for u in (EXPLICIT, MAIN_URL, LATE, CYR)]
    europe = feedparser.parse((out / "topics/europe/feed.xml").read_bytes())
    assert [e.title for e in europe.entries] == NEWEST_FIRST_TITLES[4:]
    assert [link.href for link in syria.feed.links if link.rel == "self"] == [
        BASE + "topics/syria/feed.xml"
    ]
    topic_page = page(out, "topics/syria/")
    alternates = [link["href"] for link in topic_page.find_all("link", rel="alternate")]
    assert BASE + "topics/syria/feed.xml" in alternates


def test_json_feed(out: Path) -> None:
    feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["home_page_url"] == BASE
    assert feed["feed_url"] == BASE + "feed.json"
    assert [item["title"] for item in feed["items"]] == NEWEST_FIRST_TITLES
    dates = [dt.datetime.fromisoformat(item["date_published"]) for item in feed["items"]]
    assert dates == sorted(dates, reverse=True)
    for item in feed["items"]:
        assert item["url"].startswith(BASE) and item["id"]
        assert not re.search(r'(href|src)="(/|#)', item["content_html"])
    assert feed["items"][1]["tags"] == ["Syria", "Russia"]


def test_sitemap_lists_every_page_with_absolute_urls(out: Path) -> None:
    root = ET.fromstring((out / "sitemap.xml").read_bytes())
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [loc.text or "" for loc in root.findall("s:url/s:loc", ns)]
    assert locs and len(locs) == len(set(locs))
    for loc in locs:
        assert loc.startswith(BASE), loc
        rel = loc[len(BASE):]
        target = out / (rel + "index.html" if rel == "" or rel.endswith("/") else rel)
        assert target.is_file(), f"sitemap names {loc}, which was not built"
    pages = {p.relative_to(out).as_posix() for p in out.rglob("index.html")}
    listed = {urlsplit(loc).path.lstrip("/") + "index.html" for loc in locs}
    assert pages == listed, f"pages left out of the sitemap: {sorted(pages - listed)}"


def test_robots_txt_names_the_sitemap(out: Path) -> None:
    robots = (out / "robots.txt").read_text(encoding="utf-8")
    assert re.search(r"(?im)^sitemap:\s*https://example\.org/sitemap\.xml\s*$", robots), robots
    assert re.search(r"(?im)^user-agent:", robots)


def test_404_page(out: Path) -> None:
    soup = soup_of(out / "404.html")
    assert soup.find("main") is not None
    assert soup.find("a", href="/") is not None, "the 404 page links home"


def test_canonical_and_open_graph_urls_are_absolute(out: Path) -> None:
    for path in html_files(out):
        soup = soup_of(path)
        rel = path.relative_to(out).as_posix()
        expected = BASE + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
        canonical = soup.find("link", rel="canonical")
        assert canonical is not None and canonical["href"] == expected, rel
        og_url = soup.find("meta", property="og:url")
        assert og_url is not None and og_url["content"] == expected, rel
        assert soup.find("meta", property="og:title")["content"], rel
    main_og = page(out, MAIN_URL).find("meta", property="og:title")["content"]
    assert main_og == "Main briefing on the corridors"


def test_version_control_folders_in_static_are_not_published(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"content/briefings/a.md": MINIMAL, "static/logo.txt": "logo\n",
                                     "static/.git/config": "[core]\n", "static/img/.svn/entries": "x\n"}
    root = make_site(tmp_path, files, CONFIG)
    build_ok(root)
    assert (root / "output" / "logo.txt").is_file()
    assert not (root / "output" / ".git").exists() and not (root / "output" / "img").exists()


def test_static_files_through_a_link_to_a_folder_are_published_and_followed(tmp_path: Path) -> None:
    """As content files are read: a link to a folder is the folder (a loop is walked once), and
    a file changed behind it is published by the next build."""
    shared = tmp_path / "shared"
    write_files(shared, {"img/logo.png": "PNG\n"})
    root = make_site(tmp_path, {"content/briefings/a.md": MINIMAL, "static/plain.txt": "plain\n"}, CONFIG)
    (root / "static/img").symlink_to(shared / "img", target_is_directory=True)
    (shared / "img/loop").symlink_to(shared / "img", target_is_directory=True)
    build_ok(root)
    assert (root / "output/img/logo.png").read_text("utf-8") == "PNG\n"
    assert not (root / "output/img/loop").exists()
    (shared / "img/logo.png").write_text("PNG, redrawn\n", "utf-8")
    build_ok(root)
    assert (root / "output/img/logo.png").read_text("utf-8") == "PNG, redrawn\n"


def test_theme_static_files_are_content_hashed_and_referenced(out: Path) -> None:
    soup = page(out, "")
    sheet = soup.find("link", rel="stylesheet")
    assert sheet is not None
    found = re.fullmatch(r"/static/style\.([0-9a-f]{8,})\.css", sheet["href"])
    assert found, sheet["href"]
    built = (out / sheet["href"].lstrip("/")).read_bytes()
    assert hashlib.sha256(built).hexdigest().startswith(found.group(1)), "the name is the served bytes' hash"
    # Served without the theme author's comments and spare white space; strings kept as written.
    source = (REPO / "themes/default/static/style.css").read_text(encoding="utf-8")
    assert b"/*" not in built and len(built) < 0.9 * len(source.encode())
    for string in re.findall(r'"[^"\n]*"', re.sub(r"/\*.*?\*/", "", source, flags=re.S)):
        assert string.encode() in built, string
    squeezed = re.sub(rb"\s+", b"", built)
    assert squeezed == re.sub(rb"\s+", b"", re.sub(rb"/\*.*?\*/", b"", source.encode(), flags=re.S)).replace(
        b";}", b"}"), "only white space and comments were taken out"
    assert not (out / "static/style.css").exists(), "the unhashed name is not published"
    assert (out / "files/hello.txt").read_text() == "hello\n", "site static/ is copied as it is"


def test_no_broken_internal_links_or_fragments(out: Path) -> None:
    result = assert_no_broken_links(out, "/", BASE)
    assert len(result.visited) >= 30
    missing = {p.relative_to(out).as_posix() for p in out.rglob("*.html")} - result.visited
    assert not missing, f"pages no link reaches: {sorted(missing)}"


# ---------------------------------------------------------------- a site under a sub-path


def test_a_rebuild_under_another_base_url_moves_the_themes_links(site: Path, tmp_path: Path) -> None:
    # The default theme writes its links as filters ('home' | url_for) with constant arguments;
    # the build cache keeps compiled templates by their text, which the base URL is not part of.
    out = tmp_path / "out"
    build_ok(site, "--output", out)
    assert page(out, "").select_one("nav.site-nav a")["href"] == "/"
    build_ok(site, "--base-url", "https://example.org/brief/", "--output", out)
    home = page(out, "")
    assert [a["href"] for a in home.select("nav.site-nav a")][:4] == [
        "/brief/", "/brief/topics/", "/brief/archive/", "/brief/sources/"]
    assert home.find("link", rel="stylesheet")["href"].startswith("/brief/")


def test_base_url_with_a_sub_path(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub"
    base = "https://example.org/brief/"
    build_ok(site, "--base-url", base, "--output", out)
    for path, link in all_links(out):
        parts = urlsplit(link)
        if link.startswith("/"):
            assert link.startswith("/brief/"), f"{path}: {link}"
        elif parts.netloc == "example.org":
            assert link.startswith(base), f"{path}: {link}"
        else:
            assert parts.scheme in ("http", "https") or link.startswith("#"), f"{path}: {link}"
    result = crawl(out, "/brief/", base)
    assert not result.broken, "\n".join(map(str, result.broken))
    assert len(result.visited) >= 30
    assert page(out, "").find("link", rel="canonical")["href"] == base
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert all(e.link.startswith(base) for e in feed.entries)
    assert f"Sitemap: {base}sitemap.xml" in (out / "robots.txt").read_text()
    locs = re.findall(r"<loc>([^<]+)</loc>", (out / "sitemap.xml").read_text())
    assert locs and all(loc.startswith(base) for loc in locs)
    json_feed = json.loads((out / "feed.json").read_text())
    assert json_feed["home_page_url"] == base


# ---------------------------------------------------------------- reproducible builds


def test_builds_are_byte_identical(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, CONFIG)
    first = tmp_path / "one"
    build_ok(root, "--output", first, "--jobs", "1")
    once = tree_bytes(first)
    build_ok(root, "--output", first, "--jobs", "1")
    assert tree_bytes(first) == once, "building twice changed the output"
    build_ok(root, "--output", tmp_path / "two", "--jobs", "2")
    assert tree_bytes(tmp_path / "two") == once, "--jobs 2 differs from --jobs 1"
    build_ok(root, "--output", tmp_path / "three", "--no-cache", "--jobs", "2")
    assert tree_bytes(tmp_path / "three") == once, "--no-cache differs"


def test_a_build_without_the_cache_keeps_what_it_converts_in_a_folder_it_deletes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--no-cache` reads and writes no cache of the site's, yet keeps the bodies it converts
    out of memory, in a folder of the system's temporary folder that it deletes after it,
    whether the build succeeds or fails; its output is a cached build's."""
    root = make_site(tmp_path, FILES, CONFIG)
    build_ok(root, "--output", tmp_path / "cached")
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    shutil.rmtree(root / ".briefgen-cache")
    build_ok(root, "--no-cache", "--jobs", "2")
    assert tree_bytes(root / "output") == tree_bytes(tmp_path / "cached")
    assert not (root / ".briefgen-cache").exists(), "--no-cache made a cache"
    assert list(temporary.iterdir()) == [], "the build's scratch folder was left behind"
    write_files(root, {"content/briefings/2016/broken.md": "---\ntitle: [unclosed\n---\nText.\n"})
    failed = run_cli("build", root, "--no-cache")
    assert failed.code == 1 and "broken.md:3:1: error: invalid YAML" in failed.stderr, failed.stderr
    assert list(temporary.iterdir()) == [], "a failed build left its scratch folder behind"
    assert tree_bytes(root / "output") == tree_bytes(tmp_path / "cached")


def _loads_spied(monkeypatch: pytest.MonkeyPatch, name: str
                 ) -> list[tuple[loading.Loaded, BuildCache | None]]:
    """What each call of `loading.<name>` (load or check) made, with the cache it was given."""
    calls: list[tuple[loading.Loaded, BuildCache | None]] = []
    original = getattr(loading, name)

    def spied(*args: Any, **kwargs: Any) -> loading.Loaded:
        loaded = original(*args, **kwargs)
        calls.append((loaded, args[2]))
        return loaded

    monkeypatch.setattr(loading, name, spied)
    return calls


def _scratch_held_bodies(calls: list[tuple[loading.Loaded, BuildCache | None]], temporary: Path,
                         root: Path) -> loading.Loaded:
    """The one model made, after checking that its bodies were in a scratch cache in
    `temporary`, gone since, and that the site's own cache was not made."""
    [(loaded, cache)] = calls
    assert cache is not None and cache.folder is not None and cache.folder.parent == temporary
    assert loaded.site.briefings and all(b.doc.body.html == STORED for b in loaded.site.briefings)
    assert not cache.folder.exists() and not (root / ".briefgen-cache").exists()
    return loaded


def test_a_build_without_the_cache_holds_the_bodies_in_its_scratch_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `--no-cache` renders from: the briefings' bodies in its scratch cache's store, not
    in the model that rendering workers are forked with, and read back whole from there; and
    what a check renders from when no build has kept a cache to read."""
    root = make_site(tmp_path, FILES, CONFIG)
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    plain = loading.load(root, BuildOptions(jobs=1), None)
    loads = _loads_spied(monkeypatch, "load")
    pipeline.build(root, BuildOptions(jobs=1, use_cache=False))
    loaded = _scratch_held_bodies(loads, temporary, root)
    for built, before in zip(loaded.site.briefings, plain.site.briefings, strict=True):
        words = " ".join(BeautifulSoup(before.doc.body.html, "html.parser").get_text(" ").split()[:6])
        assert words and words in " ".join(text_of(page(root / "output", built.url.lstrip("/"))).split())

    # So does a check of a site no build has kept a cache for: it has nothing to read.
    checks = _loads_spied(monkeypatch, "check")
    pipeline.check(root, BuildOptions(jobs=1))
    _scratch_held_bodies(checks, temporary, root)


def test_changing_one_briefing_rebuilds_what_shows_it(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, CONFIG)
    build_ok(root)
    path = root / "content/briefings/2016/cyr.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Cyrillic.", "Changed text."),
                    encoding="utf-8")
    build_ok(root)
    out = root / "output"
    assert "Changed text." in text_of(page(out, CYR).find("main"))
    assert "Changed text." in text_of(page(out, "page/2/").find("main")), "summary on the home page"
    fresh = tmp_path / "fresh"
    build_ok(root, "--output", fresh, "--no-cache")
    assert tree_bytes(out) == tree_bytes(fresh), "an incremental build differs from a fresh one"

    # A briefing removed: its page, and the day that only it had, go too.
    (root / "content/briefings/2016/accent.md").unlink()
    build_ok(root)
    assert not (out / ACCENT).exists()
    assert not (out / "2016/06").exists(), "an emptied archive folder was left behind"
    fresh = tmp_path / "fresh-2"
    build_ok(root, "--output", fresh, "--no-cache")
    assert tree_bytes(out) == tree_bytes(fresh)
    folders = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_dir()}
    assert folders == {p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_dir()}


# ---------------------------------------------------------------- check, new, init


def test_check_writes_nothing(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, CONFIG)
    before = tree_bytes(tmp_path)
    code, _, stderr = run_cli("check", root)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert tree_bytes(tmp_path) == before
    assert not (root / "output").exists()
    assert not (root / ".briefgen-cache").exists()


def test_check_reports_errors_in_drafts_too(tmp_path: Path) -> None:
    files = dict(FILES)
    files["content/briefings/2016/draft.md"] = (
        "---\ntitle: Draft briefing\ndate: 2016-09-05\ndraft: true\n---\nCites [@nowhere].\n"
    )
    root = make_site(tmp_path, files, CONFIG)
    code, _, stderr = run_cli("check", root)
    assert code == 1
    assert "content/briefings/2016/draft.md:6:" in stderr, stderr
    assert not (root / "output").exists()


def test_check_reads_the_build_cache_parses_only_what_changed_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A check after a build takes the files the build parsed from its cache, which it leaves as it
    was, and says what a check without the cache says."""
    from briefgen.build import loading, pipeline
    from briefgen.build.options import BuildOptions
    from briefgen.diagnostics import BuildFailed

    root = make_site(tmp_path, FILES, CONFIG)
    assert run_cli("build", root).code == 0
    parsed: list[str] = []
    real_parse = loading.parse_file

    def parse_file(file: loading.SourceFile, *converters: object) -> loading.ParsedFile:
        parsed.append(file.path)
        return real_parse(file, *converters)

    monkeypatch.setattr(loading, "parse_file", parse_file)
    before = tree_bytes(root)
    warm = pipeline.check(root, BuildOptions(jobs=1))
    assert parsed == [] and tree_bytes(root) == before
    cold = pipeline.check(root, BuildOptions(jobs=1, use_cache=False))
    assert (warm.warnings, len(warm.plan), warm.briefing_count) == (
        cold.warnings, len(cold.plan), cold.briefing_count)

    (root / "content/briefings/2016/draft.md").write_text(
        "---\ntitle: Draft briefing\ndate: 2016-09-05\ndraft: true\n---\nCites [@nowhere].\n")
    parsed.clear()
    before = tree_bytes(root)
    with pytest.raises(BuildFailed) as failed_warm:
        pipeline.check(root, BuildOptions(jobs=1))
    assert parsed == ["content/briefings/2016/draft.md"] and tree_bytes(root) == before
    with pytest.raises(BuildFailed) as failed_cold:
        pipeline.check(root, BuildOptions(jobs=1, use_cache=False))
    assert failed_warm.value.diagnostics == failed_cold.value.diagnostics
    assert run_cli("check", root).code == 1 and tree_bytes(root) == before  # with workers, too


def test_new_writes_a_briefing_with_valid_front_matter(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, CONFIG)
    code, _, stderr = run_cli("new", "Fresh News From Aleppo", "--topic", "Syria",
                                   "--topic", "U.N.", cwd=root)
    assert code == 0, stderr
    written = sorted((root / "content/briefings").glob("*/fresh-news-from-aleppo.md"))
    assert len(written) == 1, list((root / "content/briefings").rglob("*.md"))
    path = written[0]
    year = path.parent.name
    assert re.fullmatch(r"\d{4}", year)
    assert int(year) in {dt.date.today().year - 1, dt.date.today().year, dt.date.today().year + 1}
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["title"] == "Fresh News From Aleppo"
    assert front["topics"] == ["Syria", "U.N."]
    assert str(front["date"]).startswith(year)
    assert front.get("draft") is True

    before = path.read_bytes()
    code, _, stderr = run_cli("new", "Fresh News From Aleppo", cwd=root)
    assert code == 2, "new must refuse to overwrite a file"
    assert "exists" in stderr and "Traceback" not in stderr
    assert path.read_bytes() == before


def test_a_new_briefing_passes_check(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, CONFIG)
    assert run_cli("new", "Fresh News", cwd=root).code == 0
    code, _, stderr = run_cli("check", root)
    assert code == 0, stderr
    drafts = tmp_path / "drafts"
    build_ok(root, "--drafts", "--output", drafts)
    assert list(drafts.glob("[0-9]*/[0-9]*/[0-9]*/fresh-news/index.html"))


@pytest.mark.parametrize("topic", ["\U0001f680", "", "!!!"])
def test_new_refuses_a_topic_check_would_refuse(tmp_path: Path, topic: str) -> None:
    root = make_site(tmp_path, FILES, CONFIG)
    code, _, stderr = run_cli("new", "Fresh News", "--topic", topic, cwd=root)
    assert code == 2 and f"--topic {topic!r} has no letters or digits" in stderr, stderr
    assert not list((root / "content" / "briefings").rglob("fresh-news.md"))


def test_init_dates_its_sample_in_the_sites_time_zone(tmp_path: Path) -> None:
    """A machine whose date is not UTC's (Kiritimati, +14, is a day ahead from 10:00 UTC; Pago
    Pago, -11, a day behind until 11:00): the sample is dated as the site's UTC says, so not a
    briefing of the future, left out of the first build."""
    target = tmp_path / "ahead"
    zone = "Pacific/Kiritimati" if dt.datetime.now(dt.UTC).hour >= 10 else "Pacific/Pago_Pago"
    env = dict(os.environ, TZ=zone, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "briefgen", "init", str(target), "-q"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    (sample,) = (target / "content" / "briefings").rglob("*.md")
    written = yaml.safe_load(sample.read_text("utf-8").split("---")[1])["date"]
    assert str(written)[:10] == dt.datetime.now(dt.UTC).date().isoformat()


def test_init_makes_a_site_that_builds_without_broken_links(tmp_path: Path) -> None:
    target = tmp_path / "newsite"
    code, _, stderr = run_cli("init", target)
    assert code == 0, stderr
    assert (target / "briefgen.toml").is_file()
    assert list((target / "content/briefings").rglob("*.md"))
    build_ok(target)
    out = target / "output"
    assert (out / "index.html").is_file() and (out / "feed.xml").is_file()
    assert len(list(out.glob("[0-9]*/[0-9]*/[0-9]*/*/index.html"))) >= 1
    result = assert_no_broken_links(out, "/", "https://example.org/")
    assert len(result.visited) > 5
    code, _, stderr = run_cli("init", target)
    assert code == 2 and "Traceback" not in stderr, "init refuses a folder that is not empty"


def test_init_names_a_file_in_the_way_as_a_file(tmp_path: Path) -> None:
    target = tmp_path / "notes"
    target.write_text("")
    code, _, stderr = run_cli("init", target)
    assert code == 2 and stderr.strip() == f"briefgen: error: {target} is a file; choose a new folder"
    assert target.read_text() == ""


def test_clean_removes_the_cache_but_not_what_a_linked_cache_points_to(tmp_path: Path) -> None:
    root = tmp_path / "site"
    assert run_cli("init", root).code == 0
    build_ok(root)
    cache = root / ".briefgen-cache"
    assert cache.is_dir()
    code, stdout, stderr = run_cli("clean", root)
    assert (code, stderr) == (0, "") and "Removed" in stdout and not cache.exists()
    code, stdout, _ = run_cli("clean", root)
    assert code == 0 and "No cache to remove" in stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine\n")
    cache.symlink_to(elsewhere, target_is_directory=True)
    code, _, stderr = run_cli("clean", root)
    assert code == 2 and stderr.startswith(f"briefgen: error: {cache} is a symbolic link;")
    assert len(stderr.strip().splitlines()) == 1
    assert cache.is_symlink() and (elsewhere / "keep.txt").read_text() == "mine\n"


# ---------------------------------------------------------------- templates and themes


def test_unknown_front_matter_keys_reach_templates_as_extra(tmp_path: Path) -> None:
    files = dict(FILES)
    files["content/briefings/2016/explicit.md"] = """\
        ---
        title: A title that is not the slug
        slug: custom-slug
        date: 2016-09-01
        mood: calm
        rating: 5
        ---
        Explicit.
        """
    files["templates/briefing.html"] = """\
        {% extends "base.html" %}
        {% block content %}
        <h1>{{ briefing.title }}</h1>
        <dl id="extra">
        {% for key, value in briefing.extra | dictsort %}<dt>{{ key }}</dt><dd>{{ value }}</dd>
        {% endfor %}
        </dl>
        {% endblock %}
        """
    root = make_site(tmp_path, files, CONFIG)
    build_ok(root)
    soup = page(root / "output", EXPLICIT)
    extra = soup.find(id="extra")
    assert extra is not None, "the site's templates/briefing.html was not used"
    pairs = dict(zip([text_of(d) for d in extra.find_all("dt")],
                     [text_of(d) for d in extra.find_all("dd")], strict=True))
    assert pairs == {"mood": "calm", "rating": "5"}
    main_extra = page(root / "output", MAIN_URL).find(id="extra")
    assert main_extra is not None and not main_extra.find("dt"), "known keys are not extra"
    # base.html still comes from the theme.
    assert soup.find("link", rel="stylesheet") is not None


def test_a_key_one_edit_from_a_known_one_is_a_warning(tmp_path: Path) -> None:
    files = dict(FILES)
    files["content/briefings/2016/explicit.md"] = (
        "---\ntitle: A title that is not the slug\nslug: custom-slug\ndate: 2016-09-01\n"
        "topic: [Syria]\n---\nExplicit.\n"
    )
    root = make_site(tmp_path, files, CONFIG)
    result = build_ok(root)
    assert re.search(
        r"content/briefings/2016/explicit\.md:5:1: warning: .*`topic`.*`topics`", result.stderr
    ), result.stderr


def test_a_theme_that_extends_default(tmp_path: Path) -> None:
    files = dict(FILES)
    files["themes/mytheme/theme.toml"] = 'extends = "default"\n'
    files["themes/mytheme/static/style.css"] = "body { color: #123456; }\n"
    files["themes/mytheme/templates/home.html"] = """\
        {% extends "base.html" %}
        {% block content %}
        <h1 id="mytheme-home">My theme home</h1>
        {% for item in briefings %}
        <p class="mine"><a href="{{ item.url }}">{{ item.title }}</a></p>
        {% endfor %}
        {% include "partials/pagination.html" %}
        {% endblock %}
        """
    config = CONFIG.replace('description =', 'theme = "mytheme"\ndescription =')
    root = make_site(tmp_path, files, config)
    build_ok(root)
    out = root / "output"
    home = page(out, "")
    assert home.find(id="mytheme-home") is not None, "the theme's home.html was not used"
    assert [text_of(p) for p in home.select("p.mine")] == NEWEST_FIRST_TITLES[:2]
    # Everything else comes from the default theme.
    briefing = page(out, MAIN_URL)
    assert briefing.find(id="mytheme-home") is None
    assert briefing.find(id="source-1") is not None
    # The theme's own style.css hides the default one, under its own content hash.
    sheet = home.find("link", rel="stylesheet")["href"]
    assert re.fullmatch(r"/static/style\.[0-9a-f]{8,}\.css", sheet), sheet
    assert (out / sheet.lstrip("/")).read_text() == "body{color:#123456}\n", "served compacted"
    default_sheet = page(self_default_build(tmp_path), "").find("link", rel="stylesheet")["href"]
    assert sheet != default_sheet, "different contents must get different names"
    assert_no_broken_links(out, "/", BASE)


def test_t_and_url_for_give_the_same_as_filters_and_as_calls(tmp_path: Path) -> None:
    """docs/themes.md: `t` and `url_for` are filters as well as functions, with the same results."""
    files = dict(FILES)
    files["templates/briefing.html"] = """\
        {% extends "base.html" %}
        {% block content %}
        {% for called, filtered in [
            (t("Home"), "Home" | t),
            (t("{n} min read", n=3), "{n} min read" | t(n=3)),
            (url_for("archive"), "archive" | url_for),
            (url_for("home", page=2), "home" | url_for(page=2)),
            (url_for("static", "style.css"), "static" | url_for("style.css")),
            (url_for(briefing, absolute=True), briefing | url_for(absolute=True)),
        ] %}
        <p class="pair">{{ called }}|{{ filtered }}</p>
        {% endfor %}
        {% endblock %}
        """
    root = make_site(tmp_path, files, CONFIG.replace('language = "en"', 'language = "de"'))
    build_ok(root)
    pairs = [text_of(p).split("|") for p in page(root / "output", MAIN_URL).select("p.pair")]
    assert len(pairs) == 6 and all(called == filtered for called, filtered in pairs), pairs
    assert pairs[0][0] == "Startseite" and pairs[2][0] == "/archive/" and pairs[5][0].startswith("https://")


def test_theme_templates_import_the_macros_without_context(tmp_path: Path) -> None:
    """docs/themes.md imports the default macros without `with context`: they still speak
    the site's language, and url_for and site are there for a theme's own macros, imported
    either way."""
    files = dict(FILES)
    files["themes/mytheme/theme.toml"] = 'extends = "default"\n'
    files["themes/mytheme/templates/partials/mine.html"] = """\
        {% macro home_link() -%}
        <a class="mine-home" href="{{ url_for('home') }}">{{ site.title }}</a>
        {%- endmacro %}
        """
    files["themes/mytheme/templates/briefing.html"] = """\
        {% extends "base.html" %}
        {% from "partials/macros.html" import count, topic_list, draft_badge %}
        {% from "partials/mine.html" import home_link %}
        {% import "partials/mine.html" as mine with context %}
        {% block content %}
        <h1>{{ briefing.title }}{{ draft_badge(briefing.draft) }}</h1>
        <p class="mine-count">{{ count(briefing.sources | length, "source") }}</p>
        {{ topic_list(briefing.topics) }}
        {{ home_link() }}
        <p class="with-context">{{ mine.home_link() }}</p>
        {% endblock %}
        """
    config = CONFIG.replace('language = "en"', 'language = "ru"').replace(
        'description =', 'theme = "mytheme"\ndescription =')
    root = make_site(tmp_path, files, config)
    build_ok(root)
    briefing = page(root / "output", MAIN_URL)
    assert text_of(briefing.select_one("p.mine-count")) == "4 источника"
    assert briefing.select_one("ul.tags")["aria-label"] == "Темы"
    assert [text_of(a) for a in briefing.select("ul.tags a")] == ["Syria", "Russia"]
    for link in briefing.select("a.mine-home"):
        assert (link["href"], text_of(link)) == ("/", "Test Briefings")
    assert len(briefing.select("a.mine-home")) == 2 and briefing.select_one("p.with-context a")


def self_default_build(tmp_path: Path) -> Path:
    root = make_site(tmp_path / "plain", {"content/briefings/a.md": MINIMAL}, CONFIG)
    build_ok(root)
    return root / "output"


MINIMAL = "---\ntitle: Minimal\ndate: 2016-08-03\n---\nText.\n"


def test_naive_times_are_in_the_site_timezone(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "content/briefings/naive.md": (
            "---\ntitle: Naive time\ndate: 2016-08-03T23:30:00\n---\nX.\n"
        ),
        "content/briefings/offset.md": (
            "---\ntitle: Offset time\ndate: 2016-08-04T01:30:00+03:00\n---\nY.\n"
        ),
    }
    root = make_site(tmp_path, files, CONFIG)
    build_ok(root)
    out = root / "output"
    naive = page(out, "2016/08/03/naive-time/").find("main").find("time")
    assert naive["datetime"].startswith("2016-08-03T23:30:00-04:00")
    # 01:30 at +03:00 is 18:30 the day before in New York.
    assert (out / "2016/08/03/offset-time/index.html").is_file()


def test_markup_in_titles_and_sources_is_escaped(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "content/sources/s.yaml": (
            '- id: s1\n  title: "<img src=x onerror=alert(1)> & more"\n'
            '  publisher: "A&B <Media>"\n  url: "https://ab.example/?a=1&b=2"\n'
        ),
        "content/briefings/x.md": (
            '---\ntitle: "<script>alert(1)</script> & friends"\ndate: 2016-08-03\n'
            'topics: ["R&D <lab>"]\nsummary: "Summary <b>bold</b> & co"\nsources: [s1]\n'
            'curators: ["<i>Ed</i>"]\n---\nBody [@s1].\n'
        ),
    }
    config = CONFIG.replace('title = "Test Briefings"', 'title = "Tom & Jerry <News>"')
    root = make_site(tmp_path, files, config)
    build_ok(root)
    out = root / "output"
    for path in [*out.rglob("*.html"), *out.rglob("*.xml")]:
        data = path.read_text(encoding="utf-8")
        for raw in ("<script>alert", "<img src=x", "<b>bold", "<i>Ed", "<News>", "<lab>", "<Media>"):
            assert raw not in data, f"{raw!r} reached {path.relative_to(out)} unescaped"
    soup = page(out, "2016/08/03/script-alert-1-script-friends/")
    assert text_of(soup.find("h1")) == "<script>alert(1)</script> & friends"
    assert soup.find("a", href="https://ab.example/?a=1&b=2") is not None
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo and feed.entries[0].title == "<script>alert(1)</script> & friends"
    assert feed.feed.title == "Tom & Jerry <News>"
    assert_no_broken_links(out, "/", BASE)


# ---------------------------------------------------------------- regressions: bugs found here


def test_listed_only_publisher_link_is_not_broken(tmp_path: Path) -> None:
    files = dict(FILES)
    files["content/briefings/2016/uncited.md"] = """\
        ---
        title: Uncited publisher
        date: 2016-05-01
        sources:
          - id: delta-one
            title: Delta's only piece
            publisher: Delta Daily
            url: https://delta.example/one
        ---
        Listed but never cited.
        """
    root = make_site(tmp_path, files, CONFIG)
    build_ok(root)
    assert_no_broken_links(root / "output", "/", BASE)


def test_heading_ids_do_not_collide_with_page_ids(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "content/sources/registry.yaml": REGISTRY,
        "content/briefings/h.md": (
            "---\ntitle: Headings\ndate: 2016-08-03\n---\n"
            "## Source 1\n\n## Main\n\nA claim [@alpha].\n"
        ),
    }
    root = make_site(tmp_path, files, CONFIG)
    build_ok(root)
    soup = page(root / "output", "2016/08/03/headings/")
    ids = [str(tag["id"]) for tag in soup.find_all(id=True)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate ids: {duplicates}"


def test_a_link_to_a_left_out_draft_leaves_no_broken_link(tmp_path: Path) -> None:
    files = dict(FILES)
    files["content/briefings/2016/linker.md"] = (
        "---\ntitle: Linker\ndate: 2016-08-05\n---\nSee [the draft](draft.md).\n"
    )
    root = make_site(tmp_path, files, CONFIG)
    result = build_ok(root)
    assert re.search(r"content/briefings/2016/linker\.md:5:\d+: warning: .*draft", result.stderr)
    assert_no_broken_links(root / "output", "/", BASE)


def test_dates_kept_between_builds_follow_the_language_and_patterns(tmp_path: Path) -> None:
    """The cache keeps the dates, day headings and times a build formatted, for the next: a
    build in another language, or with other date or time patterns, formats its own, and one
    back in the first language gives what a build without the cache gives."""
    files: dict[str, str | bytes] = {
        "content/briefings/a.md": "---\ntitle: First\ndate: 2016-08-03T10:00:00\n---\nText.\n",
        "content/briefings/b.md": "---\ntitle: Second\ndate: 2016-08-05T10:00:00\n---\nText.\n",
    }
    root = make_site(tmp_path, files, CONFIG)

    def headings() -> list[str]:
        return [text_of(h) for h in page(root / "output", "").select(".day__heading")]

    build_ok(root)
    english = headings()
    assert english == ["Friday 5 August 2016", "Wednesday 3 August 2016"], english
    german = CONFIG.replace('language = "en"', 'language = "de"')
    (root / "briefgen.toml").write_text(german, encoding="utf-8")
    build_ok(root)
    assert [heading.split()[0] for heading in headings()] == ["Freitag,", "Mittwoch,"], headings()
    write_files(root, {"templates/i18n/de.toml": '[formats]\nday = "d.M.yyyy"\n'})
    build_ok(root)
    assert headings() == ["5.8.2016", "3.8.2016"]
    (root / "briefgen.toml").write_text(CONFIG, encoding="utf-8")
    build_ok(root)
    assert headings() == english
    times = [text_of(t) for t in page(root / "output", "").select(".briefing-item time")]
    assert times == ["10:00", "10:00"], times
    write_files(root, {"templates/i18n/en.toml": '[formats]\ntime = "h.mm a"\n'})
    build_ok(root)
    times = [text_of(t) for t in page(root / "output", "").select(".briefing-item time")]
    assert times == ["10.00 AM", "10.00 AM"], times
    build_ok(root, "--no-cache", "--output", tmp_path / "clean")
    assert tree_bytes(tmp_path / "clean") == tree_bytes(root / "output")


@pytest.mark.parametrize(("language", "month", "day", "description"), [
    ("ja", "2016年8月", "2016年8月5日 金曜日", "2016年8月"),
    ("ru", "Август 2016 г.", "Пятница, 5 августа 2016 г.", "август 2016\u202fг."),  # noqa: RUF001 - text_of: spaces
    ("es", "Agosto de 2016", "Viernes, 5 de agosto de 2016", "agosto de 2016"),
    ("en", "August 2016", "Friday 5 August 2016", "August 2016"),
])
def test_a_month_and_its_year_read_as_the_language_writes_them(tmp_path: Path, language: str, month: str,
                                                               day: str, description: str) -> None:
    files: dict[str, str | bytes] = {
        "content/briefings/a.md": "---\ntitle: First\ndate: 2016-08-05T10:00:00\n---\nText.\n"}
    root = make_site(tmp_path, files, CONFIG.replace('language = "en"', f'language = "{language}"'))
    build_ok(root)
    out = root / "output"
    month_page = page(out, "2016/08/")
    assert text_of(month_page.find("h1")) == month
    assert " ".join(month_page.find("title").text.split()).startswith(month)
    assert description in month_page.find("meta", attrs={"name": "description"})["content"]
    assert [text_of(a) for a in page(out, "2016/").select(".period-list a")] == [month]
    assert text_of(page(out, "").select_one(".day__heading")) == day
    breadcrumb = [text_of(a) for a in page(out, "2016/08/05/").select("main a")]
    assert month in breadcrumb, breadcrumb


@pytest.mark.parametrize(("language", "archive"), [
    ("DE", "Archiv"),  # a tag's case is no matter
    ("de_AT", "Archiv"),
    ("zh-CN", "\u5f52\u6863"),
    ("zh-TW", "Archive"),  # zh.toml is in simplified characters: not for traditional ones
    ("zh-Hant", "Archive"),
    ("pt_BR", "Arquivo"),  # the site's own catalog, its file named pt-br.toml
    ("pt-BR", "Arquivo"),
])
def test_a_language_finds_its_catalog_by_any_spelling_of_its_tag(tmp_path: Path, language: str,
                                                                 archive: str) -> None:
    files: dict[str, str | bytes] = {"content/briefings/a.md": MINIMAL,
                                     "templates/i18n/pt-br.toml": '[strings]\n"Archive" = "Arquivo"\n'}
    root = make_site(tmp_path, files, CONFIG.replace('language = "en"', f'language = "{language}"'))
    build_ok(root)
    links = [text_of(a) for a in page(root / "output", "").select("header nav a, footer a")]
    assert archive in links, links


@pytest.mark.parametrize("language", ["", "en US", "english", "x-klingon", "de-"])
def test_a_language_that_is_no_tag_is_an_error_at_it(tmp_path: Path, language: str) -> None:
    root = make_site(tmp_path, {"content/briefings/a.md": MINIMAL},
                     CONFIG.replace('language = "en"', f'language = "{language}"'))
    result = run_cli("build", root)
    assert result.code == 1 and "Traceback" not in result.stderr
    line = CONFIG.splitlines().index('language = "en"') + 1
    assert f"briefgen.toml:{line}:1: error: site.language must be a language tag" in result.stderr, \
        result.stderr


@pytest.mark.parametrize(("language", "joined"), [("en", "{date}, {time}"), ("ja", "{date} {time}"),
                                                 ("ar", "{date}\u060c {time}")])
def test_a_date_and_its_time_are_joined_as_the_language_joins_them(tmp_path: Path, language: str,
                                                                   joined: str) -> None:
    files: dict[str, str | bytes] = {
        "content/briefings/a.md": "---\ntitle: First\ndate: 2016-08-05T14:30:00\n---\nText.\n"}
    root = make_site(tmp_path, files, CONFIG.replace('language = "en"', f'language = "{language}"'))
    build_ok(root)
    catalog = _catalog(language)
    when = dt.datetime(2016, 8, 5, 14, 30)
    expected = joined.format(date=catalog.date(when), time=catalog.time(when))
    shown = page(root / "output", "2016/08/05/first/").select_one(".briefing__header time").get_text()
    assert " ".join(shown.split()) == " ".join(expected.split())


@pytest.mark.parametrize(("language", "shown"), [
    ("en", "Harbour Post, 2 August 2016. By A. Berg, N. Holm."),
    ("ja", "Harbour Post\u30012016\u5e748\u67082\u65e5\u3002{by}\u3002"),
])
def test_a_sources_line_is_punctuated_as_the_language_punctuates(tmp_path: Path, language: str,
                                                                  shown: str) -> None:
    files: dict[str, str | bytes] = {"content/briefings/a.md": (
        "---\ntitle: First\ndate: 2016-08-05\nsources:\n  - id: hp\n    title: Harbour\n"
        "    publisher: Harbour Post\n    published: 2016-08-02\n    authors: [A. Berg, N. Holm]\n---\n"
        "Text [@hp].\n")}
    root = make_site(tmp_path, files, CONFIG.replace('language = "en"', f'language = "{language}"'))
    build_ok(root)
    by = _catalog(language).text("By {names}", names="A. Berg\u3001N. Holm")
    meta = page(root / "output", "2016/08/05/first/").select_one("#source-1 .source__meta").get_text()
    assert " ".join(meta.split()) == shown.format(by=by)


def test_a_time_with_fractions_of_a_second_is_a_valid_datetime_attribute(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "content/briefings/a.md": "---\ntitle: First\ndate: 2016-08-05T09:30:00.123456+03:00\n---\nText.\n"}
    root = make_site(tmp_path, files, CONFIG)
    build_ok(root)
    shown = page(root / "output", "2016/08/05/first/").select_one(".briefing__header time")["datetime"]
    assert re.fullmatch(r"2016-08-0\dT\d\d:30:00\.123[+-]\d\d:\d\d", shown), shown
    assert dt.datetime.fromisoformat(shown) == dt.datetime(2016, 8, 5, 6, 30, 0, 123000, tzinfo=dt.UTC)


def test_briefings_in_the_hour_clocks_go_back_are_in_the_order_they_happened(tmp_path: Path) -> None:
    """New York, 3 November 2024: 01:00-02:00 comes twice. A at 01:50 EDT (05:50 UTC) came
    before B at 01:10 EST (06:10 UTC), though B's clock reads earlier."""
    files: dict[str, str | bytes] = {
        "content/briefings/a.md": "---\ntitle: Fold A\ndate: 2024-11-03T01:50:00-04:00\n---\nA.\n",
        "content/briefings/b.md": "---\ntitle: Fold B\ndate: 2024-11-03T01:10:00-05:00\n---\nB.\n"}
    config = re.sub(r'timezone = "[^"]*"', 'timezone = "America/New_York"', CONFIG)
    root = make_site(tmp_path, files, config)
    build_ok(root)
    out = root / "output"
    titles = [text_of(a) for a in page(out, "").select(".briefing-item__title a")]
    assert titles == ["Fold B", "Fold A"], titles
    feed = ET.fromstring((out / "feed.xml").read_bytes())
    assert feed.findtext("{http://www.w3.org/2005/Atom}updated") == "2024-11-03T01:10:00-05:00"
    older = page(out, "2024/11/03/fold-b/").find("a", rel="prev")
    assert older is not None and older["href"].endswith("/fold-a/")


def test_a_footnotes_link_back_is_titled_in_the_sites_language(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "content/briefings/a.md": "---\ntitle: First\ndate: 2016-08-05\n---\nText[^1].\n\n[^1]: A note.\n"}
    root = make_site(tmp_path, files, CONFIG.replace('language = "en"', 'language = "ru"'))
    build_ok(root)
    (link,) = page(root / "output", "2016/08/05/first/").select("a.footnote-backref")
    assert link["title"] == "Вернуться к сноске 1" and link["href"] == "#fnref:1"
    assert 'title="Вернуться к сноске 1"' in html.unescape((root / "output/feed.xml").read_text("utf-8"))
    (root / "briefgen.toml").write_text(CONFIG, encoding="utf-8")
    build_ok(root)
    (link,) = page(root / "output", "2016/08/05/first/").select("a.footnote-backref")
    assert link["title"] == "Back to reference 1"


@pytest.mark.parametrize(("body", "levels"), [
    ("# Background\n\nText.\n\n## Detail\n\nMore.\n\n# Outlook\n\nEnd.\n", [2, 3, 2]),
    ("### Only\n\nText.\n", [2]),
    ("## Two\n\nText.\n\n#### Four\n\nMore.\n", [2, 3]),
    ("## Two\n\nText.\n\n### Three\n\nMore.\n", [2, 3]),
])
def test_the_texts_headings_are_sections_under_the_title(tmp_path: Path, body: str,
                                                          levels: list[int]) -> None:
    files: dict[str, str | bytes] = {
        "content/briefings/a.md": f"---\ntitle: First\ndate: 2016-08-05\n---\n{body}",
        "content/pages/about.md": f"---\ntitle: About\n---\n{body}"}
    root = make_site(tmp_path, files, CONFIG)
    build_ok(root)
    for path in ("2016/08/05/first/", "about/"):
        main = page(root / "output", path).find("main")
        headings = main.find_all(re.compile(r"^h[1-6]$"))
        assert [h.name for h in headings][:1] == ["h1"], path
        found = [int(h.name[1]) for h in headings[1:] if h.get("id") not in ("sources-heading",)]
        assert found[:len(levels)] == levels, (path, found)


def test_a_briefing_in_another_language_is_marked_as_such(tmp_path: Path) -> None:
    hebrew = "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd"
    files: dict[str, str | bytes] = {
        "content/briefings/a.md": f"---\ntitle: {hebrew}!\ndate: 2016-08-05\nslug: peace\n"
                                  f"language: he\nsummary: {hebrew}.\n---\n{hebrew}!\n",
        "content/briefings/b.md": "---\ntitle: In English\ndate: 2016-08-04\nlanguage: EN\n---\nText.\n"}
    root = make_site(tmp_path, files, CONFIG)
    build_ok(root)
    out = root / "output"
    briefing = page(out, "2016/08/05/peace/")
    prose = briefing.select_one(".prose")
    assert (prose["lang"], prose["dir"]) == ("he", "rtl")
    assert briefing.select_one("h1 span[lang=he][dir=rtl]").get_text() == f"{hebrew}!"
    assert briefing.find("html")["lang"] == "en", "the interface stays in the site's language"
    data = json.loads(briefing.find("script", type="application/ld+json").string)
    assert data["inLanguage"] == "he"
    home = page(out, "")
    assert home.select_one("a[lang=he][dir=rtl][href$='/peace/']").get_text() == f"{hebrew}!"
    assert home.select_one(".briefing-item__summary[lang=he]").get_text() == f"{hebrew}."
    # The site's own language, however written, is no other.
    assert not page(out, "2016/08/04/in-english/").select("[lang]:not(html)")
    feed = ET.fromstring((out / "feed.xml").read_bytes())
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    langs = [e.get("{http://www.w3.org/XML/1998/namespace}lang") for e in entries]
    assert langs == ["he", None], langs
    items = json.loads((out / "feed.json").read_text("utf-8"))["items"]
    assert [item.get("language") for item in items] == ["he", None]
    # Taken back: the lists follow, as a clean build has them.
    without = str(files["content/briefings/a.md"]).replace("language: he\n", "")
    write_files(root, {"content/briefings/a.md": without})
    build_ok(root)
    assert not page(out, "").select("[lang]:not(html)")
    build_ok(root, "--no-cache", "--output", tmp_path / "clean")
    assert tree_bytes(tmp_path / "clean") == tree_bytes(out)


def test_a_briefings_language_that_is_no_tag_is_an_error_at_it(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "content/briefings/a.md": "---\ntitle: T\ndate: 2016-08-05\nlanguage: Hebrew please\n---\nText.\n"}
    result = run_cli("build", make_site(tmp_path, files, CONFIG))
    assert result.code == 1
    assert ("content/briefings/a.md:4:11: error: `language` must be a language tag such as 'en', 'de' or "
            "'pt-BR', not 'Hebrew please'") in result.stderr, result.stderr


def _catalog(language: str = "en") -> Catalog:
    catalog, problems = load_catalog(language, [REPO / "themes" / "default" / "templates"])
    assert not problems
    return catalog


_TEXTS = {"date": (array("i"), ""), "day": (array("i"), ""), "month": (array("i"), ""),
          "time": (array("i"), "")}
_FACTS = {"plural": {"one": "i = 1 and v = 0"}, "character_order": "left-to-right", "wall_clock": True,
          "date_time": "{1}, {0}", "open_graph_locale": "en_US"}


@pytest.mark.parametrize("kept", [
    None, "dates", ("made with", {}, {}), (1, 2, 3), (1, 2),
    # the shape an earlier version kept: texts of days and no facts
    ("{made}", {"date": (array("i", [736179]), "5 August 2016"), "day": (array("i"), "")}),
    ("{made}", {**_TEXTS, "date": "not a pair"}, _FACTS),
    ("{made}", {**_TEXTS, "date": (array("q", [736179]), "Friday")}, _FACTS),
    ("{made}", {**_TEXTS, "date": (array("i", [736179, 736180]), "one text")}, _FACTS),
    ("{made}", {key: value for key, value in _TEXTS.items() if key != "month"}, _FACTS),
    ("{made}", {**_TEXTS, "time": (array("i", [90000]), "25:00")}, _FACTS),
    ("{made}", _TEXTS, {**_FACTS, "plural": {"one": "n is is 1"}}),
    ("{made}", _TEXTS, {**_FACTS, "plural": "one"}),
    ("{made}", _TEXTS, {**_FACTS, "character_order": 3}),
    ("{made}", _TEXTS, {key: value for key, value in _FACTS.items() if key != "wall_clock"}),
    ("{made}", _TEXTS, {key: value for key, value in _FACTS.items() if key != "date_time"}),
    ("{made}", _TEXTS, {key: value for key, value in _FACTS.items() if key != "open_graph_locale"}),
])
def test_dates_kept_in_another_shape_are_formatted_again(kept: object) -> None:
    """Whatever the cache's row of dates holds, a catalog takes it over only when it is what
    Catalog.kept makes, with this catalog's version, language and patterns: else it formats,
    with Babel's data."""
    catalog = _catalog()
    made = catalog.kept()
    assert made is not None
    if isinstance(kept, tuple) and kept[:1] == ("{made}",):
        kept = (made[0], *kept[1:])
    fresh = _catalog()
    fresh.keep(kept)
    day = dt.datetime(2016, 8, 5, 14, 30, tzinfo=dt.UTC)
    assert fresh.format_ahead([day.toordinal()], [day]) is True  # nothing was taken over
    assert "locale" in fresh.__dict__  # Babel's data was read to format them
    assert fresh.date(day) == "5 August 2016" and fresh.day_heading(day) == "Friday 5 August 2016"
    assert fresh.time(day) == "14:30" and fresh.month(8) == "August"
    assert fresh.count(1, "source") == "1 source" and fresh.count(2, "source") == "2 sources"
    assert fresh.direction == "ltr"


@pytest.mark.parametrize("language", ["en", "ru", "ar", "fr", "ja"])
def test_a_catalog_kept_gives_what_babel_gives_without_reading_its_data(language: str) -> None:
    """What a catalog keeps (texts and the language's facts) reads back, in a catalog made
    afresh, as the same texts, plural forms and direction, without Babel's data being read."""
    days = [dt.date(2016, 8, 5), dt.date(2020, 2, 29), dt.date(1999, 12, 31)]
    times = [dt.datetime(2016, 8, 5, hour, 30, tzinfo=dt.UTC) for hour in (0, 9, 13, 23)]
    catalog = _catalog(language)
    nouns = {"source": {"one": "{n} source", "few": "{n} sources (few)", "many": "{n} sources (many)",
                        "two": "{n} sources (two)", "zero": "{n} sources (zero)", "other": "{n} sources"}}
    catalog = dataclasses.replace(catalog, plurals=nouns)
    assert catalog.format_ahead([day.toordinal() for day in days], times) is True
    kept = catalog.kept()
    assert kept is not None
    again = dataclasses.replace(_catalog(language), plurals=nouns)
    again.keep(kept)
    assert again.format_ahead([day.toordinal() for day in days], times) is False
    assert [again.date(day) for day in days] == [catalog.date(day) for day in days]
    assert [again.day_heading(day) for day in days] == [catalog.day_heading(day) for day in days]
    assert [again.time(t) for t in times] == [catalog.time(t) for t in times]
    assert [again.month(m) for m in range(1, 13)] == [catalog.month(m) for m in range(1, 13)]
    counts = [again.count(n, "source") for n in [*range(0, 120), 1000, 1001, 1_000_000]]
    assert counts == [catalog.count(n, "source") for n in [*range(0, 120), 1000, 1001, 1_000_000]]
    assert again.direction == catalog.direction == ("rtl" if language == "ar" else "ltr")
    assert again.date_and_time("D", "T") == catalog.date_and_time("D", "T")
    assert again.open_graph_locale == catalog.open_graph_locale
    assert "locale" not in again.__dict__, "Babel's data was read"
    if language == "ru":
        assert len({again.count(n, "source") for n in (1, 2, 5)}) == 3  # one, few, many


def test_a_footnote_nothing_refers_to_warns_and_links_back_nowhere(tmp_path: Path) -> None:
    body = ("Body text [@alpha].[^used]\n\n[^used]: A note.\n\n"
            "[^x]: A note whose reference was removed [@beta].\n")
    root, result = briefing_site(tmp_path, "notes", "Notes", body)
    assert ("content/briefings/2016/notes.md:9:1: warning: footnote [^x] is never referred to in the "
            "text: write [^x] where it belongs, or remove it") in result.stderr
    soup = page(root / "output", "2016/08/02/notes/")
    ids = {element["id"] for element in soup.find_all(id=True)}
    backrefs = [a["href"] for a in soup.find_all("a", class_="footnote-backref")]
    assert backrefs == ["#fnref:used"] and "fnref:used" in ids
    assert "A note whose reference was removed2." in soup.find("div", class_="footnote").get_text()
