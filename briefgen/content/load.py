"""Reading content files: bytes to text, front matter split off, YAML with positions.

Everything here is pure (bytes in, values or diagnostics out) so it can run in
worker processes and be cached by content hash.
"""

from __future__ import annotations

import datetime as dt
import itertools
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
    """A content file's front matter, parsed, and its body, as text."""

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
    if not text or text.isspace():  # not strip(): a copy of the whole text
        return error(shown, 1, 1, "empty file: a briefing needs front matter with a title and a date")
    if not _YAML_FRONT_MATTER.detect(text):
        return error(
            shown, 1, 1,
            "no front matter: start the file with a line `---`, then YAML such as "
            "`title: ...` and `date: ...`, then another `---`",
        )
    # The first two: a body's horizontal rules are boundaries too, and need not be looked for.
    boundaries = list(itertools.islice(_YAML_FRONT_MATTER.FM_BOUNDARY.finditer(text), 2))
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
        # An explicit `!!timestamp` tag reaches here with any text at all.
        if not isinstance(node.value, str) or not self.timestamp_regexp.match(node.value):
            raise yaml.constructor.ConstructorError(
                None, None, f"not a date or time: {node.value!r}", node.start_mark)
        try:
            value: dt.date | dt.datetime = super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"impossible date {node.value!r}: {exc}", node.start_mark
            ) from None
        return value


_PositionLoader.add_constructor("tag:yaml.org,2002:timestamp", _PositionLoader.construct_yaml_timestamp)


# Limits that no real front matter or registry comes near, and that keep a
# hostile file from costing more than a moment (YAML aliases can describe a
# structure far larger than the text, and the composer recurses once per level).
# Composing YAML costs about 2 µs a character at worst (dense flow collections),
# so these sizes keep any one file under about a second.
MAX_FRONT_MATTER_CHARS = 100_000
MAX_REGISTRY_CHARS = 400_000
MAX_SCALAR_CHARS = 100_000
MAX_DEPTH = 64
MAX_NODES = 100_000


class _Refused(Exception):
    def __init__(self, mark: yaml.Mark | None, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


def load_yaml(shown: str, text: str, first_line: int = 1,
              max_chars: int = MAX_FRONT_MATTER_CHARS) -> Located | Diagnostic:
    """Parse YAML and remember the position of every value; first_line is where text starts."""
    if len(text) > max_chars:
        return error(shown, first_line, 1,
                     f"YAML of {len(text):,} characters is too large (the limit is {max_chars:,}); "
                     f"split it into several files")
    loader = _PositionLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {(): (first_line, 1)})
        values: dict[KeyPath, Position] = {}
        keys: dict[KeyPath, Position] = {}
        if _record_positions(node, first_line, values, keys):
            _check_size(node)
        value = loader.construct_document(node)
    except _Refused as refused:
        line = (refused.mark.line if refused.mark else 0) + first_line
        column = (refused.mark.column if refused.mark else 0) + 1
        return error(shown, line, column, refused.message + _show_line(text, refused.mark))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line if mark else 0) + first_line
        column = (mark.column if mark else 0) + 1
        problem = exc.problem or exc.context or "invalid YAML"
        plain = _plain_words(problem, text, mark)
        if plain:
            return error(shown, line, column, plain + _show_line(text, mark))
        if exc.problem and exc.context and exc.context_mark:
            problem += f" ({exc.context} at line {exc.context_mark.line + first_line})"
        return error(shown, line, column, f"invalid YAML: {problem}" + _show_line(text, mark))
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow: its place is an offset into the text, in bytes of
        # its UTF-8 where libyaml reads it.
        at = exc.position
        if yaml.__with_libyaml__:  # the loader is libyaml's (see _PositionLoader)
            at = len(text.encode("utf-8", "surrogatepass")[:at].decode("utf-8", "ignore"))
        at = min(max(at, 0), len(text))
        line = text.count("\n", 0, at) + first_line
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
        return error(shown, line, column, f"invalid YAML: character U+{code:04X} is not allowed here "
                                          f"({exc.reason})")
    except yaml.YAMLError as exc:
        return error(shown, first_line, 1, f"invalid YAML: {exc}")
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        # A value with an explicit tag (`!!int`, `!!float`...) that its constructor rejects.
        return error(shown, first_line, 1, f"invalid YAML value: {exc}")
    except RecursionError:
        return error(shown, first_line, 1, f"YAML nested more than {MAX_DEPTH} levels deep")
    finally:
        loader.dispose()
    return Located(value, values, keys)


def _plain_words(problem: str, text: str, mark: yaml.Mark | None) -> str | None:
    """The cause of the errors newcomers meet first, with what to do about it."""
    if "'\\t'" in problem or "tab character" in problem:
        return "YAML does not allow tabs for indentation; use spaces"
    if problem.startswith("mapping values are not allowed"):
        return ("invalid YAML: a value that contains ': ' must be quoted: quote the value, "
                'as in title: "Syria: talks resume"')
    return None


def _line_of(text: str, mark: yaml.Mark | None) -> str:
    if mark is None:
        return ""
    lines = text.split("\n")
    return lines[mark.line] if mark.line < len(lines) else ""


def _show_line(text: str, mark: yaml.Mark | None) -> str:
    """The offending line with a caret under the column, to follow the message."""
    line = _line_of(text, mark)
    if mark is None or not line.strip() or len(line) > 200:
        return ""
    shown = line.replace("\t", " ")
    return f"\n    {shown}\n    {' ' * min(mark.column, len(shown))}^"


def _check_size(root: yaml.Node) -> None:
    """Refuse alias expansion, nesting and scalars beyond the limits, without recursion.

    Aliases make the node graph a DAG: the size of each node is counted once
    and reused, so a "billion laughs" file is measured, not expanded.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if id(node) in sizes:
            continue
        if depth > MAX_DEPTH:
            raise _Refused(node.start_mark, f"YAML nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > MAX_SCALAR_CHARS:
                raise _Refused(node.start_mark, f"a value of {len(node.value):,} characters is too long "
                                                f"(the limit is {MAX_SCALAR_CHARS:,})")
            sizes[id(node)] = 1
            continue
        children = _children(node)
        if done:
            size = 1 + sum(sizes.get(id(child), 1) for child in children)
            if size > MAX_NODES:
                raise _Refused(node.start_mark, f"YAML holds more than {MAX_NODES:,} values, counting "
                                                f"each use of an alias `*name` in full; split it up "
                                                f"or write fewer aliases")
            sizes[id(node)] = size
            continue
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _record_positions(
    root: yaml.Node, first_line: int,
    values: dict[KeyPath, Position], keys: dict[KeyPath, Position],
) -> bool:
    """Positions of values by key path; a key written twice in one mapping is refused.

    A node reached again through an alias is not walked again: its first
    position stands for it. Returns whether the nodes may be beyond the limits
    `_check_size` enforces: an alias, a key that is not a plain scalar (which this
    walk leaves alone), or a node, a depth or a scalar near a limit. Otherwise the
    tree is small and plain, and that second walk (a third of the cost of front
    matter) is not needed.
    """
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, KeyPath]] = [(root, ())]
    nodes = 0
    doubtful = False
    while stack:
        node, path = stack.pop()
        values.setdefault(path, (node.start_mark.line + first_line, node.start_mark.column + 1))
        if id(node) in seen:
            doubtful = True
            continue
        seen.add(id(node))
        nodes += 1
        if len(path) + 1 >= MAX_DEPTH:
            doubtful = True
        if isinstance(node, yaml.MappingNode):
            written: dict[str, yaml.Node] = {}
            children: list[tuple[yaml.Node, KeyPath]] = []
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    doubtful = True
                    continue
                if key_node.value in written:
                    _check_size(root)  # what it refuses, it refuses first
                    first = written[key_node.value].start_mark
                    raise _Refused(key_node.start_mark,
                                   f"duplicate key `{key_node.value}` (first written at line "
                                   f"{first.line + first_line}); keep one")
                if len(key_node.value) > MAX_SCALAR_CHARS:
                    doubtful = True
                written[key_node.value] = key_node
                child = (*path, key_node.value)
                keys[child] = (key_node.start_mark.line + first_line, key_node.start_mark.column + 1)
                children.append((value_node, child))
            nodes += len(written)
            stack.extend(reversed(children))  # popped in the order they are written
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed([(item, (*path, index)) for index, item in enumerate(node.value)]))
        elif len(node.value) > MAX_SCALAR_CHARS:
            doubtful = True
    return doubtful or nodes >= MAX_NODES
