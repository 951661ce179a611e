"""Incremental and parallel builds give exactly what a clean build gives."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    REPO,
    build_ok,
    built_as_clean,
    corpus_briefing,
    corpus_site,
    last_snapshot,
    make_site,
    replace_in,
    tree,
    tree_bytes,
)

from briefgen.build import memo
from briefgen.build.manifest import PackedManifest, read_manifest
from briefgen.build.options import BuildOptions
from briefgen.build.pipeline import BuildResult, build
from briefgen.build.store import STORE, Store
from briefgen.build.write import MARKER
from briefgen.content.files import discover as discover_files
from briefgen.diagnostics import BuildFailed
from briefgen.render.renderer import Renderer
from briefgen.site.plan import PageSpec


def clean_build(site: Path, target: Path, **options: object) -> dict[str, bytes]:
    build(site, BuildOptions(output=target, use_cache=False, **options))  # type: ignore[arg-type]
    return tree(target)


@pytest.mark.parametrize("then", ["nothing", "an edit"])
@pytest.mark.parametrize("changed", ["OUTPUT_VERSION", "MARKDOWN_SETTINGS_KEY"])
def test_code_that_makes_other_bytes_renders_every_file_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            then: str, changed: str) -> None:
    """A cache left by code of an earlier OUTPUT_VERSION, or that converted Markdown otherwise,
    keeps no file: not through the build that changes nothing, nor through an edit in place."""
    from briefgen.build import fingerprint, inputs, loading

    site = corpus_site(tmp_path)
    output = site / "output"
    first = build(site, BuildOptions(output=output))
    assert build(site, BuildOptions(output=output)).rendered == 0
    for module in (fingerprint, inputs, loading):
        if hasattr(module, changed):
            monkeypatch.setattr(module, changed, f"{getattr(module, changed)}+1")
    if then == "an edit":
        edit_briefing(site)
    again = build(site, BuildOptions(output=output))
    assert not again.in_place and again.rendered == again.pages == first.pages
    assert build(site, BuildOptions(output=output)).rendered == 0


def edit_briefing(site: Path) -> None:
    replace_in(site / "content/briefings/2020/b2.md", "Second paragraph 2.", "An edited second paragraph.")


def edit_summary(site: Path) -> None:
    replace_in(site / "content/briefings/2020/b4.md", "Paragraph 4 cites", "Changed opening paragraph cites")


def add_briefing(site: Path) -> None:
    (site / "content/briefings/2020/new.md").write_text(
        corpus_briefing("A new one", "2020-03-30", "Gamma", "New text [@src-b]."), encoding="utf-8")


def delete_briefing(site: Path) -> None:
    (site / "content/briefings/2020/b5.md").unlink()


def rename_briefing(site: Path) -> None:
    source = site / "content/briefings/2020/b0.md"
    source.rename(site / "content/briefings/2020/renamed.md")
    replace_in(site / "content/briefings/2020/b3.md", "(b0.md)", "(renamed.md)")


def retitle_source(site: Path) -> None:
    replace_in(site / "content/sources/registry.yaml", "Second article", "Second article, retitled")


def rename_topic(site: Path) -> None:
    for path in (site / "content/briefings/2020").glob("*.md"):
        replace_in(path, "Alpha", "Alpha Renamed") if "Alpha" in path.read_text() else None


def edit_template(site: Path) -> None:
    replace_in(site / "templates/briefing.html", "{% block content %}",
               "{% block content %}<p>Edited template.</p>")


def edit_sources_partial(site: Path) -> None:
    """The Sources list, which feed entries show too: a partial no page kind is named after."""
    partial = site / "templates/partials/sources.html"
    partial.parent.mkdir(exist_ok=True)
    shutil.copy(REPO / "themes/default/templates/partials/sources.html", partial)
    replace_in(partial, "{% if briefing.sources %}", "{% if briefing.sources %}<p>Edited partial.</p>")


def edit_config(site: Path) -> None:
    replace_in(site / "briefgen.toml", 'title = "Incremental"', 'title = "Incremental, renamed"')


MUTATIONS: dict[str, Callable[[Path], None]] = {
    "briefing edited": edit_briefing,
    "first paragraph edited": edit_summary,
    "briefing added": add_briefing,
    "briefing deleted": delete_briefing,
    "briefing renamed": rename_briefing,
    "source retitled": retitle_source,
    "topic renamed": rename_topic,
    "template edited": edit_template,
    "feeds' partial edited": edit_sources_partial,
    "config edited": edit_config,
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_warm_rebuild_equals_clean_build(tmp_path: Path, name: str) -> None:
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    before = tree(output)
    MUTATIONS[name](site)
    result = build(site, BuildOptions(output=output))
    assert tree(output) == clean_build(site, tmp_path / "clean")
    # A renamed file keeps its URL (the title decides it), so the site stays the same, but for
    # the search index's version: it follows every document's file digest, and the briefing
    # that links to the renamed one was edited.
    def shown(files: dict[str, bytes]) -> dict[str, bytes]:
        return {rel: data for rel, data in files.items() if rel != "search/meta.json"}
    assert (shown(tree(output)) == shown(before)) == (name == "briefing renamed")
    if name not in ("template edited", "feeds' partial edited", "config edited"):
        assert result.reused > 0, "an incremental build should keep unaffected files"


def test_unchanged_files_keep_their_inode_and_mtime(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    about = output / "about/index.html"
    edited = output / "2020/01/24/briefing-2/index.html"
    os.utime(about, ns=(1_000_000_000, 1_000_000_000))
    before = about.stat()
    edit_briefing(site)
    result = build(site, BuildOptions(output=output))
    after = about.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert b"An edited second paragraph" in edited.read_bytes()
    assert result.rendered < result.pages / 2


def test_no_change_rebuild_renders_nothing(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    result = build(site, BuildOptions(output=output))
    assert result.rendered == 0
    assert result.reused == result.pages


def test_jobs_give_identical_trees(tmp_path: Path) -> None:
    site = corpus_site(tmp_path, count=40)
    one = clean_build(site, tmp_path / "one", jobs=1)
    two = clean_build(site, tmp_path / "two", jobs=2)
    assert one == two
    warm = tmp_path / "warm"
    build(site, BuildOptions(output=warm, jobs=2))
    assert tree(warm) == one


def test_an_edit_in_place_loads_neither_babels_dates_nor_pygments(tmp_path: Path) -> None:
    """An edit in place starts from the last build, whose catalogs that build read and checked: it
    does not try their date formats on Babel again (which loads Babel's date functions and the
    language's data), nor load Babel's global tables (the likely territory of a language, for
    og:locale), nor import Pygments, which no briefing uses, through Python-Markdown's
    codehilite. They were a tenth of an edit's time at 10,000 briefings. Nor does an edit of a
    briefing's text, whose locators and quotations are as they were, import the checks against
    the archives. The edit still makes what a clean build makes."""
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    edit_briefing(site)
    probe = ("import sys; from pathlib import Path; from briefgen.build.options import BuildOptions; "
             "from briefgen.build.pipeline import build; "
             "result = build(Path(sys.argv[1]), BuildOptions(output=Path(sys.argv[2]))); "
             "print(result.in_place, result.rendered > 0, "
             "[m for m in ('babel.dates', 'pygments', 'markdown', 'briefgen.site.verify') "
             "if m in sys.modules], "
             "getattr(sys.modules.get('babel.core'), '_global_data', None) is not None)")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", probe, str(site), str(output)], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.stdout.strip() == "True True ['markdown'] False", done.stderr
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_an_edit_of_a_briefings_text_reads_the_publishers_names_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshot keeps the publishers' slugs and names apart from their articles (see
    snapshot.PickledPublishers): an edit of a briefing's text reads the names alone; one that
    makes a briefing cite fewer sources reads the articles. Each makes what a clean build makes."""
    from briefgen.build import snapshot

    site = corpus_site(tmp_path)
    output = site / "output"
    build(site, BuildOptions(output=output))
    read: list[int] = []
    real = snapshot.PickledPublishers.unpacked

    def unpacked(self: snapshot.PickledPublishers) -> Any:
        read.append(len(self.names))
        return real(self)

    monkeypatch.setattr(snapshot.PickledPublishers, "unpacked", unpacked)
    edit_briefing(site)
    result = build(site, BuildOptions(output=output))
    assert result.in_place and result.rendered > 0 and not read
    assert tree(output) == clean_build(site, tmp_path / "clean")
    replace_in(site / "content/briefings/2020/b2.md", " More [@src-b, para. 2].", "")
    result = build(site, BuildOptions(output=output))
    assert result.in_place and read  # the two publishers, their articles read
    assert tree(output) == clean_build(site, tmp_path / "clean-after")


def test_an_edit_in_place_makes_the_edited_briefings_feed_entry_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site's feeds (Atom and JSON) and the feed of an edited briefing's topic carry other
    briefings too: an edit in place takes their entries from the feeds as the last build wrote
    them, and makes the edited briefing's alone. A feed changed by hand since is not read: its
    entries are made again. Either way the output is a clean build's."""
    from briefgen.render import feeds

    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    made: list[str] = []
    real_entry, real_item = feeds.atom_entry, feeds.json_item

    def atom_entry(entry: feeds.FeedEntry) -> feeds.AtomEntry:
        made.append(f"{entry.view.title} in Atom")
        return real_entry(entry)

    def json_item(entry: feeds.FeedEntry) -> feeds.JsonItem:
        made.append(f"{entry.view.title} in JSON")
        return real_item(entry)

    monkeypatch.setattr(feeds, "atom_entry", atom_entry)
    monkeypatch.setattr(feeds, "json_item", json_item)
    edit_briefing(site)  # b2, of topic Alpha, which all six briefings are of
    result = build(site, BuildOptions(output=output))
    assert result.in_place and made == ["Briefing 2 in Atom", "Briefing 2 in JSON"]
    assert tree(output) == clean_build(site, tmp_path / "clean")
    # An entry of another briefing changed in the topic's feed, where the site's feed has it as written.
    feed = output / "topics/alpha/feed.xml"
    assert b"<title>Briefing 4</title>" in feed.read_bytes()
    feed.write_bytes(feed.read_bytes().replace(b"<title>Briefing 4</title>", b"<title>Briefing four</title>"))
    made.clear()
    replace_in(site / "content/briefings/2020/b2.md", "An edited second paragraph.", "Edited again.")
    result = build(site, BuildOptions(output=output))
    assert result.in_place and "Briefing 2 in Atom" in made
    assert tree(output) == clean_build(site, tmp_path / "clean2")


def _first_build_kept(site: Path, output: Path, jobs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A first build's manifest, and what its snapshot keeps of which files show each briefing."""
    shutil.rmtree(site / ".briefgen-cache", ignore_errors=True)
    build(site, BuildOptions(output=output, jobs=jobs))
    row, _ = _manifest_rows(site, output)
    manifest = PackedManifest.checked(row)
    assert manifest is not None
    with last_snapshot(site, output) as (_, kept):
        state = kept.fingerprints
        readers = {"listed_by": {k: list(v) for k, v in state.listed_by.items()},
                   "shown_full_by": {k: list(v) for k, v in state.shown_full_by.items()},
                   "shows_every": list(state.shows_every)}
    return manifest[0].as_dict(), readers


@pytest.mark.parametrize("search", [True, False])
def test_a_first_build_with_workers_keeps_what_one_process_keeps(tmp_path: Path, search: bool) -> None:
    """With workers, a first build forks them before it finds any fingerprint, and finds them
    while they render: the manifest and the readers an edit in place starts from are those a
    build in one process keeps, and an edit after it is taken in place, as after that one."""
    site = corpus_site(tmp_path, count=40)
    if not search:
        replace_in(site / "briefgen.toml", "[build]", "search = false\n\n[build]")
    one = _first_build_kept(site, tmp_path / "one", jobs=1)
    two = _first_build_kept(site, tmp_path / "two", jobs=2)
    assert len(one[0]) > 100 and all(digest for _, digest in one[0].values())
    assert two[0] == one[0]
    assert any(rel.startswith("search/") for rel in one[0]) == search
    assert one[1]["listed_by"] and two[1] == one[1]
    edit_briefing(site)
    edited = build(site, BuildOptions(output=tmp_path / "two", jobs=2))
    assert edited.in_place and 0 < edited.rendered < 20
    assert tree(tmp_path / "two") == clean_build(site, tmp_path / "clean", jobs=1)


def test_a_template_error_in_a_first_build_with_workers_stops_it(tmp_path: Path) -> None:
    """A file a worker could not render fails the build as one rendered here would: every such
    file reported at the template's line, and no output."""
    site = corpus_site(tmp_path, count=40)
    (site / "templates/briefing.html").write_text(
        '{% extends "base.html" %}\n{% block content %}\n'
        "<p>{{ briefing.no_such_field.here }}</p>\n{% endblock %}\n", encoding="utf-8")
    output = tmp_path / "out"
    with pytest.raises(BuildFailed) as failed:
        build(site, BuildOptions(output=output, jobs=2))
    found = {(d.path, d.line) for d in failed.value.diagnostics}
    assert found == {("templates/briefing.html", 3)}, failed.value.diagnostics
    assert "no_such_field" in str(failed.value)
    assert not output.exists()


def _manifest_rows(site: Path, output: Path) -> tuple[bytes | None, Any]:
    """An output folder's manifest row, as stored, and its delta row, unpickled."""
    store = Store(site / ".briefgen-cache" / STORE, writable=False)
    try:
        row = store.read_blobs([f"manifest/{output}"]).get(f"manifest/{output}")
        delta = store.read_states([f"manifest-delta/{output}"]).get(f"manifest-delta/{output}")
    finally:
        store.close()
    return row, delta


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_manifest_row_whose_paths_do_not_line_up_is_no_manifest_to_a_full_build(tmp_path: Path,
                                                                                  jobs: int) -> None:
    """A full build looks up every planned file in the last build's manifest row, in order: a
    row whose paths are fewer than its count says (two run together) is no manifest to it, as
    when the row was read into a dict, rather than an error halfway through the build."""
    site = corpus_site(tmp_path, count=60)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=jobs))
    row, _ = _manifest_rows(site, output)
    assert row is not None
    found = PackedManifest.checked(row)
    assert found is not None and found[0].lined_up()
    # The NUL after the first path of the row's paths column, made part of a path.
    start = row.index(b"\0", row.index(b"\n"))
    damaged = row[:start + 1] + row[start + 1:].replace(b"\0", b"_", 1)
    again = PackedManifest.checked(damaged)
    assert again is not None and not again[0].lined_up()
    store = Store(site / ".briefgen-cache" / STORE)
    try:
        store.write_blobs([(f"manifest/{output}", damaged)])
    finally:
        store.close()
    (site / "content/briefings/2020/b2.md").unlink()  # a briefing deleted: a full build
    result = build(site, BuildOptions(output=output, jobs=jobs))
    assert not result.in_place and result.reused == 0  # every file made again
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_a_full_build_that_changes_few_files_records_them_beside_the_manifest(tmp_path: Path) -> None:
    site = corpus_site(tmp_path, count=40)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=1))
    packed, delta = _manifest_rows(site, output)
    assert delta is None
    unpacked = PackedManifest.checked(packed)
    assert unpacked is not None
    files, token = unpacked[0].as_dict(), unpacked[1]
    # A page's text: a full build (only briefings are edited in place) that renders few files.
    replace_in(site / "content/pages/about.md", "About this site.", "About this site, edited.")
    result = build(site, BuildOptions(output=output, jobs=1))
    assert not result.in_place and 0 < result.rendered < 50
    kept_packed, delta = _manifest_rows(site, output)
    # The full row is still the first build's; beside it, the entries that changed.
    assert kept_packed == packed and delta[0] == token
    assert "about/index.html" in delta[1] and len(delta[1]) <= result.rendered
    for rel, entry in delta[1].items():
        assert entry is not None and entry != files[rel] and entry[1] != ""
    # A deletion: the files it removes leave the manifest too (a delta entry of None).
    delete_briefing(site)
    build(site, BuildOptions(output=output, jobs=1))
    now = {str(p.relative_to(output)) for p in output.rglob("*") if p.is_file() and p.name != MARKER}
    assert "2020/02/14/briefing-5/index.html" in set(files) - now
    assert set(read_manifest(Store(site / ".briefgen-cache" / STORE, writable=False), output)) == now
    add_briefing(site)
    build(site, BuildOptions(output=output, jobs=1))
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_a_full_build_looks_again_only_at_folders_its_commit_touched(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=80)  # large enough that a change is committed file by file
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=1))
    every_folder = memo.folder_times
    swept: list[int] = []

    def sweep(out: Path, folders: Any) -> tuple[int, ...] | None:
        swept.append(1)
        return every_folder(out, folders)

    monkeypatch.setattr(memo, "folder_times", sweep)
    for change in (delete_briefing, add_briefing):  # a folder removed, then one made
        change(site)
        swept.clear()
        assert not build(site, BuildOptions(output=output, jobs=1)).in_place
        assert len(swept) == 1  # the check at the start, not another sweep at the end
        last = memo.read_last_build(site / ".briefgen-cache", output)
        assert last is not None and last.folders == memo.output_folders(tree(output))
        assert last.folder_times == every_folder(output, last.folders)
        assert build(site, BuildOptions(output=output, jobs=1)).rendered == 0


def _body_keys(site: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(site / ".briefgen-cache" / STORE)) as connection:
        return {row[0] for row in connection.execute("SELECT key FROM bodies")}


def test_the_cache_drops_the_text_of_a_briefing_deleted_or_parsed_again(tmp_path: Path) -> None:
    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=1))
    keys = _body_keys(site)
    assert {key for key in keys if ":content/briefings/2020/b5.md:" in key}
    delete_briefing(site)
    build(site, BuildOptions(output=output, jobs=1))
    assert _body_keys(site) == {key for key in keys if ":content/briefings/2020/b5.md:" not in key}
    # A briefing's text edited in place, then the site built in full: its first text goes.
    (old,) = {key for key in keys if ":content/briefings/2020/b2.md:" in key}
    edit_briefing(site)
    assert build(site, BuildOptions(output=output, jobs=1)).in_place
    add_briefing(site)
    assert not build(site, BuildOptions(output=output, jobs=1)).in_place
    now = _body_keys(site)
    assert old not in now and len([key for key in now if ":content/briefings/2020/b2.md:" in key]) == 1
    assert len(now) == len(keys)  # one briefing gone, one new


def _set_state(store: Path, name: str, value: bytes) -> None:
    with sqlite3.connect(store) as connection:
        connection.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (name, value))
    connection.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "foreign", "delta", "no tables",
                                    "unreadable bodies"])
def test_damaged_cache_is_ignored(tmp_path: Path, damage: str) -> None:
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    store = site / ".briefgen-cache" / "cache.sqlite"
    assert store.is_file()
    if damage == "garbage":
        store.write_bytes(b"not a database" * 100)
    elif damage == "truncated":
        store.write_bytes(store.read_bytes()[:3000])
    elif damage == "empty":
        store.write_bytes(b"")
    elif damage == "delta":
        edit_summary(site)
        build(site, BuildOptions(output=output))  # a small change is saved as a delta
        _set_state(store, "delta", b"\x80\x05garbage")
    elif damage == "no tables":
        with sqlite3.connect(store) as connection:
            connection.execute("DROP TABLE state")
        connection.close()
    elif damage == "unreadable bodies":  # the keys are there, the bodies cannot be read
        with sqlite3.connect(store) as connection:
            connection.execute("ALTER TABLE bodies RENAME COLUMN html TO lost")
        connection.close()
    else:
        _set_state(store, "index", pickle.dumps(("another program's cache", {}, {})))
    edit_briefing(site)
    build(site, BuildOptions(output=output))
    assert tree(output) == clean_build(site, tmp_path / "clean")



def test_the_cache_format_tells_a_class_with_slots_from_one_without() -> None:
    """An object pickled while its class had no slots loads into the class with slots with its
    fields wrong, and no error: the cache and snapshot formats must differ between the two."""
    from briefgen.build.store import pickled_shape

    def record(slots: bool) -> type:
        if slots:
            @dataclasses.dataclass(frozen=True, slots=True)
            class Record:
                name: str
                line: int
            return Record

        @dataclasses.dataclass(frozen=True)
        class Record:  # type: ignore[no-redef]
            name: str
            line: int
        return Record

    assert pickled_shape([record(False)]) == pickled_shape([record(False)])
    assert pickled_shape([record(False)]) != pickled_shape([record(True)])


def test_records_with_slots_pickle_whole_and_stay_frozen() -> None:
    from briefgen.content.markup import CitationUse
    from briefgen.site.plan import Origin

    for record in (CitationUse("src-a", "para. 2", 4, 7), Origin("content/a.md", "content/a.md", 2, 1)):
        copied = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        assert copied == record and type(copied) is type(record)
        with pytest.raises(dataclasses.FrozenInstanceError):
            copied.line = 1  # type: ignore[misc]
    # A state of the wrong length (a damaged or foreign row) fails, rather than make half a record.
    with pytest.raises(ValueError):
        CitationUse.__new__(CitationUse).__setstate__(("src-a", "", 1))


@pytest.mark.parametrize("kept", [("x", "y"), (("1",), ("/a", "b", "c")), (((0,),), ((1, 2, 3),))],
                         ids=["strings", "short keys", "numbers"])
def test_a_damaged_related_table_is_found_afresh(tmp_path: Path, kept: tuple[object, object]) -> None:
    from briefgen.build.loading import _RELATED_FORMAT

    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    count = len(list((site / "content/briefings").rglob("*.md")))
    table, keys = (kept[0] * count, kept[1] * count)
    _set_state(site / ".briefgen-cache" / "cache.sqlite", "related",
               pickle.dumps((_RELATED_FORMAT, table, keys)))
    add_briefing(site)  # related briefings change: the kept table would be updated
    build(site, BuildOptions(output=output))
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_a_body_the_cache_cannot_read_is_an_error_not_an_empty_page(tmp_path: Path) -> None:
    from briefgen.build.store import Store

    site = corpus_site(tmp_path)
    build(site, BuildOptions(output=tmp_path / "out"))
    path = site / ".briefgen-cache" / "cache.sqlite"
    with sqlite3.connect(path) as connection:
        key = connection.execute("SELECT key FROM bodies LIMIT 1").fetchone()[0]
        connection.execute("ALTER TABLE bodies RENAME COLUMN html TO lost")
    connection.close()
    store = Store(path)
    assert store.keys() == set()  # so a build parses every document again
    with pytest.raises(OSError, match=r"cannot read the build cache .*briefgen clean"):
        store.get(key)
    store.close()

def test_cache_bodies_missing_are_rebuilt(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    with sqlite3.connect(site / ".briefgen-cache" / "cache.sqlite") as connection:
        connection.execute("DELETE FROM bodies")
    connection.close()
    shutil.rmtree(output)
    build(site, BuildOptions(output=output))
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_an_in_place_edit_that_meets_a_lost_body_makes_a_full_build(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    # b0's text is in the feeds that an edit of b2 renders again, which make their entries again
    # when changed since (else they take them from the feeds as written); a build of the same
    # site beside this one pruned it from the store.
    for feed in ("feed.xml", "feed.json", "topics/alpha/feed.xml"):
        (output / feed).write_bytes((output / feed).read_bytes().replace(b"Briefing 0", b"Briefing zero"))
    with sqlite3.connect(site / ".briefgen-cache" / "cache.sqlite") as connection:
        lost = connection.execute("DELETE FROM bodies WHERE key LIKE ?",
                                  ("%:content/briefings/2020/b0.md:%",)).rowcount
    connection.close()
    assert lost == 1
    edit_briefing(site)
    result = build(site, BuildOptions(output=output))
    assert not result.in_place
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_a_row_larger_than_a_piece_is_pickled_into_a_file_and_reads_back_whole(tmp_path: Path) -> None:
    from briefgen.build.store import pickled

    large = ("manifest", ("a/index.html\0" * 200_000, "0" * 1_500_000), "token")
    small = {"delta": ("format", "token", {"a.md": None})}
    rows = pickled([("large", large), *small.items()], tmp_path)
    name, blob = next(rows)
    assert name == "large" and not isinstance(blob, bytes)  # a file: never all in memory
    blob.seek(0)
    assert pickle.load(blob) == large
    assert next(rows) == ("delta", pickle.dumps(small["delta"], protocol=pickle.HIGHEST_PROTOCOL))
    store = Store(tmp_path / "cache.sqlite")
    try:
        store.write_blobs(pickled([("large", large), *small.items()], tmp_path))
        assert store.read_states(["large", "delta"]) == {"large": large, **small}
    finally:
        store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.sqlite"]  # no file left behind


def test_a_manifest_row_is_written_by_runs_into_a_file_and_read_back_where_it_lies(tmp_path: Path) -> None:
    from briefgen.build.manifest import ManifestRow
    from briefgen.build.store import pickled

    files = {f"{n // 100}/b{n}/index.html": (f"{n:032x}", f"{n * 7:032x}") for n in range(20_000)}
    rows = pickled([("manifest", ManifestRow(files, "0123456789abcdef"))], tmp_path)
    name, blob = next(rows)
    assert name == "manifest" and not isinstance(blob, bytes)  # a file: never all in memory
    store = Store(tmp_path / "cache.sqlite")
    try:
        store.write_blobs([(name, blob)])
        rows.close()
        found = PackedManifest.checked(store.read_blobs(["manifest"])["manifest"])
    finally:
        store.close()
    assert found is not None and found[1] == "0123456789abcdef"
    assert found[0].as_dict() == files and found[0]["199/b19999/index.html"] == files["199/b19999/index.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.sqlite"]


def test_a_body_kept_in_the_store_is_told_from_an_empty_one(tmp_path: Path) -> None:
    from briefgen.build.cache import LostBody, body_key, stored_html, without_body
    from briefgen.build.store import Store
    from briefgen.content.markup import Converter
    from briefgen.content.records import parse_briefing

    empty, problems = parse_briefing("content/briefings/e.md", b"---\ntitle: E\ndate: 2020-01-01\n---\n",
                                     Converter())
    full, _ = parse_briefing("content/briefings/f.md", b"---\ntitle: F\ndate: 2020-01-01\n---\nText.\n",
                             Converter())
    assert empty is not None and full is not None and not problems
    assert empty.body.html == "" and full.body.html == "<p>Text.</p>"
    store = Store(tmp_path / "cache.sqlite")
    try:
        assert stored_html(store, empty, "k") == ""  # held in memory, as the preview holds it
        with pytest.raises(LostBody, match=r"no longer holds the converted text of content/briefings/f\.md"):
            stored_html(store, without_body(full), "k")
        store.put(body_key(full, "k"), full.body.html)
        store.put(body_key(empty, "k"), "")
        assert store.write_pending()
        assert stored_html(store, without_body(full), "k") == "<p>Text.</p>"
        assert stored_html(store, without_body(empty), "k") == ""
    finally:
        store.close()


def test_the_cache_is_one_database(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    build(site, BuildOptions(output=tmp_path / "out"))
    edit_briefing(site)
    build(site, BuildOptions(output=tmp_path / "out", jobs=2))
    assert sorted(p.name for p in (site / ".briefgen-cache").iterdir()) == ["cache.sqlite"]


def test_killed_build_leaves_previous_output_and_a_usable_cache(tmp_path: Path) -> None:
    site = corpus_site(tmp_path, count=300)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=1))
    before = tree(output)
    replace_in(site / "briefgen.toml", 'title = "Incremental"', 'title = "Changed everywhere"')
    process = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "build", str(site), "--output", str(output), "--jobs", "1",
         "--quiet"],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    staging = list(tmp_path.glob(".out.briefgen-new-*"))
    deadline = time.monotonic() + 60
    while not staging and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
        staging = list(tmp_path.glob(".out.briefgen-new-*"))
    assert staging, "the build finished before it could be interrupted"
    # Interrupt it mid-render: once some files are in the staging folder.
    while (process.poll() is None and time.monotonic() < deadline
           and sum(1 for p in staging[0].rglob("*.html")) < 5):
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert tree(output) == before
    build(site, BuildOptions(output=output, jobs=1))
    assert not list(tmp_path.glob(".out.briefgen-*"))
    assert tree(output) == clean_build(site, tmp_path / "clean")


@pytest.mark.parametrize("name", ["template edited", "briefing edited"])
def test_parallel_warm_rebuild_equals_clean_build(tmp_path: Path, name: str) -> None:
    # Enough pages that the work goes to worker processes, whose writes the parent must learn of.
    site = corpus_site(tmp_path, count=60)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=2))
    edit_config(site) if name == "template edited" else None
    build(site, BuildOptions(output=output, jobs=2))
    MUTATIONS[name](site)
    build(site, BuildOptions(output=output, jobs=2))
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_failed_build_keeps_parsed_files_in_the_cache(tmp_path: Path) -> None:
    from briefgen.build.cache import BuildCache
    from briefgen.build.loading import load

    site = corpus_site(tmp_path)
    broken = site / "content/briefings/2020/b1.md"
    good_text = broken.read_text(encoding="utf-8")
    broken.write_text(good_text.replace("[@src-a]", "[@nowhere]"), encoding="utf-8")
    with pytest.raises(BuildFailed):
        build(site, BuildOptions(output=tmp_path / "out"))
    cache = BuildCache.open(site / ".briefgen-cache")
    assert all(cache.knows(f"content/briefings/2020/b{n}.md") for n in range(6))
    broken.write_text(good_text, encoding="utf-8")
    progress: list[str] = []
    load(site, BuildOptions(), BuildCache.open(site / ".briefgen-cache"), progress=progress.append)
    assert any("8 content files: parsed 1, 7 from cache" in line for line in progress), progress


def test_unchanged_inputs_skip_the_build_until_a_future_briefing_comes_due(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    (site / "content/briefings/2020/later.md").write_text(
        corpus_briefing("Scheduled", "2020-06-01T08:00:00+00:00", "Alpha", "Due later [@src-a]."),
        encoding="utf-8")
    output = tmp_path / "out"
    before_due = dt.datetime(2020, 5, 1, tzinfo=dt.UTC)
    after_due = dt.datetime(2020, 6, 2, tzinfo=dt.UTC)
    first = build(site, BuildOptions(output=output, now=before_due))
    again = build(site, BuildOptions(output=output, now=before_due))
    assert (again.rendered, again.reused, again.pages) == (0, first.pages, first.pages)
    assert not (output / "2020/06/01/scheduled/index.html").exists()
    due = build(site, BuildOptions(output=output, now=after_due))
    assert due.rendered > 0
    assert (output / "2020/06/01/scheduled/index.html").is_file()
    assert tree(output) == clean_build(site, tmp_path / "clean", now=after_due)


def test_a_touched_template_is_an_input(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    edit_template(site)
    assert build(site, BuildOptions(output=output)).rendered > 0
    assert b"Edited template." in (output / "2020/01/10/briefing-0/index.html").read_bytes()


def test_a_template_edit_renders_only_the_pages_that_use_it(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    shutil.copy(REPO / "themes/default/templates" / "topics.html", site / "templates")
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    briefing_page = output / "2020/01/10/briefing-0/index.html"
    before = briefing_page.stat()
    replace_in(site / "templates/topics.html", "{% block content %}", "{% block content %}<p>Edited.</p>")
    result = build(site, BuildOptions(output=output))
    assert result.rendered == 1  # the topic index, and nothing else uses topics.html
    assert b"Edited." in (output / "topics/index.html").read_bytes()
    assert briefing_page.stat().st_mtime_ns == before.st_mtime_ns
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_a_build_reads_what_the_templates_include_only_after_one_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Which templates each kind of page is made with is kept in the cache, by the templates'
    bytes: a build that is not an edit in place finds it again only when a template changed,
    and a damaged record of it is found again too."""
    import jinja2

    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    parsed: list[str | None] = []  # Environment.parse: only for what templates include
    parse = jinja2.Environment.parse

    def counted(self: jinja2.Environment, source: str, name: str | None = None, *args: Any) -> Any:
        parsed.append(name)
        return parse(self, source, name, *args)

    monkeypatch.setattr(jinja2.Environment, "parse", counted)
    build(site, BuildOptions(output=output))
    assert parsed
    parsed.clear()
    add_briefing(site)
    assert not build(site, BuildOptions(output=output)).in_place
    assert parsed == []
    edit_template(site)
    build(site, BuildOptions(output=output))
    assert parsed
    assert tree(output) == clean_build(site, tmp_path / "clean")
    store = Store(site / ".briefgen-cache" / STORE)
    store.write_state({"template-digests": ("a key", ["not", "digests"])})
    store.close()
    parsed.clear()
    delete_briefing(site)
    build(site, BuildOptions(output=output))
    assert parsed
    assert tree(output) == clean_build(site, tmp_path / "clean2")


def test_a_new_briefing_renders_no_publisher_or_filter_file_it_leaves_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The newest briefing takes the model's first place, so every other one moves: the pages
    of the publishers and the filters it is not part of list the same briefings as before."""
    site = corpus_site(tmp_path)  # every briefing cites src-a, of Daily One
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    rendered: list[str] = []
    render = Renderer.render

    def counted(self: Renderer, spec: PageSpec) -> bytes:
        rendered.append(spec.output_file)
        return render(self, spec)

    monkeypatch.setattr(Renderer, "render", counted)
    (site / "content/briefings/2020/new.md").write_text(
        corpus_briefing("The newest", "2020-12-01", "Gamma", "New text [@src-b].").replace(
            "sources: [src-a]", "sources: [src-b]"), encoding="utf-8")
    build(site, BuildOptions(output=output, jobs=1))
    assert "sources/weekly-two/index.html" in rendered and "search/filters/topic/gamma.json" in rendered
    untouched = ("daily-one", "/alpha.json", "/beta.json")
    assert not [name for name in rendered if any(part in name for part in untouched)]
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_a_build_rendering_few_of_its_pages_keeps_no_briefing_summaries(tmp_path: Path) -> None:
    """Every page rendered shows each summary several times: they are kept. A briefing added
    to a larger site renders a few pages, each summary about once: none is kept (the output
    is a clean build's all the same)."""
    site = corpus_site(tmp_path, count=40)
    output = tmp_path / "out"
    first = build(site, BuildOptions(output=output, jobs=1))
    assert first.model is not None and first.model[1].renderer.views._summaries
    (site / "content/briefings/2020/new.md").write_text(
        corpus_briefing("The newest", "2020-12-01", "Alpha", "New text [@src-a]."), encoding="utf-8")
    added = build(site, BuildOptions(output=output, jobs=1))
    assert added.model is not None and 0 < added.rendered < added.pages / 2
    assert not added.model[1].renderer.views._summaries
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_held_summaries_let_go_of_the_least_lately_shown_past_their_limit(tmp_path: Path) -> None:
    site = corpus_site(tmp_path, count=6)
    built = build(site, BuildOptions(output=tmp_path / "out", jobs=1))
    assert built.model is not None
    views = built.model[1].renderer.views
    views._summaries.clear()  # those the build kept, in the order it made them
    made = {index: views.summary(index) for index in range(6)}
    views.hold_summaries(3)
    assert list(views._summaries) == [3, 4, 5]  # the latest made
    assert views.summary(3) is made[3]  # kept: shown again, it is now the latest shown
    views.summary(0)  # made again: 4, the least lately shown, is let go
    assert list(views._summaries) == [5, 3, 0]
    assert views.summary(4) == made[4] and list(views._summaries) == [3, 0, 4]


def test_workers_holding_few_summaries_render_a_clean_builds_bytes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker keeps at most a few summaries (here 2 of 40 briefings): the lists, topic
    and day pages made from summaries made again are the same bytes."""
    from briefgen.build import rendering

    site = corpus_site(tmp_path, count=40)
    monkeypatch.setattr(rendering, "_SUMMARIES_HELD", 2)
    built = build(site, BuildOptions(output=tmp_path / "out", jobs=2, use_cache=False))
    assert built.rendered == built.pages
    monkeypatch.undo()
    assert tree(tmp_path / "out") == clean_build(site, tmp_path / "clean", jobs=1)


def test_a_touched_file_is_read_once_then_known_by_its_new_stat(tmp_path: Path) -> None:
    from briefgen.build.cache import BuildCache
    from briefgen.build.store import file_stat

    site = corpus_site(tmp_path)
    build(site, BuildOptions(output=tmp_path / "out"))
    touched = site / "content/briefings/2020/b1.md"
    os.utime(touched, ns=(time.time_ns(), time.time_ns() + 10**9))
    cache = BuildCache.open(site / ".briefgen-cache")
    assert cache.known_digest("content/briefings/2020/b1.md", file_stat(touched)) is None
    build(site, BuildOptions(output=tmp_path / "out", drafts=True))  # a full build, not an in-place one
    cache = BuildCache.open(site / ".briefgen-cache")
    assert cache.known_digest("content/briefings/2020/b1.md", file_stat(touched)) is not None


def test_an_output_file_or_folder_deleted_by_hand_comes_back(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    whole = tree(output)
    page = next(rel for rel in whole if rel.endswith("index.html") and rel.count("/") >= 3)
    (output / page).unlink()
    result = build(site, BuildOptions(output=output))
    assert result.rendered == 1 and tree(output) == whole
    shutil.rmtree(output / page.split("/")[0])
    build(site, BuildOptions(output=output))
    assert tree(output) == whole
    # A file the user put there is theirs: the build neither needs to run again nor removes it.
    (output / page).with_name("notes.txt").write_text("mine", encoding="utf-8")
    build(site, BuildOptions(output=output))
    assert (output / page).with_name("notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_topic_description_is_an_input(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    (site / "content/topics").mkdir()
    description = site / "content/topics/alpha.md"
    for text in ("The first description.", "A second description."):
        description.write_text(text + "\n", encoding="utf-8")
        build(site, BuildOptions(output=output))
        assert text.encode() in (output / "topics/alpha/index.html").read_bytes()
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_briefings_edited_in_place_rebuild_from_the_snapshot_as_a_clean_build_would(tmp_path: Path) -> None:
    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    assert not build(site, BuildOptions(output=output)).in_place
    b2, b5 = site / "content/briefings/2020/b2.md", site / "content/briefings/2020/b5.md"
    original = b2.read_text(encoding="utf-8")

    def rebuilt(step: str) -> BuildResult:
        result = build(site, BuildOptions(output=output))
        assert tree(output) == clean_build(site, tmp_path / "clean"), step
        return result

    edit_briefing(site)
    result = rebuilt("a paragraph edited")
    # Of about a hundred files: its page, the feeds that carry its text, its search document,
    # meta.json and the term shards of the words and prefix terms it changed (4 of 16).
    assert result.in_place and 0 < result.rendered < 12, result
    # A title with the slug fixed: lists show the new title, the URL stays.
    replace_in(b5, 'title: "Briefing 5"', 'title: "Briefing five"\nslug: briefing-5')
    assert rebuilt("a title edited, its slug kept").in_place
    replace_in(b5, "Briefing five", "Briefing number five")
    result = rebuilt("a title edited again")
    assert result.in_place
    shown_in = [rel for rel, data in tree(output).items() if b"Briefing number five" in data]
    assert len(shown_in) > 3, shown_in  # its page, and the lists and feeds that show it
    # Back to what the last full build listed: the edits in place since are known.
    replace_in(b5, "Briefing number five", "Briefing 5")
    assert rebuilt("a title set back").in_place
    replace_in(b5, 'title: "Briefing 5"', 'title: "Briefing number five"')
    assert rebuilt("a title edited once more").in_place
    # Its lead paragraph, which lists show as its summary when it has none of its own.
    replace_in(b5, "Paragraph 5 cites", "An opening paragraph cites")
    assert rebuilt("a lead paragraph edited").in_place
    assert sum(b"An opening paragraph cites" in data for data in tree(output).values()) > 3
    replace_in(b5, "slug: briefing-5", 'slug: briefing-5\nsummary: "A summary of its own."')
    assert rebuilt("a summary given").in_place
    # The date it was last updated, which its page, the feeds and the sitemap show.
    replace_in(b5, "slug: briefing-5", "slug: briefing-5\nupdated: 2020-06-01")
    assert rebuilt("an update's date given").in_place
    assert b"2020-06-01" in (output / "sitemap.xml").read_bytes()
    replace_in(b5, "updated: 2020-06-01", "updated: 2020-06-02")
    assert rebuilt("an update's date changed").in_place
    os.utime(b2, ns=(time.time_ns(), time.time_ns() + 10**9))
    result = rebuilt("a file touched")
    assert result.in_place and result.rendered == 0
    b2.write_text(original, encoding="utf-8")
    replace_in(b5, "Second paragraph 5.", "Second paragraph five.")
    assert rebuilt("one edit reverted and another made").in_place
    replace_in(b2, "topics: [Alpha]", "topics: [Alpha, Gamma]")
    assert not rebuilt("a topic added").in_place
    replace_in(b2, "Second paragraph 2.", "Second paragraph two.")
    assert rebuilt("an edit after a full build").in_place
    assert build(site, BuildOptions(output=output)).rendered == 0


def add_third_source(site: Path, publisher: str) -> None:
    """src-c, "Third article", of `publisher`, added to the corpus site's registry."""
    registry = site / "content/sources/registry.yaml"
    registry.write_text(registry.read_text("utf-8") + '- id: src-c\n  title: "Third article"\n'
                        f"  publisher: {publisher}\n  url: https://example.org/c\n  published: 2020-03-01\n",
                        "utf-8")


def test_citations_of_other_sources_are_taken_in_place_while_the_publishers_stay(tmp_path: Path) -> None:
    site = corpus_site(tmp_path, count=12)
    add_third_source(site, "Daily One")
    b5, b7 = site / "content/briefings/2020/b5.md", site / "content/briefings/2020/b7.md"
    output = site / "output"

    def built(step: str) -> BuildResult:
        result: BuildResult = built_as_clean(site, tmp_path)  # output, publishers, related briefings
        assert result.in_place, step
        return result

    build(site, BuildOptions(jobs=1))
    built_as_clean(site, tmp_path)
    # A source of a publisher with a page: its page names the briefing, related briefings follow.
    replace_in(b5, "Second paragraph 5.", "Second paragraph 5 [@src-c].")
    built("a citation of another source")
    assert b"Briefing 5" in (output / "sources/daily-one/index.html").read_bytes()
    replace_in(b7, "Second paragraph 7.", "Second paragraph 7 [@src-c].")
    built("a second briefing citing it")
    replace_in(b5, "More [@src-b, para. 5].", "More.")
    built("a citation taken out")
    replace_in(b5, "Second paragraph 5 [@src-c].", "Second paragraph 5.")
    built("the other taken out")
    # The last briefing citing src-c stops: its article goes, its publisher stays.
    replace_in(b7, "Second paragraph 7 [@src-c].", "Second paragraph 7.")
    built("an article no longer cited")
    assert b"Third article" not in (output / "sources/daily-one/index.html").read_bytes()
    # A source listed, not cited: the briefing's own files show it.
    replace_in(b5, "sources: [src-a]", "sources: [src-a, src-c]")
    built("a source listed")
    # Weekly Two's source cited again, first of all.
    replace_in(b5, "Paragraph 5 cites [@src-a].", "Paragraph 5 cites [@src-b] [@src-a].")
    built("cited again")


def test_a_source_listed_uncited_links_its_publisher_only_while_someone_cites_it(tmp_path: Path) -> None:
    """A briefing that lists a source without citing it links the publisher's page when that
    page exists, which other briefings decide: their citing it, or no longer, renders it again."""
    site = corpus_site(tmp_path, count=12)
    add_third_source(site, "Gamma Post")
    b2, b9 = site / "content/briefings/2020/b2.md", site / "content/briefings/2020/b9.md"
    replace_in(b9, "sources: [src-a]", "sources: [src-a, src-c]")  # listed, never cited
    replace_in(b2, "Second paragraph 2.", "Second paragraph 2 [@src-c].")
    build(site, BuildOptions(jobs=1))
    b9_page = next((site / "output").glob("2020/*/*/briefing-9/index.html"))
    assert b"/sources/gamma-post/" in b9_page.read_bytes()
    replace_in(b2, "Second paragraph 2 [@src-c].", "Second paragraph 2.")
    built_as_clean(site, tmp_path)  # the page is gone: b9 no longer links it
    assert not (site / "output/sources/gamma-post").exists()
    assert b"/sources/gamma-post/" not in b9_page.read_bytes()
    replace_in(b2, "Second paragraph 2.", "Second paragraph 2 [@src-c].")
    built_as_clean(site, tmp_path)  # and back
    assert b"/sources/gamma-post/" in b9_page.read_bytes()


def test_a_publishers_page_is_fingerprinted_by_what_it_names_of_the_briefings_citing_it(
        tmp_path: Path) -> None:
    from briefgen.build.in_place import snapshot_baseline
    from briefgen.site import kinds
    from briefgen.site.model import with_replaced

    site = corpus_site(tmp_path, count=6)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    with last_snapshot(site, output) as (store, last):
        base = snapshot_baseline(store, last)
        model, plan = base.loaded.site, base.loaded.plan
        publisher = next(spec for spec in plan if spec.kind is kinds.PUBLISHER)
        index = model.publishers[publisher.args[0]].articles[0].cited_by[0]
        home = next(spec for spec in plan if spec.kind is kinds.HOME and index in spec.kind.shows(
            base.fingerprints.context, spec.args).listed)
        record = model.briefings[index]

        def fingerprints_with(changed: Any) -> tuple[str, str]:
            edited = dataclasses.replace(model, briefings=with_replaced(model.briefings, {index: changed}))
            after = base.fingerprints.for_site(edited, [index])
            return after.of(publisher), after.of(home)

        was = base.fingerprints.of(publisher), base.fingerprints.of(home)
        # It names each briefing citing an article by title, link and date: its summary is not
        # shown there, as it is on the home page.
        summary = fingerprints_with(dataclasses.replace(record, summary="Another summary."))
        assert summary[0] == was[0] and summary[1] != was[1]
        retitled = dataclasses.replace(record.doc, title="Other")
        title = fingerprints_with(dataclasses.replace(record, doc=retitled))
        assert title[0] != was[0] and title[1] != was[1]


def test_a_briefing_added_or_removed_goes_to_a_full_build_without_reading_the_snapshot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last build's record counts the content files: another count means files were added
    or removed. The content folders' listings tell which, and a briefing added to publish, or one
    the build showed removed, is no edit in place: the snapshot (64-93 ms to read at 50,000
    briefings) is not read for nothing. A record written before the count was kept still tries
    in place."""
    from briefgen.build import snapshot
    from briefgen.content import files

    monkeypatch.setattr(files, "SETTLED_NS", 0)  # each build's listing taken as it is at once
    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    build(site, BuildOptions(output=output))  # keeps the listing (the first build had no cache to keep it in)
    reads: list[str] = []
    real_read = snapshot.read

    def read(store: Store, at: str) -> snapshot.Snapshot | None:
        reads.append(at)
        return real_read(store, at)

    monkeypatch.setattr(snapshot, "read", read)
    added = site / "content/briefings/2020/added.md"
    added.write_text(corpus_briefing("Added", "2020-03-09", "Beta", "Added text [@src-a]."), encoding="utf-8")
    assert not build(site, BuildOptions(output=output)).in_place
    assert reads == []
    assert tree(output) == clean_build(site, tmp_path / "clean-added")
    added.unlink()
    assert not build(site, BuildOptions(output=output)).in_place
    assert reads == []
    edit_briefing(site)
    assert build(site, BuildOptions(output=output)).in_place
    assert len(reads) == 1
    # A folder the last build's listing lacks (new, or changed too soon before it to be listed):
    # which of its files are new is not known, and the snapshot is read to tell.
    (site / "content/briefings/2021").mkdir()
    later = site / "content/briefings/2021/later.md"
    later.write_text(corpus_briefing("Later", "2021-01-09", "Beta", "Later text [@src-a]."), encoding="utf-8")
    assert not build(site, BuildOptions(output=output)).in_place
    assert len(reads) == 2
    assert tree(output) == clean_build(site, tmp_path / "clean-later")
    # A record without the count, as an earlier version wrote it: an edit is still taken in place.
    cache_dir = site / ".briefgen-cache"
    last = memo.read_last_build(cache_dir, output.resolve())
    assert last is not None and last.content_files > 0
    memo.write_last_build(cache_dir, output.resolve(), dataclasses.replace(last, content_files=-1))
    replace_in(site / "content/briefings/2020/b5.md", "Second paragraph 5.", "Second paragraph five.")
    assert build(site, BuildOptions(output=output)).in_place
    assert tree(output) == clean_build(site, tmp_path / "clean-edited")


def _snapshot_rows(store: Path) -> list[str]:
    """The names of the rows of briefings the kept snapshot is made of, in order."""
    from briefgen.build import snapshot

    with sqlite3.connect(store) as connection:
        (head,) = connection.execute("SELECT value FROM state WHERE name = ?", (snapshot.HEAD,)).fetchone()
    connection.close()
    return [name for name, _ in pickle.loads(head)[1].rows]


def _state_names(store: Path) -> set[str]:
    with sqlite3.connect(store) as connection:
        names = {name for (name,) in connection.execute("SELECT name FROM state")}
    connection.close()
    return names


def test_a_snapshot_read_for_nothing_is_freed_without_the_cyclic_collector(tmp_path: Path) -> None:
    """A build runs with the cyclic collector off. When a briefing is added, the in-place path
    reads the snapshot and gives up: nothing may keep that snapshot alive through a cycle for
    the rest of the build (70 MB at 50,000 briefings)."""
    import gc

    from briefgen.build import snapshot

    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    store = Store(site / ".briefgen-cache" / STORE)
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        read = snapshot.read(store, str(output.resolve()))
        assert read is not None and len(read.loaded.site.briefings[:3]) == 3  # a row read too
        del read
        gc.collect()
        kept_by_cycles = {type(found).__name__ for found in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        store.close()
        if was_enabled:
            gc.enable()
    assert not kept_by_cycles & {"Snapshot", "BriefingRows", "Loaded", "Site", "Briefing"}, kept_by_cycles


def test_an_edit_that_needs_a_full_build_leaves_nothing_of_its_attempt_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A topic added cannot be rebuilt in place: the renderer made for trying it is held in a
    cycle by its Jinja environment, and the full build that follows runs with the cyclic
    collector off. By the time that build loads the site, the attempt must be gone."""
    import gc

    from briefgen.build import loading

    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    renderers_alive: list[int] = []
    real_load = loading.load

    def load(*args: Any, **kwargs: Any) -> Any:
        renderers_alive.append(sum(isinstance(found, Renderer) for found in gc.get_objects()))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(loading, "load", load)
    replace_in(site / "content/briefings/2020/b2.md", "topics: [Alpha]", "topics: [Alpha, Gamma]")
    result = build(site, BuildOptions(output=output))
    assert not result.in_place and renderers_alive == [0], renderers_alive
    assert tree(output) == clean_build(site, tmp_path / "clean")


@pytest.mark.parametrize("damage", ["none", "garbage", "missing", "short", "another row"])
def test_an_in_place_edit_reads_only_the_rows_of_briefings_it_shows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    from briefgen.build import snapshot

    monkeypatch.setattr(snapshot, "CHUNK", 3)  # 40 briefings: about thirteen rows
    site = corpus_site(tmp_path, count=40)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    store = site / ".briefgen-cache" / "cache.sqlite"
    rows = _snapshot_rows(store)
    assert len(rows) >= 6
    assert {name for name in _state_names(store) if name.startswith(snapshot.BRIEFINGS + "/")} == set(rows)
    # The row holding b2, the briefing edit_briefing changes.
    paths = pickle.loads(_read_state(store, snapshot.HEAD))[1].paths
    own = rows[max(i for i, start in enumerate(snapshot.row_starts(paths))
                   if start <= paths.index("content/briefings/2020/b2.md"))]
    if damage == "missing":
        with sqlite3.connect(store) as connection:
            connection.execute("DELETE FROM state WHERE name = ?", (own,))
        connection.close()
    elif damage == "garbage":
        _set_state(store, own, b"\x80\x05garbage")
    elif damage == "short":  # readable, but not the row's briefings
        _set_state(store, own, pickle.dumps(()))
    elif damage == "another row":  # a readable row of other briefings, under this row's name
        other = next(name for name in rows if name != own)
        _set_state(store, own, _read_state(store, other))
    read: list[str] = []
    real = snapshot.Store.read_blobs

    def read_blobs(self: snapshot.Store, names: list[str]) -> dict[str, bytes]:
        read.extend(names)
        return real(self, names)

    monkeypatch.setattr(snapshot.Store, "read_blobs", read_blobs)
    edit_briefing(site)
    result = build(site, BuildOptions(output=output))
    assert tree(output) == clean_build(site, tmp_path / "clean")
    if damage == "none":
        assert result.in_place
        # Its own row, and those of the briefings its page links to (previous, next, related).
        assert own in read and 0 < len(set(read) & set(rows)) < len(rows), read
        return
    assert own in read and not result.in_place  # the edit met the damaged row: a full build
    # That build wrote the row again: the next edit is in place.
    replace_in(site / "content/briefings/2020/b2.md", "An edited second paragraph.", "Edited again.")
    assert build(site, BuildOptions(output=output)).in_place
    assert tree(output) == clean_build(site, tmp_path / "clean2")


def _read_state(store: Path, name: str) -> bytes:
    with sqlite3.connect(store) as connection:
        (value,) = connection.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
    connection.close()
    return bytes(value)


@pytest.mark.parametrize("change", ["added", "deleted", "template"])
def test_a_full_build_writes_only_the_rows_of_briefings_that_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    from briefgen.build import snapshot

    monkeypatch.setattr(snapshot, "CHUNK", 3)
    site = corpus_site(tmp_path, count=24)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    store = site / ".briefgen-cache" / "cache.sqlite"
    before = _snapshot_rows(store)
    written: list[str] = []
    real = snapshot.Store.write_blobs

    def write_blobs(self: snapshot.Store, rows: Any, *args: Any, **kwargs: Any) -> None:
        rows = list(rows)
        written.extend(name for name, _ in rows)
        real(self, rows, *args, **kwargs)

    monkeypatch.setattr(snapshot.Store, "write_blobs", write_blobs)
    if change == "added":
        add_briefing(site)
    elif change == "deleted":
        delete_briefing(site)
    else:
        replace_in(site / "templates/briefing.html", "</article>", "</article><!-- edited -->")
    result = build(site, BuildOptions(output=output))
    assert not result.in_place
    after = _snapshot_rows(store)
    new_rows = [name for name in written if name.startswith(snapshot.BRIEFINGS + "/")]
    assert new_rows == [name for name in after if name not in before]
    # The row the briefing was added to or taken from; two, where the briefing cuts rows.
    assert len(new_rows) <= (0 if change == "template" else 2)
    assert len(set(before) - set(after)) <= (0 if change == "template" else 2)
    assert len(set(before) & set(after)) >= 3
    kept = {name for name in _state_names(store) if name.startswith(snapshot.BRIEFINGS + "/")}
    assert kept == set(after)  # the rows no longer named are gone
    assert tree(output) == clean_build(site, tmp_path / "clean")
    # The snapshot so made takes an edit in place, as one written whole would.
    edit_briefing(site)
    assert build(site, BuildOptions(output=output)).in_place
    assert tree(output) == clean_build(site, tmp_path / "clean2")


def test_a_site_without_briefings_builds_and_rebuilds(tmp_path: Path) -> None:
    # No briefing, so no row of briefings in the snapshot; then the first one comes.
    site = corpus_site(tmp_path, count=0)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    assert build(site, BuildOptions(output=output)).rendered == 0
    replace_in(site / "content/pages/about.md", "About this site.", "About this site, again.")
    build(site, BuildOptions(output=output))
    assert tree(output) == clean_build(site, tmp_path / "clean")
    (site / "content/briefings/2020").mkdir(parents=True)
    add_briefing(site)
    assert build(site, BuildOptions(output=output)).briefings == 1
    assert tree(output) == clean_build(site, tmp_path / "clean2")


def test_rows_of_briefings_are_cut_by_their_files_not_by_count() -> None:
    from briefgen.build import snapshot

    paths = [f"content/briefings/2024/briefing-{n:05d}.md" for n in range(20000)]
    starts = snapshot.row_starts(paths)
    lengths = [end - start for start, end in zip(starts, [*starts[1:], len(paths)], strict=True)]
    expected = len(paths) / snapshot.CHUNK
    assert expected / 2 < len(starts) < expected * 2 and max(lengths) <= 4 * snapshot.CHUNK
    rows = {tuple(paths[start:end]) for start, end in zip(starts, [*starts[1:], len(paths)], strict=True)}
    for at in (0, 7000, 19999):
        for changed in ([*paths[:at], "content/briefings/2024/inserted.md", *paths[at:]],
                        paths[:at] + paths[at + 1:]):
            cut = snapshot.row_starts(changed)
            after = {tuple(changed[s:e]) for s, e in zip(cut, [*cut[1:], len(changed)], strict=True)}
            assert len(after - rows) <= 2 and len(rows - after) <= 2


def test_a_plan_kept_as_rows_gives_back_its_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefgen.build import snapshot
    from briefgen.site.plan import PlanRows, plan_rows

    monkeypatch.setattr(snapshot, "_PACKED_ROWS", 8)  # several runs, the last one short
    site = corpus_site(tmp_path)
    result = build(site, BuildOptions(output=tmp_path / "out", use_cache=True))
    plan = result.model[0].plan  # type: ignore[index]
    assert len(plan) % 8
    rows = PlanRows(pickle.loads(pickle.dumps(snapshot.PackedRows(plan_rows(plan)))))
    assert len(rows) == len(plan) > 20
    assert rows[-1] == plan[-1] and rows[3:9] == plan[3:9] and rows[-8] == plan[-8]
    assert list(rows) == list(plan)
    assert all(kept.kind is spec.kind for kept, spec in zip(rows, plan, strict=True))
    with pytest.raises(IndexError):
        rows[len(plan)]


def test_the_kept_urls_of_content_files_read_back_as_they_were() -> None:
    from briefgen.build.snapshot import PackedStrings

    urls = {"content/pages/about.md": "about/", "content/briefings/b1.md": "2020/01/01/b1/", "x": ""}
    packed = pickle.loads(pickle.dumps(PackedStrings.of(urls)))
    assert isinstance(packed, PackedStrings)
    assert dict(packed) == urls and dict(packed.items()) == urls and len(packed) == 3
    assert packed.get("x") == "" and packed.get("content/none.md") is None
    one = pickle.loads(pickle.dumps(PackedStrings.of({"a.md": "a/"})))
    assert dict(one) == {"a.md": "a/"}
    assert PackedStrings.of({}) == {} and not isinstance(PackedStrings.of({}), PackedStrings)
    # A NUL would cut the strings in the wrong places: such a mapping is kept as it is.
    odd = {"a\0b.md": "a/", "c.md": "c/"}
    assert PackedStrings.of(odd) is odd
    with pytest.raises(ValueError):
        PackedStrings("a\0b", "a/")


def test_the_kept_lists_of_files_showing_each_briefing_read_back_as_they_were() -> None:
    from briefgen.build.fingerprint import PackedLists

    lists = {7: [3, 1, 40_000], 0: [2], 12: [], 3: list(range(500))}
    packed = pickle.loads(pickle.dumps(PackedLists(lists)))
    assert dict(packed) == lists and len(packed) == 4 and sorted(packed) == [0, 3, 7, 12]
    assert packed.get(7, []) == [3, 1, 40_000] and packed.get(5, []) == [] and 5 not in packed
    assert dict(pickle.loads(pickle.dumps(PackedLists({})))) == {}
    # A damaged state is refused as it is read back (the head it is in makes a full build).
    keys, ends, positions = PackedLists(lists).__getstate__()
    for damaged in [(array("i", [0, 7, 3, 12]), ends, positions),  # keys out of order
                    (array("i", [0, 3, 3, 12]), ends, positions),  # a key twice
                    (keys, array("i", [1, 501, 500, 504]), positions),  # a list ending before it starts
                    (keys, ends, positions[:-1]),  # the last list past the end
                    (keys[:-1], ends, positions),
                    (array("q", keys), ends, positions)]:
        with pytest.raises(ValueError, match="damaged lists"):
            PackedLists({}).__setstate__(damaged)


def test_the_kept_content_files_find_the_stats_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    from briefgen.build import inputs, snapshot

    monkeypatch.setattr(inputs, "_COMPARED", 64)  # two stats a run: several runs, some differing
    content = {f"content/briefings/b{i}.md": ((10**18 + i, 10**18 - i, 100 + i, i), f"{i:032x}")
               for i in range(21)}
    packed = pickle.loads(pickle.dumps(inputs.PackedContent.of(content)))
    assert dict(packed) == content and list(packed) == list(content) and len(packed) == 21
    paths, stats = list(content), [stat for stat, _ in content.values()]
    joined = "\0".join(paths)
    assert snapshot.changed_content(packed, joined, inputs.stat_numbers(stats)) == ([], [])
    now = list(stats)
    for at in (0, 1, 7, 20):
        now[at] = (now[at][0] + 1, *now[at][1:])
    now[12] = (*now[12][:3], 7)
    expected = [(at, f"{at:032x}") for at in (0, 1, 7, 12, 20)]
    assert snapshot.changed_content(packed, joined, inputs.stat_numbers(now)) == (expected, [])
    # A plain dict answers alike.
    assert snapshot.changed_content(content, joined, inputs.stat_numbers(now)) == (expected, [])
    # Files in another order are found by path; a file added is one whose digest is unknown.
    order = [*range(10, 21), *range(10)]
    assert snapshot.changed_content(packed, "\0".join(paths[at] for at in order),
                                    inputs.stat_numbers(now[at] for at in order)) == ([
        (order.index(at), digest) for at, digest in sorted(expected, key=lambda e: order.index(e[0]))], [])
    assert snapshot.changed_content(packed, "\0".join([*paths, "content/briefings/new.md"]),
                                    inputs.stat_numbers([*stats, (1, 2, 3, 4)])) == ([(21, "")], [])
    # A file gone is named.
    assert snapshot.changed_content(packed, "\0".join(paths[:-1]), inputs.stat_numbers(now[:-1])) == (
        expected[:-1], [paths[20]])
    assert snapshot.changed_content(packed, "\0".join([*paths[:-1], "content/briefings/new.md"]),
                                    inputs.stat_numbers(now)) == ([*expected[:-1], (20, "")], [paths[20]])
    assert packed.changes("\0".join(paths[:-1]), inputs.stat_numbers(now[:-1]))[1] == [paths[20]]
    # A delta's few files replaced in place, first and last too: digests of a digest's width
    # are put in the column as it is stored.
    delta = {paths[0]: (now[0], "a" * 32), paths[20]: (now[20], "b" * 32), paths[9]: (now[9], "c" * 32)}
    replaced = pickle.loads(pickle.dumps(packed.with_changes(delta)))
    assert isinstance(replaced, inputs.PackedContent) and dict(replaced) == {**content, **delta}
    for_lookups = pickle.loads(pickle.dumps(packed))
    assert for_lookups[paths[3]] == content[paths[3]]  # its paths indexed first
    assert dict(for_lookups.with_changes(delta)) == {**content, **delta}
    edited = packed.with_changes({paths[7]: (now[7], "")})
    assert isinstance(edited, inputs.PackedContent) and dict(edited) == {**content, paths[7]: (now[7], "")}
    assert dict(pickle.loads(pickle.dumps(edited))) == dict(edited)  # a digest of another width kept
    assert dict(packed) == content  # left as it was
    assert dict(packed.with_changes({"content/pages/about.md": (now[0], "x")})) == {
        **content, "content/pages/about.md": (now[0], "x")}
    # None for a file gone: taken out.
    assert dict(packed.with_changes({paths[3]: None, paths[4]: (now[4], "d" * 32)})) == {
        **{path: entry for path, entry in content.items() if path != paths[3]}, paths[4]: (now[4], "d" * 32)}
    with pytest.raises(ValueError):
        inputs.PackedContent(packed.joined, packed.stats, "\0".join(list(packed.digests)[:-1]))
    with pytest.raises(ValueError):
        inputs.PackedContent(packed.joined, packed.stats[:-1], "\0".join(packed.digests))
    assert len(inputs.PackedContent.of({})) == 0 and snapshot.changed_content({}, "", array("q")) == ([], [])


def test_term_shards_are_found_in_the_plan_by_their_run_or_else_file_by_file() -> None:
    """An edit skips the term shards whose files the output holds: found by counting from the
    run's first file when the plan has them in one run, and by each file's kind otherwise."""
    from briefgen.build.edits import _term_positions
    from briefgen.site import kinds
    from briefgen.site.plan import PageSpec

    def terms(shard: int, count: int) -> PageSpec:
        return PageSpec(f"search/terms/{shard}.json", kinds.SEARCH_TERMS, (shard, count))

    meta = PageSpec("search/meta.json", kinds.SEARCH_META)
    home = PageSpec("index.html", kinds.HOME, (1,))
    run = [home, meta, *(terms(shard, 4) for shard in range(4)), PageSpec("feed.xml", kinds.FEED)]
    every = [1, 2, 3, 4, 5]  # the files that show every briefing: the index's
    assert sorted(_term_positions(run, every, {(0, 4), (3, 4)})) == [2, 5]
    assert _term_positions(run, every, {(1, 8)}) == []  # another count: no such shard here
    assert _term_positions(run, every, set()) == []
    # A plan with another file among its shards: each file looked at.
    broken = [home, meta, terms(0, 4), terms(1, 4), home, terms(2, 4), terms(3, 4), home]
    assert sorted(_term_positions(broken, [1, 2, 3, 5, 6], {(1, 4), (3, 4)})) == [3, 6]


def test_positions_answer_alike_before_and_after_they_make_a_dict() -> None:
    """A path's position, scanned for while few are asked, or from the dict made after: the
    same answers, for paths there and paths not."""
    from briefgen.build import columns

    paths = tuple(f"content/briefings/{year}/b{i}.md" for year in (2015, 2016) for i in range(30))
    positions = columns.Positions(paths)
    asked = [paths[59], "content/briefings/2016/b99.md", paths[0], paths[31], "", *paths[::-1], "nope"]
    answers = []
    for path in asked:  # the first few scanned, the rest from the dict
        answers.append((positions.get(path), path in positions, positions.get(path, -1)))
    expected = [(paths.index(p), True, paths.index(p)) if p in paths else (None, False, -1) for p in asked]
    assert answers == expected
    assert positions[paths[5]] == 5 and list(positions) == list(paths) and len(positions) == 60
    with pytest.raises(KeyError):
        positions["content/briefings/2017/b0.md"]
    assert 3 not in positions


@pytest.mark.parametrize("damage", ["garbage runs", "short runs", "lists that do not add up",
                                    "an index pickled apart that cannot be read",
                                    "content files that do not add up", "briefing digests cut short",
                                    "last-modified dates cut short"])
def test_a_damaged_plan_or_list_in_the_snapshot_means_a_full_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    from array import array

    from briefgen.build import fingerprint, snapshot

    monkeypatch.setattr(snapshot, "_PACKED_ROWS", 5)
    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    store = site / ".briefgen-cache" / "cache.sqlite"
    header, kept = pickle.loads(_read_state(store, snapshot.HEAD))
    runs = kept.plan._runs
    assert len(runs) > 3
    edit = edit_briefing
    if damage == "garbage runs":
        kept.plan._runs = tuple(b"\x80\x05garbage" for _ in runs)
    elif damage == "short runs":
        kept.plan._runs = tuple(pickle.dumps([]) for _ in runs)
    elif damage == "lists that do not add up":
        # Pickled apart, and read by an edit that changes what lists show of a briefing.
        lists = kept.fingerprints.listed_by.unpacked()
        assert len(lists) > 5
        lists._positions = array(fingerprint._INDEXES, [1, 2])
        kept = dataclasses.replace(kept, fingerprints=dataclasses.replace(
            kept.fingerprints, listed_by=snapshot.PickledMapping.of(lists)))
        edit = edit_summary
    elif damage == "an index pickled apart that cannot be read":
        damaged = dataclasses.replace(kept.loaded.site, days=snapshot.PickledMapping(b"\x80\x05garbage"))
        kept = dataclasses.replace(kept, loaded=dataclasses.replace(kept.loaded, site=damaged))
        edit = edit_summary  # the day's page lists it
    elif damage == "briefing digests cut short":
        assert len(kept.fingerprints.listings) == 12
        kept.fingerprints.listings._digests = kept.fingerprints.listings._digests[:-1]
    elif damage == "last-modified dates cut short":
        assert len(kept.modified) == 12
        kept = dataclasses.replace(kept, modified=kept.modified[:-1])
    else:
        kept.loaded.content.stats.pop()
    _set_state(store, snapshot.HEAD, pickle.dumps((header, kept)))
    edit(site)
    result = build(site, BuildOptions(output=output))
    assert not result.in_place
    assert tree(output) == clean_build(site, tmp_path / "clean")
    # That build wrote the snapshot again: the next edit is in place.
    if edit is edit_briefing:
        replace_in(site / "content/briefings/2020/b2.md", "An edited second paragraph.", "Edited again.")
    else:
        edit_briefing(site)
    assert build(site, BuildOptions(output=output)).in_place
    assert tree(output) == clean_build(site, tmp_path / "clean2")


def test_an_edit_of_a_briefings_text_reads_none_of_the_archives_indexes_the_head_keeps_apart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The days, months and the lists of the files listing each briefing are pickled apart in
    the snapshot's head: a change to a briefing's text reads none of them; a change to what
    lists show of it reads what it needs. Both end as a clean build."""
    from briefgen.build import snapshot

    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    heads: list[snapshot.Snapshot | None] = []
    read = snapshot.read
    monkeypatch.setattr(snapshot, "read", lambda *args: heads.append(read(*args)) or heads[-1])

    def apart(head: snapshot.Snapshot | None) -> list[bool]:
        assert head is not None
        site_model = head.loaded.site
        parts = [site_model.days, site_model.months, site_model.days_of_month, head.fingerprints.listed_by]
        return [part.is_read for part in parts if isinstance(part, snapshot.PickledMapping)]

    edit_briefing(site)
    assert build(site, BuildOptions(output=output)).in_place
    assert apart(heads[-1]) == [False] * 4
    assert tree(output) == clean_build(site, tmp_path / "clean")
    edit_summary(site)
    assert build(site, BuildOptions(output=output)).in_place
    assert apart(heads[-1]) == [True] * 4  # the day's and month's pages list it
    assert tree(output) == clean_build(site, tmp_path / "clean2")


def test_kept_rows_give_each_briefings_last_modified_date_without_reading_it(tmp_path: Path) -> None:
    from briefgen.site.model import BriefingRows, modified_on, modified_on_at

    site = corpus_site(tmp_path, count=12)
    replace_in(site / "content/briefings/2020/b3.md", "topics:", "updated: 2020-09-09\ntopics:")
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    with last_snapshot(site, output) as (_, kept):
        rows = kept.loaded.site.briefings
        assert isinstance(rows, BriefingRows)
        days = [modified_on_at(rows, at) for at in range(len(rows))]
        assert not rows._rows  # no row read for them
        assert dt.date(2020, 9, 9) in days
        assert days == [modified_on(b) for b in rows]  # as the records have them
        # An edited briefing's date is its new record's.
        edited = dataclasses.replace(rows[0], updated=dt.datetime(2021, 2, 3, tzinfo=dt.UTC))
        assert modified_on_at(rows.replaced({0: edited}), 0) == dt.date(2021, 2, 3)


@pytest.mark.parametrize("delta_limit", [2000, 1])
def test_in_place_edits_record_the_manifest_as_a_delta_a_full_build_agrees_with(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delta_limit: int) -> None:
    from briefgen.build import manifest as cache_manifest
    from briefgen.build import store as cache_store

    monkeypatch.setattr(cache_manifest, "_MANIFEST_DELTA_LIMIT", delta_limit)  # 1: every edit folds it
    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    path = site / ".briefgen-cache" / "cache.sqlite"
    row = f"manifest/{output.resolve()}"

    def state(name: str) -> bytes | None:
        with sqlite3.connect(path) as connection:
            found = connection.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        connection.close()
        return None if found is None else bytes(found[0])

    full_row = state(row)
    b5 = site / "content/briefings/2020/b5.md"
    edit_briefing(site)
    assert build(site, BuildOptions(output=output)).in_place
    replace_in(b5, 'title: "Briefing 5"', 'title: "Briefing five"\nslug: briefing-5')
    assert build(site, BuildOptions(output=output)).in_place
    assert (state(row) == full_row) == (delta_limit > 1)  # the full row is left as it was
    assert (state(f"manifest-delta/{output.resolve()}") is not None) == (delta_limit > 1)
    store = cache_store.Store(path)
    recorded = cache_manifest.read_manifest(store, output.resolve())
    store.close()
    # A full build (no snapshot to edit from) finds every file as the manifest says.
    _set_state(path, "snapshot", b"")
    result = build(site, BuildOptions(output=output))
    assert not result.in_place and result.rendered == 0, result
    store = cache_store.Store(path)
    assert cache_manifest.read_manifest(store, output.resolve()) == recorded
    store.close()
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_the_last_build_keeps_its_output_folders_apart_from_its_record(tmp_path: Path) -> None:

    site = corpus_site(tmp_path, count=12)
    output = (tmp_path / "out").resolve()
    build(site, BuildOptions(output=output))
    cache = site / ".briefgen-cache"
    path = cache / "cache.sqlite"
    row = f"build-folders/{output}"

    def folders_row() -> bytes:
        return _read_state(path, row)

    last = memo.read_last_build(cache, output)
    assert last is not None and last.folders == memo.output_folders(tree(output))
    assert last.folder_times == memo.folder_times(output, last.folders)
    stored = folders_row()
    edit_briefing(site)
    assert build(site, BuildOptions(output=output)).in_place
    assert folders_row() == stored  # an edit wrote the record alone
    edited = memo.read_last_build(cache, output)
    assert edited is not None and edited.folders == last.folders and edited.inputs != last.inputs
    assert edited.folder_times == memo.folder_times(output, last.folders)  # those it wrote into, again
    assert build(site, BuildOptions(output=output)).rendered == 0
    # A record whose folders are not the stored ones is no record: the next build is a full one.
    count = len(last.folders)
    _set_state(path, row, pickle.dumps(("another build's token", count, "\0".join(last.folders))))
    assert memo.read_last_build(cache, output) is None
    result = build(site, BuildOptions(output=output))
    assert not result.in_place and folders_row() != stored
    assert memo.read_last_build(cache, output) is not None
    token = pickle.loads(folders_row())[0]
    assert pickle.loads(folders_row()) == (token, count, "\0".join(last.folders))
    _set_state(path, row, pickle.dumps((token, count - 1, "\0".join(last.folders[:-1]))))
    assert memo.read_last_build(cache, output) is None  # times for more folders than it names
    _set_state(path, row, pickle.dumps((token, count, last.folders)))
    assert memo.read_last_build(cache, output) is None  # not the folders joined
    _set_state(path, row, pickle.dumps((token, "\0".join(last.folders))))
    assert memo.read_last_build(cache, output) is None  # as an earlier version stored them
    assert memo.refreshed_times(output, last, (*last.folders, "no/such/folder"), []) is None


def test_the_store_writes_large_values_in_pieces_and_reads_them_back_whole(tmp_path: Path) -> None:
    import tempfile

    from briefgen.build import store as store_module

    piece = store_module._PIECE
    large = os.urandom(2 * piece + 12345)  # more than two pieces, and a partial one
    view = memoryview(bytes(range(256)) * (piece // 64))  # 4 pieces exactly
    small = b"small value"
    store = Store(tmp_path / "cache.sqlite")
    try:
        with tempfile.TemporaryFile() as spooled:
            spooled.write(large[::-1])
            spooled.seek(1000)  # a file's bytes are taken from its start, wherever it stands
            store.write_blobs([("a/large", large), ("a/view", view), ("a/file", spooled), ("a/small", small)])
        assert store.read_blobs(["a/large", "a/view", "a/file", "a/small"]) == {
            "a/large": large, "a/view": bytes(view), "a/file": large[::-1], "a/small": small}
        # Replaced by a smaller value, a row holds that value alone.
        store.write_blobs([("a/large", small)])
        assert store.read_blobs(["a/large"]) == {"a/large": small}
        # Rows about the size from which they are read as blobs read back whole, with others.
        blob_from = store_module._READ_AS_BLOB
        edge = {f"b/{size}": os.urandom(size) for size in (0, 1, blob_from - 1, blob_from, blob_from + 1)}
        store.write_blobs(edge.items())
        assert store.read_blobs([*edge, "a/small", "b/none"]) == {**edge, "a/small": small}

        # A failure part way leaves every row as it was: the pieces are in the one transaction.
        def failing() -> Any:
            yield "a/view", large
            raise RuntimeError("stopped while pickling")

        with pytest.raises(RuntimeError, match="stopped while pickling"):
            store.write_blobs(failing())
        assert store.read_blobs(["a/view"]) == {"a/view": bytes(view)}
    finally:
        store.close()


def test_rows_read_ahead_are_taken_once_and_a_write_reads_the_store_again(tmp_path: Path) -> None:
    from briefgen.build.store import ReadAhead

    path = tmp_path / "cache.sqlite"
    writer = Store(path)
    writer.write_state({"a": 1, "b": [2], "c": "three", "d": 4})
    writer.close()
    ahead = ReadAhead(path, ["a", "b", "d", "missing"])
    assert ahead.rows() is not None  # read: the store's file can go
    path.unlink()
    store = Store(path, read_ahead=ahead)
    try:
        # Those read ahead come from the thread; "c" was not asked for, and is not in the new file.
        assert store.read_states(["a", "missing", "c"]) == {"a": 1}
        assert {name: pickle.loads(value) for name, value in store.read_blobs(["b"]).items()} == {"b": [2]}
        assert store.read_states(["a"]) == {}  # once: asked again, the store is read
        # A write lets go of the rest: what the store holds now is read.
        store.write_state({"d": 40})
        assert store.read_states(["d"]) == {"d": 40}
    finally:
        store.close()
        ahead.close()


def test_rows_read_ahead_of_no_store_or_closed_are_read_from_the_store(tmp_path: Path) -> None:
    from briefgen.build.store import ReadAhead

    path = tmp_path / "cache.sqlite"
    nothing = ReadAhead(path, ["a"])
    assert nothing.rows() is None
    assert not path.exists()  # read-only: no empty store made
    writer = Store(path)
    writer.write_state({"a": 1})
    writer.close()
    for ahead in (nothing, ReadAhead(path, ["a"])):
        ahead.close()
        assert ahead.rows() is None
        store = Store(path, read_ahead=ahead)
        try:
            assert store.read_states(["a"]) == {"a": 1}
        finally:
            store.close()


def rebuilt_as_clean(site: Path, output: Path, clean: Path, step: str,
                     now: dt.datetime | None = None) -> BuildResult:
    """A build into `output`, which must give what a clean build gives: the same files, the same
    warnings, the same counts of briefings left out."""
    result = build(site, BuildOptions(output=output, now=now))
    fresh = build(site, BuildOptions(output=clean, use_cache=False, now=now))
    assert tree(output) == tree(clean), step
    assert ((result.warnings, result.drafts_left_out, result.future_left_out)
            == (fresh.warnings, fresh.drafts_left_out, fresh.future_left_out)), step
    return result


def test_warnings_are_said_again_by_builds_that_skip_their_work_or_edit_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build's warnings are kept with its record and its snapshot: with a warning anywhere in a
    site, a build with nothing to do and an edit in place still cost what they change, and say
    the same warnings as a clean build. An edit of the file a warning is about, or of what a
    warning across files reads, makes a full build, which finds them again."""
    from briefgen.build import loading

    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    b0, b3 = site / "content/briefings/2020/b0.md", site / "content/briefings/2020/b3.md"
    replace_in(b3, 'title: "Briefing 3"', 'title: "Briefing 3"\nsumary: "a typo"')
    replace_in(b0, 'title: "Briefing 0"', 'title: "Briefing 0"\ndraft: true')  # b3 links to it

    def said(result: BuildResult) -> list[str]:
        return [str(problem) for problem in result.warnings]

    def rebuilt(step: str) -> BuildResult:
        return rebuilt_as_clean(site, output, tmp_path / "clean", step)

    first = rebuilt("first build")
    assert [w.split(" warning: ")[0] for w in said(first)] == [
        "content/briefings/2020/b3.md:3:1:", "content/briefings/2020/b3.md:12:17:"], said(first)
    assert "unknown key `sumary`" in said(first)[0] and "a draft" in said(first)[1]

    real_load = loading.load

    def load(*args: Any, **kwargs: Any) -> loading.Loaded:
        loads.append(1)
        return real_load(*args, **kwargs)

    loads: list[int] = []
    monkeypatch.setattr(loading, "load", load)
    skipped = rebuilt("nothing changed")
    assert skipped.rendered == 0 and said(skipped) == said(first) and loads == [1]  # the clean build's
    edit_briefing(site)  # b2, which no warning is about
    edited = rebuilt("another briefing edited")
    assert edited.in_place and edited.rendered > 0 and said(edited) == said(first)
    assert loads == [1, 1]
    # An edit that makes a warning of its own is a full build, which finds it.
    b2 = site / "content/briefings/2020/b2.md"
    replace_in(b2, 'title: "Briefing 2"', 'title: "Briefing 2"\ntopcis: [Gamma]')
    warned = rebuilt("a warning made by an edit")
    assert not warned.in_place and len(said(warned)) == 3
    assert "b2.md:3:1: warning: unknown key `topcis`" in said(warned)[0]
    replace_in(b2, 'topcis: [Gamma]\n', "")
    assert said(rebuilt("that warning fixed")) == said(first)

    # A line added above both: the full build says where they are now.
    replace_in(b3, 'title: "Briefing 3"', 'title: "Briefing 3"\ncurators: [Ann]')
    moved = rebuilt("the file with the warnings edited")
    assert not moved.in_place and [w.split(" warning: ")[0] for w in said(moved)] == [
        "content/briefings/2020/b3.md:4:1:", "content/briefings/2020/b3.md:13:17:"]
    # The draft published: the warning across files is gone with it.
    replace_in(b0, "draft: true\n", "")
    published = rebuilt("the linked draft published")
    assert not published.in_place and len(said(published)) == 1 and "sumary" in said(published)[0]
    replace_in(b3, 'sumary: "a typo"\n', "")
    assert said(rebuilt("the typo fixed")) == []
    assert build(site, BuildOptions(output=output)).rendered == 0


def test_a_record_whose_warnings_are_not_warnings_is_no_record(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    output = (tmp_path / "out").resolve()
    build(site, BuildOptions(output=output))
    cache_dir = site / ".briefgen-cache"
    last = memo.read_last_build(cache_dir, output)
    assert last is not None and last.warnings == ()
    kept = dataclasses.replace(last, warnings=(memo.warning("content/a.md", 2, 1, "a warning"),))
    memo.write_last_build(cache_dir, output, kept)
    assert memo.read_last_build(cache_dir, output) == kept
    stored = b'[["content/a.md", 2, 1, "a warning"]]'
    with sqlite3.connect(cache_dir / STORE) as connection:
        (record,) = connection.execute("SELECT record FROM builds WHERE output = ?",
                                       (str(output),)).fetchone()
        assert stored in record
        for damaged in (b'[["content/a.md", "2", 1, "a warning"]]', b'"a warning"',
                        b'[["content/a.md", 2, 1]]'):
            connection.execute("UPDATE builds SET record = ? WHERE output = ?",
                               (record.replace(stored, damaged), str(output)))
            connection.commit()
            assert memo.read_last_build(cache_dir, output) is None, damaged
        # Text, as earlier versions wrote it (the folders' times in the JSON): no record.
        connection.execute("UPDATE builds SET record = ? WHERE output = ?",
                           (record.partition(b"\n")[0].decode("utf-8"), str(output)))
        connection.commit()
        assert memo.read_build_record(cache_dir, output) is None
    connection.close()


def test_a_draft_left_out_is_edited_in_place_while_it_stays_a_draft(tmp_path: Path) -> None:
    """No file shows a draft the build leaves out, and a build checks no more of it than that it
    parses: an edit that keeps it a draft without a problem changes nothing in the output, and
    makes no full build. An edit that gives it a problem, or publishes it, makes one."""

    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    b7 = site / "content/briefings/2020/b7.md"
    replace_in(b7, 'title: "Briefing 7"', 'title: "Briefing 7"\ndraft: true')
    assert build(site, BuildOptions(output=output)).drafts_left_out == 1

    def rebuilt(step: str) -> BuildResult:
        return rebuilt_as_clean(site, output, tmp_path / "clean", step)

    replace_in(b7, "Second paragraph 7.", "A draft's second paragraph, rewritten.")
    edited = rebuilt("the draft's text edited")
    assert edited.in_place and edited.rendered == 0 and edited.drafts_left_out == 1
    replace_in(b7, "date: 2020-02-28", "date: 2031-02-28")  # a draft in the future is a draft
    replace_in(b7, "topics: [Alpha, Beta]", "topics: [Gamma]")
    assert rebuilt("the draft's date and topics changed").in_place
    replace_in(b7, "rewritten", "rewritten again")
    edit_briefing(site)
    both = rebuilt("the draft and a published briefing edited")
    assert both.in_place and both.rendered > 0

    replace_in(b7, "title: ", "title: [")  # YAML that does not parse: the build fails, the output stays
    before = tree(output)
    with pytest.raises(BuildFailed):
        build(site, BuildOptions(output=output))
    assert tree(output) == before
    replace_in(b7, "title: [", "title: ")
    assert not rebuilt("the draft mended").in_place
    replace_in(b7, "draft: true", "draft: true\ntopcis: [Alpha]")
    warned = rebuilt("a warning in the draft")
    assert not warned.in_place and "unknown key `topcis`" in str(warned.warnings[0])
    replace_in(b7, "topcis: [Alpha]\n", "")
    assert not rebuilt("the warning mended").in_place  # its file had a warning: a full build says it is gone
    replace_in(b7, "draft: true\n", "")
    replace_in(b7, "date: 2031-02-28", "date: 2020-02-28")
    published = rebuilt("the draft published")
    assert not published.in_place and published.drafts_left_out == 0
    page = tree(output)["2020/02/28/briefing-7/index.html"].decode()
    assert "rewritten again" in page and "/topics/gamma/" in page


def test_a_briefing_dated_in_the_future_is_edited_in_place_while_its_date_stays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A briefing left out until its date is shown by no file either: an edit of its text is taken
    in place, and the build after its date still publishes it. An edit of its date makes a full
    build, which knows when to publish it."""
    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    b7 = site / "content/briefings/2020/b7.md"
    replace_in(b7, "date: 2020-02-28", "date: 2031-02-28T09:00:00+00:00")
    assert build(site, BuildOptions(output=output)).future_left_out == 1

    def rebuilt(step: str, now: dt.datetime | None = None) -> BuildResult:
        return rebuilt_as_clean(site, output, tmp_path / "clean", step, now)

    replace_in(b7, "Second paragraph 7.", "A scheduled paragraph.")
    edited = rebuilt("its text edited")
    assert edited.in_place and edited.rendered == 0 and edited.future_left_out == 1
    replace_in(b7, "T09:00:00+00:00", "T08:00:00+00:00")  # an hour earlier
    moved = rebuilt("its date moved")
    assert not moved.in_place and moved.future_left_out == 1
    replace_in(b7, "A scheduled paragraph.", "A scheduled paragraph, edited again.")
    assert rebuilt("its text edited again").in_place
    # Its hour has come: the build publishes it, edited.
    due = rebuilt("its date come", now=dt.datetime(2031, 2, 28, 8, 30, tzinfo=dt.UTC))
    assert not due.in_place and due.future_left_out == 0
    assert "A scheduled paragraph, edited again." in tree(output)["2031/02/28/briefing-7/index.html"].decode()
    # A briefing in the future made a draft: a full build, which counts it as a draft.
    replace_in(b7, 'title: "Briefing 7"', 'title: "Briefing 7"\ndraft: true')
    drafted = rebuilt("made a draft")
    assert not drafted.in_place and (drafted.drafts_left_out, drafted.future_left_out) == (1, 0)
    # A draft stays out when its date comes: that changes nothing, and makes no build.
    from briefgen.build import loading

    monkeypatch.setattr(loading, "load", lambda *args, **kwargs: pytest.fail("a build for nothing"))
    later = build(site, BuildOptions(output=output, now=dt.datetime(2032, 1, 1, tzinfo=dt.UTC)))
    assert later.rendered == 0 and later.drafts_left_out == 1


def test_a_file_added_to_packed_content_goes_where_a_listing_puts_it() -> None:
    """Each kind's files together, by path, the kinds in the listing's order; a file of a kind
    none of the files is of goes after the kinds before its own."""
    from briefgen.build import inputs

    kinds = ("content/sources/", "content/briefings/", "content/pages/", "content/archive/")
    paths = ["content/sources/s.yaml", "content/briefings/2020/a.md", "content/briefings/2020/c.md",
             "content/briefings/2021/a.md", "content/archive/x.md"]
    packed = inputs.PackedContent.of({path: ((at,) * 4, f"{at:032x}") for at, path in enumerate(paths)})
    for added, place in (("content/briefings/2020/b.md", 2), ("content/briefings/2019/z.md", 1),
                         ("content/briefings/2022/a.md", 4), ("content/pages/about.md", 4),
                         ("content/sources/a.yaml", 0), ("content/archive/y.md", 5), ("elsewhere.md", 5)):
        changed = packed.with_changes({added: ((9, 9, 9, 9), "e" * 32)}, kinds)
        assert changed.paths == (*paths[:place], added, *paths[place:]), added
        assert changed[added] == ((9, 9, 9, 9), "e" * 32) and changed[paths[0]] == packed[paths[0]]
    taken = packed.with_changes({paths[2]: None, paths[3]: ((7, 7, 7, 7), "f" * 32),
                                 "content/briefings/2020/b.md": ((9, 9, 9, 9), "e" * 32)}, kinds)
    assert taken.paths == (paths[0], paths[1], "content/briefings/2020/b.md", paths[3], paths[4])
    assert dict(taken) == {paths[0]: packed[paths[0]], paths[1]: packed[paths[1]],
                           "content/briefings/2020/b.md": ((9, 9, 9, 9), "e" * 32),
                           paths[3]: ((7, 7, 7, 7), "f" * 32), paths[4]: packed[paths[4]]}


def test_briefings_left_out_come_and_go_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A draft added (what `briefgen new` writes), a briefing dated in the future added, or one the
    build left out deleted, changes no file: the build takes it in place, counts it, and after a
    future one's date publishes it. One to publish, one with a problem, and the deletion of a
    draft another briefing links to, are full builds, which say what a clean build says."""
    from briefgen.build import inputs, loading, snapshot
    from briefgen.config import load_config
    from briefgen.content import files
    from briefgen.scaffold import new_briefing

    # The content folders listed by each build are taken as they are at once: a folder changed
    # within the last three seconds is listed again by the next build, which then cannot tell
    # which of its files are new, and makes a full build (see the test after this one).
    monkeypatch.setattr(files, "SETTLED_NS", 0)
    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    build(site, BuildOptions(output=output))  # keeps the listing (the first build had no cache to keep it in)
    folder = site / "content/briefings/2020"

    def rebuilt(step: str, now: dt.datetime | None = None) -> BuildResult:
        return rebuilt_as_clean(site, output, tmp_path / "clean", step, now)

    before = tree(output)
    draft = new_briefing(load_config(site), "Talks on the corridor", ["Alpha"],
                         now=dt.datetime(2020, 3, 1, 9, tzinfo=dt.UTC))
    added = rebuilt("a draft added")
    assert added.in_place and added.rendered == 0 and added.drafts_left_out == 1
    assert tree(output) == before

    def in_listed_order() -> bool:
        """Whether the snapshot, its delta applied, has the content files in the order a build
        lists them: then an edit compares their stats at once, rather than path by path."""
        config = load_config(site)
        store = Store(config.cache_dir / STORE, writable=False)
        try:
            last = snapshot.read(store, str(output.resolve()))
        finally:
            store.close()
        found, _ = inputs.listed_content_stats(config, {})
        assert last is not None
        return inputs.PackedContent.of(last.loaded.content).joined == found.shown_joined(config.root)

    assert in_listed_order()
    (folder / "later.md").write_text(corpus_briefing("Later", "2031-05-01T09:00:00+00:00", "Beta",
                                                     "Due in May [@src-a]."), encoding="utf-8")
    scheduled = rebuilt("a briefing in the future added")
    assert scheduled.in_place and (scheduled.drafts_left_out, scheduled.future_left_out) == (1, 1)
    record = memo.read_last_build(site / ".briefgen-cache", output.resolve())
    assert record is not None and record.valid_until == dt.datetime(2031, 5, 1, 9, tzinfo=dt.UTC)
    replace_in(draft, "Write the briefing here.", "The talks resumed [@src-a].")
    edit_briefing(site)
    both = rebuilt("the new draft and a published briefing edited")
    assert both.in_place and both.rendered > 0 and both.drafts_left_out == 1
    # Nothing to do: not even a build in place.
    real_load = loading.load
    monkeypatch.setattr(loading, "load", lambda *args, **kwargs: pytest.fail("a build for nothing"))
    assert build(site, BuildOptions(output=output)).rendered == 0
    monkeypatch.setattr(loading, "load", real_load)
    draft.rename(folder / "renamed-draft.md")
    assert rebuilt("the draft renamed").in_place
    (folder / "renamed-draft.md").unlink()
    gone = rebuilt("the draft deleted")
    assert gone.in_place and (gone.drafts_left_out, gone.future_left_out) == (0, 1)
    assert in_listed_order()

    # One that would be published, or that has a problem to say: full builds. Which files are
    # added or gone, and whether a build left out the ones gone, is told without the snapshot.
    reads: list[str] = []
    real_read = snapshot.read
    monkeypatch.setattr(snapshot, "read", lambda store, at: reads.append(at) or real_read(store, at))
    (folder / "now.md").write_text(corpus_briefing("Now", "2020-03-02", "Beta", "Out today [@src-a]."),
                                   encoding="utf-8")
    published = rebuilt("a briefing added")
    assert not published.in_place and published.briefings == 13 and reads == []
    (folder / "b11.md").unlink()
    deleted = rebuilt("a briefing deleted")
    assert not deleted.in_place and deleted.briefings == 12 and reads == []
    monkeypatch.setattr(snapshot, "read", real_read)
    (folder / "typo.md").write_text(corpus_briefing("Typo", "2031-01-01", "Beta", "Soon [@src-a].")
                                    .replace("---\ntitle", "---\ntitel: x\ntitle"), encoding="utf-8")
    warned = rebuilt("a briefing in the future with a warning added")
    assert not warned.in_place and warned.future_left_out == 2 and "titel" in str(warned.warnings[0])
    (folder / "typo.md").unlink()
    assert not rebuilt("the file with a warning deleted").in_place
    # A draft a published briefing links to (b3 links to b0): its deletion makes that link an
    # error, which a full build says, leaving the output as it was.
    replace_in(folder / "b0.md", 'title: "Briefing 0"', 'title: "Briefing 0"\ndraft: true')
    assert not rebuilt("b0 made a draft").in_place
    kept = tree(output)
    (folder / "b0.md").unlink()
    with pytest.raises(BuildFailed) as failed:
        build(site, BuildOptions(output=output))
    assert "links to content/briefings/2020/b0.md" in str(failed.value.diagnostics[0])
    assert tree(output) == kept
    replace_in(folder / "b3.md", "See [the first](b0.md).", "")
    assert not rebuilt("the link taken out").in_place

    # Its day come, the briefing in the future is published.
    due = rebuilt("its date come", now=dt.datetime(2031, 5, 1, 10, tzinfo=dt.UTC))
    assert not due.in_place and due.future_left_out == 0
    assert "Due in May" in tree(output)["2031/05/01/later/index.html"].decode()


def test_a_build_that_publishes_drafts_publishes_one_added(tmp_path: Path) -> None:
    """With --drafts a draft is a briefing like another: one added is placed by a full build."""
    site = corpus_site(tmp_path)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, drafts=True))
    text = corpus_briefing("New", "2020-03-01", "Alpha", "A draft [@src-a].")
    (site / "content/briefings/2020/new.md").write_text(text.replace("---\n", "---\ndraft: true\n", 1),
                                                       encoding="utf-8")
    result = build(site, BuildOptions(output=output, drafts=True))
    assert not result.in_place and result.briefings == 7 and result.drafts_left_out == 0
    assert "2020/03/01/new/index.html" in tree(output)


def _into_new_folder(site: Path) -> None:
    (site / "content/briefings/2021").mkdir()
    (site / "content/briefings/2020/b5.md").rename(site / "content/briefings/2021/b5.md")


def _folder_removed(site: Path) -> None:
    (site / "content/briefings/2021/b5.md").rename(site / "content/briefings/2020/b5.md")
    (site / "content/briefings/2021").rmdir()


def _replaced_by_a_folder(site: Path) -> None:
    (site / "content/briefings/2020/b5.md").rename(site / "content/briefings/b5.md")
    (site / "content/briefings/2020/b5.md").mkdir()


# A change to the content, and the folders (under content/) whose times it changes: those alone a
# build lists again.
LISTING_CHANGES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "briefing edited": (edit_briefing, []),
    "briefing added": (add_briefing, ["briefings/2020"]),
    "briefing deleted": (delete_briefing, ["briefings/2020"]),
    "briefing renamed": (rename_briefing, ["briefings/2020"]),
    "briefing moved into a new folder": (_into_new_folder, ["briefings", "briefings/2020", "briefings/2021"]),
    "briefing moved out of a folder then removed": (_folder_removed, ["briefings", "briefings/2020"]),
    "briefing replaced by a folder of its name": (_replaced_by_a_folder,
                                                 ["briefings", "briefings/2020", "briefings/2020/b5.md"]),
    "page added": (lambda site: (site / "content/pages/more.md").write_text("---\ntitle: More\n---\nMore.\n"),
                   ["pages"]),
}


@pytest.mark.parametrize("name", list(LISTING_CHANGES))
def test_a_build_lists_again_only_the_content_folders_whose_times_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    from briefgen.content import files

    # Folders count as settled 50 ms after their last change, not three seconds.
    monkeypatch.setattr(files, "SETTLED_NS", 50_000_000)
    site = corpus_site(tmp_path)
    content = site / "content"
    output = tmp_path / "out"
    if name == "briefing moved out of a folder then removed":
        _into_new_folder(site)
    time.sleep(0.1)
    build(site, BuildOptions(output=output))
    assert memo.read_listing(site / ".briefgen-cache", content) == {}  # the first build makes the cache
    build(site, BuildOptions(output=output))
    listed: list[str] = []
    list_folder = files._list

    def listing(folder: str, endings: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
        listed.append(Path(folder).relative_to(content).as_posix())
        return list_folder(folder, endings)

    monkeypatch.setattr(files, "_list", listing)
    assert build(site, BuildOptions(output=output)).rendered == 0
    assert listed == []  # every folder as the last build listed it
    change, folders = LISTING_CHANGES[name]
    change(site)
    build(site, BuildOptions(output=output))
    assert sorted(listed) == folders
    assert tree(output) == clean_build(site, tmp_path / "clean")
    # Listed afresh moments after they changed, the folders are kept once they have settled
    # (see the test below): then a build lists none.
    time.sleep(0.1)
    assert build(site, BuildOptions(output=output)).rendered == 0
    listed.clear()
    assert build(site, BuildOptions(output=output)).rendered == 0
    assert listed == []


def test_a_content_folder_is_kept_listed_only_once_settled_and_never_with_a_link_in_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefgen.content import files

    site = corpus_site(tmp_path)
    cache = site / ".briefgen-cache"
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    build(site, BuildOptions(output=output))
    # Made a moment ago: a file added within the clock's tick might leave the times as they are.
    assert memo.read_listing(cache, site / "content") == {}
    monkeypatch.setattr(files, "SETTLED_NS", 50_000_000)
    elsewhere = tmp_path / "elsewhere.md"
    shutil.copy(site / "content/briefings/2020/b5.md", elsewhere)
    (site / "content/briefings/2020/b5.md").unlink()
    (site / "content/briefings/2020/linked.md").symlink_to(elsewhere)
    time.sleep(0.1)
    build(site, BuildOptions(output=output))
    kept = memo.read_listing(cache, site / "content")
    briefings = str(site / "content/briefings")
    assert briefings in kept and str(site / "content/pages") in kept
    assert briefings + os.sep + "2020" not in kept  # what the link names may change, its folder not
    assert kept[briefings][2:] == ("", "2020")
    # What the link names is edited: the folder's times stay, the build sees it.
    replace_in(elsewhere, "Second paragraph 5.", "Edited through a link.")
    build(site, BuildOptions(output=output))
    assert any(b"Edited through a link." in data for data in tree(output).values())
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_a_linked_folder_is_walked_as_a_folder_and_a_link_back_up_is_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefgen.content import files

    monkeypatch.setattr(files, "SETTLED_NS", 50_000_000)
    site = corpus_site(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "one.md").write_text(corpus_briefing("Shared one", "2021-05-01", "Alpha", "Shared [@src-a]."))
    (site / "content/briefings/2021").symlink_to(shared, target_is_directory=True)
    (shared / "back").symlink_to(site / "content/briefings", target_is_directory=True)  # a loop
    output = tmp_path / "out"
    assert build(site, BuildOptions(output=output)).briefings == 7
    assert list(output.glob("2021/05/01/shared-one/index.html"))
    time.sleep(0.1)
    # A briefing added to the linked folder, and one of its own edited: seen, as in any folder.
    (shared / "two.md").write_text(corpus_briefing("Shared two", "2021-05-02", "Beta", "Two [@src-a]."))
    replace_in(shared / "one.md", "Shared [@src-a].", "Edited where it lives [@src-a].")
    assert build(site, BuildOptions(output=output)).briefings == 8
    assert tree(output) == clean_build(site, tmp_path / "clean")
    assert any(b"Edited where it lives" in data for data in tree(output).values())


DAMAGED_LISTINGS: dict[str, Callable[[str, str], object]] = {
    "another content folder's": lambda content, folder: ("/another/content", {folder: (1, 2, "b0.md", "")}),
    "names not joined": lambda content, folder: (content, {folder: (1, 2, ("b0.md",), "")}),
    "a time not a number": lambda content, folder: (content, {folder: (1, "2", "b0.md", "")}),
    "short": lambda content, folder: (content, {folder: (1, 2, "b0.md")}),
    "not a dict": lambda content, folder: (content, [(folder, (1, 2, "b0.md", ""))]),
}


@pytest.mark.parametrize("damage", ["garbage", *DAMAGED_LISTINGS])
def test_a_damaged_listing_of_the_content_folders_is_no_listing(tmp_path: Path, damage: str) -> None:
    site = corpus_site(tmp_path)
    cache = site / ".briefgen-cache"
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    content = str(site / "content")
    row = (b"garbage" if damage == "garbage"
           else pickle.dumps(DAMAGED_LISTINGS[damage](content, content + "/briefings/2020")))
    _set_state(cache / STORE, "content-listing", row)
    assert memo.read_listing(cache, site / "content") == {}
    add_briefing(site)
    build(site, BuildOptions(output=output))
    assert tree(output) == clean_build(site, tmp_path / "clean")


@pytest.mark.parametrize("meeting", [False, True])
def test_content_files_packed_are_every_file_by_kind_and_path_with_its_stat(
        tmp_path: Path, meeting: bool) -> None:
    """inputs.ContentFiles, which keeps each folder's names and the stats' numbers packed, gives
    what discover_files lists, in its order, each with its own stat: also where a folder's files
    and its subfolders' meet (a subfolder named before a file), which the walk does not put in order."""
    from briefgen.build import inputs
    from briefgen.build.store import file_stat
    from briefgen.config import load_config

    site = corpus_site(tmp_path)
    deeper = site / ("content/briefings/2020/a-first" if meeting else "content/briefings/2020/later")
    deeper.mkdir()
    (site / "content/briefings/2020/b5.md").rename(deeper / "b5.md")
    (site / "content/pages/notes").mkdir()
    (site / "content/pages/about.md").rename(site / "content/pages/notes/about.md")
    config = load_config(site, None)
    found = inputs.content_stats(config)
    listed = discover_files(config)
    assert [(kind, path) for kind, path, _ in found] == listed and len(found) == len(listed) == 8
    assert [stat for _, _, stat in found] == [file_stat(path) for _, path in listed]
    assert [found[at] for at in range(-len(found), len(found))] == [*found, *found]
    assert found[2:4] == list(found)[2:4] and found.paths == [path for _, path in listed]
    shown = [Path(path).relative_to(site).as_posix() for _, path in listed]
    assert found.shown_joined(site) == "\0".join(shown)
    assert [found.shown_at(site, at) for at in range(len(found))] == shown
    assert (found.count_of("briefing"), found.count_of("page"), found.count_of("registry")) == (6, 1, 1)
    with pytest.raises(IndexError):
        found[len(found)]
    assert found == inputs.content_stats(config)

    digest = inputs.inputs_digest("settings", found)
    assert inputs.inputs_digest("settings", inputs.content_stats(config)) == digest
    (deeper / "b5.md").rename(deeper / "b6.md")  # a name changed
    assert inputs.inputs_digest("settings", inputs.content_stats(config)) != digest
    (deeper / "b6.md").rename(site / "content/briefings/2020/b6.md")  # the same name, another folder
    moved = inputs.inputs_digest("settings", inputs.content_stats(config))
    assert moved != digest
    os.utime(site / "content/briefings/2020/b6.md", ns=(1, 1))  # a time changed
    assert inputs.inputs_digest("settings", inputs.content_stats(config)) != moved


def test_stats_taken_from_the_root_are_those_taken_from_an_open_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where os.stat takes no folder descriptor (Windows), a build stats every path whole."""
    from briefgen.build import inputs, store
    from briefgen.config import load_config

    site = corpus_site(tmp_path)
    (site / "content/briefings/2020/deeper").mkdir()
    (site / "content/briefings/2020/b5.md").rename(site / "content/briefings/2020/deeper/b5.md")
    output = tmp_path / "out"
    build(site, BuildOptions(output=output))
    config = load_config(site, None)
    last = memo.read_last_build(site / ".briefgen-cache", output)
    assert last is not None
    in_folder = inputs.content_stats(config), memo.folder_times(output, last.folders)
    monkeypatch.setattr(store, "STAT_IN_FOLDER", False)
    whole = inputs.content_stats(config), memo.folder_times(output, last.folders)
    assert whole == in_folder and len(whole[0]) == 8 and whole[1] == last.folder_times
    assert [path for _, path, _ in whole[0]] == [path for _, path in discover_files(config)]
    assert build(site, BuildOptions(output=output)).rendered == 0  # the same digest: nothing to do
    (output / "about/index.html").unlink()
    assert memo.folder_times(output, last.folders) != last.folder_times
    build(site, BuildOptions(output=output))
    assert (output / "about/index.html").is_file()


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_output_file_deleted_by_hand_before_an_edit_makes_a_full_build_that_brings_it_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    """An edit in place asks whether the output is as the last build left it only once the edit
    is made (the output's folders are looked at meanwhile), but before it writes anything: a
    file deleted by hand makes a full build, which puts it back, as a clean build has it."""
    from briefgen.build.write import OutputWriter

    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=jobs))
    (output / "about/index.html").unlink()  # a page no edit of a briefing touches
    edit_briefing(site)
    committed: list[Path] = []
    commit_in_place = OutputWriter.commit_in_place

    def noted(writer: OutputWriter) -> None:
        committed.append(output)
        commit_in_place(writer)

    monkeypatch.setattr(OutputWriter, "commit_in_place", noted)
    result = build(site, BuildOptions(output=output, jobs=jobs))
    assert not result.in_place and not committed  # the edit wrote nothing before the full build
    assert tree(output) == clean_build(site, tmp_path / "clean")
    replace_in(site / "content/briefings/2020/b2.md", "An edited second paragraph.", "Edited again.")
    assert build(site, BuildOptions(output=output, jobs=jobs)).in_place and committed  # as left again
    assert tree(output) == clean_build(site, tmp_path / "clean")


def test_content_files_statted_from_both_ends_by_two_processes_are_those_one_process_stats(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build stats the content files from the first on in a forked copy and from the last back
    in its own process: the files, their order and their stats are those one process finds,
    whatever the size of the runs each side takes; a file that cannot be statted is named."""
    from briefgen.build import forked, inputs
    from briefgen.config import load_config

    site = corpus_site(tmp_path, count=60)
    (site / "content/briefings/2021").mkdir()
    for n in range(7):  # another folder, and a folder of one file
        (site / f"content/briefings/2020/b{n}.md").rename(site / f"content/briefings/2021/b{n}.md")
    (site / "content/briefings/2022").mkdir()
    (site / "content/briefings/2020/b9.md").rename(site / "content/briefings/2022/b9.md")
    config = load_config(site, None)
    alone = inputs.listed_content_stats(config, {}, fork=False)[0]
    assert len(alone) == 62  # 60 briefings, a page and a registry
    taken_by = tmp_path / "pids"
    stats_in = inputs._stats_in

    this = os.getpid()

    def noted(folder: str, names: tuple[str, ...], stats: Any) -> None:
        with taken_by.open("a", encoding="utf-8") as pids:
            pids.write(f"{os.getpid()} {len(names)}\n")
        if os.getpid() == this:
            time.sleep(0.02)  # the copy, just forked, gets its share, even on a busy machine
        stats_in(folder, names, stats)

    monkeypatch.setattr(inputs, "_stats_in", noted)
    sides = []
    for chunk in (4, 12, 40, 512):  # numbers a side takes at a time: 1, 3, 10 and 128 files
        monkeypatch.setattr(forked, "_CHUNK", chunk)
        taken_by.write_text("", encoding="utf-8")
        both = inputs.listed_content_stats(config, {}, fork=True)[0]
        assert both == alone and both.stats == alone.stats and both.paths == alone.paths
        sides.append(len({line.split()[0] for line in taken_by.read_text(encoding="utf-8").splitlines()}))
    # Both sides took runs, at least where the runs are many; a copy slow to start on a busy
    # machine may find none left where they are few, and that is no failure.
    assert 2 in sides[:2], sides
    discover = inputs.discover_listed

    def with_a_ghost(*args: Any) -> Any:
        groups, listing = discover(*args)
        kind, folders = groups[0]
        folder, names = folders[0]
        return [(kind, [(folder, (*names, "gone.md")), *folders[1:]]), *groups[1:]], listing

    monkeypatch.setattr(inputs, "discover_listed", with_a_ghost)
    # Kept, with a stat of zeros no cache knows: reading it reports it, beside every other problem.
    found = inputs.listed_content_stats(config, {}, fork=True)[0]
    (ghost,) = [(path, stat) for _, path, stat in found if path.endswith("gone.md")]
    assert ghost[0] == str(site / "content/sources/gone.md") and not any(ghost[1])
    assert [entry for entry in found if not entry[1].endswith("gone.md")] == list(alone)


def test_names_many_briefings_share_are_held_once_in_a_batch_of_parsed_files() -> None:
    """Topics, source ids and cited ids are interned as parsed: a batch of parsed files pickled
    (as a worker sends them, and as the cache keeps them) holds each name once."""
    from briefgen.content.markup import Converter
    from briefgen.content.records import parse_briefing

    converter = Converter()
    docs = []
    for n in range(2):
        text = corpus_briefing(f"Briefing {n}", f"2020-01-1{n}", "Alpha", f"Text {n} cites [@src-a].")
        doc, problems = parse_briefing(f"content/briefings/2020/b{n}.md", text.encode(), converter)
        assert doc is not None and not problems
        docs.append(doc)
    first, second = pickle.loads(pickle.dumps(docs, protocol=pickle.HIGHEST_PROTOCOL))
    assert first.topics == second.topics == ("Alpha",) and first.topics[0] is second.topics[0]
    assert first.source_ids == second.source_ids and first.source_ids[0] is second.source_ids[0]
    assert first.body.cited_ids[0] is second.body.cited_ids[0] is second.source_ids[0]


@pytest.mark.parametrize("first_a_file", [True, False])
def test_a_static_file_that_becomes_a_folder_or_the_reverse(tmp_path: Path, first_a_file: bool) -> None:
    """The stale file or folder is out of the way before the new one is put in place: the
    build completes, as a clean one, and leaves no staging folder behind."""
    site = make_site(tmp_path, {"content/briefings/a.md": "---\ntitle: One\ndate: 2016-08-02\n---\nText.\n"})
    static = site / "static"
    static.mkdir()

    def as_file() -> None:
        shutil.rmtree(static / "downloads", ignore_errors=True)
        (static / "downloads").write_text("a file\n", encoding="utf-8")

    def as_folder() -> None:
        (static / "downloads").unlink(missing_ok=True)
        (static / "downloads").mkdir()
        (static / "downloads" / "a.txt").write_text("in a folder\n", encoding="utf-8")

    steps = [as_file, as_folder] if first_a_file else [as_folder, as_file]
    for step in steps:
        step()
        build_ok(site)
    build_ok(site, "--no-cache", "--output", tmp_path / "clean")
    assert tree_bytes(tmp_path / "clean") == tree_bytes(site / "output")
    assert not [p.name for p in site.iterdir() if "briefgen-new" in p.name]
