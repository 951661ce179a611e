"""The URL layout of a built site, in one place.

Every function returns a site-relative path without a leading slash ("" is the
home page, folders end with "/"); `UrlScheme` turns those into links that carry
the base URL's path, absolute URLs, and output file names.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit


def home(page: int = 1) -> str:
    return "" if page == 1 else f"page/{page}/"


def briefing(day: date, slug: str) -> str:
    # Fields, not strftime: a third of the time, and the year as year() writes it.
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}/{slug}/"


def year(y: int) -> str:
    return f"{y:04d}/"


def month(y: int, m: int) -> str:
    return f"{y:04d}/{m:02d}/"


def day(y: int, m: int, d: int) -> str:
    return f"{y:04d}/{m:02d}/{d:02d}/"


def archive() -> str:
    return "archive/"


def topics() -> str:
    return "topics/"


def topic(slug: str, page: int = 1) -> str:
    return f"topics/{slug}/" if page == 1 else f"topics/{slug}/page/{page}/"


def topic_feed(slug: str) -> str:
    return f"topics/{slug}/feed.xml"


def sources() -> str:
    return "sources/"


def publisher(slug: str) -> str:
    return f"sources/{slug}/"


def page(slug: str) -> str:
    return f"{slug}/"


def feed() -> str:
    return "feed.xml"


def json_feed() -> str:
    return "feed.json"


def sitemap() -> str:
    return "sitemap.xml"


def sitemap_part(number: int) -> str:
    return f"sitemap-{number}.xml"


def robots() -> str:
    return "robots.txt"


def not_found() -> str:
    return "404.html"


_FOLDER_FILE = "index.html"


def output_file(rel: str) -> str:
    """The file a site-relative path is written to: folders get an index.html."""
    return rel + _FOLDER_FILE if rel == "" or rel.endswith("/") else rel


def paths_of_output_file(file: str) -> tuple[str, ...]:
    """The site-relative paths that `output_file` writes to this file, if any: a folder's (the
    file less its index.html), and the file's own path, when it is not a folder's."""
    own = () if file == "" or file.endswith("/") else (file,)
    if file.endswith(_FOLDER_FILE):
        folder = file[:-len(_FOLDER_FILE)]
        if folder == "" or folder.endswith("/"):
            return (folder, *own)
    return own


@dataclass(frozen=True)
class UrlScheme:
    """Turns site-relative paths into links under the configured base URL."""

    base_url: str

    @functools.cached_property
    def base_path(self) -> str:
        # Every link of every page starts with it: split once.
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    def href(self, rel: str) -> str:
        return self.base_path + rel

    def absolute(self, rel: str) -> str:
        return self.base_url + rel
