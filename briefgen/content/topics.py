"""Topic descriptions: `content/topics/<slug>.md`, Markdown shown at the top of a topic's page.

Front matter is optional; the file's name is the topic's slug (`u-s-foreign-policy.md`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from briefgen.content.files import TOPICS_FOLDER
from briefgen.content.load import decode, split_front_matter
from briefgen.content.markup import Converter
from briefgen.diagnostics import Diagnostic


@dataclass(frozen=True)
class TopicDescription:
    """A topic's description (content/topics/<slug>.md), converted."""

    slug: str
    html: str


def description_files(content_dir: Path) -> list[Path]:
    folder = content_dir / TOPICS_FOLDER
    return sorted(folder.glob("*.md")) if folder.is_dir() else []


def description_digests(content_dir: Path) -> dict[str, str]:
    """Slug -> digest of its file, for fingerprints (no Markdown conversion)."""
    return {path.stem: hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
            for path in description_files(content_dir)}


def load_topic_descriptions(
    content_dir: Path, root: Path
) -> tuple[dict[str, TopicDescription], list[Diagnostic]]:
    descriptions: dict[str, TopicDescription] = {}
    problems: list[Diagnostic] = []
    converter: Converter | None = None
    for path in description_files(content_dir):
        shown = path.relative_to(root).as_posix()
        text = decode(shown, path.read_bytes())
        if isinstance(text, Diagnostic):
            problems.append(text)
            continue
        body, body_line = text, 1
        if text.startswith("---"):
            split = split_front_matter(shown, text)
            if isinstance(split, Diagnostic):
                problems.append(split)
                continue
            body, body_line = split.body, split.body_line
        if converter is None:
            converter = Converter(citations=False)  # slow to make: only for a site with descriptions
        converted = converter.convert(body, shown, body_line)
        descriptions[path.stem] = TopicDescription(path.stem, converted.html)
    return descriptions, problems
