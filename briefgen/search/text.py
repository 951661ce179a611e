"""Words as the index and the browser client see them.

`static/search.js` in the default theme folds and splits text the same way;
a change here must be made there too, and bumps FORMAT in `files.py`.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

from briefgen.content.scripts import BELOW_U3000_BYTES, CJK_CHARS, outside

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


@functools.cache
def _marks() -> re.Pattern[str]:
    """The combining marks of the Basic Multilingual Plane, as one character class."""
    marks = "".join(chr(c) for c in range(0x300, 0x10000) if unicodedata.category(chr(c)) == "Mn")
    return re.compile(f"[{re.escape(marks)}]+")


@functools.cache
def _astral_marks() -> re.Pattern[str]:
    """The combining marks past the Basic Multilingual Plane (Brahmi, Chakma, Adlam, the
    variation selectors...), apart: finding them costs as much again, and few texts hold any."""
    found = (chr(c) for plane in (range(0x10000, 0x20000), range(0xE0000, 0xE1000)) for c in plane)
    return re.compile(f"[{re.escape(''.join(c for c in found if unicodedata.category(c) == 'Mn'))}]+")


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
    """Case and accents folded: "Élysée" and "elysee" are one word; other scripts stay letters."""
    if text.isascii():
        return text.lower()
    folded = _marks().sub("", unicodedata.normalize("NFKD", text))
    # A character past the first plane is two in UTF-16: a test far cheaper than max().
    if len(folded.encode("utf-16-le", "surrogatepass")) != 2 * len(folded):
        folded = _astral_marks().sub("", folded)
    folded = folded.lower()
    for letter, plain in _FOLDED_LETTERS:
        if letter in folded:
            folded = folded.replace(letter, plain)
    return folded


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
UNSPACED_CHARS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff" + CJK_CHARS
# A letter or digit of these scripts: their ranges hold punctuation too, which splits words.
UNSPACED_LETTER = f"[^\\W_{outside(UNSPACED_CHARS)}]"


# The UTF-8 of Thai and Lao (U+0E00-0EFF), Myanmar (U+1000-109F) and Khmer (U+1780-17FF) begins
# with one of these pairs of bytes; CJK's, with a byte from 0xE3 on (see scripts.has_cjk_range).
_UNSPACED_UTF8_STARTS = (b"\xe0\xb8", b"\xe0\xb9", b"\xe0\xba", b"\xe0\xbb",
                         b"\xe1\x80", b"\xe1\x81", b"\xe1\x82", b"\xe1\x9e", b"\xe1\x9f")
# Every byte but those these begin with or go on with: what is left of a text of typographic
# punctuation and accented letters is a few bytes, quickly looked through. (Leaving bytes out
# may set two side by side that were not: that is a text looked at by the letters' class for
# nothing, never one left out.)
_NOT_UNSPACED_BYTES = bytes(b for b in range(0xE3) if bytes([b]) not in b"".join(_UNSPACED_UTF8_STARTS))


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
    return (0xE0 in kept or 0xE1 in kept) and any(start in kept for start in _UNSPACED_UTF8_STARTS)


@functools.cache
def unspaced_letter() -> re.Pattern[str]:
    return re.compile(UNSPACED_LETTER)


# A run of such letters, or of other letters and digits (_WORD's, less those).
@functools.cache
def _unspaced_run_or_word() -> re.Pattern[str]:
    return re.compile(f"({UNSPACED_LETTER}+)|([^\\W_{UNSPACED_CHARS}]+)")


# Every pair of neighbouring characters, overlapping: found by the regular expression engine,
# a sixth cheaper than slicing and adding them in Python.
_PAIRS = re.compile(r"(?=(..))", re.S)


def unspaced_terms(run: str) -> list[str]:
    """The terms of a run of unspaced letters: one character alone, else each pair of neighbours."""
    return [run] if len(run) == 1 else _PAIRS.findall(run)


def _words_with_unspaced(folded: str) -> list[str]:
    found: list[str] = []
    for run, word in _unspaced_run_or_word().findall(folded):
        if word:
            found.append(word)
        else:
            found += unspaced_terms(run)
    return found


def words(text: str) -> list[str]:
    """The folded words of a text, in order; runs of unspaced letters (Chinese, Thai...) as their pairs."""
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
        folded = fold(text)
        unspaced = has_unspaced_range(folded) and unspaced_letter().search(folded)
        return _words_with_unspaced(folded) if unspaced else _WORD.findall(folded)
    return data.translate(_ASCII_WORD_BYTES).decode("ascii").split()


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
    return fnv1a(shard_key(term)) % shards
