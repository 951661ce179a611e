"""The live preview's pages: those it rendered, held in memory, and those a build left
in the output folder, read when a reader asks for them.

A preview that starts from a built site would otherwise read every output file
at its start, and hold them all: at 50,000 briefings, about a gigabyte, read in
seconds, for the few pages a curator opens. A page whose fingerprint matched
the build's is instead named here with the digest the build recorded for its
bytes. Asked for, its file is read and checked against that digest; a file
changed or deleted by hand since is rendered instead, by the renderer of the
preview's current build, which makes the same bytes (that is what an unchanged
fingerprint means).

A page a rebuild left unrendered (on a large change, the preview renders a few
of the changed pages at once and the others when asked for, as `hugo server`
does) is named here with no digest, and rendered when first asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from briefgen.serve.built import read_built

# An output file's bytes, rendered; None if it cannot be (PageFailed if its rendering fails). Called
# from the server's threads, it must keep itself from running beside a rebuild (the session's takes
# the rebuild's lock).
RenderPage = Callable[[str], bytes | None]


class PageFailed(Exception):
    """A page rendered when asked for whose rendering failed; the message is the diagnostic."""


class Pages(Mapping[str, bytes]):
    """Output file name -> bytes, for the server's threads to read while the session
    makes the next set. Its names never change; a page read from the output is kept."""

    def __init__(self, held: Mapping[str, bytes] | None = None, built: Mapping[str, str] | None = None,
                 folder: str = "", render: RenderPage | None = None) -> None:
        """`held`: pages in memory; `built`: pages in the output folder, by the digest of their
        bytes, or with "" for a page not rendered yet, none of them also held; `render`: renders
        a page not rendered yet, or whose file is not as built."""
        self._held: Mapping[str, bytes] = held or {}
        self._built: Mapping[str, str] = built or {}
        self.folder = folder
        self._render = render
        self._read: dict[str, bytes] = {}  # built pages read so far

    def _known(self, rel_file: str) -> bytes | None:
        data = self._held.get(rel_file)
        return data if data is not None else self._read.get(rel_file)

    def entry(self, rel_file: str) -> bytes | str | None:
        """The page as a new set takes it over: its bytes, the digest of its built file, or None."""
        data = self._known(rel_file)
        return data if data is not None else self._built.get(rel_file)

    def updated(self, rendered: Mapping[str, bytes], render: RenderPage | None) -> Pages:
        """These pages with some rendered anew (an edit), the others as they were."""
        held = {**self._held, **self._read, **rendered}
        built = dict(self._built)
        for rel_file in self._read.keys() | rendered.keys():
            built.pop(rel_file, None)
        return Pages(held, built, self.folder, render)

    def __getitem__(self, rel_file: str) -> bytes:
        data = self._known(rel_file)
        if data is not None:
            return data
        digest = self._built[rel_file]  # KeyError: no such page
        data = read_built(self.folder, rel_file, digest) if digest else None
        if data is None and self._render is not None:
            data = self._render(rel_file)
        if data is None:
            raise KeyError(rel_file)
        self._read[rel_file] = data
        return data

    def __contains__(self, rel_file: object) -> bool:
        return rel_file in self._held or rel_file in self._built

    def __iter__(self) -> Iterator[str]:
        yield from self._held
        yield from self._built

    def __len__(self) -> int:
        return len(self._held) + len(self._built)
