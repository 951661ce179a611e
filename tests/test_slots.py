"""The pickling the cache and snapshots use for frozen data classes with slots (briefgen/slots.py)."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from briefgen.build.loading import parse_file, read_file
from briefgen.content.markup import Converter
from briefgen.slots import quick_pickle


@quick_pickle
@dataclasses.dataclass(frozen=True, slots=True)
class _Record:
    name: str
    count: int
    parts: tuple[str, ...]
    note: str | None = None


@quick_pickle
@dataclasses.dataclass(frozen=True, slots=True)
class _One:
    value: int


def test_records_come_back_equal_and_still_frozen() -> None:
    records = [_Record(f"r{n}", n, ("a", str(n)), None if n % 2 else "odd") for n in range(50)]
    loaded = pickle.loads(pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL))
    assert loaded == records
    assert [r.note for r in loaded[:3]] == ["odd", None, "odd"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded[0].count = 7  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(records[::-1])) == records[::-1]


def test_a_record_of_one_field() -> None:
    assert pickle.loads(pickle.dumps([_One(3), _One(4)])) == [_One(3), _One(4)]


@pytest.mark.parametrize("state", [("only", 1), ("too", 1, (), None, "many")])
def test_a_state_of_another_length_is_refused(state: tuple[object, ...]) -> None:
    # What a row written by another version of a class looks like: never half a record.
    fresh = object.__new__(_Record)
    with pytest.raises(ValueError):
        fresh.__setstate__(state)  # type: ignore[attr-defined]


def test_a_parsed_briefing_round_trips(tmp_path: Path) -> None:
    # The records a build's cache keeps of every file: documents, their citations and positions.
    path = tmp_path / "briefing.md"
    path.write_text('---\ntitle: "Ports reopen"\ndate: 2026-11-03\ntopics: [Trade]\n'
                    "sources:\n  - id: port-report\n    title: Port report\n    publisher: Harbour News\n"
                    "    url: https://example.org/port\n---\nThe ports reopened [@port-report, para. 2].\n",
                    encoding="utf-8")
    file = read_file("briefing", path, "content/briefings/briefing.md")
    parsed = parse_file(file, Converter(), Converter(citations=False))
    assert parsed.doc is not None and not parsed.diagnostics
    loaded = pickle.loads(pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL))
    assert loaded == parsed
    assert loaded.doc.title == "Ports reopen" and loaded.doc.inline_sources[0].publisher == "Harbour News"
