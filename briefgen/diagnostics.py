"""Problems found in a site's input, as values that carry their location."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at a place in a file; line and column are 1-based."""

    path: str
    line: int
    column: int
    message: str
    severity: Severity = Severity.ERROR
    # The front-matter list item a problem is about, as (key, item), where the finder knew
    # only the key's position (a parsed record keeps its keys' positions, not its items'):
    # the build reads the file again to point at the item (content/records.py, item_position).
    item: tuple[str, str] | None = field(default=None, compare=False, repr=False)
    # The source a problem is about: one it kept from the site (a registry entry in error), or
    # one it finds declared nowhere, which the first explains.
    source_id: str | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}:{self.column}: {self.severity.value}: {self.message}"
        if text.isprintable():
            return text
        # A file name or a quoted text may hold control characters: written raw, a newline
        # would forge a line of its own and an escape sequence would drive the terminal. A
        # message's own lines (the line in error, and a caret under it) are indented.
        message = _FORGING_NEWLINE.sub(r"\\n", self.message.translate(_SHOWN_ESCAPED_BUT_NEWLINE))
        path = self.path.translate(_SHOWN_ESCAPED)
        return f"{path}:{self.line}:{self.column}: {self.severity.value}: {message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


# C0 and C1 controls, DEL, and the bidirectional overrides and isolates, shown as escapes.
_SHOWN_ESCAPED = {code: ascii(chr(code))[1:-1] for code in
                  [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
_SHOWN_ESCAPED_BUT_NEWLINE = {code: shown for code, shown in _SHOWN_ESCAPED.items() if code != 0x0A}
_FORGING_NEWLINE = re.compile(r"\n(?! )")  # one that would begin a line of its own


def error(path: str, line: int, column: int, message: str, item: tuple[str, str] | None = None) -> Diagnostic:
    return Diagnostic(path, line, column, message, Severity.ERROR, item)


def at_item(diagnostic: Diagnostic, line: int, column: int) -> Diagnostic:
    """The problem at its item's position, found in the file."""
    return replace(diagnostic, line=line, column=column, item=None)


def warning(path: str, line: int, column: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, column, message, Severity.WARNING)


class BuildFailed(Exception):
    """Raised once per run with every problem found, never one at a time."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(set(diagnostics), key=_order)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UsageError(Exception):
    """The command was called wrongly or its target is unsafe; the CLI exits 2."""


def _order(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    return (diagnostic.path, diagnostic.line, diagnostic.column, diagnostic.message)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)
