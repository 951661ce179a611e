"""The live preview's build session: rebuilds in memory equal fresh builds."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2
import pytest
from conftest import corpus_briefing, corpus_site, noting_checks, replace_in, tree

from briefgen.build.fingerprint import Fingerprints
from briefgen.build.loading import load
from briefgen.build.options import BuildOptions
from briefgen.build.pipeline import build
from briefgen.build.rendering import first_to_render
from briefgen.build.write import MARKER
from briefgen.diagnostics import BuildFailed
from briefgen.render.renderer import Renderer
from briefgen.serve import session as session_module
from briefgen.serve.session import Session
from briefgen.site.kinds import BRIEFING, HOME, TOPIC, PageKind
from briefgen.site.plan import Origin, PageSpec


def fresh_pages(site: Path) -> dict[str, bytes]:
    session = Session(site, BuildOptions(drafts=True))
    session.rebuild()
    return dict(session.pages)


@pytest.fixture
def session(tmp_path: Path) -> Session:
    site = corpus_site(tmp_path, count=30)
    session = Session(site, BuildOptions(drafts=True))
    session.rebuild()
    return session


def path_of(session: Session, n: int) -> Path:
    return session.root / f"content/briefings/2020/b{n}.md"


def test_a_body_edit_renders_only_the_pages_showing_that_text(session: Session) -> None:
    target = path_of(session, 20)
    replace_in(target, "Second paragraph 20.", "A rewritten paragraph.")
    result = session.rebuild([target])
    # Its page, the feeds if it is among the newest, its search document, and the search index's
    # shards, filters and meta.json (which show every text), of which only a few change.
    index_files = [name for name in session.pages
                   if name.startswith("search/") and not name.startswith(("search/docs/", "search/index"))]
    assert result.rendered <= 5 + len(index_files)
    # The document, meta.json, and the shards of the four words whose counts changed, at most.
    assert len([name for name in result.changed_files if name.startswith("search/")]) <= 6
    assert any(b"A rewritten paragraph." in data for data in session.pages.values())
    assert dict(session.pages) == fresh_pages(session.root)


def test_a_second_save_makes_the_saved_briefings_feed_entry_alone(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save of a briefing makes the feeds of its topics again. The preview keeps the entries it
    made of the other briefings those feeds carry, whose pages show what they showed: the next
    save makes the saved briefing's entry alone. The pages stay a fresh preview's."""
    from briefgen.render import feeds

    made: list[str] = []
    real = feeds.atom_entry

    def atom_entry(entry: feeds.FeedEntry) -> feeds.AtomEntry:
        made.append(entry.view.title)
        return real(entry)

    monkeypatch.setattr(feeds, "atom_entry", atom_entry)
    target = path_of(session, 27)  # of topic Beta, whose feed carries its fifteen briefings
    replace_in(target, "Second paragraph 27.", "A rewritten paragraph.")
    session.rebuild([target])
    assert "Briefing 27" in made and len(made) > 1  # the feed's other entries, made once
    made.clear()
    replace_in(target, "A rewritten paragraph.", "Rewritten again.")
    session.rebuild([target])
    assert made == ["Briefing 27"]
    assert dict(session.pages) == fresh_pages(session.root)


def test_a_briefing_that_comes_due_is_shown_at_the_next_save(tmp_path: Path) -> None:
    site = corpus_site(tmp_path, count=6)
    due = dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)
    (site / "content/briefings/2020/later.md").write_text(
        corpus_briefing("Comes due", "2030-01-01T12:00:00+00:00", "Alpha", "Due [@src-a]."))
    session = Session(site, BuildOptions(now=due - dt.timedelta(hours=1)))
    session.rebuild()
    assert not any(b"Comes due" in data for data in session.pages.values())
    session.options = replace(session.options, now=due + dt.timedelta(minutes=1))
    target = site / "content/briefings/2020/b2.md"
    replace_in(target, "Second paragraph 2.", "An edit after it came due.")
    session.rebuild([target])
    later = Session(site, BuildOptions(now=due + dt.timedelta(minutes=1)))
    later.rebuild()
    assert any(b"Comes due" in data for data in session.pages.values())
    assert dict(session.pages) == dict(later.pages)


def test_a_title_edit_updates_every_page_listing_it(session: Session) -> None:
    target = path_of(session, 7)
    replace_in(target, 'title: "Briefing 7"', 'title: "Briefing seven, retitled"')
    session.rebuild([target])
    assert dict(session.pages) == fresh_pages(session.root)
    listing = [name for name, data in session.pages.items() if b"Briefing seven, retitled" in data]
    assert len(listing) > 3


def test_a_change_to_many_pages_renders_a_few_at_once_and_the_others_when_asked_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("briefgen.serve.session.RENDERED_AT_ONCE", 3)
    site = corpus_site(tmp_path, count=12)
    session = Session(site, BuildOptions(drafts=True))
    session.rebuild()
    rendered = _count_renders(monkeypatch)
    template = site / "templates/briefing.html"
    replace_in(template, "{% block content %}", "{% block content %}<p>Edited template.</p>")
    result = session.rebuild([template])
    briefing_pages = [name for name in session.pages if name.startswith("2020/")
                      and name.count("/") == 4 and name.endswith("/index.html")]
    assert len(briefing_pages) == 12
    assert result.rendered == len(rendered) == 3
    assert set(briefing_pages) <= result.changed_files, "a page not rendered yet counts as changed"
    # Pages left unrendered are carried through an in-place edit and a full rebuild...
    edited = path_of(session, 5)
    replace_in(edited, "Second paragraph 5.", "A rewritten paragraph.")
    session.rebuild([edited])
    new = site / "content/briefings/2020/new.md"
    new.write_text("---\ntitle: Fresh\ndate: 2020-05-01\n---\nNew text [@src-b].\n", encoding="utf-8")
    added = session.rebuild([new])
    assert added.rendered < len(added.changed_files)  # one page of each kind it changes
    # ...and rendered when read, once, as a build makes them.
    before = len(rendered)
    pages = dict(session.pages)
    on_reading = rendered[before:]
    assert len(on_reading) > 12 and len(on_reading) == len(set(on_reading))
    assert dict(session.pages) == pages and len(rendered) == before + len(on_reading)
    assert pages == _outcome_of_build(site, tmp_path / "out")[1]


def test_a_template_edit_keeps_the_model_and_fingerprints_only_the_files_made_with_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=12)
    session = Session(site, BuildOptions(drafts=True))
    session.rebuild()
    loads: list[object] = []
    monkeypatch.setattr("briefgen.serve.session.load", lambda *a, **k: loads.append(a) or load(*a, **k))
    printed: list[str] = []
    fingerprint_of = Fingerprints.of

    def counted(self: Fingerprints, spec: PageSpec) -> str:
        printed.append(spec.kind.name)
        return fingerprint_of(self, spec)

    monkeypatch.setattr(Fingerprints, "of", counted)
    template = site / "templates/briefing.html"
    replace_in(template, "{% block content %}", "{% block content %}<p>Edited template.</p>")
    session.rebuild([template])
    assert loads == [] and set(printed) == {"briefing"}
    assert dict(session.pages) == _outcome_of_build(site, tmp_path / "out")[1]
    # A language catalog beside the templates: every file's fingerprint changes, not the model.
    catalog = site / "templates/i18n/en.toml"
    catalog.parent.mkdir()
    # Its strings too: the default theme's constant ones are written into compiled templates.
    catalog.write_text('[formats]\ndate = "y-MM-dd"\n[strings]\n"Skip to content" = "To the text"\n',
                       encoding="utf-8")
    assert "2020/01/index.html" in session.rebuild([catalog]).changed_files
    assert b">To the text</a>" in session.pages["index.html"]
    assert loads == []
    assert dict(session.pages) == _outcome_of_build(site, tmp_path / "catalog")[1]
    # Then an edit in place, a new briefing and a template edit again, each as a build makes them.
    edited = path_of(session, 5)
    replace_in(edited, "Second paragraph 5.", "A rewritten paragraph.")
    session.rebuild([edited])
    new = site / "content/briefings/2020/new.md"
    new.write_text("---\ntitle: Fresh\ndate: 2020-05-01\n---\nNew text [@src-b].\n", encoding="utf-8")
    session.rebuild([new])
    assert len(loads) == 1
    replace_in(template, "<p>Edited template.</p>", "<p>Edited again.</p>")
    session.rebuild([template])
    assert len(loads) == 1
    assert dict(session.pages) == _outcome_of_build(site, tmp_path / "last")[1]
    # A theme's static file is not a template: the model is made again.
    static = site / "static/extra.css"
    static.parent.mkdir(exist_ok=True)
    static.write_text("p { color: red; }\n", encoding="utf-8")
    session.rebuild([static])
    assert len(loads) == 2
    assert dict(session.pages) == _outcome_of_build(site, tmp_path / "static")[1]


def test_the_preview_compiles_a_template_again_only_once_it_is_edited(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=4)
    session = Session(site, BuildOptions(drafts=True, use_cache=False))
    compiled: list[str | None] = []
    parsed: list[str | None] = []  # parsed to find what each template includes (fingerprint.py)
    compile_template, parse_template = jinja2.Environment.compile, jinja2.Environment.parse

    def counted(self: jinja2.Environment, source: Any, name: str | None = None, *args: Any, **kw: Any) -> Any:
        compiled.append(name)
        return compile_template(self, source, name, *args, **kw)

    def counted_parse(self: jinja2.Environment, source: str, name: str | None = None, *args: Any) -> Any:
        parsed.append(name)
        return parse_template(self, source, name, *args)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    monkeypatch.setattr(jinja2.Environment, "parse", counted_parse)
    session.rebuild()
    assert "briefing.html" in compiled and "home.html" in compiled and parsed
    new = site / "content/briefings/2020/new.md"
    new.write_text("---\ntitle: Fresh\ndate: 2020-05-01\n---\nNew text [@src-b].\n", encoding="utf-8")
    compiled.clear()
    parsed.clear()
    session.rebuild([new])  # a full rebuild: a new environment, the same templates
    assert compiled == [] and parsed == []
    template = site / "templates/briefing.html"
    replace_in(template, "{% block content %}", "{% block content %}<p>Edited template.</p>")
    session.rebuild([template])
    assert compiled == ["briefing.html"] and parsed
    assert dict(session.pages) == _outcome_of_build(site, tmp_path / "out")[1]


def test_the_pages_rendered_at_once_are_one_of_each_kind_then_briefings_then_in_order() -> None:
    def spec(kind: PageKind, n: int) -> tuple[PageSpec, str]:
        return PageSpec(f"{kind.name}/{n}", kind, (n,), Origin("test")), ""

    jobs = [spec(HOME, 1), spec(HOME, 2), spec(BRIEFING, 1), spec(BRIEFING, 2), spec(TOPIC, 1),
            spec(BRIEFING, 3), spec(TOPIC, 2)]
    names = [[job[0].rel for job in part] for part in first_to_render(jobs, 5)]
    assert names == [["home/1", "briefing/1", "briefing/2", "topic/1", "briefing/3"], ["home/2", "topic/2"]]
    assert first_to_render(jobs, 2)[0] == [jobs[0], jobs[2], jobs[4]], "one of each kind, past the count"
    assert first_to_render(jobs, 7) == (jobs, [])


@pytest.mark.parametrize("use_cache", [True, False], ids=["a build's cache", "no cache"])
def test_a_preview_finds_related_briefings_again_only_around_a_new_briefing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_cache: bool) -> None:
    """Its read-only cache remembers the last table of related briefings, as a build's keeps it."""
    from briefgen.build import loading

    site = corpus_site(tmp_path, count=12)
    if use_cache:
        build(site, BuildOptions(output=tmp_path / "built"))
    session = Session(site, BuildOptions(drafts=True, jobs=1, use_cache=use_cache))
    session.rebuild()
    every: list[int] = []
    all_related = loading._all_related
    monkeypatch.setattr(loading, "_all_related", lambda site: every.append(1) or all_related(site))
    for step in range(2):
        new = site / f"content/briefings/2020/new{step}.md"
        new.write_text(corpus_briefing(f"Fresh {step}", "2020-05-01", "Beta", "New text [@src-b]."),
                       encoding="utf-8")
        session.rebuild([new])
    assert every == []
    assert dict(session.pages) == fresh_pages(site)


def test_new_and_deleted_files(session: Session) -> None:
    new = session.root / "content/briefings/2020/new.md"
    new.write_text("---\ntitle: Fresh\ndate: 2020-05-01\n---\nNew text [@src-b].\n", encoding="utf-8")
    assert session.rebuild([new]).briefings == 31
    assert dict(session.pages) == fresh_pages(session.root)
    new.unlink()
    assert session.rebuild([new]).briefings == 30
    assert dict(session.pages) == fresh_pages(session.root)


def test_a_large_previews_new_briefing_reloads_the_pages_before_every_file_is_compared(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past COMPARED_LATER_FROM files (here, from the first), a rebuild that changes the model
    renders one page of each kind and the search index's changed files, and the others when asked
    for; every file's fingerprint is found in a thread afterwards, and the next save, an edit, is
    then taken in place from what it found. Every step's pages are a fresh preview's."""
    site = corpus_site(tmp_path, count=30)
    session = Session(site, BuildOptions(drafts=True), compared_later_from=0)
    session.rebuild()
    kinds = {spec.kind for spec in session._last.loaded.plan} if session._last else set()
    # The comparison is held until the pages have been read, and the session tidied up.
    gate = threading.Event()
    of_plan = Fingerprints.of_plan

    def held(self: Fingerprints, *args: Any, **kwargs: Any) -> Any:
        assert gate.wait(30), "the test to let the comparison go"
        return of_plan(self, *args, **kwargs)

    monkeypatch.setattr(Fingerprints, "of_plan", held)
    new = site / "content/briefings/2020/new.md"
    new.write_text(corpus_briefing("Fresh one", "2020-05-01", "Beta", "New text [@src-b]."), encoding="utf-8")
    added = session.rebuild([new])
    assert not added.compared and added.briefings == 31
    search_files = sum(name.startswith("search/") for name in session.pages)
    assert added.rendered <= len(kinds) + search_files
    # Every page but those rendered counts as changed: every open page reloads.
    assert len(added.changed_files) >= len(session.pages) - added.rendered
    pages = dict(session.pages)  # rendered while the comparison waits
    assert not session.settle(), "nothing is tidied while the comparison runs"
    gate.set()
    monkeypatch.undo()
    assert pages == fresh_pages(site)

    loads = _count_loads(monkeypatch)
    target = _brief(site, 20)
    replace_in(target, "Second paragraph 20.", "An edit after the new briefing.")
    edited = session.rebuild([target])
    assert loads == [], "the edit is taken in place, from the comparison's baseline"
    assert edited.compared and edited.rendered < 20
    assert dict(session.pages) == fresh_pages(site)

    new.unlink()
    deleted = session.rebuild([new])
    assert not deleted.compared and deleted.briefings == 30
    # Nothing is tidied while the comparison runs; the next rebuild takes what it made.
    while not session.settle():
        time.sleep(0.01)
    loads.clear()
    replace_in(target, "An edit after the new briefing.", "A second edit.")
    assert session.rebuild([target]).compared
    assert loads == []
    assert dict(session.pages) == fresh_pages(site)

    # A template edit keeps the model: the files made with that template are compared later.
    template = site / "templates/briefing.html"
    replace_in(template, "{% block content %}", "{% block content %}<p>A marked page.</p>")
    loads.clear()
    templated = session.rebuild([template])
    assert not templated.compared and loads == []
    assert all(name in templated.changed_files for name in session.pages
               if name.startswith("2020/") and name.count("/") == 4)  # the briefings' pages
    assert "index.html" not in templated.changed_files  # the home page's template is unchanged
    replace_in(target, "A second edit.", "A third edit.")
    assert session.rebuild([target]).compared
    assert loads == []
    assert dict(session.pages) == fresh_pages(site)


def test_a_comparison_that_fails_is_reported_by_the_next_rebuild_which_then_starts_afresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=12)
    session = Session(site, BuildOptions(drafts=True), compared_later_from=0)
    session.rebuild()

    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a fault in finding the fingerprints")

    monkeypatch.setattr(Fingerprints, "of_plan", failing)
    new = site / "content/briefings/2020/new.md"
    new.write_text(corpus_briefing("Fresh one", "2020-05-01", "Beta", "New text [@src-b]."), encoding="utf-8")
    assert not session.rebuild([new]).compared
    monkeypatch.undo()
    target = _brief(site, 5)
    replace_in(target, "Second paragraph 5.", "An edit after the fault.")
    with pytest.raises(RuntimeError, match="a fault in finding the fingerprints"):
        session.rebuild([target])
    session.rebuild([target])  # a fresh start: every file read and compared again
    assert dict(session.pages) == fresh_pages(site)


def test_a_preview_started_after_a_build_checks_only_the_briefings_that_build_did_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=12)
    _with_archive(site)
    build(site, BuildOptions(jobs=1))
    checked = noting_checks(monkeypatch)
    session = Session(site, BuildOptions())
    session.rebuild()
    # A briefing added: the preview's first full rebuild, which checks that one alone.
    result = session.rebuild(_quoting_briefing_added(site))
    assert checked == ["content/briefings/2020/quoting.md"]
    assert any("nothing of the kind" in str(w) for w in result.warnings)
    assert dict(session.pages) == fresh_pages(site)


def test_a_full_rebuild_checks_against_the_archives_only_the_briefings_it_has_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    site = corpus_site(tmp_path, count=12)
    _with_archive(site)
    checked = noting_checks(monkeypatch)
    session = Session(site, BuildOptions(drafts=True))
    session.rebuild()
    assert len(checked) == 12
    checked.clear()
    # A briefing added: a full rebuild, which checks that one alone.
    added = _quoting_briefing_added(site)
    result = session.rebuild(added)
    assert checked == ["content/briefings/2020/quoting.md"]
    added_digest = next(key[1] for key in session._checks._checked if key[0].endswith("quoting.md"))
    assert any("nothing of the kind" in str(w) for w in result.warnings)
    # Its quotation corrected, in the same save as a topic added elsewhere (a full rebuild).
    checked.clear()
    replace_in(added[0], "nothing of the kind", "archived paragraph 4")
    changed = [*added, *_front(2, "topics: [Alpha]", "topics: [Alpha, Gamma]")(site)]
    result = session.rebuild(changed)
    assert sorted(checked) == ["content/briefings/2020/b2.md", "content/briefings/2020/quoting.md"]
    assert not result.warnings
    # Only the checks of the briefings as they are now are kept, none of an earlier save's.
    kept = session._checks._checked
    assert len(kept) == 13 and ("content/briefings/2020/quoting.md", added_digest) not in kept
    # The archive and a briefing in one save: every briefing against the archive as it is now.
    checked.clear()
    session.rebuild([*_archive_edit(site), *_front(2, "topics: [Alpha, Gamma]", "topics: [Alpha]")(site)])
    assert len(checked) == 13
    assert dict(session.pages) == fresh_pages(site)


def test_a_new_folder_of_briefings(session: Session) -> None:
    folder = session.root / "content/briefings/2021"
    folder.mkdir()
    (folder / "x.md").write_text("---\ntitle: Later\ndate: 2021-01-01\n---\nText.\n", encoding="utf-8")
    assert session.rebuild([folder]).briefings == 31


def test_a_broken_save_keeps_the_last_good_pages(session: Session) -> None:
    before = dict(session.pages)
    target = path_of(session, 3)
    good = target.read_text(encoding="utf-8")
    target.write_text(good.replace("[@src-a]", "[@missing]"), encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        session.rebuild([target])
    assert any("content/briefings/2020/b3.md" in str(d) for d in failed.value.diagnostics)
    assert dict(session.pages) == before
    target.write_text(good.replace("Second paragraph 3.", "Fixed."), encoding="utf-8")
    session.rebuild([target])
    assert dict(session.pages) == fresh_pages(session.root)


def test_swap_files_are_not_content(session: Session) -> None:
    swap = session.root / "content/briefings/2020/.b3.md.swp"
    swap.write_bytes(b"\x00binary swap data")
    backup = session.root / "content/briefings/2020/b3.md~"
    backup.write_text("---\nnot: valid\n", encoding="utf-8")
    result = session.rebuild([swap, backup])
    assert result.briefings == 30


# ---------------------------------------------------------------- preview equals build
#
# For every kind of front-matter field, template error and warning: after the edit,
# the preview's rebuild shows exactly the files, errors and warnings that
# `build --drafts` gives for the same files.

Edit = Callable[[Path], list[Path]]


def _brief(site: Path, n: int) -> Path:
    return site / f"content/briefings/2020/b{n}.md"


def _front(n: int, old: str, new: str) -> Edit:
    """Replace text in briefing n (in its front matter or body)."""
    def edit(site: Path) -> list[Path]:
        replace_in(_brief(site, n), old, new)
        return [_brief(site, n)]
    return edit


def _add_key(n: int, line: str) -> Edit:
    return _front(n, "sources: [src-a]\n", f"sources: [src-a]\n{line}\n")


def _template(old: str, new: str) -> Edit:
    def edit(site: Path) -> list[Path]:
        replace_in(site / "templates/briefing.html", old, new)
        return [site / "templates/briefing.html"]
    return edit


def _then(*edits: Edit) -> Edit:
    def edit(site: Path) -> list[Path]:
        return [path for step in edits for path in step(site)]
    return edit


def _nothing(site: Path) -> list[Path]:
    return []


def _archive(site: Path) -> list[Path]:
    """An archived copy of src-b, whose paragraphs the corpus's `para. N` locators cite."""
    paragraphs = "\n\n".join(f"{n}. Archived paragraph {n} of the second article." for n in range(1, 13))
    path = site / "content/archive/src-b.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\nid: src-b\nurl: https://example.org/b\ntitle: Second article\n"
                    "publisher: Weekly Two\naccessed: 2020-03-01T00:00:00Z\nsha256: 00\n"
                    f"captured_from: text-file\n---\n{paragraphs}\n", encoding="utf-8")
    return [path]


def _with_archive(site: Path) -> list[Path]:
    return [*_archive(site), *_front(0, "para. 0]", "para. 1]")(site)]


def _third_source(site: Path) -> list[Path]:
    """A third source of the first one's publisher, which no briefing cites yet."""
    registry = site / "content/sources/registry.yaml"
    registry.write_text(registry.read_text("utf-8") + '- id: src-c\n  title: "Third article"\n'
                        "  publisher: Daily One\n  url: https://example.org/c\n", "utf-8")
    return [registry]


def _quoting_briefing_added(site: Path) -> list[Path]:
    """A new briefing quoting src-b's archive, one quotation in it and one not: a full rebuild."""
    path = site / "content/briefings/2020/quoting.md"
    path.write_text(corpus_briefing("Quoting", "2020-02-03", "Alpha",
                                    'They wrote "archived paragraph 3" [@src-b, para. 3]. '
                                    'And "nothing of the kind" [@src-b].'), "utf-8")
    return [path]


def _archive_edit(site: Path) -> list[Path]:
    replace_in(site / "content/archive/src-b.md", "5. Archived paragraph 5", "5. Rewritten paragraph 5")
    return [site / "content/archive/src-b.md"]


READS_REGION = _template("{% block content %}",
                         "{% block content %}{% if briefing.title == 'Briefing 4' %}"
                         "<p>{{ briefing.extra.region }}</p>{% endif %}")

# name: (setup before the preview starts, the edit the preview sees)
CASES: dict[str, tuple[Edit, Edit]] = {
    "body text only": (_nothing, _front(5, "Second paragraph 5.", "A rewritten paragraph.")),
    "title": (_nothing, _front(5, 'title: "Briefing 5"', 'title: "Briefing five"')),
    "date, same day": (_nothing, _front(5, "date: 2020-02-14", "date: 2020-02-14T08:30:00+00:00")),
    "date, another month": (_nothing, _front(5, "date: 2020-02-14", "date: 2020-03-20")),
    "topics": (_nothing, _front(5, "topics: [Alpha, Beta]", "topics: [Alpha, Beta, Gamma]")),
    "summary": (_nothing, _add_key(5, "summary: A summary of its own.")),
    "listed source": (_nothing, _front(5, "sources: [src-a]", "sources: [src-a, src-b]")),
    "inline source": (_nothing, _front(5, "sources: [src-a]\n",
                                       "sources:\n  - src-a\n  - id: inline-c\n    title: Third\n"
                                       "    publisher: Daily One\n    url: https://example.org/c\n")),
    "draft": (_nothing, _add_key(5, "draft: true")),
    "slug": (_nothing, _add_key(5, "slug: a-slug-of-its-own")),
    "updated": (_nothing, _add_key(5, "updated: 2020-02-20")),
    "curators": (_nothing, _add_key(5, "curators: [A. Editor]")),
    "extra key": (_nothing, _add_key(5, "region: Levant")),
    "future date": (_nothing, _front(5, "date: 2020-02-14", "date: 2999-01-01")),
    "a citation added": (_nothing, _front(5, "Second paragraph 5.", "Second paragraph [@src-b].")),
    "a citation taken out": (_nothing, _front(5, "More [@src-b, para. 5].", "More.")),
    "a source of a known publisher cited": (_third_source, _front(5, "Second paragraph 5.", "C [@src-c].")),
    "a link added": (_nothing, _front(5, "Second paragraph 5.", "See [one](b1.md).")),
    "error: unknown source cited": (_nothing, _front(5, "Second paragraph 5.", "Cites [@nowhere].")),
    "error: link to a missing file": (_nothing, _front(5, "Second paragraph 5.", "See [x](gone.md).")),
    "error: broken front matter": (_nothing, _front(5, "topics: [Alpha, Beta]", "topics: [Alpha, Beta")),
    "error: a key the template reads removed": (
        _then(_add_key(4, "region: Levant"), READS_REGION), _front(4, "region: Levant\n", "")),
    "error: template syntax": (_nothing, _template("{% block content %}", "{% block content %}{% if %}")),
    "error: template includes a missing file": (
        _nothing, _template("{% block content %}", '{% block content %}{% include "nowhere.html" %}')),
    "error: template fails while rendering": (
        _nothing, _template("{% block content %}", "{% block content %}{{ briefing.no_such_field }}")),
    "archive edited": (_with_archive, _archive_edit),
    "locator moved within the archive": (_with_archive, _front(5, "para. 5]", "para. 7]")),
    "error: locator past the archive": (_with_archive, _front(5, "para. 5]", "para. 40]")),
    "warning appears: quotation not in the archive": (
        _with_archive, _front(5, "Second paragraph 5.", 'They said "nothing like this" [@src-b, para. 2].')),
    "quotation found in the archive": (
        _with_archive,
        _front(5, "Second paragraph 5.", 'They wrote "archived paragraph 2" [@src-b, para. 2].')),
    "warning appears: a briefing added with a misquotation": (_with_archive, _quoting_briefing_added),
    "warning appears: link to a future briefing": (
        _nothing, _then(_front(1, "date: 2020-01-17", "date: 2999-01-01"),
                        _front(5, "Second paragraph 5.", "See [one](b1.md)."))),
    "warning appears: a likely typo": (_nothing, _add_key(5, "topic: Gamma")),
    "warning fixed": (_add_key(5, "topic: Gamma"), _front(5, "topic: Gamma\n", "")),
    "warning kept while its file is edited": (
        _add_key(5, "topic: Gamma"), _front(5, "Second paragraph 5.", "Another second paragraph.")),
}


def _outcome_of_build(site: Path, output: Path) -> tuple[str, object, list[str]]:
    try:
        result = build(site, BuildOptions(output=output, drafts=True, use_cache=False))
    except BuildFailed as failed:
        return "failed", None, sorted(str(d) for d in failed.diagnostics)
    files = tree(output)
    files.pop(MARKER)
    return "built", files, sorted(str(d) for d in result.warnings)


def _outcome_of_preview(session: Session, changed: list[Path]) -> tuple[str, object, list[str]]:
    try:
        result = session.rebuild(changed)
    except BuildFailed as failed:
        return "failed", None, sorted(str(d) for d in failed.diagnostics)
    return "built", dict(session.pages), sorted(str(d) for d in result.warnings)


@pytest.mark.parametrize("compared_later_from", [session_module.COMPARED_LATER_FROM, 0],
                         ids=["compared at once", "compared later"])
@pytest.mark.parametrize("name", CASES)
def test_preview_equals_build(tmp_path: Path, name: str, compared_later_from: int) -> None:
    setup, edit = CASES[name]
    site = corpus_site(tmp_path, count=12)
    setup(site)
    session = Session(site, BuildOptions(drafts=True), compared_later_from=compared_later_from)
    session.rebuild()
    preview = _outcome_of_preview(session, edit(site))
    built = _outcome_of_build(site, tmp_path / "out")
    assert preview[0] == built[0], (preview[2], built[2])
    assert preview[2] == built[2]
    assert preview[1] == built[1]
    if name.startswith("error"):
        assert preview[0] == "failed" and all(":" in line for line in preview[2])
    if name.startswith("warning") and name != "warning fixed":
        assert preview[2], "the case is meant to give a warning"


@pytest.mark.parametrize("cache", [True, False], ids=["a build's cache", "no cache"])
@pytest.mark.parametrize("step", ["added", "deleted"])
def test_a_briefing_added_or_deleted_in_the_past_moves_search_ids_as_a_build_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, cache: bool) -> None:
    from briefgen.search import indexing

    # A site this small updates its postings by id; with a floor of 1, the preview takes the
    # moving update a large site takes when later ids move: from its own index in memory,
    # whether or not a build kept one in the cache.
    monkeypatch.setattr(indexing, "UPDATE_FLOOR", 1)
    moved: list[int] = []
    real = indexing._moved
    monkeypatch.setattr(indexing, "_moved", lambda *args: moved.append(1) or real(*args))
    site = corpus_site(tmp_path, count=12)
    if cache:
        build(site, BuildOptions(drafts=True))
    session = Session(site, BuildOptions(drafts=True, use_cache=cache))
    session.rebuild()
    fresh: list[int] = []
    full = indexing._full
    monkeypatch.setattr(indexing, "_full", lambda *args: fresh.append(1) or full(*args))
    if step == "added":
        changed = [site / "content/briefings/2020/early.md"]
        changed[0].write_text(corpus_briefing("Early one", "2020-01-11", "Alpha", "Early text [@src-a]."),
                              encoding="utf-8")
    else:
        changed = [site / "content/briefings/2020/b1.md"]
        changed[0].unlink()
    preview = _outcome_of_preview(session, changed)
    assert moved and not fresh
    assert preview == _outcome_of_build(site, tmp_path / "out")


def _files_and_times(root: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("with_cache", [True, False], ids=["build cache present", "no build cache"])
def test_the_preview_writes_nothing_under_the_site(tmp_path: Path, with_cache: bool) -> None:
    site = corpus_site(tmp_path, count=12)
    if with_cache:
        build(site, BuildOptions(output=tmp_path / "out"))
        assert (site / ".briefgen-cache").is_dir()
    target = _brief(site, 5)
    before = _files_and_times(site)
    session = Session(site, BuildOptions(drafts=True, jobs=2))
    session.rebuild()
    replace_in(target, "Second paragraph 5.", "An edit in the preview.")
    session.rebuild([target])
    replace_in(target, 'title: "Briefing 5"', 'title: "A new title"')
    session.rebuild([target])
    session.settle()
    before[target.relative_to(site).as_posix()] = (target.read_bytes(), target.stat().st_mtime_ns)
    assert _files_and_times(site) == before
    assert with_cache or not (site / ".briefgen-cache").exists()


def _preview_everything(site: Path) -> dict[str, bytes]:
    session = Session(site, BuildOptions(drafts=True, use_cache=False))
    session.rebuild()
    return dict(session.pages)


def _count_loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The session's loads of the whole site from now on, one entry each."""
    loads: list[object] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        loads.append(args)
        return load(*args, **kwargs)

    monkeypatch.setattr("briefgen.serve.session.load", counted)
    return loads


def _count_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files rendered from now on, by name, until monkeypatch.undo()."""
    rendered: list[str] = []
    render = Renderer.render

    def counted(self: Renderer, spec: PageSpec) -> bytes:
        rendered.append(spec.output_file)
        return render(self, spec)

    counted.__wrapped__ = render  # type: ignore[attr-defined]
    monkeypatch.setattr(Renderer, "render", counted)
    return rendered


def test_a_preview_of_a_built_site_renders_only_what_the_output_lacks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=12)
    build(site, BuildOptions())  # into site/output
    output = site / "output"
    home = output / "index.html"
    home.write_bytes(home.read_bytes().replace(b"</body>", b"<!-- changed by hand --></body>"))
    (output / "feed.xml").unlink()
    before = _files_and_times(site)

    session = Session(site, BuildOptions(drafts=True))
    result = session.rebuild()
    assert result.rendered == 0  # the built files are read when a reader asks for them
    # Spoiled after the start, before anyone asked for it: found out when read.
    about = output / "about" / "index.html"
    about.write_bytes(b"")
    before["output/about/index.html"] = (b"", about.stat().st_mtime_ns)

    rendered = _count_renders(monkeypatch)
    assert b"changed by hand" not in session.pages["index.html"]
    served = dict(session.pages)
    monkeypatch.undo()
    assert served == _preview_everything(site)
    assert sorted(rendered) == ["about/index.html", "feed.xml", "index.html"]  # the others: read
    assert _files_and_times(site) == before  # and only read
    # Edits after such a start are the preview's usual ones, and still equal a fresh start.
    target = _brief(site, 4)
    replace_in(target, "Second paragraph 4.", "An edit after a quick start.")
    session.rebuild([target])
    replace_in(target, 'title: "Briefing 4"', 'title: "Briefing four"')
    session.rebuild([target])
    assert dict(session.pages) == _preview_everything(site)


def test_a_preview_renders_what_a_build_left_out_such_as_drafts(tmp_path: Path) -> None:
    site = corpus_site(tmp_path, count=12)
    draft = site / "content/briefings/2020/draft.md"
    draft.write_text(corpus_briefing("A draft", "2020-03-30", "Beta", "A draft's text [@src-a].")
                     .replace("sources:", "draft: true\nsources:"), encoding="utf-8")
    build(site, BuildOptions())  # without the draft
    session = Session(site, BuildOptions(drafts=True))
    result = session.rebuild()
    assert any(b"A draft&#39;s text" in data or b"A draft\xe2\x80\x99s text" in data
               for data in session.pages.values())
    assert dict(session.pages) == _preview_everything(site)
    assert 0 < result.rendered < len(session.pages)


def _differing(old: dict[str, bytes], new: dict[str, bytes]) -> frozenset[str]:
    return frozenset({n for n, data in new.items() if old.get(n) != data} | (old.keys() - new.keys()))


def test_each_rebuild_names_exactly_the_files_that_differ_from_the_pages_before(session: Session) -> None:
    # The server tells open pages what changed from this alone: it compares no pages itself.
    steps: list[Callable[[], list[Path]]] = [
        lambda: [],  # nothing changed
        lambda: (replace_in(_brief(session.root, 6), "Second paragraph 6.", "A new text."),
                 [_brief(session.root, 6)])[1],  # a body edit: the quick path
        lambda: (_brief(session.root, 9).unlink(), [_brief(session.root, 9)])[1],  # a page goes away
        lambda: (replace_in(session.root / "templates/briefing.html", "</article>", "</article><!-- t -->"),
                 [session.root / "templates/briefing.html"])[1],  # every briefing page
    ]
    named = []
    for step in steps:
        before = dict(session.pages)
        result = session.rebuild(step())
        assert result.changed_files == _differing(before, dict(session.pages))
        named.append(result.changed_files)
    assert not named[0]
    assert any("briefing-6/" in name for name in named[1])
    assert any("briefing-9/" in name for name in named[2])
    assert all(name not in session.pages for name in named[2] if "briefing-9/" in name)
    assert len([name for name in named[3] if name.endswith("/index.html")]) >= 11


def test_a_preview_renders_what_stands_in_the_output_in_place_of_a_built_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=6)
    build(site, BuildOptions())
    output = site / "output"
    elsewhere = tmp_path / "elsewhere.html"
    home = output / "index.html"
    elsewhere.write_bytes(home.read_bytes())  # the right bytes, behind a link
    home.unlink()
    home.symlink_to(elsewhere)
    about = output / "about" / "index.html"
    about.unlink()
    os.mkfifo(about)  # would block a reader that waited for a writer
    session = Session(site, BuildOptions(drafts=True))
    session.rebuild()
    rendered = _count_renders(monkeypatch)
    served = dict(session.pages)
    monkeypatch.undo()
    assert sorted(rendered) == ["about/index.html", "index.html"]
    assert served == _preview_everything(site)
    assert home.is_symlink() and stat.S_ISFIFO(about.lstat().st_mode)  # left as they were


def test_a_preview_of_a_current_build_starts_from_its_snapshot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=12)
    build(site, BuildOptions())  # no draft left out: the preview's model is the build's
    loads = _count_loads(monkeypatch)
    session = Session(site, BuildOptions(drafts=True))

    def loaded_by(*changed: Path) -> int:
        """How many times the session loaded the whole site to take these changes."""
        before = len(loads)
        session.rebuild(list(changed) if changed else None)
        return len(loads) - before

    rendered = _count_renders(monkeypatch)
    assert loaded_by() == 0  # no content file parsed
    (site / "output/about/index.html").write_bytes(b"")  # spoiled by hand since
    served = dict(session.pages)
    assert rendered == ["about/index.html"]  # every other page read from the output
    monkeypatch.setattr(Renderer, "render", Renderer.render.__wrapped__)  # type: ignore[attr-defined]
    assert served == _preview_everything(site)

    # An edit takes the quick path from that model; an addition, the full one, which reads only
    # the added file: the others are known as the build read them, the edited one as edited.
    read: list[str] = []
    read_file = session_module.read_file
    monkeypatch.setattr(session_module, "read_file", lambda kind, path, shown: read.append(shown)
                        or read_file(kind, path, shown))
    target = _brief(site, 4)
    replace_in(target, "Second paragraph 4.", "An edit after a start from the build.")
    assert loaded_by(target) == 0
    assert dict(session.pages) == _preview_everything(site)
    added = site / "content/briefings/2020/added.md"
    added.write_text(corpus_briefing("Added later", "2020-03-29", "Beta", "An addition [@src-a]."),
                     encoding="utf-8")
    read.clear()
    assert loaded_by(added) == 1
    assert read == ["content/briefings/2020/added.md"]
    assert dict(session.pages) == _preview_everything(site)

    # A build run beside the preview rewrites the snapshot and the output: the preview's pages stay right.
    replace_in(target, "An edit after a start from the build.", "Built again meanwhile.")
    build(site, BuildOptions())
    session.rebuild([target])
    assert dict(session.pages) == _preview_everything(site)


def test_a_preview_started_from_a_build_whose_head_keeps_a_damaged_index_takes_the_long_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The head keeps some indexes pickled apart, read by a build's edit only when it needs them;
    the preview, which keeps the model, reads them all at its start: one that cannot be read
    sends it the long way, as a damaged head does, and its pages are the build's."""
    import pickle

    from briefgen.build import snapshot

    site = corpus_site(tmp_path, count=12)
    build(site, BuildOptions())
    store = site / ".briefgen-cache/cache.sqlite"
    with sqlite3.connect(store) as connection:
        (value,) = connection.execute("SELECT value FROM state WHERE name = ?", (snapshot.HEAD,)).fetchone()
        header, kept = pickle.loads(bytes(value))
        damaged = replace(kept.loaded.site, months=snapshot.PickledMapping(b"\x80\x05garbage"))
        kept = replace(kept, loaded=replace(kept.loaded, site=damaged))
        connection.execute("UPDATE state SET value = ? WHERE name = ?",
                           (pickle.dumps((header, kept)), snapshot.HEAD))
    connection.close()
    loads = _count_loads(monkeypatch)
    session = Session(site, BuildOptions(drafts=True))
    session.rebuild()
    assert len(loads) == 1  # the whole site loaded: not started from the snapshot
    assert dict(session.pages) == _preview_everything(site)


def test_a_preview_started_from_a_build_with_warnings_says_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = corpus_site(tmp_path, count=8)
    replace_in(_brief(site, 3), 'title: "Briefing 3"', 'title: "Briefing 3"\nsumary: "a typo"')
    built = build(site, BuildOptions())
    assert [str(w) for w in built.warnings] == [
        "content/briefings/2020/b3.md:3:1: warning: unknown key `sumary` (did you mean `summary`?); "
        "it is kept as extra data"]
    loads = _count_loads(monkeypatch)
    session = Session(site, BuildOptions(drafts=True))
    started = session.rebuild()
    assert loads == [] and started.warnings == built.warnings  # from the snapshot, warnings and all
    edited = _brief(site, 4)
    replace_in(edited, "Second paragraph 4.", "An edit in the preview.")
    assert session.rebuild([edited]).warnings == built.warnings and loads == []


@pytest.mark.parametrize("change", ["edited", "built with drafts", "other base URL", "page deleted",
                                    "snapshot garbled", "briefing row garbled"])
def test_a_preview_starts_the_long_way_when_the_build_is_not_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    site = corpus_site(tmp_path, count=8)
    build(site, BuildOptions(drafts=change == "built with drafts"))
    if change == "edited":
        replace_in(_brief(site, 3), "Second paragraph 3.", "Changed since the build.")
    elif change == "page deleted":
        (site / "output/about/index.html").unlink()
    elif change.endswith("garbled"):
        with sqlite3.connect(site / ".briefgen-cache/cache.sqlite") as db:
            first_row = db.execute("SELECT name FROM state WHERE name LIKE 'snapshot/briefings/%'").fetchone()
            row = "snapshot" if change == "snapshot garbled" else first_row[0]
            garbled = db.execute("UPDATE state SET value = ? WHERE name = ?", (b"\x80\x05garbage", row))
            assert garbled.rowcount == 1
        db.close()
    loads = _count_loads(monkeypatch)
    base_url = "http://localhost:9/" if change == "other base URL" else None
    options = BuildOptions(drafts=True, base_url=base_url)
    session = Session(site, options)
    session.rebuild()
    assert len(loads) == 1
    reference = Session(site, replace(options, use_cache=False))
    reference.rebuild()
    assert dict(session.pages) == dict(reference.pages)


@pytest.mark.parametrize("use_cache", [True, False], ids=["build cache", "no cache"])
def test_a_rebuild_parses_only_the_files_that_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_cache: bool) -> None:
    from briefgen.build import loading

    site = corpus_site(tmp_path, count=8)
    if use_cache:
        build(site, BuildOptions(drafts=True))  # a build with other options: the preview starts the long way
    parsed: list[str] = []
    parse = loading.parse_file
    monkeypatch.setattr(loading, "parse_file", lambda file, *a: parsed.append(file.path) or parse(file, *a))
    session = Session(site, BuildOptions(drafts=True, future=True, jobs=1, use_cache=use_cache))
    session.rebuild()
    assert (parsed == []) if use_cache else len(parsed) > 8  # from the cache, or every file
    added = site / "content/briefings/2020/added.md"
    added.write_text(corpus_briefing("Added later", "2020-03-29", "Beta", "An addition [@src-a]."),
                     encoding="utf-8")
    parsed.clear()
    session.rebuild([added])
    assert parsed == ["content/briefings/2020/added.md"]


@pytest.mark.parametrize("shown", [True, False], ids=["drafts shown", "--no-drafts"])
def test_a_draft_the_build_left_out_sends_only_a_preview_that_shows_it_the_long_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shown: bool) -> None:
    site = corpus_site(tmp_path, count=8)
    draft = site / "content/briefings/2020/draft.md"
    draft.write_text(corpus_briefing("A draft", "2020-03-30", "Beta", "A draft's text [@src-a].")
                     .replace("sources:", "draft: true\nsources:"), encoding="utf-8")
    build(site, BuildOptions())  # leaves the draft out
    loads = _count_loads(monkeypatch)
    session = Session(site, BuildOptions(drafts=shown))
    session.rebuild()
    assert len(loads) == (1 if shown else 0)
    reference = Session(site, BuildOptions(drafts=shown, use_cache=False))
    reference.rebuild()
    assert dict(session.pages) == dict(reference.pages)
    assert any(b"A draft" in data for data in session.pages.values()) == shown
