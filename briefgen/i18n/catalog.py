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
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import babel
from babel import Locale, UnknownLocaleError
from babel.core import get_global, parse_locale
from babel.plural import PluralRule, RuleError

from briefgen.diagnostics import Diagnostic, error
from briefgen.tomlkeys import locate_key, toml_error

CATALOG_FOLDER = "i18n"
# CLDR pattern letters of the time of day: hours, minutes, seconds, fractions, day periods.
_WALL_CLOCK_FIELDS = frozenset("hHKkmsSaAbB")
# Each kind of date or time a catalog formats, and Babel's pattern for it unless `[formats]`
# names another.
_DEFAULT_PATTERNS = {"date": "long", "day": "full", "time": "short"}
_DAY_KINDS = ("date", "day")
# What a build cache keeps of a catalog between builds (Catalog.kept): the texts of these kinds
# by a whole number (a day's ordinal, a month, a time of day in seconds), and the few facts of
# Babel's data for the language that pages need. A build that formats nothing new then loads
# neither that data (15-25 ms in a fresh process) nor Babel's date functions (10 ms).
_KEPT_KINDS = (*_DAY_KINDS, "month", "time")


@dataclass(frozen=True)
class Catalog:
    """The site language's strings, plural forms and date formats, and the texts formatted from them."""

    language: str
    strings: Mapping[str, str] = field(default_factory=dict)
    plurals: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    # Formatted dates and times by kind, then date (see _format): a site shows the same few
    # hundred days thousands of times, and Babel formatting is the costly part.
    _formatted: dict[str, dict[object, str]] = field(default_factory=lambda: defaultdict(dict), compare=False,
                                                     repr=False)
    # Plural forms by (n, noun): every list item says how many sources it has.
    _counted: dict[tuple[int, str], str] = field(default_factory=dict, compare=False, repr=False)
    _wall_clock: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    # The language's plural rule and direction of writing, as Babel's data or the cache gives them.
    _facts: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _months_of_years: dict[tuple[int, int], str] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def locale(self) -> Locale:
        return _locale(self.language)

    @property
    def open_graph_locale(self) -> str:
        """The language as Open Graph's `og:locale` wants it, language_TERRITORY: the territory
        its speakers most likely live in, as CLDR says ("en" is en_US, "zh-Hant" zh_TW). Kept
        between builds with the language's other facts: Babel's table of likely territories
        took an edit in place 4 ms to load, for one tag on each page it renders."""
        found = self._facts.get("open_graph_locale")
        if found is None:
            found = self._facts["open_graph_locale"] = self._likely_locale()
        return str(found)

    def _likely_locale(self) -> str:
        locale = self.locale
        if locale.territory:
            return f"{locale.language}_{locale.territory}"
        subtags = get_global("likely_subtags")
        likely = subtags.get(str(locale)) or subtags.get(locale.language)
        territory = parse_locale(likely)[1] if likely else None
        return f"{locale.language}_{territory}" if territory else locale.language

    @property
    def direction(self) -> str:
        return "rtl" if self._character_order() == "right-to-left" else "ltr"

    def _character_order(self) -> str:
        found = self._facts.get("character_order")
        if found is None:
            found = self._facts["character_order"] = str(self.locale.character_order)
        return str(found)

    def _plural_rule(self) -> PluralRule:
        found = self._facts.get("plural")
        if found is None:
            found = self._facts["plural"] = self.locale.plural_form
        assert isinstance(found, PluralRule)
        return found

    def text(self, message: str, **values: Any) -> str:
        """The translation of an English interface string, with `{name}` filled in."""
        translated = self.strings.get(message, message)
        return translated.format(**values) if values else translated

    def count(self, n: int, noun: str) -> str:
        """"1 briefing", "3 briefings", "5 брифингов": the noun's form for n in this language."""
        found = self._counted.get((n, noun))
        if found is None:
            forms = self.plurals.get(noun, {})
            form = forms.get(self._plural_rule()(n)) or forms.get("other")
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

    def date_and_time(self, date: str, time: str) -> str:
        """A date and a time of day, as shown, joined as the language joins them ("5 August 2016,
        14:30", "2016年8月5日 14:30", "5 أغسطس 2016، 14:30"): CLDR's pattern for the two."""
        return self._date_time_glue().replace("{1}", date).replace("{0}", time)

    def _date_time_glue(self) -> str:
        found = self._facts.get("date_time")
        if found is None:
            found = self._facts["date_time"] = str(self.locale.datetime_formats["long"])
        return str(found)

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
        formatted = self._formatted[kind]
        found = formatted.get(key)
        if found is None:
            from babel.dates import format_date, format_time  # see _KEPT_KINDS

            if isinstance(value, dt.time | dt.datetime) and kind == "time":
                found = format_time(value, pattern, locale=self.locale)
            else:
                assert isinstance(value, dt.date)
                found = format_date(value, pattern, locale=self.locale)
            formatted[key] = found
        return found

    def kept(self) -> tuple[str, dict[str, tuple[array[int], str]], dict[str, Any]] | None:
        """What a build cache keeps of this catalog between builds (see _KEPT_KINDS): what it
        was formatted with, by kind the keys and texts formatted so far, and the language's
        facts. None if a text cannot be kept so (it holds the separator)."""
        kept: dict[str, tuple[array[int], str]] = {}
        for kind in _KEPT_KINDS:
            pairs = [(number, text) for key, text in self._formatted[kind].items()
                     if (number := _kept_key(key)) is not None]
            if any("\0" in text for _, text in pairs):
                return None
            kept[kind] = array("i", [number for number, _ in pairs]), "\0".join(text for _, text in pairs)
        facts = {"plural": dict(self._plural_rule().rules), "character_order": self._character_order(),
                 "wall_clock": self._wall_clock_only(self._pattern("time")),
                 "date_time": self._date_time_glue(), "open_graph_locale": self.open_graph_locale}
        return self.made_with(), kept, facts

    def keep(self, kept: object) -> None:
        """Take over what an earlier build's catalog kept (see kept), if it was formatted as
        this catalog formats; anything else is left alone."""
        if not (isinstance(kept, tuple) and len(kept) == 3 and kept[0] == self.made_with()
                and isinstance(kept[1], dict) and isinstance(kept[2], dict)):
            return
        texts, facts = kept[1], kept[2]
        plural, order, wall_clock = facts.get("plural"), facts.get("character_order"), facts.get("wall_clock")
        glue, open_graph = facts.get("date_time"), facts.get("open_graph_locale")
        if not (isinstance(plural, dict) and all(isinstance(v, str) for v in [*plural, *plural.values()])
                and isinstance(order, str) and isinstance(wall_clock, bool) and isinstance(glue, str)
                and isinstance(open_graph, str)):
            return
        found: dict[str, dict[object, str]] = {}
        for kind in _KEPT_KINDS:
            pair = texts.get(kind)
            if not (isinstance(pair, tuple) and len(pair) == 2):
                return
            numbers, joined = pair
            if not (isinstance(numbers, array) and numbers.typecode == "i" and isinstance(joined, str)):
                return
            split = joined.split("\0") if numbers else []
            if len(split) != len(numbers):
                return
            if kind == "time":
                if any(not 0 <= number < 86400 for number in numbers):
                    return
                found[kind] = dict(zip([dt.time(n // 3600, n // 60 % 60, n % 60) for n in numbers], split,
                                       strict=True))
            else:
                # Made in C, by kind: at 50,000 briefings, 50,000 texts of 25,000 days.
                found[kind] = dict(zip(numbers, split, strict=True))
        try:
            rule = PluralRule(plural)
        except (RuleError, ValueError, TypeError):
            return
        for kind, texts_of_kind in found.items():
            self._formatted[kind].update(texts_of_kind)
        self._facts.update(plural=rule, character_order=order, date_time=glue, open_graph_locale=open_graph)
        self._wall_clock[self._pattern("time")] = wall_clock

    def format_ahead(self, days: Iterable[int], times: Iterable[dt.datetime]) -> bool:
        """Format now what the pages of these days (ordinals) and times show, where not
        formatted yet: the date and day heading of each day, the time of day of each time
        where the time pattern shows only that (else a time's text is not kept), and the
        names of the months; whether any was."""
        dates, headings = self._formatted["date"], self._formatted["day"]
        fresh = [day for day in days if day not in dates or day not in headings]
        for day in fresh:
            self.date(dt.date.fromordinal(day))
            self.day_heading(dt.date.fromordinal(day))
        months = [month for month in range(1, 13) if month not in self._formatted["month"]]
        for month in months:
            self.month(month)
        fresh_times = 0
        if self._wall_clock_only(self._pattern("time")):
            times_of_day = self._formatted["time"]
            for value in times:
                if value.time() not in times_of_day:
                    self.time(value)
                    fresh_times += 1
        return bool(fresh or months or fresh_times)

    def made_with(self) -> str:
        """What dates and times are formatted with (Babel's version and data, the language, the
        patterns): two catalogs made with the same write every date and time alike."""
        return "\0".join([babel.__version__, self.language, *map(self._pattern, _DEFAULT_PATTERNS)])

    def _pattern(self, kind: str) -> str:
        return self.formats.get(kind, _DEFAULT_PATTERNS[kind])

    def _wall_clock_only(self, pattern: str) -> bool:
        """Whether a time pattern shows only the time of day: no zone, no date field."""
        found = self._wall_clock.get(pattern)
        if found is None:
            from babel.dates import tokenize_pattern  # see _KEPT_KINDS

            named = self.locale.time_formats.get(pattern)  # "short", "medium", "long", "full"
            fields = {value[0] for kind, value in tokenize_pattern(named.pattern if named else pattern)
                      if kind == "field"}
            found = self._wall_clock[pattern] = fields <= _WALL_CLOCK_FIELDS
        return found

    def month_of_year(self, year: int, month: int) -> str:
        """"March 2024", "2024年3月", "marzo de 2024": a month and its year in the language's own
        order and words (CLDR's yMMMM), as it reads inside a sentence."""
        found = self._months_of_years.get((year, month))
        if found is None:
            from babel.dates import format_skeleton  # see _KEPT_KINDS

            found = self._months_of_years[(year, month)] = str(
                format_skeleton("yMMMM", dt.date(year, month, 1), locale=self.locale))
        return found

    def month(self, month: int) -> str:
        names = self._formatted["month"]
        found = names.get(month)
        if found is None:
            from babel.dates import get_month_names  # see _KEPT_KINDS

            found = names[month] = str(
                get_month_names("wide", context="stand-alone", locale=self.locale)[month])
        return found


def _kept_key(key: object) -> int | None:
    """A formatted text's key as the cache keeps it (see _KEPT_KINDS), if it can be kept."""
    if isinstance(key, int):
        return key
    if isinstance(key, dt.time) and key.tzinfo is None and not key.microsecond:
        return key.hour * 3600 + key.minute * 60 + key.second
    return None


@functools.cache
def direction_of(language: str) -> str:
    """"rtl" for a language written right to left (CLDR's character order), else "ltr"."""
    return "rtl" if str(_locale(language).character_order) == "right-to-left" else "ltr"


def _locale(language: str) -> Locale:
    # A language CLDR does not know still builds, with English dates and plural rules.
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


# Chinese in traditional characters, by script or by where it is written: the catalog of `zh`
# alone, in simplified characters, is not theirs.
_TRADITIONAL_CHINESE = frozenset({"hant", "tw", "hk", "mo"})


def catalog_names(language: str) -> list[str]:
    """The catalogs a language reads, most general first, as compared names (lower case, "-"
    between subtags): "de-AT" reads "de" then "de-at"; "pt_BR" "pt" then "pt-br"; "zh-Hant-TW"
    "zh-hant" then "zh-hant-tw", never "zh"."""
    subtags = [part for part in re.split(r"[-_]", language.lower()) if part]
    if not subtags:
        return []
    names = ["-".join(subtags[:count]) for count in range(1, len(subtags) + 1)]
    if subtags[0] == "zh" and _TRADITIONAL_CHINESE & set(subtags[1:]):
        names.remove("zh")
    return names


def _catalog_files(folder: Path) -> dict[str, Path]:
    """A folder's catalogs by compared name: a file may be named "pt_BR.toml" or "pt-br.toml"."""
    found: dict[str, Path] = {}
    for path in sorted((folder / CATALOG_FOLDER).glob("*.toml")):
        found.setdefault(path.stem.lower().replace("_", "-"), path)
    return found


def load_catalog(language: str, folders: Iterable[Path], root: Path | None = None,
                 try_formats: bool = True) -> tuple[Catalog, list[Diagnostic]]:
    """Merge `i18n/<language>.toml` (and the base language's, for "de-AT") from folders,
    listed most specific first; problems name files relative to root when inside it. Names
    are compared without case and with "-" and "_" alike (see catalog_names).

    `try_formats`: each date format a catalog gives is tried on Babel, which is how a pattern
    Babel cannot use is found. Trying one loads Babel's date functions and data (25-30 ms in a
    fresh process, most of what an edit in place would spend on its catalog): a caller whose
    catalogs are the very files a full build tried (its inputs' digest unchanged) leaves it off."""
    names = catalog_names(language)
    strings: dict[str, str] = {}
    plurals: dict[str, dict[str, str]] = {}
    formats: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for folder in reversed(list(folders)):
        files = _catalog_files(folder) if (folder / CATALOG_FOLDER).is_dir() else {}
        for name in names:
            path = files.get(name)
            if path is None or not path.is_file():
                continue
            shown = path.relative_to(root).as_posix() if root and path.is_relative_to(root) else str(path)
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                line, column, message = toml_error(exc)
                problems.append(error(shown, line, column, f"invalid catalog: {message}"))
                continue
            found = _CatalogFile(shown, path.read_text(encoding="utf-8"), data)
            strings.update(found.strings())
            for noun, forms in found.plurals().items():
                plurals.setdefault(noun, {}).update(forms)
            formats.update(found.formats(try_formats))
            problems += found.problems
    return Catalog(language, strings, plurals, formats), problems


_PLACEHOLDER = re.compile(r"{(\w+)}")
_NAMED_FORMATS = ("short", "medium", "long", "full")


@dataclass
class _CatalogFile:
    """One catalog file's tables, checked: what they must hold, where it is written."""

    shown: str
    text: str
    data: dict[str, Any]
    problems: list[Diagnostic] = field(default_factory=list)

    def _at(self, key: str, table: str | None = None) -> tuple[int, int]:
        return locate_key(self.text, table, key)

    def _fail(self, at: tuple[int, int], message: str) -> None:
        self.problems.append(error(self.shown, at[0], at[1], message))

    def _table(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if isinstance(value, dict):
            return value
        self._fail(self._at(name), f"`{name}` must be a table (`[{name}]`), not {type(value).__name__}")
        return {}

    def strings(self) -> dict[str, str]:
        found = {}
        for english, translated in self._table("strings").items():
            if not isinstance(translated, str):
                self._fail(self._at(english, "strings"), f"the translation of {english!r} must be text")
                continue
            wanted, given = set(_PLACEHOLDER.findall(english)), set(_PLACEHOLDER.findall(translated))
            if wanted != given:
                names = ", ".join(f"{{{name}}}" for name in sorted(wanted)) or "none"
                self._fail(self._at(english, "strings"),
                           f"the translation of {english!r} must use the placeholders of the English "
                           f"text: {names}")
                continue
            found[english] = translated
        return found

    def plurals(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for noun, forms in self._table("plurals").items():
            if not isinstance(forms, dict):
                self._fail(self._at(noun, "plurals"),
                           f"`{noun}` must be a table of plural forms (`{noun} = {{ one = \"{{n}} ...\", "
                           f"other = \"{{n}} ...\" }}`)")
                continue
            kept = {}
            for category, form in forms.items():
                if not isinstance(form, str) or not set(_PLACEHOLDER.findall(form)) <= {"n"}:
                    self._fail(self._at(noun, "plurals"),
                               f"the form {category!r} of `{noun}` must be text naming at most {{n}}")
                    continue
                kept[str(category)] = form
            found[str(noun)] = kept
        return found

    def formats(self, try_them: bool = True) -> dict[str, str]:
        found = {}
        for kind, pattern in self._table("formats").items():
            if not isinstance(pattern, str) or (try_them and not _formats(kind, pattern)):
                self._fail(self._at(kind, "formats"),
                           f"`{kind}` must be a date or time pattern of CLDR (such as \"d MMMM y\"), "
                           f"or short, medium, long or full, not {pattern!r}")
                continue
            found[str(kind)] = pattern
        return found


def _formats(kind: str, pattern: str) -> bool:
    """Whether Babel formats a date, or a time (kind "time"), with this pattern."""
    if pattern in _NAMED_FORMATS:
        return True
    from babel.dates import format_date, format_time  # see _KEPT_KINDS

    try:
        if kind == "time":
            format_time(dt.datetime(2016, 8, 5, 14, 30, tzinfo=dt.UTC), pattern, locale="en")
        else:
            format_date(dt.date(2016, 8, 5), pattern, locale="en")
    except Exception:  # any refusal of Babel's is a pattern it cannot use
        return False
    return True
