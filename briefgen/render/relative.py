"""`relative_urls = true`: links inside the site rewritten relative to the page, so the
output works opened from disk (file://), where "/" is the file system's root."""

from __future__ import annotations

import posixpath
import re

# An address in an attribute, in double quotes or single ones (a theme may write either);
# srcset holds several, each with its width or density after it.
_ATTRIBUTE = re.compile(r"""(\s(?:href|src|action|srcset)=)(?:"([^"]*)"|'([^']*)')""")
_SRCSET_ADDRESS = re.compile(r"(^|,)(\s*)([^\s,]+)")


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

    def rewrite(found: re.Match[str]) -> str:
        quote = '"' if found.group(2) is not None else "'"
        value = found.group(2) if found.group(2) is not None else found.group(3)
        if found.group(1).endswith("srcset="):
            value = _SRCSET_ADDRESS.sub(lambda m: m.group(1) + m.group(2) + relative(m.group(3)), value)
        else:
            value = relative(value)
        return f"{found.group(1)}{quote}{value}{quote}"

    return _ATTRIBUTE.sub(rewrite, html)
