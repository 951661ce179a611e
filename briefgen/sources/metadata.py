"""What a page says about itself: title, publisher, authors, published date, language, URL.

In order of trust: JSON-LD (`NewsArticle` and its kin), then OpenGraph and
`<meta>` tags, the canonical link and `<html lang>`, then trafilatura's own
metadata pass, which brings htmldate's date detection (`<time>`, URL patterns,
dates in the text).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

_ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle",
                  "opinionnewsarticle", "backgroundnewsarticle", "blogposting", "liveblogposting",
                  "reviewnewsarticle", "webpage"}


@dataclass(frozen=True)
class PageMeta:
    title: str | None = None
    publisher: str | None = None
    authors: tuple[str, ...] = ()
    published: dt.date | None = None
    language: str | None = None
    url: str | None = None
    paywalled: bool = False  # the page says so: JSON-LD `isAccessibleForFree: false`

    def filled_from(self, other: PageMeta) -> PageMeta:
        """This, with each field it lacks taken from other."""
        return PageMeta(
            title=self.title or other.title, publisher=self.publisher or other.publisher,
            authors=self.authors or other.authors, published=self.published or other.published,
            language=self.language or other.language, url=self.url or other.url,
            paywalled=self.paywalled or other.paywalled,
        )


def parse_date(value: object) -> dt.date | None:
    """The calendar date at the start of an ISO 8601 string ("2016-08-02T09:30:00+03:00")."""
    if not isinstance(value, str):
        return None
    found = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)
    if not found:
        return None
    try:
        return dt.date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def _clean(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _names(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = _clean(item.get("name")) if isinstance(item, dict) else _clean(item)
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _json_ld_objects(tree: Any) -> Iterator[dict[str, Any]]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
            continue  # a broken block on a page is the page's problem, not a reason to fail
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.extend(reversed(item["@graph"] if isinstance(item["@graph"], list) else []))
                yield item


def _types(item: dict[str, Any]) -> set[str]:
    value = item.get("@type", [])
    return {str(v).lower() for v in (value if isinstance(value, list) else [value])}


def from_json_ld(tree: Any) -> PageMeta:
    objects = list(_json_ld_objects(tree))
    articles = [o for o in objects if _types(o) & _ARTICLE_TYPES]
    # A NewsArticle beats a WebPage describing the same page.
    articles.sort(key=lambda o: "webpage" in _types(o))
    if not articles:
        return PageMeta()
    article = articles[0]
    publisher = article.get("publisher")
    if isinstance(publisher, list):
        publisher = publisher[0] if publisher else None
    publisher_name = _clean(publisher.get("name")) if isinstance(publisher, dict) else _clean(publisher)
    page = article.get("mainEntityOfPage")
    url = _clean(article.get("url")) or (_clean(page.get("@id")) if isinstance(page, dict) else _clean(page))
    language = article.get("inLanguage")
    free = article.get("isAccessibleForFree")
    return PageMeta(
        title=_clean(article.get("headline")) or _clean(article.get("name")),
        publisher=publisher_name,
        authors=_names(article.get("author", [])),
        published=parse_date(article.get("datePublished")) or parse_date(article.get("dateCreated")),
        language=_clean(language) if isinstance(language, str) else None,
        url=url,
        paywalled=free is False or (isinstance(free, str) and free.strip().lower() == "false"),
    )


def _meta(tree: Any, *keys: str) -> str | None:
    for key in keys:
        for attribute in ("property", "name", "itemprop"):
            for value in tree.xpath(f'//meta[@{attribute}="{key}"]/@content'):
                cleaned = _clean(str(value))
                if cleaned:
                    return cleaned
    return None


def from_meta_tags(tree: Any) -> PageMeta:
    canonical = [str(v) for v in tree.xpath('//link[@rel="canonical"]/@href') if str(v).strip()]
    author = _meta(tree, "author", "article:author", "parsely-author", "sailthru.author")
    published = _meta(tree, "article:published_time", "datePublished", "pubdate", "publishdate",
                      "date", "dc.date", "DC.date.issued", "og:published_time")
    times = [str(v) for v in tree.xpath("//article//time/@datetime | //time[@itemprop]/@datetime")]
    languages = [str(v) for v in tree.xpath("/html/@lang") if str(v).strip()]
    locale = _meta(tree, "og:locale", "content-language", "language")
    title = _meta(tree, "og:title", "twitter:title")
    if title is None:
        headings = tree.xpath("//h1")
        title = _clean(headings[0].text_content()) if headings else None
    return PageMeta(
        title=title,
        publisher=_meta(tree, "og:site_name", "application-name", "publisher"),
        authors=(author,) if author and not author.startswith("http") else (),
        published=parse_date(published) or (parse_date(times[0]) if times else None),
        language=(languages[0] if languages else None) or (locale.replace("_", "-") if locale else None),
        url=canonical[0].strip() if canonical else _meta(tree, "og:url"),
    )


def from_trafilatura(html: str, url: str | None) -> PageMeta:
    from trafilatura.metadata import extract_metadata

    found = extract_metadata(html, default_url=url)
    authors = tuple(a.strip() for a in (found.author or "").split(";") if a.strip())
    return PageMeta(
        title=_clean(found.title), publisher=_clean(found.sitename), authors=authors,
        published=parse_date(found.date), language=_clean(found.language), url=_clean(found.url),
    )


def page_metadata(html: str, url: str | None = None) -> PageMeta:
    try:
        tree = lxml_html.fromstring(html)
    except etree.ParserError:  # nothing but spaces or comments: no metadata, and no article
        return PageMeta()
    found = from_json_ld(tree).filled_from(from_meta_tags(tree)).filled_from(from_trafilatura(html, url))
    if found.language:
        found = replace(found, language=found.language.split(",")[0].strip())
    if found.url:
        # A canonical link may be relative to the page; without the page's address it says nothing.
        absolute = urljoin(url, found.url) if url else found.url
        parts = urlsplit(absolute)
        found = replace(found, url=absolute if parts.scheme in ("http", "https") and parts.netloc else None)
    return found
