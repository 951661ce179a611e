"""The search index: documents, postings and filters built from the site model.

Every file is a pure function of the model and the documents' HTML bodies
(read through the build cache), written with sorted keys and no timestamps,
so identical input gives identical bytes and an unchanged shard is kept as it
was. The postings are built once per build, when any index file needs
rendering, by updating the state the previous build left (see indexing.py).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from briefgen.search import documents, indexing, phrases, postings
from briefgen.search.documents import HtmlOf
from briefgen.search.state import HeldRows, IndexState, Keys, StateError
from briefgen.search.text import plain_text
from briefgen.site import search_files as files
from briefgen.site.kinds import SEARCH_DOC, SEARCH_FILTER, SEARCH_TERMS
from briefgen.site.model import Site, publisher_names
from briefgen.site.plan import PageSpec
from briefgen.site.urls import output_file

DateOf = Callable[[dt.date], str]  # a date as results show it, in the site's language


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


_LEAD = 200  # characters of text a result shows for a document without a summary
_SEQUENCES_KEPT = 16 << 20  # bytes of words (phrases.sequence) kept from indexing for documents' files


@dataclass(frozen=True)
class Record:
    """One document as a result shows it, with its words for confirming phrases."""

    id: int
    url: str  # site-relative
    title: str
    date: str  # ISO date, "" for pages
    date_display: str
    summary: str  # or, for a document without one, the start of its text
    topics: tuple[tuple[str, str], ...]  # (slug, name)
    words: bytes  # see phrases.sequence

    def as_json(self) -> bytes:
        return _json({
            "id": self.id, "url": self.url, "title": self.title, "date": self.date,
            "date_display": self.date_display, "summary": self.summary,
            "topics": [list(t) for t in self.topics], "words": base64.b64encode(self.words).decode("ascii"),
        })


def lead(body_html: str) -> str:
    """The start of a text, cut at a word boundary, for a result without a summary."""
    text = " ".join(plain_text(body_html)[:_LEAD * 2].split())
    if len(text) <= _LEAD:
        return text
    cut = text.rfind(" ", 0, _LEAD)
    return text[:cut if cut > 0 else _LEAD].rstrip(",;:") + " …"


def record(site: Site, doc_id: int, html_of: HtmlOf, date_of: DateOf, hashes: phrases.WordHashes,
           sequence: bytes | None = None) -> Record:
    """A document's result entry; `sequence`, when given, is its words (phrases.sequence), made as
    it was indexed."""
    doc, title, _, _, summary = documents.fields(site, doc_id)
    if sequence is None:
        # What a quoted phrase is checked against: every field the document is searched by, in order.
        sequence = phrases.sequence(documents.document_words(site, doc_id, html_of).for_phrases(), hashes)
    shown = summary or lead(html_of(doc))
    ref = files.doc_ref(site, doc_id)
    if ref.kind == "page":
        return Record(doc_id, site.pages[ref.index].url, title, "", "", shown, (), sequence)
    b = site.briefings[ref.index]
    day = b.date.date()
    return Record(
        doc_id, b.url, title, day.isoformat(), date_of(day), shown,
        tuple((slug, site.topic_names[slug].name) for slug in b.topic_slugs), sequence,
    )


class SearchIndex:
    """The postings of every document, grouped into shards; built once, rendered file by file."""

    def __init__(self, site: Site, html_of: HtmlOf, previous: postings.Postings | None = None,
                 previous_shards: Mapping[int, bytes] | None = None,
                 only: Collection[int] | None = None, seen: documents.WordsSeen | None = None,
                 given: Iterator[documents.IndexedDoc] | None = None, keys: list[str] | None = None,
                 previous_spare: bool = False, save_to: IndexState | None = None,
                 known_order: dict[int, int] | None = None, spool: Path | None = None) -> None:
        self.site = site
        self.html_of = html_of
        self.documents = files.document_count(site)
        self.postings = indexing.build(site, html_of, previous, only, seen, given, keys, previous_spare,
                                       save_to, known_order, spool)
        self.shards = self.postings.shards
        self._shards: dict[int, bytes] = {}  # term shard bytes, by shard number
        self._meta: bytes | None = None
        if previous is not None and previous_shards:
            self._keep_unchanged_shards(previous, previous_shards)

    def _keep_unchanged_shards(self, previous: postings.Postings,
                               previous_shards: Mapping[int, bytes]) -> None:
        """Reuse the bytes of term shards an update left alone (the live preview after an edit).

        An update replaces the term set of every shard it touches and keeps the others'
        as they were, so an unchanged set object means an unchanged shard. A change in
        the number of documents may re-encode a term in any shard (whether a term keeps its
        weights depends on that number) without replacing the shard's term set: then nothing is kept.
        """
        if len(previous.keys) != len(self.postings.keys) or previous.shards != self.shards:
            return
        if self.postings.spilled is not None:
            # Indexed afresh and set aside (see spill.py): a shard's terms are known once it is
            # taken back, and a shard none were known in is not one known to have none.
            return
        now, before = self.postings.shard_terms, previous.shard_terms
        for shard, data in previous_shards.items():
            if now.get(shard) is before.get(shard):
                self._shards[shard] = data

    def term_shard(self, shard: int) -> bytes:
        found = self._shards.get(shard)
        if found is None:
            try:
                found = self.postings.shard_bytes(shard)
            except StateError:
                # A row gone from the cache since the build began: index afresh.
                self.postings = indexing.build(self.site, self.html_of)
                found = self.postings.shard_bytes(shard)
            # A build makes each once, in whichever process (see Postings.keep_only_encoded); the live
            # preview keeps them, for the next edit to reuse.
            if not self.postings.encoded_only:
                self._shards[shard] = found
        return found

    def drop_shard_bytes(self) -> None:
        """Forget rendered shards."""
        self._shards = {}

    def shard_digest(self, shard: int) -> str:
        """A digest of a term shard's bytes: known without them for a shard an edit left alone."""
        known = self.postings.digests[shard]
        return known or self.postings.digest(shard, self.term_shard(shard))

    def filter_file(self, kind: str, value: str) -> bytes:
        ids = files.filter_ids(self.site, kind, value)
        return _json([b - a for a, b in zip([0, *ids], ids, strict=False)])

    def meta(self, dates_made_with: str) -> bytes:
        """meta.json; `dates_made_with`: what the documents' files write their dates with
        (Catalog.made_with), which their keys do not name, for the version."""
        if self._meta is None:
            self._meta = self._meta_bytes(dates_made_with)
        return self._meta

    def _meta_bytes(self, dates_made_with: str) -> bytes:
        site = self.site
        digest = hashlib.blake2b(digest_size=8)
        # The format and what dates are written with first: a document's file of an earlier
        # format or in another language has the same key, and must not be taken from a browser's
        # cache under the same version.
        digest.update(f"format {files.FORMAT}\n{dates_made_with}\n".encode())
        for shard in range(self.shards):
            digest.update(self.shard_digest(shard).encode())
        # The client asks for every file with this version: the documents' keys name what their
        # files and the filters' show (a date, a title, a topic), which no term shard may change.
        keys = self.postings.keys
        digest.update((keys.joined() if isinstance(keys, Keys) else "".join(keys)).encode())
        return _json({
            "format": files.FORMAT,
            "documents": self.documents,
            "average_length": round(self.postings.average_length, 3),
            "shards": self.shards,
            "version": digest.hexdigest(),
            "topics": [[slug, t.name] for slug, t in site.topic_names.items()],
            "publishers": [[slug, name] for slug, name in publisher_names(site.publishers)],
            "years": sorted(site.years, reverse=True),
        })


class SearchFiles:
    """Renders the search index's files; the index itself is built on first need."""

    def __init__(self, site: Site, html_of: HtmlOf, date_of: DateOf, dates_made_with: str) -> None:
        """`dates_made_with`: what `date_of` formats with (Catalog.made_with), for the index's version."""
        self.site = site
        self.html_of = html_of
        self.date_of = date_of
        self.dates_made_with = dates_made_with
        self._index: SearchIndex | None = None
        self._previous: postings.Postings | None = None
        self._previous_spare = False  # read here from the kept state: no one else holds it
        self._previous_shards: Mapping[int, bytes] = {}
        self._only: Collection[int] | None = None
        self._state: IndexState | None = None
        self._held: HeldRows | None = None  # see holding_state
        self._hashes = phrases.WordHashes()
        self._prefixes = documents.PrefixTerms()
        # Documents' words (phrases.sequence) made while indexing, until their files are rendered; past
        # the bound, the files themselves, in a temporary file (offset and length by id).
        self._sequences: dict[int, bytes] = {}
        self._sequence_bytes = 0
        self._spool: IO[bytes] | None = None
        self._spooled: dict[int, tuple[int, int]] = {}
        self._output = ""  # see use_earlier_output
        # Id -> earlier id, of documents whose words their earlier files hold.
        self._earlier_ids: dict[int, int] = {}
        self._earlier_file: Callable[[str], bytes | None] = lambda rel: None
        self._given: Iterator[documents.IndexedDoc] | None = None  # see use_indexed
        self._keys: list[str] | None = None  # every document's key, when words_kept found them

    def indexes_everything(self) -> bool:
        """Whether the index, when built, will be made from every document afresh: no earlier
        index to update (a first build, or a cache without one)."""
        return self._index is None and self._earlier_postings() is None

    def _earlier_postings(self) -> postings.Postings | None:
        """The postings this index updates: an earlier renderer's, or the kept state's head."""
        if self._previous is None and self._state is not None:
            self._previous = postings.read_state(self._state)
            self._previous_spare = True
        return self._previous

    def ids_may_have_moved(self) -> bool:
        """Whether documents were added or taken out below the highest id that the kept state
        and this site share: the document there now is indexed by another key. A briefing
        added or deleted as the newest moves no id; one dated in the past moves every newer one."""
        if self._index is not None or self._only is not None:
            return False
        previous = self._earlier_postings()
        if previous is None:
            return False
        last = min(len(previous.keys), files.document_count(self.site)) - 1
        return last >= 0 and previous.keys[last] != documents.document_key(self.site, last)

    def words_kept(self) -> frozenset[int]:
        """Documents indexed by the same key as in the kept state, under the same id or a new
        one (briefings added or taken out among older ones): their words are those of their
        earlier files. Found before the index is built, so that any process can render their
        files meanwhile. Empty unless the kept state is that of the build which wrote the
        earlier output (see use_earlier_output)."""
        if self._index is not None or self._only is not None:
            return frozenset()
        previous = self._earlier_postings()
        if previous is None or not self._wrote_earlier_output(previous):
            return frozenset()
        self._keys = documents.document_keys(self.site)
        kept = indexing.kept_in_order(previous.keys, self._keys)
        if kept is None:
            return frozenset()
        self._earlier_ids = kept
        return frozenset(kept)

    def earlier_files(self) -> list[str]:
        """The earlier files (output paths) that documents' words are read from, as words_kept
        found them."""
        return [output_file(files.doc_file(old)) for old in self._earlier_ids.values()]

    def use_indexed(self, given: Iterator[documents.IndexedDoc]) -> None:
        """Index from postings made elsewhere, every document's in id order (see render_indexed)."""
        self._given = given

    def render_indexed(self, doc_id: int) -> tuple[bytes, documents.IndexedDoc]:
        """A document's file and its postings, from one split of its text: the work of indexing
        that a worker process can share (the index itself is built from every document's)."""
        found = documents.document_words(self.site, doc_id, self.html_of)
        sequence = phrases.sequence(found.for_phrases(), self._hashes)
        data = record(self.site, doc_id, self.html_of, self.date_of, self._hashes, sequence).as_json()
        return data, documents.indexed_doc(found, self._prefixes)

    def follow(self, earlier: SearchFiles, changed_briefings: Collection[int] | None = None) -> None:
        """Index by updating what an earlier renderer of the same site indexed (the live preview);
        changed_briefings, when given, are the only briefings that may differ."""
        self._previous = earlier._index.postings if earlier._index is not None else earlier._previous
        self._previous_spare = False
        self._previous_shards = earlier._index._shards if earlier._index is not None else {}
        if earlier._index is None:
            self._state = earlier._state  # not indexed yet: this one starts from the kept state
        if changed_briefings is not None:
            self._only = [files.briefing_id(self.site, index) for index in changed_briefings]

    def index(self) -> SearchIndex:
        if self._index is None:
            self._earlier_postings()
            given, self._given = self._given, None
            keys, self._keys = self._keys, None
            # What kept_in_order found with those keys (see words_kept) is not found again. Held
            # rows are saved to as the kept state is updated (see indexing.build); `_keep` saves
            # the rest to them.
            order = self._earlier_ids if keys is not None and self._earlier_ids else None
            self._index = SearchIndex(self.site, self.html_of, self._previous, self._previous_shards,
                                      self._only, self._keep_sequence, given, keys, self._previous_spare,
                                      self._held if self._held is not None and self._held.writable else None,
                                      order, self._held.folder if self._held is not None else None)
            if self._wrote_earlier_output(self._index.postings):
                self._earlier_ids.update(self._index.postings.moved_from)
            if self._output:
                self._index.postings.output = self._output
            self._previous, self._previous_shards, self._only = None, {}, None
            self._previous_spare = False
            if self._state is not None:
                self._keep(self._index, self._held if self._held is not None else self._state)
        return self._index

    def _keep_sequence(self, doc_id: int, found: documents.Words) -> None:
        """Keep a document's words (phrases.sequence) for its file, up to a bound. Past it, the file is
        made now and kept on disk: the index does not hold every document's words, and the
        file does not split its text again (a third of the search work on long briefings)."""
        sequence = phrases.sequence(found.for_phrases(), self._hashes)
        if self._sequence_bytes < _SEQUENCES_KEPT:
            self._sequences[doc_id] = sequence
            self._sequence_bytes += len(sequence)
            return
        data = record(self.site, doc_id, self.html_of, self.date_of, self._hashes, sequence).as_json()
        if self._spool is None:
            # Open until its last file is read: it outlives any one call.
            self._spool = tempfile.TemporaryFile()  # noqa: SIM115
        self._spool.seek(0, 2)
        self._spooled[doc_id] = (self._spool.tell(), len(data))
        self._spool.write(data)

    def _spooled_file(self, doc_id: int) -> bytes | None:
        place = self._spooled.pop(doc_id, None)
        if place is None or self._spool is None:
            return None
        self._spool.seek(place[0])
        data = self._spool.read(place[1])
        if not self._spooled:
            self._spool.close()
            self._spool = None
        return data

    @contextlib.contextmanager
    def holding_state(self, spool: Path | None = None) -> Iterator[None]:
        """Hold the index's state aside (in a temporary file, in `spool` when given) until the
        block ends, then write it: worker processes that read the cache meanwhile should not
        wait on this process's writing."""
        if self._state is None:
            yield
            return
        held = self._held = HeldRows(self._state, spool)
        try:
            yield
            state = held.flush()
        finally:
            self._held = None
            held.close()
        if self._index is not None and self._index.postings.rows is held:
            self._index.postings.rows = state

    def _keep(self, index: SearchIndex, state: IndexState) -> None:
        """Leave the index's postings, and every shard's digest, in the kept state (or the
        held rows that will be written to it)."""
        if state.writable:
            # A build renders each shard once from its encoded entries; the rows hold the rest.
            # Saving finds the shards' digests: their bytes are made again to be written, rather
            # than held while the rows are saved (16 MB at 10,000 briefings in Chinese).
            try:
                index.postings.save(state, let_go=True)
            except StateError:  # a row gone from the cache: index afresh
                index.postings = indexing.build(self.site, self.html_of)
                index.postings.save(state, let_go=True)
            index.postings.keep_only_encoded()
            index.drop_shard_bytes()
            return
        for shard in range(index.shards):
            index.shard_digest(shard)
        index.postings.save(state)
        try:
            index.postings.detach()
        except StateError:  # a row gone from the cache: index afresh
            index.postings = indexing.build(self.site, self.html_of)

    def use_earlier_output(self, output: str, earlier_file: Callable[[str], bytes | None]) -> None:
        """Build into `output`, whose files as the last build left them `earlier_file` reads (by
        output path; None for one changed since): a document whose id an update moved (or, after
        words_kept, any document indexed by its earlier key) takes its words from its earlier
        file rather than splitting its text again, when the kept state is that build's."""
        self._output, self._earlier_file = output, earlier_file

    def _wrote_earlier_output(self, kept: postings.Postings) -> bool:
        """Whether postings were kept by the build that wrote the earlier output: only then is a
        document's earlier file the words of the document its kept key names."""
        return bool(self._output) and kept.output == self._output

    def _earlier_words(self, doc_id: int) -> bytes | None:
        old = self._earlier_ids.get(doc_id)
        data = None if old is None else self._earlier_file(output_file(files.doc_file(old)))
        if data is None:
            return None
        # The file is the one that build wrote (earlier_file checks its digest), of a document
        # indexed by the same key, so its words are this document's.
        try:
            kept = json.loads(data)
            return base64.b64decode(kept["words"], validate=True) if kept["id"] == old else None
        except (ValueError, KeyError, TypeError):
            return None

    def use_state(self, state: IndexState) -> None:
        """Index by updating the postings an earlier build kept in `state`, and keep the result there."""
        self._state = state

    def digest(self, spec: PageSpec) -> str:
        """What an index file's bytes are, without rendering the term shards an edit left alone."""
        if spec.kind is SEARCH_TERMS:
            return self.index().shard_digest(spec.args[0])
        return hashlib.blake2b(self.render(spec), digest_size=16).hexdigest()

    def held_terms(self, output_digests: Callable[[list[str]], Sequence[str | None]]
                   ) -> frozenset[tuple[int, int]]:
        """The term shards whose files have the bytes the output holds (`output_digests`: the
        files' digests there, None for one it has not), known without rendering them: shards an
        update left alone, whose digests the kept state names. As their files' arguments
        (shard, shards).

        Found shard by shard, not through the plan: an edit at 50,000 briefings looks at every
        one of 8,000 shards, and made each one's spec to ask."""
        digests = self.index().postings.digests
        count = len(digests)
        there = output_digests([output_file(files.term_file(shard)) for shard in range(count)])
        return frozenset((shard, count) for shard, known in enumerate(digests)
                         if known and known == there[shard])

    def render(self, spec: PageSpec) -> bytes:
        if spec.kind is SEARCH_DOC:
            doc_id = spec.args[0]
            spooled = self._spooled_file(doc_id)
            if spooled is not None:
                return spooled
            sequence = self._sequences.pop(doc_id, None)
            if sequence is None:
                sequence = self._earlier_words(doc_id)
            return record(self.site, doc_id, self.html_of, self.date_of, self._hashes, sequence).as_json()
        if spec.kind is SEARCH_TERMS:
            return self.index().term_shard(spec.args[0])
        if spec.kind is SEARCH_FILTER:
            return self.index().filter_file(*spec.args)
        return self.index().meta(self.dates_made_with)
