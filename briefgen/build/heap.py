"""Freed memory handed back to the system between a build's stages.

CPython allocates large objects (texts, arrays, the tables of big dicts) with the
C library's malloc, which keeps the pages of freed ones for later requests. Those
seldom fit what a later stage asks for (small objects come from CPython's own
arenas), so without this a build's peak memory would count every earlier stage's
garbage: parsed bodies already stored in the cache, the search index's postings
once kept in its state. glibc's `malloc_trim` returns such free pages; where the C
library has none, this does nothing.
"""

from __future__ import annotations

import ctypes
import sys


def release_freed_memory() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # a C library without it (musl)
        return
    trim(0)
