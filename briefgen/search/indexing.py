"""How the postings are made: afresh from every document, or updated from the last
build's (see postings.py): the documents changed indexed again, and when documents were
added or taken out among the others, the kept ones' postings moved to their new ids."""

from __future__ import annotations

import functools
import itertools
from array import array
from bisect import bisect_left
from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Iterator, MutableMapping, Sequence
from pathlib import Path
from typing import cast

from briefgen.search import encoding, state
from briefgen.search.documents import (
    DocTerms,
    HtmlOf,
    IndexedDoc,
    PrefixTerms,
    WordsSeen,
    document_key,
    document_keys,
    index_document,
    split_terms,
)
from briefgen.search.entries import (
    flippable,
    frequent_terms,
    is_presence_only,
    least_frequent,
    with_frequencies,
)
from briefgen.search.postings import Postings
from briefgen.search.spill import SPILL_AT, SpilledShards
from briefgen.search.state import (
    IndexState,
    Keys,
    SpooledRows,
    StateError,
    pack,
    terms_row,
)
from briefgen.search.text import shard_of
from briefgen.site import search_files as files
from briefgen.site.model import Site


def build(site: Site, html_of: HtmlOf, previous: Postings | None = None,
          only: Collection[int] | None = None, seen: WordsSeen | None = None,
          given: Iterator[IndexedDoc] | None = None, keys: Sequence[str] | None = None,
          previous_spare: bool = False, save_to: IndexState | None = None,
          known_order: dict[int, int] | None = None, spool: Path | None = None) -> Postings:
    """The postings of every document of the site, updated from `previous` when that is cheaper.

    `only` names the documents that may have changed, when the caller knows the others
    did not (the live preview after an edit): the others keep their keys unread. `seen`
    is told the words of each document indexed. `given`, when the postings are made afresh
    (with no `previous`), yields every document's, in id order, made elsewhere (a build's workers).
    `keys`, when given, are every document's key (document_key), found already.
    `previous_spare`: nothing uses `previous` after this (it was read for this build from the
    kept state), so an update may change its postings where they are rather than copy them;
    with `save_to` as well (the rows `save` will write to), it saves the shards it changes there
    as it goes, and holds their entries alone (see Postings.keep_only_encoded): `save` writes the rest.
    `known_order`, when given, is what kept_in_order(previous.keys, keys) gives, found already.
    `spool`: the folder of the temporary files of a first build or a moving update (the build
    cache's, which a system may not keep in memory as it may its temporary folder); the system's
    temporary folder if None.
    """
    count = files.document_count(site)
    shards = files.shard_count(count)
    if previous is not None and previous.spilled is not None:
        # Postings indexed afresh and set aside, never saved (a build without a cache, the live
        # preview's): an update reads the shards it changes from the rows, and those are not.
        previous.load_shards(range(previous.shards))
    changed: list[int] | None = None
    if only is not None and previous is not None and len(previous.keys) == count:
        now = {doc_id: document_key(site, doc_id) for doc_id in only}
        if isinstance(previous.keys, Keys):
            keys = previous.keys.replaced(now)
        else:
            keys = list(previous.keys)
            for doc_id, key in now.items():
                keys[doc_id] = key
        # The others' keys are the previous ones: not compared one by one (50,000 at 15 ms).
        changed = sorted({doc_id for doc_id, key in now.items() if key != previous.keys[doc_id]})
    elif keys is None or len(keys) != count:
        keys = document_keys(site)
    if previous is not None and previous.shards == shards:
        if changed is None:
            before = list(previous.keys)  # made once, rather than a key sliced a document
            changed = [i for i in range(count) if i >= len(before) or before[i] != keys[i]]
            del before  # not held while the postings are updated: 50,000 keys at 50,000 briefings
        gone = list(range(count, len(previous.keys)))
        try:
            if len(changed) + len(gone) > UPDATE_FLOOR:
                # A briefing added or deleted in the past moves the ids of every newer one.
                # Moving their postings costs about what updating a few documents does, and
                # less than indexing many again: at 50,000, 1.5 s against 7 s for 4,362 ids.
                kept = known_order if known_order is not None else kept_in_order(previous.keys, keys)
                if kept is not None and count - len(kept) <= _worth_updating(count):
                    runs = _runs(kept)
                    if len(runs) <= _MOST_RUNS and any(shift for _, _, shift in runs):
                        return _moved(site, html_of, previous, keys, kept, runs, seen, previous_spare,
                                      save_to, spool)
            if len(changed) + len(gone) <= _worth_updating(count):
                return _update(site, html_of, previous, keys, changed, gone, seen, previous_spare, save_to)
        except StateError:
            pass  # a damaged state: index everything
    return _full(site, html_of, keys, shards, previous.rows if previous is not None else None, seen, given,
                 spool)


# Fewest documents an update may index again: past this (and an eighth of the site),
# indexing everything afresh costs about as much.
UPDATE_FLOOR = 64


# Most runs of kept documents (see _runs) a moving update takes: it looks for each in every
# term's postings. Scattered changes make many runs, and indexing afresh suits them better.
_MOST_RUNS = 64


def _worth_updating(count: int) -> int:
    return max(UPDATE_FLOOR, count // 8)


def kept_in_order(old_keys: Sequence[str], new_keys: Sequence[str]) -> dict[int, int] | None:
    """New id -> old id of every document indexed by the same key as before, when those
    documents are in the same order as before (ids moved by documents added or taken out
    among them); None when a key is not one document's, or the order changed."""
    old_of_key = {key: old for old, key in enumerate(old_keys)}
    if len(old_of_key) != len(old_keys) or len(set(new_keys)) != len(new_keys):
        return None  # two documents indexed alike: which is which cannot be told
    kept = {new: old_of_key[key] for new, key in enumerate(new_keys) if key in old_of_key}
    olds = list(kept.values())
    if any(later <= earlier for earlier, later in itertools.pairwise(olds)):
        return None
    return kept


def _runs(kept: dict[int, int]) -> list[tuple[int, int, int]]:
    """The kept documents as runs of consecutive old ids that move by the same amount:
    (first old id, old id past the run, new id - old id)."""
    runs: list[tuple[int, int, int]] = []
    for new, old in sorted(kept.items()):
        if runs and runs[-1][1] == old and runs[-1][2] == new - old:
            runs[-1] = (runs[-1][0], old + 1, new - old)
        else:
            runs.append((old, old + 1, new - old))
    return runs


def _moved(site: Site, html_of: HtmlOf, previous: Postings, keys: Sequence[str], kept: dict[int, int],
           runs: list[tuple[int, int, int]], seen: WordsSeen | None, spare: bool = False,
           save_to: IndexState | None = None, spool: Path | None = None) -> Postings:
    """The postings after documents were added or taken out among the others: the kept
    documents' postings move to their new ids (in order, so each list stays sorted), and only
    the documents not kept are indexed. The rows of documents' terms from the first moved id on,
    and of the shards with an entry that changed, are written again. When `previous` is
    `spare` (see build), its shards are read a few at a time and let go of once moved, and a
    list that stays as it was is kept rather than copied: at 50,000 briefings, every earlier
    list and entry read at once, beside their moved copies, made this the build's peak. With
    rows to `save_to` as well, each batch's changed shards are saved to them once moved, and
    every shard's postings let go of: every posting moved, held at once, was 80 MB there."""
    shards = previous.shards
    prefixes = previous.prefixes
    previous.encode_all()  # its entries are compared with the moved ones
    indexed = {new: index_document(site, new, html_of, seen, prefixes)
               for new in range(len(keys)) if new not in kept}
    typecode = _posting_type(len(keys))
    old_count = len(previous.keys)
    # The postings of the documents indexed again, by term, in id order.
    new_postings: dict[str, list[int]] = {}
    for new, doc in sorted(indexed.items()):
        for term, posting in doc.postings(new).items():
            new_postings.setdefault(term, []).append(posting)
    new_in: defaultdict[int, list[str]] = defaultdict(list)  # by shard, the terms indexed again
    for term in new_postings:
        new_in[shard_of(term, shards)].append(term)
    streamed = (save_to is not None and save_to.writable and spare and previous.rows is not None
                and not previous.fresh)
    least = least_frequent(len(keys))
    # Each shard's terms as _terms_by_shard lists them, made as they are moved: every term's
    # shard is known here, where hashing each one again cost a briefing added in 2019 among
    # 10,000 in Chinese (311,000 terms) 0.3-0.4 s.
    shard_terms: dict[int, list[str]] = {}
    postings = Postings(shards, keys, [], [""] * shards, {}, {},
                        cast("dict[int, Collection[str]]", shard_terms), {},
                        loaded=set() if streamed else None, rows=previous.rows, fresh=previous.fresh,
                        changed_shards=set() if previous.fresh else set(previous.changed_shards),
                        output=previous.output, frequent_least=least, frequent={}, prefixes=prefixes,
                        moved_from={new: old for new, old in kept.items() if new != old})
    if not previous.fresh:
        postings.digests = list(previous.digests)
    lists, encoded, frequent = postings.lists, postings.encoded, cast("dict[str, int]", postings.frequent)
    # A shard whose every entry was kept (the same documents and weights, listed alike) and
    # whose terms are all still there keeps its row and its digest: a briefing added or
    # deleted in the last years of a large archive changes a tenth of its shards.
    touched: set[int] = set()

    def entry(term: str, entries: array[int], count_before: int, same: bool) -> str | None:
        """The term's entry when known without encoding its postings again; None otherwise,
        for Postings.entries to encode when asked (a build's as it saves each shard)."""
        presence_only = is_presence_only(len(entries), len(keys))
        if presence_only == is_presence_only(count_before, old_count):
            if same:
                return previous.encoded[term]  # the same documents and weights, listed alike
            kept_entry = previous.encoded[term]
            last = entries[-1] >> 16
            if (presence_only and encoding.surely_bitmap(len(entries), last)
                    and kept_entry.startswith(encoding.BITMAP)):
                added = [posting >> 16 for posting in new_postings.get(term, ())]
                return encoding.moved_bitmap(kept_entry, runs, added, last)
        return None

    def move(term: str, entries: array[int], shard: int) -> None:
        moved = array(typecode)
        for first, end, shift in runs:
            start, stop = bisect_left(entries, first << 16), bisect_left(entries, end << 16)
            if start >= stop:
                continue
            if not shift and entries.typecode == typecode:
                moved.extend(entries[start:stop])
            else:  # postings are id << 16 | weight: a run's ids move by one amount, added to each
                moved.extend(map((shift << 16).__add__, entries[start:stop]))
        added = new_postings.get(term, ())
        same = not added and entries.typecode == typecode and moved == entries
        if same and spare:
            moved = entries  # one array, not two alike
        for posting in added:
            moved.insert(bisect_left(moved, posting), posting)
        if not moved:
            touched.add(shard)  # a term no document has now
            return
        lists[term] = moved
        shard_terms.setdefault(shard, []).append(term)
        found = entry(term, moved, len(entries), same)
        if found is not None:
            encoded[term] = found
        if found is None or found is not previous.encoded.get(term):
            touched.add(shard)

    every = range(shards)
    for batch in ([every[at:at + state.ROWS_READ_AT_ONCE] for at in range(0, shards, state.ROWS_READ_AT_ONCE)]
                  if spare else [every]):
        previous.load_shards(batch)
        for shard in batch:
            for term in previous.shard_terms.get(shard, ()):
                move(term, previous.lists.pop(term) if spare else previous.lists[term], shard)
                if spare:
                    previous.encoded.pop(term, None)
            for term in new_in.get(shard, ()):
                if term not in lists:  # a term no document had before
                    lists[term] = array(typecode, new_postings[term])
                    shard_terms.setdefault(shard, []).append(term)
                    touched.add(shard)
            frequent.update((term, len(lists[term])) for term in shard_terms.get(shard, ())
                            if len(lists[term]) >= least)
        if streamed:
            # The shards saved hold their entries alone; the others are read from the rows when asked for.
            cast("set[int]", postings.loaded).update(batch)
        postings.batch_done(batch, [shard for shard in batch if shard in touched],
                            save_to if streamed else None)
    # Rows of documents' terms before the first id that moved hold the same documents: kept as
    # they are. The others are made again.
    first_moved = min([new for new, old in kept.items() if new != old] + list(indexed) + [len(keys)])
    # In a temporary file, as a first build keeps them (see _full): a briefing added among
    # 10,000 in Chinese in 2016 made most rows again, 14 MB held until the rows were saved.
    packed_terms: MutableMapping[int, bytes] = SpooledRows[int](spool)
    for chunk in range((len(keys) + state.CHUNK - 1) // state.CHUNK):
        ids = range(chunk * state.CHUNK, min((chunk + 1) * state.CHUNK, len(keys)))
        row = None
        if (ids.stop <= first_moved and ids.stop == min((chunk + 1) * state.CHUNK, len(previous.keys))
                and not any(doc_id in previous.terms for doc_id in ids)):
            row = previous.packed_terms.get(chunk)
            if row is None and previous.rows is not None:
                if spare and not previous.fresh:
                    continue  # the row as the rows keep it, read from there when asked for
                row = previous.rows.load([terms_row(chunk)]).get(terms_row(chunk))
        if not isinstance(row, bytes):
            row = pack([indexed[new].kept if new in indexed else previous.kept_terms(kept[new])
                        for new in ids])
            if spare:  # each earlier document's terms are read once, unpacked with their row's
                for new in ids:
                    previous.terms.pop(kept.get(new, -1), None)
        packed_terms[chunk] = row
    postings.lengths = [indexed[new].length if new in indexed else previous.lengths[kept[new]]
                        for new in range(len(keys))]
    postings.packed_terms = packed_terms
    postings.changed_docs = previous.changed_docs | set(range(first_moved, len(keys)))
    return postings


def _terms_by_shard(terms: Iterable[str], shards: int) -> dict[int, Collection[str]]:
    """Each shard's terms, listed: as sets, a large site's were 16 MB more (a shard an update
    changes is made a set then, see _update)."""
    found: dict[int, list[str]] = {}
    for term in terms:
        found.setdefault(shard_of(term, shards), []).append(term)
    return cast("dict[int, Collection[str]]", found)


def _posting_type(documents: int) -> str:
    """The array type of a term's postings: 32 bits while every id fits in 16 (postings are most
    of the index's memory), else 64. A list an update leaves alone may keep the narrower type."""
    return "I" if documents <= 1 << 16 and array("I").itemsize == 4 else "Q"


def _full(site: Site, html_of: HtmlOf, keys: Sequence[str], shards: int, rows: IndexState | None,
          seen: WordsSeen | None, given: Iterator[IndexedDoc] | None = None, spool: Path | None = None
          ) -> Postings:
    chunk: list[DocTerms] = []
    # Held in a temporary file as they are made: every document's terms, packed, are about
    # a third of what indexing holds (30 MB at 50,000 briefings) until the rows are saved.
    packed_terms: MutableMapping[int, bytes] = SpooledRows[int](spool)
    lengths: list[int] = []
    typecode = _posting_type(len(keys))
    # A new term's list made without a call in Python (most of a large site's terms are new once).
    collected: defaultdict[str, array[int]] = defaultdict(functools.partial(array, typecode))
    prefixes = PrefixTerms()
    spilled: SpilledShards | None = None
    gathered = 0  # postings in `collected`
    for doc_id in range(len(keys)):
        doc = next(given) if given is not None else index_document(site, doc_id, html_of, seen, prefixes)
        # Each posting appended to its term's list by map, not a loop in Python.
        for joined, weights in ((doc.terms, doc.weights), (doc.prefix_terms, doc.prefix_weights)):
            deque(map(array.append, map(collected.__getitem__, split_terms(joined)),
                      map((doc_id << 16).__or__, weights)), maxlen=0)
        gathered += len(doc.weights) + len(doc.prefix_weights)
        if gathered >= SPILL_AT:
            spilled = spilled or SpilledShards(shards, spool)
            spilled.spill(collected)
            collected.clear()
            gathered = 0
        chunk.append(doc.kept)
        lengths.append(doc.length)
        if len(chunk) == state.CHUNK or doc_id == len(keys) - 1:
            # Packed as each row fills: as text, a site's documents' terms are its index's largest part.
            packed_terms[doc_id // state.CHUNK] = pack(chunk)
            chunk = []
    if spilled is not None:
        if collected:
            spilled.spill(collected)
        del collected
        # Each shard's postings are joined as its row is made (see Postings.load_shards).
        return Postings(shards, keys, lengths, [""] * shards, {}, {}, {}, {}, loaded=set(), rows=rows,
                        packed_terms=packed_terms, frequent_least=least_frequent(len(keys)), frequent={},
                        prefixes=prefixes, spilled=spilled)
    # Kept as they are, made a plain mapping: a copy was a second table of every term.
    collected.default_factory = None
    lists: dict[str, array[int]] = collected
    shard_terms = _terms_by_shard(lists, shards)
    least, frequent = frequent_terms(lists, len(keys))
    postings = Postings(shards, keys, lengths, [""] * shards, {}, lists, shard_terms, {}, rows=rows,
                        packed_terms=packed_terms, frequent_least=least, frequent=frequent,
                        prefixes=prefixes)
    # Entries are encoded as asked for (see Postings.save): a build's as it saves each shard.
    return postings


def _update(site: Site, html_of: HtmlOf, previous: Postings, keys: Sequence[str],
            changed: list[int], gone: list[int], seen: WordsSeen | None, in_place: bool = False,
            save_to: IndexState | None = None) -> Postings:
    shards = previous.shards
    prefixes = previous.prefixes
    new_docs = {doc_id: index_document(site, doc_id, html_of, seen, prefixes) for doc_id in changed}
    new_postings = {doc_id: doc.postings(doc_id) for doc_id, doc in new_docs.items()}
    old_postings = {doc_id: previous.doc_terms(doc_id) for doc_id in [*changed, *gone]}
    old_count = len(previous.keys)
    # By term, each of its postings that differs, before and after (None: the document lacks it).
    # Only those are touched: most of an edited briefing's words keep theirs.
    edits: defaultdict[str, list[tuple[int | None, int | None]]] = defaultdict(list)
    for doc_id, old in old_postings.items():
        now = new_postings.get(doc_id, {})
        for term in old.keys() | now.keys():
            before, after = old.get(term), now.get(term)
            if before != after:
                edits[term].append((before, after))
    edited_in: defaultdict[int, list[str]] = defaultdict(list)  # by shard
    for term in edits:
        edited_in[shard_of(term, shards)].append(term)
    # Whether a term is listed with weights depends on the document count too.
    flipping = (flippable(previous.frequent, previous.frequent_least, old_count, len(keys))
                if len(keys) != old_count else [])
    to_read = (range(shards) if flipping is None
               else sorted({*edited_in, *(shard_of(term, shards) for term in flipping)}))
    # A build's own copy of the kept state is changed in place and, given rows to save to, saved
    # a batch of shards at a time, each batch's postings let go of once its rows are written: at
    # 50,000 briefings the postings of a new briefing's terms' shards were 72 MB, the build's peak.
    streamed = (save_to is not None and save_to.writable and in_place and previous.loaded is not None
                and previous.rows is not None and not previous.fresh)
    terms = dict(previous.terms)
    for doc_id in gone:
        terms.pop(doc_id, None)
    lengths = previous.lengths[:len(keys)] + [0] * max(0, len(keys) - len(previous.lengths))
    for doc_id, doc in new_docs.items():
        lengths[doc_id], terms[doc_id] = doc.length, doc.kept
    # Copy what changes, so `previous` stays whole if this fails half way, or for its holder
    # (the live preview's earlier index). A build's own copy of the kept state is changed in
    # place: at 50,000 briefings the copies of a new briefing's terms' lists took 35 MB.
    postings = Postings(shards, keys, lengths, list(previous.digests), terms, dict(previous.lists),
                        dict(previous.shard_terms), dict(previous.encoded),
                        None if previous.loaded is None else set(previous.loaded), previous.rows,
                        previous.fresh, set(previous.changed_shards),
                        previous.changed_docs | set(changed) | set(gone), previous.packed_terms,
                        previous.output, frequent_least=previous.frequent_least, prefixes=prefixes)
    lists, shard_terms = postings.lists, postings.shard_terms
    changed_terms: dict[int, set[str]] = {}  # by shard, the terms of those this update replaces
    copied: set[str] = set()
    sizes: dict[str, int] = {}  # how many postings each term whose frequency is kept has now

    def take(batch: Sequence[int]) -> None:
        """Read these shards' rows, and hold their postings and entries here."""
        if previous.loaded is None:
            return  # every one is held already
        previous.load_shards(batch)
        for shard in batch:
            found = previous.shard_terms.get(shard, ())
            shard_terms[shard] = found
            for term in found:
                lists[term] = previous.lists.pop(term) if streamed else previous.lists[term]
                postings.encoded[term] = (previous.encoded.pop(term) if streamed
                                          else previous.encoded[term])
            cast("set[int]", postings.loaded).add(shard)

    def terms_to_change(shard: int) -> set[str]:
        terms = changed_terms.get(shard)
        if terms is None:
            terms = changed_terms[shard] = set(shard_terms.get(shard, ()))
            shard_terms[shard] = terms
        return terms
    typecode = _posting_type(len(keys))

    def editable(term: str, shard: int) -> array[int]:
        if term not in copied:
            copied.add(term)
            found = lists.get(term)
            if not (in_place and found is not None and found.typecode == typecode):
                lists[term] = array(typecode, found or ())
            terms_to_change(shard).add(term)
        return lists[term]

    at_once = state.ROWS_READ_AT_ONCE
    for batch in [to_read[at:at + at_once] for at in range(0, len(to_read), at_once)]:
        take(batch)
        batch_copied: list[tuple[str, int]] = []  # each term this batch changes, with its shard
        for shard in batch:
            for term in edited_in.get(shard, ()):
                entries = editable(term, shard)
                batch_copied.append((term, shard))
                for before, after in edits[term]:
                    if before is not None:
                        del entries[bisect_left(entries, before)]
                    if after is not None:
                        entries.insert(bisect_left(entries, after), after)
            if len(keys) != old_count:
                # The rows not read hold no term whose listing changes (see flippable).
                for term in shard_terms.get(shard, ()):
                    size = len(lists[term])
                    if (term not in copied and is_presence_only(size, len(keys))
                            != is_presence_only(size, old_count)):
                        copied.add(term)
                        batch_copied.append((term, shard))
            if flipping is None:  # every row is read: the frequencies are kept afresh
                sizes.update((term, len(lists[term])) for term in shard_terms.get(shard, ()))
        for term, shard in batch_copied:
            sizes[term] = len(lists[term])
            if lists[term]:
                listed = postings.encoded.get(term)
                changes = edits.get(term, ())
                added = [after >> 16 for before, after in changes if before is None and after is not None]
                removed = [before >> 16 for before, after in changes if after is None and before is not None]
                postings.encoded[term] = (postings.encode(term) if listed is None
                                          else postings.edited(term, listed, added, removed))
            else:
                del lists[term]
                postings.encoded.pop(term, None)  # not there when never asked for (see Postings.entries)
                terms_to_change(shard).discard(term)
        postings.batch_done(batch, {shard for _, shard in batch_copied}, save_to if streamed else None)
    if flipping is None:
        postings.frequent_least = least_frequent(len(keys))
        postings.frequent = {term: size for term, size in sizes.items() if size >= postings.frequent_least}
    else:
        postings.frequent = with_frequencies(previous.frequent, postings.frequent_least, sizes)
    return postings
