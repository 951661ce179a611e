"""`briefgen check --links` against a local HTTP server on 127.0.0.1; never the internet."""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import pickle
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import error_lines, make_site, run_cli


@dataclass
class Record:
    hits: Counter[str] = field(default_factory=Counter)
    starts: list[float] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    agents: set[str] = field(default_factory=set)
    times: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(http.server.BaseHTTPRequestHandler):
    record: Record

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        record = self.record
        with record.lock:
            record.hits[self.path] += 1
            count = record.hits[self.path]
            record.agents.add(self.headers.get("User-Agent", ""))
            record.times.setdefault(self.path, []).append(time.monotonic())
            if self.path.startswith("/busy/"):
                record.starts.append(time.monotonic())
                record.in_flight += 1
                record.most_in_flight = max(record.most_in_flight, record.in_flight)
        try:
            if self.path.startswith("/busy/"):
                time.sleep(0.3)
                self.answer(200)
            elif self.path == "/flaky":
                self.answer(500 if count == 1 else 200)
            elif self.path == "/limited":  # too many requests: come back in 2 s
                self.answer(429 if count == 1 else 200, {"Retry-After": "2"})
            elif self.path.startswith("/chain/"):  # a redirect to the next, six times over
                hop = int(self.path.rsplit("/", 1)[1])
                self.send_response(302)
                self.send_header("Location", f"/chain/{hop + 1}" if hop < 6 else "/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/slow":
                time.sleep(2.5)
                self.answer(200)
            elif self.path in ("/moved", "/moved-gone"):
                self.send_response(301 if self.path == "/moved" else 302)
                self.send_header("Location", "/ok" if self.path == "/moved" else "/gone")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/ok" or self.path.startswith("/ok"):
                self.answer(200)
            else:
                self.answer(404)
        finally:
            if self.path.startswith("/busy/"):
                with record.lock:
                    record.in_flight -= 1

    def answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        body = b"<!doctype html><title>t</title><p>fixture page</p>"
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout case)


@pytest.fixture
def server() -> Iterator[tuple[str, Record]]:
    record = Record()
    handler = type("BoundHandler", (Handler,), {"record": record})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", record
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def registry(base: str, entries: dict[str, str], extra: dict[str, str] | None = None) -> str:
    lines = []
    for source_id, path in entries.items():
        lines += [f"- id: {source_id}", f"  title: Article {source_id}", "  publisher: Fixture News",
                  f"  url: {base}{path}"]
        if extra and source_id in extra:
            lines.append(f"  {extra[source_id]}")
    return "\n".join(lines) + "\n"


def citing(*ids: str, name: str = "b") -> str:
    cites = " ".join(f"[@{i}]" for i in ids)
    return f"---\ntitle: Briefing {name}\ndate: 2016-08-02\n---\nText {cites}.\n"


ARCHIVE = "---\nid: {id}\nurl: {url}\n---\n1. An archived paragraph written for this test.\n"


def test_dead_links_are_reported_with_their_briefings_and_archives(
        tmp_path: Path, server: tuple[str, Record]) -> None:
    base, record = server
    sources = {"live": "/ok", "accented": "/ok-caf\u00e9?q=\u00fc", "gone": "/gone",
               "gone-archived": "/gone2", "gone-wayback": "/gone3",
               "flaky": "/flaky", "slow": "/slow", "moved": "/moved", "moved-gone": "/moved-gone"}
    wayback = f"archive_url: https://web.archive.org/web/20160802000000/{base}/gone3"
    site = make_site(tmp_path, {
        "content/sources/fixture.yaml": registry(base, sources, {"gone-wayback": wayback}),
        "content/archive/gone-archived.md": ARCHIVE.format(id="gone-archived", url=f"{base}/gone2"),
        "content/briefings/a.md": citing(*sources, name="a"),
        "content/briefings/b.md": citing("gone", name="b"),
    })
    result = run_cli("check", site, "--links", "--timeout", "1", "--delay", "0")
    assert result.code == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if ": error: " in line or ": warning: " in line]
    by_id = {line.split("source '")[1].split("'")[0]: line for line in lines}
    assert sorted(by_id) == ["gone", "gone-archived", "gone-wayback", "moved-gone", "slow"], lines
    assert by_id["gone"].startswith("content/sources/fixture.yaml:9:3: error: source 'gone': ")
    assert "404 Not Found" in by_id["gone"]
    assert "cited by content/briefings/a.md, content/briefings/b.md" in by_id["gone"]
    assert "no archive and no archive_url" in by_id["gone"]
    assert ": warning: " in by_id["gone-archived"]
    assert "archived in content/archive/gone-archived.md" in by_id["gone-archived"]
    assert ": warning: " in by_id["gone-wayback"] and "archive_url https://web.archive.org/" in by_id[
        "gone-wayback"]
    assert "timed out" in by_id["slow"] and ": error: " in by_id["slow"]
    assert "404" in by_id["moved-gone"]
    assert record.hits["/flaky"] == 2, "a server error is retried"
    assert record.hits["/gone2"] == 1, "a 404 is not retried"
    assert record.hits["/slow"] == 3, "a timeout is retried twice"
    assert record.hits["/ok"] == 2  # once itself, once at the end of /moved
    assert all(agent.startswith("briefgen/") for agent in record.agents)
    assert record.hits["/ok-caf%C3%A9?q=%C3%BC"] == 1
    assert "Checked 9 source links: 5 dead, 3 of them with no archive and no archive_url" in result.stdout


def test_exit_status_is_zero_when_every_dead_link_has_an_archive(
        tmp_path: Path, server: tuple[str, Record]) -> None:
    base, _ = server
    site = make_site(tmp_path, {
        "content/sources/fixture.yaml": registry(base, {"live": "/ok", "gone": "/gone"}),
        "content/archive/gone.md": ARCHIVE.format(id="gone", url=f"{base}/gone"),
        "content/briefings/a.md": citing("live", "gone"),
    })
    result = run_cli("check", site, "--links", "--delay", "0")
    assert result.code == 0, result.stderr
    assert not error_lines(result.stderr)
    assert "warning: source 'gone'" in result.stderr


def _links_row(store: Path) -> str:
    with contextlib.closing(sqlite3.connect(store)) as connection:
        (value,) = connection.execute("SELECT value FROM state WHERE name = 'links'").fetchone()
    text: str = pickle.loads(value)
    return text


def _set_links_row(store: Path, value: bytes) -> None:
    with contextlib.closing(sqlite3.connect(store)) as connection, connection:
        connection.execute("UPDATE state SET value = ? WHERE name = 'links'", (value,))


def test_live_results_are_cached_for_a_day_and_dead_ones_asked_again(
        tmp_path: Path, server: tuple[str, Record]) -> None:
    base, record = server
    site = make_site(tmp_path, {
        "content/sources/fixture.yaml": registry(base, {"live": "/ok", "gone": "/gone"}),
        "content/briefings/a.md": citing("live", "gone"),
    })
    assert run_cli("check", site, "--links", "--delay", "0").code == 1
    assert run_cli("check", site, "--links", "--delay", "0").code == 1
    assert record.hits["/ok"] == 1 and record.hits["/gone"] == 2
    store = site / ".briefgen-cache" / "cache.sqlite"
    data = json.loads(_links_row(store))
    assert data["results"][f"{base}/ok"]["ok"] is True
    # A result older than a day is asked again.
    data["results"][f"{base}/ok"]["checked"] = "2000-01-01T00:00:00+00:00"
    _set_links_row(store, pickle.dumps(json.dumps(data)))
    run_cli("check", site, "--links", "--delay", "0")
    assert record.hits["/ok"] == 2
    # A damaged cache is an empty one.
    _set_links_row(store, pickle.dumps("{not json"))
    assert run_cli("check", site, "--links", "--delay", "0").code == 1
    assert record.hits["/ok"] == 3


def test_requests_to_one_host_are_limited_and_spaced(tmp_path: Path, server: tuple[str, Record]) -> None:
    base, record = server
    sources = {f"busy-{n}": f"/busy/{n}" for n in range(6)}
    site = make_site(tmp_path, {
        "content/sources/fixture.yaml": registry(base, sources),
        "content/briefings/a.md": citing(*sources),
    })
    result = run_cli("check", site, "--links", "--delay", "0.1")
    assert result.code == 0, result.stderr
    assert record.most_in_flight == 2, record.most_in_flight
    starts = sorted(record.starts)
    assert len(starts) == 6
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.08


def test_plain_check_makes_no_requests(tmp_path: Path, server: tuple[str, Record]) -> None:
    base, record = server
    site = make_site(tmp_path, {
        "content/sources/fixture.yaml": registry(base, {"gone": "/gone"}),
        "content/briefings/a.md": citing("gone"),
    })
    assert run_cli("check", site).code == 0
    assert not record.hits


@pytest.mark.parametrize("flags", [("--timeout", "0"), ("--delay", "-1"), ("--timeout", "inf"),
                                   ("--timeout", "nan"), ("--delay", "nan"), ("--delay", "1e300")])
def test_bad_settings_are_usage_errors(tmp_path: Path, flags: tuple[str, str]) -> None:
    site = make_site(tmp_path, {"content/briefings/a.md": "---\ntitle: A\ndate: 2016-08-02\n---\nText.\n"})
    result = run_cli("check", site, "--links", *flags)
    assert result.code == 2 and "Traceback" not in result.stderr
    assert "--timeout must be above 0 and --delay at least 0" in result.stderr


def test_a_server_that_asks_to_wait_is_waited_for_and_a_long_chain_is_one_line(
        tmp_path: Path, server: tuple[str, Record]) -> None:
    base, record = server
    site = make_site(tmp_path, {
        "content/sources/s.yaml": registry(base, {"limited": "/limited", "chain": "/chain/0"}),
        "content/briefings/b.md": citing("limited", "chain"),
    })
    result = run_cli("check", site, "--links", "--timeout", "5", "--delay", "0")
    assert result.code == 1, result.stderr
    (line,) = error_lines(result.stderr)
    assert "chain" in line and "more than 5 redirects" in line, result.stderr
    assert "limited" not in result.stderr, "waited for, then found"
    first, second = record.times["/limited"]
    assert second - first >= 1.9, "asked again before the 2 s the server asked for"


def test_results_kept_for_a_day_survive_the_sites_first_build(tmp_path: Path,
                                                              server: tuple[str, Record]) -> None:
    """A site checked before it was ever built: its first build starts the cache afresh, and
    keeps the results of check --links all the same."""
    base, record = server
    site = make_site(tmp_path, {"content/sources/s.yaml": registry(base, {"live": "/ok-first"}),
                                "content/briefings/b.md": citing("live")})
    assert run_cli("check", site, "--links", "--delay", "0").code == 0
    assert run_cli("build", site).code == 0
    assert run_cli("check", site, "--links", "--delay", "0").code == 0
    assert record.hits["/ok-first"] == 1, "asked again after the first build"
