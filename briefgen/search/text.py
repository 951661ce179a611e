"""Words as the index and the browser client see them.

`static/search.js` in the default theme folds and splits text the same way;
a change here must be made there too, and bumps FORMAT in `files.py`.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

from briefgen.content.scripts import (
    BELOW_U3000_BYTES,
    CJK_CHARS,
    SPACELESS_CHARS,
    SPACELESS_UTF8_STARTS,
    outside,
)
from briefgen.search.marks import listed_kept_marks

# Letters and digits of any script; "_" is a word character to `re` but not to a reader.
_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]+>")
# Inline elements may stand inside a word ("CO<sub>2</sub>", "10<sup>th</sup>", "un<em>believ</em>able"):
# the tags of a run of them right after a letter or digit are taken out, to join what they split,
# as a reader sees it. Looked for at each "<", and only then behind it: a third cheaper than
# trying every tag's name.
_INLINE_NAME = (r"(?:a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|i|ins|kbd|mark|q|s|samp|small|span"
                r"|strong|sub|sup|time|u|var)\b[^>]*>")
_INLINE_TAG = re.compile(rf"<(?<=[^\W_]<)/?{_INLINE_NAME}(?:</?{_INLINE_NAME})*")
# Citation and footnote numbers are links, not words of the text; other superscripts are. Their
# first attribute says which they are (content/markup.py and Python-Markdown's footnotes).
_CITATION = re.compile(r'<sup (?:class="citation"|id="fnref)[^>]*>.*?</sup>', re.S)
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|td|th|dd|dt|blockquote|pre)>|<br\s*/?>", re.I)


# The combining marks folding takes out (those of these blocks that are marks, Mn or Me): the
# accents of Latin, Greek and Cyrillic, which readers type or leave out at will, the vowel points
# of Hebrew, Arabic, Syriac, Thaana and N'Ko, Coptic's and Tifinagh's marks, and variation
# selectors. Every mark below U+0800 and from U+2000 to U+2FFF is among them, so that a mark kept
# is always where _mark_bearing looks. Every other mark is part of its word: Devanagari's vowel
# signs and virama, Thai's vowels and tones, the kana's voicing marks (ガス is not カス).
# `static/search.js` takes out the same (DIACRITICS).
DIACRITIC_SPANS = ((0x0300, 0x036F), (0x0483, 0x0489), (0x0591, 0x05C7), (0x0610, 0x061A),
                   (0x064B, 0x065F), (0x0670, 0x0670), (0x06D6, 0x06ED), (0x0711, 0x0711),
                   (0x0730, 0x074A), (0x07A6, 0x07B0), (0x07EB, 0x07F3), (0x07FD, 0x07FD),
                   (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0x2CEF, 0x2CF1),
                   (0x2D7F, 0x2D7F), (0x2DE0, 0x2DFF), (0xFB1E, 0xFB1E), (0xFE00, 0xFE0F),
                   (0xFE20, 0xFE2F), (0xE0100, 0xE01EF))


@functools.cache
def _diacritic_chars() -> str:
    return "".join(c for first, last in DIACRITIC_SPANS for c in map(chr, range(first, last + 1))
                   if unicodedata.category(c) in ("Mn", "Me"))


@functools.cache
def _diacritics() -> re.Pattern[str]:
    """Those of the first plane: a class with none past it is looked up by a table of bits."""
    return re.compile(f"[{re.escape(''.join(c for c in _diacritic_chars() if ord(c) < 0x10000))}]+")


@functools.cache
def _astral_diacritics() -> re.Pattern[str]:
    return re.compile(f"[{re.escape(''.join(c for c in _diacritic_chars() if ord(c) >= 0x10000))}]+")


@functools.cache
def _kept_marks() -> tuple[str, str]:
    """The combining marks folding keeps, as the contents of two character classes: those of
    UNSPACED_CHARS's scripts (Thai's...), and the others. Read from marks.py's table for this
    Python's Unicode, else found (see found_kept_marks), once in a process that meets a text of
    such scripts."""
    return listed_kept_marks(unicodedata.unidata_version) or found_kept_marks()


def found_kept_marks() -> tuple[str, str]:
    """_kept_marks, found from Unicode's tables: about 25 ms, for every code point of the first
    two planes is looked at."""
    taken = set(_diacritic_chars())
    marks = [c for c in map(chr, range(0x0300, 0x20000))
             if unicodedata.category(c)[0] == "M" and c not in taken]
    unspaced = re.compile(f"[{UNSPACED_CHARS}]")
    return ("".join(c for c in marks if unspaced.match(c)),
            "".join(c for c in marks if not unspaced.match(c)))


# Where folding may leave a mark: a script from U+0800 to U+1FFF (Devanagari, Thai...) or from
# U+3000 on (kana...); not Latin, Greek, Cyrillic, Hebrew or Arabic, whose marks it takes out,
# nor U+2000-2FFF's punctuation and symbols. Found by the first byte of their UTF-8 (E0, E1,
# E3 to F4), all else taken out in one call; the words of a text without one are split by the
# plainer _WORD. `static/search.js` has the same ranges (MARK_BEARING).
_NOT_MARK_BEARING_BYTES = bytes(b for b in range(256) if not (b in (0xE0, 0xE1) or 0xE3 <= b <= 0xF4))


def _mark_bearing(text: str) -> bool:
    return bool(text.encode("utf-8", "surrogatepass").translate(None, _NOT_MARK_BEARING_BYTES))


# Letters that decomposing leaves whole, though readers take them for a plain letter or two
# (as Lucene's ASCII folding does), and the word-final sigma: "Łódź", "København" and "Straße"
# are found as "lodz", "kobenhavn" and "strasse", Turkish's dotless i as i, and "ΚΟΣ", which
# lower case ends with a final sigma, still begins "κόσμος". A soft hyphen, unseen, joins a word.
# Replaced one by one where found: a translation table costs five times what folding does.
_FOLDED_LETTERS = (
    ("æ", "ae"), ("ð", "d"), ("đ", "d"), ("ħ", "h"), ("\u0131", "i"), ("ł", "l"), ("ø", "o"),
    ("œ", "oe"), ("ß", "ss"), ("þ", "th"), ("ŧ", "t"), ("\u03c2", "\u03c3"), ("\u00ad", ""),
)


def fold(text: str) -> str:
    """Case and accents folded: "Élysée" and "elysee" are one word; other scripts keep the marks
    that make their letters (see DIACRITIC_SPANS)."""
    return _folded(text)[0]


def _folded(text: str) -> tuple[str, bool]:
    """fold's text, and whether it may hold a mark folding keeps (_mark_bearing)."""
    if text.isascii():
        return text.lower(), False
    folded = _diacritics().sub("", unicodedata.normalize("NFKD", text))
    # A character past the first plane is two in UTF-16: a test far cheaper than max().
    if len(folded.encode("utf-16-le", "surrogatepass")) != 2 * len(folded):
        folded = _astral_diacritics().sub("", folded)
    folded = folded.lower()
    bearing = _mark_bearing(folded)
    if bearing and not unicodedata.is_normalized("NFC", folded):
        # Composed again where a mark kept has a letter of its own (ガ, 서): a pair of Japanese
        # characters is two of them, a word of Korean its syllables.
        folded = unicodedata.normalize("NFC", folded)
    for letter, plain in _FOLDED_LETTERS:
        if letter in folded:
            folded = folded.replace(letter, plain)
    return folded, bearing


# Punctuation typography puts into most texts (quotes, dashes, ellipsis, no-break space,
# guillemets, a footnote's return arrow): never part of a word, before folding or after.
# A text of ASCII and these alone has the words of its lower case, so it is spared
# folding's decomposition, which costs more than splitting it into words.
PLAIN_PUNCTUATION = "\u00a0\u00ab\u00b7\u00bb\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u21a9"


# Byte by byte: an ASCII letter or digit stays (capitals made small), anything else is a space.
_ASCII_WORD_BYTES = bytes(ord(chr(b).lower()) if b < 128 and chr(b).isalnum() else 32 for b in range(256))
_ASCII = bytes(range(128))
_PLAIN_PUNCTUATION_UTF8 = tuple(char.encode() for char in PLAIN_PUNCTUATION)
# The bytes of the plain punctuation's UTF-8: a text past ASCII with another byte (Cyrillic,
# Greek, CJK...) is not plain, and is folded without the marks being taken out one by one.
_PLAIN_PUNCTUATION_BYTES = bytes(sorted(set(b"".join(_PLAIN_PUNCTUATION_UTF8))))

# Scripts written without spaces between words, for search: the CJK characters of
# content/scripts.py, and Thai, Lao, Myanmar and Khmer (in code point order, as `outside` reads
# ranges). A run of their letters is indexed as its overlapping pairs of characters, as Lucene's
# CJK analyser does by default: a query's run is looked up by its pairs, which must all match, so
# a word of two characters or more is found inside any run; a character standing alone is a word
# of its own. `static/search.js` splits them the same way (UNSPACED_CHARS).
UNSPACED_CHARS = SPACELESS_CHARS + CJK_CHARS
# A letter or digit of these scripts: their ranges hold punctuation too, which splits words.
UNSPACED_LETTER = f"[^\\W_{outside(UNSPACED_CHARS)}]"


# The UTF-8 of Thai, Lao, Myanmar and Khmer begins with one of scripts.SPACELESS_UTF8_STARTS;
# CJK's, with a byte from 0xE3 on (see scripts.has_cjk_range). Every byte below 0xE3 but those
# the first are made of is taken out of a text, as scripts.has_spaceless_range does, so that one
# call tells both.
_NOT_UNSPACED_BYTES = bytes(b for b in range(0xE3) if bytes([b]) not in b"".join(SPACELESS_UTF8_STARTS))


def has_unspaced_range(text: str) -> bool:
    """Whether a text may hold a code point of UNSPACED_CHARS: if not, the expressions below
    need not be compiled (10 ms in each process, for the negated classes of the whole of
    Unicode) nor run. Asked of its UTF-8, as scripts.has_cjk_range does: typographic quotes and
    dashes, past U+0E00, must not be what makes a process compile the letters' class."""
    if text.isascii():
        return False
    kept = text.encode("utf-8", "surrogatepass").translate(None, _NOT_UNSPACED_BYTES)
    if kept.translate(None, BELOW_U3000_BYTES):
        return True
    return (0xE0 in kept or 0xE1 in kept) and any(start in kept for start in SPACELESS_UTF8_STARTS)


@functools.cache
def unspaced_letter() -> re.Pattern[str]:
    return re.compile(UNSPACED_LETTER)


# A run of such letters, or of other letters and digits (_WORD's, less those); with marks, each
# goes on over the marks folding keeps that are of its kind (a mark begins no word).
@functools.cache
def _unspaced_run_or_word(marks: bool) -> re.Pattern[str]:
    if not marks:
        return re.compile(f"({UNSPACED_LETTER}+)|([^\\W_{UNSPACED_CHARS}]+)")
    inside, outside_marks = map(re.escape, _kept_marks())
    other = f"[^\\W_{UNSPACED_CHARS}]"
    return re.compile(f"({UNSPACED_LETTER}(?:{UNSPACED_LETTER}|[{inside}])*)"
                      f"|({other}(?:{other}|[{outside_marks}])*)")


@functools.cache
def _kept_mark(astral: bool) -> re.Pattern[str]:
    """A mark folding keeps, of the first plane, or (astral) past it: a class of the first
    plane's alone is a table of bits, looked up at once, where one past it is searched."""
    found = [c for c in "".join(_kept_marks()) if (ord(c) >= 0x10000) == astral]
    return re.compile(f"[{re.escape(''.join(found))}]")


def _has_kept_mark(folded: str) -> bool:
    if _kept_mark(False).search(folded):
        return True
    # A character past the first plane is two in UTF-16: a test far cheaper than max().
    return (len(folded.encode("utf-16-le", "surrogatepass")) != 2 * len(folded)
            and _kept_mark(True).search(folded) is not None)


# Every pair of neighbouring characters, overlapping: found by the regular expression engine,
# a sixth cheaper than slicing and adding them in Python.
_PAIRS = re.compile(r"(?=(..))", re.S)


def unspaced_terms(run: str) -> list[str]:
    """The terms of a run of unspaced letters: one character alone, else each pair of neighbours."""
    return [run] if len(run) == 1 else _PAIRS.findall(run)


def _has_unspaced_letter(folded: str) -> bool:
    return has_unspaced_range(folded) and unspaced_letter().search(folded) is not None


# A text's words and runs of unspaced letters, in order: (run, "") for a run, ("", word) for
# another word, as _unspaced_run_or_word finds them. A document's words for phrases take a run
# as its characters (see phrases.sequence), not as the pairs it is indexed by.
Tokens = list[tuple[str, str]]


def _words_with_unspaced(folded: str, marks: bool) -> tuple[list[str], Tokens]:
    found: list[str] = []
    tokens = _unspaced_run_or_word(marks).findall(folded)
    for run, word in tokens:
        if word:
            found.append(word)
        else:
            found += unspaced_terms(run)
    return found, tokens


def words(text: str) -> list[str]:
    """The folded words of a text, in order; runs of unspaced letters (Chinese, Thai...) as their pairs."""
    return words_and_runs(text)[0]


def words_and_runs(text: str) -> tuple[list[str], Tokens | None]:
    """words(text), and when the text holds a run of unspaced letters, its Tokens (else None:
    its words are all there is to it, each a word as written)."""
    # A plain text is split as bytes, by a table and split(): a quarter of what a regular
    # expression costs, and indexing long briefings is mostly this.
    data = text.encode("utf-8", "surrogatepass")
    # Its bytes past ASCII are its other characters' UTF-8, whole and in order: few, and
    # none left once the plain punctuation is taken out.
    others = data.translate(None, _ASCII)
    if others and not others.translate(None, _PLAIN_PUNCTUATION_BYTES):
        for mark in _PLAIN_PUNCTUATION_UTF8:
            if not others:
                break
            others = others.replace(mark, b"")
    if others:
        folded, bearing = _folded(text)
        if bearing and _has_kept_mark(folded):
            found, tokens = _words_with_unspaced(folded, True)
            return found, (tokens if _has_unspaced_letter(folded) else None)
        if _has_unspaced_letter(folded):
            return _words_with_unspaced(folded, False)
        return _WORD.findall(folded), None
    return data.translate(_ASCII_WORD_BYTES).decode("ascii").split(), None


def index_text(body_html: str) -> str:
    """A body's words without markup or citation numbers, for indexing (cheaper than plain_text)."""
    return html.unescape(_TAG.sub(" ", _INLINE_TAG.sub("", _CITATION.sub("", body_html))))


def plain_text(body_html: str) -> str:
    """A body's text without markup or citation numbers, one line per block."""
    text = _BLOCK_END.sub("\n", _CITATION.sub("", body_html))
    lines = (" ".join(line.split()) for line in html.unescape(_TAG.sub(" ", text)).splitlines())
    text = "\n".join(line for line in lines if line)
    return re.sub(r" +([.,;:!?])", r"\1", text)


# A query word of three letters or more also matches the words it begins. Every document
# is also indexed by the first PREFIX letters of each of its longer words, as the term
# prefix + PREFIX_MARK ("dal*" for "dalton" and "dale"), listed beside the word of those
# letters: so a three-letter word reads one shard, however many words it begins.
PREFIX = 3
PREFIX_MARK = "*"  # never part of a word (see words)
_KEY = PREFIX + 1


def prefix_term(word: str) -> str | None:
    """The prefix term a word is also indexed by; None for a word of PREFIX letters or fewer."""
    return word[:PREFIX] + PREFIX_MARK if len(word) > PREFIX else None


def shard_key(term: str) -> str:
    """Terms that share their first four letters are in one shard, so a query word of four
    letters or more finds every word it begins there; a prefix term is keyed by its letters."""
    return term[:PREFIX] if term.endswith(PREFIX_MARK) else term[:_KEY]


def fnv1a(text: str) -> int:
    """32-bit FNV-1a over a text's code points: the hash both shards and phrases use."""
    value = 0x811C9DC5
    for char in text:
        value = ((value ^ ord(char)) * 0x01000193) & 0xFFFFFFFF
    return value


def shard_of(term: str, shards: int) -> int:
    """The term shard holding a term: the hash of its key, modulo the count."""
    return fnv1a(shard_key(term)) % shards  # shard_of_key's, written out: a first build's every term


def shard_of_key(key: str, shards: int) -> int:
    """The term shard holding the terms of a shard key (see shard_key)."""
    return fnv1a(key) % shards
