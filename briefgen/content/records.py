"""Content records: front matter checked and typed, bodies converted.

`parse_briefing`, `parse_page` and `parse_registry` are pure functions of a
file's path and bytes. Their results do not depend on the site configuration,
so the cache can keep them by content hash and workers can compute them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from briefgen.config import language_tag_problem
from briefgen.content.load import (
    MAX_REGISTRY_CHARS,
    Located,
    SplitDocument,
    decode,
    load_yaml,
    split_front_matter,
)
from briefgen.content.markup import SOURCE_ID, Conversion, Converter
from briefgen.content.positions import KeyPositions
from briefgen.content.slugs import make_slug, slug_problem
from briefgen.controls import FORBIDDEN, describe, first_forbidden
from briefgen.diagnostics import Diagnostic, error, warning
from briefgen.slots import quick_pickle
from briefgen.suggest import closest
from briefgen.weburl import web_url_problem

DateLike = dt.date | dt.datetime
Position = tuple[int, int]

BRIEFING_KEYS = ("title", "date", "topics", "summary", "sources", "draft", "slug", "updated", "curators")
PAGE_KEYS = ("title", "slug", "summary", "draft")
SOURCE_KEYS = ("id", "title", "publisher", "url", "published", "authors", "accessed", "archive_url")


class BriefingPositions(KeyPositions):
    KEYS = (*BRIEFING_KEYS, "")  # "": the front matter itself


class PagePositions(KeyPositions):
    KEYS = (*PAGE_KEYS, "")


# What other generators call our keys (Hugo, Pelican, Jekyll habits).
KEY_ALIASES = {
    "tags": "topics", "tag": "topics", "categories": "topics", "category": "topics",
    "keywords": "topics", "author": "curators", "authors": "curators", "description": "summary",
    "excerpt": "summary", "abstract": "summary", "pubdate": "date", "published": "date",
    "modified": "updated", "lastmod": "updated", "references": "sources", "citations": "sources",
    "link": "url", "href": "url", "outlet": "publisher",
}


@quick_pickle
@dataclass(frozen=True, slots=True)
class Source:
    """A source article, as a registry lists it."""

    id: str
    title: str
    publisher: str
    url: str | None = None
    published: dt.date | None = None
    authors: tuple[str, ...] = ()
    accessed: dt.date | None = None
    archive_url: str | None = None
    # Where it is declared, for messages about it; not part of its identity.
    path: str = field(default="", compare=False)
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)

    @property
    def place(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@quick_pickle
@dataclass(frozen=True, slots=True)
class BriefingDoc:
    """A briefing file, parsed: its front matter and its converted body."""

    path: str  # site-relative POSIX path, e.g. "content/briefings/2016/aleppo.md"
    digest: str  # of the file's bytes: stands for everything parsed from them
    title: str
    date: DateLike
    topics: tuple[str, ...]
    summary: str | None
    source_ids: tuple[str, ...]  # in front-matter order, registry and inline alike
    inline_sources: tuple[Source, ...]
    draft: bool
    slug: str  # the explicit slug, or one derived from the title ("" when it gives none)
    updated: DateLike | None
    curators: tuple[str, ...]
    extra: Mapping[str, Any]
    body: Conversion
    positions: Mapping[str, Position]  # where title, date, slug... are written


@quick_pickle
@dataclass(frozen=True, slots=True)
class PageDoc:
    """A standalone page's file, parsed."""

    path: str
    digest: str
    title: str
    slug: str  # explicit or derived from the title
    summary: str | None
    draft: bool
    extra: Mapping[str, Any]
    body: Conversion
    positions: Mapping[str, Position]


_Doc = TypeVar("_Doc", "BriefingDoc", "PageDoc")


@dataclass
class _Checker:
    """Collects diagnostics while reading one front-matter mapping."""

    path: str
    meta: Located
    problems: list[Diagnostic] = field(default_factory=list)
    name_problems: list[Diagnostic] = field(default_factory=list)  # errors that keep the record

    def outcome(self, doc: _Doc) -> tuple[_Doc | None, list[Diagnostic]]:
        """The record, unless an error was found, with every problem found. An error of the
        site's names (a title that gives no slug, a topic without letters) keeps the record,
        so that the checks across files (site/model.py) report its other problems in the same
        run; the build stops on the error all the same."""
        if any(p.is_error for p in self.problems):
            return None, self.problems + self.name_problems
        if self.name_problems:
            return doc, self.problems + self.name_problems
        if doc.summary and doc.body.first_paragraph:
            # The first paragraph stands in for a missing summary only (site/model.py), and
            # the record is held from its parse to the end of the build: a tenth of its size.
            doc = replace(doc, body=replace(doc.body, first_paragraph=""))
        return doc, self.problems

    def slug(self, title: str | None) -> str:
        """The explicit slug, checked, or one derived from the title (whose lack of one, where
        it is written, is reported with the file's other problems)."""
        slug = self.text("slug")
        if slug is not None and (problem := slug_problem(slug)):
            self.fail(("slug",), problem)
        made = slug or make_slug(title or "")
        if not made and title:
            line, column = self.meta.key_at("title")
            self.name_problems.append(error(self.path, line, column, "the title gives no slug; add `slug:`"))
        return made

    def fail(self, key: tuple[str | int, ...], message: str) -> None:
        line, column = self.meta.at(*key)
        self.problems.append(error(self.path, line, column, message))

    def text(self, key: str, required: bool = False, data: Mapping[str, Any] | None = None,
             prefix: tuple[str | int, ...] = ()) -> str | None:
        data = self.meta.value if data is None else data
        value = data.get(key)
        if value is None:
            if required:
                line, column = self.meta.at(*prefix) if prefix else self.meta.at()
                what = f"`{key}`" + (" in this source" if prefix else "")
                self.problems.append(error(self.path, line, column, f"{what} is required"))
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail((*prefix, key), f"`{key}` must be text, not {_kind(value)}")
            return None
        text = str(value).strip()
        if (bad := first_forbidden(text)) is not None:
            self.fail((*prefix, key), f"`{key}` contains the control character {describe(bad.group())}; "
                                      f"remove it")
            return None
        if required and not text:
            self.fail((*prefix, key), f"`{key}` must not be empty")
            return None
        return text

    def date(self, key: str, required: bool = False, data: Mapping[str, Any] | None = None,
             prefix: tuple[str | int, ...] = ()) -> DateLike | None:
        data = self.meta.value if data is None else data
        value = data.get(key)
        if value is None:
            if required:
                self.fail(prefix, f"`{key}` is required (for example `{key}: 2016-08-02`)")
            return None
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = dt.datetime.fromisoformat(value.strip())
        if isinstance(value, dt.date):
            if not _in_range(value):
                self.fail((*prefix, key), f"`{key}` {value.isoformat()} is out of range: "
                          f"use a date between {_EARLIEST} and {_LATEST}")
                return None
            return value
        self.fail(
            (*prefix, key),
            f"`{key}` must be a date such as 2016-08-02 or 2016-08-02T09:30:00+03:00, not "
            + (repr(value) if isinstance(value, str | int | float) else _kind(value)),
        )
        return None

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.meta.value.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail((key,), f"`{key}` must be a list, such as `{key}: [First, Second]`")
            return ()
        items = []
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int | float) or not str(item).strip():
                self.fail((key, index), f"each entry of `{key}` must be non-empty text")
            elif (bad := first_forbidden(str(item))) is not None:
                self.fail((key, index), f"`{key}` contains the control character {describe(bad.group())}; "
                                        f"remove it")
            else:
                items.append(str(item).strip())
        return tuple(items)

    def flag(self, key: str) -> bool:
        value = self.meta.value.get(key, False)
        if not isinstance(value, bool):
            self.fail((key,), f"`{key}` must be true or false, not {value!r}")
            return False
        return value

    def unknown_keys(self, known: tuple[str, ...], data: Mapping[str, Any] | None = None,
                     prefix: tuple[str | int, ...] = (), passed: tuple[str, ...] = ()) -> dict[str, Any]:
        """Keys briefgen does not know: kept, and reported when one looks like a typo. Keys
        `passed` are known too, and kept with them (templates read them there)."""
        data = self.meta.value if data is None else data
        extra = {}
        for key, value in data.items():
            if key in known:
                continue
            extra[str(key)] = value
            if key in passed:
                continue
            close = closest(str(key), (*known, *passed), KEY_ALIASES)
            if close:
                line, column = self.meta.key_at(*prefix, key)
                self.problems.append(warning(
                    self.path, line, column,
                    f"unknown key `{key}` (did you mean `{close}`?); it is kept as extra data",
                ))
        return extra


# A day's margin at both ends: any date inside can be moved to any timezone
# (offsets reach 26 hours apart) without leaving what datetime can hold.
_EARLIEST = dt.date.min + dt.timedelta(days=2)
_LATEST = dt.date.max - dt.timedelta(days=2)


def _in_range(value: DateLike) -> bool:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        try:
            value = value.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            return False
    day = value.date() if isinstance(value, dt.datetime) else value
    return _EARLIEST <= day <= _LATEST


def _kind(value: object) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false"}.get(type(value), type(value).__name__)


def clean_body(path: str, split: SplitDocument, problems: list[Diagnostic]) -> str:
    """The body with control characters blanked, each kind reported once where first seen.

    A space keeps every later column where the file has it.
    """
    body = split.body
    seen: set[str] = set()
    for found in (m for m in FORBIDDEN.finditer(body) if m.group() not in seen):
        seen.add(found.group())
        before = body[: found.start()]
        line = split.body_line + before.count("\n")
        column = found.start() - (before.rfind("\n") + 1) + 1
        problems.append(warning(path, line, column,
                                f"control character {describe(found.group())} removed from the text"))
    return FORBIDDEN.sub(" ", body) if seen else body


def _convert(converter: Converter, path: str, split: SplitDocument, problems: list[Diagnostic]) -> Conversion:
    body = converter.convert(clean_body(path, split, problems), path, split.body_line)
    problems += [(error if is_error else warning)(path, line, column, message)
                 for line, column, message, is_error in body.notes]
    return body


def _split(path: str, data: bytes) -> SplitDocument | Diagnostic:
    text = decode(path, data)
    if isinstance(text, Diagnostic):
        return text
    return split_front_matter(path, text)


def item_position(path: str, data: bytes, key: str, item: str) -> Position | None:
    """Where the front matter's list `key` has `item` first: a string, or a mapping of that id."""
    split = _split(path, data)
    if isinstance(split, Diagnostic):
        return None
    listed = split.meta.value.get(key)
    if not isinstance(listed, list):
        return None
    for index, value in enumerate(listed):
        named = value.get("id") if isinstance(value, dict) else value
        if (named.strip() if isinstance(named, str) else named) == item:
            return split.meta.at(key, index)
    return None


def _positions(meta: Located, kind: type[KeyPositions]) -> KeyPositions:
    return kind.of({key: meta.key_at(key) for key in kind.KEYS if key in meta.value} | {"": meta.at()})


def file_digest(data: bytes) -> str:
    """What names a content file's bytes, in the cache and in fingerprints."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_briefing(
    path: str, data: bytes, converter: Converter
) -> tuple[BriefingDoc | None, list[Diagnostic]]:
    split = _split(path, data)
    if isinstance(split, Diagnostic):
        return None, [split]
    check = _Checker(path, split.meta)
    title = check.text("title", required=True)
    date = check.date("date", required=True)
    sources, inline = _briefing_sources(check)
    doc = BriefingDoc(
        path=path,
        digest=file_digest(data),
        title=title or "",
        date=date or dt.date.min,
        # Names many briefings share, one object each: a batch of parsed files pickled by a
        # worker, or a row of the cache, then holds each once (at 50,000 briefings, their
        # copies were 12 MB of the build's process, and of every process forked from it).
        topics=_interned(_topics(check)),
        summary=check.text("summary"),
        source_ids=_interned(sources),
        inline_sources=inline,
        draft=check.flag("draft"),
        slug=check.slug(title),
        updated=_updated(check, date),
        curators=_interned(check.strings("curators")),
        extra=_typed_extras(check, check.unknown_keys(BRIEFING_KEYS, passed=("image", "language"))),
        body=_convert(converter, path, split, check.problems),
        positions=_positions(split.meta, BriefingPositions),
    )
    return check.outcome(doc)


def _updated(check: _Checker, date: DateLike | None) -> DateLike | None:
    """`updated`, with a warning where it comes before `date` (a feed and structured data would
    then say the briefing changed before it was published)."""
    updated = check.date("updated")
    if updated is not None and date is not None and _day(updated) < _day(date):
        line, column = check.meta.at("updated")
        check.problems.append(warning(check.path, line, column,
                                      f"`updated` {_day(updated)} is before `date` {_day(date)}"))
    return updated


def _day(value: DateLike) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _interned(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(map(sys.intern, names))


def _topics(check: _Checker) -> tuple[str, ...]:
    topics = check.strings("topics")
    value = check.meta.value.get("topics")
    if isinstance(value, str) and "," in value:
        line, column = check.meta.at("topics")
        names = ", ".join(part.strip() for part in value.split(",") if part.strip())
        check.problems.append(warning(
            check.path, line, column,
            f"`topics` is one topic named {value.strip()!r}; for several, write a list: "
            f"`topics: [{names}]`",
        ))
    for index, name in enumerate(topics):
        if not make_slug(name):  # it names the topic's page
            line, column = check.meta.at(*(("topics", index) if isinstance(value, list) else ("topics",)))
            check.name_problems.append(error(check.path, line, column,
                                             f"topic {name!r} has no letters or digits"))
    return topics


def _briefing_sources(check: _Checker) -> tuple[tuple[str, ...], tuple[Source, ...]]:
    value = check.meta.value.get("sources")
    if value is None:
        return (), ()
    if not isinstance(value, list):
        check.fail(("sources",), "`sources` must be a list of source ids or source entries")
        return (), ()
    ids: list[str] = []
    inline: list[Source] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            if not SOURCE_ID.fullmatch(item):
                check.fail(("sources", index), _bad_id(item))
                continue
            ids.append(sys.intern(item))  # one string per id, however many briefings name it
        elif isinstance(item, dict):
            source = _source(check, item, ("sources", index))
            if source is not None:
                ids.append(source.id)
                inline.append(source)
        else:
            check.fail(("sources", index), "each source is an id or a mapping with id, title, publisher")
    return tuple(dict.fromkeys(ids)), tuple(inline)


def _bad_id(value: object) -> str:
    return (f"source id {value!r} must start with a lowercase letter or digit and use only "
            f"a-z, 0-9, '.', '_' and '-'")


def _web_url(check: _Checker, key: str, item: Mapping[str, Any], prefix: tuple[str | int, ...]) -> str | None:
    url = check.text(key, data=item, prefix=prefix)
    if url is None:
        return None
    problem = web_url_problem(url, allow_query=True)
    if problem:
        check.fail((*prefix, key), f"`{key}` must be an http or https URL: it {problem}, not {url!r}")
        return None
    return url


def _plain_date(value: DateLike | None) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value


def _source(check: _Checker, item: Mapping[str, Any], prefix: tuple[str | int, ...]) -> Source | None:
    before = len(check.problems)
    source_id = check.text("id", required=True, data=item, prefix=prefix)
    if source_id is not None and not SOURCE_ID.fullmatch(source_id):
        check.fail((*prefix, "id"), _bad_id(source_id))
    title = check.text("title", required=True, data=item, prefix=prefix)
    publisher = check.text("publisher", required=True, data=item, prefix=prefix)
    if publisher is not None and not make_slug(publisher):  # it names the publisher's page
        check.fail((*prefix, "publisher"), f"publisher {publisher!r} has no letters or digits")
    url = _web_url(check, "url", item, prefix)
    if "url" not in item and source_id is not None:  # one without an id has its error already
        line, column = check.meta.at(*prefix)
        check.problems.append(warning(check.path, line, column, f"source {source_id!r} has no `url`"))
    archive_url = _web_url(check, "archive_url", item, prefix)
    published = _plain_date(check.date("published", data=item, prefix=prefix))
    accessed = _plain_date(check.date("accessed", data=item, prefix=prefix))
    authors_value = item.get("authors") or []
    if isinstance(authors_value, str):
        authors_value = [authors_value]
    if not isinstance(authors_value, list) or not all(isinstance(a, str) for a in authors_value):
        check.fail((*prefix, "authors"), "`authors` must be a list of names")
        authors_value = []
    elif any(first_forbidden(a) for a in authors_value):
        check.fail((*prefix, "authors"), "`authors` contains a control character; remove it")
        authors_value = []
    check.unknown_keys(SOURCE_KEYS, data=item, prefix=prefix)
    if any(p.is_error for p in check.problems[before:]):
        if source_id is not None and SOURCE_ID.fullmatch(source_id):
            # Named, so that a citation of it is not also said to be of a source found nowhere.
            check.problems[before:] = [replace(p, source_id=source_id) if p.is_error else p
                                       for p in check.problems[before:]]
        return None
    line, column = check.meta.at(*prefix)
    return Source(
        id=source_id or "", title=title or "", publisher=publisher or "", url=url,
        published=published, authors=tuple(a.strip() for a in authors_value), accessed=accessed,
        archive_url=archive_url, path=check.path, line=line, column=column,
    )


def _typed_extras(check: _Checker, extra: dict[str, Any]) -> dict[str, Any]:
    """The extra keys, `image` among them as text, and `language` (the briefing's, where it is
    not the site's) as a language tag: render/views.py reads them there."""
    if "image" in extra:
        image = check.text("image")
        if image is None:
            del extra["image"]
        else:
            extra["image"] = image
    if "language" in extra:
        language = check.text("language")
        problem = language_tag_problem(language) if language is not None else None
        if problem:
            check.fail(("language",), f"`language` {problem}")
        if language is None or problem:
            del extra["language"]
        else:
            extra["language"] = language
    return extra


def parse_page(path: str, data: bytes, converter: Converter) -> tuple[PageDoc | None, list[Diagnostic]]:
    split = _split(path, data)
    if isinstance(split, Diagnostic):
        return None, [split]
    check = _Checker(path, split.meta)
    title = check.text("title", required=True)
    doc = PageDoc(
        path=path,
        digest=file_digest(data),
        title=title or "",
        slug=check.slug(title),
        summary=check.text("summary"),
        draft=check.flag("draft"),
        extra=check.unknown_keys(PAGE_KEYS),
        body=_convert(converter, path, split, check.problems),
        positions=_positions(split.meta, PagePositions),
    )
    return check.outcome(doc)


UNREADABLE_REGISTRY = "source registry unreadable, so none of its sources is known: "


def _unreadable(problem: Diagnostic) -> Diagnostic:
    return replace(problem, message=UNREADABLE_REGISTRY + problem.message)


def is_unreadable_registry(problem: Diagnostic) -> bool:
    """Whether a problem made a whole registry file unusable (and explains unknown sources)."""
    return problem.is_error and problem.message.startswith(UNREADABLE_REGISTRY)


def parse_registry(path: str, data: bytes) -> tuple[tuple[Source, ...], list[Diagnostic]]:
    """A registry file: a YAML list of sources."""
    text = decode(path, data)
    if isinstance(text, Diagnostic):
        return (), [_unreadable(text)]
    located = load_yaml(path, text, max_chars=MAX_REGISTRY_CHARS)
    if isinstance(located, Diagnostic):
        return (), [_unreadable(located)]
    if located.value is None:
        return (), []
    if not isinstance(located.value, list):
        line, column = located.at()
        return (), [_unreadable(error(path, line, column, "a source registry is a YAML list of sources "
                                                          "(`- id: ...`)"))]
    check = _Checker(path, Located({}, located.values, located.keys))
    sources = []
    for index, item in enumerate(located.value):
        if not isinstance(item, dict):
            check.fail((index,), "each source is a mapping with id, title, publisher and url")
            continue
        source = _source(check, item, (index,))
        if source is not None:
            sources.append(source)
    return tuple(sources), check.problems


def source_from_mapping(path: str, item: Mapping[str, Any], located: Located,
                        prefix: tuple[str | int, ...]) -> tuple[Source | None, list[Diagnostic]]:
    """One source from briefgen's fields, checked as a YAML entry is; located gives positions.

    Registries in other formats map their fields to briefgen's and come here,
    so every format is held to the same rules and messages.
    """
    check = _Checker(path, located)
    return _source(check, item, prefix), check.problems
