"""`serve` under load and under signals: real HTTP, a real process."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from briefgen.serve.server import DevServer
from tests.conftest import REPO, make_site

BRIEFING = '---\ntitle: "Ports reopen"\ndate: 2016-08-02\n---\nText.\n'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sigterm_stops_serve_cleanly_with_its_stopped_line(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": BRIEFING})
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "serve", str(site), "--port", str(free_port())],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Serving"), first + process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Stopped." in out.splitlines(), (out, err)
    assert "Traceback" not in err


def test_two_hundred_concurrent_requests_are_all_answered(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": BRIEFING})
    server = DevServer(site, "127.0.0.1", 0, drafts=True, out=lambda _: None, err=lambda _: None)
    server.start()
    try:
        # Connections first, all at once, before any request: the listen backlog
        # must hold them until the server accepts them.
        sockets = []
        for _ in range(200):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sockets.append(connection)
        statuses: list[int] = []
        lock = threading.Lock()

        def ask(connection: socket.socket) -> None:
            connection.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                               "Connection: close\r\n\r\n".encode())
            response = http.client.HTTPResponse(connection)
            response.begin()
            response.read()
            with lock:
                statuses.append(response.status)

        threads = [threading.Thread(target=ask, args=(s,)) for s in sockets]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for connection in sockets:
            connection.close()
        assert statuses == [200] * 200
        assert time.monotonic() - started < 30
    finally:
        server.stop()


def test_listen_backlog_is_large(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": BRIEFING})
    server = DevServer(site, "127.0.0.1", 0, drafts=True, out=lambda _: None, err=lambda _: None)
    server.start()
    try:
        listing = subprocess.run(["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True,
                                 text=True, check=False)
        if listing.returncode != 0 or not listing.stdout.strip():
            pytest.skip("ss is not available")
        send_q = int(listing.stdout.split()[2])  # a listening socket's Send-Q is its backlog
        assert send_q >= 200, listing.stdout
    finally:
        server.stop()
