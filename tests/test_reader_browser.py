"""The reader's experience in a real browser: citation popovers (mouse, keyboard,
touch, no JavaScript), axe-core with a popover open, layout shift, the layout at
desktop and phone widths, and a relative-URL build opened from file://.

Runs the installed Chromium (/usr/bin/chromium) headless; it never downloads one.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import build_ok, make_site
from test_reader import FILES, MAIN_URL, config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is not installed (the test never downloads a browser)"),
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _StallingHandler(_QuietHandler):
    """Serves `?stall=N&pause=S` by sending the first N bytes, pausing S seconds, then the
    rest: the browser paints the part it has, as it does for a reader on a slow connection."""

    def copyfile(self, source: Any, outputfile: Any) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if "stall" not in query:
            super().copyfile(source, outputfile)
            return
        data, cut = source.read(), int(query["stall"][0])
        outputfile.write(data[:cut])
        outputfile.flush()
        time.sleep(float(query["pause"][0]))
        outputfile.write(data[cut:])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("reader-browser")
    # Served at the root, so the base URL has no sub-path here.
    root = make_site(base, FILES, config().replace("https://example.org/news/", "https://example.org/"))
    build_ok(root)
    return root / "output"


@contextlib.contextmanager
def _serving(folder: Path) -> Iterator[str]:
    """A static server of `folder` (which can stall a file, see _StallingHandler): its address."""
    handler = functools.partial(_StallingHandler, directory=str(folder))
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
def server(site: Path) -> Iterator[str]:
    with _serving(site) as address:
        yield address


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _page(browser: Any, url: str, **options: Any) -> Any:
    context = browser.new_context(**options)
    tab = context.new_page()
    tab.goto(url)
    return tab


def test_click_opens_the_source_in_a_popover(browser: Any, server: str) -> None:
    tab = _page(browser, server + MAIN_URL, viewport={"width": 1280, "height": 900})
    marker = tab.locator('a[role="doc-noteref"]').first
    marker.click()
    pop = tab.locator(".cite-pop")
    assert pop.is_visible()
    text = pop.inner_text()
    assert "Harbour cranes stand idle" in text and "Coast Ledger" in text and "2 March 2021" in text
    assert marker.get_attribute("aria-expanded") == "true"
    assert marker.get_attribute("aria-describedby") == "cite-pop"
    assert tab.evaluate("location.hash") == "", "with the script, a click does not jump away"
    box, at = pop.bounding_box(), marker.bounding_box()
    assert box["y"] >= at["y"] + at["height"] - 1, "the popover opens below its marker"
    tab.mouse.click(5, 5)
    assert tab.locator(".cite-pop").count() == 0, "a click elsewhere closes it"
    assert marker.get_attribute("aria-expanded") == "false"
    tab.context.close()


def test_keyboard_focus_opens_tab_enters_and_escape_closes(browser: Any, server: str) -> None:
    tab = _page(browser, server + MAIN_URL)
    marker = tab.locator('a[role="doc-noteref"]').nth(2)
    marker.focus()
    pop = tab.locator(".cite-pop")
    assert pop.is_visible() and "Rail workers walk out" not in pop.inner_text()
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.closest('.cite-pop') !== null"), "Tab enters the popover"
    tab.keyboard.press("Escape")
    assert tab.locator(".cite-pop").count() == 0
    assert tab.evaluate("document.activeElement.getAttribute('role')") == "doc-noteref"
    tab.context.close()


def test_the_popover_is_the_markers_description_and_enter_follows_the_marker(browser: Any,
                                                                              server: str) -> None:
    tab = _page(browser, server + MAIN_URL)
    marker = tab.locator('a[role="doc-noteref"]').first
    marker.focus()
    assert tab.locator(".cite-pop").is_visible()
    cdp = tab.context.new_cdp_session(tab)
    node = cdp.send("Accessibility.queryAXTree", {
        "objectId": cdp.send("Runtime.evaluate", {
            "expression": "document.querySelector('a[role=\"doc-noteref\"]')"})["result"]["objectId"]})
    (found,) = [n for n in node["nodes"] if n.get("role", {}).get("value") == "doc-noteref"]
    description = found["description"]["value"]
    assert "Harbour cranes stand idle" in description and "Coast Ledger" in description, description

    tab.keyboard.press("Enter")
    assert tab.evaluate("location.hash") == "#source-1", "Enter follows the link to the entry"
    assert tab.locator(".cite-pop").count() == 0

    marker.click()
    tab.locator(".cite-pop a", has_text="All sources").click()
    assert tab.evaluate("location.hash") == "#sources-heading", "to the list, as its name says"
    assert tab.locator(".cite-pop").count() == 0, "closed, not left open far above"
    tab.context.close()


def test_tap_opens_the_popover_on_a_touch_screen(browser: Any, server: str) -> None:
    tab = _page(browser, server + MAIN_URL, viewport={"width": 390, "height": 844}, has_touch=True,
                is_mobile=True)
    tab.locator('a[role="doc-noteref"]').first.tap()
    pop = tab.locator(".cite-pop")
    assert pop.is_visible()
    box = pop.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "the popover stays on the screen"
    tab.context.close()


def test_without_javascript_a_marker_links_to_the_sources_list(browser: Any, server: str) -> None:
    tab = _page(browser, server + MAIN_URL, java_script_enabled=False)
    tab.locator('a[role="doc-noteref"]').first.click()
    assert tab.evaluate("location.hash") == "#source-1"
    assert tab.locator(".cite-pop").count() == 0
    tab.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_axe_violations_with_a_popover_open(browser: Any, server: str, scheme: str) -> None:
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    tab = _page(browser, server + MAIN_URL, color_scheme=scheme)
    tab.locator('a[role="doc-noteref"]').first.click()
    results = axe.run(tab)
    violations = results.response["violations"]
    assert not violations, results.generate_report()
    tab.context.close()


# Sums the layout shifts Chromium reports (what the Core Web Vitals call CLS). Once a test sets
# `window.__early` (the elements on the page at one moment), only shifts that move one of those
# count: after a stall the parser may yield again, and what that moves arrived later.
SHIFT_OBSERVER = """
    window.__shift = 0;
    window.__shifted = [];
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) {
        const nodes = (e.sources || []).map(s => s.node);
        const moved = window.__early ? nodes.filter(node => node && window.__early.has(node)) : nodes;
        if (e.hadRecentInput || !moved.length && window.__early) continue;
        window.__shift += e.value;
        for (const node of moved)
          window.__shifted.push(node ? (node.outerHTML || node.textContent).slice(0, 80) : "text");
      }
    }).observe({type: "layout-shift", buffered: true});
"""
# Keeps the page unpainted until it is parsed. Under load the HTML parser yields mid-page and
# Chromium paints what it has; what moves then is covered by the streaming test below, so this
# one sees only what the stylesheet and scripts do to a parsed page.
HOLD_UNTIL_PARSED = """
    const hold = new CSSStyleSheet();
    hold.replaceSync("html { visibility: hidden !important; }");
    document.adoptedStyleSheets = [hold];
    document.addEventListener("DOMContentLoaded", () => { document.adoptedStyleSheets = []; });
"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("path", ["", MAIN_URL])
def test_no_layout_shift_and_no_sideways_scrolling(browser: Any, server: str, width: int, path: str) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    tab = context.new_page()
    tab.add_init_script(SHIFT_OBSERVER + HOLD_UNTIL_PARSED)
    tab.goto(server + path)
    tab.wait_for_load_state("load")
    tab.wait_for_timeout(300)
    assert tab.evaluate("window.__shift") == 0, tab.evaluate("window.__shifted")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_the_search_page_does_not_move_as_its_script_and_results_arrive(browser: Any, server: str,
                                                                       width: int) -> None:
    """Painted before its script runs, then the form swapped in, the filters filled and the
    results of the address's query listed: nothing a reader sees moves (it moved by 0.09-0.28)."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    tab = context.new_page()
    tab.add_init_script(SHIFT_OBSERVER)
    tab.goto(server + "search/?q=grain")
    tab.wait_for_selector("#search-results li")
    tab.wait_for_timeout(300)
    assert tab.evaluate("window.__shift") == 0, tab.evaluate("window.__shifted")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


WIDE = """\
---
title: "Bundesverfassungsgerichtsentscheidungen zusammengefasst"
date: 2021-03-05
topics: [Trade]
summary: "See https://example.org/a/very/long/address/averyverylongslugwithoutanyhyphensatallreally"
---
| Country | Capital | Population | Area | Currency | Language |
| --- | --- | --- | --- | --- | --- |
| Germany | Berlin | 84,000,000 | 357,022 km2 | Euro | German |
| Digest | sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 | | | | |

Quelle: <https://www.example.com/news/2021/averyverylongslugwithoutanyhyphensatallreallyanditgoeson>
"""


@pytest.mark.parametrize("width", [320, 768])
def test_wide_tables_and_long_words_never_scroll_the_page_sideways(browser: Any, tmp_path: Path,
                                                                  width: int) -> None:
    root = make_site(tmp_path, {**FILES, "content/briefings/2021/wide.md": WIDE},
                     config().replace("https://example.org/news/", "https://example.org/"))
    build_ok(root)
    with _serving(root / "output") as address:
        context = browser.new_context(viewport={"width": width, "height": 800})
        tab = context.new_page()
        for path in ["", "2021/03/05/bundesverfassungsgerichtsentscheidungen-zusammengefasst/"]:
            tab.goto(address + path)
            assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        # The wide table scrolls in its own box instead, which a keyboard can reach and scroll.
        if width == 320:
            wide = "(t => t.scrollWidth > t.clientWidth)(document.querySelector('.prose .table-scroll'))"
            assert tab.evaluate(wide)
            assert tab.evaluate("getComputedStyle(document.querySelector('.prose table')).display") == "table"
            tab.locator(".prose .table-scroll").focus()
            tab.keyboard.press("ArrowRight")
            tab.wait_for_function("document.querySelector('.prose .table-scroll').scrollLeft > 0")
            axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
            found = axe.run(tab).response["violations"]
            assert not [v["id"] for v in found], found
        context.close()


def test_the_search_boxs_placeholder_reads_at_the_themes_contrast(browser: Any, server: str) -> None:
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        tab = context.new_page()
        tab.goto(server)
        colours = tab.evaluate("""() => {
            const field = document.querySelector('.search-box__input');
            return [getComputedStyle(field, '::placeholder').color, getComputedStyle(field).backgroundColor,
                    getComputedStyle(field, '::placeholder').opacity];
        }""")
        placeholder, background, opacity = colours
        assert float(opacity) == 1 and _contrast(placeholder, background) >= 4.5, (scheme, colours)
        context.close()


def _contrast(first: str, second: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(x) / 255 for x in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    lighter, darker = sorted([luminance(first), luminance(second)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _end_of(pattern: str, html: bytes) -> int:
    found = re.search(pattern.encode(), html, re.DOTALL)
    assert found, pattern
    return found.end()


# Where a slow connection may leave the page: after one item of the header's menu, after the
# menu, inside the search form, after the header, and before the side column.
STALL_POINTS = {
    "in the menu": r'<nav class="site-nav".*?</li>',
    "after the menu": r"</nav>",
    "in the search box": r'<input class="search-box__input"[^>]*>',
    "after the header": r"</header>",
    "before the side column": r'(?=<aside class="layout__side")',
}


@pytest.mark.parametrize("stall", list(STALL_POINTS))
@pytest.mark.parametrize("path", ["", MAIN_URL])
def test_what_is_painted_before_the_rest_arrives_does_not_move(
        browser: Any, server: str, site: Path, path: str, stall: str) -> None:
    cut = _end_of(STALL_POINTS[stall], (site / path / "index.html").read_bytes())
    for width in (1280, 390):
        # The first paint waits for the stylesheet and a new renderer; a busy machine may need
        # a longer pause before the browser has painted the part it has.
        for pause in (0.5, 1.5, 4.5):
            context = browser.new_context(viewport={"width": width, "height": 800})
            tab = context.new_page()
            tab.add_init_script(SHIFT_OBSERVER)
            tab.goto(f"{server}{path}?stall={cut}&pause={pause}", wait_until="commit")
            tab.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0",
                                  timeout=(pause + 10) * 1000)
            # What the page holds now is what was painted, if the rest has not arrived yet.
            stalled = tab.evaluate("""
                window.__early = new Set(document.querySelectorAll("*"));
                document.readyState === "loading" && !document.querySelector(".site-footer")""")
            tab.wait_for_load_state("load")
            tab.wait_for_timeout(300)
            shift, shifted = tab.evaluate("window.__shift"), tab.evaluate("window.__shifted")
            context.close()
            if stalled:
                break
        assert stalled, "the browser painted the part it had before the rest arrived"
        assert shift == 0, (width, shifted)


def test_side_column_beside_on_desktop_below_on_a_phone(browser: Any, server: str) -> None:
    for width, beside in ((1280, True), (390, False)):
        tab = _page(browser, server, viewport={"width": width, "height": 900})
        main, side = tab.locator(".layout__main").bounding_box(), tab.locator(".layout__side").bounding_box()
        if beside:
            assert side["x"] >= main["x"] + main["width"], "the side column is to the right"
            assert main["width"] > 600, "headlines use the line"
        else:
            assert side["y"] >= main["y"] + main["height"], "one column on a phone"
        tab.context.close()


def test_relative_build_works_from_file(browser: Any, tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config(build_extra="relative_urls = true"))
    build_ok(root)
    tab = _page(browser, (root / "output/index.html").as_uri())
    background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(253, 252, 249)", "the stylesheet loads from disk"
    tab.locator(".briefing-item__title a").first.click()
    tab.wait_for_load_state("load")
    assert tab.url.endswith("/2021/03/03/port-strike-halts-grain-exports/index.html")
    assert tab.locator("h1").inner_text() == "Port strike halts grain exports"
    tab.locator('a[role="doc-noteref"]').first.click()
    assert tab.locator(".cite-pop").is_visible(), "the script loads from disk too"
    tab.context.close()


def test_popover_shows_the_cited_passage_when_the_page_has_it(browser: Any, tmp_path: Path) -> None:
    # With an archived copy of the source, the Sources list shows the cited passages and
    # the popover shows them instead of the bare locators.
    paragraphs = "\n\n".join(f"{n}. Harbour paragraph {n}." for n in range(1, 10)).replace(
        "4. Harbour paragraph 4.", "4. Not one crane moved all week.")
    archive = ("---\nid: harbour-report\nurl: https://example.org/harbour\ntitle: Harbour report\n"
               "publisher: Coast Ledger\naccessed: 2021-03-03T00:00:00Z\nsha256: 00\n"
               f"captured_from: text-file\n---\n{paragraphs}\n")
    root = make_site(tmp_path, {**FILES, "content/archive/harbour-report.md": archive},
                     config("en").replace("https://example.org/news/", "https://example.org/"))
    build_ok(root)
    handler = functools.partial(_QuietHandler, directory=str(root / "output"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        tab = _page(browser, f"http://127.0.0.1:{httpd.server_address[1]}/{MAIN_URL}")
        assert "Not one crane moved all week." in tab.locator("#source-1").inner_text()
        tab.locator('a[role="doc-noteref"]').first.click()
        popover = tab.locator(".cite-pop").inner_text()
        assert "Not one crane moved all week." in popover and "para. 4" in popover
        tab.locator('a[role="doc-noteref"]').nth(2).click()
        assert "Not one crane" not in tab.locator(".cite-pop").inner_text(), "only source 1 has one"
        assert tab.locator(".cite-pop").count() == 1, "one popover at a time"
        tab.context.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_right_to_left_layout_mirrors(browser: Any, tmp_path: Path) -> None:
    root = make_site(tmp_path, FILES, config("ar").replace("https://example.org/news/", "https://example.org/"))
    build_ok(root)
    handler = functools.partial(_QuietHandler, directory=str(root / "output"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        tab = _page(browser, f"http://127.0.0.1:{httpd.server_address[1]}/",
                    viewport={"width": 1280, "height": 900})
        main, side = tab.locator(".layout__main").bounding_box(), tab.locator(".layout__side").bounding_box()
        assert side["x"] + side["width"] <= main["x"], "the side column is on the left in RTL"
        title = tab.locator(".site-title").bounding_box()
        assert title["x"] > 640, "the site title starts on the right"
        tab.context.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


RIGHT_TO_LEFT = """\
---
title: "Gulf shipping resumes"
date: 2021-03-06
topics: [Trade]
sources:
  - id: jz-shipping
    title: "استئناف الملاحة في الخليج"
    publisher: "الجزيرة"
    url: https://example.org/jz/shipping
    published: 2021-02-01
---
Shipping resumed [@jz-shipping].
"""


def test_a_right_to_left_publisher_keeps_the_date_after_it_in_the_sources_list(browser: Any,
                                                                           tmp_path: Path) -> None:
    """Unisolated, an Arabic publisher took the date's day and comma into its own right-to-left
    run: "1 ,الجزيرة February 2021"."""
    root = make_site(tmp_path, {**FILES, "content/briefings/2021/rtl.md": RIGHT_TO_LEFT},
                     config().replace("https://example.org/news/", "https://example.org/"))
    build_ok(root)
    with _serving(root / "output") as address:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        tab = context.new_page()
        tab.goto(address + "2021/03/06/gulf-shipping-resumes/")
        meta = tab.locator("#source-1 .source__meta")
        publisher = meta.locator("a").first.bounding_box()
        day = meta.locator("time").bounding_box()
        assert publisher is not None and day is not None
        assert publisher["x"] + publisher["width"] <= day["x"], (publisher, day)
        # Read in order: the publisher, then the date.
        assert meta.inner_text().index("الجزيرة") < meta.inner_text().index("February")
        context.close()


def test_a_markers_popover_shows_the_passage_it_cites_and_no_other(browser: Any, tmp_path: Path) -> None:
    """Every marker of a source showed every passage cited of it, with nothing to tell them apart."""
    from test_archive_checks import ARCHIVE, REGISTRY

    body = ("It reopened [@lw-harbour, para. 1]. Delays followed [@lw-harbour, para. 3]. "
            "The strike was long [@lw-harbour].")
    root = make_site(tmp_path, {
        **FILES, "content/sources/lindmark.yaml": REGISTRY, "content/archive/lw-harbour.md": ARCHIVE,
        "content/briefings/2021/harbour.md": f"---\ntitle: Harbour\ndate: 2021-03-07\n---\n{body}\n",
    }, config().replace("https://example.org/news/", "https://example.org/"))
    build_ok(root)
    with _serving(root / "output") as address:
        tab = _page(browser, address + "2021/03/07/harbour/")
        markers = tab.locator('.prose a[role="doc-noteref"]')
        shown = []
        for n in range(3):
            markers.nth(n).click()
            box = tab.locator("#cite-pop")
            box.wait_for()
            shown.append([text.strip() for text in box.locator(".cite-pop__passage p").all_inner_texts()])
        assert shown[0] == [
            "The harbour of Lindmark reopened on Tuesday after a strike that lasted three weeks."]
        assert shown[1] == ["Shipping firms said that delays would last until the end of the month."]
        assert shown[2] == []
        tab.context.close()
