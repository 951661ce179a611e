"""What the live preview adds to the pages it serves: the reload script, the
error overlay, and the server-sent events that drive them.

The script listens to the events stream; on a successful rebuild that changed
its page it fetches the page again and swaps the body in (or reloads), and on
a failed one it shows the errors over the last good version.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Final

EVENTS_PATH: Final = "/__briefgen__/events"
STATUS_PATH: Final = "/__briefgen__/status"
OVERLAY_ID: Final = "briefgen-error-overlay"

_UNSHOWN_SUFFIXES: Final = (".xml", ".json", ".txt")
_MAX_CHANGED_URLS: Final = 500  # above this, tell every page to reload


_OVERLAY_STYLE: Final = (
    "position:fixed;z-index:2147483647;left:0;right:0;top:0;max-height:70vh;overflow:auto;"
    "margin:0;padding:1rem 1.25rem;background:#3b0d0c;color:#fff;"
    "font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
    "box-shadow:0 4px 16px rgba(0,0,0,.4);border-bottom:4px solid #e5484d;text-align:left"
)
_OVERLAY_TITLE: Final = "briefgen: the build failed; showing the last good version"
_OVERLAY_TITLE_NONE_YET: Final = "briefgen: the build failed; nothing has built yet"
# Every box property is set here: the theme's own `pre` style (a light background in a
# light theme) must not show through and leave pale text on a pale box.
_PRE_STYLE: Final = ("margin:.5rem 0 0;padding:0;border:0;background:transparent;white-space:pre-wrap;"
                     "font:inherit;color:#ffd7d5")
_BUTTON_STYLE: Final = ("float:right;font:inherit;background:#fff;color:#3b0d0c;border:0;"
                        "border-radius:3px;padding:.15rem .6rem;cursor:pointer")


def _script_json(value: object) -> str:
    """JSON that is safe inside a <script> element."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _overlay_title(status: int) -> str:
    """What the overlay says is shown: the placeholder (503) stands where no good build is yet."""
    return _OVERLAY_TITLE_NONE_YET if status == 503 else _OVERLAY_TITLE


def overlay_html(errors: Iterable[str], status: int = 200) -> str:
    lines = "\n".join(html.escape(line) for line in errors)
    return (f'<div id="{OVERLAY_ID}" role="alert" style="{_OVERLAY_STYLE}">'
            f'<button type="button" style="{_BUTTON_STYLE}" '
            f'onclick="this.parentNode.parentNode.removeChild(this.parentNode)">Dismiss</button>'
            f"<strong>{html.escape(_overlay_title(status))}</strong>"
            f'<pre style="{_PRE_STYLE}">{lines}</pre></div>')


def live_snippet(version: str, base: str, errors: Sequence[str], status: int) -> bytes:
    """The overlay (when the build is broken) and the reload script, for one HTML response."""
    state = {"version": version, "base": base, "events": EVENTS_PATH,
             "status": status, "notFound": status != 200, "id": OVERLAY_ID, "title": _overlay_title(status),
             "style": _OVERLAY_STYLE, "pre": _PRE_STYLE, "button": _BUTTON_STYLE}
    overlay = overlay_html(errors, status) if errors else ""
    return (f'{overlay}<script type="application/json" id="briefgen-live-state" data-briefgen>'
            f'{_script_json(state)}</script>\n'
            f'<script data-briefgen="live-reload">\n{client_script()}</script>\n').encode()


@functools.cache
def client_script() -> str:
    """The client, shipped beside this module as package data."""
    return resources.files(__package__).joinpath("livereload.js").read_text(encoding="utf-8")


def inject(page: bytes, snippet: bytes) -> bytes:
    """Insert snippet before the last </body>, or append it when there is none."""
    at = page.lower().rfind(b"</body")
    return page + snippet if at < 0 else page[:at] + snippet + page[at:]


PLACEHOLDER: Final = (b"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       b"<title>briefgen: build failed</title></head>\n<body>"
                       b"<h1>The site has not built yet</h1><p>This page updates by itself when "
                       b"the errors are fixed.</p>\n</body></html>\n")


def failed_page(message: str) -> bytes:
    """In place of a page whose rendering failed when a reader asked for it: the error."""
    return (b"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            b"<title>briefgen: this page failed to render</title></head>\n<body>"
            b"<h1>This page could not be rendered</h1><pre>" + html.escape(message).encode()
            + b"</pre><p>It updates by itself when the error is fixed.</p>\n</body></html>\n")


def changed_urls(files: Iterable[str], base: str) -> list[str] | None:
    """The URL paths of changed pages, or None when every page should reload.

    Assets such as images or style sheets change what any page shows; feeds,
    the sitemap and robots.txt change no page.
    """
    urls: set[str] = set()
    for name in files:
        if name.endswith(".html"):
            urls.add(base + name)
            if name == "index.html" or name.endswith("/index.html"):
                urls.add(base + name[: -len("index.html")])
        elif not name.endswith(_UNSHOWN_SUFFIXES):
            return None
    return sorted(urls) if len(urls) <= _MAX_CHANGED_URLS else None


def assets_changed(files: Iterable[str]) -> bool:
    """Whether a file a page loads (a style sheet, an image) changed: a page then reloads in
    full, since one of the site's own static files keeps its name and the page its head."""
    return any(not name.endswith((".html", *_UNSHOWN_SUFFIXES)) for name in files)


def build_event(seq: int, payload: dict[str, object]) -> bytes:
    """One server-sent event telling pages about a rebuild."""
    return f"id: {seq}\nevent: build\ndata: {json.dumps(payload)}\n\n".encode()
