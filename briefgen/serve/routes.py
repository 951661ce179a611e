"""Which requests the live preview answers, and with what: request paths to
built files, content types, and the Host headers it accepts.

Everything here is a pure function of its arguments, so the rules can be
tested without a server.
"""

from __future__ import annotations

import ipaddress
import mimetypes
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote, unquote

from briefgen.diagnostics import UsageError

_CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}


@dataclass(frozen=True)
class Route:
    """Where a request path leads: a page (`file`), a redirect (`location`) or nothing."""

    status: int
    file: str = ""
    location: str = ""


NOT_FOUND: Final = Route(404)


def route(raw_path: str, base: str, pages: Mapping[str, bytes]) -> Route:
    """Map a request path (percent-encoded, without query) to an output file.

    Only names in `pages` can be served; anything that tries to climb out (dot
    segments, encoded slashes or backslashes, NUL) is refused before lookup.
    """
    lowered = raw_path.lower()
    if not raw_path.startswith("/") or any(bad in lowered for bad in ("%2f", "%5c", "%00")):
        return NOT_FOUND
    try:
        path = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        return NOT_FOUND
    if "\\" in path or "\0" in path:
        return NOT_FOUND
    segments = path.split("/")[1:]
    if any(s in (".", "..") for s in segments) or "" in segments[:-1]:
        return NOT_FOUND
    prefix = unquote(base)
    if path == "/" and prefix != "/":
        return Route(302, location=quote(prefix))
    if path + "/" == prefix:
        return Route(302, location=raw_path + "/")
    if not path.startswith(prefix):
        return NOT_FOUND
    rel = path[len(prefix):]
    file = rel + "index.html" if rel == "" or rel.endswith("/") else rel
    if file in pages:
        return Route(200, file=file)
    if not rel.endswith("/") and rel + "/index.html" in pages:
        return Route(302, location=raw_path + "/")
    return NOT_FOUND


def content_type(file: str) -> str:
    suffix = os.path.splitext(file)[1].lower()
    known = _CONTENT_TYPES.get(suffix)
    if known:
        return known
    guessed, _ = mimetypes.guess_type(file, strict=False)
    return guessed or "application/octet-stream"


def is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostCheck:
    """Which Host headers to answer: the addresses the server listens on, against DNS rebinding."""

    host: str
    port: int
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names = {"127.0.0.1", "localhost", "[::1]", url_host(self.host).lower()}
        if is_wildcard(self.host):
            hostname = socket.gethostname().lower()
            names |= {hostname, socket.getfqdn(hostname).lower()}
        object.__setattr__(self, "names", frozenset(names))

    def allows(self, header: str | None) -> bool:
        if not header:
            return False
        value = header.strip().lower()
        name, port = value, ""
        if value.startswith("["):
            end = value.find("]")
            if end < 0:
                return False
            name, rest = value[: end + 1], value[end + 1:]
            if rest and not rest.startswith(":"):
                return False
            port = rest[1:]
        elif ":" in value:
            name, _, port = value.partition(":")
        if port != str(self.port) and not (port == "" and self.port == 80):
            return False
        name = name.rstrip(".")
        if name in self.names:
            return True
        # Listening on every interface: any IP address is fine (DNS rebinding needs a name).
        return is_wildcard(self.host) and _is_ip_literal(name)


def address_family(host: str, port: int) -> socket.AddressFamily:
    if is_wildcard(host):
        return socket.AF_INET6 if host == "::" else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}: {exc.strerror}") from None
    return infos[0][0]
