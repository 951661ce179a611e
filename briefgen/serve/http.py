"""The preview's HTTP side: pages from the current snapshot, the status, the event stream.

Requests only read: the snapshot they are answered from is immutable and
replaced whole after every rebuild, so a page never mixes two builds.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import sys
import threading
import traceback
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from briefgen.serve.livereload import EVENTS_PATH, PLACEHOLDER, STATUS_PATH, failed_page, inject, live_snippet
from briefgen.serve.pages import PageFailed
from briefgen.serve.routes import HostCheck, content_type, route

REQUEST_WAIT_SECONDS: Final = 5.0  # how long a page request waits for a rebuild under way


@dataclass(frozen=True)
class Snapshot:
    """What requests read: one consistent state, replaced whole after every rebuild."""

    seq: int  # one per rebuild attempt, failed or not
    build: int  # successful builds so far
    version: str  # names the good build: a server token and the build number
    pages: Mapping[str, bytes]
    base: str  # the base URL's path, "/brief/"
    errors: tuple[str, ...]  # the last attempt's errors; () when it succeeded
    briefings: int
    attempts: int  # rebuild attempts, the first build included


class App(Protocol):
    """What the HTTP side needs of the preview."""

    hosts: HostCheck

    @property
    def snapshot(self) -> Snapshot: ...
    def status_json(self) -> str: ...
    def wait_until_idle(self, timeout: float) -> None: ...
    def messages(self) -> Generator[bytes, None, None]: ...
    def say_error(self, line: str) -> None: ...


class HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The listen backlog: a browser opening a page with its assets, or a link
    # checker, makes many connections at once; the default of 5 drops them.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily,
                 app: App) -> None:
        self.address_family = family
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket],
                        client_address: Any) -> None:
        if isinstance(request, socket.socket):
            with self._open_lock:
                self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        if isinstance(request, socket.socket):
            with self._open_lock:
                self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection (idle keep-alive ones too), so their threads finish."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return  # the browser went away
        self.app.say_error(f"briefgen: error while answering a request:\n{traceback.format_exc()}")


class _Handler(http.server.BaseHTTPRequestHandler):
    server: HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "briefgen"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after this
    # Headers and body go out in separate writes: with Nagle's algorithm the body would
    # wait for the client's delayed ACK (40 ms on Linux) on every response.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, head: bool) -> None:
        app = self.server.app
        if not app.hosts.allows(self.headers.get("Host")):
            self.close_connection = True
            self._send(403, b"Forbidden: this server answers only for its own address.\n",
                       "text/plain; charset=utf-8", head, close=True)
            return
        path, _, query = self.path.partition("?")
        path = path.partition("#")[0]
        if path == EVENTS_PATH:
            self._stream(head)
            return
        if path == STATUS_PATH:
            self._send(200, app.status_json().encode(), "application/json", head)
            return
        app.wait_until_idle(REQUEST_WAIT_SECONDS)
        snapshot = app.snapshot
        found = route(path, snapshot.base, snapshot.pages)
        if found.status == 302:
            target = found.location + (f"?{query}" if query else "")
            self._send(302, b"", "text/plain; charset=utf-8", head, location=target)
        elif found.status == 200:
            self._page(snapshot, found.file, 200, head)
        elif "404.html" in snapshot.pages:
            self._page(snapshot, "404.html", 404, head)
        elif not snapshot.pages:
            snippet = live_snippet(snapshot.version, snapshot.base, snapshot.errors, 503)
            self._send(503, inject(PLACEHOLDER, snippet), content_type("index.html"), head)
        else:
            self._send(404, b"Not found\n", "text/plain; charset=utf-8", head)

    def _page(self, snapshot: Snapshot, file: str, status: int, head: bool) -> None:
        try:
            data = snapshot.pages[file]
        except PageFailed as failed:
            # A page the last rebuild left to render when asked for: say why it cannot be.
            self.server.app.say_error(str(failed))
            page = inject(failed_page(str(failed)), live_snippet(snapshot.version, snapshot.base, (), 500))
            self._send(500, page, content_type("index.html"), head)
            return
        except KeyError:
            # A page of the last build, changed in the output since, that cannot be rendered
            # again (its text gone from the cache): it exists, so not a 404. A rebuild mends it.
            self._send(500, b"briefgen: this page changed in the output since the build and cannot "
                            b"be rendered again; save a file or restart the preview\n",
                       "text/plain; charset=utf-8", head)
            return
        if file.endswith(".html"):
            data = inject(data, live_snippet(snapshot.version, snapshot.base, snapshot.errors, status))
        self._send(status, data, content_type(file), head)

    def _send(self, status: int, body: bytes, ctype: str, head: bool, location: str = "",
              close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if location:
            self.send_header("Location", location)
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _stream(self, head: bool) -> None:
        """Server-Sent Events: the current state at once, then one event per rebuild."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        app = self.server.app
        try:
            self.wfile.write(b"retry: 1000\n\n")
            with contextlib.closing(app.messages()) as messages:
                for message in messages:
                    self.wfile.write(message)
                    self.wfile.flush()
        except (ConnectionError, TimeoutError, ValueError):
            pass  # the page went away, or the server is stopping
