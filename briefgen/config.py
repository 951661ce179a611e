"""Site configuration: `briefgen.toml` read into frozen settings, every problem collected."""

from __future__ import annotations

import re
import stat
import tomllib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from briefgen.controls import describe, first_forbidden
from briefgen.diagnostics import BuildFailed, Diagnostic, error
from briefgen.suggest import closest
from briefgen.tomlkeys import locate_key, toml_error
from briefgen.weburl import ascii_url, web_url_problem

CONFIG_NAME = "briefgen.toml"


@dataclass(frozen=True)
class SiteSettings:
    """The `[site]` table of briefgen.toml."""

    title: str
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    timezone: str = "UTC"
    description: str = ""
    theme: str = "default"
    cname: str = ""
    image: str = ""  # og:image of pages without their own: an absolute URL or a path on the site
    extra_css: tuple[str, ...] = ()  # stylesheets from static/, linked after the theme's
    extra_head: str = ""  # HTML added at the end of every page's <head>
    search: bool = True  # the search page, its index and the search box


@dataclass(frozen=True)
class BuildSettings:
    """The `[build]` table of briefgen.toml."""

    output: str = "output"
    per_page: int = 20
    strict_quotes: bool = False  # a quotation not found in its source's archive is an error
    relative_urls: bool = False  # every internal link relative, so the output opens from disk


@dataclass(frozen=True)
class Config:
    """Everything `briefgen.toml` says, plus where the site lives."""

    root: Path
    site: SiteSettings
    build: BuildSettings
    config_file: Path | None = None  # `--config FILE`; root/briefgen.toml otherwise

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def static_dir(self) -> Path:
        return self.root / "static"

    @property
    def themes_dir(self) -> Path:
        return self.root / "themes"

    @property
    def cache_dir(self) -> Path:
        return self.root / ".briefgen-cache"

    @property
    def output_dir(self) -> Path:
        return (self.root / self.build.output).resolve()

    @property
    def config_path(self) -> Path:
        return self.config_file or self.root / CONFIG_NAME

    def with_base_url(self, base_url: str) -> Config:
        return replace(self, site=replace(self.site, base_url=_as_base_url(base_url)))

    def with_output(self, output: Path) -> Config:
        return replace(self, build=replace(self.build, output=str(output.resolve())))


# Each key: (type check, human type name, extra validation returning a message or None).
Validator = Callable[[Any], str | None]


def _absolute_http_url(value: str) -> str | None:
    problem = web_url_problem(value)
    return f"{problem}, not {value!r}" if problem else None


def _known_timezone(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown timezone {value!r} (use an IANA name such as 'UTC' or 'Europe/Berlin')"
    return None


# A language tag as BCP 47 writes it: a language of two or three letters, then subtags of
# script, region and variants ("en", "pt-BR", "zh-Hant-TW", "sr_Latn", "zh-min-nan").
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def language_tag_problem(value: str) -> str | None:
    """Why value is not a language tag, or None: the site's language, and a briefing's."""
    if not _LANGUAGE_TAG.fullmatch(value):
        return f"must be a language tag such as 'en', 'de' or 'pt-BR', not {value!r}"
    return None


def _positive(value: int) -> str | None:
    return None if value >= 1 else f"must be at least 1, not {value}"


def _cname(value: str) -> str | None:
    if value and not re.fullmatch(r"[A-Za-z0-9.-]+", value):
        return f"must be a bare host name such as 'news.example.org', not {value!r}"
    return None


def _strings(value: list[Any]) -> str | None:
    if not all(isinstance(item, str) and item for item in value):
        return "must be a list of file names (strings)"
    return None


def _theme_name(value: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        return f"must be a theme folder name, not {value!r}"
    return None


_SCHEMA: dict[str, dict[str, tuple[type, Validator | None]]] = {
    "site": {
        "title": (str, None),
        "base_url": (str, _absolute_http_url),
        "language": (str, language_tag_problem),
        "timezone": (str, _known_timezone),
        "description": (str, None),
        "theme": (str, _theme_name),
        "cname": (str, _cname),
        "image": (str, None),
        "extra_css": (list, _strings),
        "extra_head": (str, None),
        "search": (bool, None),
    },
    "build": {
        "output": (str, None),
        "per_page": (int, _positive),
        "strict_quotes": (bool, None),
        "relative_urls": (bool, None),
    },
}

_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list"}


def load_config(root: Path, config_file: Path | None = None) -> Config:
    """Read `root/briefgen.toml` (or config_file); raise BuildFailed with every problem in it."""
    root = root.resolve()
    path = root / CONFIG_NAME
    shown = CONFIG_NAME
    if config_file is not None:
        path = config_file.resolve()
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        # Checked first: reading a FIFO or a device would wait for ever.
        if path.exists() and not stat.S_ISREG(path.stat().st_mode):
            raise BuildFailed([error(shown, 1, 1, f"{CONFIG_NAME} is not a regular file")])
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        if config_file is not None:
            raise BuildFailed([error(shown, 1, 1, f"no such configuration file: {path}")]) from None
        raise BuildFailed(
            [error(shown, 1, 1, f"no {CONFIG_NAME} in {root} (run `briefgen init DIR` to start a site)")]
        ) from None
    except OSError as exc:
        raise BuildFailed([error(shown, 1, 1, f"cannot read this file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise BuildFailed([error(shown, 1, exc.start + 1, "not valid UTF-8")]) from None
    config = parse_config(root, text, shown)
    return replace(config, config_file=path) if config_file is not None else config


def parse_config(root: Path, text: str, shown: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, column, message = toml_error(exc)
        raise BuildFailed([error(shown, line, column, f"invalid TOML: {message}")]) from None

    problems: list[Diagnostic] = []
    values: dict[str, dict[str, Any]] = {section: {} for section in _SCHEMA}
    for section, table in data.items():
        if section not in _SCHEMA:
            line, column = locate_key(text, None, section)
            problems.append(error(shown, line, column, _unknown(f"[{section}]", section, _SCHEMA)))
            continue
        if not isinstance(table, dict):
            line, column = locate_key(text, None, section)
            problems.append(error(shown, line, column, f"'{section}' must be a table"))
            continue
        keys = _SCHEMA[section]
        for key, value in table.items():
            line, column = locate_key(text, section, key)
            if key not in keys:
                problems.append(error(shown, line, column, _unknown(f"{section}.{key}", key, keys)))
                continue
            expected, validate = keys[key]
            # bool is an int subclass, so check it explicitly.
            if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
                problems.append(
                    error(shown, line, column,
                          f"{section}.{key} must be {_TYPE_NAMES[expected]}, not {type(value).__name__}")
                )
                continue
            bad = first_forbidden(value) if isinstance(value, str) else None
            problem = f"contains the control character {describe(bad.group())}" if bad else None
            problem = problem or (validate(value) if validate else None)
            if problem:
                problems.append(error(shown, line, column, f"{section}.{key} {problem}"))
                continue
            values[section][key] = tuple(value) if isinstance(value, list) else value

    if "title" not in data.get("site", {}):
        problems.append(error(shown, 1, 1, "site.title is required (add `title = \"...\"` under [site])"))
    if problems:
        raise BuildFailed(problems)

    site = SiteSettings(**values["site"])
    site = replace(site, base_url=_as_base_url(site.base_url))
    return Config(root=root, site=site, build=BuildSettings(**values["build"]))


def _as_base_url(url: str) -> str:
    """The base URL as every page's address starts: ASCII, as sitemaps and feeds require, and
    ending in a slash."""
    url = ascii_url(url)
    return url if url.endswith("/") else url + "/"


def _unknown(shown_key: str, key: str, known: dict[str, Any]) -> str:
    message = f"unknown key {shown_key}"
    close = closest(key, known)
    if close:
        message += f" (did you mean '{close}'?)"
    return message
