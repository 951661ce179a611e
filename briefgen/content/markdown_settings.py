"""The Markdown extensions every document is converted with, and the key that names
them in caches; apart from markup.py, which converts, so that a build that changes
nothing can name them without importing Markdown."""

from __future__ import annotations

MARKDOWN_EXTENSIONS: tuple[str, ...] = (
    "tables", "fenced_code", "footnotes", "smarty", "toc", "sane_lists", "attr_list", "def_list",
)
# Part of every cache key: a change here must invalidate converted documents.
MARKDOWN_SETTINGS_KEY = "md-v2:" + ",".join(MARKDOWN_EXTENSIONS)
