"""A language's catalog: interface strings, plural forms and date formats.

A catalog is a TOML file, `templates/i18n/<language>.toml`, in a theme or the
site: `[strings]` maps the English text to its translation, `[plurals]` maps a
noun to its forms by CLDR plural category, `[formats]` holds Babel date
patterns. Catalogs along the template search path are merged, the most
specific winning key by key, so a theme or a site can add or change one string.
Dates and plural rules come from Babel's CLDR data.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import babel
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_month_names, tokenize_pattern

from briefgen.diagnostics import Diagnostic, error

CATALOG_FOLDER = "i18n"
# CLDR pattern letters of the time of day: hours, minutes, seconds, fractions, day periods.
_WALL_CLOCK_FIELDS = frozenset("hHKkmsSaAbB")
# Each kind of date or time a catalog formats, and Babel's pattern for it unless `[formats]`
# names another. The first two are formatted by the day alone, and a build cache keeps them
# (Catalog.kept_days).
_DEFAULT_PATTERNS = {"date": "long", "day": "full", "time": "short"}
_DAY_KINDS = ("date", "day")


@dataclass(frozen=True)
class Catalog:
    language: str
    strings: Mapping[str, str] = field(default_factory=dict)
    plurals: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    # Formatted dates by (pattern, date): a site shows the same few hundred days
    # thousands of times, and Babel formatting is the costly part.
    _formatted: dict[tuple[str, object], str] = field(default_factory=dict, compare=False, repr=False)
    # Plural forms by (n, noun): every list item says how many sources it has.
    _counted: dict[tuple[int, str], str] = field(default_factory=dict, compare=False, repr=False)
    _wall_clock: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def locale(self) -> Locale:
        return _locale(self.language)

    @property
    def direction(self) -> str:
        return "rtl" if self.locale.character_order == "right-to-left" else "ltr"

    def text(self, message: str, **values: Any) -> str:
        """The translation of an English interface string, with `{name}` filled in."""
        translated = self.strings.get(message, message)
        return translated.format(**values) if values else translated

    def count(self, n: int, noun: str) -> str:
        """"1 briefing", "3 briefings", "5 брифингов": the noun's form for n in this language."""
        found = self._counted.get((n, noun))
        if found is None:
            forms = self.plurals.get(noun, {})
            form = forms.get(self.locale.plural_form(n)) or forms.get("other")
            if form is None:
                form = f"{{n}} {noun}" if n == 1 else f"{{n}} {noun}s"
            found = self._counted[(n, noun)] = form.format(n=n)
        return found

    def date(self, value: dt.date) -> str:
        return self._format("date", value)

    def day_heading(self, value: dt.date) -> str:
        return self._format("day", value)

    def time(self, value: dt.time | dt.datetime) -> str:
        return self._format("time", value)

    def _format(self, kind: str, value: dt.date | dt.time) -> str:
        pattern = self._pattern(kind)
        if kind != "time" and isinstance(value, dt.date):
            key: object = value.toordinal()  # a date, or a datetime's day
        elif isinstance(value, dt.datetime):
            # tzinfo objects need not be hashable alike. A time of day shown without its
            # zone is the same text on every day: one per minute of the day, not per briefing.
            key = value.time() if self._wall_clock_only(pattern) else (value.date(), value.time())
        else:
            key = value
        found = self._formatted.get((kind, key))
        if found is None:
            if isinstance(value, dt.time | dt.datetime) and kind == "time":
                found = format_time(value, pattern, locale=self.locale)
            else:
                assert isinstance(value, dt.date)
                found = format_date(value, pattern, locale=self.locale)
            self._formatted[(kind, key)] = found
        return found

    def kept_days(self) -> tuple[str, dict[str, tuple[array[int], str]]] | None:
        """The dates and day headings formatted so far, as the build cache keeps them between
        builds: what they were formatted with, and by kind the days (ordinals) and their texts.
        None if a text cannot be kept so (it holds the separator)."""
        kept: dict[str, tuple[array[int], str]] = {}
        for kind in _DAY_KINDS:
            days = [(key, text) for (of_kind, key), text in self._formatted.items()
                    if of_kind == kind and isinstance(key, int)]
            if any("\0" in text for _, text in days):
                return None
            kept[kind] = array("i", [key for key, _ in days]), "\0".join(text for _, text in days)
        return self._days_made_with(), kept

    def keep_days(self, kept: object) -> None:
        """Take over the dates and day headings an earlier build formatted (see kept_days), if
        they were formatted as this catalog formats them; anything else is left alone."""
        if not (isinstance(kept, tuple) and len(kept) == 2 and kept[0] == self._days_made_with()
                and isinstance(kept[1], dict)):
            return
        found: dict[tuple[str, object], str] = {}
        for kind in _DAY_KINDS:
            pair = kept[1].get(kind)
            if not (isinstance(pair, tuple) and len(pair) == 2):
                return
            days, texts = pair
            if not (isinstance(days, array) and days.typecode == "i" and isinstance(texts, str)):
                return
            split = texts.split("\0") if days else []
            if len(split) != len(days):
                return
            found.update(zip([(kind, day) for day in days], split, strict=True))
        self._formatted.update(found)

    def format_days(self, days: Iterable[int]) -> bool:
        """Format now the date and day heading of each of these days (ordinals) not formatted
        yet; whether any was."""
        formatted = self._formatted
        fresh = [day for day in days if ("date", day) not in formatted or ("day", day) not in formatted]
        for day in fresh:
            self.date(dt.date.fromordinal(day))
            self.day_heading(dt.date.fromordinal(day))
        return bool(fresh)

    def _days_made_with(self) -> str:
        return "\0".join([babel.__version__, self.language, *map(self._pattern, _DAY_KINDS)])

    def _pattern(self, kind: str) -> str:
        return self.formats.get(kind, _DEFAULT_PATTERNS[kind])

    def _wall_clock_only(self, pattern: str) -> bool:
        """Whether a time pattern shows only the time of day: no zone, no date field."""
        found = self._wall_clock.get(pattern)
        if found is None:
            named = self.locale.time_formats.get(pattern)  # "short", "medium", "long", "full"
            fields = {value[0] for kind, value in tokenize_pattern(named.pattern if named else pattern)
                      if kind == "field"}
            found = self._wall_clock[pattern] = fields <= _WALL_CLOCK_FIELDS
        return found

    def month(self, month: int) -> str:
        return str(get_month_names("wide", context="stand-alone", locale=self.locale)[month])


def _locale(language: str) -> Locale:
    # A language CLDR does not know still builds, with English dates and plural rules.
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def load_catalog(language: str, folders: Iterable[Path],
                 root: Path | None = None) -> tuple[Catalog, list[Diagnostic]]:
    """Merge `i18n/<language>.toml` (and the base language's, for "de-AT") from folders,
    listed most specific first; problems name files relative to root when inside it."""
    base = language.split("-")[0].split("_")[0]
    names = [f"{base}.toml"] + ([f"{language}.toml"] if language != base else [])
    strings: dict[str, str] = {}
    plurals: dict[str, dict[str, str]] = {}
    formats: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for folder in reversed(list(folders)):
        for name in names:
            path = folder / CATALOG_FOLDER / name
            if not path.is_file():
                continue
            shown = path.relative_to(root).as_posix() if root and path.is_relative_to(root) else str(path)
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
                line, column = (int(where.group(1)), int(where.group(2))) if where else (1, 1)
                message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
                problems.append(error(shown, line, column, f"invalid catalog: {message}"))
                continue
            strings.update({str(k): str(v) for k, v in data.get("strings", {}).items()})
            for noun, forms in data.get("plurals", {}).items():
                plurals.setdefault(str(noun), {}).update({str(k): str(v) for k, v in forms.items()})
            formats.update({str(k): str(v) for k, v in data.get("formats", {}).items()})
    return Catalog(language, strings, plurals, formats), problems
