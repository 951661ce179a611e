"""Source registries in the formats reference managers export: CSL-JSON and BibTeX.

Each entry's fields are mapped to briefgen's (container-title to publisher,
issued to published, and so on), with the position each came from, and then
checked exactly as a YAML entry is (`records.source_from_mapping`). A registry
file's format is chosen by its ending; YAML stays in `records.parse_registry`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from briefgen.content.load import KeyPath, Located, Position, decode
from briefgen.content.positions import LineStarts
from briefgen.content.records import Source, parse_registry, source_from_mapping
from briefgen.diagnostics import Diagnostic, error, warning

Parsed = tuple[tuple[Source, ...], list[Diagnostic]]


def parse_any_registry(path: str, data: bytes) -> Parsed:
    """A registry file in the format its ending names."""
    if path.endswith(".json"):
        return parse_csl_json(path, data)
    if path.endswith(".bib"):
        return parse_bibtex(path, data)
    return parse_registry(path, data)


# ---------------------------------------------------------------- CSL-JSON


def parse_csl_json(path: str, data: bytes) -> Parsed:
    """A CSL-JSON file: a list of items (or one item), as Zotero, Mendeley and Pandoc write them."""
    text = decode(path, data)
    if isinstance(text, Diagnostic):
        return (), [text]
    try:
        value, values, keys = _JsonPositions(text).document()
    except json.JSONDecodeError as exc:
        return (), [error(path, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")]
    items = value if isinstance(value, list) else [value]
    if not isinstance(value, list):  # one item: give it the index a list would
        values = {(0, *k): v for k, v in values.items()} | {(): values[()]}
        keys = {(0, *k): v for k, v in keys.items()}
    sources: list[Source] = []
    problems: list[Diagnostic] = []
    for index, item in enumerate(items):
        source, found = _CslItem(path, index, values, keys).source(item)
        problems += found
        if source is not None:
            sources.append(source)
    return tuple(sources), problems


class _CslItem:
    """One CSL-JSON item's fields mapped to briefgen's, each with the position it is written at."""

    def __init__(self, path: str, index: int, values: Mapping[KeyPath, Position],
                 keys: Mapping[KeyPath, Position]) -> None:
        self.path, self.index, self.json_values, self.json_keys = path, index, values, keys
        self.where = values.get((index,), (1, 1))
        self.mapped: dict[str, Any] = {}
        self.values: dict[KeyPath, Position] = {(): values.get((), (1, 1)), (index,): self.where}
        self.keys: dict[KeyPath, Position] = {}

    def put(self, name: str, value: Any, csl_key: str) -> None:
        index = self.index
        self.mapped[name] = value
        self.values[(index, name)] = self.json_values.get((index, csl_key), self.where)
        self.keys[(index, name)] = self.json_keys.get((index, csl_key), self.where)
        if isinstance(value, list):
            for n in range(len(value)):
                self.values[(index, name, n)] = self.json_values.get((index, csl_key, n), self.where)

    def source(self, item: Any) -> tuple[Source | None, list[Diagnostic]]:
        if not isinstance(item, dict):
            return None, [error(self.path, *self.where,
                                "each CSL-JSON item is an object with id, title and container-title")]
        problems = []
        for name, csl_key in (("id", "id"), ("title", "title"), ("url", "URL"),
                              ("archive_url", "archive_url")):
            if csl_key in item:
                self.put(name, _csl_text(item[csl_key]) if name == "title" else item[csl_key], csl_key)
        publisher_key = next((k for k in ("container-title", "publisher") if item.get(k)), None)
        if publisher_key is not None:
            self.put("publisher", _csl_text(item[publisher_key]), publisher_key)
        for name, csl_key in (("published", "issued"), ("accessed", "accessed")):
            if csl_key in item:
                date, problem = _csl_date(item[csl_key], csl_key)
                if problem:
                    at = self.json_values.get((self.index, csl_key), self.where)
                    problems.append(warning(self.path, *at, problem))
                if date is not None:
                    self.put(name, date, csl_key)
        if "author" in item:
            self.put("authors", _csl_names(item["author"]), "author")
        located = Located({}, self.values, self.keys)
        source, found = source_from_mapping(self.path, self.mapped, located, (self.index,))
        return source, problems + found


# CSL-JSON's rich text in titles (what Zotero writes): italics, bold, super- and subscripts,
# small capitals and `nocase` spans. Their tags are markup for a citation style, not words.
_CSL_MARKUP = re.compile(r"</?(?:i|b|sup|sub|sc)>|<span(?: (?:class|style)=\"[^\"<>]*\")?>|</span>")


def _csl_text(value: Any) -> Any:
    return _CSL_MARKUP.sub("", value) if isinstance(value, str) else value


def _csl_date(value: Any, key: str) -> tuple[Any, str | None]:
    """A CSL date as a date or an ISO string (checked later), with a warning when it is partial."""
    if isinstance(value, str):
        return value, None
    if not isinstance(value, dict):
        return value, None  # the record check reports the wrong type
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list):
        numbers = parts[0]
        if len(numbers) >= 3 and all(isinstance(n, int | str) for n in numbers[:3]):
            try:
                return dt.date(*(int(n) for n in numbers[:3])), None
            except ValueError as exc:
                return None, f"`{key}` {numbers[:3]} is not a date: {exc}"
        return None, f"`{key}` {numbers} has no day; it is left out"
    for text_key in ("raw", "literal"):
        if isinstance(value.get(text_key), str):
            return value[text_key], None
    return None, f"`{key}` has no date-parts; it is left out"


def _csl_names(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    names = []
    for person in value:
        if isinstance(person, dict):
            literal = person.get("literal")
            given, family = person.get("given", ""), person.get("family", "")
            names.append(str(literal) if literal else " ".join(str(p) for p in (given, family) if p))
        else:
            names.append(person)
    return names


# A CSL-JSON item is a few levels deep; each level is a call here.
_MOST_JSON_LEVELS = 100


class _JsonPositions:
    """JSON parsed with the position of every value and key, on top of the standard decoder."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.decoder = json.JSONDecoder()
        self.lines = LineStarts(text)
        self.values: dict[KeyPath, Position] = {}
        self.keys: dict[KeyPath, Position] = {}

    def position(self, offset: int) -> Position:
        return self.lines.at(offset)

    def fail(self, message: str, offset: int) -> json.JSONDecodeError:
        return json.JSONDecodeError(message, self.text, offset)

    def skip(self, offset: int) -> int:
        while offset < len(self.text) and self.text[offset] in " \t\r\n":
            offset += 1
        return offset

    def document(self) -> tuple[Any, dict[KeyPath, Position], dict[KeyPath, Position]]:
        value, end = self.value(self.skip(0), ())
        end = self.skip(end)
        if end != len(self.text):
            raise self.fail("Extra data", end)
        return value, self.values, self.keys

    def value(self, offset: int, path: KeyPath) -> tuple[Any, int]:
        self.values[path] = self.position(offset)
        char = self.text[offset:offset + 1]
        if len(path) > _MOST_JSON_LEVELS and char in "[{":
            raise self.fail(f"nested more than {_MOST_JSON_LEVELS} levels deep", offset)
        if char == "[":
            return self.array(offset + 1, path)
        if char == "{":
            return self.object(offset + 1, path)
        try:
            result: tuple[Any, int] = self.decoder.raw_decode(self.text, offset)
        except json.JSONDecodeError:
            raise
        except ValueError as exc:  # an integer of more than 4,300 digits
            raise self.fail(str(exc).split(";")[0], offset) from None
        return result

    def array(self, offset: int, path: KeyPath) -> tuple[list[Any], int]:
        items: list[Any] = []
        offset = self.skip(offset)
        if self.text.startswith("]", offset):
            return items, offset + 1
        while True:
            item, offset = self.value(self.skip(offset), (*path, len(items)))
            items.append(item)
            offset = self.skip(offset)
            if self.text.startswith("]", offset):
                return items, offset + 1
            if not self.text.startswith(",", offset):
                raise self.fail("Expecting ',' delimiter", offset)
            offset += 1

    def object(self, offset: int, path: KeyPath) -> tuple[dict[str, Any], int]:
        members: dict[str, Any] = {}
        offset = self.skip(offset)
        if self.text.startswith("}", offset):
            return members, offset + 1
        while True:
            if not self.text.startswith('"', offset):
                raise self.fail("Expecting property name enclosed in double quotes", offset)
            key_at = offset
            key, offset = self.decoder.raw_decode(self.text, offset)
            offset = self.skip(offset)
            if not self.text.startswith(":", offset):
                raise self.fail("Expecting ':' delimiter", offset)
            self.keys[(*path, key)] = self.position(key_at)
            members[key], offset = self.value(self.skip(offset + 1), (*path, key))
            offset = self.skip(offset)
            if self.text.startswith("}", offset):
                return members, offset + 1
            if not self.text.startswith(",", offset):
                raise self.fail("Expecting ',' delimiter", offset)
            offset = self.skip(offset + 1)


# ---------------------------------------------------------------- BibTeX

_PUBLISHER_FIELDS = ("journal", "publisher", "organization", "howpublished", "journaltitle")


def parse_bibtex(path: str, data: bytes) -> Parsed:
    """A BibTeX (or BibLaTeX) file, read by bibtexparser; the entry key is the source id."""
    text = decode(path, data)
    if isinstance(text, Diagnostic):
        return (), [text]
    # Imported here: only sites with .bib registries pay for it.
    from bibtexparser import middlewares, model
    from bibtexparser.entrypoint import parse_string

    lines = text.split("\n")
    # bibtexparser logs each failed block; they are reported here, at their lines, instead.
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    try:
        library = parse_string(text, append_middleware=[
            _latex_decoding(), middlewares.MonthIntMiddleware(True), middlewares.SeparateCoAuthors(),
            middlewares.SplitNameParts(), middlewares.MergeNameParts("first"),
        ])
    except (ValueError, RecursionError) as exc:  # a month of 5,000 digits, which int() refuses
        # Python's own advice after ";" (set_int_max_str_digits) is not the curator's to take.
        return (), [error(path, 1, 1, f"cannot read this BibTeX file: {str(exc).split(';')[0]}")]
    problems: list[Diagnostic] = []
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, model.DuplicateBlockKeyBlock):
            first = block.previous_block.start_line
            earlier = f" (first at line {first + 1})" if first is not None else ""
            message = f"BibTeX key {block.key!r} is used twice{earlier}"
        elif isinstance(block, model.DuplicateFieldKeyBlock):
            key = sorted(block.duplicate_keys)[0]
            # At the field written again: the second line of the entry that assigns it.
            assigning = [(at, assigned.start(1)) for at, text in enumerate((block.raw or "").splitlines())
                         if (assigned := re.match(rf"\s*({re.escape(key)})\s*=", text, re.I))]
            if len(assigning) > 1:
                at, column = assigning[1]
                # The entry's own key names the source it would have been (see Diagnostic.source_id).
                opening = re.match(r"\s*@\w+\s*[{(]\s*([^,\s]+)", block.raw or "")
                problems.append(replace(error(path, line + at, column + 1,
                                              f"BibTeX field {key!r} is written twice in this entry"),
                                        source_id=opening.group(1) if opening else None))
                continue
            message = f"BibTeX field {key!r} is written twice in this entry"
        elif isinstance(block, model.MiddlewareErrorBlock):
            message = f"cannot read this entry: {block.error}"
        else:
            detail = str(block.error) or "an entry that is not closed or not well formed"
            message = f"invalid BibTeX: {detail}"
        line = _written_at(lines, line, "@")
        problems.append(error(path, line, _column(lines, line, "@"), message))
    sources = []
    for index, entry in enumerate(library.entries):
        source, found = _BibtexEntry(path, lines, index, entry).source()
        problems += found
        if source is not None:
            sources.append(source)
    return tuple(sources), problems


# Fields BibLaTeX reads verbatim: an address's "%", "~", "&" and "--" are its own characters,
# which LaTeX decoding would take for a comment, a space, a tab stop and a dash.
_VERBATIM_FIELDS = frozenset({"url", "archive_url", "doi", "eprint"})


def _latex_decoding() -> Any:
    """bibtexparser's LaTeX decoding, for every field but the verbatim ones."""
    from bibtexparser import middlewares, model
    from bibtexparser.library import Library

    class _LatexDecodingButAddresses(middlewares.LatexDecodingMiddleware):
        def transform_entry(self, entry: model.Entry, library: Library) -> model.Block:
            kept = {field.key: field.value for field in entry.fields if field.key.lower() in _VERBATIM_FIELDS}
            block = super().transform_entry(entry, library)
            for field in getattr(block, "fields", ()):
                if field.key in kept:
                    field.value = kept[field.key]
            return block

    return _LatexDecodingButAddresses()


# A BibLaTeX date of a year, or a year and month, only: no day to publish.
_PARTIAL_DATE = re.compile(r"\d{4}(?:-\d{1,2})?")


class _BibtexEntry:
    """One entry's fields mapped to briefgen's, each with the position it is written at."""

    def __init__(self, path: str, lines: list[str], index: int, entry: Any) -> None:
        self.path, self.lines, self.index = path, lines, index
        line = _written_at(lines, (entry.start_line or 0) + 1, entry.key)
        where = (line, _column(lines, line, "@"))
        self.fields: dict[str, Any] = {f.key.lower(): f for f in entry.fields}
        self.mapped: dict[str, Any] = {"id": entry.key}
        self.values: dict[KeyPath, Position] = {
            (): (1, 1), (index,): where, (index, "id"): (line, _column(lines, line, entry.key))}
        self.keys: dict[KeyPath, Position] = {}
        self.problems: list[Diagnostic] = []

    def at(self, field_name: str) -> Position:
        field = self.fields[field_name]
        line = (field.start_line or 0) + 1
        return line, _column(self.lines, line, field.key)

    def put(self, name: str, field_name: str, value: Any) -> None:
        self.mapped[name] = value
        self.values[(self.index, name)] = self.keys[(self.index, name)] = self.at(field_name)

    def source(self) -> tuple[Source | None, list[Diagnostic]]:
        fields = self.fields
        for name, field_name in (("title", "title"), ("url", "url"), ("archive_url", "archive_url"),
                                 ("accessed", "urldate"), ("published", "date")):
            if field_name in fields:
                value = _plain(fields[field_name].value)
                if field_name == "date" and isinstance(value, str) and _PARTIAL_DATE.fullmatch(value):
                    self.problems.append(warning(self.path, *self.at("date"),
                                                 f"`date` {value} gives no full date; it is left out"))
                    continue
                self.put(name, field_name, value)
        publisher = next((f for f in _PUBLISHER_FIELDS if f in fields and fields[f].value), None)
        if publisher is not None:
            self.put("publisher", publisher, _plain(fields[publisher].value))
        if "author" in fields:
            authors = fields["author"].value
            self.put("authors", "author",
                     [_plain(a) for a in authors] if isinstance(authors, list) else authors)
        if "date" not in fields and "year" in fields:
            published = self.year_month_day()
            if published is not None:
                self.put("published", "year", published)
        located = Located({}, self.values, self.keys)
        source, found = source_from_mapping(self.path, self.mapped, located, (self.index,))
        return source, self.problems + found

    def year_month_day(self) -> dt.date | None:
        parts = []
        for name in ("year", "month", "day"):
            if name not in self.fields:
                self.problems.append(warning(self.path, *self.at("year"),
                                             f"`year` without `{name}` gives no full date; it is left out"))
                return None
            parts.append(str(self.fields[name].value).strip())
        try:
            return dt.date(*(int(p) for p in parts))
        except ValueError:
            self.problems.append(warning(self.path, *self.at("year"),
                                         f"year, month and day {'-'.join(parts)} are not a date"))
            return None


def _plain(value: Any) -> Any:
    """BibTeX text without the braces that protect case."""
    return " ".join(value.replace("{", "").replace("}", "").split()) if isinstance(value, str) else value


def _written_at(lines: list[str], line: int, needle: str) -> int:
    """The first line from `line` on that holds needle: a block's start may count blank lines before it."""
    for number in range(max(line, 1), len(lines) + 1):
        if needle.lower() in lines[number - 1].lower():
            return number
    return line


def _column(lines: list[str], line: int, needle: str) -> int:
    if not 1 <= line <= len(lines):
        return 1
    found = lines[line - 1].lower().find(needle.lower())
    return found + 1 if found >= 0 else 1
