"""Slugs: lowercase ASCII words joined by hyphens, transliterated from any script."""

from __future__ import annotations

import functools
import re

from slugify import slugify

MAX_SLUG_LENGTH = 80
# "Aleppo's" should give "aleppos", not "aleppo-s".
_APOSTROPHES = [["'", ""], ["\u2019", ""]]
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@functools.lru_cache(maxsize=4096)
def make_slug(text: str) -> str:
    """Derive a slug from a title or name; empty when the text has no letters or digits."""
    return str(slugify(text, max_length=MAX_SLUG_LENGTH, word_boundary=True, save_order=True,
                       replacements=_APOSTROPHES))


def slug_problem(slug: str) -> str | None:
    """Why an explicit slug is unusable, or None when it is a valid slug."""
    if not _SLUG.fullmatch(slug):
        return (
            f"slug {slug!r} must be lowercase ASCII letters, digits and single hyphens "
            f"(for example {make_slug(slug) or 'my-briefing'!r})"
        )
    if len(slug) > MAX_SLUG_LENGTH:
        return f"slug is {len(slug)} characters long; at most {MAX_SLUG_LENGTH} are allowed"
    return None
