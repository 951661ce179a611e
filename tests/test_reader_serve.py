"""`briefgen serve --future --base-url`: the live preview takes the build's options."""

from __future__ import annotations

from pathlib import Path

from test_serve import A_MD, Served, briefing, make_site

from briefgen.serve.server import DevServer

FUTURE_URL = "2099/01/02/alpha-briefing/"


def test_serve_future_and_base_url(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
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
