"""`briefgen check --links`: is every source URL still there?

Each URL is fetched over HTTP from a thread pool, at most a few requests at a
time per host and with a delay between them, retried on server errors and
timeouts. Live results are kept in the build cache (`.briefgen-cache/`) for a day, so
a second run within the day asks only about the links that were dead.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from briefgen import __version__
from briefgen.build.store import LINKS_ROW, STORE, Store
from briefgen.content.records import Source
from briefgen.diagnostics import Diagnostic, error, warning

CACHE_NAME = LINKS_ROW  # the row of the build cache's state table that holds the results
USER_AGENT = f"briefgen/{__version__} (link check; +https://pypi.org/project/briefgen/)"
_RETRY_STATUS = frozenset({408, 425, 429})  # and every 5xx


@dataclass(frozen=True)
class LinkSettings:
    timeout: float = 10.0  # seconds for one request
    retries: int = 2  # further attempts after a server error or a timeout
    per_host: int = 2  # requests in flight to one host at once
    delay: float = 0.5  # seconds between the starts of two requests to one host
    backoff: float = 0.5  # seconds before the first retry; doubled for each next
    max_age: dt.timedelta = dt.timedelta(days=1)  # how long a live result is trusted
    workers: int = 8


@dataclass(frozen=True)
class LinkResult:
    url: str
    ok: bool
    status: int | None  # the final HTTP status, None when no response came
    reason: str  # "404 Not Found", "timed out", ...
    checked: str  # ISO time of the check
    final_url: str = ""  # where redirects led, when elsewhere


@dataclass(frozen=True)
class DeadLink:
    source: Source
    result: LinkResult
    cited_by: tuple[str, ...]  # briefing files
    archive: str | None  # the archive file, when there is one

    @property
    def covered(self) -> bool:
        """Whether readers still have the text: an archive or an archive_url."""
        return self.archive is not None or self.source.archive_url is not None


@dataclass
class _Host:
    slots: threading.Semaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0


class _LimitedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 5  # a chain longer than this is reported as an error


class LinkChecker:
    """Checks URLs concurrently, politely per host; one checker per run."""

    def __init__(self, settings: LinkSettings) -> None:
        self.settings = settings
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self._opener = urllib.request.build_opener(_LimitedRedirects())

    def check(self, urls: Iterable[str]) -> dict[str, LinkResult]:
        unique = list(dict.fromkeys(urls))
        with ThreadPoolExecutor(max_workers=max(1, self.settings.workers)) as pool:
            return dict(zip(unique, pool.map(self.check_one, unique), strict=True))

    def check_one(self, url: str) -> LinkResult:
        attempt = 0
        while True:
            result, retry, asked = self._request(url)
            if not retry or attempt >= self.settings.retries:
                return result
            if asked is not None and asked > _MOST_RETRY_AFTER:
                # Told to come back later than a check waits: reported, with what the server said.
                return replace(result, reason=f"{result.reason} (the server asked to wait {asked:g} s)")
            time.sleep(asked if asked is not None else self.settings.backoff * 2 ** attempt)
            attempt += 1

    def _host(self, url: str) -> _Host:
        name = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            host = self._hosts.get(name)
            if host is None:
                host = self._hosts[name] = _Host(threading.Semaphore(max(1, self.settings.per_host)))
            return host

    def _request(self, url: str) -> tuple[LinkResult, bool, float | None]:
        """One attempt: the result, whether another attempt may fare better, and how long the
        server asked to be left alone before it (Retry-After), if it said."""
        host = self._host(url)
        with host.slots:
            with host.lock:
                now = time.monotonic()
                wait = max(0.0, host.next_start - now)
                host.next_start = max(now, host.next_start) + self.settings.delay
            time.sleep(wait)
            return self._fetch(url)

    def _fetch(self, url: str) -> tuple[LinkResult, bool, float | None]:
        checked = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        request = urllib.request.Request(_ascii(url), headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        try:
            with self._opener.open(request, timeout=self.settings.timeout) as response:
                response.read(1024)  # a first chunk shows the body is served, not just the headers
                final = response.geturl()
                status = int(response.status)
                return LinkResult(url, True, status, f"{status} {response.reason}", checked,
                                  final if final != url else ""), False, None
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:  # urllib gave up following them; its message is three lines
                reason = f"more than {_LimitedRedirects.max_redirections} redirects"
                return LinkResult(url, False, exc.code, reason, checked), False, None
            reason = f"{exc.code} {exc.reason}"
            retry = exc.code in _RETRY_STATUS or exc.code >= 500
            return LinkResult(url, False, exc.code, reason, checked), retry, _retry_after(exc.headers)
        except urllib.error.URLError as exc:
            timed_out = isinstance(exc.reason, TimeoutError)
            reason = "timed out" if timed_out else str(exc.reason)
            return LinkResult(url, False, None, reason, checked), True, None
        except TimeoutError:
            return LinkResult(url, False, None, "timed out", checked), True, None
        except (http.client.HTTPException, OSError, ValueError) as exc:
            return LinkResult(url, False, None, str(exc) or type(exc).__name__, checked), True, None


# A Retry-After longer than this is not waited for: the link is reported with what the server said.
_MOST_RETRY_AFTER = 30.0


def _retry_after(headers: Any) -> float | None:
    """Seconds a Retry-After header asks for (a number of them, or an HTTP date), if any."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _ascii(url: str) -> str:
    """A URL as HTTP sends it: an international host in IDNA, other characters percent-encoded."""
    parts = urlsplit(url)
    try:
        host = parts.hostname.encode("idna").decode("ascii") if parts.hostname else ""
    except UnicodeError:
        return url  # reported as an error by the request itself
    netloc = host + (f":{parts.port}" if parts.port else "")
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    keep = "/:@!$&'()*+,;=%?#[]~"
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=keep), quote(parts.query, safe=keep),
                       quote(parts.fragment, safe=keep)))


def load_cache(cache_dir: Path) -> dict[str, LinkResult]:
    """Results of earlier runs, from the build cache's database; an unreadable one is empty."""
    store = Store(cache_dir / STORE, writable=False)
    try:
        data = json.loads(store.read_state(CACHE_NAME) or "")
        return {url: LinkResult(**entry) for url, entry in data["results"].items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}
    finally:
        store.close()


def save_cache(cache_dir: Path, results: Mapping[str, LinkResult]) -> None:
    data = {"version": 1, "results": {url: asdict(r) for url, r in sorted(results.items())}}
    store = Store(cache_dir / STORE)
    try:
        store.write_state({CACHE_NAME: json.dumps(data, indent=1)})
    finally:
        store.close()


def fresh(result: LinkResult, now: dt.datetime, max_age: dt.timedelta) -> bool:
    """A live result checked less than max_age ago; dead ones are always asked again."""
    try:
        checked = dt.datetime.fromisoformat(result.checked)
    except ValueError:
        return False
    return result.ok and dt.timedelta(0) <= now - checked < max_age


def check_links(sources: Sequence[tuple[Source, tuple[str, ...]]], archives: Mapping[str, str],
                cache_dir: Path, settings: LinkSettings,
                now: dt.datetime | None = None) -> tuple[int, list[DeadLink]]:
    """Check each source's URL; return how many URLs there were and the dead links.

    sources pairs each source with the briefings that cite it; archives maps
    source ids to their archive files.
    """
    now = now or dt.datetime.now(dt.UTC)
    cached = load_cache(cache_dir)
    urls = sorted({s.url for s, _ in sources if s.url})
    todo = [url for url in urls if url not in cached or not fresh(cached[url], now, settings.max_age)]
    results = dict(cached) | LinkChecker(settings).check(todo)
    save_cache(cache_dir, results)
    dead = [DeadLink(source, results[source.url], cited_by, archives.get(source.id))
            for source, cited_by in sources if source.url and not results[source.url].ok]
    return len(urls), dead


def diagnostics(dead: Iterable[DeadLink]) -> list[Diagnostic]:
    """One line per dead link, at the source's declaration: an error when readers lose the text."""
    found = []
    for link in dead:
        source, result = link.source, link.result
        cited = ", ".join(link.cited_by) if link.cited_by else "no briefing"
        kept = []
        if link.archive:
            kept.append(f"archived in {link.archive}")
        if source.archive_url:
            kept.append(f"archive_url {source.archive_url}")
        message = (f"source {source.id!r}: {source.url} is dead ({result.reason}); cited by {cited}; "
                   + ("; ".join(kept) if kept else "no archive and no archive_url"))
        report = warning if link.covered else error
        found.append(report(source.path, source.line, source.column, message))
    return found
