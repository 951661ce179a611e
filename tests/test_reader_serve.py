"""`briefgen serve --future --base-url`: the live preview takes the build's options."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_serve import A_MD, A_URL, CHROMIUM, Served, briefing, serve_site

from briefgen.serve.livereload import OVERLAY_ID
from briefgen.serve.server import DevServer

FUTURE_URL = "2099/01/02/alpha-briefing/"


def test_serve_future_and_base_url(tmp_path: Path) -> None:
    site = serve_site(tmp_path)
    (site / A_MD).write_text(briefing("From the future", date="2099-01-02"), encoding="utf-8")
    for future, status in ((False, 404), (True, 200)):
        server = DevServer(site, "127.0.0.1", 0, future=future, base_url="http://127.0.0.1/preview/",
                           out=lambda _: None, err=lambda _: None)
        server.start()
        try:
            served = Served(server, site)
            response = served.get("/preview/" + FUTURE_URL)
            assert response.status == status, response.text[:300]
            if future:
                assert "From the future" in response.text
                assert 'href="/preview/topics/"' in response.text, "links carry the base URL's path"
        finally:
            server.stop()


CONTRAST = """(el) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let node = el, bg = null;
  while (node && node.nodeType === 1) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length < 4 || c[3] > 0) { bg = c; break; }
    node = node.parentElement;
  }
  const fg = rgb(getComputedStyle(el).color);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_error_overlay_is_readable_in_both_schemes(tmp_path: Path, scheme: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    site = serve_site(tmp_path)
    server = DevServer(site, "127.0.0.1", 0, out=lambda _: None, err=lambda _: None)
    server.start()
    try:
        served = Served(server, site)
        served.write(A_MD, briefing("Broken").replace("date: 2016-08-02", "date: 2016-13-45"))
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            try:
                tab = browser.new_page(color_scheme=scheme)
                tab.goto(f"http://127.0.0.1:{server.port}{A_URL}")
                overlay = tab.wait_for_selector(f"#{OVERLAY_ID}")
                assert overlay is not None
                for selector in (f"#{OVERLAY_ID} pre", f"#{OVERLAY_ID}"):
                    ratio = tab.locator(selector).first.evaluate(CONTRAST)
                    assert ratio >= 4.5, f"{selector}: contrast {ratio:.2f}:1 in {scheme}"
            finally:
                browser.close()
    finally:
        server.stop()
