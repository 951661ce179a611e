"""Scripts written without spaces between words: where a word starts or ends cannot be read
from the text, so counting words and searching treat their characters apart."""

from __future__ import annotations

import functools
import re

# Chinese and Japanese: kanji (the unified ideographs, their extensions and compatibility
# forms) and kana, with the iteration marks. Korean is written with spaces, like most scripts.
# Ranges, not Unicode script properties, so that the search client (the default theme's
# static/search.js) can say the same with the same numbers.
CJK_CHARS = ("\u3005-\u3007\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
             "\uf900-\ufaff\U00020000-\U0003ffff")


def outside(ranges: str) -> str:
    """The code points outside `ranges` (a class's "a-b" pairs, in order), as a class's ranges."""
    below, found = 0, []
    for first, last in re.findall(r"(.)-(.)", ranges, re.S):
        if ord(first) > below:
            found.append(f"\\U{below:08x}-\\U{ord(first) - 1:08x}")
        below = ord(last) + 1
    return "".join(found) + f"\\U{below:08x}-\\U0010ffff"


# A letter or digit of these scripts: the ranges hold punctuation too (the katakana middle dot
# ・, the spacing voiced marks ゛゜) and unassigned code points, which split words as elsewhere.
CJK_LETTER = f"[^\\W_{outside(CJK_CHARS)}]"


# Thai and Lao (U+0E00-0EFF), Myanmar (U+1000-109F) and Khmer (U+1780-17FF): written with spaces
# between phrases or sentences, not between words.
SPACELESS_CHARS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
# The UTF-8 of those begins with one of these pairs of bytes.
SPACELESS_UTF8_STARTS = (b"\xe0\xb8", b"\xe0\xb9", b"\xe0\xba", b"\xe0\xbb",
                         b"\xe1\x80", b"\xe1\x81", b"\xe1\x82", b"\xe1\x9e", b"\xe1\x9f")
# Every byte none of those pairs is made of: what is left of a text is a few bytes, quickly
# looked through (bytes set side by side that were not can make a text looked at for nothing,
# never one left out).
_NOT_SPACELESS_BYTES = bytes(b for b in range(256) if bytes([b]) not in b"".join(SPACELESS_UTF8_STARTS))


def has_spaceless_range(text: str) -> bool:
    """Whether a text holds a code point of SPACELESS_CHARS, asked of its UTF-8 (see has_cjk_range)."""
    if text.isascii():
        return False
    kept = text.encode("utf-8", "surrogatepass").translate(None, _NOT_SPACELESS_BYTES)
    return any(start in kept for start in SPACELESS_UTF8_STARTS)


# Every byte that cannot begin the UTF-8 of a code point from U+3000 on (lead bytes from 0xE3).
BELOW_U3000_BYTES = bytes(range(0xE3))


def has_cjk_range(text: str) -> bool:
    """Whether a text holds a code point from U+3000 on (CJK_CHARS begin at U+3005): if not,
    the expressions below need not be compiled (10 ms in each process, for the negated classes
    of the whole of Unicode) nor run. Asked of the text's UTF-8, a byte from 0xE3 on: max()
    makes a string of every character (300 us for 20 KB with typographic quotes), and a regular
    expression of the ranges takes 3 ms to compile."""
    return not text.isascii() and bool(
        text.encode("utf-8", "surrogatepass").translate(None, BELOW_U3000_BYTES))


@functools.cache
def cjk_letter() -> re.Pattern[str]:
    return re.compile(CJK_LETTER)


@functools.cache
def _cjk_run() -> re.Pattern[str]:
    return re.compile(f"{CJK_LETTER}+")

# A reader takes in about two characters of Chinese or Japanese in the time of a word of a
# language written with spaces (about 460 characters a minute at 230 words), and about four of
# Thai, Lao, Myanmar or Khmer, whose characters include their vowel signs and tone marks.
CHARACTERS_PER_WORD = 2
SPACELESS_CHARACTERS_PER_WORD = 4


@functools.cache
def _spaceless_run() -> re.Pattern[str]:
    return re.compile(f"[{SPACELESS_CHARS}]+")


# Between spaces, what holds a letter or a digit: once CJK characters are taken out, their
# full stops and commas (such as 、 and 。) stand alone, and are no words. Each piece is
# tested on its own: `\S*[^\W_]\S*` backtracked over a long run of punctuation.
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def word_count(text: str) -> int:
    """The words of a text: those between spaces, and for its CJK characters one word per
    CHARACTERS_PER_WORD of them (a text of such characters alone has no spaces to count), for
    its Thai, Lao, Myanmar and Khmer one per SPACELESS_CHARACTERS_PER_WORD."""
    cjk, spaceless = has_cjk_range(text), has_spaceless_range(text)
    if not (cjk or spaceless):
        return len(text.split())
    words, taken, spaced = 0, 0, text
    for found, run, per_word in ((cjk, _cjk_run, CHARACTERS_PER_WORD),
                                 (spaceless, _spaceless_run, SPACELESS_CHARACTERS_PER_WORD)):
        if found:
            # Each run made one space, in one pass (by runs, not character by character: a
            # third of the time): the characters it took out are the length it lost, and one
            # more for each run.
            shorter, runs = run().subn(" ", spaced)
            words += -(-(len(spaced) - len(shorter) + runs) // per_word)
            spaced, taken = shorter, taken + runs
    if not taken:  # no run after all (a full stop of U+3000 and on, say)
        return len(text.split())
    return sum(1 for piece in spaced.split() if _LETTER_OR_DIGIT.search(piece)) + words
