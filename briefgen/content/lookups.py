"""Two lookups Python-Markdown makes for every element and every block, made cheaper.

`Markdown.is_block_level` searches a list of some fifty tag names for every element the tree
processors and the serializer look at (about 90 a briefing), and iterating a `Registry` (the
block processors, for each block) sorts it and makes a new list of its items each time. Once
every extension is registered, neither list changes while a text is converted: the names are
kept as a set, and the registry's items as a tuple until an item is registered or taken out.
The answers are those of the stock methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import markdown
from markdown.extensions import Extension
from markdown.util import Registry

_T = TypeVar("_T")


class _KeptOrderRegistry(Registry[_T]):
    """A registry whose items, in order, are made once until it changes."""

    _items: tuple[_T, ...] | None = None

    def __iter__(self) -> Iterator[_T]:
        if self._items is None:
            self._items = tuple(super().__iter__())
        return iter(self._items)

    def register(self, item: _T, name: str, priority: float) -> None:
        self._items = None
        super().register(item, name, priority)

    def deregister(self, name: str, strict: bool = True) -> None:
        self._items = None
        super().deregister(name, strict)


def kept_order(registry: Registry[_T]) -> Registry[_T]:
    """The same registry, as one that keeps its items' order once made."""
    kept: _KeptOrderRegistry[_T] = _KeptOrderRegistry()
    kept.__dict__.update(registry.__dict__)
    return kept


class FastLookupsExtension(Extension):
    """Register it last: it reads the block-level names every other extension has set."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        names = frozenset(md.block_level_elements)

        def is_block_level(tag: Any) -> bool:
            # Markdown.is_block_level's answer (a tag that is not a string is no block).
            return isinstance(tag, str) and tag.lower().rstrip("/") in names

        md.is_block_level = is_block_level  # type: ignore[method-assign]  # in front of the class's
        md.parser.blockprocessors = kept_order(md.parser.blockprocessors)
