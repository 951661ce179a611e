"""Fetching a page carefully: http and https only, bounded in time, hops and size.

Redirects are followed by hand so that every hop is checked (scheme, count) and
the final URL is known. The body is read in chunks and abandoned past the size
cap, so a huge or endless response costs at most the cap.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3

from briefgen import __version__
from briefgen.weburl import ascii_url

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = 20.0
USER_AGENT = f"briefgen/{__version__} (source capture; +https://pypi.org/project/briefgen/)"
_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


class FetchError(Exception):
    """Why a URL gave no usable page, in one line."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    body: bytes
    media_type: str  # "text/html" or "text/plain"
    charset: str | None  # from the Content-Type header


def check_web_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read to check it: a port out of range or not a number raises
    except ValueError as exc:  # a bad IPv6 literal or port
        raise FetchError(f"{url}: not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"only http and https URLs can be fetched, not {url!r}")


def _content_type(value: str | None) -> tuple[str, str | None]:
    if not value:
        return "", None
    media_type = value.split(";")[0].strip().lower()
    found = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", value, re.IGNORECASE)
    return media_type, found.group(1) if found else None


def fetch(url: str, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES,
          max_redirects: int = MAX_REDIRECTS) -> Fetched:
    check_web_url(url)
    # The deadline covers the whole exchange: a server that trickles bytes
    # never resets it, as a per-read timeout alone would.
    deadline = time.monotonic() + timeout
    pool = urllib3.PoolManager(headers={"User-Agent": USER_AGENT, "Accept": ", ".join(_TEXT_TYPES)},
                               retries=False)
    try:
        return _follow(pool, url, deadline, timeout, max_bytes, max_redirects)
    finally:
        pool.clear()


def _follow(pool: urllib3.PoolManager, url: str, deadline: float, timeout: float, max_bytes: int,
            max_redirects: int) -> Fetched:
    current = url
    for _hop in range(max_redirects + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"{url}: timed out after {timeout:g} s")
        try:
            # A host of other scripts is asked for in its IDNA form, which urllib3 makes only
            # with a package briefgen does not need otherwise; the URL is kept as written.
            response = pool.request("GET", ascii_url(current), redirect=False, preload_content=False,
                                    timeout=urllib3.Timeout(connect=remaining, read=remaining))
        except urllib3.exceptions.NewConnectionError as exc:
            # Checked first: urllib3 makes a refused connection a kind of connect timeout.
            raise FetchError(f"{current}: cannot connect ({_reason(exc)})") from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise FetchError(f"{current}: timed out after {timeout:g} s") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError(f"{current}: cannot connect ({_reason(exc)})") from exc
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(f"{current}: redirect ({response.status}) without a Location")
                current = urljoin(current, location)
                if urlsplit(current).scheme not in ("http", "https"):
                    raise FetchError(f"{url}: redirected to a non-web URL {current!r}")
                check_web_url(current)
                _discard_body(response, deadline)
                continue
            if response.status >= 400:
                raise FetchError(f"{current}: the server answered {response.status} {response.reason or ''}"
                                 .rstrip())
            media_type, charset = _content_type(response.headers.get("Content-Type"))
            if media_type and media_type not in _TEXT_TYPES:
                raise FetchError(f"{current}: not an HTML or text page (Content-Type {media_type})")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"{current}: the page is larger than {max_bytes // (1024 * 1024)} MB")
            body = _read_capped(response, max_bytes, deadline, current, timeout)
            return Fetched(current, body, media_type or "text/html", charset)
        finally:
            response.release_conn()
    raise FetchError(f"{url}: more than {max_redirects} redirects")


_REDIRECT_BODY_BYTES = 64 * 1024


def _discard_body(response: urllib3.BaseHTTPResponse, deadline: float) -> None:
    """Read a redirect's body, so that its connection, given back to the pool, can carry
    the next request (a server keeping connections open sends the next answer on it);
    a longer or slower body closes the connection instead."""
    size = 0
    try:
        while chunk := response.read1(_REDIRECT_BODY_BYTES):
            size += len(chunk)
            if size > _REDIRECT_BODY_BYTES or time.monotonic() > deadline:
                response.close()
                return
    except urllib3.exceptions.HTTPError:
        response.close()


def _read_capped(response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float, url: str,
                 timeout: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        # read1: one read of the socket at a time, so that a server trickling a byte at
        # a time meets the deadline check instead of filling a 64 KB chunk at leisure.
        while chunk := response.read1(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"{url}: the page is larger than {max_bytes // (1024 * 1024)} MB")
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: timed out after {timeout:g} s")
            chunks.append(chunk)
    except urllib3.exceptions.TimeoutError as exc:
        raise FetchError(f"{url}: timed out after {timeout:g} s") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"{url}: the connection failed while reading ({_reason(exc)})") from exc
    return b"".join(chunks)


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    # urllib3 wraps the OS error in its own prose; the last clause is the useful part.
    return text.rsplit(": ", 1)[-1] if ": " in text else text


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


# Labels a browser reads as a larger encoding (the WHATWG Encoding Standard), by Python's codec
# names: a page labelled ISO-8859-1 is written in Windows-1252 nearly always, its curly quotes
# and dashes in bytes Latin-1 makes control characters.
_AS_BROWSERS_READ = {"iso8859-1": "cp1252", "ascii": "cp1252", "iso8859-9": "cp1254",
                     "iso8859-11": "cp874", "tis-620": "cp874", "gb2312": "gb18030", "gbk": "gb18030",
                     "shift_jis": "cp932", "euc_kr": "cp949"}


def _as_browsers_read(name: str) -> list[str]:
    """The codecs to try for a charset label: the one browsers use for it, then its own."""
    import codecs

    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return []
    wider = _AS_BROWSERS_READ.get(codec)
    return [wider, codec] if wider else [codec]


def decode_page(body: bytes, header_charset: str | None) -> str:
    """Text from bytes: the header's charset, then `<meta charset>`, then detection."""
    import codecs

    candidates: list[str] = []
    if body.startswith(codecs.BOM_UTF8):
        candidates.append("utf-8-sig")
    if header_charset:
        candidates.append(header_charset)
    found = _META_CHARSET.search(body[:4096])
    if found:
        candidates.append(found.group(1).decode("ascii", "replace"))
    for name in [codec for label in candidates for codec in _as_browsers_read(label)]:
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    return str(best) if best is not None else body.decode("utf-8", "replace")
