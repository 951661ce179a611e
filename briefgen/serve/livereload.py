"""What the live preview adds to the pages it serves: the reload script, the
error overlay, and the server-sent events that drive them.

The script listens to the events stream; on a successful rebuild that changed
its page it fetches the page again and swaps the body in (or reloads), and on
a failed one it shows the errors over the last good version.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
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
_PRE_STYLE: Final = "margin:.5rem 0 0;white-space:pre-wrap;font:inherit;color:#ffd7d5"
_BUTTON_STYLE: Final = ("float:right;font:inherit;background:#fff;color:#3b0d0c;border:0;"
                        "border-radius:3px;padding:.15rem .6rem;cursor:pointer")

_CLIENT: Final = """\
(function () {
  "use strict";
  var state = %(state)s;
  var version = state.version, base = state.base;
  function hide() {
    var old = document.getElementById(state.id);
    if (old) old.parentNode.removeChild(old);
  }
  function show(errors) {
    hide();
    var box = document.createElement("div"), title = document.createElement("strong");
    var text = document.createElement("pre"), close = document.createElement("button");
    box.id = state.id; box.setAttribute("role", "alert"); box.setAttribute("style", state.style);
    close.type = "button"; close.textContent = "Dismiss";
    close.setAttribute("style", state.button);
    close.onclick = hide;
    title.textContent = state.title;
    text.setAttribute("style", state.pre); text.textContent = errors.join("\\n");
    box.appendChild(close); box.appendChild(title); box.appendChild(text);
    document.body.appendChild(box);
  }
  function here() {
    try { return decodeURIComponent(location.pathname); } catch (e) { return location.pathname; }
  }
  function reload() { source.close(); location.reload(); }
  function others(doc) { return doc.querySelectorAll("script:not([data-briefgen])").length; }
  // Fetch the page again and swap its body in: faster than a reload, keeps the scroll
  // position, and no flash. Anything else (the head changed, a status other than the one
  // shown, scripts of the theme, a network error) falls back to a full reload.
  var latest = 0, current = [];
  function update(target) {
    var ticket = ++latest;
    fetch(location.href, {cache: "no-store", credentials: "same-origin"}).then(function (r) {
      if (r.status !== state.status) throw new Error("status " + r.status);
      return r.text();
    }).then(function (text) {
      if (ticket !== latest) return;
      var doc = new DOMParser().parseFromString(text, "text/html");
      if (doc.head.innerHTML !== document.head.innerHTML || others(doc) || others(document)) {
        throw new Error("more than the body changed");
      }
      var drop = doc.querySelectorAll("script[data-briefgen], #" + state.id), i;
      for (i = 0; i < drop.length; i++) drop[i].parentNode.removeChild(drop[i]);
      var body = document.body, names = [];
      for (i = 0; i < body.attributes.length; i++) names.push(body.attributes[i].name);
      names.forEach(function (name) { body.removeAttribute(name); });
      for (i = 0; i < doc.body.attributes.length; i++) {
        body.setAttribute(doc.body.attributes[i].name, doc.body.attributes[i].value);
      }
      var nodes = Array.prototype.slice.call(doc.body.childNodes);  // a copy: adopting moves
      body.replaceChildren.apply(body, nodes.map(function (n) { return document.adoptNode(n); }));
      version = target;
      if (current.length) show(current);
    }).catch(reload);
  }
  var source = new EventSource(state.events);
  source.addEventListener("build", function (event) {
    var news = JSON.parse(event.data);
    current = news.errors;
    if (news.errors.length) { show(news.errors); return; }
    hide();
    if (news.version === version) return;
    if (news.base !== base && location.pathname.indexOf(base) === 0) {
      source.close();
      location.replace(news.base + location.pathname.slice(base.length) + location.search);
      return;
    }
    if (news.changed === null || state.notFound || news.changed.indexOf(here()) >= 0) {
      update(news.version);
      return;
    }
    version = news.version;
  });
})();
"""


def _script_json(value: object) -> str:
    """JSON that is safe inside a <script> element."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def overlay_html(errors: Iterable[str]) -> str:
    lines = "\n".join(html.escape(line) for line in errors)
    return (f'<div id="{OVERLAY_ID}" role="alert" style="{_OVERLAY_STYLE}">'
            f'<button type="button" style="{_BUTTON_STYLE}" '
            f'onclick="this.parentNode.parentNode.removeChild(this.parentNode)">Dismiss</button>'
            f"<strong>{html.escape(_OVERLAY_TITLE)}</strong>"
            f'<pre style="{_PRE_STYLE}">{lines}</pre></div>')


def live_snippet(version: str, base: str, errors: Sequence[str], status: int) -> bytes:
    """The overlay (when the build is broken) and the reload script, for one HTML response."""
    state = {"version": version, "base": base, "events": EVENTS_PATH,
             "status": status, "notFound": status != 200, "id": OVERLAY_ID, "title": _OVERLAY_TITLE,
             "style": _OVERLAY_STYLE, "pre": _PRE_STYLE, "button": _BUTTON_STYLE}
    overlay = overlay_html(errors) if errors else ""
    script = _CLIENT % {"state": _script_json(state)}
    return f'{overlay}<script data-briefgen="live-reload">\n{script}</script>\n'.encode()


def inject(page: bytes, snippet: bytes) -> bytes:
    """Insert snippet before the last </body>, or append it when there is none."""
    at = page.lower().rfind(b"</body")
    return page + snippet if at < 0 else page[:at] + snippet + page[at:]


PLACEHOLDER: Final = (b"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       b"<title>briefgen: build failed</title></head>\n<body>"
                       b"<h1>The site has not built yet</h1><p>This page updates by itself when "
                       b"the errors are fixed.</p>\n</body></html>\n")


def changed_files(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> set[str]:
    """Output files added, removed or with other bytes."""
    changed = {name for name, data in new.items()
               if old.get(name) is not data and old.get(name) != data}
    return changed | (old.keys() - new.keys())


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


def build_event(seq: int, payload: dict[str, object]) -> bytes:
    """One server-sent event telling pages about a rebuild."""
    return f"id: {seq}\nevent: build\ndata: {json.dumps(payload)}\n\n".encode()
