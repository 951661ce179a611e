"""The addresses of an HTML text's links, images and forms, changed one by one: made absolute
for a feed reader, relative to the page for a site opened from disk, put under the base path
for a briefing's own root-relative ones."""

from __future__ import annotations

import re
from collections.abc import Callable

# An address in an attribute, in double quotes or single ones (a theme may write either);
# srcset holds several, each with its width or density after it.
_ATTRIBUTE = re.compile(r"""(\s(?:href|src|action|srcset)=)(?:"([^"]*)"|'([^']*)')""")
_SRCSET_ADDRESS = re.compile(r"(^|,)(\s*)([^\s,]+)")


def change_addresses(html: str, change: Callable[[str], str]) -> str:
    """`html` with every href, src, action and srcset address (each of a srcset's) changed."""

    def rewrite(found: re.Match[str]) -> str:
        quote = '"' if found.group(2) is not None else "'"
        value = found.group(2) if found.group(2) is not None else found.group(3)
        if found.group(1).endswith("srcset="):
            value = _SRCSET_ADDRESS.sub(lambda m: m.group(1) + m.group(2) + change(m.group(3)), value)
        else:
            value = change(value)
        return f"{found.group(1)}{quote}{value}{quote}"

    return _ATTRIBUTE.sub(rewrite, html)
