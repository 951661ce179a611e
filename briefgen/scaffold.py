"""`briefgen new`, `briefgen init` and `briefgen theme eject`: files written from templates
or copied from the package, never over existing ones."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zoneinfo
from pathlib import Path

import yaml

from briefgen.config import CONFIG_NAME, Config
from briefgen.content.slugs import make_slug
from briefgen.controls import describe, first_forbidden
from briefgen.diagnostics import UsageError
from briefgen.render.themes import builtin_themes_dir


def _check_title(title: str) -> None:
    if (bad := first_forbidden(title)) is not None or "\n" in title or "\r" in title:
        char = f"the control character {describe(bad.group())}" if bad else "a line break"
        raise UsageError(f"the title {title!r} contains {char}; a title is one line of text")


def new_briefing(config: Config, title: str, topics: list[str], now: dt.datetime | None = None) -> Path:
    """Write content/briefings/YYYY/slug.md with front matter filled in; returns its path."""
    _check_title(title)
    slug = make_slug(title)
    if not slug:
        raise UsageError(f"the title {title!r} gives no slug; use letters or digits")
    for topic in topics:
        _check_title(topic)
        if not make_slug(topic):  # it names the topic's page, as check would say
            raise UsageError(f"--topic {topic!r} has no letters or digits")
    zone = zoneinfo.ZoneInfo(config.site.timezone)
    today = (now or dt.datetime.now(zone)).astimezone(zone)
    path = config.content_dir / "briefings" / f"{today:%Y}" / f"{slug}.md"
    meta = {
        "title": title,
        "date": today.replace(microsecond=0).isoformat(),
        "topics": topics,
        "summary": "",
        "sources": [],
        "draft": True,
    }
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None)
    body = ("Write the briefing here. Cite each claim with the id of a source from\n"
            "content/sources/, like this: `[@source-id]` (without the backticks).\n")
    _write_new(path, f"---\n{front}---\n{body}")
    return path


def _write_new(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise UsageError(f"{path} already exists; briefgen never overwrites a content file") from None


_CONFIG = """\
[site]
title = {title}
base_url = "https://example.org/"
language = "en"
timezone = "UTC"
description = "Curated briefings with their sources"
theme = "default"

[build]
output = "output"
per_page = 20
"""

_SOURCES = """\
- id: example-source
  title: "An article this briefing cites"
  publisher: Example News
  url: https://example.org/news/article
  published: {date}
"""

_BRIEFING = """\
---
title: "Welcome to your briefing site"
date: {date}
topics: [Getting started]
summary: What a briefing looks like, with a citation and its source.
sources:
  - example-source
---
Each claim in a briefing cites the article it rests on [@example-source].
The number links to the Sources list at the end of the page.
"""

_ABOUT = """\
---
title: About
---
This site publishes short briefings; every claim cites its source.
"""


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are all valid TOML escapes."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def init_site(target: Path, title: str = "My Briefings", today: dt.date | None = None) -> list[Path]:
    """Create a working site in target (new or empty); returns the files written."""
    _check_title(title)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file; choose a new folder")
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} exists and is not empty; choose a new folder")
    # The site's time zone is UTC (as the settings written below say): a local date ahead of
    # it would make the sample briefing one of the future, left out of the first build.
    day = today or dt.datetime.now(dt.UTC).date()
    files = {
        CONFIG_NAME: _CONFIG.format(title=_toml_string(title)),
        "content/sources/sources.yaml": _SOURCES.format(date=day.isoformat()),
        f"content/briefings/{day:%Y}/welcome.md": _BRIEFING.format(date=day.isoformat()),
        "content/pages/about.md": _ABOUT,
        ".gitignore": "output/\n.briefgen-cache/\n",
    }
    written = []
    for relative, text in files.items():
        path = target / relative
        _write_new(path, text)
        written.append(path)
    return written


def eject_theme(config: Config, name: str = "default") -> Path:
    """Copy a built-in theme into the site's themes/, where it takes the built-in one's place."""
    target = config.themes_dir / name
    if target.exists():
        raise UsageError(f"{target} already exists; remove it first to eject a fresh copy")
    shutil.copytree(builtin_themes_dir() / name, target)
    return target
