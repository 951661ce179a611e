"""Atom and JSON feeds, the sitemap and robots.txt: machine-readable files of the site."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from briefgen import __version__
from briefgen.controls import strip_forbidden
from briefgen.render.views import BriefingView

ATOM = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class FeedInfo:
    title: str
    description: str
    language: str
    home_url: str  # absolute
    feed_url: str  # absolute
    author: str


@dataclass(frozen=True)
class FeedEntry:
    """A briefing as a feed carries it: absolute URL, full text with its sources."""

    view: BriefingView
    url: str  # absolute
    origin: str  # scheme and host, to make root-relative links absolute
    sources_html: str = ""  # the Sources list, rendered by the theme as on the briefing's page

    @property
    def updated(self) -> dt.datetime:
        return self.view.updated or self.view.date

    def content_html(self) -> str:
        body = str(self.view.body_html) + self.sources_html
        # Links into the page and to the site's own pages work from a feed reader too.
        return body.replace('href="#', f'href="{self.url}#').replace('href="/', f'href="{self.origin}/')


def _feed_updated(entries: Sequence[FeedEntry]) -> dt.datetime:
    if not entries:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return max(entry.updated for entry in entries)


def atom_feed(info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    """An Atom 1.0 document. ElementTree comes with Python and is loaded by Markdown
    already: an edit of a briefing in the feed costs no XML library's import."""
    # Characters XML cannot hold are left out; content checks report them.
    xml = strip_forbidden
    feed = Element("feed", {"xmlns": ATOM, _XML_LANG: xml(info.language)})
    _text(feed, "id", xml(info.feed_url))
    _text(feed, "title", xml(info.title))
    _text(feed, "updated", _feed_updated(entries).isoformat())
    _author(feed, xml(info.author))
    SubElement(feed, "link", {"href": xml(info.home_url), "rel": "alternate", "type": "text/html"})
    SubElement(feed, "link", {"href": xml(info.feed_url), "rel": "self", "type": "application/atom+xml"})
    _text(feed, "generator", "briefgen").set("version", __version__)
    if info.description:
        _text(feed, "subtitle", xml(info.description))
    for entry in entries:
        item = SubElement(feed, "entry")
        _text(item, "id", xml(entry.url))
        _text(item, "title", xml(entry.view.title))
        _text(item, "updated", entry.updated.isoformat())
        for name in entry.view.curators:
            _author(item, xml(name))
        _text(item, "content", xml(entry.content_html())).set("type", "html")
        SubElement(item, "link", {"href": xml(entry.url), "rel": "alternate", "type": "text/html"})
        if entry.view.summary:
            _text(item, "summary", xml(entry.view.summary))
        for topic in entry.view.topics:
            SubElement(item, "category", {"term": xml(topic.slug), "label": xml(topic.name)})
        _text(item, "published", entry.view.date.isoformat())
    indent(feed)
    document: bytes = tostring(feed, encoding="UTF-8", xml_declaration=True)
    return document + b"\n"


def _text(parent: Element, tag: str, text: str) -> Element:
    element = SubElement(parent, tag)
    element.text = text
    return element


def _author(parent: Element, name: str) -> None:
    if name:  # Atom requires a name
        _text(SubElement(parent, "author"), "name", name)


def json_feed(info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    items = []
    for entry in entries:
        item: dict[str, object] = {
            "id": entry.url,
            "url": entry.url,
            "title": entry.view.title,
            "content_html": entry.content_html(),
            "summary": entry.view.summary,
            "date_published": entry.view.date.isoformat(),
            "date_modified": entry.updated.isoformat(),
            "tags": [topic.name for topic in entry.view.topics],
        }
        if entry.view.curators:
            item["authors"] = [{"name": name} for name in entry.view.curators]
        items.append(item)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "home_page_url": info.home_url,
        "feed_url": info.feed_url,
        "description": info.description,
        "language": info.language,
        "authors": [{"name": info.author}],
        "items": items,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class SitemapEntry:
    url: str  # absolute
    lastmod: dt.date | None = None


def sitemap(entries: Sequence[SitemapEntry]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for entry in entries:
        lastmod = f"<lastmod>{entry.lastmod.isoformat()}</lastmod>" if entry.lastmod else ""
        lines.append(f"<url><loc>{escape(strip_forbidden(entry.url), quote=False)}</loc>{lastmod}</url>")
    lines.append("</urlset>\n")
    return "\n".join(lines).encode("utf-8")


def sitemap_index(part_urls: Sequence[str]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"<sitemap><loc>{escape(strip_forbidden(url), quote=False)}</loc></sitemap>"
              for url in part_urls]
    lines.append("</sitemapindex>\n")
    return "\n".join(lines).encode("utf-8")


def robots(sitemap_url: str) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap_url}\n".encode()
