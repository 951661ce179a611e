"""Atom and JSON feeds, the sitemap and robots.txt: machine-readable files of the site."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urljoin

from briefgen import __version__
from briefgen.controls import FORBIDDEN, strip_forbidden
from briefgen.render.addresses import change_addresses
from briefgen.render.views import BriefingView

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedInfo:
    """What a feed says of itself: title, links, language and author."""

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
    sources_html: str = ""  # the Sources list, rendered by the theme as on the briefing's page

    @property
    def updated(self) -> dt.datetime:
        return self.view.updated or self.view.date

    def content_html(self) -> str:
        # A feed reader has no page to resolve links and images against (JSON Feed names no
        # base, and Atom's would be the feed's own address): every one is made absolute.
        return absolute_links(str(self.view.body_html) + self.sources_html, self.url)


_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


def absolute_links(html: str, page_url: str) -> str:
    """Every href, src and srcset address of `html` absolute, as read on the page at `page_url`."""
    def absolute(address: str) -> str:
        address = address.strip()
        return address if not address or _SCHEME.match(address) else urljoin(page_url, address)

    return change_addresses(html, absolute)


@dataclass(frozen=True)
class AtomEntry:
    """A briefing's <entry> in an Atom feed, as text: a briefing is in the feeds of each of its
    topics, and its entry, made once, is joined into every one of them (building and
    serialising a tree of elements for every feed was most of a feed's cost)."""

    updated: dt.datetime
    xml: str  # indented as a child of <feed>


def _feed_updated(entries: Sequence[AtomEntry]) -> dt.datetime:
    if not entries:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return max((entry.updated for entry in entries), key=dt.datetime.timestamp)  # the instant (see model)


def atom_feed(info: FeedInfo, entries: Sequence[AtomEntry]) -> bytes:
    """An Atom 1.0 document, written as ElementTree's `indent` and `tostring` wrote it (a
    test holds the two equal)."""
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<feed xmlns="{ATOM}" xml:lang="{_xml_attribute(info.language)}">',
        _leaf(1, "id", info.feed_url),
        _leaf(1, "title", info.title),
        _leaf(1, "updated", _feed_updated(entries).isoformat()),
        *_author(1, info.author),
        _link(1, info.home_url, "alternate", "text/html"),
        _link(1, info.feed_url, "self", "application/atom+xml"),
        _leaf(1, "generator", "briefgen", f' version="{_xml_attribute(__version__)}"'),
    ]
    if info.description:
        lines.append(_leaf(1, "subtitle", info.description))
    lines += [entry.xml for entry in entries]
    lines.append("</feed>\n")
    return "\n".join(lines).encode("utf-8", "xmlcharrefreplace")


def atom_entry(entry: FeedEntry) -> AtomEntry:
    """A briefing's entry, to be joined into each Atom feed that carries it."""
    view = entry.view
    language = f' xml:lang="{_xml_attribute(view.language)}"' if view.language else ""
    lines = [
        f"  <entry{language}>",
        _leaf(2, "id", entry.url),
        _leaf(2, "title", view.title),
        _leaf(2, "updated", entry.updated.isoformat()),
    ]
    for name in view.curators:
        lines += _author(2, name)
    lines += [
        _leaf(2, "content", entry.content_html(), ' type="html"'),
        _link(2, entry.url, "alternate", "text/html"),
    ]
    if view.summary:
        lines.append(_leaf(2, "summary", view.summary))
    lines += [f'    <category term="{_xml_attribute(topic.slug)}" '
              f'label="{_xml_attribute(topic.name)}" />' for topic in view.topics]
    lines += [_leaf(2, "published", view.date.isoformat()), "  </entry>"]
    return AtomEntry(entry.updated, "\n".join(lines))


_ENTRY_START = "\n  <entry"
_ENTRY_END = "\n  </entry>"
_FEED_END = "\n</feed>\n"
_UPDATED = "\n    <updated>"


def entries_of(document: bytes) -> list[AtomEntry] | None:
    """The entries of an Atom document atom_feed wrote, in its order, as atom_entry made them;
    None for a document it did not write. Its text escapes every "<" of a value, so an entry's
    first line and last are told apart from anything inside it."""
    try:
        text = document.decode("utf-8")  # atom_feed's text holds nothing it writes as a reference
    except UnicodeDecodeError:
        return None
    if not text.endswith(_FEED_END):
        return None
    found = []
    for part in text[:-len(_FEED_END)].split(_ENTRY_START)[1:]:
        xml = _ENTRY_START[1:] + part
        start = xml.find(_UPDATED) + len(_UPDATED)
        end = xml.find("</updated>", start)
        if not xml.endswith(_ENTRY_END) or start < len(_UPDATED) or end < 0:
            return None
        try:
            updated = dt.datetime.fromisoformat(xml[start:end])
        except ValueError:
            return None
        if updated.isoformat() != xml[start:end]:
            return None
        found.append(AtomEntry(updated, xml))
    return found


def _xml_text(text: str) -> str:
    """Text as XML character data: characters XML cannot hold left out (content checks report
    them), `&`, `<` and `>` escaped."""
    return escape(strip_forbidden(text), quote=False)


def _xml_attribute(text: str) -> str:
    """Text as an attribute value in double quotes, escaped as ElementTree escapes one."""
    return (_xml_text(text).replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;")
            .replace("\t", "&#09;"))


def _leaf(level: int, tag: str, text: str, attributes: str = "") -> str:
    """An element without children at its indentation: empty, it closes itself."""
    indent = "  " * level
    escaped = _xml_text(text)
    if not escaped:
        return f"{indent}<{tag}{attributes} />"
    return f"{indent}<{tag}{attributes}>{escaped}</{tag}>"


def _link(level: int, href: str, rel: str, media_type: str) -> str:
    return f'{"  " * level}<link href="{_xml_attribute(href)}" rel="{rel}" type="{media_type}" />'


def _author(level: int, name: str) -> list[str]:
    if not strip_forbidden(name):  # Atom requires a name
        return []
    indent = "  " * level
    return [f"{indent}<author>", _leaf(level + 1, "name", name), f"{indent}</author>"]


JsonItem = dict[str, object]  # a briefing as a JSON Feed's item


def json_item(entry: FeedEntry) -> JsonItem:
    item: JsonItem = {
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
    if entry.view.language:
        item["language"] = entry.view.language
    return item


_JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def json_feed(info: FeedInfo, items: Sequence[JsonItem]) -> bytes:
    document = {
        "version": _JSON_FEED_VERSION,
        "title": info.title,
        "home_page_url": info.home_url,
        "feed_url": info.feed_url,
        "description": info.description,
        "language": info.language,
        "authors": [{"name": info.author}],
        "items": list(items),
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def items_of(document: bytes) -> list[JsonItem] | None:
    """The items of a JSON Feed json_feed wrote, in its order; None for a document it did not
    write. An item read back is the item it was made from: JSON gives back the strings, lists
    and objects it was given, their keys in order, and json_feed writes them as before."""
    try:
        found = json.loads(document)
    except ValueError:  # UnicodeDecodeError too
        return None
    if not (isinstance(found, dict) and found.get("version") == _JSON_FEED_VERSION
            and isinstance(items := found.get("items"), list) and all(isinstance(i, dict) for i in items)):
        return None
    return items


# What _xml_text changes in a text: one search tells the few URLs that need it (a sitemap part
# names 50,000 of them, and an edit that changes a briefing's date of update writes one again).
_NOT_PLAIN_XML = re.compile(f"[&<>]|{FORBIDDEN.pattern}")
_SITEMAP_RUN = 1024  # URLs made into text at a time: a part's 50,000 lines are never all held


def sitemap(entries: Iterable[tuple[str, dt.date | None]]) -> bytes:
    """A sitemap of (absolute URL, date of last change) pairs."""
    runs = [b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    not_plain = _NOT_PLAIN_XML.search
    entries = iter(entries)
    while run := list(itertools.islice(entries, _SITEMAP_RUN)):
        lines = []
        for url, lastmod in run:
            shown = _xml_text(url) if not_plain(url) else url
            lines.append(f"<url><loc>{shown}</loc><lastmod>{lastmod.isoformat()}</lastmod></url>\n"
                         if lastmod else f"<url><loc>{shown}</loc></url>\n")
        runs.append("".join(lines).encode("utf-8"))
    runs.append(b"</urlset>\n")
    return b"".join(runs)


def sitemap_index(part_urls: Sequence[str]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"<sitemap><loc>{_xml_text(url)}</loc></sitemap>"
              for url in part_urls]
    lines.append("</sitemapindex>\n")
    return "\n".join(lines).encode("utf-8")


def robots(sitemap_url: str) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap_url}\n".encode()
