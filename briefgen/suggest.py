""""Did you mean" for names people mistype: keys, source ids, theme names.

Imports nothing from briefgen, so every layer can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): insertions, deletions,
    substitutions and swaps of two neighbouring letters each count one, so
    `topcis` is one edit from `topics`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def closest(name: str, known: Iterable[str], aliases: Mapping[str, str] | None = None) -> str | None:
    """The known name that `name` most likely meant, or None when none is close.

    Close means: the same but for case, a known alias (`tags` for `topics`), or
    within one edit (two for names of seven letters or more).
    """
    candidates = sorted(set(known))
    folded = name.casefold()
    for candidate in candidates:
        if candidate.casefold() == folded:
            return candidate
    if aliases and folded in aliases and aliases[folded] in candidates:
        return aliases[folded]
    limit = 2 if len(name) >= 7 else 1
    scored = [(edit_distance(folded, c.casefold()), c) for c in candidates]
    best = min(scored, default=None)
    return best[1] if best is not None and 0 < best[0] <= limit else None
