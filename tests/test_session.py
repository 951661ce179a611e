"""The live preview's build session: rebuilds in memory equal fresh builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefgen.build.stages import BuildOptions
from briefgen.diagnostics import BuildFailed
from briefgen.serve.session import Session
from tests.test_incremental import make_site, replace_in


def fresh_pages(site: Path) -> dict[str, bytes]:
    session = Session(site, BuildOptions(drafts=True))
    session.rebuild()
    return dict(session.pages)


@pytest.fixture
def session(tmp_path: Path) -> Session:
    site = make_site(tmp_path / "site", count=30)
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


def test_a_title_edit_updates_every_page_listing_it(session: Session) -> None:
    target = path_of(session, 7)
    replace_in(target, 'title: "Briefing 7"', 'title: "Briefing seven, retitled"')
    session.rebuild([target])
    assert dict(session.pages) == fresh_pages(session.root)
    listing = [name for name, data in session.pages.items() if b"Briefing seven, retitled" in data]
    assert len(listing) > 3


def test_new_and_deleted_files(session: Session) -> None:
    new = session.root / "content/briefings/2020/new.md"
    new.write_text("---\ntitle: Fresh\ndate: 2020-05-01\n---\nNew text [@src-b].\n", encoding="utf-8")
    assert session.rebuild([new]).briefings == 31
    assert dict(session.pages) == fresh_pages(session.root)
    new.unlink()
    assert session.rebuild([new]).briefings == 30
    assert dict(session.pages) == fresh_pages(session.root)


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
