"""Where a key of a TOML file is written: tomllib keeps no positions, and a message about
a setting (briefgen.toml, a theme's theme.toml, a language's catalog) points at its line."""

from __future__ import annotations

import re


def locate_key(text: str, section: str | None, key: str) -> tuple[int, int]:
    """Find where a key (or a [section] header when section is None) is written.

    This looks for the line that assigns the key inside its table (the key bare or quoted); it
    falls back to 1:1 for unusual layouts.
    """
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]\s*(#.*)?", stripped)
        if header:
            current = header.group(1).strip('"')
            if section is None and current == key:
                return number, line.index("[") + 1
            continue
        if current == section:  # both None: a key above every table
            quoted = re.escape(key)
            assigned = re.match(rf"(\s*)(?:\"{quoted}\"|'{quoted}'|{quoted})\s*=", line)
            if assigned:
                return number, len(assigned.group(1)) + 1
    return 1, 1


_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


def toml_error(exc: Exception) -> tuple[int, int, str]:
    """Where tomllib says a file is wrong (1:1 when it does not say), and what it says, without
    the position it gives in its own words."""
    found = _POSITION.search(str(exc))
    line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
    return line, column, _POSITION.sub("", str(exc))
