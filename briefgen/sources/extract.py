"""The article in an HTML page: trafilatura finds the main text, `text.drop_clutter` finishes it.

trafilatura reads real page structure well (it drops navigation, share bars,
related links and comments by their place in the page), but it keeps newsletter
boxes and appeals that sit inside the article element; the clutter pass drops
those. Subheadings are not paragraphs: locators count only paragraphs.
"""

from __future__ import annotations

import trafilatura
from lxml import etree

from briefgen.sources.clutter import normalise
from briefgen.sources.text import Article, drop_clutter

_BLOCKS = ("p", "item", "quote")


def article_from_html(html: str, title: str | None = None, url: str | None = None) -> Article:
    xml = trafilatura.extract(
        html, url=url, output_format="xml", include_comments=False, include_tables=False,
        include_images=False, include_links=False, favor_precision=True, deduplicate=False,
        with_metadata=False,
    )
    if not xml:
        return Article(title, ())
    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    blocks: list[str] = []
    for element in (main if main is not None else root).iter(*_BLOCKS):
        if element.tag == "quote" and element.find(".//p") is not None:
            continue  # its paragraphs are visited on their own
        if element.tag == "p" and element.getparent() is not None and element.getparent().tag == "item":
            continue
        text = normalise("".join(element.itertext()))
        if text:
            blocks.append(text)
    paragraphs, paywalled = drop_clutter(blocks, title)
    return Article(title, paragraphs, paywalled)
