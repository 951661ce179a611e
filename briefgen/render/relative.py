"""`relative_urls = true`: links inside the site rewritten relative to the page, so the
output works opened from disk (file://), where "/" is the file system's root."""

from __future__ import annotations

import posixpath

from briefgen.render.addresses import change_addresses


def relative_links(html: str, page_rel: str, base_path: str) -> str:
    """Rewrite href/src values under base_path; a folder link gets index.html, since a
    browser shows no folder index from disk."""
    here = page_rel if page_rel.endswith("/") or not page_rel else posixpath.dirname(page_rel) + "/"

    def relative(value: str) -> str:
        if not value.startswith(base_path) or value.startswith("//"):
            return value
        path, hash_mark, fragment = value[len(base_path):].partition("#")
        path, question, query = path.partition("?")
        if path == "" or path.endswith("/"):
            path += "index.html"
        return posixpath.relpath(path, here.rstrip("/") or ".") + question + query + hash_mark + fragment

    return change_addresses(html, relative)
