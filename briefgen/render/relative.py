"""`relative_urls = true`: links inside the site rewritten relative to the page, so the
output works opened from disk (file://), where "/" is the file system's root."""

from __future__ import annotations

import posixpath
import re

_ATTRIBUTE = re.compile(r'(\s(?:href|src|action)=")([^"]*)(")')


def relative_links(html: str, page_rel: str, base_path: str) -> str:
    """Rewrite href/src values under base_path; a folder link gets index.html, since a
    browser shows no folder index from disk."""
    here = page_rel if page_rel.endswith("/") or not page_rel else posixpath.dirname(page_rel) + "/"

    def rewrite(found: re.Match[str]) -> str:
        value = found.group(2)
        if not value.startswith(base_path) or value.startswith("//"):
            return found.group(0)
        path, hash_mark, fragment = value[len(base_path):].partition("#")
        path, question, query = path.partition("?")
        if path == "" or path.endswith("/"):
            path += "index.html"
        relative = posixpath.relpath(path, here.rstrip("/") or ".")
        rebuilt = relative + question + query + hash_mark + fragment
        return found.group(1) + rebuilt + found.group(3)

    return _ATTRIBUTE.sub(rewrite, html)
