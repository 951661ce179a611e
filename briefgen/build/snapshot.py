"""The last full build into an output folder, kept in the cache so that `build` can
take an in-place edit from it (see in_place.py) without reading, checking and
planning the whole site again.

A full build writes the snapshot in rows: a head with the loaded site (less its
briefings) and its plan, what the fingerprints know beyond the model (which
files show each briefing) and each content file's stat and digest; then the
briefings, CHUNK to a row, read only when an edit asks for one of theirs (the
head names each briefing's file, so finding the edited ones reads none). An
in-place edit adds to a small delta beside
it: the edited briefings' new records and their files' new stats. Both carry a
token, so a delta never applies to another snapshot; a full build drops both.
Like the rest of the cache, the snapshot is an optimisation only: missing,
damaged or foreign, it means a full build.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from briefgen import __version__
from briefgen.build.cache import parsed_shape, without_body
from briefgen.build.fingerprint import FingerprintState
from briefgen.build.stages import Loaded
from briefgen.build.store import FileStat, Store, pickled_shape
from briefgen.content.records import Source
from briefgen.site.model import Article, Briefing, BriefingRows, Page, Publisher, Site, Topic, with_replaced
from briefgen.site.plan import Origin, PageSpec, PlanRow, PlanRows, plan_rows

HEAD = "snapshot"
DELTA = "snapshot/delta"
# Past this many edited briefings, the delta would cost more to read than a full build.
DELTA_LIMIT = 500


def _shape() -> str:
    kinds = (Loaded, Site, Briefing, Page, Article, Publisher, Topic, PageSpec, Origin, FingerprintState)
    return pickled_shape(kinds) + ";" + parsed_shape()  # the parse results it holds too


_FORMAT = (f"briefgen-snapshot-5 {__version__} "
           + hashlib.blake2b(_shape().encode(), digest_size=8).hexdigest())

ContentFiles = dict[str, tuple[FileStat, str]]  # site-relative path -> stat, digest


@dataclass(frozen=True)
class Snapshot:
    output: str
    global_inputs: str  # see inputs.global_inputs
    loaded: Loaded  # its `content` holds each content file's stat and digest
    fingerprints: FingerprintState
    token: str = ""
    paths: tuple[str, ...] = ()  # each briefing's file (site-relative), in the model's order
    plan: Sequence[PlanRow] = ()  # the plan, in the head as rows (loaded.plan is left empty there)


class DamagedRow(Exception):
    """A row of briefings the snapshot names is missing or unreadable: a full build."""


# Briefings per row. Each row is pickled on its own, so writing the snapshot holds one
# row's bytes and pickle memo at a time, not the whole site's (tens of megabytes).
CHUNK = 1024
BRIEFINGS = "snapshot/briefings"


def _chunk_row(number: int) -> str:
    return f"{BRIEFINGS}/{number}"


class _Pickler(pickle.Pickler):
    """Writes a registry source as its id: the head row holds the registry, once, and
    briefings read back share its objects as a full build's do."""

    def __init__(self, file: io.BytesIO, sources: Mapping[str, Source]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.sources = sources

    def persistent_id(self, obj: Any) -> str | None:
        if type(obj) is Source and self.sources.get(obj.id) is obj:
            return obj.id
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, sources: Mapping[str, Source]) -> None:
        super().__init__(io.BytesIO(data))
        self.sources = sources

    def persistent_load(self, pid: Any) -> Source:
        return self.sources[pid]


def _with_briefings(snapshot: Snapshot, briefings: Sequence[Briefing]) -> Snapshot:
    loaded = snapshot.loaded
    return replace(snapshot, loaded=replace(loaded, site=replace(loaded.site, briefings=briefings)))


def write(store: Store, snapshot: Snapshot) -> None:
    snapshot = replace(snapshot, token=secrets.token_hex(8))
    loaded = snapshot.loaded
    briefings = loaded.site.briefings
    head = replace(_with_briefings(snapshot, ()), paths=tuple(b.doc.path for b in briefings),
                   plan=plan_rows(loaded.plan))
    head = replace(head, loaded=replace(head.loaded, plan=[]))
    starts = range(0, len(briefings), CHUNK)

    def rows() -> Iterator[tuple[str, bytes]]:
        yield HEAD, pickle.dumps((_FORMAT, head, len(starts)), protocol=pickle.HIGHEST_PROTOCOL)
        for number, start in enumerate(starts):
            data = io.BytesIO()
            _Pickler(data, loaded.sources).dump(briefings[start:start + CHUNK])
            yield _chunk_row(number), data.getvalue()

    store.write_blobs(rows(), drop=(DELTA,), drop_prefix=BRIEFINGS)


def drop(store: Store, values: dict[str, Any] | None = None, also: tuple[str, ...] = ()) -> None:
    """Forget the snapshot (the output no longer matches it); in the same transaction, write
    `values` and drop the rows named in `also`."""
    store.write_state(values or {}, drop=(HEAD, DELTA, *also), drop_prefix=BRIEFINGS)


def read(store: Store, output: str) -> Snapshot | None:
    """The snapshot of the last full build into `output`, with its in-place edits applied."""
    try:
        header, snapshot, chunks = pickle.loads(store.read_blobs([HEAD])[HEAD])
    except Exception:  # missing, damaged or foreign: a full build
        return None
    if header != _FORMAT or not isinstance(snapshot, Snapshot) or snapshot.output != output:
        return None
    if not isinstance(chunks, int) or -(-len(snapshot.paths) // CHUNK) != chunks:
        return None
    snapshot = replace(snapshot, loaded=replace(snapshot.loaded, plan=PlanRows(snapshot.plan)))
    sources = snapshot.loaded.sources

    def read_row(number: int) -> tuple[Briefing, ...]:
        try:
            row = store.read_blobs([_chunk_row(number)])[_chunk_row(number)]
            briefings = _Unpickler(row, sources).load()
        except Exception as exc:
            raise DamagedRow(number) from exc
        if (not isinstance(briefings, tuple)
                or len(briefings) != min(CHUNK, len(snapshot.paths) - number * CHUNK)):
            raise DamagedRow(number)
        return briefings

    snapshot = _with_briefings(snapshot, BriefingRows(len(snapshot.paths), CHUNK, read_row))
    delta = store.read_states([DELTA]).get(DELTA)
    if not isinstance(delta, tuple) or len(delta) != 3 or delta[0] != snapshot.token:
        return snapshot
    _, replaced, content = delta
    return _applied(snapshot, replaced, content)


def _applied(snapshot: Snapshot, replaced: Mapping[int, Briefing], content: ContentFiles) -> Snapshot:
    site = snapshot.loaded.site
    loaded = replace(snapshot.loaded, site=replace(site, briefings=with_replaced(site.briefings, replaced)),
                     content={**snapshot.loaded.content, **content})
    return replace(snapshot, loaded=loaded)


def delta_rows(store: Store, snapshot: Snapshot, replaced: Mapping[int, Briefing],
               content: ContentFiles) -> dict[str, Any] | None:
    """The delta row after an in-place edit (records with their bodies left out: the body
    store keeps those); None when the delta has grown too large to be worth keeping."""
    earlier = store.read_states([DELTA]).get(DELTA)
    known: dict[int, Briefing] = {}
    files: ContentFiles = {}
    if isinstance(earlier, tuple) and len(earlier) == 3 and earlier[0] == snapshot.token:
        known, files = dict(earlier[1]), dict(earlier[2])
    for index, briefing in replaced.items():
        known[index] = replace(briefing, doc=without_body(briefing.doc))
    files.update(content)
    if len(known) > DELTA_LIMIT:
        return None
    return {DELTA: (snapshot.token, known, files)}
