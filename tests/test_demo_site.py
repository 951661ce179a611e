"""The repository's own demo site (briefgen.toml + content/) builds into a sound site."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import feedparser
import pytest
import yaml
from conftest import REPO, assert_no_broken_links, build_ok, page, soup_of, tree_bytes

BRIEFING_PAGE = "[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*/index.html"


def copy_demo(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "briefgen.toml", target / "briefgen.toml")
    shutil.copytree(REPO / "content", target / "content")
    return target


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("demo")
    site = copy_demo(base / "site")
    out = base / "out"
    build_ok(site, "--output", out)
    return site, out


def base_url() -> str:
    text = (REPO / "briefgen.toml").read_text(encoding="utf-8")
    found = re.search(r'^base_url\s*=\s*"([^"]+)"', text, re.M)
    assert found, "the demo's briefgen.toml has no base_url"
    return found.group(1) if found.group(1).endswith("/") else found.group(1) + "/"


def test_demo_has_enough_briefings(demo: tuple[Path, Path]) -> None:
    _, out = demo
    pages = list(out.glob(BRIEFING_PAGE))
    assert len(pages) >= 12, f"only {len(pages)} briefings were built"
    sources = len(list((REPO / "content/briefings").rglob("*.md")))
    assert len(pages) <= sources


def test_demo_spans_three_months(demo: tuple[Path, Path]) -> None:
    _, out = demo
    month_pages = out.glob("[0-9]*/[0-9][0-9]/index.html")
    months = {p.parent.relative_to(out).as_posix() for p in month_pages}
    assert len(months) >= 3, sorted(months)
    archive = page(out, "archive/")
    for month in months:
        assert archive.find("a", href=f"/{month}/") is not None, f"/{month}/ not in the archive"


def test_demo_has_six_topics(demo: tuple[Path, Path]) -> None:
    _, out = demo
    topics = [p for p in (out / "topics").iterdir() if (p / "index.html").is_file()]
    assert len(topics) >= 6, [t.name for t in topics]
    index = page(out, "topics/")
    for topic in topics:
        assert index.find("a", href=f"/topics/{topic.name}/") is not None
        assert (topic / "feed.xml").is_file()


def test_demo_has_an_about_page(demo: tuple[Path, Path]) -> None:
    _, out = demo
    about = page(out, "about/")
    assert about.find("h1") is not None and "About" in about.find("h1").get_text()
    home = page(out, "")
    assert home.find("a", href="/about/") is not None, "the about page is in the navigation"


def test_several_briefings_cite_the_moscow_times_article(demo: tuple[Path, Path]) -> None:
    _, out = demo
    registry = yaml.safe_load((REPO / "content/sources/moscow-times.yaml").read_text("utf-8"))
    (kerry,) = [s for s in registry if s["id"] == "mt-kerry-restraint"]
    citing = []
    for path in out.glob(BRIEFING_PAGE):
        soup = soup_of(path)
        for entry in soup.find_all(id=re.compile(r"^source-\d+$")):
            if entry.find("a", href=kerry["url"]) is None:
                continue
            if soup.select(f'sup.citation a[href="#{entry["id"]}"]'):
                citing.append(path)
    assert len(citing) >= 3, f"only {len(citing)} briefings cite mt-kerry-restraint: {citing}"
    publisher = page(out, "sources/the-moscow-times/")
    linked = {a["href"] for a in publisher.find("main").find_all("a", href=True)}
    for path in citing:
        url = "/" + path.parent.relative_to(out).as_posix() + "/"
        assert url in linked, f"{url} cites the article but is not on the publisher's page"


def test_demo_has_no_broken_internal_links(demo: tuple[Path, Path]) -> None:
    _, out = demo
    result = assert_no_broken_links(out, "/", base_url())
    unreached = {p.relative_to(out).as_posix() for p in out.rglob("*.html")} - result.visited
    assert not unreached, f"pages no link reaches: {sorted(unreached)}"


def test_demo_feed_parses(demo: tuple[Path, Path]) -> None:
    _, out = demo
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) >= 12
    assert all(entry.link.startswith(base_url()) for entry in feed.entries)


def test_demo_builds_identically_with_one_or_two_workers(demo: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    site, out = demo
    # Enough files that rendering is spread over the worker processes.
    assert sum(1 for p in out.rglob("*") if p.is_file()) > 50
    single = tmp_path / "single"
    build_ok(site, "--output", single, "--jobs", "1", "--no-cache")
    parallel = tmp_path / "parallel"
    build_ok(site, "--output", parallel, "--jobs", "2", "--no-cache")
    assert tree_bytes(single) == tree_bytes(parallel)
    assert tree_bytes(single) == tree_bytes(out)
