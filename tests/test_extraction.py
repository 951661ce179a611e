"""Clean text: the article's paragraphs, and only them, from pages and pasted text.

The fixtures in tests/fixtures/articles/ are fictional articles written for these
tests, each as an HTML page and as the text a browser gives when the page is
copied, with the paragraphs expected in expected.yaml.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from briefgen.sources.extract import article_from_html
from briefgen.sources.fetch import decode_page
from briefgen.sources.metadata import page_metadata
from briefgen.sources.text import article_from_text

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
NAMES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
EXAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "examples"
EXAMPLE = EXAMPLES / "source-article-moscow-times.txt"

# The example article's headline and nine paragraphs, as SHA-256 prefixes.
DIGESTS = yaml.safe_load((Path(__file__).parent / "fixtures" / "example-digests.yaml").read_text("utf-8"))
# The publisher's clutter in the example, as the page shows it.
EXAMPLE_CLUTTER = ["Support The Moscow Times", "newsletter", "Privacy Policy", "A Message from",
                   "Dear readers", "Once", "Monthly", "Annual", "Continue", "paiment", "Remind me later",
                   "Not ready to support", "Read more", "Your support", "By supporting"]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FIXTURES / name / "expected.yaml").read_text("utf-8"))
    return data


def test_example_paste_gives_its_headline_and_nine_paragraphs() -> None:
    if not EXAMPLE.is_file():
        pytest.skip(f"the shared example article is not on this machine ({EXAMPLE})")
    article = article_from_text(EXAMPLE.read_text("utf-8"))
    assert article.headline is not None and _digest(article.headline) == DIGESTS["headline"]
    assert len(article.paragraphs) == 9
    assert [_digest(p) for p in article.paragraphs] == DIGESTS["paragraphs"]
    for paragraph in article.paragraphs:
        for clutter in EXAMPLE_CLUTTER:
            assert clutter.lower() not in paragraph.lower(), (clutter, paragraph)


@pytest.mark.parametrize("name", NAMES)
def test_pasted_text_keeps_the_article_paragraphs(name: str) -> None:
    spec = expected(name)
    article = article_from_text((FIXTURES / name / "pasted.txt").read_text("utf-8"))
    assert article.headline == spec.get("pasted_headline", spec["title"])
    assert list(article.paragraphs) == spec["paragraphs"] + spec.get("known_extra", {}).get("pasted.txt", [])
    assert article.paywalled == spec.get("paywall", False)


@pytest.mark.parametrize("name", NAMES)
def test_html_page_keeps_the_article_paragraphs(name: str) -> None:
    spec = expected(name)
    html = decode_page((FIXTURES / name / "page.html").read_bytes(), None)
    article = article_from_html(html, spec["title"])
    assert list(article.paragraphs) == spec["paragraphs"] + spec.get("known_extra", {}).get("page.html", [])
    assert article.paywalled == spec.get("paywall", False)


@pytest.mark.parametrize("name", NAMES)
def test_html_metadata(name: str) -> None:
    spec = expected(name)
    html = (FIXTURES / name / "page.html").read_text("utf-8")
    meta = page_metadata(html, spec["url"])
    assert meta.title == spec["title"]
    assert meta.publisher == spec["publisher"]
    assert meta.published == spec["published"]
    assert list(meta.authors) == spec["authors"]
    assert meta.language == spec["language"]
    assert meta.url == spec["url"]


def test_metadata_sources_in_order_of_trust() -> None:
    """JSON-LD wins over OpenGraph; a relative canonical link needs the page's address."""
    html = """<html lang="fr"><head>
    <meta property="og:title" content="Titre OpenGraph"><meta property="og:site_name" content="Le Site">
    <meta property="article:published_time" content="2020-01-02T10:00:00Z">
    <link rel="canonical" href="/a/b">
    <script type="application/ld+json">{"@type": ["NewsArticle"], "headline": "Titre JSON-LD",
      "datePublished": "2021-03-04", "publisher": [{"name": "Éditeur"}], "author": "Une Autrice"}</script>
    <script type="application/ld+json">{ broken json</script>
    </head><body><h1>Titre h1</h1></body></html>"""
    meta = page_metadata(html)
    assert (meta.title, meta.publisher, meta.published, meta.authors, meta.language) == (
        "Titre JSON-LD", "Éditeur", dt.date(2021, 3, 4), ("Une Autrice",), "fr")
    assert meta.url is None
    assert page_metadata(html, "https://site.example/x/y").url == "https://site.example/a/b"


def test_a_json_ld_block_nested_too_deep_is_passed_over_like_a_broken_one() -> None:
    """json.loads raises RecursionError on it, which stopped `source add` with a traceback."""
    html = ('<html><head><script type="application/ld+json">' + "[" * 100000 + "</script>"
            '<meta property="og:title" content="The page\'s own title"></head><body></body></html>')
    assert page_metadata(html).title == "The page's own title"


def test_time_element_and_h1_when_nothing_else() -> None:
    html = """<html><body><article><h1>Only a heading</h1><time datetime="2019-05-06T08:00">6 May</time>
    <p>Text.</p></article></body></html>"""
    meta = page_metadata(html)
    assert meta.title == "Only a heading"
    assert meta.published == dt.date(2019, 5, 6)


def test_wrapped_paragraphs_are_joined() -> None:
    text = ("Harbour Times\n\nCouncil votes to rebuild the old pier\n\n"
            "The council voted on Monday to rebuild the old pier, which has been closed since a storm\n"
            "damaged its supports two winters ago, at a cost of four million pounds.\n\n"
            "Work is due to start in the spring and should take about eighteen months to finish.\n")
    article = article_from_text(text)
    assert article.headline == "Council votes to rebuild the old pier"
    assert article.paragraphs == (
        "The council voted on Monday to rebuild the old pier, which has been closed since a storm "
        "damaged its supports two winters ago, at a cost of four million pounds.",
        "Work is due to start in the spring and should take about eighteen months to finish.",
    )


def test_charset_from_header_then_meta_then_detection() -> None:
    text = "Straße, Bürger und „Zitate“ in der Lindenauer Altstadt"
    page = f"<html><head><meta charset='windows-1252'></head><body><p>{text}</p></body></html>"
    assert text in decode_page(page.encode("cp1252"), None)
    assert text in decode_page(page.encode("cp1252"), "windows-1252")
    # The header wins over the page's own claim.
    assert "Straße" in decode_page(page.replace("windows-1252", "utf-8").encode("cp1252"), "cp1252")
    russian = "Движение по новому мосту через реку откроют в июне, сообщили в администрации города. " * 3
    assert decode_page(russian.encode("cp1251"), None).startswith("Движение по новому мосту")


def test_paywall_declared_in_json_ld() -> None:
    html = ('<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "H",'
            ' "isAccessibleForFree": "False"}</script></head><body></body></html>')
    assert page_metadata(html).paywalled
    assert not page_metadata(html.replace('"False"', "true")).paywalled


@pytest.mark.parametrize(("publisher", "existing", "prefix"), [
    ("The Moscow Times", [], "mt"),
    ("BBC News", [], "bbc"),
    ("Reuters", [], "reuters"),
    ("Associated Press", [], "ap"),
    ("Северный вестник", [], "sv"),
    ("Al Jazeera", ["aljazeera-eid-truce", "aljazeera-opec-algiers"], "aljazeera"),
])
def test_publisher_prefix(publisher: str, existing: list[str], prefix: str) -> None:
    from briefgen.sources.ids import publisher_prefix

    assert publisher_prefix(publisher, existing) == prefix


def test_ids_are_readable_and_unique() -> None:
    from briefgen.sources.ids import is_valid, make_id

    title = "Russia Must Restrain Itself and Assad in Syria, Says U.S."
    assert make_id("The Moscow Times", title, set()) == "mt-russia-restrain"
    assert make_id("The Moscow Times", title, {"mt-russia-restrain"}) == "mt-russia-restrain-assad"
    taken = {"mt-russia-restrain", "mt-russia-restrain-assad", "mt-russia-restrain-assad-syria",
             "mt-russia-restrain-assad-syria-us"}
    assert make_id("The Moscow Times", title, taken) == "mt-russia-restrain-2"
    assert is_valid(make_id("Ökonomie & Co.", "«Ça va?» — Ärger über Straßenbau", set()))


@pytest.mark.parametrize("value", ["plain", "with: colon", "yes", "null", "123", "#hash", "- dash",
                                   "quote \" and 'single'", "Ünïcödé", " leading", "https://x.example/a?b=c#d"])
def test_registry_scalars_read_back_unchanged(value: str) -> None:
    from briefgen.sources.registry import scalar

    assert yaml.safe_load(f"key: {scalar(value)}")["key"] == value


@pytest.mark.parametrize("name", ["wire", "broadsheet", "german", "magazine", "regional"])
def test_hard_wrapped_text_gives_the_same_paragraphs(name: str) -> None:
    """Text wrapped at 72 columns (from an e-mail, say), paragraphs separated by blank lines."""
    import textwrap

    pasted = (FIXTURES / name / "pasted.txt").read_text("utf-8")
    wrapped = "\n\n".join(textwrap.fill(line, 72) for line in pasted.splitlines() if line.strip())
    assert wrapped.count("\n") > pasted.count("\n")
    assert article_from_text(wrapped) == article_from_text(pasted)


def test_article_sentences_that_resemble_clutter_are_kept() -> None:
    paragraphs = [
        "The mayor said the town would support the plan for a new harbour wall after months of debate.",
        "A message from the president was read aloud at the opening of the harbour on Saturday morning.",
        "Volunteers baked cookies for the construction crews, who had worked through two storms.",
        "More from the ministry is expected next week, officials said.",
        "Subscribers to the harbour's mooring scheme will pay less from January, the council said.",
    ]
    head = "Harbour Times\nNews\nHarbour wall to be rebuilt after storms\nBy A. Writer\n"
    tail = "\nRead more\nOther story about something else entirely, told at length."
    article = article_from_text(head + "\n".join(paragraphs) + tail)
    assert article.headline == "Harbour wall to be rebuilt after storms"
    assert list(article.paragraphs) == paragraphs
