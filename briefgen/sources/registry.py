"""The source registry as files: what is there already, and appending one entry as text.

Entries are appended as text, never by re-dumping the YAML, so the file keeps its
comments, order and formatting byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import yaml

from briefgen.content.slugs import make_slug


class RegistryError(Exception):
    """A registry file that cannot be read or extended safely."""


@dataclass(frozen=True)
class Entry:
    id: str
    url: str | None
    publisher: str | None
    path: Path


_YAML = (".yaml", ".yml")
_IMPORTED = (".bib", ".json")  # reference managers' exports (content/registries.py)


def registry_files(sources_dir: Path) -> list[Path]:
    """Every registry file: YAML, and the BibTeX and CSL-JSON files the build reads beside it."""
    if not sources_dir.is_dir():
        return []
    return sorted(p for p in sources_dir.rglob("*") if p.suffix in (*_YAML, *_IMPORTED) and p.is_file())


def read_entries(sources_dir: Path) -> list[Entry]:
    """The sources of every registry file: the ids taken and the URLs registered already."""
    entries = []
    for path in registry_files(sources_dir):
        if path.suffix in _IMPORTED:
            entries += _imported_entries(path)
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise RegistryError(f"{path}: cannot read this registry file ({_first_line(exc)}); "
                                f"fix it (`briefgen check` shows where) and try again") from exc
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                url, publisher = item.get("url"), item.get("publisher")
                entries.append(Entry(item["id"], url if isinstance(url, str) else None,
                                     publisher if isinstance(publisher, str) else None, path))
    return entries


def _imported_entries(path: Path) -> list[Entry]:
    """A BibTeX or CSL-JSON file's sources, read as the build reads them. An entry the build
    rejects is left out: `briefgen check` reports it, and nothing is ever appended to these files."""
    from briefgen.content.registries import parse_any_registry

    try:
        sources, _problems = parse_any_registry(str(path), path.read_bytes())
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read this registry file ({exc.strerror})") from exc
    return [Entry(source.id, source.url, source.publisher, path) for source in sources]


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*$", re.DOTALL | re.MULTILINE)
_INLINE_ID = re.compile(r"^[ \t]*-?[ \t]*id:[ \t]*[\"']?([a-z0-9][a-z0-9._-]*)", re.MULTILINE)


def inline_ids(briefings_dir: Path) -> set[str]:
    """Ids of sources declared inline in briefings' front matter, which share the registry's ids.

    Read with a pattern, not a YAML parser: a briefing the build would reject is
    the build's to report, and this only needs the names that are taken.
    """
    found: set[str] = set()
    if not briefings_dir.is_dir():
        return found
    for path in briefings_dir.rglob("*.md"):
        try:
            head = _FRONT_MATTER.match(path.read_text(encoding="utf-8-sig", errors="replace"))
        except OSError:
            continue
        if head:
            found.update(_INLINE_ID.findall(head.group(1)))
    return found


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_TRACKING = ("utm_", "fbclid", "gclid", "ocid")


def _is_tracking(name: str) -> bool:
    return name.lower().startswith(_TRACKING)


def public_url(url: str) -> str:
    """A fetched address as a registry keeps it: without a user name and password, a fragment
    or tracking parameters (the address a reader happened to arrive by), the rest as it was."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 literal: reported as the URL it is
        return url
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(pair for pair in parts.query.split("&")
                     if pair and not _is_tracking(unquote_plus(pair.partition("=")[0])))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def same_url_key(url: str) -> str:
    """A URL reduced to what identifies the article: no scheme, fragment, tracking or trailing slash."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
    except ValueError:  # a malformed IPv6 literal: `briefgen check` reports the entry; it is its own key
        return url.strip()
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k)]
    return urlunsplit(("", host, parts.path.rstrip("/") or "/", urlencode(query), ""))


def find_url(entries: list[Entry], url: str) -> Entry | None:
    key = same_url_key(url)
    return next((e for e in entries if e.url and same_url_key(e.url) == key), None)


def target_file(sources_dir: Path, publisher: str, entries: list[Entry]) -> Path:
    """The file that already holds most of this publisher's sources, else `<publisher-slug>.yaml`."""
    wanted = publisher.casefold()
    counts: dict[Path, int] = {}
    for entry in entries:
        if entry.path.suffix in _YAML and entry.publisher and entry.publisher.casefold() == wanted:
            counts[entry.path] = counts.get(entry.path, 0) + 1
    if counts:
        return max(sorted(counts), key=lambda p: counts[p])
    return sources_dir / f"{make_slug(publisher) or 'sources'}.yaml"


def scalar(value: str) -> str:
    """A YAML scalar: plain when that reads back unchanged, else double-quoted."""
    plain = value.strip() == value and value != "" and "\n" not in value
    if plain:
        try:
            plain = yaml.safe_load(value) == value and not value.startswith(tuple("'\"[{&*!"))
        except yaml.YAMLError:
            plain = False
    return value if plain else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class NewEntry:
    id: str
    title: str
    publisher: str
    url: str
    published: dt.date | None
    authors: tuple[str, ...]
    accessed: dt.date

    def text(self) -> str:
        lines = [f"- id: {self.id}", f"  title: {json.dumps(self.title, ensure_ascii=False)}",
                 f"  publisher: {scalar(self.publisher)}", f"  url: {scalar(self.url)}"]
        if self.published:
            lines.append(f"  published: {self.published.isoformat()}")
        if self.authors:
            lines.append(f"  authors: [{', '.join(json.dumps(a, ensure_ascii=False) for a in self.authors)}]")
        lines.append(f"  accessed: {self.accessed.isoformat()}")
        return "\n".join(lines) + "\n"


def appended(path: Path, entry: NewEntry) -> bytes:
    """The registry file's new bytes: its old text untouched, then the entry."""
    # Decoded without newline translation, so that a file of Windows line endings keeps them,
    # and the entry is written with the file's own.
    old = path.read_bytes().decode("utf-8") if path.is_file() else ""
    newline = "\r\n" if "\r\n" in old else "\n"
    if old and not old.endswith("\n"):
        old += newline
    separator = newline if old.strip() else ""
    new = old + separator + entry.text().replace("\n", newline)
    try:
        data = yaml.safe_load(new)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: appending would not give valid YAML ({_first_line(exc)})") from exc
    last = data[-1] if isinstance(data, list) and data else None
    if not isinstance(last, dict) or last.get("id") != entry.id:
        raise RegistryError(f"{path}: not a block list of sources (`- id: ...`); cannot append to it")
    return new.encode("utf-8")
