"""The reader's experience (issue 13): lists by day, citations, related briefings,
structured data, languages, relative URLs, theme settings and the command line.

Every test builds a fixture site with `python -m briefgen` and reads the HTML.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import REPO, assert_no_broken_links, build_ok, make_site, page, run_cli, soup_of, text_of

CONFIG = """\
[site]
title = "Reader Test"
base_url = "https://example.org/news/"
language = "{language}"
timezone = "UTC"
description = "Briefings for the reader tests"
{site_extra}

[build]
per_page = 20
{build_extra}
"""

SOURCES = """\
- id: harbour-report
  title: "Harbour cranes stand idle"
  publisher: Coast Ledger
  url: https://ledger.example/cranes
  published: 2021-03-02
  authors: [R. Quay]
- id: grain-prices
  title: "Grain prices climb again"
  publisher: Field Weekly
  url: https://field.example/grain
  published: 2021-03-01
- id: rail-strike
  title: "Rail workers walk out"
  publisher: Coast Ledger
  url: https://ledger.example/rail
  published: 2021-02-20
- id: ferry-notes
  title: "Ferry timetable notes"
  publisher: Island Post
"""

MAIN = """\
---
title: "Port strike halts grain exports"
date: 2021-03-03T09:30:00
updated: 2021-03-04
topics: [Trade, Transport]
curators: [A. Curator, B. Editor]
image: /img/port.png
sources: [harbour-report, grain-prices, rail-strike, ferry-notes]
---
Cranes at the harbour stood still [@harbour-report, para. 4] while prices rose
[@grain-prices; @harbour-report, para. 2]. Rail staff joined [@rail-strike].
Later reports agreed [@harbour-report, para. 3; @grain-prices, p. 7] and
[@harbour-report, para. 9] and [@harbour-report, para. 1].
"""

SAME_SOURCES = """\
---
title: "Harbour dispute enters second week"
date: 2021-03-01
topics: [Transport]
---
The dispute goes on [@harbour-report] and rail is affected [@rail-strike].
"""

TOPIC_ONLY = """\
---
title: "New tariffs on imported steel"
date: 2021-03-02T16:05:00
updated: 2021-03-02T18:00:00
topics: [Trade]
---
A tariff was set [@grain-prices].
"""

UNRELATED = """\
---
title: "Museum reopens its west wing"
date: 2021-02-10
topics: [Culture]
---
Visitors returned [@ferry-notes].
"""

OLDER_SAME_SOURCE = """\
---
title: "Rail talks collapse"
date: 2021-02-21
topics: [Labour]
---
Talks ended [@rail-strike].
"""

MAIN_URL = "2021/03/03/port-strike-halts-grain-exports/"

FILES: dict[str, str | bytes] = {
    "content/sources/sources.yaml": SOURCES,
    "content/briefings/2021/main.md": MAIN,
    "content/briefings/2021/same.md": SAME_SOURCES,
    "content/briefings/2021/topic.md": TOPIC_ONLY,
    "content/briefings/2021/unrelated.md": UNRELATED,
    "content/briefings/2021/older.md": OLDER_SAME_SOURCE,
    "static/img/port.png": b"\x89PNG\r\n\x1a\n",
    "static/extra.css": "body { outline: 0; }\n",
    "content/topics/trade.md": ("---\nnote: optional front matter\n---\n"
                                "Goods across borders, *tariffs* included.\n"),
}


def config(language: str = "en", site_extra: str = "", build_extra: str = "") -> str:
    return CONFIG.format(language=language, site_extra=site_extra, build_extra=build_extra)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_site(tmp_path_factory.mktemp("reader"), FILES, config(
        site_extra='image = "/img/site.png"\nextra_css = ["extra.css"]\n'
                   'extra_head = \'<meta name="test-extra" content="yes">\''))
    build_ok(root)
    return root / "output"


# ---------------------------------------------------------------- lists for scanning


def test_home_groups_briefings_by_day_with_time_of_day(out: Path) -> None:
    home = page(out, "")
    days = home.select("main section.day")
    headings = [text_of(d.find(class_="day__heading")) for d in days]
    assert headings[:3] == ["Wednesday 3 March 2021", "Tuesday 2 March 2021", "Monday 1 March 2021"]
    first = days[0].select("li.briefing-item")
    assert len(first) == 1 and "briefing-item--lead" in first[0]["class"], "the newest gets more room"
    assert not days[1].select(".briefing-item--lead")
    assert text_of(first[0].find("time")) == "09:30", "the day is in the heading; the item shows the time"
    assert first[0].find("time")["datetime"].startswith("2021-03-03T09:30")
    # A briefing dated without a time shows no made-up midnight, and its day only once.
    untimed = days[2].find(class_="briefing-item")
    assert untimed.find("time") is None and "min read" in text_of(untimed.find(class_="meta"))
    # Lists not grouped by day (a day's page) show the date.
    day_page = page(out, "2021/03/03/").find(class_="briefing-item")
    assert text_of(day_page.find("time")) == "3 March 2021, 09:30"
    assert "min read" in text_of(first[0].find(class_="meta"))


def test_home_has_a_side_column_of_topics_with_counts(out: Path) -> None:
    side = page(out, "").find("aside", class_="layout__side")
    assert side is not None
    entries = {text_of(li.find("a")): text_of(li.find(class_="count")) for li in side.select("li")}
    assert entries["Trade"] == "2" and entries["Transport"] == "2" and entries["Culture"] == "1"


def test_topic_page_does_not_repeat_its_own_topic_pill(out: Path) -> None:
    topic = page(out, "topics/trade/")
    pills = [text_of(a) for a in topic.select("main .briefing-item .tags a")]
    assert "Trade" not in pills
    assert "Transport" in pills, "other topics still add information"


def test_topic_description_from_content_topics(out: Path) -> None:
    topic = page(out, "topics/trade/")
    description = topic.find(class_="topic-description")
    assert description is not None and description.find("em").get_text() == "tariffs"
    assert "optional front matter" not in text_of(topic.find("main"))
    assert page(out, "topics/transport/").find(class_="topic-description") is None


def test_headlines_in_lists_are_headings_linking_to_briefings(out: Path) -> None:
    home = page(out, "")
    titles = [text_of(h) for h in home.select("main .briefing-item__title")]
    assert titles[0] == "Port strike halts grain exports"
    assert all(h.name == "h3" for h in home.select("main .briefing-item__title")), "day heading is h2"


# ---------------------------------------------------------------- a briefing


def test_breadcrumb_leads_home_and_to_the_day(out: Path) -> None:
    crumbs = page(out, MAIN_URL).find("nav", class_="breadcrumb")
    links = [(text_of(a), a["href"]) for a in crumbs.find_all("a")]
    assert links == [("Home", "/news/"), ("3 March 2021", "/news/2021/03/03/")]


def test_updated_is_shown_only_on_a_later_day(out: Path) -> None:
    main = page(out, MAIN_URL)
    assert "Updated 4 March 2021" in text_of(main.find(class_="meta"))
    same_day = page(out, "2021/03/02/new-tariffs-on-imported-steel/")
    assert "Updated" not in text_of(same_day.find(class_="briefing__header"))
    assert same_day.find("meta", property="article:modified_time") is not None


def test_grouped_markers_are_sorted_and_separated(out: Path) -> None:
    soup = page(out, MAIN_URL)
    groups = [g.get_text() for g in soup.select("main span.citation-group")]
    # [@grain-prices; @harbour-report] cites 2 and 1; [@harbour-report; @grain-prices] 1 and 2.
    assert groups == ["1, 2", "1, 2"]


def test_sources_list_compacts_locators_and_backlinks(out: Path) -> None:
    soup = page(out, MAIN_URL)
    harbour = soup.find(id="source-1")
    assert text_of(harbour.find(class_="source__locators")) == "Cited at paras. 1\u20134, 9."
    backlinks = harbour.select(".backrefs a")
    assert [text_of(a) for a in backlinks] == ["a", "b", "c", "d", "e"], "one short link per citation"
    assert len(harbour.find_all(string=re.compile("\u21a9"))) == 1, "one arrow, not a row of them"
    rail = soup.find(id="source-3")
    (only,) = rail.select("a.backrefs")
    assert only["href"] == "#cite-ref-3-1" and only.get("aria-label")
    grain = soup.find(id="source-2")
    assert text_of(grain.find(class_="source__locators")) == "Cited at p. 7."


def test_links_that_leave_the_site_are_marked(out: Path) -> None:
    entry = page(out, MAIN_URL).find(id="source-1")
    title = entry.find("cite").find("a")
    assert "external" in title["class"] and title["href"].startswith("https://ledger.example/")
    # Said inside the link, so that a link reached by Tab, or listed, says so too.
    assert text_of(title).endswith("(external site)")
    for archived in [*entry.select("a.source__archive"),
                     *page(out, "sources/coast-ledger/").select("a.external")]:
        assert text_of(archived).endswith("(external site)"), archived
    publisher = entry.find(class_="source__meta").find("a")
    assert publisher["href"] == "/news/sources/coast-ledger/"
    assert "external" not in publisher.get("class", [])


def test_related_briefings_rank_shared_sources_then_topics_then_recency(out: Path) -> None:
    side = page(out, MAIN_URL).find("aside", attrs={"aria-labelledby": "related-heading"})
    titles = [text_of(a) for a in side.select("li a")]
    # Two shared sources (4) > one shared source (2) > one shared source, older (2) > topic only (1).
    assert titles == ["Harbour dispute enters second week", "New tariffs on imported steel",
                      "Rail talks collapse"]
    museum = page(out, "2021/02/10/museum-reopens-its-west-wing/")
    assert museum.find("aside", attrs={"aria-labelledby": "related-heading"}) is None


def test_citation_script_is_a_static_file_and_markers_work_without_it(out: Path) -> None:
    soup = page(out, MAIN_URL)
    script = soup.find("script", src=True)
    assert script is not None and re.fullmatch(r"/news/static/citations\.[0-9a-f]+\.js", script["src"])
    assert (out / script["src"].removeprefix("/news/")).is_file()
    assert not soup.find_all("script", src=False, type=lambda t: t != "application/ld+json")
    for marker in soup.select("sup.citation a"):
        assert soup.find(id=marker["href"][1:]) is not None


# ---------------------------------------------------------------- structured data and sharing

# The schema.org types and properties the test accepts, with the ones it requires.
SCHEMA: dict[str, tuple[set[str], set[str]]] = {
    "NewsArticle": ({"headline", "datePublished", "author", "publisher", "url"},
                    {"headline", "datePublished", "dateModified", "author", "publisher", "url",
                     "mainEntityOfPage", "inLanguage", "description", "image", "keywords", "citation"}),
    "WebSite": ({"name", "url"}, {"name", "url", "description", "inLanguage"}),
    "Organization": ({"name"}, {"name", "url"}),
    "Person": ({"name"}, {"name"}),
    "CreativeWork": ({"name"}, {"name", "url", "publisher", "datePublished", "author"}),
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?)?")


def check_schema(node: Any, where: str = "$") -> None:
    """Every object has a known @type, its required properties, and only known properties."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            check_schema(item, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    kind = node.get("@type")
    assert kind in SCHEMA, f"{where}: unknown @type {kind!r}"
    required, allowed = SCHEMA[kind]
    keys = set(node) - {"@type", "@context"}
    assert required <= keys, f"{where} ({kind}) lacks {required - keys}"
    assert keys <= allowed, f"{where} ({kind}) has unknown properties {keys - allowed}"
    for key, value in node.items():
        if key.startswith("date"):
            assert ISO_DATE.fullmatch(value), f"{where}.{key} is not ISO 8601: {value!r}"
        if key in ("url", "mainEntityOfPage") or key == "image":
            for url in value if isinstance(value, list) else [value]:
                assert re.match(r"https?://", url), f"{where}.{key} is not absolute: {url!r}"
        check_schema(value, f"{where}.{key}")


def json_ld(soup: Any) -> list[dict[str, Any]]:
    return [json.loads(s.string) for s in soup.find_all("script", type="application/ld+json")]


def test_briefing_has_a_valid_news_article_with_citations(out: Path) -> None:
    (data,) = json_ld(page(out, MAIN_URL))
    assert data["@context"] == "https://schema.org" and data["@type"] == "NewsArticle"
    check_schema(data)
    assert data["headline"] == "Port strike halts grain exports"
    assert data["url"] == "https://example.org/news/" + MAIN_URL
    assert data["datePublished"].startswith("2021-03-03T09:30")
    assert data["dateModified"].startswith("2021-03-04")
    assert [a["name"] for a in data["author"]] == ["A. Curator", "B. Editor"]
    assert data["publisher"] == {"@type": "Organization", "name": "Reader Test",
                                 "url": "https://example.org/news/"}
    cited = {c["name"]: c for c in data["citation"]}
    assert set(cited) == {"Harbour cranes stand idle", "Grain prices climb again", "Rail workers walk out"}
    harbour = cited["Harbour cranes stand idle"]
    assert harbour["url"] == "https://ledger.example/cranes"
    assert harbour["publisher"]["name"] == "Coast Ledger"
    assert harbour["datePublished"] == "2021-03-02"
    assert data["image"] == ["https://example.org/news/img/port.png"]


def test_every_briefing_has_news_article_json_ld(out: Path) -> None:
    paths = list(out.glob("2021/*/*/*/index.html"))
    assert len(paths) == 5
    for path in paths:
        (data,) = json_ld(soup_of(path))
        check_schema(data)
        assert data["@type"] == "NewsArticle"
        if "museum" in str(path):
            assert data["author"] == [data["publisher"]], "no curators: the site is the author"


def test_home_has_website_json_ld(out: Path) -> None:
    (data,) = json_ld(page(out, ""))
    check_schema(data)
    assert data["@type"] == "WebSite" and data["url"] == "https://example.org/news/"


def test_sharing_cards(out: Path) -> None:
    brief = page(out, MAIN_URL)
    assert brief.find("meta", property="og:image")["content"] == "https://example.org/news/img/port.png"
    assert brief.find("meta", attrs={"name": "twitter:card"})["content"] == "summary_large_image"
    other = page(out, "2021/03/01/harbour-dispute-enters-second-week/")
    assert other.find("meta", property="og:image")["content"] == "https://example.org/news/img/site.png"
    home = page(out, "")
    assert home.find("meta", attrs={"name": "twitter:card"}) is not None
    # Open Graph's locale is language_TERRITORY.
    assert brief.find("meta", property="og:locale")["content"] == "en_US"


def test_a_sharing_image_address_is_percent_encoded(tmp_path: Path) -> None:
    files = {**FILES, "content/briefings/2021/wide.md": (
        "---\ntitle: Ferry\ndate: 2021-03-05\nimage: /img/F\u00e4hre 1.png\n---\nText.\n")}
    root = make_site(tmp_path, files, config().replace("https://example.org/news/", "https://b\u00fccher.example/caf\u00e9/"))
    build_ok(root)
    brief = page(root / "output", "2021/03/05/ferry/")
    expected = "https://xn--bcher-kva.example/caf%C3%A9/img/F%C3%A4hre%201.png"
    assert brief.find("meta", property="og:image")["content"] == expected
    (data,) = [d for d in json_ld(brief) if d.get("@type") == "NewsArticle"]
    assert data["image"] == [expected]


@pytest.mark.parametrize(("language", "locale"), [("de", "de_DE"), ("zh-Hant", "zh_TW"), ("pt_BR", "pt_BR")])
def test_open_graph_locale_names_a_territory(language: str, locale: str) -> None:
    from briefgen.i18n.catalog import load_catalog

    assert load_catalog(language, [])[0].open_graph_locale == locale


def test_a_language_written_with_an_underscore_is_a_bcp_47_tag_in_the_output(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config(language="pt_BR"))
    build_ok(root)
    out = root / "output"
    assert page(out, MAIN_URL).find("html")["lang"] == "pt-BR"
    assert 'xml:lang="pt-BR"' in (out / "feed.xml").read_text(encoding="utf-8")
    assert json.loads((out / "feed.json").read_text(encoding="utf-8"))["language"] == "pt-BR"
    assert '"inLanguage":"pt-BR"' in (out / MAIN_URL / "index.html").read_text(encoding="utf-8")


def test_json_ld_escapes_markup(tmp_path: Path) -> None:
    files = dict(FILES)
    files["content/briefings/2021/main.md"] = MAIN.replace(
        'title: "Port strike halts grain exports"', 'title: "Port </script><b>strike</b>"')
    root = make_site(tmp_path, files, config())
    build_ok(root)
    html = next((root / "output/2021/03/03").glob("*/index.html")).read_text(encoding="utf-8")
    script = html.split('<script type="application/ld+json"')[1].split(">", 1)[1].split("</script>")[0]
    assert "<" not in script
    assert json.loads(script)["headline"] == "Port </script><b>strike</b>"


def test_headings_named_like_the_themes_own_ids_do_not_take_them(tmp_path: Path) -> None:
    headings = ["Main", "Sources heading", "Related heading", "Search box q", "Side topics", "Fn 1"]
    body = "".join(f"\n## {heading}\n\nText [@harbour-report].\n" for heading in headings)
    files = dict(FILES)
    files["content/briefings/2021/main.md"] = MAIN + body
    files["content/pages/notes.md"] = "---\ntitle: Notes\n---\n" + body.replace(" [@harbour-report]", "")
    root = make_site(tmp_path, files, config())
    build_ok(root)
    for soup in (page(root / "output", MAIN_URL), page(root / "output", "notes/")):
        ids = [element["id"] for element in soup.find_all(id=True)]
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        assert [h2.get("id") for h2 in soup.find("main").find_all("h2") if text_of(h2) in headings] == [
            "main-section", "sources-heading-section", "related-heading-section", "search-box-q-section",
            "side-topics-section", "fn-1-section"]
        # Every label still names the theme's own element: the heading inside what it labels.
        for element in soup.find_all(attrs={"aria-labelledby": True}):
            assert element in soup.find(id=element["aria-labelledby"]).parents
        label = soup.find("label", attrs={"for": "search-box-q"})
        assert label is not None and soup.find(id="search-box-q").name == "input"


def test_topics_and_publishers_stand_a_to_z_with_accents_folded(tmp_path: Path) -> None:
    sources = "".join(f"- id: s{n}\n  title: Article {n}\n  publisher: {name}\n  url: https://{n}.example/a\n"
                      for n, name in enumerate(["Zeit", "Österreich Heute", "example News", "Ärzte Blatt"]))
    briefing = ("---\ntitle: A note\ndate: 2021-03-03\n"
                "topics: [Zoning, Économie, asia, Østlandet, Eaux]\n---\n")
    cites = " ".join(f"[@s{n}]" for n in range(4))
    root = make_site(tmp_path, {"content/sources/s.yaml": sources,
                                "content/briefings/2021/a.md": briefing + f"Text {cites}.\n"}, config())
    build_ok(root)
    topics = [text_of(li.find("a")) for li in page(root / "output", "topics/").select(".topic-index li")]
    assert topics == ["asia", "Eaux", "Économie", "Østlandet", "Zoning"]
    publishers = [text_of(a) for a in page(root / "output", "sources/").select("tbody th a")]
    assert publishers == ["Ärzte Blatt", "example News", "Österreich Heute", "Zeit"]


def test_a_base_url_of_other_scripts_is_written_as_sitemaps_and_feeds_require(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config())
    build_ok(root, "--base-url", "https://bücher.example/café/")
    out = root / "output"
    base = "https://xn--bcher-kva.example/caf%C3%A9/"
    assert base + "sitemap.xml" in (out / "robots.txt").read_text(encoding="utf-8")
    sitemaps = "".join(p.read_text(encoding="utf-8") for p in out.glob("sitemap*.xml"))
    locations = re.findall(r"<loc>([^<]*)</loc>", sitemaps)
    assert locations and all(loc.startswith(base) and loc.isascii() for loc in locations)
    assert page(out, MAIN_URL).find("link", rel="canonical")["href"] == base + MAIN_URL
    assert f'<id>{base}' in (out / "feed.xml").read_text(encoding="utf-8")
    result = assert_no_broken_links(out, "/café/", base)  # the crawler reads paths unescaped
    assert len(result.visited) > 5


# ---------------------------------------------------------------- theme settings


def test_extra_css_and_extra_head(out: Path) -> None:
    home = page(out, "")
    sheets = [link["href"] for link in home.find_all("link", rel="stylesheet")]
    assert len(sheets) == 2 and sheets[1] == "/news/extra.css"
    assert (out / "extra.css").is_file()
    assert home.find("meta", attrs={"name": "test-extra"})["content"] == "yes"


def test_extra_css_of_the_same_name_as_the_themes_is_the_sites_own(tmp_path: Path) -> None:
    root = make_site(tmp_path, {**FILES, "static/style.css": "body { color: #123456; }\n"},
                     config(site_extra='extra_css = ["style.css"]\n'))
    build_ok(root)
    sheets = [link["href"] for link in page(root / "output", "").find_all("link", rel="stylesheet")]
    assert len(sheets) == 2 and sheets[0] != sheets[1], sheets
    assert sheets[1] == "/news/style.css" and "#123456" in (root / "output/style.css").read_text()


def test_page_weight_of_a_briefing_is_under_30_kb(out: Path) -> None:
    soup = page(out, MAIN_URL)
    html = (out / MAIN_URL / "index.html").stat().st_size
    css = sum((out / link["href"].removeprefix("/news/")).stat().st_size
              for link in soup.find_all("link", rel="stylesheet"))
    assert html + css < 30_000, f"{html} B of HTML + {css} B of CSS"


# ---------------------------------------------------------------- languages


class _Interface(NamedTuple):
    header: tuple[str, ...]  # in a briefing's header: its date, "Updated", reading time, sources
    sources: str
    nav: list[str]
    home: str
    day: str
    month: str  # in the archive
    topic_count: str  # two briefings on a topic
    search_example: str  # in the search page's help: a word, and a longer one it finds


_INTERFACES = {
    "de": _Interface(("3. März 2021", "Aktualisiert", "Min. Lesezeit", "4 Quellen"), "Quellen",
                     ["Startseite", "Themen", "Archiv", "Quellen"], "Neueste Briefings",
                     "Mittwoch, 3. März 2021", "März", "2 Briefings", "„korri“ findet „Korridore“"),
    "ja": _Interface(("2021年3月3日", "更新", "分で読めます", "4 件の出典"), "出典",
                     ["ホーム", "トピック", "アーカイブ", "出典"], "最新のブリーフィング",
                     "2021年3月3日 水曜日", "3月", "2 件のブリーフィング",
                     "「会議」で「国際会議」も見つかります"),
}


@pytest.mark.parametrize("language", sorted(_INTERFACES))
def test_interface_and_dates_in_the_site_language(tmp_path: Path, language: str) -> None:
    expected = _INTERFACES[language]
    root = make_site(tmp_path, FILES, config(language))
    build_ok(root)
    out = root / "output"
    brief = page(out, MAIN_URL)
    assert brief.find("html")["lang"] == language and brief.find("html")["dir"] == "ltr"
    header = text_of(brief.find(class_="briefing__header"))
    assert all(text in header for text in expected.header), header
    assert text_of(brief.find(id="sources-heading")) == expected.sources
    assert [text_of(a) for a in brief.select("nav.site-nav a")][:4] == expected.nav
    home = page(out, "")
    assert text_of(home.find("h1")) == expected.home
    assert text_of(home.find(class_="day__heading")) == expected.day
    assert expected.month in text_of(page(out, "archive/").find("main"))
    counts = {text_of(li.find("a")): text_of(li.find(class_="count"))
              for li in page(out, "topics/").select(".topic-index li")}
    assert counts["Trade"] == expected.topic_count
    assert expected.search_example in text_of(page(out, "search/").find(id="search-help"))


def test_time_of_day_with_its_zone_follows_each_day(tmp_path: Path) -> None:
    """Times of day are formatted once per minute of the day, unless the pattern shows the
    zone: then a winter and a summer briefing at one wall-clock time read differently."""
    files: dict[str, str | bytes] = {
        "content/briefings/winter.md": "---\ntitle: Winter\ndate: 2021-01-05T14:30:00\n---\nCold.\n",
        "content/briefings/summer.md": "---\ntitle: Summer\ndate: 2021-07-05T14:30:00\n---\nWarm.\n",
    }
    shown = {}
    for pattern in ("HH:mm", "HH:mm zzzz"):
        site = tmp_path / pattern.replace(" ", "-").replace(":", "")
        files["templates/i18n/en.toml"] = f'[formats]\ntime = "{pattern}"\n'
        root = make_site(site, files, config().replace('"UTC"', '"Europe/Berlin"'))
        build_ok(root)
        shown[pattern] = [text_of(t) for t in page(root / "output", "").select("li.briefing-item time")]
    assert shown["HH:mm"] == ["14:30", "14:30"]
    assert shown["HH:mm zzzz"] == ["14:30 Central European Summer Time",
                                   "14:30 Central European Standard Time"]


def test_reading_time_counts_chinese_and_japanese_by_characters(tmp_path: Path) -> None:
    """Text without spaces has no words to count between them: two CJK characters count as a word."""
    body = "\n\n".join(["贸易谈判持续了两天。" * 10] * 10)  # 900 characters and 100 full stops
    files: dict[str, str | bytes] = {
        "content/briefings/zh.md": f"---\ntitle: 贸易谈判\ndate: 2021-03-01\n---\n{body}\n",
        "content/briefings/ja.md": "---\ntitle: 会議\ndate: 2021-03-02\n---\n"
                                   + "東京で会議が開かれた。" * 100 + "\n",  # 1,000 characters
        "content/briefings/en.md": "---\ntitle: Talks\ndate: 2021-03-03\n---\n" + "word " * 461 + "\n",
    }
    root = make_site(tmp_path, files, config("zh"))
    build_ok(root)
    minutes = {text_of(item.find("a")): re.search(r"阅读约 (\d+) 分钟", text_of(item.find(class_="meta")))
               for item in page(root / "output", "").select("li.briefing-item")}
    # 450 words: 2 minutes at 230 a minute; 500 words: 3; 461 words between spaces: 3.
    assert {title: int(found.group(1)) for title, found in minutes.items() if found} == {
        "贸易谈判": 2, "会議": 3, "Talks": 3}


def test_russian_plural_forms(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config("ru"))
    build_ok(root)
    out = root / "output"
    counts = {text_of(li.find("a")): text_of(li.find(class_="count"))
              for li in page(out, "topics/").select(".topic-index li")}
    assert counts["Trade"] == "2 брифинга" and counts["Culture"] == "1 брифинг"
    assert "4 источника" in text_of(page(out, MAIN_URL).find(class_="briefing__header"))


def test_right_to_left_language_mirrors(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config("ar"))
    build_ok(root)
    html = page(root / "output", "").find("html")
    assert html["dir"] == "rtl" and html["lang"] == "ar"
    css = next((root / "output/static").glob("style.*.css")).read_text(encoding="utf-8")
    physical = re.findall(r"(?:margin|padding|border)-(?:left|right)\b|text-align:\s*(?:left|right)", css)
    assert not physical, f"physical sides do not mirror: {physical}"


def test_a_site_can_change_one_string_of_a_catalog(tmp_path: Path) -> None:
    files = dict(FILES)
    files["templates/i18n/de.toml"] = '[strings]\n"Latest briefings" = "Das Neueste"\n'
    root = make_site(tmp_path, files, config("de"))
    build_ok(root)
    home = page(root / "output", "")
    assert text_of(home.find("h1")) == "Das Neueste"
    assert text_of(home.select("nav.site-nav a")[1]) == "Themen", "the rest of the catalog stays"


CATALOGS = REPO / "themes/default/templates/i18n"


def _template_strings() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "themes/default/templates").rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        # Called, t("..."), or as a filter, "..." | t, as the default theme does.
        found |= set(re.findall(r"""\bt\(\s*["']([^"']+)["']""", source))
        found |= set(re.findall(r"""["']([^"']+)["']\s*\|\s*t\b""", source))
    for module in ("renderer.py", "views.py"):
        code = (REPO / "briefgen/render" / module).read_text(encoding="utf-8")
        found |= set(re.findall(r"""\b(?:t|text)\(\s*"([^"]+)\"""", code))
    # Strings of the page chrome, of a briefing's page and of the search page: each way of
    # writing them in a template is read.
    assert {"Skip to content", "{n} min read", "Curated by {names}", "“corri”", "quotes",
            "Back to reference {n}"} <= found
    return found


@pytest.mark.parametrize("language", ["de", "fr", "es", "ru", "zh", "ja"])
def test_shipped_catalogs_translate_every_interface_string(language: str) -> None:
    import tomllib

    catalog = tomllib.loads((CATALOGS / f"{language}.toml").read_text(encoding="utf-8"))
    strings = catalog["strings"]
    missing = sorted(_template_strings() - set(strings))
    assert not missing, f"{language}.toml lacks {missing}"
    for english, translated in strings.items():
        assert set(re.findall(r"{\w+}", english)) == set(re.findall(r"{\w+}", translated)), english
    assert {"briefing", "source", "article", "topic"} <= set(catalog["plurals"])


# ---------------------------------------------------------------- opens from disk


def test_a_texts_root_relative_addresses_are_on_the_site_under_its_base_path(tmp_path: Path) -> None:
    files = {**FILES, "static/img/card.png": b"\x89PNG\r\n\x1a\n",
             "content/briefings/2021/card.md": (
                 "---\ntitle: Card\ndate: 2021-03-05\n---\n![A card](/img/card.png) and "
                 "[the archive](/archive/), [already placed](/news/topics/), "
                 "[another host](//cdn.example/x.js).\n")}
    root = make_site(tmp_path, files, config())  # base URL https://example.org/news/
    build_ok(root)
    body = page(root / "output", "2021/03/05/card/").select_one(".prose")
    assert body.find("img")["src"] == "/news/img/card.png"
    links = [a["href"] for a in body.find_all("a")]
    assert links == ["/news/archive/", "/news/topics/", "//cdn.example/x.js"]
    feed = (root / "output" / "feed.xml").read_text(encoding="utf-8")
    assert "https://example.org/news/img/card.png" in feed


def test_relative_urls_take_single_quotes_and_srcset_too(tmp_path: Path) -> None:
    """A theme may quote its attributes either way, and give images several sources."""
    files = {**FILES, "templates/partials/extra.html": "",
             "templates/404.html": ("{% extends 'base.html' %}{% block content %}"
                                    "<a href='{{ url_for(\"archive\") }}'>Archive</a>"
                                    "<img alt='' srcset=\"{{ 'static' | url_for('style.css') }} 1x, "
                                    "{{ url_for('topics') }} 2x\">{% endblock %}")}
    root = make_site(tmp_path, files, config(build_extra="relative_urls = true"))
    build_ok(root)
    html = (root / "output" / "404.html").read_text(encoding="utf-8")
    assert "href='archive/index.html'" in html, html
    assert re.search(r'srcset="static/style\.[0-9a-f]+\.css 1x, topics/index\.html 2x"', html), html
    assert "/news/" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_relative_urls_make_every_internal_link_relative(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config(build_extra="relative_urls = true"))
    build_ok(root)
    out = root / "output"
    pages = list(out.rglob("*.html"))
    assert len(pages) > 10
    checked = 0
    for path in pages:
        here = path.parent.relative_to(out).as_posix()
        html = path.read_text(encoding="utf-8")
        for link in re.findall(r'\s(?:href|src)="([^"]*)"', html):
            if re.match(r"[a-z]+:", link) or link.startswith("#"):
                continue
            assert not link.startswith("/"), f"{path.relative_to(out)}: root-relative {link!r}"
            target = posixpath.normpath(posixpath.join(here, link.split("#")[0]))
            assert (out / target).is_file(), f"{path.relative_to(out)}: {link!r} opens nothing"
            checked += 1
    assert checked > 100
    assert_no_broken_links(out, "/news/", "https://example.org/news/")
    # Canonical and feed URLs stay absolute.
    assert page(out, "").find("link", rel="canonical")["href"] == "https://example.org/news/"


def test_relative_urls_are_off_by_default(out: Path) -> None:
    assert page(out, MAIN_URL).find("a", string="Topics")["href"] == "/news/topics/"


# ---------------------------------------------------------------- command line


def test_bare_briefgen_prints_help_and_exits_0(tmp_path: Path) -> None:
    code, stdout, stderr = run_cli(cwd=tmp_path)
    assert code == 0, stderr
    assert stdout.startswith("usage: briefgen") and "build" in stdout and "theme" in stdout


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str, tmp_path: Path) -> None:
    code, stdout, _ = run_cli(flag, cwd=tmp_path)
    assert code == 0 and re.fullmatch(r"briefgen \d+\.\d+\.\d+\S*\n", stdout)


COMMANDS = ["build", "serve", "check", "clean", "new", "init", "theme", "publish"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_description_and_an_example(command: str, tmp_path: Path) -> None:
    code, stdout, _ = run_cli(command, "--help", cwd=tmp_path)
    assert code == 0
    lines = stdout.splitlines()
    description = lines[lines.index("") + 1]
    assert description and not description.startswith(("positional", "options")), stdout
    assert "example:\n  briefgen " + command in stdout
    for option in re.findall(r"^  (--[a-z-]+) [A-Z_]+\s", stdout, re.M):
        assert "default" in stdout.split(option, 1)[1].split("\n  -", 1)[0] or option in {
            "--output", "--base-url", "--git-branch", "--dir", "--remote", "--message", "--topic",
        }, f"{command} {option}: a valued option states its default"
    if command not in ("new", "init", "theme"):
        usage = stdout.split("\n\n")[0]
        assert usage.startswith(f"usage: briefgen {command}") and "[SITE]" in usage, "SITE is positional"


def test_new_takes_the_site_as_a_positional_argument(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config())
    code, _, stderr = run_cli("new", "Quay cranes restart", root, "--topic", "Trade", cwd=tmp_path)
    assert code == 0, stderr
    assert list((root / "content/briefings").glob("*/quay-cranes-restart.md"))
    code, _, stderr = run_cli("new", "Old style still works", "--site", root, cwd=tmp_path)
    assert code == 0, stderr
    assert "deprecated" in stderr
    assert list((root / "content/briefings").glob("*/old-style-still-works.md"))


def test_init_does_not_copy_the_theme_and_eject_does(tmp_path: Path) -> None:
    target = tmp_path / "fresh"
    code, _, stderr = run_cli("init", target)
    assert code == 0, stderr
    assert not (target / "themes").exists(), "the site uses the built-in theme"
    build_ok(target)
    code, _, stderr = run_cli("theme", "eject", target)
    assert code == 0, stderr
    copied = target / "themes/default/templates/base.html"
    assert copied.read_bytes() == (REPO / "themes/default/templates/base.html").read_bytes()
    # The copy is the one used now.
    copied.write_text(copied.read_text(encoding="utf-8").replace(
        "<body ", '<body data-ejected="yes" '), encoding="utf-8")
    build_ok(target)
    assert page(target / "output", "").find("body")["data-ejected"] == "yes"
    code, _, stderr = run_cli("theme", "eject", target)
    assert code == 2 and "already exists" in stderr and "Traceback" not in stderr


# ---------------------------------------------------------------- incremental builds


def test_rebuild_follows_topic_descriptions_related_briefings_and_catalogs(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config())
    build_ok(root)
    out = root / "output"
    (root / "content/topics/trade.md").write_text("Now about *quotas*.\n", encoding="utf-8")
    (root / "content/briefings/2021/topic.md").write_text(
        TOPIC_ONLY.replace("[Trade]", "[Culture]"), encoding="utf-8")
    (root / "templates/i18n").mkdir(parents=True)
    (root / "templates/i18n/en.toml").write_text('[strings]\n"Related briefings" = "See also"\n',
                                                 encoding="utf-8")
    build_ok(root)
    assert page(out, "topics/trade/").find(class_="topic-description").find("em").get_text() == "quotas"
    side = page(out, MAIN_URL).find("aside", attrs={"aria-labelledby": "related-heading"})
    assert text_of(side.find("h2")) == "See also"
    # The tariffs briefing now shares a source only: it stays related, ranked by the same rule.
    museum = page(out, "2021/02/10/museum-reopens-its-west-wing/")
    related = museum.find("aside", attrs={"aria-labelledby": "related-heading"})
    assert related is not None and "New tariffs on imported steel" in text_of(related)


# ---------------------------------------------------------------- generated reference documents


def test_every_setting_is_documented() -> None:
    from briefgen.config import _SCHEMA
    from briefgen.config_docs import SETTING_DOCS

    schema = {(section, key) for section, keys in _SCHEMA.items() for key in keys}
    assert schema == set(SETTING_DOCS), "config_docs.py and the schema list different settings"


@pytest.mark.parametrize("name", ["configuration.md", "cli.md"])
def test_generated_reference_documents_are_current(name: str) -> None:
    from briefgen.docgen import DOCUMENTS

    written = (REPO / "docs" / name).read_text(encoding="utf-8")
    assert written == DOCUMENTS[name](), f"docs/{name} is out of date: run `python -m briefgen.docgen`"


def test_every_demo_briefing_page_is_under_30_kb_of_html_and_css(tmp_path: Path) -> None:
    import shutil

    site = tmp_path / "demo"
    site.mkdir()
    shutil.copy2(REPO / "briefgen.toml", site / "briefgen.toml")
    shutil.copytree(REPO / "content", site / "content")
    build_ok(site, "--output", tmp_path / "out")
    out = tmp_path / "out"
    pages = list(out.glob("[0-9]*/[0-9]*/[0-9]*/*/index.html"))
    assert pages
    heaviest = max(pages, key=lambda p: p.stat().st_size)
    # The style sheets the page itself links (the search page's own sheet is not one of them).
    sheets = [link["href"] for link in soup_of(heaviest).find_all("link", rel="stylesheet")]
    assert sheets
    css = sum((out / href.removeprefix("/")).stat().st_size for href in sheets)
    assert heaviest.stat().st_size + css < 30_000, (heaviest, heaviest.stat().st_size, sheets, css)


def test_config_file_elsewhere(tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config())
    settings = tmp_path / "settings" / "staging.toml"
    settings.parent.mkdir()
    settings.write_text(config("de").replace('title = "Reader Test"', 'title = "Staging"'), encoding="utf-8")
    (root / "briefgen.toml").unlink()
    out = tmp_path / "out"
    build_ok(root, "--config", settings, "--output", out)
    home = page(out, "")
    assert text_of(home.find(class_="site-title")) == "Staging" and home.find("html")["lang"] == "de"
    code, _, stderr = run_cli("check", root, "--config", settings)
    assert code == 0, stderr
    code, _, stderr = run_cli("build", root, "--config", tmp_path / "missing.toml")
    assert code == 1 and "no such configuration file" in stderr and "Traceback" not in stderr
    settings.write_text('[site]\ntitle = "x"\ntitel = "y"\n', encoding="utf-8")
    code, _, stderr = run_cli("check", root, "--config", settings)
    assert code == 1 and re.search(r"staging\.toml:3:1: error: unknown key site\.titel", stderr), stderr


@pytest.mark.parametrize(("catalog", "expected"), [
    ('strings = "oops"\n', "1:1: error: `strings` must be a table (`[strings]`), not str"),
    ('[plurals]\nsource = "{n} sources"\n', "2:1: error: `source` must be a table of plural forms"),
    ('[plurals]\nsource = { one = "{count} source", other = "{n} sources" }\n',
     "2:1: error: the form 'one' of `source` must be text naming at most {n}"),
    ('[formats]\ndate = "d MMMM y qqqqqq"\n', "2:1: error: `date` must be a date or time pattern of CLDR"),
    ('[strings]\n"Home" = "Start"\n"{n} min read" = "{minutes} min"\n',
     "3:1: error: the translation of '{n} min read' must use the placeholders of the English text: {n}"),
])
def test_a_catalog_of_the_wrong_shape_is_an_error_at_its_line(tmp_path: Path, catalog: str,
                                                              expected: str) -> None:
    root = make_site(tmp_path, {**FILES, "templates/i18n/en.toml": catalog}, config())
    code, _, stderr = run_cli("check", root)
    assert code == 1 and "Traceback" not in stderr, stderr
    assert f"templates/i18n/en.toml:{expected}" in stderr, stderr


def test_broken_catalog_and_topic_description_are_errors_with_places(tmp_path: Path) -> None:
    files = dict(FILES)
    files["templates/i18n/en.toml"] = '[strings\n"Home" = "Start"\n'
    files["content/topics/trade.md"] = b"\xff\xfe not text"
    root = make_site(tmp_path, files, config())
    code, _, stderr = run_cli("build", root)
    assert code == 1 and "Traceback" not in stderr
    assert re.search(r"^templates/i18n/en\.toml:1:9: error: invalid catalog", stderr, re.M), stderr
    (root / "templates/i18n/en.toml").unlink()
    code, _, stderr = run_cli("build", root)
    assert code == 1 and re.search(r"^content/topics/trade\.md:1:1: error: not valid UTF-8", stderr, re.M)
