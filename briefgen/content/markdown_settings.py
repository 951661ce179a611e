"""The Markdown extensions every document is converted with, and the key that names
them in caches; apart from markup.py, which converts, so that a build that changes
nothing can name them without importing Markdown."""

from __future__ import annotations

# Quotes, dashes and ellipses are educated by briefgen's typography pass, which
# writes what the smarty extension wrote in a fraction of its time.
MARKDOWN_EXTENSIONS: tuple[str, ...] = (
    "tables", "fenced_code", "footnotes", "toc", "sane_lists", "attr_list", "def_list",
)
# Part of every cache key: a change here, in what a conversion counts (its words, see
# content/scripts.py; v7: Thai's, Lao's, Myanmar's and Khmer's), in what a parse reports or
# keeps of the front matter (v10: a title without a slug and a topic without letters found
# there, `language` checked, an update before the date), in the ids it gives headings (v4), in
# the quotations it finds (v5; v9: in Japanese brackets) or in the HTML it writes (v6: tables in
# a box that scrolls; v8: headings from h2, without a gap; v11: cited headings' ids made unique
# in document order, the first paragraph's text keeping its superscripts and attributes,
# citations side by side grouped, quotations read without their footnote references and
# citations; CSL-JSON titles without their rich text's tags; a footnote nothing refers to
# warned of, without its back-link; an archive's control characters blanked) must
# invalidate converted documents.
# It still names smarty because the typography pass's output is smarty's, so documents
# converted before it are still valid.
MARKDOWN_SETTINGS_KEY = "md-v11:tables,fenced_code,footnotes,smarty,toc,sane_lists,attr_list,def_list"
