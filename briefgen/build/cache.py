"""The build cache in `.briefgen-cache/`: parsed files by content hash, and what
each output file was made from, so a rebuild renders only what changed.

One SQLite database, `cache.sqlite`. Its `state` table holds the index: every
parsed file's metadata and the record of the last build per output folder,
pickled whole because one pickle loads faster than a row per file, plus a small
delta of the changes since the index was last written. `bodies` holds converted
HTML bodies, read one by one only for pages being rendered; `templates` holds
compiled templates; `builds` the record that lets an unchanged build be skipped (see memo.py).

The cache is an optimisation only: a missing, corrupt, truncated or foreign
cache is ignored and rebuilt, never an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import pickle
import secrets
import shutil
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from briefgen import __version__
from briefgen.build.manifest import (
    KeptManifest,
    delta_room,
    full_manifest_rows,
    manifest_changes,
    manifest_delta_rows,
    read_kept_manifest,
)
from briefgen.build.store import KEPT_ACROSS_RESETS, STORE, FileStat, Store, pickled, pickled_shape
from briefgen.content.archive import Archive
from briefgen.content.records import BriefingDoc, PageDoc, Source
from briefgen.diagnostics import Diagnostic
from briefgen.slots import quick_pickle


def parsed_shape() -> str:
    """The shape of everything the index pickles: a change to it makes old caches foreign."""
    from briefgen.content.markup import CitationUse, ContentLink, Conversion
    from briefgen.content.quotes import Quotation

    kinds = (ParsedFile, BriefingDoc, PageDoc, Source, Diagnostic, Conversion, CitationUse, ContentLink,
             Archive, Quotation)
    return pickled_shape(kinds)



@quick_pickle
@dataclass(frozen=True, slots=True)
class ParsedFile:
    """One content file's parse result, as the cache keeps it."""

    path: str
    digest: str
    doc: BriefingDoc | PageDoc | None
    sources: tuple[Source, ...]
    diagnostics: tuple[Diagnostic, ...]
    archive: Archive | None = None  # for files under content/archive/


# The index of parsed files: a head row, then the files, _INDEX_CHUNK to a row, each row pickled
# on its own so that writing holds one row's bytes and pickle memo at a time.
_INDEX = "index"
_INDEX_CHUNK = 1024


def _index_row(number: int) -> str:
    return f"{_INDEX}/{number}"


_FORMAT = (f"briefgen-cache-9 {__version__} "
           + hashlib.blake2b(parsed_shape().encode(), digest_size=8).hexdigest())


def body_key(doc: BriefingDoc | PageDoc, parse_key: str) -> str:
    return f"{doc.digest}:{doc.path}:{_short_key(parse_key)}"


@functools.lru_cache(maxsize=4)
def _short_key(parse_key: str) -> str:
    """The parse key as a body's key ends with it: the key in full (the version and every
    Markdown extension, 150 characters) made the keys a build reads to see which bodies the
    store holds nearly twice as long (at 50,000 briefings 13 MB in 75 ms, now 9 MB in 35 ms)."""
    return hashlib.blake2b(parse_key.encode(), digest_size=8).hexdigest()


D = TypeVar("D", bound=BriefingDoc | PageDoc)

# A document's HTML where the body store keeps it instead. No conversion gives it (every
# body converts to "" or to markup), so an empty body held in memory is never taken for one
# kept in the store.
STORED = "\x00"


def without_body(doc: D) -> D:
    """The document as the cache and the snapshot keep it: its body in the body store."""
    return dataclasses.replace(doc, body=dataclasses.replace(doc.body, html=STORED))


class LostBody(OSError):
    """A body the store was to hold and does not: a build of the same site beside this one
    pruned it, or the cache was emptied. Never an empty page in its place."""


def stored_html(store: Store, doc: BriefingDoc | PageDoc, parse_key: str) -> str:
    """A document's HTML body: held in the document, or read from the body store."""
    if doc.body.html != STORED:
        return doc.body.html
    html = store.get(body_key(doc, parse_key))
    if html is None:
        raise LostBody(f"the build cache no longer holds the converted text of {doc.path}; "
                       "build again (another build of this site may have been running)")
    return html


class BuildCache:
    def __init__(self, folder: Path | None, parsed: dict[str, tuple[str, FileStat, ParsedFile]],
                 writable: bool = True) -> None:
        self.folder = folder
        # A read-only cache (the live preview's) reads what a build saved and keeps
        # everything new in memory: it never writes to the disk.
        self.writable = writable and folder is not None
        self._parsed = parsed
        self._manifests: dict[str, Mapping[str, tuple[str, str]]] = {}  # by output folder, as read or set
        self._manifests_set: list[str] = []
        self._kept_manifests: dict[str, KeptManifest] = {}  # by output folder, as the store holds them
        self._used: set[str] = set()
        self._dirty = False
        self._token = ""  # names the index file a delta file belongs to
        self._changes: dict[str, tuple[str, FileStat, ParsedFile] | None] = {}
        self._bodies_replaced = False
        self.store = Store(folder / STORE if folder else None, self.writable)
        self._stored_bodies: set[str] | None = None
        self._remembered: dict[str, Any] = {}  # rows saved to a read-only cache (see state_rows)

    @classmethod
    def open(cls, folder: Path, writable: bool = True) -> BuildCache:
        store = Store(folder / STORE, writable)
        try:
            header, token, chunks = store.read_state(_INDEX)
            if header != _FORMAT or not isinstance(chunks, int):
                raise ValueError("foreign cache")
            parsed: dict[str, tuple[str, FileStat, ParsedFile]] = {}
            for number in range(chunks):
                parsed.update(store.read_states([_index_row(number)])[_index_row(number)])
        except Exception:  # no cache, or an unreadable one, means: start empty
            # ... but for what other commands keep there (check --links's results, a day's worth).
            kept: dict[str, Any] = {}
            with contextlib.suppress(Exception):
                kept = store.read_states(KEPT_ACROSS_RESETS)
            store.close()
            if writable and (folder / STORE).exists():
                (folder / STORE).unlink()
                if kept:
                    fresh = Store(folder / STORE)
                    try:
                        fresh.write_state(kept)
                    finally:
                        fresh.close()
            return cls(folder, {}, writable)
        cache = cls(folder, parsed, writable)
        cache.store = store
        cache._token = str(token)
        cache._apply_delta()
        return cache

    def _apply_delta(self) -> None:
        try:
            header, token, changes = self.store.read_state("delta")
        except Exception:  # no delta, or a damaged one: the index alone is consistent
            return
        if header != _FORMAT or token != self._token:
            return
        for path, entry in changes.items():
            if entry is None:
                self._parsed.pop(path, None)
            else:
                self._parsed[path] = entry
        self._changes = dict(changes)

    @classmethod
    def in_memory(cls) -> BuildCache:
        return cls(None, {})

    @classmethod
    @contextlib.contextmanager
    def scratch(cls) -> Iterator[BuildCache]:
        """A cache of one build, in a temporary folder deleted after it (`--no-cache`): it
        starts empty, and what the build keeps in it (the bodies it converts, its stages' rows)
        is there rather than in memory. Held in memory, the bodies alone were the largest part
        of the build's process and of every worker forked from it (225 MB each at 50,000
        briefings), and the search index's postings were held to the end (70 MB)."""
        with tempfile.TemporaryDirectory(prefix="briefgen-") as folder:
            cache = cls(Path(folder), {})
            try:
                yield cache
            finally:
                cache.store.close()

    def knows(self, path: str) -> bool:
        return path in self._parsed

    def knows_any(self) -> bool:
        """Whether the cache holds any parsed file: none, when no build made it."""
        return bool(self._parsed)

    def known_digest(self, path: str, stat: FileStat) -> str | None:
        """The digest of a file whose size, times and inode are as when it was parsed."""
        entry = self._parsed.get(path)
        return entry[2].digest if entry is not None and entry[1] == stat else None

    def parsed(self, path: str, digest: str, key: str) -> ParsedFile | None:
        entry = self._parsed.get(path)
        if entry is None or entry[0] != key or entry[2].digest != digest:
            return None
        doc = entry[2].doc
        if doc is not None and doc.body.html == STORED and self.folder is not None:
            # A document whose body the store has lost must be parsed again.
            if self._stored_bodies is None:
                self._stored_bodies = self.store.keys()
            if body_key(doc, key) not in self._stored_bodies:
                return None
        self._used.add(path)
        return entry[2]

    def done_parsing(self) -> None:
        """Let go of the keys of the bodies the store holds, read to vouch for the documents taken
        from the cache (see `parsed`): held on, they would stay in the build's process through
        rendering, and in every worker forked for it (9 MB of keys at 50,000 briefings). A later
        `parsed` reads them again."""
        self._stored_bodies = None

    def restat(self, path: str, stat: FileStat) -> None:
        """Record a new stat for a file whose bytes were read and found unchanged (a copy,
        a `touch`, a checkout), so the next build does not read it again."""
        entry = self._parsed.get(path)
        if entry is not None and entry[1] != stat:
            self._parsed[path] = self._changes[path] = (entry[0], stat, entry[2])
            self._dirty = True

    def store_parsed(self, items: list[tuple[ParsedFile, FileStat]], key: str) -> list[ParsedFile]:
        """Keep freshly parsed files; returns them as the cache holds them.

        Bodies go to the body store and out of memory: the index then loads
        fast, and worker processes forked for rendering do not carry every
        body along. If the store cannot take them, the bodies stay in memory.
        """
        slim = []
        for item, _ in items:
            if item.doc is not None and self.writable:
                self.store.put(body_key(item.doc, key), item.doc.body.html)
                slim.append(dataclasses.replace(item, doc=without_body(item.doc)))
            else:
                slim.append(item)
        if self.writable and not self.store.write_pending():
            slim = [item for item, _ in items]
        for item, (_, stat) in zip(slim, items, strict=True):
            self._bodies_replaced = self._bodies_replaced or item.path in self._parsed
            self._parsed[item.path] = self._changes[item.path] = (key, stat, item)
            self._used.add(item.path)
        self._dirty = self._dirty or bool(items)
        return slim

    def state_rows(self, name: str, remember: bool = False) -> StateRows:
        """The rows a stage keeps between builds: one named `name`, others under `name/`. With
        `remember`, a read-only cache (the live preview's) keeps what is saved in memory and
        gives it back at the next load, in place of the build's."""
        return StateRows(self.store, name, self.writable,
                         self._remembered if remember and not self.writable else None)

    def html(self, doc: BriefingDoc | PageDoc, key: str) -> str:
        return stored_html(self.store, doc, key)

    def manifest(self, output: Path) -> Mapping[str, tuple[str, str]]:
        """What the last build into this output folder made; other folders say nothing of it.
        The cache's own, read only: its row as the store keeps it (a manifest.PackedManifest),
        not a dict of its 141,803 entries at 50,000 briefings (48 MB held through rendering,
        and in every worker forked meanwhile)."""
        if str(output) not in self._manifests:
            kept = read_kept_manifest(self.store, output, packed=True, lined_up=True)
            self._kept_manifests[str(output)] = kept
            self._manifests[str(output)] = kept.files
        return self._manifests[str(output)]

    def forget_manifest(self, output: Path) -> None:
        """Let go of the manifest of this output folder as read (`manifest` reads it again),
        unless another was set since."""
        if str(output) not in self._manifests_set:
            self._manifests.pop(str(output), None)
            self._kept_manifests.pop(str(output), None)

    def set_manifest(self, output: Path, files: Mapping[str, tuple[str, str]]) -> None:
        current = self._manifests.get(str(output))
        # Compared when both are dicts: Mapping's == would make a dict of each other kind.
        if current is not files and not (isinstance(current, dict) and isinstance(files, dict)
                                         and current == files):
            self._manifests[str(output)] = files
            self._manifests_set = [str(output), *(o for o in self._manifests_set if o != str(output))]
            self._dirty = True

    def save(self) -> None:
        if not self.writable or self.folder is None:
            return
        stale = set(self._parsed) - self._used
        # The bodies of files gone (a body's key names its file). One an edit in place stored
        # for a file deleted since is not among them: the next prune of every key drops it.
        orphaned = []
        for path in stale:
            key, _, parsed = self._parsed.pop(path)
            self._changes[path] = None
            if parsed.doc is not None:
                orphaned.append(body_key(parsed.doc, key))
        if not (self._dirty or stale):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._bodies_replaced:
            # Those of files parsed again, and those an edit in place left behind (it writes
            # the new body, not the index): every key the store holds is looked at.
            self.store.prune({body_key(entry[2].doc, entry[0]) for entry in self._parsed.values()
                               if entry[2].doc is not None})
        elif orphaned:
            self.store.drop_bodies(orphaned)
        # A few changed files go to a small delta; rewriting the whole index at
        # every save would cost more than the rest of a one-file rebuild. So do the
        # entries of a manifest that changed since the store's (see store.py).
        manifests: dict[str, Any] = {}
        dropped: tuple[str, ...] = ()
        for output in self._manifests_set:
            kept = self._kept_manifests.pop(output, None)
            if kept is None:
                kept = read_kept_manifest(self.store, Path(output))
            files = self._manifests[output]
            changes = manifest_changes(kept.files, files, at_most=delta_room(kept))
            if changes is None:  # more than a delta may hold
                del kept  # not held while the full row is made
                values, gone, kept = full_manifest_rows(self.store, Path(output), files)
            else:
                values, gone, kept = manifest_delta_rows(self.store, Path(output), kept, changes, after=files)
            self._kept_manifests[output] = kept
            self._manifests[output] = kept.files  # equal: one dict held, not two
            manifests.update(values)
            dropped += gone
        self._manifests_set = []
        if self._token and len(self._changes) <= max(200, len(self._parsed) // 20):
            rows = {"delta": (_FORMAT, self._token, self._changes), **manifests}
            self.store.write_blobs(pickled(rows.items(), self.store.folder), drop=dropped)
            return
        self._token = secrets.token_hex(8)
        entries = sorted(self._parsed.items())
        starts = range(0, len(entries), _INDEX_CHUNK)
        chunks = ((_index_row(number), dict(entries[start:start + _INDEX_CHUNK]))
                  for number, start in enumerate(starts))
        head = [(_INDEX, (_FORMAT, self._token, len(starts)))]
        self.store.write_blobs(pickled(itertools.chain(head, manifests.items(), chunks), self.store.folder),
                               drop=("delta", *dropped), drop_prefix=_INDEX)
        self._changes = {}


@dataclass(frozen=True)
class StateRows:
    """The rows of the state table that one stage keeps between builds (the search index: a
    head row named `name`, others under `name/`); a read-only cache gives what a build saved
    and keeps nothing."""

    store: Store
    name: str
    writable: bool
    memory: dict[str, Any] | None = None  # where a read-only cache keeps what is saved, if anywhere

    def load(self, names: Collection[str]) -> dict[str, Any]:
        memory = self.memory or {}
        found = self.store.read_states([name for name in names if name not in memory])
        found.update({name: memory[name] for name in names if name in memory})
        return found

    def save_pickled(self, rows: Iterable[tuple[str, bytes]], fresh: bool) -> None:
        """`save` for rows whose values are pickled already (pickle's highest protocol, as
        `Store.write_state` pickles them)."""
        if self.writable:
            self.store.write_blobs(rows, drop_prefix=self.name if fresh else None)
        else:
            self.save({name: pickle.loads(data) for name, data in rows}, fresh)

    def save(self, values: Mapping[str, Any], fresh: bool) -> None:
        """Write these rows; `fresh` drops the stage's other rows first, in the same transaction."""
        if self.writable:
            self.store.write_state(values, drop_prefix=self.name if fresh else None)
        elif self.memory is not None:
            if fresh:
                for name in [n for n in self.memory if n == self.name or n.startswith(self.name + "/")]:
                    del self.memory[name]
            self.memory.update(values)


def clear(folder: Path) -> bool:
    """Delete the cache folder; True when there was one."""
    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    return True
