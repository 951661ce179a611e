"""axe-core on one page of each kind of the demo site, in light and dark colour schemes.

Runs the installed Chromium (/usr/bin/chromium) headless through Playwright; it
never downloads a browser. One browser serves every page of the module.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, build_ok

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is not installed; the accessibility test needs it "
                              f"(it never downloads a browser)"),
]


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("a11y")
    site = base / "site"
    site.mkdir()
    shutil.copy2(REPO / "briefgen.toml", site / "briefgen.toml")
    shutil.copytree(REPO / "content", site / "content")
    out = base / "out"
    build_ok(site, "--output", out)
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(built_demo: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(built_demo))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def axe() -> Any:
    module = pytest.importorskip("axe_playwright_python.sync_playwright")
    return module.Axe()


def _first(out: Path, pattern: str) -> str:
    found = sorted(out.glob(pattern))
    assert found, f"the demo has no page matching {pattern}"
    return found[0].parent.relative_to(out).as_posix() + "/"


def _largest(out: Path, pattern: str) -> str:
    """The page with the most markup: the one with the most of what a theme must get right."""
    found = sorted(out.glob(pattern), key=lambda p: (-p.stat().st_size, str(p)))
    assert found, f"the demo has no page matching {pattern}"
    return found[0].parent.relative_to(out).as_posix() + "/"


def page_of_each_kind(out: Path) -> dict[str, str]:
    briefing = _largest(out, "[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*/index.html")
    day = briefing.rsplit("/", 2)[0] + "/"
    # A topic long enough to be paginated, when there is one.
    paginated = sorted(out.glob("topics/*/page/2/index.html"))
    topic = (paginated[0].parents[2].relative_to(out).as_posix() + "/" if paginated
             else _first(out, "topics/*/index.html"))
    publisher = _first(out, "sources/*/index.html")
    with_passages = sorted(p for p in out.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*/index.html")
                           if "source__passage" in p.read_text("utf-8"))
    assert with_passages, "no demo briefing shows an archived passage in its Sources list"
    return {
        "briefing with passages": with_passages[0].parent.relative_to(out).as_posix() + "/",
        "home": "",
        "briefing": briefing,
        "archive": "archive/",
        "year": day[:5],
        "month": day[:8],
        "day": day,
        "topics": "topics/",
        "topic": topic,
        "sources": "sources/",
        "publisher": publisher,
        "about page": "about/",
        "404": "404.html",
    }


KINDS = ["home", "briefing", "briefing with passages", "archive", "year", "month", "day", "topics",
         "topic", "sources", "publisher", "about page", "404"]


def _report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation.get('impact')}): {violation.get('help')}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node.get('html', '')[:200]}")
            summary = node.get("failureSummary")
            if summary:
                lines.append("      " + " ".join(summary.split()))
    return "\n".join(lines)


def test_every_kind_of_page_is_covered(built_demo: Path) -> None:
    pages = page_of_each_kind(built_demo)
    assert sorted(pages) == sorted(KINDS)
    for kind, rel in pages.items():
        target = built_demo / rel / "index.html" if rel == "" or rel.endswith("/") else built_demo / rel
        assert target.is_file(), f"{kind}: {rel} was not built"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", KINDS)
def test_no_axe_violations(built_demo: Path, server: str, browser: Any, axe: Any,
                           kind: str, scheme: str) -> None:
    rel = page_of_each_kind(built_demo)[kind]
    context = browser.new_context(color_scheme=scheme)
    try:
        tab = context.new_page()
        response = tab.goto(server + rel, wait_until="load")
        assert response is not None and response.ok, f"{rel} answered {response and response.status}"
        results = axe.run(tab)
        violations = results.response["violations"]
    finally:
        context.close()
    assert not violations, (
        f"{len(violations)} axe violation(s) on the {kind} page /{rel} ({scheme}):\n"
        + _report(violations)
    )


_LANDMARKS = """() => [...document.querySelectorAll(
    'header, nav, main, footer, aside, form[aria-label], form[aria-labelledby], '
    + 'section[aria-label], section[aria-labelledby], [role=region], [role=search]')]
  .filter(e => !(e.matches('header, footer') && e.closest('main, article, aside, nav, section')))
  .map(e => e.localName + (e.getAttribute('aria-label') ? ' ' + e.getAttribute('aria-label') : ''))"""


@pytest.mark.parametrize("kind", ["home", "month"])
def test_a_list_of_days_or_years_adds_no_landmark_for_each(built_demo: Path, server: str, browser: Any,
                                                           kind: str) -> None:
    rel = page_of_each_kind(built_demo)[kind]
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(server + rel, wait_until="load")
        landmarks = tab.evaluate(_LANDMARKS)
        days = tab.locator(".day, .archive-year").count()
    finally:
        context.close()
    assert days >= 2, f"/{rel} lists {days} days or years: the test needs a page of several"
    # The page's own: banner, navigations, search, main, footer, and a page's few labelled parts.
    assert len(landmarks) <= 8, landmarks
