"""Tests for `briefgen serve`: the real server over HTTP on a free port, on a small site in tmp_path.

Every wait is bounded: polls give up after WAIT seconds, sockets time out.
"""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import corpus_site, make_site

from briefgen.serve.livereload import EVENTS_PATH, OVERLAY_ID, STATUS_PATH
from briefgen.serve.routes import HostCheck, is_loopback, route
from briefgen.serve.server import DevServer
from briefgen.serve.session import Session, SessionResult

REPO = Path(__file__).resolve().parents[1]
WAIT = 10.0  # seconds any single wait may take
CHROMIUM = Path("/usr/bin/chromium")

CONFIG = """\
[site]
title = "Serve Test"
base_url = "https://example.org/brief/"
timezone = "UTC"
"""

SOURCES = """\
- id: src-one
  title: "A source article"
  publisher: Example Wire
  url: https://wire.example.com/a
  published: 2016-08-01
"""

BRIEFING = """\
---
title: "{title}"
date: {date}
topics: [Testing]
summary: A summary.
sources:
  - src-one
---
{body} [@src-one].
"""

A_MD = "content/briefings/2016/a.md"
A_URL = "/brief/2016/08/02/alpha-briefing/"


def briefing(body: str, title: str = "Alpha briefing", date: str = "2016-08-02") -> str:
    return BRIEFING.format(title=title, date=date, body=body)


def serve_site(tmp_path: Path, body: str = "Original body text") -> Path:
    return make_site(tmp_path, {"content/sources/s.yaml": SOURCES, A_MD: briefing(body)}, CONFIG)


# ---------------------------------------------------------------- HTTP helpers


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Served:
    server: DevServer
    site: Path
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # paths of every event the watcher handled

    @property
    def port(self) -> int:
        return self.server.port

    def get(self, path: str, host: str | None = None, method: str = "GET") -> Response:
        """One request with the path sent exactly as given (no client-side normalising)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            if host != "":
                connection.putheader("Host", host or f"127.0.0.1:{self.port}")
            connection.endheaders()
            response = connection.getresponse()
            body = response.read()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return Response(response.status, headers, body)
        finally:
            connection.close()

    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.get(STATUS_PATH).body)
        return data

    def write(self, relative: str, text: str) -> Path:
        path = self.site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def wait_until(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.03)


def fence(served: Served, folder: str = "content/briefings/2016") -> None:
    """Return once the watcher has handled every event of earlier writes in `folder`.

    A file system reports one folder's events in order, and the watcher handles
    them one by one: once it has handled the event of a new (ignored) fence
    file, it has handled every change made there before it.
    """
    path = served.site / folder / f".fence-{len(served.seen)}-{time.monotonic_ns()}"
    path.write_text("fence", encoding="utf-8")
    wait_until(lambda: str(path) in served.seen, f"the watcher to see {path.name}")


def wait_idle(served: Served, folder: str = "content/briefings/2016") -> dict[str, Any]:
    """Wait until every earlier change in `folder` has been seen and no rebuild is pending or running."""
    fence(served, folder)
    return wait_until(lambda: (s := served.status()) and not s["busy"] and s, "an idle server")


def page_shows(served: Served, path: str, text: str) -> Callable[[], bool]:
    return lambda: text in served.get(path).text


def start(site: Path, drafts: bool = True, config: Path | None = None, quiet: bool = False) -> Served:
    out: list[str] = []
    err: list[str] = []
    server = DevServer(site, "127.0.0.1", 0, drafts=drafts, out=out.append, err=err.append, config=config,
                       quiet=quiet)
    served = Served(server, site, out, err)
    watcher = server.watcher.handler
    handle = watcher.on_any_event

    def record(event: Any) -> None:
        handle(event)
        served.seen.append(os.fsdecode(event.src_path))

    watcher.on_any_event = record  # type: ignore[method-assign]
    server.start()
    return served


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    running = start(serve_site(tmp_path))
    try:
        yield running
    finally:
        running.server.stop()


# ---------------------------------------------------------------- serving


def test_serves_the_site_from_memory_at_the_base_path(served: Served) -> None:
    assert re.fullmatch(rf"Serving 1 briefing at http://127\.0\.0\.1:{served.port}/brief/ "
                        r"\(built in \d+\.\d\d s\); Ctrl-C to stop", served.out[0]), served.out

    root = served.get("/")
    assert root.status == 302 and root.headers["location"] == "/brief/"
    assert served.get("/brief").headers["location"] == "/brief/"

    home = served.get("/brief/")
    assert home.status == 200
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    assert home.headers["cache-control"] == "no-store"
    assert "Alpha briefing" in home.text

    one = served.get(A_URL)
    assert one.status == 200 and "Original body text" in one.text
    folder = served.get(A_URL.rstrip("/") + "?x=1")
    assert folder.status == 302 and folder.headers["location"] == A_URL + "?x=1"

    feed = served.get("/brief/feed.xml")
    assert feed.status == 200 and feed.headers["content-type"].startswith("application/")
    assert "xml" in feed.headers["content-type"] and feed.headers["cache-control"] == "no-store"
    css = [name for name in served.server.snapshot.pages if name.endswith(".css")]
    assert css and served.get("/brief/" + css[0]).headers["content-type"].startswith("text/css")
    assert served.get("/brief/robots.txt").headers["content-type"].startswith("text/plain")

    head = served.get(A_URL, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["content-length"]) == len(one.body)
    assert not (served.site / "output").exists(), "serve must never write the output folder"


def test_reload_script_is_injected_at_serve_time_only(served: Served) -> None:
    served_page = served.get(A_URL).body
    built = served.server.snapshot.pages["2016/08/02/alpha-briefing/index.html"]
    assert b"__briefgen__" not in built
    assert served_page.count(b'data-briefgen="live-reload"') == 1
    script_at = served_page.index(b'<script type="application/json" id="briefgen-live-state"')
    assert served_page[:script_at] + served_page[served_page.rindex(b"</body>"):] == built
    assert b"__briefgen__" not in served.get("/brief/feed.xml").body


def test_drafts_are_shown_unless_no_drafts(tmp_path: Path) -> None:
    site = serve_site(tmp_path)
    (site / A_MD).write_text(briefing("Draft body").replace("topics:", "draft: true\ntopics:"))
    for drafts, status in ((True, 200), (False, 404)):
        running = start(site, drafts=drafts)
        try:
            page = running.get(A_URL)
            assert page.status == status
            if drafts:
                assert "Draft" in page.text
        finally:
            running.server.stop()


def test_missing_page_gets_the_sites_404_page(served: Served) -> None:
    for path in ("/brief/no/such/page/", "/brief/nothing.css", "/elsewhere/"):
        missing = served.get(path)
        assert missing.status == 404, path
        assert "Page not found" in missing.text
        assert missing.headers["cache-control"] == "no-store"
        assert '"notFound": true' in missing.text  # reloads itself when the site changes


# ---------------------------------------------------------------- rebuilding


def test_an_edit_rebuilds_and_the_page_shows_it(served: Served) -> None:
    before = served.status()["build"]
    served.write(A_MD, briefing("Edited body text"))
    wait_until(page_shows(served, A_URL, "Edited body text"), "the edit to be served")
    assert served.status()["build"] == before + 1
    assert any(f"Rebuilt after a change to {A_MD} in " in line for line in served.out), served.out


def test_quiet_prints_the_address_and_problems_only(tmp_path: Path) -> None:
    served = start(serve_site(tmp_path), quiet=True)
    try:
        served.write(A_MD, briefing("Edited quietly"))
        wait_until(page_shows(served, A_URL, "Edited quietly"), "the edit")
        served.write(A_MD, briefing("Broken").replace("date: 2016-08-02", "date: 2016-13-45"))
        wait_until(lambda: served.status()["errors"], "the broken build")
    finally:
        served.server.stop()
    assert len(served.out) == 1 and served.out[0].startswith("Serving 1 briefing at http://"), served.out
    assert any(f"{A_MD}:3:7: error:" in line for line in served.err), served.err


def test_quick_edits_give_one_rebuild(served: Served) -> None:
    before = wait_idle(served)["attempts"]
    for n in range(6):
        served.write(A_MD, briefing(f"Edit number {n}"))
        served.write(f"content/briefings/2016/b{n}.md", briefing("Another", title=f"Extra {n}"))
    wait_until(page_shows(served, A_URL, "Edit number 5"), "the last edit")
    after = wait_idle(served)
    assert after["attempts"] == before + 1, served.out
    assert after["errors"] == []


def test_a_change_during_a_rebuild_triggers_exactly_one_more(
        served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    rebuild = Session.rebuild
    started, release = threading.Event(), threading.Event()

    def held_rebuild(self: Session, changed: Iterable[Path] | None = None) -> SessionResult:
        # The first rebuild after the edit is held until the second wave has been seen.
        if not started.is_set():
            started.set()
            release.wait(WAIT)
        return rebuild(self, changed)

    before = wait_idle(served)["attempts"]
    monkeypatch.setattr(Session, "rebuild", held_rebuild)
    served.write(A_MD, briefing("First wave"))
    assert started.wait(WAIT), "the rebuild did not start"
    for n in range(3):
        served.write(A_MD, briefing(f"Second wave {n}"))
    fence(served)
    assert served.status()["building"], "the edits came while the rebuild ran"
    release.set()
    wait_until(page_shows(served, A_URL, "Second wave 2"), "the second wave")
    assert wait_idle(served)["attempts"] == before + 2, served.out


def test_a_broken_save_keeps_the_last_good_site_and_shows_an_overlay(served: Served) -> None:
    served.write(A_MD, briefing("Broken body").replace("  - src-one", '  - "<b>bad</b>"'))
    status = wait_until(lambda: (s := served.status())["errors"] and s, "the build to fail")
    line = status["errors"][0]
    assert line.startswith(f"{A_MD}:7:5: error: source id '<b>bad</b>'"), line

    page = served.get(A_URL)
    assert page.status == 200, "the last good page stays served"
    assert "Original body text" in page.text and "Broken body" not in page.text
    overlay = page.text[page.text.index(f'id="{OVERLAY_ID}"'):].split("<script")[0]
    assert html.escape(line) in overlay, "each diagnostic, HTML-escaped"
    assert "<b>bad" not in overlay
    assert line in served.err, "the terminal prints the same lines"
    assert OVERLAY_ID in served.get("/brief/no-such-page/").text

    served.write(A_MD, briefing("Fixed body"))
    wait_until(page_shows(served, A_URL, "Fixed body"), "the fix to be served")
    assert served.status()["errors"] == []
    assert OVERLAY_ID not in served.get(A_URL).text.split("<script")[0]


def test_a_site_that_starts_broken_is_served_once_fixed(tmp_path: Path) -> None:
    site = serve_site(tmp_path)
    good = (site / A_MD).read_text()
    (site / A_MD).write_text(good.replace("date: 2016-08-02", "date: 2016-13-45"))
    running = start(site)
    try:
        assert "build failed" in running.out[0]
        first = running.get(A_URL)
        assert first.status == 503 and OVERLAY_ID in first.text and f"{A_MD}:3:7" in first.text
        # A page a browser shows, not a file it downloads.
        assert first.headers["content-type"].startswith("text/html"), first.headers
        # There is no last good version to speak of yet.
        assert "nothing has built yet" in first.text and "showing the last good version" not in first.text
        assert any("nothing to serve until it builds" in line for line in running.err), running.err
        (site / A_MD).write_text(good)
        wait_until(page_shows(running, A_URL, "Original body text"), "the fixed site")
        wait_until(lambda: any(" Built after a change to " in line and "serving" in line
                               for line in running.out), "the first good build said")
    finally:
        running.server.stop()


def test_settings_kept_elsewhere_are_watched_too(tmp_path: Path) -> None:
    site = serve_site(tmp_path / "a")
    settings = tmp_path / "settings" / "preview.toml"
    settings.parent.mkdir()
    (site / "briefgen.toml").rename(settings)
    running = start(site, config=settings)
    try:
        wait_until(page_shows(running, A_URL, "Original body text"), "the first build")
        text = settings.read_text(encoding="utf-8")
        title = re.search(r'title = "([^"]*)"', text)
        assert title is not None
        settings.write_text(text.replace(title.group(0), 'title = "Renamed Preview Site"'), encoding="utf-8")
        wait_until(page_shows(running, A_URL, "Renamed Preview Site"), "the settings' new title")
    finally:
        running.server.stop()


def test_atomic_rename_over_save(served: Served) -> None:
    folder = served.site / "content/briefings/2016"
    for n in range(3):
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".a.md.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(briefing(f"Atomic save {n}"))
        os.replace(temp, folder / "a.md")
        wait_until(page_shows(served, A_URL, f"Atomic save {n}"), f"atomic save {n}")
    assert served.status()["errors"] == []


def test_editor_swap_and_backup_files_are_ignored(served: Served) -> None:
    before = wait_idle(served)["attempts"]
    folder = served.site / "content/briefings/2016"
    for name in (".a.md.swp", "a.md~", "4913", ".#a.md", "#a.md#", ".hidden.md"):
        (folder / name).write_text("not a briefing: {{{")
    (folder / "4913").unlink()
    after = wait_idle(served)
    assert after["attempts"] == before and after["errors"] == []


def test_new_moved_and_deleted_files_and_folders(served: Served) -> None:
    new_url = "/brief/2017/01/05/beta-briefing/"
    served.write("content/briefings/2017/jan/b.md",
                 briefing("Beta body", title="Beta briefing", date="2017-01-05"))
    wait_until(lambda: served.get(new_url).status == 200, "the briefing in a new folder")

    moved = served.site / "content/briefings/2017/moved"
    (served.site / "content/briefings/2017/jan").rename(moved)
    wait_until(lambda: served.status()["build"] >= 3 and not served.status()["busy"],
               "the rebuild after the move")
    assert served.status()["errors"] == [], "both ends of a move are seen: no duplicate URL"
    assert served.get(new_url).status == 200

    (moved / "b.md").unlink()
    wait_until(lambda: served.get(new_url).status == 404, "the deleted briefing to go")
    shutil.rmtree(served.site / "content/briefings/2017")
    wait_idle(served)
    assert served.get(A_URL).status == 200 and served.status()["errors"] == []


def test_a_new_briefing_on_a_large_site_reloads_before_it_is_compared_and_the_next_edit_is_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past COMPARED_LATER_FROM files (here, from the first), a new briefing's rebuild leaves the
    files to be compared afterwards: the terminal says which may have changed, the event names
    them (past 500, every open page fetches itself again), and each page served is the new site's.
    The edit after it is taken in place, and names the pages it changed."""
    from briefgen.serve import session as session_module

    monkeypatch.setattr(session_module, "COMPARED_LATER_FROM", 0)
    served = start(serve_site(tmp_path))
    stream = http.client.HTTPConnection("127.0.0.1", served.port, timeout=WAIT)
    try:
        stream.request("GET", EVENTS_PATH)
        events = stream.getresponse()

        def next_event() -> dict[str, Any]:
            while line := events.fp.readline():
                if line.startswith(b"data: "):
                    data: dict[str, Any] = json.loads(line[6:])
                    return data
            raise AssertionError("the stream ended")

        next_event()  # the state, sent first
        new_url = "/brief/2017/01/05/beta-briefing/"
        new = served.write("content/briefings/2017/b.md",
                           briefing("Beta body", title="Beta briefing", date="2017-01-05"))
        # The pages it changed are among those named (past 500, none is named: every page reloads).
        assert {"/brief/", A_URL, new_url} <= set(next_event()["changed"])
        wait_idle(served, "content/briefings/2017")
        assert re.search(r"Rebuilt after a change to content/briefings/2017.* in [\d.]+ m?s: \d+ of \d+ "
                         r"files may have changed \(compared with the last build meanwhile\)",
                         served.out[-1]), served.out
        assert served.get(new_url).status == 200
        assert "Beta briefing" in served.get("/brief/").text
        assert "Beta briefing" in served.get(A_URL).text, "the older briefing's page links to it"

        new.write_text(briefing("Beta body, edited", title="Beta briefing", date="2017-01-05"),
                       encoding="utf-8")
        wait_until(page_shows(served, new_url, "Beta body, edited"), "the edit")
        wait_idle(served, "content/briefings/2017")
        assert re.search(r"Rebuilt after a change to content/briefings/2017/b\.md in [\d.]+ m?s: \d+ of \d+ "
                         r"files changed", served.out[-1]), served.out
        edited = next_event()["changed"]
        assert new_url in edited and "/brief/archive/" not in edited
    finally:
        stream.close()
        served.server.stop()


def test_reading_a_site_file_is_no_event_the_preview_handles(served: Served) -> None:
    """Editors, `git status`, grep and the preview's own rebuilds read the site's files: a file
    opened and closed unwritten reaches no code of the preview's, a file written does."""
    wait_idle(served)
    article = served.site / A_MD
    for _ in range(3):
        article.read_bytes()
    fence(served)
    assert str(article) not in served.seen
    article.write_text(briefing("Written again"), encoding="utf-8")
    wait_until(lambda: str(article) in served.seen, "the watcher to see the write")
    wait_until(page_shows(served, A_URL, "Written again"), "the page to show the write")


def test_a_template_folder_created_later_is_watched(served: Served) -> None:
    base = (REPO / "themes/default/templates/base.html").read_text(encoding="utf-8")
    served.write("templates/base.html", base.replace("<body", "<!-- override one --><body", 1))
    wait_until(page_shows(served, A_URL, "override one"), "the new site template")
    served.write("templates/base.html", base.replace("<body", "<!-- override two --><body", 1))
    wait_until(page_shows(served, A_URL, "override two"), "the edited site template")


def test_config_changes_move_the_site_and_config_errors_show(served: Served) -> None:
    config = served.site / "briefgen.toml"
    config.write_text(CONFIG.replace("[site]", "[site]\nbogus = 1"), encoding="utf-8")
    status = wait_until(lambda: (s := served.status())["errors"] and s, "the config error")
    assert status["errors"][0].startswith("briefgen.toml:2:1: error: ")
    assert served.get(A_URL).status == 200

    config.write_text(CONFIG.replace("/brief/", "/news/"), encoding="utf-8")
    wait_until(lambda: served.get("/news/2016/08/02/alpha-briefing/").status == 200,
               "the site at its new base path")
    assert served.get("/").headers["location"] == "/news/"
    assert served.get(A_URL).status == 404
    assert served.status()["errors"] == []


# ---------------------------------------------------------------- events


def test_event_stream_sends_the_state_then_an_event_per_rebuild(served: Served) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=WAIT)
    try:
        connection.request("GET", EVENTS_PATH)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type", "").startswith("text/event-stream")
        assert response.getheader("Cache-Control") == "no-store"

        def next_event() -> dict[str, Any]:
            while True:
                line = response.fp.readline()
                assert line, "the stream ended"
                if line.startswith(b"data: "):
                    data: dict[str, Any] = json.loads(line[6:])
                    return data

        hello = next_event()
        assert hello["errors"] == [] and hello["base"] == "/brief/"
        served.write(A_MD, briefing("Streamed edit"))
        news = next_event()
        assert news["build"] == hello["build"] + 1 and news["version"] != hello["version"]
        assert A_URL in news["changed"] and news["assets"] is False
        served.write(A_MD, briefing("x").replace("date: 2016-08-02", "date: nonsense-date"))
        broken = next_event()
        assert broken["errors"] and broken["errors"][0].startswith(A_MD + ":")
        assert broken["version"] == news["version"]
        served.write(A_MD, briefing("Streamed edit"))
        next_event()
        # A file of the site's static/ keeps its name: pages must reload in full to load it again.
        served.write("static/brand.css", "body { color: red; }\n")
        styled = next_event()
        assert styled["assets"] is True, styled
    finally:
        connection.close()


# ---------------------------------------------------------------- safety


def test_paths_outside_the_site_are_never_served(served: Served, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("TOP-SECRET-OUTSIDE")
    (served.site / "content/briefings/2016/link.txt").symlink_to(tmp_path / "secret.txt")
    attempts = [
        "/brief/../briefgen.toml", "/../secret.txt", "/brief/../../secret.txt",
        "/brief/%2e%2e/briefgen.toml", "/brief/%2E%2E/%2e%2e/secret.txt",
        "/brief/..%2fbriefgen.toml", "/brief/%2F..%2F..%2Fsecret.txt", "/brief%2F..%2Fbriefgen.toml",
        "/brief/..%5cbriefgen.toml", "/brief/..\\briefgen.toml", "/brief//etc/passwd",
        "/brief/static/../../briefgen.toml", "/brief/./index.html", "/brief/%00",
        "/brief/%ff%fe", "/briefgen.toml", "/content/briefings/2016/a.md", "/brief/content/",
        "/brief/content/briefings/2016/link.txt", "http://evil.example/brief/", "//etc/passwd",
    ]
    for path in attempts:
        answer = served.get(path)
        assert 400 <= answer.status < 500, (path, answer.status)
        assert b"TOP-SECRET" not in answer.body and b"base_url" not in answer.body, path


def test_requests_for_another_host_are_refused(served: Served) -> None:
    port = served.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert served.get("/brief/", host=host).status == 200, host
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}",
                 "127.0.0.1", f"127.0.0.1:{port + 1}", f"localhost:{port}@evil", ""):
        answer = served.get("/brief/", host=host)
        assert 400 <= answer.status < 500, host
        assert b"Alpha briefing" not in answer.body
    assert served.get(EVENTS_PATH, host="evil.example").status == 403
    assert served.get(STATUS_PATH, host="evil.example").status == 403


def test_host_check_and_routes_as_values() -> None:
    wildcard = HostCheck("0.0.0.0", 8000)
    assert wildcard.allows("192.168.1.20:8000") and not wildcard.allows("attacker.example:8000")
    assert HostCheck("::1", 80).allows("[::1]") and not HostCheck("127.0.0.1", 81).allows("[::1]")
    assert all(map(is_loopback, ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2")))
    assert not any(map(is_loopback, ("0.0.0.0", "::", "192.168.1.20", "example.org")))
    pages = {"index.html": b"", "a/index.html": b"", "a/b.css": b""}
    assert route("/", "/brief/", pages).location == "/brief/"
    assert route("/brief/a", "/brief/", pages).location == "/brief/a/"
    assert route("/brief/a/", "/brief/", pages).file == "a/index.html"
    assert route("/brief/a/b.css", "/brief/", pages).file == "a/b.css"
    assert route("/", "/", pages).file == "index.html"
    for bad in ("/brief/a/../a/b.css", "/brief/a%2Fb.css", "/brief/a/./b.css", "/brief/a//b.css"):
        assert route(bad, "/brief/", pages).status == 404, bad


def _interrupts_by_default() -> None:
    """In the child, before it runs Python: SIGINT as a terminal gives it. A shell script runs a
    command put in the background with SIGINT ignored, and Python then never raises
    KeyboardInterrupt: a test run started that way would find Ctrl-C ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_command_cleanly(tmp_path: Path) -> None:
    site = serve_site(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # With faulthandler on, SIGABRT makes a command that did not stop print where each thread is.
    temporary = tmp_path / "tmp"  # the command's own: what it leaves there is seen
    temporary.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1",
               PYTHONFAULTHANDLER="1", TMPDIR=str(temporary))
    process = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "serve", str(site), "--port", str(port)],
        cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL, preexec_fn=_interrupts_by_default,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(process.stdout.readline() if
                                                               process.stdout else ""))
        reader.start()
        reader.join(WAIT)
        assert lines and lines[0].startswith(
            f"Serving 1 briefing at http://127.0.0.1:{port}/brief/ (built in "), lines
        stream = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        stream.request("GET", EVENTS_PATH)
        assert stream.getresponse().status == 200  # an open event stream must not block the stop
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=WAIT)  # reads its output as it waits: no pipe fills up
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            _, stderr = process.communicate(timeout=WAIT)
            raise AssertionError(f"Ctrl-C did not stop the server; its threads:\n{stderr}") from None
        code = process.returncode
        assert code == 0, stderr
        assert time.monotonic() - started < 3, "Ctrl-C must stop the server promptly"
        assert "Traceback" not in stderr, stderr
        assert list(temporary.iterdir()) == [], "the command left temporary files behind"
        stream.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=WAIT)


# ---------------------------------------------------------------- in a real browser


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's /usr/bin/chromium")
def test_browser_updates_the_open_page_and_shows_errors(served: Served) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(WAIT * 1000)
            page.goto(f"http://127.0.0.1:{served.port}{A_URL}")
            page.wait_for_selector("text=Original body text")
            page.evaluate("window.sameDocument = true")
            topic = page.locator("main a[href$='/topics/testing/']").first
            topic.focus()
            focused = "document.activeElement.getAttribute('href')"
            assert page.evaluate(focused).endswith("/topics/testing/")

            served.write(A_MD, briefing("Live edited text"))
            page.wait_for_selector("text=Live edited text")
            # Only the body changed: it is swapped in place, without a reload, and the keyboard
            # is where it was.
            assert page.evaluate("window.sameDocument === true")
            assert (page.evaluate(focused) or "").endswith("/topics/testing/")

            served.write(A_MD, briefing("Broken").replace("date: 2016-08-02", "date: 2016-13-45"))
            overlay = page.wait_for_selector(f"#{OVERLAY_ID}")
            assert overlay is not None
            assert page.evaluate("document.body.firstElementChild.id") == OVERLAY_ID, "first to Tab to"
            assert f"{A_MD}:3:7: error:" in overlay.inner_text()
            assert page.is_visible("text=Live edited text"), "the last good page stays"

            served.write(A_MD, briefing("Repaired text"))
            page.wait_for_selector(f"#{OVERLAY_ID}", state="detached")
            page.wait_for_selector("text=Repaired text")
            assert page.url.endswith(A_URL)
        finally:
            browser.close()


# Counts each page's event streams opened (the server answered) and closed.
_COUNT_STREAMS = """(() => {
  const Original = window.EventSource;
  window.streams = {opened: 0, closed: 0};
  window.EventSource = function (url) {
    const source = new Original(url);
    source.addEventListener("open", () => { window.streams.opened += 1; });
    const close = source.close.bind(source);
    source.close = () => { window.streams.closed += 1; close(); };
    return source;
  };
})();"""

_SET_HIDDEN = """hidden => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  Object.defineProperty(document, "visibilityState", {configurable: true,
                                                       get: () => hidden ? "hidden" : "visible"});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's /usr/bin/chromium")
def test_tabs_out_of_sight_let_go_of_their_stream_and_catch_up_when_shown(served: Served) -> None:
    """Chromium opens six connections to a host at most, and each listening tab holds one.

    Headless Chromium shows every tab, so each, once listening, is told it is hidden as a
    browser tells a tab in the background: the seventh and eighth still load, and the first,
    shown again after an edit it did not hear of, shows the edit.
    """
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context()
            context.set_default_timeout(WAIT * 1000)
            context.add_init_script(_COUNT_STREAMS)
            tabs = []
            for _ in range(8):
                tab = context.new_page()
                tab.goto(f"http://127.0.0.1:{served.port}{A_URL}")
                tab.wait_for_selector("text=Original body text")
                tab.wait_for_function("window.streams.opened === 1")
                tab.evaluate(_SET_HIDDEN, True)
                assert tab.evaluate("window.streams.closed") == 1
                tabs.append(tab)

            served.write(A_MD, briefing("Edited while out of sight"))
            wait_until(page_shows(served, A_URL, "Edited while out of sight"), "the rebuild")
            first = tabs[0]
            assert first.locator("text=Original body text").count() == 1, "a hidden tab hears nothing"
            first.evaluate("window.sameDocument = true")
            first.evaluate(_SET_HIDDEN, False)
            first.wait_for_selector("text=Edited while out of sight")
            assert first.evaluate("window.streams.opened") == 2
            assert first.evaluate("window.sameDocument === true"), "the body swapped in, no reload"
        finally:
            browser.close()


def test_a_site_whose_config_is_broken_at_startup_is_served_as_its_errors(tmp_path: Path) -> None:
    site = serve_site(tmp_path)
    config = site / "briefgen.toml"
    good = config.read_text(encoding="utf-8")
    config.write_text(good.replace("[site]", "[site]\ntitel = 'typo'"), encoding="utf-8")
    served = start(site)
    try:
        broken = served.get("/")
        assert broken.status == 503
        assert OVERLAY_ID in broken.text and "briefgen.toml:" in broken.text and "titel" in broken.text
        config.write_text(good, encoding="utf-8")
        wait_until(lambda: served.get("/brief/").status == 200, "the fixed site")
        assert "Alpha briefing" in served.get("/brief/").text
    finally:
        served.server.stop()


def test_a_built_site_is_served_from_its_output_and_pages_spoiled_since_are_rendered(tmp_path: Path) -> None:
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build

    site = serve_site(tmp_path)
    build(site, BuildOptions())
    output = site / "output"
    page = output / "2016/08/02/alpha-briefing/index.html"
    built = page.read_bytes()
    served = start(site)
    try:
        # Spoiled by hand after the start, before anyone asked: a server thread renders it instead.
        page.write_bytes(b"<p>spoiled</p>")
        (output / "feed.xml").unlink()
        one = served.get(A_URL)
        assert one.status == 200 and "Original body text" in one.text and "spoiled" not in one.text
        assert served.server.snapshot.pages["2016/08/02/alpha-briefing/index.html"] == built
        feed = served.get("/brief/feed.xml")
        assert feed.status == 200 and b"Alpha briefing" in feed.body
        assert "Alpha briefing" in served.get("/brief/").text  # read from the output
        # An edit after a start from the build shows as after any other start.
        served.write(A_MD, briefing("Edited after a start from the build"))
        wait_until(page_shows(served, A_URL, "Edited after a start from the build"), "the edit")
        assert page.read_bytes() == b"<p>spoiled</p>"  # the output is only read
    finally:
        served.server.stop()


def test_a_page_left_to_render_when_opened_shows_its_own_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One page of each changed kind at once: of the briefing pages, the newest one's (Briefing 3).
    monkeypatch.setattr("briefgen.serve.session.RENDERED_AT_ONCE", 1)
    site = corpus_site(tmp_path, count=4)
    served = start(site)
    template = site / "templates/briefing.html"
    original = template.read_text(encoding="utf-8")

    def edit(added: str) -> None:
        template.write_text(original.replace("{% block content %}", "{% block content %}" + added, 1),
                            encoding="utf-8")

    oldest, newest = "/brief/2020/01/10/briefing-0/", "/brief/2020/01/31/briefing-3/"
    try:
        assert served.get(oldest).status == 200
        edit("{% if briefing.title == 'Briefing 0' %}{{ briefing.no_such_field }}{% endif %}<p>Edited.</p>")
        wait_until(page_shows(served, newest, "<p>Edited.</p>"), "the template edit")
        assert served.status()["errors"] == [], "the rebuild did not render the oldest page"
        failed = served.get(oldest)
        assert failed.status == 500, failed.text
        message = next(line for line in served.err if "no_such_field" in line)
        assert message.startswith("templates/briefing.html:"), message
        assert html.escape(message) in failed.text
        assert 'id="briefgen-live-state"' in failed.text, "it reloads after the next rebuild"
        edit("<p>Mended.</p>")
        wait_until(page_shows(served, oldest, "<p>Mended.</p>"), "the mended template")
    finally:
        served.server.stop()


def test_a_spoiled_page_whose_text_the_cache_lost_is_an_error_not_a_dropped_connection(
        tmp_path: Path) -> None:
    import sqlite3

    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build

    site = serve_site(tmp_path)
    build(site, BuildOptions())
    page = site / "output/2016/08/02/alpha-briefing/index.html"
    served = start(site)
    try:
        # A build of the same site beside the preview pruned the briefing's text; its page is
        # then spoiled by hand, so the preview must render it and cannot.
        with sqlite3.connect(site / ".briefgen-cache/cache.sqlite") as db:
            assert db.execute("DELETE FROM bodies WHERE key LIKE ?", (f"%:{A_MD}:%",)).rowcount == 1
        db.close()
        page.write_bytes(b"<p>spoiled</p>")
        lost = served.get(A_URL)
        assert lost.status == 500 and "cannot be rendered again" in lost.text, lost.text
        assert served.get("/brief/").status == 200  # the rest is served as before
        served.write(A_MD, briefing("Saved again after the loss"))
        wait_until(page_shows(served, A_URL, "Saved again after the loss"), "the page after a save")
    finally:
        served.server.stop()


