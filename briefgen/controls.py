"""Characters no output format can carry: C0 controls other than tab and newlines,
the noncharacters U+FFFE and U+FFFF, and lone surrogates.

XML 1.0 forbids them (an Atom feed with one is not XML at all), HTML parsers
replace or drop them, and none has a meaning in a briefing. Content that holds
one is reported where it is written; the feeds strip them as a last defence.
Imports nothing from briefgen.
"""

from __future__ import annotations

import re

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def first_forbidden(text: str) -> re.Match[str] | None:
    return FORBIDDEN.search(text)


def describe(char: str) -> str:
    """A character as a reader can name it: U+000C."""
    return f"U+{ord(char):04X}"


def strip_forbidden(text: str) -> str:
    return FORBIDDEN.sub("", text)
