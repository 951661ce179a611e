"""`briefgen source add`: from a URL, a saved page or pasted text to a registry entry and an archive.

Every network test talks to a local HTTP server on 127.0.0.1 that serves the
article fixtures and misbehaves on purpose (slow, redirect loops, huge bodies,
wrong content types). briefgen runs as a user runs it, in a subprocess.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, build_ok, built_as_clean, make_site, page, run_cli, text_of, tree_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
EXAMPLE = (Path(__file__).resolve().parents[1].parent / "shared" / "examples"
           / "source-article-moscow-times.txt")


def fixture_bytes(name: str, form: str = "page.html") -> bytes:
    return (FIXTURES / name / form).read_bytes()


def expected(name: str) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((FIXTURES / name / "expected.yaml").read_text("utf-8"))
    return data


# A page that names no address of its own (no canonical link, og:url or JSON-LD url).
NO_ADDRESS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Ferry crews agree a new rota</title>
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Ferry crews agree a new rota",
 "datePublished": "2026-04-02", "publisher": {"@type": "Organization", "name": "Tidewater Post"}}</script>
</head><body><article><h1>Ferry crews agree a new rota</h1>
<p>Crews on the island ferries agreed on Wednesday to a rota that gives each of them two free weekends
a month, ending a dispute that had cancelled the early crossings since January.</p>
<p>The operator said the first sailing of the day would return next Monday, and that fares would not change
before the summer timetable begins in May.</p>
<p>Passengers who bought season tickets during the dispute will be offered a refund for the crossings they
missed, the operator added in a short statement.</p>
</article></body></html>"""

# Japanese written for these tests: sentences end in 。 and no spaces part the words.
JAPANESE_PAGE = """<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>島の連絡船が早朝便を再開</title>
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "島の連絡船が早朝便を再開",
 "datePublished": "2026-04-02", "url": "https://shimanami.example/2026/04/02/ferry",
 "publisher": {"@type": "Organization", "name": "しまなみ日報"}}</script>
</head><body><article><h1>島の連絡船が早朝便を再開</h1>
<p>島を結ぶ連絡船の乗組員は水曜日、月に二回の週末休みを保証する新しい勤務表に合意した。一月から続いた早朝便の欠航はこれで終わる。</p>
<p>運航会社によると、早朝の第一便は来週の月曜日に再開され、五月に夏のダイヤが始まるまで運賃は変わらない。</p>
<p>欠航の間に定期券を買った利用者には、乗れなかった便の分が払い戻されると会社は短い声明で付け加えた。</p>
</article></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    seen_agents: list[str] = []  # noqa: RUF012 - the test server's log, one per test session
    seen_hosts: list[str] = []  # noqa: RUF012

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        _Handler.seen_agents.append(self.headers.get("User-Agent", ""))
        _Handler.seen_hosts.append(self.headers.get("Host", ""))
        path = self.path
        if path.startswith("/article/"):
            self._send(200, fixture_bytes(path.rsplit("/", 1)[1]))
        elif path.startswith("/text/"):
            self._send(200, fixture_bytes(path.rsplit("/", 1)[1], "pasted.txt"), "text/plain; charset=utf-8")
        elif path == "/cp1252-header":
            body = fixture_bytes("german").decode("utf-8").encode("cp1252")
            self._send(200, body, "text/html; charset=windows-1252")
        elif path == "/cp1251-meta":
            html = fixture_bytes("russian").decode("utf-8").replace('<meta charset="utf-8">',
                                                                    '<meta charset="windows-1251">')
            self._send(200, html.encode("cp1251"), "text/html")
        elif path == "/latin1-label":
            # Labelled ISO-8859-1, written in Windows-1252 (its „ and “ are bytes Latin-1 lacks).
            body = fixture_bytes("german").decode("utf-8").encode("cp1252")
            self._send(200, body, "text/html; charset=ISO-8859-1")
        elif path.startswith("/no-address"):
            self._send(200, NO_ADDRESS_PAGE.encode("utf-8"))
        elif path == "/japanese":
            self._send(200, JAPANESE_PAGE.encode("utf-8"))
        elif path.startswith("/hops/"):
            left = int(path.rsplit("/", 1)[1])
            target = f"/hops/{left - 1}" if left > 1 else "/article/wire"
            self._send(302, b"", headers={"Location": target})
        elif path == "/loop":
            self._send(301, b"", headers={"Location": "/loop"})
        elif path == "/to-ftp":
            self._send(302, b"", headers={"Location": "ftp://127.0.0.1/file"})
        elif path == "/slow":
            time.sleep(10)
            self._send(200, fixture_bytes("wire"))
        elif path == "/trickle":
            # Headers at once, then a byte every half second: no single read times out.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                for _ in range(20):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/huge":
            # No Content-Length: the cap must hold while reading.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"filler text " * 5000 + b"</p>\n"
            try:
                for _ in range(120):  # about 7 MB
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/image":
            self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")
        elif path == "/gone":
            self._send(404, b"<html><body><h1>Not found</h1></body></html>")
        elif path == "/broken":
            self._send(500, b"<html><body><h1>Server error</h1></body></html>")
        elif path == "/empty":
            self._send(200, b"  <!-- nothing here -->\n")
        elif path == "/nav-only":
            self._send(200, b"<html><head><title>Home</title></head><body><nav><a href='/a'>News</a>"
                            b"<a href='/b'>Sport</a></nav><footer>(c) 2026</footer></body></html>")
        else:
            self._send(404, b"no such fixture")


def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    yield from _serving(_Handler)


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """As nearly every web server answers: HTTP/1.1, the connection kept open, and a body even
    with a redirect."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/moved":
            status, body, headers = 301, b"<p>Moved to a new address.</p>", {"Location": "/article/wire"}
        elif self.path == "/article/wire":
            status, body, headers = 200, fixture_bytes("wire"), {}
        else:
            status, body, headers = 404, b"no such fixture", {}
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def keep_alive_server() -> Iterator[str]:
    yield from _serving(_KeepAliveHandler)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path, {
        "content/sources/meridian.yaml": """\
            # Wire copy we cite often.
            - id: mw-older-story
              title: "An older story"
              publisher: Meridian Wire
              url: https://www.meridianwire.example/older-story
              published: 2026-01-01
            """,
    })


def add(site: Path, *args: str | Path) -> tuple[int, str, str]:
    result = run_cli("source", "add", *args, "--site", site)
    assert "Traceback" not in result.stderr, result.stderr
    return result.code, result.stdout, result.stderr


# ---------------------------------------------------------------- success


def test_url_gives_registry_entry_archive_and_a_line_to_paste(server: str, site: Path) -> None:
    before = (site / "content/sources/meridian.yaml").read_bytes()
    code, out, err = add(site, f"{server}/article/wire", "--keep-html")
    assert code == 0, err
    assert out.splitlines()[-1] == "[@mw-varnholm-port]"
    # Appended to the file that holds this publisher's sources, old bytes untouched, prefix reused.
    after = (site / "content/sources/meridian.yaml").read_bytes()
    assert after.startswith(before)
    entries = yaml.safe_load(after)
    assert [e["id"] for e in entries] == ["mw-older-story", "mw-varnholm-port"]
    spec = expected("wire")
    new = entries[1]
    assert new["title"] == spec["title"] and new["publisher"] == "Meridian Wire"
    assert new["url"] == spec["url"]  # the canonical URL, not the local one
    assert str(new["published"]) == "2026-03-03" and new["authors"] == ["Lena Ostrova"]

    archive = (site / "content/archive/mw-varnholm-port.md").read_text("utf-8")
    head, body = archive.split("---\n")[1], archive.split("---\n", 2)[2]
    keys = [line.split(":", 1)[0] for line in head.splitlines()]
    assert keys == ["id", "url", "title", "publisher", "accessed", "sha256", "captured_from"]
    fields = yaml.safe_load(head)
    assert fields["sha256"] == hashlib.sha256(fixture_bytes("wire")).hexdigest()
    assert fields["captured_from"] == "url" and fields["url"] == spec["url"]
    assert re.fullmatch(r"accessed: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", head.splitlines()[4])
    paragraphs = spec["paragraphs"]
    assert isinstance(paragraphs, list)
    assert body == "\n\n".join(f"{n}. {p}" for n, p in enumerate(paragraphs, 1)) + "\n"
    assert b"\r" not in archive.encode()
    kept = gzip.decompress((site / "content/archive/mw-varnholm-port.html.gz").read_bytes())
    assert kept == fixture_bytes("wire")
    assert any(agent.startswith("briefgen/0.1.0") for agent in _Handler.seen_agents)


def test_captured_source_is_citable_and_archive_is_not_published(server: str, site: Path) -> None:
    code, out, err = add(site, f"{server}/article/german")
    assert code == 0, err
    assert "(language: de)" in out
    cite = out.splitlines()[-1]
    assert cite == "[@ra-stadtrat-beschliesst]"
    (site / "content/briefings").mkdir(parents=True)
    (site / "content/briefings/altstadt.md").write_text(
        f"---\ntitle: Lindenau closes its old town to cars\ndate: 2026-05-19\n---\n"
        f"The council voted for a car-free old town {cite[:-1]}, para. 2].\n", "utf-8")
    build_ok(site)
    output = site / "output"
    briefing = page(output, "2026/05/19/lindenau-closes-its-old-town-to-cars/")
    assert "Stadtrat beschließt autofreie Altstadt ab Herbst" in text_of(briefing)
    assert "Rheinische Abendpost" in text_of(page(output, "sources/"))
    # The archive stays the curator's: none of its text is in the built site.
    archived = "Die Umbauarbeiten an den Zufahrten"
    assert archived in (site / "content/archive/ra-stadtrat-beschliesst.md").read_text("utf-8")
    assert not any(archived.encode() in data for data in tree_bytes(output).values())


def test_a_build_after_a_capture_takes_it_in_place(server: str, site: Path, tmp_path: Path) -> None:
    (site / "content/briefings").mkdir(parents=True)
    (site / "content/briefings/older.md").write_text(
        "---\ntitle: An older briefing\ndate: 2026-01-02\n---\nIt began [@mw-older-story].\n", "utf-8")
    built_as_clean(site, tmp_path)
    assert add(site, f"{server}/article/wire")[0] == 0
    # A source no briefing cites yet shows on no page: nothing to render, no full build.
    result = built_as_clean(site, tmp_path)
    assert result.in_place and result.rendered == 0
    assert not built_as_clean(site, tmp_path).rendered


def test_second_capture_of_the_same_url_reports_the_existing_id(server: str, site: Path) -> None:
    assert add(site, f"{server}/article/wire")[0] == 0
    files = tree_bytes(site / "content")
    code, out, err = add(site, f"{server}/article/wire")
    assert code == 0, err
    assert "Already registered as mw-varnholm-port" in out and "nothing was added" in out
    assert out.splitlines()[-1] == "[@mw-varnholm-port]"
    assert tree_bytes(site / "content") == files
    # The same article by its canonical URL, given on the command line, is known too.
    tracked = f"{expected('wire')['url']}?utm_source=x"
    code, out, _ = add(site, str(FIXTURES / "wire/page.html"), "--url", tracked)
    assert code == 0 and "Already registered as mw-varnholm-port" in out
    assert tree_bytes(site / "content") == files


def test_new_publisher_gets_its_own_file_and_unique_ids(server: str, site: Path) -> None:
    # An id declared inline in a briefing is taken too.
    (site / "content/briefings").mkdir(parents=True)
    (site / "content/briefings/rail.md").write_text(
        "---\ntitle: Rail\ndate: 2026-09-08\nsources:\n  - id: rnn-northern-rail\n    title: Old\n"
        "    publisher: Radio Norden News\n    url: https://news.radionorden.example/old\n---\nText.\n",
        "utf-8")
    assert add(site, f"{server}/article/broadcaster")[0] == 0
    registry = site / "content/sources/radio-norden-news.yaml"
    assert yaml.safe_load(registry.read_text("utf-8"))[0]["id"] == "rnn-northern-rail-line"
    # The same headline from another address: a longer id, not a clash.
    code, out, err = add(site, str(FIXTURES / "broadcaster/page.html"), "--url",
                         "https://news.radionorden.example/regions/other-12345679")
    assert code == 0, err
    assert out.splitlines()[-1] == "[@rnn-northern-rail-line-reopen]"
    assert [e["id"] for e in yaml.safe_load(registry.read_text("utf-8"))] == [
        "rnn-northern-rail-line", "rnn-northern-rail-line-reopen"]


def test_charset_from_header_and_from_meta(server: str, site: Path) -> None:
    assert add(site, f"{server}/cp1252-header")[0] == 0
    assert add(site, f"{server}/cp1251-meta")[0] == 0
    german = (site / "content/archive/ra-stadtrat-beschliesst.md").read_text("utf-8")
    assert "„historischen Schritt“" in german
    russian_registry = yaml.safe_load((site / "content/sources/severnyi-vestnik.yaml").read_text("utf-8"))
    assert russian_registry[0]["title"] == expected("russian")["title"]
    assert russian_registry[0]["id"] == "sv-zarechanske-otkroiut"


def test_a_page_labelled_latin_1_is_read_as_browsers_read_it(server: str, site: Path) -> None:
    code, _, err = add(site, f"{server}/latin1-label")
    assert code == 0, err
    archive = (site / "content/archive/ra-stadtrat-beschliesst.md").read_text("utf-8")
    assert "„historischen Schritt“" in archive


def test_a_redirect_on_a_connection_kept_open(keep_alive_server: str, site: Path) -> None:
    code, out, err = add(site, f"{keep_alive_server}/moved")
    assert code == 0, err
    assert out.splitlines()[-1] == "[@mw-varnholm-port]"


def test_the_address_fetched_is_kept_without_credentials_tracking_or_fragment(server: str,
                                                                             site: Path) -> None:
    netloc = server.removeprefix("http://")
    code, out, err = add(site, f"http://editor:secret@{netloc}/no-address?id=7&utm_source=mail&fbclid=x#top")
    assert code == 0, err
    source_id = out.splitlines()[-1].strip("[@]")
    (entry,) = yaml.safe_load((site / "content/sources/tidewater-post.yaml").read_text("utf-8"))
    assert entry["url"] == f"{server}/no-address?id=7"
    assert f"url: {server}/no-address?id=7\n" in (site / f"content/archive/{source_id}.md").read_text("utf-8")


def test_an_article_in_japanese_is_captured(server: str, site: Path) -> None:
    code, out, err = add(site, f"{server}/japanese")
    assert code == 0, err
    source_id = out.splitlines()[-1].strip("[@]")
    archive = (site / f"content/archive/{source_id}.md").read_text("utf-8")
    assert "\n1. 島を結ぶ連絡船の乗組員は水曜日" in archive and "\n3. 欠航の間に" in archive


# `source add` where no `idna` package is installed (briefgen does not need one) and the host
# of another script resolves to this machine: what the test server is asked for.
_IDNA_HOST = "xn--e1afmkfd.xn--80akhbyknj4f"
_WITHOUT_IDNA = f"""
import socket, sys
sys.modules["idna"] = None  # as where it is not installed
resolve = socket.getaddrinfo
socket.getaddrinfo = lambda host, *rest, **kw: resolve("127.0.0.1" if host == "{_IDNA_HOST}" else host,
                                                       *rest, **kw)
from briefgen.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_host_in_another_script_is_asked_for_in_its_idna_form(server: str, site: Path) -> None:
    port = server.rsplit(":", 1)[1]
    _Handler.seen_hosts.clear()
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_IDNA, "source", "add", f"http://пример.испытание:{port}/article/wire",
         "--site", str(site)],
        capture_output=True, text=True, timeout=60, check=False,
        env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert done.returncode == 0, done.stderr
    assert _Handler.seen_hosts == [f"{_IDNA_HOST}:{port}"]


def test_plain_text_url_and_redirects_within_the_limit(server: str, site: Path) -> None:
    code, _, err = add(site, f"{server}/text/magazine", "--publisher", "The Quarterly Lens",
                       "--published", "2026-07-30")
    assert code == 0, err
    archive = (site / "content/archive/ql-small-towns.md").read_text("utf-8")
    assert "captured_from: url" in archive and f"url: {server}/text/magazine" in archive
    assert archive.count("\n\n") == 5  # six paragraphs
    code, out, err = add(site, f"{server}/hops/5")
    assert code == 0, err
    assert out.splitlines()[-1] == "[@mw-varnholm-port]"


def test_pasted_text_from_a_file_and_from_standard_input(site: Path) -> None:
    flags = ("--publisher", "Kessel Valley Gazette", "--published", "2026-01-22",
             "--url", "https://www.kesselgazette.example/news/bus-route")
    code, out, err = add(site, FIXTURES / "regional/pasted.txt", *flags)
    assert code == 0, err
    assert out.splitlines()[-1] == "[@kvg-kessel-valley]"
    archive = (site / "content/archive/kvg-kessel-valley.md").read_text("utf-8")
    assert "captured_from: text-file" in archive
    assert "\n1. Patients and visitors travelling" in archive
    assert "cookies" not in archive and "Most Read" not in archive

    if not EXAMPLE.is_file():
        pytest.skip(f"the shared example article is not on this machine ({EXAMPLE})")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "briefgen", "source", "add", "-", "--site", str(site),
         "--id", "mt-kerry-restraint", "--publisher", "The Moscow Times", "--published", "2016-08-02",
         "--url", "https://www.themoscowtimes.com/2016/08/02/russia-must-restrain"],
        input=EXAMPLE.read_bytes(), capture_output=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().splitlines()[-1] == "[@mt-kerry-restraint]"
    archive = (site / "content/archive/mt-kerry-restraint.md").read_text("utf-8")
    assert "captured_from: stdin" in archive
    assert f"sha256: {hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()}" in archive
    numbers = re.findall(r"^(\d+)\. ", archive.split("---\n", 2)[2], re.MULTILINE)
    assert numbers == [str(n) for n in range(1, 10)]
    assert (site / "content/sources/the-moscow-times.yaml").is_file()


def test_flags_override_what_the_page_says(site: Path) -> None:
    code, out, err = add(site, FIXTURES / "tabloid/page.html", "--id", "blaze-pram", "--title", "Pram caught",
                         "--publisher", "Daily Blaze", "--published", "2026-04-10")
    assert code == 0, err
    assert out.splitlines()[-1] == "[@blaze-pram]"
    entry = yaml.safe_load((site / "content/sources/daily-blaze.yaml").read_text("utf-8"))[0]
    assert (entry["title"], entry["publisher"], str(entry["published"])) == ("Pram caught", "Daily Blaze",
                                                                             "2026-04-10")
    assert entry["url"] == expected("tabloid")["url"]
    assert "captured_from: html-file" in (site / "content/archive/blaze-pram.md").read_text("utf-8")


def test_missing_field_is_asked_for_on_a_terminal(site: Path) -> None:
    import pty

    env = dict(os.environ, PYTHONPATH=str(REPO))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "source", "add", str(FIXTURES / "liveblog/pasted.txt"),
         "--site", str(site), "--publisher", "City Live", "--published", "2026-10-11"],
        stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    os.close(terminal)
    os.write(controller, b"https://www.citylive.example/live/storm-edda\n")
    out, err = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines()[-1] == "[@cl-storm-edda]"
    assert "The article's URL was not found (--url)" in err.decode()
    entry = yaml.safe_load((site / "content/sources/city-live.yaml").read_text("utf-8"))[0]
    assert entry["url"] == "https://www.citylive.example/live/storm-edda"


# ---------------------------------------------------------------- failures: one line, nothing written


def _fails(site: Path, *args: str | Path, message: str) -> None:
    files = tree_bytes(site)
    code, out, err = add(site, *args)
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("briefgen: error: "), err
    assert re.search(message, lines[0]), lines[0]
    assert tree_bytes(site) == files


@pytest.mark.parametrize(("path", "message"), [
    ("/gone", r"answered 404"),
    ("/broken", r"answered 500"),
    ("/image", r"not an HTML or text page \(Content-Type image/png\)"),
    ("/huge", r"larger than 5 MB"),
    ("/loop", r"more than 5 redirects"),
    ("/hops/6", r"more than 5 redirects"),
    ("/to-ftp", r"redirected to a non-web URL"),
    ("/nav-only", r"no article text found"),
    ("/empty", r"no article text found"),
    ("/article/paywall", r"paywall"),
])
def test_fetch_failures(server: str, site: Path, path: str, message: str) -> None:
    _fails(site, f"{server}{path}", message=message)


@pytest.mark.parametrize("path", ["/slow", "/trickle"])
def test_timeout(server: str, site: Path, path: str) -> None:
    started = time.monotonic()
    _fails(site, f"{server}{path}", "--timeout", "1.5", message=r"timed out after 1.5 s")
    # Both answers take 10 s in all; the margin is for a process starting on a busy machine.
    assert time.monotonic() - started < 7


def test_unreachable_and_non_web_urls(site: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _fails(site, f"http://127.0.0.1:{port}/article", message=r"cannot connect")
    _fails(site, "ftp://127.0.0.1/article", message=r"only http and https")


def test_bad_input_and_missing_fields(site: Path) -> None:
    _fails(site, FIXTURES / "paywall/pasted.txt", "--publisher", "X", message=r"paywall stub")
    _fails(site, FIXTURES / "wire/pasted.txt",
           message=r"could not find the article's publisher, URL and publication date; "
                   r"give --publisher \.\.\. --url \.\.\. --published \.\.\.")
    _fails(site, FIXTURES / "wire/page.html", "--published", "3 March", message=r"--published must be a date")
    _fails(site, FIXTURES / "wire/page.html", "--id", "Bad Id", message=r"--id 'Bad Id' must start")
    _fails(site, FIXTURES / "wire/page.html", "--id", "mw-older-story", message=r"is taken already")
    _fails(site, FIXTURES / "wire/page.html", "--url", "mailto:x@example.org",
           message=r"--url must start with http:// or https://")
    _fails(site, site / "no-such-file.html", message=r"no such file")
    (site / "empty.html").write_bytes(b"")
    _fails(site, site / "empty.html", "--publisher", "X", "--url", "https://x.example/e",
           "--published", "2026-01-01", message=r"empty\.html: no article text found")


def test_a_site_whose_settings_are_kept_elsewhere(site: Path, tmp_path: Path) -> None:
    settings = tmp_path / "elsewhere.toml"
    (site / "briefgen.toml").rename(settings)
    code, _, err = add(site, FIXTURES / "wire/page.html")
    assert code == 2 and "--config FILE" in err
    code, out, err = add(site, FIXTURES / "wire/page.html", "--config", settings)
    assert code == 0, err
    assert out.splitlines()[-1].startswith("[@")
    code, _, err = add(site, FIXTURES / "wire/page.html", "--config", tmp_path / "missing.toml")
    assert code != 0 and "Traceback" not in err


def test_a_malformed_address_is_one_line_of_error(site: Path) -> None:
    _fails(site, "http://[::1/x", message=r"http://\[::1/x: not a valid URL")
    _fails(site, FIXTURES / "regional/pasted.txt", "--publisher", "Kessel Valley Gazette",
           "--published", "2026-01-22", "--url", "http://[2001:db8::1/port",
           message=r"--url is not a valid URL")


def test_a_registry_entry_with_a_malformed_address_stops_no_capture(site: Path) -> None:
    with (site / "content/sources/meridian.yaml").open("a", encoding="utf-8") as registry:
        registry.write("- id: mw-typo\n  title: A typo\n  publisher: Meridian Wire\n"
                       "  url: https://[example.org]/story\n")
    code, out, err = add(site, FIXTURES / "regional/pasted.txt", "--publisher", "Kessel Valley Gazette",
                         "--published", "2026-01-22", "--url", "https://www.kesselgazette.example/news/bus-route")
    assert code == 0, err
    assert out.splitlines()[-1] == "[@kvg-kessel-valley]"


def test_a_registry_of_windows_line_endings_keeps_them(server: str, site: Path) -> None:
    registry = site / "content/sources/meridian.yaml"
    before = registry.read_bytes().replace(b"\n", b"\r\n")
    registry.write_bytes(before)
    code, _, err = add(site, f"{server}/article/wire")
    assert code == 0, err
    after = registry.read_bytes()
    assert after.startswith(before) and b"\n" not in after.replace(b"\r\n", b""), after
    assert yaml.safe_load(after.decode("utf-8"))[-1]["id"] == "mw-varnholm-port"


def test_sources_of_bibtex_and_csl_json_registries_are_known(server: str, site: Path) -> None:
    wire = "https://www.meridianwire.example/business/varnholm-port-strike-2026-03-03/"
    (site / "content/sources/library.bib").write_text(
        "@article{mw-varnholm-port,\n  title = {Varnholm port strike},\n  journal = {Meridian Wire},\n"
        f"  url = {{{wire}}},\n  date = {{2026-03-03}},\n}}\n", encoding="utf-8")
    before = {path: path.read_bytes() for path in (site / "content/sources").iterdir()}
    code, out, err = add(site, f"{server}/article/wire")
    assert code == 0, err
    assert "Already registered as mw-varnholm-port in content/sources/library.bib" in out, out
    assert {path: path.read_bytes() for path in (site / "content/sources").iterdir()} == before
    # An id a CSL-JSON file holds is taken: the new entry's is made longer.
    (site / "content/sources/library.bib").unlink()
    (site / "content/sources/zotero.json").write_text(
        '[{"id": "mw-varnholm-port", "type": "article-newspaper", "title": "Another story",'
        ' "container-title": "Meridian Wire", "URL": "https://elsewhere.example/a",'
        ' "issued": {"date-parts": [[2026, 3, 1]]}}]', encoding="utf-8")
    code, out, err = add(site, f"{server}/article/wire")
    assert code == 0, err
    assert out.splitlines()[-1] == "[@mw-varnholm-port-strike]", out
    assert build_ok(site).code == 0


def test_wrong_usage_exits_2(site: Path, tmp_path: Path) -> None:
    assert run_cli("source").code == 2
    assert run_cli("source", "add").code == 2
    code, _, err = add(tmp_path, FIXTURES / "wire/page.html")  # tmp_path has no briefgen.toml
    assert code == 2 and "is not a briefgen site" in err
    assert not (tmp_path / "content").exists()
    code, _, err = add(site, FIXTURES / "wire/page.html", "--timeout", "0")
    assert code == 2 and "--timeout" in err


def test_broken_registry_is_reported_not_overwritten(site: Path) -> None:
    (site / "content/sources/broken.yaml").write_text("- id: x\n  title: [unclosed\n", "utf-8")
    _fails(site, FIXTURES / "wire/page.html", message=r"broken\.yaml: cannot read this registry file")


def test_build_does_not_load_the_capture_code(site: Path) -> None:
    probe = ("import sys; from briefgen.cli import main; code = main(['build', '-q', sys.argv[1]]); "
             "heavy = [m for m in ('trafilatura', 'htmldate', 'urllib3', 'briefgen.sources') "
             "if m in sys.modules]; "
             "print(code, heavy)")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", probe, str(site)], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.stdout.strip() == "0 []", done.stderr
