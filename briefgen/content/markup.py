"""Markdown to HTML for one document, with citations and links between content files.

A conversion depends only on the document's own text and the Markdown settings,
so its result can be cached by content hash and computed in any process. What
needs the whole site (source numbers are local, but the URL a link to another
briefing points at is not) is left as a placeholder that rendering resolves.
"""

from __future__ import annotations

import html
import importlib
import posixpath
import re
import sys
import xml.etree.ElementTree as etree
from array import array
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload
from urllib.parse import unquote, urlsplit

import markdown
from markdown.extensions import Extension, toc
from markdown.extensions.footnotes import NBSP_PLACEHOLDER
from markdown.extensions.toc import TocExtension, TocTreeprocessor
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from briefgen.content.blocks import BlockSkipExtension
from briefgen.content.brackets import LinkBracketsExtension
from briefgen.content.inline import InlinePassExtension
from briefgen.content.lookups import FastLookupsExtension
from briefgen.content.markdown_settings import MARKDOWN_EXTENSIONS
from briefgen.content.passes import PassSkipExtension
from briefgen.content.positions import LineStarts
from briefgen.content.quotes import CitationSpan, Quotation, find_quotations
from briefgen.content.scripts import word_count
from briefgen.content.slugs import make_slug
from briefgen.content.typography import TypographyExtension
from briefgen.slots import quick_pickle

# Placeholder written into HTML for a link to another content file; rendering
# replaces it with that file's URL.
CONTENT_LINK_PREFIX = "briefgen-content:"
# What a source id may be: in citations here, and in registries and front matter.
SOURCE_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
# A citation may wrap onto the next line, as hard-wrapped text does, but not across a blank line.
# No "[" inside: from each "[" a match runs at most to the next one, not to the paragraph's end
# (an unclosed "[@" repeated made every body's scans quadratic).
_CITATION = re.compile(r"\[(@(?:[^\[\]\n]|\n(?![ \t]*\n))+)\]")
# The inline pattern takes the spaces before a citation, so "Friday [@a]" never
# wraps before the number.
# Citations side by side (`[@a] [@b]`, `[@a][@b]`) are one match: one group, that reads "1, 2"
# as `[@a; @b]` does, not "12".
_CITATION_INLINE = rf"(?:[ \t]*{_CITATION.pattern})+"
_CITE_ATTR = "data-briefgen-cite"
Written = tuple[str, str, int]  # a citation as written: its source id, locator and offset
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


@quick_pickle
@dataclass(frozen=True, slots=True)
class CitationUse:
    """One citation in a body: the source, its locator and where it is written."""

    source_id: str
    locator: str
    line: int
    column: int


class Citations(Sequence[CitationUse]):
    """A body's citations in reading order, packed: each one's source as its place among the
    body's cited ids, its line and its column in one array of unsigned numbers, the locators in
    a tuple (empty when no citation has one). As a tuple of CitationUse, read back from the
    build cache, they were a third of the time a parsed document took to unpickle (250,000
    objects and 30 MB at 50,000 briefings); most readers want only the located ones (`located`)."""

    __slots__ = ("_ids", "_locators", "_numbers")

    def __init__(self, ids: tuple[str, ...], numbers: array[int], locators: tuple[str, ...]) -> None:
        count = len(numbers) // 3
        if (type(ids) is not tuple or type(numbers) is not array or numbers.typecode != "I"
                or len(numbers) % 3 or type(locators) is not tuple or len(locators) not in (0, count)
                or (count and max(numbers[0::3]) >= len(ids))):
            raise ValueError("damaged citations")  # from a cache row: that row is parsed again
        self._ids, self._numbers, self._locators = ids, numbers, locators

    @classmethod
    def of(cls, uses: Sequence[CitationUse], ids: tuple[str, ...]) -> Citations:
        """These uses, given every source id they cite (`Conversion.cited_ids`)."""
        place = {source_id: at for at, source_id in enumerate(ids)}
        numbers = array("I", [n for use in uses for n in (place[use.source_id], use.line, use.column)])
        located = any(use.locator for use in uses)
        return cls(ids, numbers, tuple(use.locator for use in uses) if located else ())

    def __reduce__(self) -> tuple[Callable[..., Citations], tuple[tuple[str, ...], bytes, tuple[str, ...]]]:
        return _unpickled_citations, (self._ids, self._numbers.tobytes(), self._locators)

    def __len__(self) -> int:
        return len(self._numbers) // 3

    @overload
    def __getitem__(self, at: int) -> CitationUse: ...
    @overload
    def __getitem__(self, at: slice) -> tuple[CitationUse, ...]: ...
    def __getitem__(self, at: int | slice) -> CitationUse | tuple[CitationUse, ...]:
        if isinstance(at, slice):
            return tuple(self._use(n) for n in range(*at.indices(len(self))))
        if not -len(self) <= at < len(self):
            raise IndexError("no such citation")
        return self._use(at % len(self))

    def _use(self, at: int) -> CitationUse:
        numbers = self._numbers
        return CitationUse(self._ids[numbers[3 * at]], self._locators[at] if self._locators else "",
                           numbers[3 * at + 1], numbers[3 * at + 2])

    def __iter__(self) -> Iterator[CitationUse]:
        return map(self._use, range(len(self)))

    def located(self) -> tuple[tuple[str, str], ...]:
        """(source id, locator) of each citation with a locator, in reading order."""
        if not self._locators:
            return ()
        ids, places = self._ids, self._numbers[0::3]
        pairs = zip(places, self._locators, strict=True)
        return tuple((ids[place], locator) for place, locator in pairs if locator)

    def located_uses(self) -> list[CitationUse]:
        """The citations with a locator, in reading order."""
        locators = self._locators
        return [self._use(at) for at in range(len(self)) if locators[at]] if locators else []

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Citations) and other._ids == self._ids:
            return other._numbers == self._numbers and other._locators == self._locators
        if isinstance(other, Citations | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Citations({list(self)!r})"


def _unpickled_citations(ids: tuple[str, ...], numbers: bytes, locators: tuple[str, ...]) -> Citations:
    return Citations(ids, array("I", numbers), locators)


NO_CITATIONS = Citations((), array("I"), ())


@quick_pickle
@dataclass(frozen=True, slots=True)
class ContentLink:
    """A Markdown link in a body to another content file."""

    target: str  # content-relative POSIX path of the linked file
    line: int
    column: int


@quick_pickle
@dataclass(frozen=True, slots=True)
class Conversion:
    """A body converted: its HTML and what the conversion found in it."""

    html: str
    citations: Citations
    links: tuple[ContentLink, ...]
    first_paragraph: str
    word_count: int
    cited_ids: tuple[str, ...]  # in the order of first citation: index + 1 is the number
    quotations: tuple[Quotation, ...] = ()  # quoted text sharing a sentence with a citation
    # Problems found while converting: (line, column, message, is_error).
    notes: tuple[tuple[int, int, str, bool], ...] = ()


_CITATION_ITEM = re.compile(r"\s*@([^\s,]+)\s*(?:,(.*))?", re.S)


def parse_citation(inner: str) -> list[tuple[str, str]] | None:
    """`@a; @b, para. 6` as [(id, locator)], or None when it is not a citation."""
    items = []
    for part in inner.split(";"):
        # The locator taken whole and stripped below: `(.*?)\s*` shared a run of spaces
        # with the lazy group, quadratic in its length.
        found = _CITATION_ITEM.fullmatch(part)
        if not found or not SOURCE_ID.fullmatch(found.group(1)):
            return None
        # A locator wrapped onto the next line reads as one line.
        items.append((found.group(1), " ".join((found.group(2) or "").split())))
    return items


class _CitationFinder:
    """The citation pattern's expression, searched as the inline pass searches it (`finditer`),
    from each `[@` and the spaces and tabs right before it: it begins with `[ \t]*`, which the
    regex engine otherwise tries at every position of every span holding a `[` (a tenth of a
    parse). A match begins with those spaces and `[@`, so none begins anywhere else, and from
    the same position the same expression matches the same run of citations."""

    def __init__(self, compiled: re.Pattern[str]) -> None:
        self.compiled = compiled

    def finditer(self, data: str, pos: int = 0) -> Iterator[re.Match[str]]:
        match = self.compiled.match
        while (at := data.find("[@", pos)) >= 0:
            start = at
            while start > pos and data[start - 1] in " \t":
                start -= 1
            found = match(data, start)
            if found is None:
                pos = at + 1
                continue
            yield found
            pos = found.end()


class _CitationPattern(InlineProcessor):
    """`[@id]`, `[@a; @b]`, `[@id, locator]` become marked <sup> elements, numbered later."""

    def __init__(self, pattern: str, md: markdown.Markdown) -> None:
        super().__init__(pattern, md)
        self._finder = _CitationFinder(self.compiled_re)

    def getCompiledRegExp(self) -> _CitationFinder:  # type: ignore[override]  # what the pass asks of it
        return self._finder

    def handleMatch(  # type: ignore[override]
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element | None, int | None, int | None]:
        if _in_raw_html(data, m.start(0)):
            return None, None, None
        # Each citation of the run, up to the first that is none (left as text, reported).
        items: list[tuple[str, str]] = []
        end = m.start(0)
        for written in _CITATION.finditer(m.group(0)):
            found = parse_citation(written.group(1))
            if found is None:
                break
            items += found
            end = m.start(0) + written.end()
        if not items:
            return None, None, None
        elements = []
        for source_id, locator in items:
            sup = etree.Element("sup", {"class": "citation", _CITE_ATTR: source_id})
            if locator:
                sup.set("data-briefgen-locator", locator)
            elements.append(sup)
        if len(elements) == 1:
            return elements[0], m.start(0), end
        group = etree.Element("span", {"class": "citation-group"})
        group.extend(elements)
        return group, m.start(0), end


_AT_TAG = "-briefgen-at-"  # after a written citation's id, with its offset: see _read_citations
_RAW_LINK = re.compile(r"<(/?)a\b[^<>]*>", re.I)
_TAG_START = re.compile(r"</?[A-Za-z]")


def _in_raw_html(data: str, at: int) -> bool:
    """Whether `at` is inside a tag written as HTML (an attribute's value), or between an `<a>`
    written so and its `</a>`, where a citation's own link would be a link inside a link. Such a
    citation is left as text, and Converter.convert reports it (see _unread_citations)."""
    # Looked for backwards from `at`, "<" by "<": a text without one (most) costs one rfind, and
    # a paragraph of many citations is not scanned from its start for each.
    opened = data.rfind("<", 0, at)
    if opened < 0:
        return False
    if data.rfind(">", 0, at) < opened and _TAG_START.match(data, opened):
        return True
    while opened >= 0:
        link = _RAW_LINK.match(data, opened)
        if link is not None and link.end() <= at:
            return not link.group(1)
        opened = data.rfind("<", 0, opened)
    return False


@dataclass
class _DocumentState:
    """What the tree processor learns about one document; reset before each conversion."""

    source_dir: str = ""
    citations: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (target, href as written)
    unreferenced: list[str] = field(default_factory=list)  # labels of footnotes nothing refers to


class _FinishTree(Treeprocessor):
    """Numbers citations in document order and marks links to other content files.

    Runs after inline processing, which visits elements breadth-first; numbers
    must follow reading order, so they are assigned here in one ordered walk.
    """

    def __init__(self, md: markdown.Markdown, state: _DocumentState) -> None:
        super().__init__(md)
        self.state = state

    def run(self, root: etree.Element) -> None:
        _move_citations_out_of_links(root)
        numbers: dict[str, int] = {}
        uses: dict[str, int] = {}
        for element in root.iter():
            source_id = element.get(_CITE_ATTR)
            if source_id is not None:
                locator = element.attrib.pop("data-briefgen-locator", "")
                del element.attrib[_CITE_ATTR]
                number = numbers.setdefault(source_id, len(numbers) + 1)
                uses[source_id] = uses.get(source_id, 0) + 1
                element.set("id", f"cite-ref-{number}-{uses[source_id]}")
                link = etree.SubElement(
                    element, "a", {"href": f"#source-{number}", "role": "doc-noteref"}
                )
                if locator:
                    link.set("title", locator)
                link.text = str(number)
                self.state.citations.append((source_id, locator))
            elif element.tag == "a":
                self._mark_content_link(element)
        self.state.unreferenced = _drop_dangling_backrefs(root)
        for group in root.iter("span"):
            if group.get("class") == "citation-group":
                _order_group(group)
        _wrap_tables(root)
        _outline_headings(root)

    def _mark_content_link(self, element: etree.Element) -> None:
        href = element.get("href", "")
        parts = urlsplit(href)
        # Only relative links name content files; "/x.md" is a URL on the site.
        if parts.scheme or parts.netloc or parts.path.startswith("/") or not parts.path.endswith(".md"):
            return
        target = posixpath.normpath(posixpath.join(self.state.source_dir, unquote(parts.path)))
        self.state.links.append((target, href))
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        element.set("href", f"{CONTENT_LINK_PREFIX}{target}{fragment}")


def _outline_headings(root: etree.Element) -> None:
    """The text's headings as sections of a page whose title is its one h1: the highest level
    written becomes h2, and the levels below it follow without a gap ("#" and "###" are h2
    and h3; "###" alone is h2), as a screen reader's outline of the page needs."""
    headings = [element for element in root.iter() if element.tag in _HEADINGS]
    levels = sorted({int(heading.tag[1]) for heading in headings})
    if levels == list(range(2, 2 + len(levels))):
        return
    level_of = {level: min(6, 2 + rank) for rank, level in enumerate(levels)}
    for heading in headings:
        heading.tag = f"h{level_of[int(heading.tag[1])]}"


def _wrap_tables(root: etree.Element) -> None:
    """Put each table in a box that scrolls sideways when the table is wider than the text,
    and that takes keyboard focus, so that a reader without a mouse can scroll it too."""
    for parent in list(root.iter()):
        for place, child in enumerate(list(parent)):
            if child.tag == "table":
                box = etree.Element("div", {"class": "table-scroll", "tabindex": "0"})
                parent.remove(child)
                parent.insert(place, box)
                box.tail, child.tail = child.tail, None
                box.append(child)


def _order_group(group: etree.Element) -> None:
    """`[@b; @a]` reads "1, 2", not "21": markers sorted by number and separated."""
    markers = sorted(group, key=lambda sup: int("".join(sup.itertext()) or 0))
    for sup in list(group):
        group.remove(sup)
    for position, sup in enumerate(markers):
        sup.tail = ", " if position < len(markers) - 1 else None
        group.append(sup)


def _drop_dangling_backrefs(root: etree.Element) -> list[str]:
    """The labels of footnotes the text never refers to (`[^x]: ...` without `[^x]`), whose
    back-links, to a reference that is not there, are taken out."""
    # The footnotes extension puts them last, in <div class="footnote">; references are <sup>s.
    notes = root[-1] if len(root) else None
    if notes is None or notes.tag != "div" or notes.get("class") != "footnote":
        return []
    backrefs = [(parent, link) for parent in notes.iter("p") for link in parent
                if link.tag == "a" and link.get("class") == "footnote-backref"]
    ids = {sup.get("id") for sup in root.iter("sup")}
    labels = []
    for parent, link in backrefs:
        target = link.get("href", "")[1:]
        if target in ids:
            continue
        labels.append(target.removeprefix("fnref:"))
        # The no-break space before the link (a placeholder until the end) goes with it.
        before = list(parent).index(link) - 1
        rest = link.tail or ""
        if before >= 0:
            parent[before].tail = (parent[before].tail or "").removesuffix(NBSP_PLACEHOLDER) + rest
        else:
            parent.text = (parent.text or "").removesuffix(NBSP_PLACEHOLDER) + rest
        parent.remove(link)
    return labels


def _is_citation(element: etree.Element) -> bool:
    return element.get(_CITE_ATTR) is not None or element.get("class") == "citation-group"


def _move_citations_out_of_links(root: etree.Element) -> None:
    """Put a citation written inside a link's text right after the link.

    Its number is a link itself, and a link inside a link is not HTML.
    """
    parents = {child: parent for parent in root.iter() for child in parent}
    for link in [e for e in root.iter("a") if any(_is_citation(d) for d in e.iter() if d is not e)]:
        moved = []
        stack = list(link)
        while stack:
            element = stack.pop(0)
            if not _is_citation(element):
                stack[:0] = list(element)
                continue
            holder = parents[element]
            _remove_keeping_tail(holder, element)
            moved.append(element)
        holder = parents[link]
        at = list(holder).index(link) + 1
        moved[-1].tail, link.tail = link.tail, None
        for offset, element in enumerate(moved):
            holder.insert(at + offset, element)


def _remove_keeping_tail(parent: etree.Element, element: etree.Element) -> None:
    tail = element.tail or ""
    element.tail = None
    index = list(parent).index(element)
    if index:
        before = parent[index - 1]
        before.tail = (before.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


class _BriefingExtension(Extension):
    def __init__(self, state: _DocumentState, citations: bool) -> None:
        super().__init__()
        self.state = state
        self.citations = citations

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        if self.citations:
            # After backticks (190) and escapes (180), so code and `\[@x]` stay literal;
            # before links (160), which would otherwise read `[@x]` as a reference.
            md.inlinePatterns.register(_CitationPattern(_CITATION_INLINE, md), "citation", 175)
        # After inline processing (20), before prettify (10).
        md.treeprocessors.register(_FinishTree(md, self.state), "briefgen-finish", 15)
        md.treeprocessors.register(_CitedHeadings(md), "briefgen-cited-headings", 5.5)  # see its doc


# Ids the page around a body uses (the default theme's, on the pages that show a body); a
# heading must not take one, or links meant for a citation or the Sources list would land on
# it, and labels (`aria-labelledby`, `<label for>`) would name it.
_RESERVED_ID = re.compile(
    r"main|sources-heading|sources-uncited|source-\d+|cite-ref-[\d-]+|fn-?\d*|fnref-?\d*"
    r"|related-heading|side-topics|search-box-q"
    r"|search-(?:q|help|topic|publisher|year|status|results|more)|period-(?:children|briefings)"
)


def _heading_id(value: str, separator: str) -> str:
    slug = make_slug(value) or "section"
    return f"{slug}-section" if _RESERVED_ID.fullmatch(slug) else slug


class _HeadingIdsTreeprocessor(TocTreeprocessor):
    """toc's processor without the work whose result nothing reads: briefgen gives headings
    their ids and never shows `md.toc`, so the table of contents is built only for a document
    that writes the `[TOC]` marker, and only such a document is searched for the marker."""

    _marked = False

    def run(self, doc: etree.Element) -> None:
        marker = self.marker
        # Any text holding the marker: wider than where replace_marker would place the table.
        self._marked = bool(marker) and any(marker in (element.text or "") for element in doc.iter())
        super().run(doc)

    def build_toc_div(self, toc_list: list[Any]) -> etree.Element:
        return super().build_toc_div(toc_list) if self._marked else etree.Element("div")

    def replace_marker(self, root: etree.Element, elem: etree.Element) -> None:
        if self._marked:
            super().replace_marker(root, elem)


class _CitedHeadings(Treeprocessor):
    """Citation numbers are no part of a heading's id ("Why [@a]" is `why`, not `why1`) nor of
    its entry in a `[TOC]`. Where a heading is cited, every heading is given its id here as toc
    would give it, in document order, from its words alone; toc keeps the ids it finds. Runs
    after attr_list (its ids are kept) and the typography pass (toc names what it made)."""

    def run(self, doc: etree.Element) -> None:
        if not any(heading.tag in _HEADINGS and any(map(_is_numbered_citation, heading.iter()))
                   for heading in doc.iter()):
            return
        used = {element.attrib["id"] for element in doc.iter() if "id" in element.attrib}
        for heading in doc.iter():
            if heading.tag not in _HEADINGS or "id" in heading.attrib:
                continue
            words = _without_citations(heading)
            name = toc.strip_tags(toc.render_inner_html(toc.remove_fnrefs(words), self.md))
            heading.attrib["id"] = toc.unique(_heading_id(html.unescape(name), "-"), used)
            if words is not heading:
                heading.set("data-toc-label", name)


_CITATION_CLASSES = ("citation", "citation-group")


def _is_numbered_citation(element: etree.Element) -> bool:
    """A citation's marker once numbered (`sup.citation`), or a group of them (`span.citation-group`)."""
    return element.tag in ("sup", "span") and element.get("class") in _CITATION_CLASSES


def _without_citations(heading: etree.Element) -> etree.Element:
    """A heading as it reads without its citation markers: a copy, or itself if it has none.
    Their tails (the text after them) stay, as toc.remove_fnrefs keeps a footnote's."""
    if not any(_is_numbered_citation(element) for element in heading.iter()):
        return heading
    copy = deepcopy(heading)
    for parent in list(copy.iter()):
        kept = ""
        for child in reversed(list(parent)):
            if _is_numbered_citation(child):
                kept = (child.tail or "") + kept
                parent.remove(child)
            elif kept:
                child.tail = (child.tail or "") + kept
                kept = ""
        if kept:
            parent.text = (parent.text or "") + kept
    return copy


class _HeadingIdsExtension(TocExtension):
    TreeProcessorClass = _HeadingIdsTreeprocessor


MARKDOWN_CONFIG: dict[str, dict[str, Any]] = {
    "toc": {"slugify": _heading_id},
    "footnotes": {"BACKLINK_TITLE": "Back to reference %d"},
}


class Converter:
    """A reusable Markdown pipeline; one per process, since building one is slow."""

    def __init__(self, citations: bool = True) -> None:
        self._state = _DocumentState()
        self._citations = citations
        self._md = self._markdown()

    def _markdown(self) -> markdown.Markdown:
        # Built here, not named: a name would have Markdown search every installed package's
        # entry points for it, which costs an edit rebuild more than converting the briefing.
        named = [_HeadingIdsExtension(**MARKDOWN_CONFIG[name]) if name == "toc" else
                 importlib.import_module(f"markdown.extensions.{name}").makeExtension(
                     **MARKDOWN_CONFIG.get(name, {})) for name in MARKDOWN_EXTENSIONS]
        return markdown.Markdown(
            extensions=[*named, TypographyExtension(),
                        InlinePassExtension({_CITATION_INLINE: "["}),
                        _BriefingExtension(self._state, self._citations),
                        LinkBracketsExtension(),  # after every extension that adds a link pattern
                        BlockSkipExtension(),  # it guards the block processors the others added
                        PassSkipExtension(),
                        FastLookupsExtension()],  # last: it keeps what the others set
            output_format="html",
        )

    def convert(self, body: str, source_path: str, body_line: int) -> Conversion:
        """Convert a document body; source_path is content-relative, body_line its first line."""
        masked = mask_code(body)
        message = ("the text nests lists or quotes too deeply to convert; "
                   "flatten the deepest ones")
        too_deep = _too_deep(masked)
        if too_deep is not None:
            return Conversion("", NO_CITATIONS, (), "", 0, (),
                              notes=((body_line + too_deep, 1, message, True),))
        try:
            converted, found, found_links = self._run(body, source_path)
        except RecursionError:
            self._md = self._markdown()  # an interrupted conversion leaves it unusable
            return Conversion("", NO_CITATIONS, (), "", 0, (), notes=((body_line, 1, message, True),))
        except Exception as exc:
            # Python-Markdown fails on some inputs (a reference definition such as
            # "[r]: https://e.org[r]"): say where, not a traceback.
            self._md = self._markdown()
            failed = (f"Markdown could not convert this text ({type(exc).__name__}: {exc}); "
                      "look for a malformed link or reference definition")
            return Conversion("", NO_CITATIONS, (), "", 0, (), notes=((body_line, 1, failed, True),))
        markers = _read_markers(masked) if self._citations else []
        written = _written_citations(masked, markers)
        unread: tuple[tuple[int, int, str, bool], ...] = ()
        if len(written) != len(found):
            # The masking guessed wrong (indented code, raw HTML, a fence never
            # closed): learn which `[@...]` Markdown did read, by marking each.
            every = _written_citations(body, _read_markers(body))
            written, marked = self._read_citations(body, source_path, every)
            unread = _unread_citations(body, every, written, marked, body_line)
        uses = _locate_citations(masked, found, written, body_line)
        links = _locate_links(masked, found_links, body_line)
        cited_ids = tuple(dict.fromkeys(sys.intern(use.source_id) for use in uses))  # see records.py
        return Conversion(
            html=converted,
            citations=Citations.of(uses, cited_ids),  # the same ids: pickled once
            links=links,
            first_paragraph=first_paragraph_text(converted),
            word_count=word_count(_CITATION.sub("", masked)),
            cited_ids=cited_ids,
            quotations=find_quotations(masked, _citation_spans(markers), body_line) if uses else (),
            notes=(*_malformed_citations(masked, markers, converted, body_line), *unread,
                   *_unreferenced_notes(masked, self._state.unreferenced, body_line))
            if self._citations else (),
        )

    def _run(self, body: str, source_path: str
             ) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
        self._md.reset()
        self._state.source_dir = posixpath.dirname(source_path)
        self._state.citations.clear()
        self._state.links.clear()
        self._state.unreferenced.clear()
        converted = self._md.convert(body)
        return converted, list(self._state.citations), list(self._state.links)

    def _read_citations(self, body: str, source_path: str,
                        written: list[Written]) -> tuple[list[Written], str]:
        """The written citations Markdown reads, each tagged with its offset and converted again;
        and the HTML of that conversion, where the others' tags are (in code, or elsewhere)."""
        # Joined once from the pieces between the tags: a copy of the body at each tag was
        # quadratic (20,000 citations inside an HTML block took 2.7 s to tag).
        parts: list[str] = []
        start = 0
        for source_id, _, at in written:  # in text order
            end = at + 1 + len(source_id)
            parts += (body[start:end], _AT_TAG, str(at))
            start = end
        parts.append(body[start:])
        converted, found, _ = self._run("".join(parts), source_path)
        read = []
        for tagged, locator in found:
            source_id, tag, offset = tagged.rpartition(_AT_TAG)
            if tag and offset.isdigit():
                read.append((source_id, locator, int(offset)))
        return sorted(read, key=lambda item: item[2]), converted


# Python-Markdown parses nested lists and quotes by recursion, slowly and, past
# a few hundred levels, into a RecursionError; no real text comes near this.
_MAX_NESTING_COLUMNS = 160
_MAX_QUOTE_LEVELS = 40
_NESTED_ITEM = re.compile(r"([ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_QUOTES = re.compile(rf"(?:[ \t]{{0,3}}>){{{_MAX_QUOTE_LEVELS + 1}}}")


def _too_deep(masked: str) -> int | None:
    """The 0-based line of the first list item or quote nested beyond the limits, if any."""
    for number, line in enumerate(masked.split("\n")):
        item = _NESTED_ITEM.match(line)
        if item and len(item.group(1).expandtabs(4)) > _MAX_NESTING_COLUMNS:
            return number
        if _QUOTES.match(line):
            return number
    return None


def mask_code(text: str) -> str:
    """Blank out fenced code blocks and code spans, keeping every offset in place."""
    if "`" not in text and "~~~" not in text:
        return text  # no fence can open and no span be written: most briefings
    out = list(text)
    fence: str | None = None
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        opener = re.match(r"(`{3,}|~{3,})", stripped)
        if fence is None and opener:
            fence = opener.group(1)[0] * len(opener.group(1))
            _blank(out, offset, offset + len(line))
        elif fence is not None:
            if stripped.startswith(fence) and not stripped[len(fence):].strip("`~ \n"):
                fence = None
            _blank(out, offset, offset + len(line))
        offset += len(line)
    masked = "".join(out)
    for start, end in _code_spans(masked):
        _blank(out, start, end)
    return "".join(out)


def _code_spans(text: str) -> Iterator[tuple[int, int]]:
    """Code spans as Markdown reads them: a run of backticks (not escaped) to the next run of
    as many, found in one pass over the runs (a regex scanning to the end for every run that
    is never closed was quadratic)."""
    runs = [(found.start(), found.end()) for found in re.finditer(r"`+", text)]
    closing: list[int | None] = [None] * len(runs)  # the next run of the same length, by index
    last: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        closing[index] = last.get(length)
        last[length] = index
    index = 0
    while index < len(runs):
        start = runs[index][0]
        other = closing[index]
        if other is not None and not (start > 0 and text[start - 1] == "\\"):
            yield start, runs[other][1]
            index = other + 1
        else:
            index += 1


def _blank(chars: list[str], start: int, end: int) -> None:
    for index in range(start, end):
        if chars[index] != "\n":
            chars[index] = " "


# A citation wrapped inside a quotation carries the quotation's `>` on its next line, which
# Markdown takes out before it reads the citation.
_QUOTE_MARKS = re.compile(r"\n[ \t]*(?:>[ \t]?)+")


def _written_inner(inner: str) -> list[tuple[str, str]] | None:
    """parse_citation of a citation as written in the text, wrapped lines and all."""
    return parse_citation(_QUOTE_MARKS.sub("\n", inner) if "\n" in inner else inner)


class _Marker(NamedTuple):
    """A `[@...]` written outside code (see _read_markers), and its citations as _written_inner reads
    them (None when it is no citation): read once, for the several passes that look at them."""

    found: re.Match[str]
    items: list[tuple[str, str]] | None


def _read_markers(masked: str) -> list[_Marker]:
    """Every `[@...]` written outside code, but those escaped (`\\[@x]` is literal text)."""
    return [_Marker(found, _written_inner(found.group(1))) for found in _CITATION.finditer(masked)
            if not (found.start() > 0 and masked[found.start() - 1] == "\\")]


def _written_citations(masked: str, markers: list[_Marker]) -> list[Written]:
    """Every citation written outside code, as (id, locator, offset of its `@`), in text order."""
    written: list[Written] = []
    for marker, items in markers:
        search = marker.start()
        for source_id, locator in items or []:
            at = masked.index("@" + source_id, search)
            search = at + 1
            written.append((source_id, locator, at))
    return written


_CODE_HTML = re.compile(r"<(pre|code)\b.*?</\1>", re.S)


_FOOTNOTE_DEFINITION = re.compile(r"^[ ]{0,3}(\[)\^([^\]\n]+)\]:", re.M)


def _unreferenced_notes(masked: str, labels: Sequence[str], body_line: int
                        ) -> tuple[tuple[int, int, str, bool], ...]:
    """A warning at each footnote the text never refers to: readers find it only at the end."""
    if not labels:
        return ()
    defined: dict[str, int] = {}  # each label's first definition, at its "["
    for found in _FOOTNOTE_DEFINITION.finditer(masked):
        defined.setdefault(found.group(2), found.start(1))
    lines = LineStarts(masked, body_line)
    notes = []
    for label in labels:
        at = defined.get(label)
        line, column = (body_line, 1) if at is None else lines.at(at)
        notes.append((line, column, f"footnote [^{label}] is never referred to in the text: "
                                    f"write [^{label}] where it belongs, or remove it", False))
    return tuple(notes)


def _unread_citations(body: str, written: list[Written], read: list[Written], marked: str,
                      body_line: int) -> tuple[tuple[int, int, str, bool], ...]:
    """Errors for the citations written outside code that Markdown did not read: inside HTML
    (a block, a tag, a link written as HTML) or an image's text, where a citation would be lost
    or break the page. One that the page shows as code (an indented block) is no citation:
    `marked` is the conversion that tagged each with its offset (Converter._read_citations)."""
    taken = {at for _, _, at in read}
    code = " ".join(found.group(0) for found in _CODE_HTML.finditer(marked))
    notes = []
    lines: LineStarts | None = None  # counted once a citation is found unread
    for source_id, _, at in written:
        if at in taken or f"{_AT_TAG}{at}" in code:
            continue
        lines = lines or LineStarts(body, body_line)
        line, column = lines.at(at + 1)
        notes.append((line, column,
                      f"the citation of {source_id!r} is inside HTML or an image's text, where it "
                      f"cannot be a citation: move it out (after the closing tag, or after the image)",
                      True))
    return tuple(notes)


def _malformed_citations(masked: str, markers: list[_Marker], converted: str, body_line: int
                         ) -> tuple[tuple[int, int, str, bool], ...]:
    """`[@...]` that looks like a citation but is not one, where it is left as text."""
    prose = _CODE_HTML.sub("", converted)
    notes = []
    lines: LineStarts | None = None  # counted once a marker is found malformed
    for marker, items in markers:
        # parse_citation of the text as written: `items` were read without a quotation's `>`
        # (see _written_inner), which makes no difference where the text holds no newline.
        inner = marker.group(1)
        read = parse_citation(inner) if "\n" in inner else items
        if read is not None or html.escape(marker.group(0), False) not in prose:
            continue
        lines = lines or LineStarts(masked, body_line)
        line, column = lines.at(marker.start())
        notes.append((line, column,
                      f"{marker.group(0)!r} is not a citation and is left as text: write "
                      f"[@id], [@a; @b] or [@id, locator] with ids of a-z, 0-9, '.', '_', '-' "
                      f"(or \\[@...] for literal text)", False))
    return tuple(notes)


def _locate_citations(
    masked: str, found: list[tuple[str, str]], written: list[Written], body_line: int
) -> tuple[CitationUse, ...]:
    """Pair each processed citation with where it is written: the first one not yet taken of the
    same source and locator, else of the same source. Footnotes are processed after the body but
    written anywhere in it, so order alone would pair a footnote's citation with a later one."""
    # Each source's and each (source, locator)'s offsets in text order, taken from the front:
    # a look through every written citation for each one was quadratic in a long briefing.
    by_source: dict[str, deque[int]] = defaultdict(deque)
    by_locator: dict[tuple[str, str], deque[int]] = defaultdict(deque)
    for source_id, locator, at in written:
        by_source[source_id].append(at)
        by_locator[(source_id, locator)].append(at)
    taken: set[int] = set()

    def first_free(offsets: deque[int] | None) -> int | None:
        while offsets:
            if offsets[0] not in taken:
                return offsets[0]
            offsets.popleft()
        return None

    lines = LineStarts(masked, body_line)
    uses = []
    for source_id, locator in found:
        found_at = first_free(by_locator.get((source_id, locator)))
        if found_at is None:
            found_at = first_free(by_source.get(source_id))
        at = 0 if found_at is None else found_at
        taken.add(at)
        line, column = lines.at(at + 1)
        # Interned: a site's citations name a few hundred sources, each many times over.
        uses.append(CitationUse(sys.intern(source_id), locator, line, column))
    return tuple(uses)


def _citation_spans(markers: list[_Marker]) -> list[CitationSpan]:
    return [(marker.start(), marker.end(), tuple(source_id for source_id, _ in items))
            for marker, items in markers if items]


def _locate_links(
    masked: str, found: list[tuple[str, str]], body_line: int
) -> tuple[ContentLink, ...]:
    if not found:
        return ()
    lines = LineStarts(masked, body_line)
    links = []
    search_from: dict[str, int] = {}
    for target, href in found:
        at = masked.find(href, search_from.get(href, 0))
        if at < 0:
            at = max(masked.find(href), 0)
        search_from[href] = at + 1
        line, column = lines.at(at)
        links.append(ContentLink(target, line, column))
    return tuple(links)


# A paragraph with attributes (`{: .lead }`) is a paragraph too.
_FIRST_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S)
# Citation and footnote markers, which are links, not words: other superscripts (km², 1st) are.
_SUP = re.compile(r'<span class="citation-group">.*?</span>'
                  r'|<sup (?:class="citation"|id="fnref)[^>]*>.*?</sup>', re.S)
_TAG = re.compile(r"<[^>]+>")


def first_paragraph_text(converted: str) -> str:
    found = _FIRST_PARAGRAPH.search(converted)
    if not found:
        return ""
    text = " ".join(html.unescape(_TAG.sub("", _SUP.sub("", found.group(1)))).split())
    # Removing citation markers leaves a space before the punctuation that followed them.
    return re.sub(r"\s+([.,;:!?])", r"\1", text)


_CONTENT_LINK = re.compile(
    r'<a href="' + re.escape(CONTENT_LINK_PREFIX) + r'([^"#]*)(#[^"]*)?"([^>]*)>(.*?)</a>', re.S
)


def resolve_content_links(html_text: str, url_of: Callable[[str], str | None]) -> str:
    """Point links to other content files at their URLs (`url_of` a content path's, or None).

    A target this build leaves out (a draft, a future briefing) was reported as
    a warning; its link is dropped and its text kept, so no page links nowhere.
    """
    if CONTENT_LINK_PREFIX not in html_text:
        return html_text

    def link(found: re.Match[str]) -> str:
        target, fragment, attributes, text = found.groups()
        url = url_of(target)
        if url is None:
            return str(text)
        return f'<a href="{url}{fragment or ""}"{attributes}>{text}</a>'

    return _CONTENT_LINK.sub(link, html_text)
