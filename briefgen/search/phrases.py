"""A document's words in order, as 16-bit units: what the client reads to confirm a quoted phrase.

A phrase's words must stand side by side, which postings cannot tell. Each
document's file carries these units (base64) in place of its text: a word
written between spaces is its 16-bit hash, under three bytes a word, less than
half what the text weighs, so confirming a phrase in 30 long briefings stays
within a query's download budget; results show the summary instead of a
snippet of the text. A false match needs a word to stand beside the phrase's
other words and share its hash: about one chance in 65,536 at each place the
phrase could start.

A run of unspaced letters (Chinese, Japanese, Thai...) is its characters
themselves, as UTF-16 code units, then RUN_END: as many units as the pairs it
is indexed by, and one more, but made without a hash each (hashing each pair
was about a seventh of what search added to a first build in Chinese), and a
phrase inside a run is matched exactly. A phrase's run must end where the
document's does when a word follows it in the phrase, as a word must be whole.

`static/search.js` hashes the words of a phrase the same way (`wordHash`), and
takes a run as its characters.
"""

from __future__ import annotations

from collections.abc import Iterable

from briefgen.search.text import Tokens, fnv1a

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
# After a run's characters: no character (U+FFFF is none), so a phrase inside one run never
# reads on into the next across the punctuation between them.
RUN_END = 0xFFFF
_RUN_END = RUN_END.to_bytes(2, "little")


def _units(words: list[str], runs: Tokens | None, hashes: WordHashes) -> bytes:
    if runs is None:
        return b"".join(map(hashes.__getitem__, words))
    return b"".join([hashes[word] if word else run.encode("utf-16-le", "surrogatepass") + _RUN_END
                     for run, word in runs])


def sequence(fields: Iterable[tuple[list[str], Tokens | None]], hashes: WordHashes) -> bytes:
    """The fields' words as little-endian 16-bit units (see the module's text), SEPARATOR
    between fields; each field's words, and its runs where it has unspaced letters."""
    parts = [_units(words, runs, hashes) for words, runs in fields]
    first = next((i for i, part in enumerate(parts) if part), len(parts))
    return _SEPARATOR.join(parts[first:])  # empty fields before the first word separate nothing
