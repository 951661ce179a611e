"""A document's words in order, as 16-bit hashes: what the client reads to confirm a quoted phrase.

A phrase's words must stand side by side, which postings cannot tell. Each
document's file carries these hashes (base64) in place of its text: under
three bytes a word, less than half what the text weighs, so confirming a
phrase in 30 long briefings stays within a query's download budget; results
show the summary instead of a snippet of the text. A false match needs a word
to stand beside the phrase's other words and share its hash: about one chance
in 65,536 at each place the phrase could start.

`static/search.js` hashes the words of a phrase the same way (`wordHash`).
"""

from __future__ import annotations

from collections.abc import Iterable

from briefgen.search.text import fnv1a

SEPARATOR = 0  # between fields, so a phrase never runs from a title into a summary


def word_hash(word: str) -> int:
    """The FNV-1a hash of a folded word, its halves xor-ed to 16 bits; never 0."""
    value = fnv1a(word)
    return ((value >> 16) ^ value) & 0xFFFF or 1


class WordHashes(dict[str, bytes]):
    """word -> word_hash(word) as two little-endian bytes, computed once per word a build meets."""

    def __missing__(self, word: str) -> bytes:
        value = self[word] = word_hash(word).to_bytes(2, "little")
        return value


_SEPARATOR = SEPARATOR.to_bytes(2, "little")


def sequence(fields: Iterable[list[str]], hashes: WordHashes) -> bytes:
    """The fields' words as little-endian 16-bit hashes, SEPARATOR between fields."""
    parts = [b"".join(map(hashes.__getitem__, words)) for words in fields]
    first = next((i for i, part in enumerate(parts) if part), len(parts))
    return _SEPARATOR.join(parts[first:])  # empty fields before the first word separate nothing
