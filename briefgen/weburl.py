"""The one check for web addresses: the site's base URL and the URLs of sources.

Imports nothing from briefgen, so configuration, content and the command line
can all use it.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import quote, urlsplit, urlunsplit

# Dot-separated labels of letters (any script: addresses are pasted as people see
# them), digits, '-' and '_'; or an IPv6 literal, which urlsplit has already checked.
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def web_url_problem(value: str, allow_query: bool = False) -> str | None:
    """Why value is not an absolute http(s) URL with a host, or None when it is one.

    A base URL must not carry a query or fragment (every page URL is built by
    appending to it); a source's URL may (allow_query).
    """
    if not value or value != value.strip() or any(c.isspace() or ord(c) < 0x20 or c == "\x7f"
                                                  for c in value):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:  # a port that is not a number or out of range, a bad IPv6 literal
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return "must start with http:// or https://"
    host = parts.hostname or ""
    if not host:
        return "must name a host, as in https://example.org/"
    if "@" in parts.netloc:
        return "must not carry a user name or password"
    if not (_HOST.fullmatch(host) or parts.netloc.startswith("[")):
        return f"has an invalid host {host!r}"
    if port is not None and not 1 <= port <= 65535:
        return f"has an invalid port {port}"
    if not allow_query and (parts.query or value.endswith("?")):
        return "must not carry a query (`?...`)"
    if not allow_query and (parts.fragment or "#" in value):
        return "must not carry a fragment (`#...`)"
    return None


def ascii_url(value: str) -> str:
    """A URL web_url_problem accepts, as it must be written in a sitemap, a feed or robots.txt:
    a host of other scripts in its IDNA form ("xn--..."), a path's other characters
    percent-encoded; escapes already there are kept."""
    parts = urlsplit(value)
    netloc = parts.netloc
    host = parts.hostname or ""
    if not host.isascii():
        # A label too long for IDNA stays as it is: a browser cannot reach it either.
        with contextlib.suppress(UnicodeError):
            # web_url_problem allows no user name, so the host and port are the whole netloc.
            port = f":{parts.port}" if parts.port is not None else ""
            netloc = host.encode("idna").decode("ascii") + port
    path = quote(parts.path, safe="/%:@!$&'()*+,;=~")
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))
