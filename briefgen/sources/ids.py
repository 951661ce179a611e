"""Readable source ids: a publisher abbreviation and a few title words, `mt-russia-restrain`."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from briefgen.content.slugs import make_slug

_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
# Words that say little about which article it is (slug forms: transliterated, lowercase).
_FILLER = frozenset(re.findall(r"\S+", """
a an the and or but of in on at to for from by with as is are was were be been being has have had
will would can could must should may might says said say tells told after before over under into
about against amid than that this these those its it his her their our your new also up out not no
more how why what who when where which while itself themselves just now says report reports
der die das und oder ein eine einen im in am an auf fur mit von zu zum zur ist sind war wird nach bei
aus uber vor nicht sich des dem den
i v na s so k po o ob ot za iz dlia ne chto kak eto
"""))


def is_valid(source_id: str) -> bool:
    return bool(_ID.fullmatch(source_id))


def publisher_prefix(publisher: str, existing_ids: Iterable[str] = ()) -> str:
    """The prefix this publisher's ids use already, or one made from its name.

    "The Moscow Times" gives "mt", "BBC News" "bbc", "Reuters" "reuters".
    """
    prefixes = [i.split("-", 1)[0] for i in existing_ids if "-" in i]
    if prefixes:
        return max(set(prefixes), key=prefixes.count)
    names = [w for w in publisher.split() if w.lower() != "the"]
    if names and len(names[0]) >= 2 and names[0].isupper() and names[0].isalpha():
        return make_slug(names[0]).replace("-", "") or "src"
    slugs = [s for s in (make_slug(w) for w in names) if s]
    if not slugs:
        return "src"
    if len(slugs) == 1:
        return slugs[0].replace("-", "")[:12]
    return "".join(s[0] for s in slugs)


def title_words(title: str) -> list[str]:
    words = make_slug(title).split("-")
    meaningful = [w for w in words if w and w not in _FILLER and not (len(w) == 1 and w.isalpha())]
    return meaningful or [w for w in words if w]


def make_id(publisher: str, title: str, taken: Collection[str], existing_ids: Iterable[str] = ()) -> str:
    """The shortest id of prefix plus two or more title words that is not taken."""
    prefix = publisher_prefix(publisher, existing_ids)
    words = title_words(title)[:5] or ["source"]
    for count in range(min(2, len(words)), len(words) + 1):
        candidate = "-".join([prefix, *words[:count]])
        if candidate not in taken:
            return candidate
    base = "-".join([prefix, *words[:2]])
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"
