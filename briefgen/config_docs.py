"""What each setting of `briefgen.toml` means, for `docs/configuration.md`.

Types and defaults are not restated here: the generator reads them from the
schema `config.py` validates against and from its settings dataclasses, and a
test fails when a setting has no text here or the document is out of date.
"""

from __future__ import annotations

SETTING_DOCS: dict[tuple[str, str], str] = {
    ("site", "title"): "The site's name: in every page title, the header, feeds and structured data. "
                       "Required.",
    ("site", "base_url"): "Where the site will be published, with its path "
                          "(`https://example.org/briefing/`). Canonical and feed URLs are absolute "
                          "on it; internal links carry its path, "
                          "so the site works under a sub-path. A host or path in other scripts is "
                          "written as sitemaps and feeds require (`https://xn--bcher-kva.example/caf%C3%A9/` "
                          "for `https://bücher.example/café/`). `build --base-url` overrides it.",
    ("site", "language"): "The language of the content and of the interface: `<html lang>`, every "
                          "interface string and date format (catalogs ship for `en`, `de`, `fr`, `es`, `ru`, "
                          "`zh`, `ja`; a theme or the site can add one in `templates/i18n/<language>.toml`, "
                          "whose name may be written with `-` or `_`, in any case). A tag with a region or "
                          "script reads its language's catalog, then its own (`de-AT`: `de.toml`, then "
                          "`de-AT.toml`); Chinese in traditional characters (`zh-Hant`, `zh-TW`, `zh-HK`) "
                          "does not read `zh.toml`, which is in simplified characters. "
                          "Right-to-left languages (`ar`, `he`, `fa`...) get `dir=\"rtl\"` and a "
                          "mirrored layout.",
    ("site", "timezone"): "IANA name of the timezone for dates and times written without an offset; "
                          "briefings are placed in days and months in it.",
    ("site", "description"): "One sentence about the site: the home page, the footer, feeds and "
                             "`<meta name=\"description\">` of pages without their own.",
    ("site", "theme"): "The theme: a folder in the site's `themes/`, or a theme shipped with briefgen "
                       "(`default`).",
    ("site", "cname"): "Custom domain written as `CNAME` by `publish --git-branch` (GitHub Pages).",
    ("site", "image"): "Sharing image (`og:image`, a large `twitter:card`) for pages without their own; "
                       "an absolute URL or a path on the site such as `/img/card.png` (put the file in "
                       "`static/`). A briefing's `image` front-matter key overrides it.",
    ("site", "extra_css"): "Stylesheets from the site's `static/` folder, linked after the theme's on "
                           "every page: change the look without copying a template.",
    ("site", "search"): "Build the search page (`/search/`), its index under `search/`, and the "
                        "search box in every page's header; `false` leaves all three out.",
    ("site", "extra_head"): "HTML added at the end of every page's `<head>` (analytics, a favicon "
                            "link, verification tags). Written as it is, not escaped.",
    ("build", "output"): "The folder the site is built into, relative to the site folder. "
                         "`build --output` overrides it.",
    ("build", "per_page"): "Briefings per page on the home page and topic pages.",
    ("build", "strict_quotes"): "Make a quotation that is not found in the archived copy of a source it "
                                "cites an error instead of a warning (see docs/sources.md).",
    ("build", "relative_urls"): "Make every internal link relative to its page (and end folder links in "
                                "`index.html`), so the built site works opened from disk (`file://`). "
                                "Canonical, feed and sharing URLs stay absolute. A host's 404 page is "
                                "served at any depth, so its relative links work only at the top level. "
                                "Search needs the site served over HTTP: opened from disk, the search "
                                "page says so.",
}
