"""`briefgen source add`: read an article, find its metadata and text, register and archive it.

Everything is worked out first (input, text, metadata, id, the new registry
bytes); files are written only at the end, all or none, archive before registry
so that a registered id always has its archive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from briefgen.content.scripts import word_count
from briefgen.sources import ids, registry
from briefgen.sources.archive import ArchiveCopy, gzipped, write_all
from briefgen.sources.fetch import TIMEOUT, FetchError, decode_page, fetch
from briefgen.sources.metadata import PageMeta, page_metadata, parse_date
from briefgen.sources.text import Article, article_from_text
from briefgen.weburl import web_url_problem

# Fewer paragraphs than this under a "subscribe to continue" notice is a paywall stub.
PAYWALL_PARAGRAPHS = 4
# Less article text than this is no article (a teaser, an index page, an error page).
MIN_WORDS = 40

Ask = Callable[[str, str], str]  # (what, flag) -> answer; only given on a terminal


class CaptureError(Exception):
    """One line saying why nothing was written."""


@dataclass(frozen=True)
class Request:
    target: str  # URL, file path or "-"
    site: Path
    id: str | None = None
    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    published: str | None = None
    keep_html: bool = False
    timeout: float = TIMEOUT


@dataclass(frozen=True)
class Outcome:
    id: str
    registry: Path
    archive: Path | None  # None when the URL was registered already
    paragraphs: int
    language: str | None
    duplicate: bool = False


@dataclass(frozen=True)
class _Input:
    body: bytes
    captured_from: str
    is_html: bool
    url: str | None  # where it was fetched from, after redirects
    charset: str | None


def _read(request: Request, read_stdin: Callable[[], bytes]) -> _Input:
    target = request.target
    if target == "-":
        return _Input(read_stdin(), "stdin", False, None, None)
    if "://" in target:
        fetched = fetch(target, timeout=request.timeout)
        return _Input(fetched.body, "url", fetched.media_type != "text/plain", fetched.url, fetched.charset)
    path = Path(target)
    if not path.is_file():
        raise CaptureError(f"{target}: no such file (give a URL, a file or - for standard input)")
    body = path.read_bytes()
    head = body[:1024].lstrip().lower()
    is_html = (path.suffix.lower() in (".html", ".htm", ".xhtml")
               or head.startswith((b"<!doctype html", b"<html")))
    return _Input(body, "html-file" if is_html else "text-file", is_html, None, None)


def _article(source: _Input) -> tuple[Article, PageMeta]:
    text = decode_page(source.body, source.charset)
    if not source.is_html:
        article = article_from_text(text)
        return article, PageMeta(title=article.headline)
    from briefgen.sources.extract import article_from_html

    meta = page_metadata(text, source.url)
    article = article_from_html(text, meta.title, source.url)
    if meta.paywalled and not article.paywalled:
        article = Article(article.headline, article.paragraphs, paywalled=True)
    return article, meta


def _check_article(article: Article, shown: str) -> None:
    count = len(article.paragraphs)
    words = sum(map(word_count, article.paragraphs))
    if article.paywalled and count < PAYWALL_PARAGRAPHS:
        raise CaptureError(f"{shown}: only {count} paragraph{'s' if count != 1 else ''} before a "
                           f"subscription notice: this looks like a paywall stub, not the article")
    if count == 0 or words < MIN_WORDS:
        raise CaptureError(f"{shown}: no article text found ({count} paragraphs, {words} words)")


# Fields a registry entry needs: key, how to name it to a person, the flag that gives it.
_FIELDS = (("title", "title", "--title"), ("publisher", "publisher", "--publisher"),
           ("url", "URL", "--url"), ("published", "publication date", "--published"))


def _resolve(request: Request, meta: PageMeta, fetched_url: str | None, ask: Ask | None) -> dict[str, str]:
    found: dict[str, str | None] = {
        "title": request.title or meta.title,
        "publisher": request.publisher or meta.publisher,
        "url": request.url or meta.url or fetched_url,
        "published": request.published or (meta.published.isoformat() if meta.published else None),
    }
    missing = [field for field in _FIELDS if not found[field[0]]]
    if missing and ask is not None:
        for key, label, flag in missing:
            found[key] = ask(label, flag).strip() or None
        missing = [field for field in _FIELDS if not found[field[0]]]
    if missing:
        labels = [label for _, label, _ in missing]
        named = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        flags = " ".join(f"{flag} ..." for _, _, flag in missing)
        raise CaptureError(f"could not find the article's {named}; give {flags}")
    if not request.url and found["url"]:
        # The page's own address (trafilatura's, when the page names none, is the one fetched).
        found["url"] = registry.public_url(found["url"])
    url = found["url"] or ""
    problem = web_url_problem(url, allow_query=True)
    if problem:
        raise CaptureError(f"--url {problem}: {url!r}")
    published = found["published"] or ""
    if parse_date(published) is None or len(published) != 10:
        raise CaptureError(f"--published must be a date as YYYY-MM-DD, not {published!r}")
    return {key: value for key, value in found.items() if value}


def capture(request: Request, *, now: dt.datetime, ask: Ask | None = None,
            read_stdin: Callable[[], bytes] = lambda: b"") -> Outcome:
    sources_dir = request.site / "content" / "sources"
    archive_dir = request.site / "content" / "archive"
    if request.id is not None and not ids.is_valid(request.id):
        raise CaptureError(f"--id {request.id!r} must start with a lowercase letter or digit and use only "
                           f"a-z, 0-9, '.', '_' and '-'")
    try:
        entries = registry.read_entries(sources_dir)
        for url in (request.target if "://" in request.target else None, request.url):
            known = registry.find_url(entries, url) if url else None
            if known:  # before fetching: nothing to do, and no request to make
                return Outcome(known.id, known.path, None, 0, None, duplicate=True)
        source = _read(request, read_stdin)
    except (FetchError, registry.RegistryError) as exc:
        raise CaptureError(str(exc)) from exc
    shown = source.url or request.target if request.target != "-" else "standard input"
    article, meta = _article(source)
    _check_article(article, shown)
    fields = _resolve(request, meta, source.url, ask)
    known = registry.find_url(entries, fields["url"])
    if known:
        return Outcome(known.id, known.path, None, 0, meta.language, duplicate=True)

    taken = {e.id for e in entries} | registry.inline_ids(request.site / "content" / "briefings")
    if archive_dir.is_dir():
        taken |= {p.name.removesuffix(".gz").removesuffix(".html").removesuffix(".md")
                  for p in archive_dir.iterdir()}
    publisher = fields["publisher"]
    if request.id is not None:
        if request.id in taken:
            raise CaptureError(f"--id {request.id!r} is taken already; choose another")
        source_id = request.id
    else:
        same = [e.id for e in entries if e.publisher and e.publisher.casefold() == publisher.casefold()]
        source_id = ids.make_id(publisher, fields["title"], taken, same)

    accessed = now.astimezone(dt.UTC)
    target_file = registry.target_file(sources_dir, publisher, entries)
    entry = registry.NewEntry(
        id=source_id, title=fields["title"], publisher=publisher, url=fields["url"],
        published=parse_date(fields["published"]), authors=meta.authors, accessed=accessed.date(),
    )
    copy = ArchiveCopy(
        id=source_id, url=fields["url"], title=fields["title"], publisher=publisher, accessed=accessed,
        sha256=hashlib.sha256(source.body).hexdigest(), captured_from=source.captured_from,
        paragraphs=article.paragraphs,
    )
    try:
        registry_bytes = registry.appended(target_file, entry)
    except registry.RegistryError as exc:
        raise CaptureError(str(exc)) from exc
    archive_path = archive_dir / f"{source_id}.md"
    files = {archive_path: copy.text().encode("utf-8")}
    if request.keep_html and source.is_html:
        files[archive_dir / f"{source_id}.html.gz"] = gzipped(source.body)
    files[target_file] = registry_bytes
    write_all(files)
    return Outcome(source_id, target_file, archive_path, len(article.paragraphs), meta.language)
