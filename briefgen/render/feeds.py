"""Atom and JSON feeds, the sitemap and robots.txt: machine-readable files of the site."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from briefgen import __version__
from briefgen.controls import strip_forbidden
from briefgen.render.views import BriefingView


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
    # Imported here: feedgen brings lxml, which a build that writes no feed need not load.
    from feedgen.feed import FeedGenerator

    # lxml raises on characters XML cannot hold; content checks report them, and
    # this keeps the feed writable whatever reaches it.
    xml = strip_forbidden
    feed = FeedGenerator()
    feed.id(xml(info.feed_url))
    feed.title(xml(info.title))
    if info.description:
        feed.subtitle(xml(info.description))
    feed.link(href=xml(info.home_url), rel="alternate", type="text/html")
    feed.link(href=xml(info.feed_url), rel="self", type="application/atom+xml")
    feed.language(xml(info.language))
    feed.author({"name": xml(info.author)})
    feed.generator("briefgen", version=__version__)
    feed.updated(_feed_updated(entries))
    for entry in entries:
        item = feed.add_entry(order="append")
        item.id(xml(entry.url))
        item.title(xml(entry.view.title))
        item.link(href=xml(entry.url), rel="alternate", type="text/html")
        item.published(entry.view.date)
        item.updated(entry.updated)
        if entry.view.summary:
            item.summary(xml(entry.view.summary))
        item.content(xml(entry.content_html()), type="html")
        for name in entry.view.curators:
            item.author({"name": xml(name)})
        for topic in entry.view.topics:
            item.category(term=xml(topic.slug), label=xml(topic.name))
    result: bytes = feed.atom_str(pretty=True)
    return result


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
