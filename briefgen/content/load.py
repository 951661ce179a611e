"""Reading content files: bytes to text, front matter split off, YAML with positions.

Everything here is pure (bytes in, values or diagnostics out) so it can run in
worker processes and be cached by content hash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import frontmatter
import yaml

from briefgen.diagnostics import Diagnostic, error

Position = tuple[int, int]
KeyPath = tuple[str | int, ...]

_YAML_FRONT_MATTER = frontmatter.default_handlers.YAMLHandler()


@dataclass(frozen=True)
class Located:
    """YAML data plus where each value (and each mapping key) is written in the file."""

    value: Any
    values: Mapping[KeyPath, Position] = field(default_factory=dict)
    keys: Mapping[KeyPath, Position] = field(default_factory=dict)

    def at(self, *path: str | int) -> Position:
        """Position of the value at path, or of its nearest written ancestor."""
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), (1, 1))

    def key_at(self, *path: str | int) -> Position:
        return self.keys.get(path) or self.at(*path)


@dataclass(frozen=True)
class SplitDocument:
    meta: Located
    body: str
    body_line: int  # the file's line number of the body's first line


def decode(shown: str, data: bytes) -> str | Diagnostic:
    """UTF-8 text with a byte-order mark dropped and line endings made LF."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return error(
            shown, line, column,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(shown: str, text: str) -> SplitDocument | Diagnostic:
    """Separate `---` YAML front matter from the Markdown body."""
    if not text.strip():
        return error(shown, 1, 1, "empty file: a briefing needs front matter with a title and a date")
    if not _YAML_FRONT_MATTER.detect(text):
        return error(
            shown, 1, 1,
            "no front matter: start the file with a line `---`, then YAML such as "
            "`title: ...` and `date: ...`, then another `---`",
        )
    boundaries = list(_YAML_FRONT_MATTER.FM_BOUNDARY.finditer(text))
    if len(boundaries) < 2:
        return error(shown, 1, 1, "front matter is not closed: add a line `---` after the YAML")
    opening, closing = boundaries[0], boundaries[1]
    # A boundary match may run on over blank lines; the YAML starts after the opening line.
    yaml_start = text.index("\n", opening.start()) + 1 if "\n" in text[opening.start():] else len(text)
    yaml_text = text[yaml_start: closing.start()]
    first_line = text.count("\n", 0, yaml_start) + 1
    located = load_yaml(shown, yaml_text, first_line)
    if isinstance(located, Diagnostic):
        return located
    if located.value is None:
        located = Located({}, {(): (first_line, 1)})
    if not isinstance(located.value, dict):
        line, column = located.at()
        return error(shown, line, column, "front matter must be a mapping of keys to values")
    body_start = closing.end()
    if body_start < len(text) and text[body_start] == "\n":
        body_start += 1
    return SplitDocument(located, text[body_start:], text.count("\n", 0, body_start) + 1)


class _PositionLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML that reports impossible dates at their position instead of crashing."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> dt.date | dt.datetime:
        try:
            value: dt.date | dt.datetime = super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"impossible date {node.value!r}: {exc}", node.start_mark
            ) from None
        return value


_PositionLoader.add_constructor("tag:yaml.org,2002:timestamp", _PositionLoader.construct_yaml_timestamp)


def load_yaml(shown: str, text: str, first_line: int = 1) -> Located | Diagnostic:
    """Parse YAML and remember the position of every value; first_line is where text starts."""
    loader = _PositionLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {(): (first_line, 1)})
        values: dict[KeyPath, Position] = {}
        keys: dict[KeyPath, Position] = {}
        _record_positions(node, (), first_line, values, keys)
        value = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line if mark else 0) + first_line
        column = (mark.column if mark else 0) + 1
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark:
            problem += f" ({exc.context} at line {exc.context_mark.line + first_line})"
        return error(shown, line, column, f"invalid YAML: {problem}")
    except yaml.YAMLError as exc:
        return error(shown, first_line, 1, f"invalid YAML: {exc}")
    finally:
        loader.dispose()
    return Located(value, values, keys)


def _record_positions(
    node: yaml.Node, path: KeyPath, first_line: int,
    values: dict[KeyPath, Position], keys: dict[KeyPath, Position],
) -> None:
    values[path] = (node.start_mark.line + first_line, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*path, key_node.value)
                keys[child] = (key_node.start_mark.line + first_line, key_node.start_mark.column + 1)
                _record_positions(value_node, child, first_line, values, keys)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_positions(item, (*path, index), first_line, values, keys)
