"""The Atom feed as text equals the feed ElementTree made before it, byte for byte, for any
text a site or briefing may hold: the reference below is that earlier serialiser, kept
here as the oracle."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, fromstring, indent, tostring

import pytest
from conftest import corpus_site
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from briefgen import __version__
from briefgen.build.options import BuildOptions
from briefgen.build.pipeline import build
from briefgen.controls import strip_forbidden
from briefgen.render import feeds
from briefgen.render.views import BriefingView, TopicRef
from briefgen.site import plan

SCALE = int(os.environ.get("BRIEFGEN_PROPERTY_SCALE", "1"))
SETTINGS = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck),
                    max_examples=300 * SCALE, phases=[p for p in Phase if p is not Phase.explain])


def reference_atom_feed(info: feeds.FeedInfo, entries: Sequence[feeds.FeedEntry]) -> bytes:
    xml = strip_forbidden
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    feed = Element("feed", {"xmlns": feeds.ATOM, lang: xml(info.language)})

    def text(parent: Element, tag: str, value: str) -> Element:
        element = SubElement(parent, tag)
        element.text = value
        return element

    def author(parent: Element, name: str) -> None:
        if name:
            text(SubElement(parent, "author"), "name", name)

    text(feed, "id", xml(info.feed_url))
    text(feed, "title", xml(info.title))
    updated = max((e.updated for e in entries), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    text(feed, "updated", updated.isoformat())
    author(feed, xml(info.author))
    SubElement(feed, "link", {"href": xml(info.home_url), "rel": "alternate", "type": "text/html"})
    SubElement(feed, "link", {"href": xml(info.feed_url), "rel": "self", "type": "application/atom+xml"})
    text(feed, "generator", "briefgen").set("version", __version__)
    if info.description:
        text(feed, "subtitle", xml(info.description))
    for entry in entries:
        item = SubElement(feed, "entry")
        text(item, "id", xml(entry.url))
        text(item, "title", xml(entry.view.title))
        text(item, "updated", entry.updated.isoformat())
        for name in entry.view.curators:
            author(item, xml(name))
        text(item, "content", xml(entry.content_html())).set("type", "html")
        SubElement(item, "link", {"href": xml(entry.url), "rel": "alternate", "type": "text/html"})
        if entry.view.summary:
            text(item, "summary", xml(entry.view.summary))
        for topic in entry.view.topics:
            SubElement(item, "category", {"term": xml(topic.slug), "label": xml(topic.name)})
        text(item, "published", entry.view.date.isoformat())
    indent(feed)
    document: bytes = tostring(feed, encoding="UTF-8", xml_declaration=True)
    return document + b"\n"


# Text with what XML escapes, whitespace of every kind, characters XML forbids (stripped),
# other scripts, and the empty string.
TEXT = st.text(st.sampled_from([*"aZ 9&<>\"'\t\r\n\x0b\x00é€Ж日\ufffe", "\ud800", "\U0001f600"]),
               max_size=12)
DATES = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1),
                     timezones=st.just(dt.UTC))


@st.composite
def entries(draw: st.DrawFn) -> feeds.FeedEntry:
    date = draw(DATES)
    view = BriefingView(
        title=draw(TEXT), url="/b/", date=date, date_iso=date.isoformat(), date_display="",
        updated=draw(st.none() | DATES), updated_iso=None, updated_display=None,
        topics=tuple(TopicRef(draw(TEXT), draw(TEXT), "/t/") for _ in range(draw(st.integers(0, 2)))),
        summary=draw(TEXT), body_html=Markup(draw(TEXT) + '<a href="#s">x</a><a href="/p/">y</a>'),
        sources=(), curators=tuple(draw(st.lists(TEXT, max_size=2))), extra={}, draft=False,
        word_count=1, reading_minutes=1)
    return feeds.FeedEntry(view, "https://example.org/b/" + draw(TEXT), draw(TEXT))


@SETTINGS
@given(info=st.builds(feeds.FeedInfo, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT),
       items=st.lists(entries(), max_size=3))
def test_atom_feed_equals_element_tree_serialisation(info: feeds.FeedInfo,
                                                     items: list[feeds.FeedEntry]) -> None:
    made = feeds.atom_feed(info, [feeds.atom_entry(entry) for entry in items])
    assert made == reference_atom_feed(info, items)
    fromstring(made)  # well-formed whatever the text


@SETTINGS
@given(info=st.builds(feeds.FeedInfo, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT),
       items=st.lists(entries(), max_size=3))
def test_the_entries_of_a_feed_are_read_back_as_they_were_made(info: feeds.FeedInfo,
                                                               items: list[feeds.FeedEntry]) -> None:
    """What an edit in place keeps of a feed the last build wrote (edits._keep_entries): its
    entries read back from its bytes are those it was made of, whatever their text holds."""
    made = [feeds.atom_entry(entry) for entry in items]
    document = feeds.atom_feed(info, made)
    assert feeds.entries_of(document) == made
    assert feeds.entries_of(feeds.atom_feed(info, feeds.entries_of(document) or [])) is not None
    assert feeds.entries_of(document[:-2]) is None  # not a whole feed
    if made:
        # An entry whose date of update is not one atom_entry writes.
        assert feeds.entries_of(document.replace(b"<updated>", b"<updated>x", 2)) is None


@SETTINGS
@given(info=st.builds(feeds.FeedInfo, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT),
       items=st.lists(entries(), max_size=3))
def test_the_items_of_a_json_feed_are_read_back_as_they_were_made(info: feeds.FeedInfo,
                                                                  items: list[feeds.FeedEntry]) -> None:
    """The same for the JSON Feed: its items read back from its bytes are those it was made of,
    and make the same bytes again."""
    made = [feeds.json_item(entry) for entry in items]
    try:
        document = feeds.json_feed(info, made)
    except UnicodeEncodeError:  # a lone surrogate, which no content file can hold
        return
    assert feeds.items_of(document) == made
    assert feeds.json_feed(info, feeds.items_of(document) or []) == document
    assert feeds.items_of(document[:-3]) is None  # not a whole feed
    assert feeds.items_of(document.replace(b"version/1.1", b"version/1.0", 1)) is None


def test_every_address_in_an_entrys_content_is_absolute() -> None:
    page = "https://example.org/sub/2020/01/01/a/"
    html = ('<p><a href="#s">in page</a> <a href="/about/">site</a> <a href="map/">near</a> '
            '<a href="//cdn.example.net/r.pdf">cdn</a> <a href="https://x.example/">out</a> '
            '<a href="mailto:a@b.example">mail</a> <img src="/img/m.png" alt="m" '
            'srcset="/img/m.png 1x, img/m2.png 2x"></p>')
    assert feeds.absolute_links(html, page) == (
        '<p><a href="https://example.org/sub/2020/01/01/a/#s">in page</a> '
        '<a href="https://example.org/about/">site</a> '
        '<a href="https://example.org/sub/2020/01/01/a/map/">near</a> '
        '<a href="https://cdn.example.net/r.pdf">cdn</a> <a href="https://x.example/">out</a> '
        '<a href="mailto:a@b.example">mail</a> <img src="https://example.org/img/m.png" alt="m" '
        'srcset="https://example.org/img/m.png 1x, https://example.org/sub/2020/01/01/a/img/m2.png 2x"></p>')


def test_kept_entries_are_let_go_least_recently_used_first_past_their_size(monkeypatch) -> None:
    from briefgen.render import renderer

    monkeypatch.setattr(renderer, "_ATOM_ENTRIES_KEPT", 10)
    kept = renderer._AtomEntries()
    when = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    for index in range(3):
        kept.add(index, feeds.AtomEntry(when, "abcd"))  # 12 characters: the oldest goes
    assert kept.get(0) is None and kept.get(1) is not None
    kept.add(3, feeds.AtomEntry(when, "abcd"))  # 1 was used last: 2 goes
    assert kept.get(2) is None and kept.get(1) is not None and kept.get(3) is not None
    kept.add(4, feeds.AtomEntry(when, "x" * 50))  # larger than the bound alone: kept, alone
    assert [kept.get(i) is not None for i in range(5)] == [False, False, False, False, True]


@SETTINGS
@given(urls=st.lists(st.tuples(st.text(st.sampled_from("az09/-_.:?=#%&<>\"'é中\x01"), max_size=12),
                               st.one_of(st.none(), st.dates())), max_size=40),
       run=st.integers(1, 8))
def test_sitemap_made_in_runs_lists_every_url_once_in_order(
        monkeypatch, urls: list[tuple[str, dt.date | None]], run: int) -> None:
    # Runs of a few URLs stand for a part's runs of a thousand; the text is one whatever the run.
    monkeypatch.setattr(feeds, "_SITEMAP_RUN", run)
    made = feeds.sitemap(iter(urls))
    monkeypatch.setattr(feeds, "_SITEMAP_RUN", 10_000)
    assert made == feeds.sitemap(urls)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    listed = [(url.findtext("s:loc", namespaces=ns), url.findtext("s:lastmod", namespaces=ns))
              for url in fromstring(made).findall("s:url", ns)]
    assert listed == [(strip_forbidden(url), day.isoformat() if day else None) for url, day in urls]
    assert made.endswith(b"</urlset>\n") and made.count(b"\n") == len(urls) + 3



_SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _locs(path: Path) -> list[str]:
    return [loc.text or "" for loc in fromstring(path.read_bytes()).iter(f"{_SITEMAP}loc")]


def test_a_sitemap_split_in_parts_lists_the_urls_of_one_sitemap_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=12)
    build(site, BuildOptions(output=tmp_path / "one", use_cache=False, jobs=1))
    whole = _locs(tmp_path / "one/sitemap.xml")
    monkeypatch.setattr(plan, "SITEMAP_LIMIT", 5)
    build(site, BuildOptions(output=tmp_path / "parts", use_cache=False, jobs=1))
    assert fromstring((tmp_path / "parts/sitemap.xml").read_bytes()).tag == f"{_SITEMAP}sitemapindex"
    parts = _locs(tmp_path / "parts/sitemap.xml")
    assert len(parts) == -(-len(whole) // 5) > 1
    assert [url for part in parts for url in _locs(tmp_path / "parts" / part.rsplit("/", 1)[-1])] == whole
