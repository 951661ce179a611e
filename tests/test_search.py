"""Site search: the index files a build writes, and the client reading them in headless Chromium.

The site is served by a local HTTP server under /brief/, as a static host would;
the browser is the installed /usr/bin/chromium (never downloaded).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import pickle
import re
import shutil
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import REPO, build_ok, make_site, page, replace_in, run_cli, tree, tree_bytes, write_files

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (never downloaded)"),
]

CONFIG = """\
[site]
title = "Search Test Briefings"
base_url = "https://example.org/brief/"
timezone = "UTC"
"""

SOURCES = """\
- id: reuters-convoys
  title: "Convoys held at checkpoints outside the city"
  publisher: Reuters
  url: https://example.com/reuters/convoys
- id: ap-grain
  title: "Grain ships leave port under new arrangement"
  publisher: Associated Press
  url: https://example.com/ap/grain
- id: lemonde-summit
  title: "Sommet de l'énergie à Paris"
  publisher: Le Monde
  url: https://example.com/lemonde/summit
- id: reuters-winter
  title: "Fuel shortages deepen before winter"
  publisher: Reuters
  url: https://example.com/reuters/winter
"""

CORRIDORS = """\
---
title: Aid convoys wait at the Aleppo corridors
date: 2016-08-01
topics: [Syria, Humanitarian aid]
summary: Trucks queue at the edge of the city while the parties argue over routes.
sources: [reuters-convoys]
---
Relief agencies said their trucks could not use the announced humanitarian corridors
until both sides agreed on inspections [@reuters-convoys]. A humanitarian pause of
forty-eight hours was proposed by the mediators.
"""

GRAIN = """\
---
title: Grain exports resume through the Black Sea corridor
date: 2016-07-20
topics: [Trade, Ukraine]
summary: The first loaded ships left port under an arrangement brokered by mediators.
sources: [ap-grain]
---
Port officials counted three vessels leaving before noon [@ap-grain]. Humanitarian
groups welcomed the news, and traffic did not pause at the straits. Insurance
convoys of tugboats accompanied the ships.
"""

# Russian text, written for this test.
RUSSIAN = """\
---
title: Женевские переговоры и перемирие
date: 2016-06-10
topics: [Diplomacy]
summary: Делегации обсудили условия перемирия и доступ гуманитарных грузов.
---
Переговоры продолжались до позднего вечера; стороны договорились встретиться снова
через неделю.
"""

ELYSEE = """\
---
title: Élysée hosts an energy summit
date: 2015-03-05
topics: [Energy]
summary: European ministers discussed gas storage and grid links in Paris.
sources: [lemonde-summit]
---
Ministers met at the Élysée palace to compare winter gas reserves [@lemonde-summit].
"""

WINTER = """\
---
title: Energy prices and the Aleppo winter
date: 2015-11-02
topics: [Energy, Syria]
summary: Fuel is scarce in the divided city as temperatures fall.
sources: [reuters-winter]
---
Families in Aleppo burn furniture for heat as diesel prices triple [@reuters-winter].
"""

ABOUT = """\
---
title: About these briefings
---
Our methodology: every claim is tied to a cited source article.
"""

FILES = {
    "content/sources/registry.yaml": SOURCES,
    "content/briefings/2016/corridors.md": CORRIDORS,
    "content/briefings/2016/grain.md": GRAIN,
    "content/briefings/2016/geneva.md": RUSSIAN,
    "content/briefings/2015/elysee.md": ELYSEE,
    "content/briefings/2015/winter.md": WINTER,
    "content/pages/about.md": ABOUT,
}

CORRIDORS_URL = "/brief/2016/08/01/aid-convoys-wait-at-the-aleppo-corridors/"
GRAIN_URL = "/brief/2016/07/20/grain-exports-resume-through-the-black-sea-corridor/"
WINTER_URL = "/brief/2015/11/02/energy-prices-and-the-aleppo-winter/"
ELYSEE_URL = "/brief/2015/03/05/elysee-hosts-an-energy-summit/"
ABOUT_URL = "/brief/about-these-briefings/"


def search_tree(output: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in tree_bytes(output / "search").items()}


# ---------------------------------------------------------------- the index files


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tmp/www/brief/ holds the built site, so tmp/www serves it under /brief/."""
    base = tmp_path_factory.mktemp("search")
    site = make_site(base, FILES, CONFIG)
    www = base / "www"
    build_ok(site, "--output", www / "brief")
    return www


def test_index_files_and_search_page_are_built(built: Path) -> None:
    out = built / "brief"
    meta = json.loads((out / "search/meta.json").read_text(encoding="utf-8"))
    assert meta["documents"] == 6 and meta["format"] == 9
    assert len(list((out / "search/terms").glob("*.json"))) == meta["shards"]
    assert sorted(meta["years"]) == [2015, 2016]
    assert ["energy", "Energy"] in meta["topics"] and ["reuters", "Reuters"] in meta["publishers"]
    # Pages first, then briefings oldest first: the newest briefing has the last id.
    newest = json.loads((out / "search/docs/5.json").read_text(encoding="utf-8"))
    assert newest["url"] == CORRIDORS_URL.removeprefix("/brief/")
    assert newest["topics"] == [["syria", "Syria"], ["humanitarian-aid", "Humanitarian aid"]]
    assert newest["summary"] == "Trucks queue at the edge of the city while the parties argue over routes."
    assert "text" not in newest  # a result shows the summary
    # Its words in order, hashed, a 0 between fields: title, summary, text (no citation
    # numbers), topics, then each source's title and publisher.
    from briefgen.search.phrases import word_hash
    from briefgen.search.text import words
    data = base64.b64decode(newest["words"])
    hashes = [int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2)]
    fields = [["aid", "convoys", "wait", "at", "the", "aleppo", "corridors"],
              words("Trucks queue at the edge of the city while the parties argue over routes."),
              words(CORRIDORS.split("---\n")[2].replace("[@reuters-convoys]", "")),
              ["syria"], ["humanitarian", "aid"], words(SOURCES.split("\n")[1].split(": ")[1]), ["reuters"]]
    expected: list[int] = []
    for field in fields:
        expected += ([0] if expected else []) + [word_hash(w) for w in field]
    assert hashes == expected
    # A page without a summary shows the start of its text.
    about = json.loads((out / "search/docs/0.json").read_text(encoding="utf-8"))
    assert about["summary"] == "Our methodology: every claim is tied to a cited source article."
    assert json.loads((out / "search/filters/year/2015.json").read_text()) == [1, 1]  # ids 1, 2
    search_page = page(out, "search/")
    form = search_page.find("form", attrs={"data-search-index": True})
    assert form["data-search-index"] == "/brief/search/" and form.has_attr("hidden")
    assert search_page.find("script", src=lambda s: s and s.startswith("/brief/static/search."))
    # Every page has a labelled search box in its header that goes to the search page.
    home = page(out, "")
    box = home.select_one("header form[role=search]")
    assert box is not None and box["action"] == "/brief/search/" and box["method"] == "get"
    field = box.find("input", attrs={"name": "q"})
    assert home.find("label", attrs={"for": field["id"]}) is not None


def clean_search_tree(site: Path, tmp_path: Path) -> dict[str, bytes]:
    """The search files of a clean build (no cache, no earlier output) of the site's content."""
    clean = make_site(tmp_path / "b", {}, CONFIG)
    shutil.rmtree(clean / "content", ignore_errors=True)
    shutil.copytree(site / "content", clean / "content")
    build_ok(clean, "--output", tmp_path / "fresh")
    return search_tree(tmp_path / "fresh")


def _moves(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that each moving update of the postings (indexing._moved) adds its document count to."""
    from briefgen.search import indexing, postings

    calls: list[int] = []
    real = indexing._moved

    def spy(*args: Any) -> postings.Postings:
        calls.append(len(args[3]))
        return real(*args)

    monkeypatch.setattr(indexing, "_moved", spy)
    return calls


# What "before noon" -> "before the evening tide" changes in the index: words and prefix terms.
EVENING_TIDE_TERMS = ("noon", "the", "evening", "tide", "noo*", "eve*", "tid*")


def _shards_of(terms: Iterable[str], shards: int = 16) -> set[int]:
    from briefgen.search.text import shard_of

    return {shard_of(term, shards) for term in terms}


@pytest.mark.parametrize("moved", [False, True], ids=["update by id", "ids moved"])
def test_index_files_are_byte_identical_after_edit_add_and_delete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moved: bool) -> None:
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.search import indexing

    calls = _moves(monkeypatch)
    if moved:
        # A small site updates by id up to 64 changes; with a floor of 1, the added and the
        # deleted briefing below move the ids of the briefings after them instead.
        monkeypatch.setattr(indexing, "UPDATE_FLOOR", 1)
    site = make_site(tmp_path / "a", FILES, CONFIG)
    out = tmp_path / "out"
    build(site, BuildOptions(output=out))
    before = {p: p.stat().st_mtime_ns for p in (out / "search").rglob("*.json")}
    time.sleep(0.05)
    grain = site / "content/briefings/2016/grain.md"
    grain.write_text(GRAIN.replace("before noon", "before the evening tide"), encoding="utf-8")
    edited = build(site, BuildOptions(output=out))
    # Term shards are fingerprinted by their bytes: those the edit left alone are not even rendered.
    assert edited.rendered <= 12, edited
    rewritten = [p for p, mtime in before.items() if p.stat().st_mtime_ns != mtime]
    # An edit rewrites that document, meta.json and only the shards of the words it changed.
    assert out / "search/docs/4.json" in rewritten and out / "search/meta.json" in rewritten
    assert out / "search/docs/5.json" not in rewritten
    shards = {int(p.stem) for p in rewritten if p.parent.name == "terms"}
    assert shards and shards <= _shards_of(EVENING_TIDE_TERMS), sorted(shards)

    write_files(site, {"content/briefings/2016/new.md": CORRIDORS.replace(
        "Aid convoys wait at the Aleppo corridors", "Winter convoys reach the river towns").replace(
        "2016-08-01", "2016-09-03")})
    (site / "content/briefings/2015/elysee.md").unlink()
    assert not build(site, BuildOptions(output=out)).in_place
    assert bool(calls) == moved

    assert search_tree(out) == clean_search_tree(site, tmp_path)
    assert json.loads((tmp_path / "fresh/search/meta.json").read_text())["documents"] == 6


def test_an_update_after_ids_moved_reads_the_documents_terms_the_move_left_in_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build whose update moves ids leaves the rows of documents' terms before the first id
    it moved as the cache keeps them, unread; a later edit of one of those documents reads its
    earlier terms from there, and ends as a clean build does."""
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.search import indexing, state

    calls = _moves(monkeypatch)
    monkeypatch.setattr(indexing, "UPDATE_FLOOR", 1)
    monkeypatch.setattr(state, "CHUNK", 2)  # ids 0-1, 2-3 and 4-5 in a row each
    site = make_site(tmp_path / "a", FILES, CONFIG)
    out = tmp_path / "out"
    build(site, BuildOptions(output=out))
    # Dated between the third briefing and grain.md: it takes id 4 and moves the two after it.
    write_files(site, {"content/briefings/2016/july.md": CORRIDORS.replace(
        "Aid convoys wait at the Aleppo corridors", "Ferries return to the island ports").replace(
        "2016-08-01", "2016-07-01")})
    build(site, BuildOptions(output=out))
    assert calls == [7]
    # The oldest briefing (id 1), edited: its earlier terms come from the row the move left.
    elysee = site / "content/briefings/2015/elysee.md"
    elysee.write_text(ELYSEE.replace("winter gas reserves", "zanzibar cloves"), encoding="utf-8")
    build(site, BuildOptions(output=out))

    assert search_tree(out) == clean_search_tree(site, tmp_path)
    assert json.loads((out / "search/meta.json").read_text())["documents"] == 7


@pytest.mark.parametrize("earlier", ["as built", "changed since", "another output built last"])
def test_documents_whose_ids_moved_take_their_words_from_their_earlier_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, earlier: str) -> None:
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.search import index, indexing

    monkeypatch.setattr(indexing, "UPDATE_FLOOR", 1)
    taken: list[int] = []
    real = index.SearchFiles._earlier_words

    def spy(self: index.SearchFiles, doc_id: int) -> bytes | None:
        found = real(self, doc_id)
        if found is not None:
            taken.append(doc_id)
        return found

    monkeypatch.setattr(index.SearchFiles, "_earlier_words", spy)
    site = make_site(tmp_path / "a", FILES, CONFIG)
    out = tmp_path / "out"
    build(site, BuildOptions(output=out))
    grain_url = GRAIN_URL.removeprefix("/brief/")  # documents' URLs are site-relative
    grain_file = next(path for path in (out / "search/docs").iterdir()
                      if json.loads(path.read_text())["url"].strip("/") == grain_url.strip("/"))
    if earlier == "changed since":
        # Still a readable file of that document, but not the bytes the build wrote.
        kept = json.loads(grain_file.read_text())
        kept["words"] = base64.b64encode(b"\x01\x00" * 3).decode()
        grain_file.write_text(json.dumps(kept), encoding="utf-8")
    elif earlier == "another output built last":
        build(site, BuildOptions(output=tmp_path / "other"))
    # Dated before grain and corridors: every briefing after it moves up one id.
    write_files(site, {"content/briefings/2016/new.md": CORRIDORS.replace(
        "Aid convoys wait at the Aleppo corridors", "Winter convoys reach the river towns").replace(
        "2016-08-01", "2016-01-03")})
    build(site, BuildOptions(output=out))
    fresh = tmp_path / "fresh"
    build(site, BuildOptions(output=fresh, use_cache=False))
    assert search_tree(out) == search_tree(fresh)
    ids = {json.loads(path.read_text())["url"].strip("/"): int(path.stem)
           for path in (fresh / "search/docs").iterdir()}
    added = next(doc_id for url, doc_id in ids.items() if "winter-convoys" in url)
    moved = sorted(doc_id for doc_id in ids.values() if doc_id > added)
    grain_id = ids[grain_url.strip("/")]
    assert grain_id in moved and len(moved) >= 2
    if earlier == "as built":
        assert sorted(taken) == moved
    elif earlier == "changed since":
        assert sorted(taken) == [doc_id for doc_id in moved if doc_id != grain_id]
    else:
        assert taken == []


def test_an_in_place_edit_fingerprints_only_the_term_shards_it_touched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefgen.build.fingerprint import Fingerprints
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.site.kinds import SEARCH_TERMS

    site = make_site(tmp_path / "a", FILES, CONFIG)
    out = tmp_path / "out"
    build(site, BuildOptions(output=out))
    looked_at: list[int] = []
    real = Fingerprints.of

    def of(self: Fingerprints, spec: Any) -> str:
        if spec.kind is SEARCH_TERMS:
            looked_at.append(spec.args[0])
        return real(self, spec)

    monkeypatch.setattr(Fingerprints, "of", of)
    grain = site / "content/briefings/2016/grain.md"
    grain.write_text(GRAIN.replace("before noon", "before the evening tide"), encoding="utf-8")
    assert build(site, BuildOptions(output=out)).in_place
    # Of the 16 shards, those of the words the edit changed and their prefix terms at most.
    assert looked_at and set(looked_at) <= _shards_of(EVENING_TIDE_TERMS), looked_at
    assert search_tree(out) == clean_search_tree(site, tmp_path)


def test_weights_say_frequency_capped_and_fields(tmp_path: Path) -> None:
    from briefgen.search.documents import TITLE, TOPIC
    from briefgen.search.encoding import decode
    from briefgen.search.text import shard_of

    files = {
        "content/briefings/2016/zebra.md": "---\ntitle: Zebra crossings\ndate: 2016-03-01\n"
                                           "topics: [Zebra]\nsummary: Striped.\n---\n"
                                           + "Zebra " * 300 + "okapi " * 260 + "and a quagga.\n",
        "content/briefings/2016/other.md": "---\ntitle: Other\ndate: 2016-03-02\n---\nNothing striped.\n",
    }
    www = tmp_path / "www"
    build_ok(make_site(tmp_path, files, CONFIG), "--output", www)
    meta = json.loads((www / "search/meta.json").read_text(encoding="utf-8"))

    def weights(term: str) -> list[int | None]:
        shard = json.loads((www / f"search/terms/{shard_of(term, meta['shards'])}.json").read_text())
        return list(decode(shard[term]).values())

    [zebra] = weights("zebra")  # in the body 300 times, the title and a topic
    assert zebra is not None and zebra >> 8 == 255 and zebra & 7 == TITLE | TOPIC
    [okapi] = weights("okapi")  # in the body only, 260 times
    assert okapi is not None and okapi >> 8 == 255 and okapi & 7 == 0
    [quagga] = weights("quagga")  # once, in the body only
    assert quagga is not None and quagga >> 8 == 1 and quagga & 7 == 0
    assert (zebra >> 3) & 31 == (quagga >> 3) & 31  # one document, one length

def test_search_false_turns_it_off(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES, CONFIG + "search = false\n")
    out = tmp_path / "out"
    build_ok(site, "--output", out)
    assert not (out / "search").exists()
    assert page(out, "").select("form[role=search]") == []


def test_search_setting_must_be_true_or_false(tmp_path: Path) -> None:
    site = make_site(tmp_path, FILES, CONFIG + 'search = "no"\n')
    result = run_cli("build", site, "--output", tmp_path / "out")
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "briefgen.toml:5:1: error: site.search must be true or false, not str" in result.stderr


def test_a_page_that_wants_the_search_url_is_an_error(tmp_path: Path) -> None:
    files = dict(FILES)
    files["content/pages/search.md"] = "---\ntitle: Search\n---\nFind things.\n"
    result = run_cli("build", make_site(tmp_path, files, CONFIG), "--output", tmp_path / "out")
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "content/pages/search.md:2:1: error: URL /search/ is wanted by both" in result.stderr


# ---------------------------------------------------------------- in the browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A plain static HTTP server over `folder`, as a static host would serve a site; its address."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def served_site(base: Path, files: dict[str, str | bytes], config: str) -> Iterator[str]:
    """A site of these files built under base/www/brief/ and served: its server's address."""
    site = make_site(base, files, config)
    build_ok(site, "--output", base / "www" / "brief")
    with serving(base / "www") as address:
        yield address


@pytest.fixture(scope="module")
def server(built: Path) -> Iterator[str]:
    with serving(built) as address:
        yield address


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def results(tab: Any, expected: dict[str, str] | None = None) -> list[str]:
    """The result links' paths, once the client shows the results for `expected` (a query's
    parameters; by default, what the address says)."""
    tab.wait_for_function(
        """expected => {
             const shown = document.querySelector('#search-results').getAttribute('data-search-for');
             const wanted = expected ? new URLSearchParams(expected).toString() : location.search.slice(1);
             return shown === wanted;
           }""", arg=expected)
    links = tab.eval_on_selector_all("#search-results .search-result__title a",
                                     "links => links.map(a => new URL(a.href).pathname)")
    return list(links)


def type_query(tab: Any, server: str, query: str) -> list[str]:
    tab.goto(f"{server}/brief/search/")
    tab.wait_for_selector("#search-q", state="visible")
    tab.locator("#search-q").press_sequentially(query, delay=20)
    return results(tab, {"q": query.strip()})


def browser_test(function: Any) -> Any:
    for mark in needs_chromium:
        function = mark(function)
    return function


@browser_test
def test_typing_a_query_shows_the_right_briefing_first(server: str, tab: Any) -> None:
    found = type_query(tab, server, "convoys")
    assert found[:2] == [CORRIDORS_URL, GRAIN_URL]  # a title match outranks one in the text
    assert tab.locator("#search-status").inner_text() == "2 results for “convoys”."
    marks = tab.eval_on_selector_all("#search-results li:first-child mark", "m => m.map(x => x.textContent)")
    assert "convoys" in marks
    topics = tab.eval_on_selector_all("#search-results li:first-child .search-result__topics a",
                                      "a => a.map(x => [x.textContent, new URL(x.href).pathname])")
    assert topics == [["Syria", "/brief/topics/syria/"],
                      ["Humanitarian aid", "/brief/topics/humanitarian-aid/"]]
    assert tab.locator("#search-results li:first-child time").get_attribute("datetime") == "2016-08-01"
    # The query is in the address, so the page can be bookmarked or shared.
    assert tab.evaluate("location.search") == "?q=convoys"


@browser_test
def test_screen_readers_hear_the_count_once_typing_pauses(server: str, tab: Any) -> None:
    tab.goto(f"{server}/brief/search/")
    tab.wait_for_selector("#search-q", state="visible")
    live = tab.locator("#search-announce")
    assert live.get_attribute("aria-live") == "polite" and live.get_attribute("role") == "status"
    assert tab.locator("#search-status").get_attribute("aria-live") is None
    tab.evaluate("""() => {
        window.told = [];
        const live = document.getElementById('search-announce');
        new MutationObserver(() => window.told.push(live.textContent))
            .observe(live, {childList: true, characterData: true, subtree: true});
    }""")
    # A reader typing at about six keys a second: the results follow every key, the status too.
    tab.locator("#search-q").press_sequentially("aleppo corridor", delay=160)
    results(tab, {"q": "aleppo corridor"})
    tab.wait_for_function("window.told.length > 0", timeout=5000)
    tab.wait_for_timeout(1200)
    assert tab.evaluate("window.told") == ["1 result for “aleppo corridor”."]
    # A filter chosen is told at once.
    tab.select_option("#search-year", "2016")
    tab.wait_for_function("window.told.length > 1", timeout=2000)
    assert "2016" in tab.evaluate("window.told")[-1]


@browser_test
def test_a_language_tag_the_browser_does_not_know_leaves_search_working(server: str, tab: Any) -> None:
    # zh-min-nan is a tag of BCP 47 Chromium's Intl refuses: the page is served saying it.
    def said_in_another_tag(route: Any) -> None:
        if route.request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch()
        body = response.text().replace('<html lang="en"', '<html lang="zh-min-nan"', 1)
        assert 'lang="zh-min-nan"' in body
        route.fulfill(response=response, body=body)

    tab.route("**/brief/search/**", said_in_another_tag)
    assert type_query(tab, server, "convoys") == [CORRIDORS_URL, GRAIN_URL]
    assert tab.locator("#search-status").inner_text() == "2 results for “convoys”."


@browser_test
def test_prefixes_match_while_typing_and_all_words_must_match(server: str, tab: Any) -> None:
    assert type_query(tab, server, "corri") == [CORRIDORS_URL, GRAIN_URL]
    assert type_query(tab, server, "aleppo corri") == [CORRIDORS_URL]
    assert sorted(type_query(tab, server, "aleppo")) == sorted([CORRIDORS_URL, WINTER_URL])
    assert type_query(tab, server, "aleppo zebra") == []
    assert tab.locator("#search-status").inner_text() == "No results for “aleppo zebra”."
    # Three letters find the words they begin through their prefix term, in their own shard.
    assert type_query(tab, server, "cor") == [CORRIDORS_URL, GRAIN_URL]
    assert type_query(tab, server, "aleppo cor") == [CORRIDORS_URL]


def test_a_prefix_term_lists_the_documents_of_the_words_it_begins(built: Path) -> None:
    from briefgen.search.documents import TITLE
    from briefgen.search.encoding import decode
    from briefgen.search.text import PREFIX_MARK, shard_of

    search = built / "brief" / "search"
    meta = json.loads((search / "meta.json").read_text(encoding="utf-8"))
    shards = meta["shards"]

    def entry(term: str) -> dict[int, int | None]:
        shard = json.loads((search / "terms" / f"{shard_of(term, shards)}.json").read_text(encoding="utf-8"))
        return decode(shard[term])

    corridors, corridor = entry("corridors"), entry("corridor")
    prefix = entry("cor" + PREFIX_MARK)
    assert set(prefix) == set(corridors) | set(corridor) and len(prefix) == 2
    for doc_id, weight in prefix.items():
        # Its frequency is the number of words it begins; it carries their field flags.
        assert weight is not None
        words = [w for w in (corridors.get(doc_id), corridor.get(doc_id)) if w is not None]
        assert weight >> 8 == len(words)
        assert weight & TITLE == max(w & TITLE for w in words) == TITLE
    # A word of three letters or fewer has no prefix term of its own.
    assert all(not term.endswith(PREFIX_MARK) or len(term) == 4
               for path in (search / "terms").glob("*.json")
               for term in json.loads(path.read_text(encoding="utf-8")))


@browser_test
def test_a_word_in_most_documents_is_listed_without_weights(server: str, built: Path, tab: Any) -> None:
    from briefgen.search.encoding import decode
    from briefgen.search.text import shard_of

    search = built / "brief" / "search"
    meta = json.loads((search / "meta.json").read_text(encoding="utf-8"))
    shard = json.loads((search / "terms" / f"{shard_of('the', meta['shards'])}.json").read_text())
    # Listed without weights: not in the page (id 0) nor in the Russian briefing (id 3).
    assert decode(shard["the"]) == {1: None, 2: None, 4: None, 5: None}
    found = type_query(tab, server, "the")  # and "these", in the page's title
    assert sorted(found) == sorted([CORRIDORS_URL, GRAIN_URL, WINTER_URL, ELYSEE_URL, ABOUT_URL])
    assert type_query(tab, server, "the grain")[0] == GRAIN_URL


@browser_test
def test_quoted_phrases_match_as_phrases(server: str, tab: Any) -> None:
    # Both briefings hold both words; only one holds them side by side.
    assert type_query(tab, server, "humanitarian pause") == [CORRIDORS_URL, GRAIN_URL]
    assert type_query(tab, server, '"humanitarian pause"') == [CORRIDORS_URL]
    assert type_query(tab, server, '"pause humanitarian"') == []
    # While the closing quote is not typed yet, the last word may be the start of one, from
    # four letters on; of three, it is a word (its prefix term finds documents, not words).
    assert type_query(tab, server, '"humanitarian paus') == [CORRIDORS_URL]
    assert type_query(tab, server, '"humanitarian pau') == []
    assert type_query(tab, server, 'humanitarian pau') == [CORRIDORS_URL, GRAIN_URL]
    assert type_query(tab, server, '"humanitarian pa"') == []  # two letters: a word, not a start
    # Source titles are searched as phrases too, but a phrase never runs from one field into the next.
    assert type_query(tab, server, '"fuel shortages"') == [WINTER_URL]
    assert type_query(tab, server, '"triple energy"') == []  # the text's last word, then a topic
    assert type_query(tab, server, '"Aleppo winter fuel"') == []  # the title, then the summary


@browser_test
def test_case_accents_and_other_scripts(server: str, tab: Any) -> None:
    from briefgen.content.slugs import make_slug

    russian = "/brief/2016/06/10/" + make_slug("Женевские переговоры и перемирие") + "/"
    assert type_query(tab, server, "ПЕРЕМИР") == [russian]
    marks = tab.eval_on_selector_all("#search-results mark", "m => m.map(x => x.textContent)")
    assert marks[0] == "перемирие"
    assert type_query(tab, server, "ЖЕНЕВСКИЕ") == [russian]
    assert type_query(tab, server, "elysee") == [ELYSEE_URL]
    assert type_query(tab, server, "ÉNERGIE") == [ELYSEE_URL]  # a source title, accent folded
    assert type_query(tab, server, "methodology") == [ABOUT_URL]  # pages are searched too
    # It has no summary: the start of its text is shown instead.
    marks = tab.eval_on_selector_all("#search-results .search-result__snippet mark",
                                     "m => m.map(x => x.textContent)")
    assert marks == ["methodology"]


def test_letters_readers_take_for_plain_ones_are_folded_to_them() -> None:
    from briefgen.search.text import index_text, words

    assert words("København, Łódź, Đà Nẵng, ÆRØ, Œuvre, STRAẞE, Straße, Diyarbakır, Þórr") == [  # noqa: RUF001
        "kobenhavn", "lodz", "da", "nang", "aero", "oeuvre", "strasse", "strasse", "diyarbakir", "thorr"]
    # The word-final sigma of lower case is the sigma a word begins with.
    assert words("ΚΟΣ ΚΟΣΜΟΣ κόσμος") == ["κοσ", "κοσμοσ", "κοσμοσ"]
    # Unseen soft hyphens join. The marks that make a script's letters stay, in its words:
    # Brahmi's vowel sign, the kana's voicing (ガス, gas, is not カス, dregs), Devanagari's vowel
    # signs and virama (a word, not its pieces), Thai's tone marks (ข้าว, rice, is not ขาว, white).
    assert words("Bundes\u00adverfassungs\u00adgericht") == ["bundesverfassungsgericht"]
    assert words("\U00011013\U00011038\U00011013") == ["\U00011013\U00011038\U00011013"]
    assert words("ガス カス ｶﾞｽ") == ["ガス", "カス", "ガス"]
    assert words("हिन्दी किताब") == ["हिन्दी", "किताब"]
    assert words("ข้าว ขาว") == ["ข้", "้า", "าว", "ขา", "าว"]
    # Accents, and Hebrew's and Arabic's vowel points, still go.
    assert words("Élysée שָׁלוֹם مَرْحَبًا") == ["elysee", "שלום", "مرحبا"]
    # In a body, inline elements join what they split; citation and footnote numbers are not words.
    body = ('<p>CO<sub>2</sub> in the 10<sup>th</sup> round, un<em>believ</em>able'
            '<sup class="citation" id="cite-ref-1-1"><a href="#source-1">1</a></sup>.'
            '<sup id="fnref:1"><a class="footnote-ref" href="#fn:1">2</a></sup></p><p>Next</p>')
    assert words(index_text(body)) == ["co2", "in", "the", "10th", "round", "unbelievable", "next"]


def test_every_mark_folding_keeps_is_where_the_index_looks_for_one() -> None:
    """The plainer split of a text without a kept mark must never meet one: every mark below
    U+0800 and from U+2000 to U+2FFF is one that folding takes out."""
    import unicodedata

    from briefgen.search.text import DIACRITIC_SPANS

    def taken_out(code: int) -> bool:
        return (any(first <= code <= last for first, last in DIACRITIC_SPANS)
                and unicodedata.category(chr(code)) in ("Mn", "Me"))

    outside = [hex(code) for code in [*range(0x300, 0x800), *range(0x2000, 0x3000)]
               if unicodedata.category(chr(code))[0] == "M" and not taken_out(code)]
    assert outside == []


def test_the_marks_folding_keeps_are_unicodes_whether_listed_or_found() -> None:
    """marks.py lists, for the Unicode of each Python it knows, the marks folding keeps, so that a
    process need not look at every code point to find them: the running Python's list (or, where
    its Unicode is not listed, what it finds) is what its Unicode tables give. Every list is in
    order, its ranges apart; none names a mark folding takes out."""
    import unicodedata

    from briefgen.search import text
    from briefgen.search.marks import LISTED_VERSIONS, listed_kept_marks

    found = text.found_kept_marks()
    assert text._kept_marks.__wrapped__() == found
    assert all(found) and len(found[1]) > 1000  # Devanagari's, Bengali's... signs; Thai's in the first
    listed = listed_kept_marks(unicodedata.unidata_version)
    if listed is not None:
        assert listed == found
    taken = set(text._diacritic_chars())
    for version in LISTED_VERSIONS:
        marks = listed_kept_marks(version)
        assert marks is not None
        for chars in marks:
            codes = [ord(char) for char in chars]
            assert codes == sorted(set(codes)) and not taken & set(chars)
    assert listed_kept_marks("13.0.0") is None
    assert len(LISTED_VERSIONS) >= 3  # the Unicode of Python 3.11, 3.12 and 3.13


# Briefings whose words only folding, markup or a long list of candidates make findable.
FOLDING_FILES = {
    "content/briefings/2020/letters.md": (
        "---\ntitle: Harbours of the north\ndate: 2020-01-05\n"
        "summary: \"Ships from København and Łódź reached the Straße of Diyarbakır; "  # noqa: RUF001
        "Cafe\u0301 Ele\u0301onore closed.\"\n"
        "---\nThe κόσμος of the Bundes\u00adverfassungs\u00adgericht: CO<sub>2</sub> rose in the "
        "10<sup>th</sup> round, un*believ*able.\n"),
    "content/briefings/2020/thai.md": (
        "---\ntitle: Bangkok notes\ndate: 2020-01-03\n---\nกรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย\n"),
    "content/briefings/2020/marks.md": (
        "---\ntitle: Marks that make letters\ndate: 2020-01-02\n---\n"
        "ガスの値段。ข้าวราคาสูง। हिन्दी में काम।\n"),
    "content/briefings/2020/phrase.md": (
        "---\ntitle: Old notes\ndate: 2020-01-01\n---\nA quiet gamma week with alpha beta inside.\n"),
}
for n in range(160):  # newer, and ranked first: both words in the title, never side by side
    FOLDING_FILES[f"content/briefings/2021/f{n}.md"] = (
        f"---\ntitle: Alpha then beta {n}\ndate: 2021-01-{n % 28 + 1:02d}\n---\n"
        f"Alpha was seen, and later beta, in round {n}{', with gamma' if n < 60 else ''}.\n")


@pytest.fixture(scope="module")
def folding_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_site(tmp_path_factory.mktemp("search-folding"), FOLDING_FILES, CONFIG) as address:
        yield address


@browser_test
def test_folded_letters_marked_words_and_inline_markup_are_found(folding_server: str, tab: Any) -> None:
    letters = "/brief/2020/01/05/harbours-of-the-north/"
    for query in ["kobenhavn", "LODZ", "strasse", "straße", "diyarbakir", "ΚΟΣ", "κοσμος",
                  "bundesverfassungsgericht", "co2", "10th", "unbelievable", "eleonore"]:
        assert type_query(tab, folding_server, query) == [letters], query
    # Thai, written without spaces, is found inside its runs as Chinese is.
    thai = "/brief/2020/01/03/bangkok-notes/"
    for query in ["กรุงเทพ", "เมืองหลวง", "ประเทศไทย", '"เมืองหลวงของ"']:
        assert type_query(tab, folding_server, query) == [thai], query
    # A quoted phrase inside a run of Thai, matched on its characters (ของ then เมือง does not follow).
    assert type_query(tab, folding_server, '"ของเมือง"') == []
    # A script's own marks tell its words apart.
    marks = "/brief/2020/01/02/marks-that-make-letters/"
    for query, found in [("ガス", [marks]), ("カス", []), ("ข้าว", [marks]), ("ขาว", []),
                         ("काम", [marks]), ("कम", []), ("हिन्दी", [marks])]:
        assert type_query(tab, folding_server, query) == found, query
    type_query(tab, folding_server, "हिन्दी")
    assert marked(tab, "#search-results .search-result__snippet mark") == ["हिन्दी"]
    # Marked as written, combining marks included.
    type_query(tab, folding_server, "kobenhavn eleonore cafe")
    assert marked(tab, "#search-results .search-result__snippet mark") == [
        "København", "Cafe\u0301", "Ele\u0301onore"]


@browser_test
def test_a_phrase_is_found_past_the_first_candidates_read(folding_server: str, tab: Any) -> None:
    # 60 briefings rank above the one that holds the phrase; the first 30 read hold none.
    assert len(type_query(tab, folding_server, "alpha beta gamma")) == 10
    assert type_query(tab, folding_server, '"alpha beta" gamma') == ["/brief/2020/01/01/old-notes/"]
    # Found in the second 30 read, of 61: more may hold it.
    assert tab.text_content("#search-status") == '1 or more results for “"alpha beta" gamma”.'
    # Past 150 candidates (161 hold both words), a phrase none of those read holds says how
    # far it looked, not that nothing holds it.
    assert type_query(tab, folding_server, '"alpha beta"') == []
    assert tab.text_content("#search-status") == (
        'No results for “"alpha beta"” among the 150 best matches of its words.')
    # Every candidate read: no result is no result.
    assert type_query(tab, folding_server, '"quiet alpha"') == []
    assert tab.text_content("#search-status") == 'No results for “"quiet alpha"”.'
    # A query of no words finds nothing, and says so.
    assert type_query(tab, folding_server, "🎉 &") == []
    assert tab.text_content("#search-status") == "No results for “🎉 &”."


def test_a_briefing_of_more_words_than_sixteen_bits_count_is_indexed(tmp_path: Path) -> None:
    long = "---\ntitle: A very long record\ndate: 2024-01-02\n---\n" + "word " * 70_000 + "zebra\n"
    short = "---\ntitle: Short\ndate: 2024-01-03\n---\nzebra\n"
    files = {"content/briefings/2024/long.md": long, "content/briefings/2024/short.md": short}
    site = make_site(tmp_path, files, CONFIG)
    build_ok(site)
    meta = json.loads((site / "output/search/meta.json").read_text(encoding="utf-8"))
    assert meta["documents"] == 2 and 30_000 < meta["average_length"] < 35_000  # its length kept as 65,535
    replace_in(site / "content/briefings/2024/long.md", "zebra", "zebras")
    build_ok(site)  # the kept state, read and written again
    assert build_ok(site, "--no-cache", "--output", tmp_path / "clean").code == 0
    assert search_tree(site / "output") == search_tree(tmp_path / "clean")


def test_the_index_version_changes_with_what_a_document_file_shows(tmp_path: Path) -> None:
    """The client asks for every file with meta.json's version: a date moved to another year
    changes a document's file and the year filters, and no term shard."""
    files = {f"content/briefings/2024/b{n}.md":
             f"---\ntitle: Note {n}\ndate: 2024-0{n + 1}-10\n---\nWords {n}.\n" for n in range(3)}
    site = make_site(tmp_path, files, CONFIG)
    build_ok(site)
    out = site / "output/search"
    before = json.loads((out / "meta.json").read_text(encoding="utf-8"))["version"]
    shards = {p.name: p.read_bytes() for p in (out / "terms").iterdir()}
    path = site / "content/briefings/2024/b2.md"
    path.write_text(path.read_text(encoding="utf-8").replace("2024-03-10", "2025-01-02"), encoding="utf-8")
    build_ok(site)
    assert {p.name: p.read_bytes() for p in (out / "terms").iterdir()} == shards
    assert (out / "filters/year/2025.json").is_file()
    assert json.loads((out / "meta.json").read_text(encoding="utf-8"))["version"] != before


def test_the_index_version_changes_with_the_files_format_and_language(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document's file written by an earlier format, or with its date in another language, has
    the same key: the version must change for a browser not to take it from its cache."""
    from briefgen.build import pipeline
    from briefgen.build.options import BuildOptions
    from briefgen.site import search_files

    files = {f"content/briefings/2024/b{n}.md":
             f"---\ntitle: Note {n}\ndate: 2024-0{n + 1}-10\n---\nWords {n}.\n" for n in range(3)}
    site = make_site(tmp_path, files, CONFIG)

    def built(name: str) -> tuple[dict[str, object], dict[str, bytes]]:
        out = tmp_path / name
        pipeline.build(site, BuildOptions(output=out, jobs=1, use_cache=False))
        meta = json.loads((out / "search/meta.json").read_text(encoding="utf-8"))
        return meta, {p.name: p.read_bytes() for p in (out / "search/terms").iterdir()}

    meta, shards = built("now")
    monkeypatch.setattr(search_files, "FORMAT", search_files.FORMAT + 1)
    later, later_shards = built("later")
    assert later["format"] == meta["format"] + 1  # type: ignore[operator]
    assert later_shards == shards and later["version"] != meta["version"]
    monkeypatch.undo()
    # In another language, the documents' files write their dates in it, under another version.
    (site / "briefgen.toml").write_text(CJK_CONFIG, encoding="utf-8")
    chinese, chinese_shards = built("chinese")
    assert chinese_shards == shards and chinese["version"] != meta["version"]
    dates = [json.loads((tmp_path / name / "search/docs/0.json").read_text(encoding="utf-8"))["date_display"]
             for name in ("now", "chinese")]
    assert dates[0] != dates[1]


# Chinese and Japanese briefings, written for these tests: scripts without spaces between words.
CJK_CONFIG = CONFIG.replace('timezone = "UTC"', 'timezone = "UTC"\nlanguage = "zh"')

TRADE_DEAL = """\
---
title: 越南与中国签署贸易协定
date: 2024-05-02
topics: [Trade]
summary: 两国在河内签署了新的贸易协定书，关税将分三年降低。
---
协定涵盖农产品和电子产品。代表团来自中、越、老。
"""  # noqa: RUF001 (Chinese punctuation)

TRADE_TALKS = """\
---
title: 贸易谈判没有结果
date: 2024-04-10
topics: [Trade]
summary: 双方表示下个月再谈，新的协定仍未达成。
---
谈判持续了两天。俄罗斯代表以观察员身份出席，越南代表也出席了。
"""  # noqa: RUF001 (Chinese punctuation)

SANCTIONS = """\
---
title: 欧洲议会讨论新的制裁
date: 2024-03-15
topics: [Diplomacy]
summary: 议员们要求扩大对能源出口的限制措施，制裁中俄。
---
投票定于下周举行。
"""  # noqa: RUF001 (Chinese punctuation)

TOKYO = """\
---
title: 東京で首脳会議が開かれた
date: 2024-06-20
topics: [Diplomacy]
summary: 各国の首脳が気候変動への対応を話し合った。
---
会議は二日間にわたって行われた。
"""

CJK_FILES = {
    "content/briefings/2024/trade-deal.md": TRADE_DEAL,
    "content/briefings/2024/trade-talks.md": TRADE_TALKS,
    "content/briefings/2024/sanctions.md": SANCTIONS,
    "content/briefings/2024/tokyo.md": TOKYO,
}


def _cjk_url(day: str, title: str) -> str:
    from briefgen.content.slugs import make_slug

    return f"/brief/{day}/{make_slug(title)}/"


TRADE_DEAL_URL = _cjk_url("2024/05/02", "越南与中国签署贸易协定")
TRADE_TALKS_URL = _cjk_url("2024/04/10", "贸易谈判没有结果")
SANCTIONS_URL = _cjk_url("2024/03/15", "欧洲议会讨论新的制裁")
TOKYO_URL = _cjk_url("2024/06/20", "東京で首脳会議が開かれた")


def test_chinese_and_japanese_runs_are_indexed_by_pairs_of_characters() -> None:
    from briefgen.search.text import fold, prefix_term, words

    # A run of CJK characters: each pair of neighbours; one character alone is itself.
    assert words("贸易协定。") == ["贸易", "易协", "协定"]
    assert words("中、越") == ["中", "越"]
    # Other scripts in the same run of letters stay words; folding comes first (half-width
    # katakana are full-width; が stays が, its voicing mark part of it).
    assert words("iPhone手机销量") == ["iphone", "手机", "机销", "销量"]
    assert words("会議が ｶﾞｲﾄﾞ") == ["会議", "議が", "ガイ", "イド"]
    # Korean is written with spaces: a word of syllables.
    assert words("𠀀𠀁 Ελληνικά 서울에서") == ["𠀀𠀁", "ελληνικα", "서울에서"]
    assert fold("서울에서") == "서울에서"
    assert prefix_term("贸易") is None and prefix_term("dalton") == "dal*"


@pytest.fixture(scope="module")
def cjk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served_site(tmp_path_factory.mktemp("search-cjk"), CJK_FILES, CJK_CONFIG) as address:
        yield address


def marked(tab: Any, selector: str) -> list[str]:
    return list(tab.eval_on_selector_all(selector, "m => m.map(x => x.textContent)"))


@browser_test
def test_chinese_and_japanese_words_are_found_inside_runs(cjk_server: str, tab: Any) -> None:
    # Two characters inside a run; the title's match ranks first.
    assert type_query(tab, cjk_server, "贸易") == [TRADE_DEAL_URL, TRADE_TALKS_URL]
    assert marked(tab, "#search-results li:first-child .search-result__title mark") == ["贸易"]
    # Four: every pair must be there, so 贸易 and 协定 apart (the talks) do not match.
    assert type_query(tab, cjk_server, "贸易协定") == [TRADE_DEAL_URL]
    assert marked(tab, "#search-results .search-result__title mark") == ["贸易协定"]
    assert marked(tab, "#search-results .search-result__snippet mark") == ["贸易协定"]
    assert type_query(tab, cjk_server, '"贸易协定"') == [TRADE_DEAL_URL]
    assert type_query(tab, cjk_server, "协定贸易") == []
    assert type_query(tab, cjk_server, "俄罗斯") == [TRADE_TALKS_URL]
    assert type_query(tab, cjk_server, "制裁 俄罗斯") == []
    # One character is a word where it stands alone (中、越、老), not half of a pair (越南).
    assert type_query(tab, cjk_server, "越") == [TRADE_DEAL_URL]
    assert type_query(tab, cjk_server, "越南") == [TRADE_DEAL_URL, TRADE_TALKS_URL]
    # Japanese: kanji and kana alike, folded as the index folds them (が is found as か).
    assert type_query(tab, cjk_server, "首脳会議") == [TOKYO_URL]
    assert type_query(tab, cjk_server, "会議が") == [TOKYO_URL]
    assert marked(tab, "#search-results .search-result__title mark") == ["会議が"]
    assert type_query(tab, cjk_server, "会議 贸易") == []


def test_a_run_of_unspaced_letters_is_its_characters_in_a_documents_words(cjk_server: str) -> None:
    from briefgen.search.phrases import RUN_END, SEPARATOR, word_hash

    # Briefings oldest first: the trade deal is the third.
    with urllib.request.urlopen(f"{cjk_server}/brief/search/docs/2.json", timeout=10) as response:
        doc = json.loads(response.read())
    assert doc["url"] == TRADE_DEAL_URL.removeprefix("/brief/")
    data = base64.b64decode(doc["words"])
    units = [int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2)]

    def runs(*found: str) -> list[int]:
        return [unit for run in found for unit in [*map(ord, run), RUN_END]]

    # Each run of a field as its characters, RUN_END after each; a word between spaces (the
    # topic's name) as its hash; the fields apart, as for any script.
    assert units == [*runs("越南与中国签署贸易协定"), SEPARATOR,
                     *runs("两国在河内签署了新的贸易协定书", "关税将分三年降低"), SEPARATOR,
                     *runs("协定涵盖农产品和电子产品", "代表团来自中", "越", "老"), SEPARATOR,
                     word_hash("trade")]


@browser_test
def test_quoted_phrases_in_chinese_match_inside_runs_and_across_their_ends(cjk_server: str, tab: Any) -> None:
    # A phrase may begin and end inside a run of the document.
    assert type_query(tab, cjk_server, '"易协定"') == [TRADE_DEAL_URL]
    assert type_query(tab, cjk_server, '"品和电"') == [TRADE_DEAL_URL]
    # Two runs of a phrase stand for two of the document's, side by side: the first ends
    # where the document's does (电子产品。代表团), the last may stop inside its own.
    assert type_query(tab, cjk_server, '"电子产品 代表"') == [TRADE_DEAL_URL]
    # 农产 and 电子 are both in the text, every pair matches, but the first run goes on (农产品).
    assert type_query(tab, cjk_server, '"农产 电子"') == []
    assert type_query(tab, cjk_server, "农产 电子") == [TRADE_DEAL_URL]


@browser_test
def test_filters_from_the_address_and_from_the_controls(server: str, tab: Any) -> None:
    tab.goto(f"{server}/brief/search/?q=aleppo&topic=energy")
    assert results(tab) == [WINTER_URL]
    assert tab.locator("#search-topic").input_value() == "energy"
    assert tab.locator("#search-q").input_value() == "aleppo"
    tab.goto(f"{server}/brief/search/?q=aleppo&year=2016")
    assert results(tab) == [CORRIDORS_URL]
    tab.goto(f"{server}/brief/search/?q=corridor&publisher=associated-press")
    assert results(tab) == [GRAIN_URL]
    # A filter alone lists its briefings, newest first.
    tab.goto(f"{server}/brief/search/?publisher=reuters")
    assert results(tab) == [CORRIDORS_URL, WINTER_URL]
    tab.select_option("#search-year", "2015")
    assert results(tab, {"publisher": "reuters", "year": "2015"}) == [WINTER_URL]
    assert tab.evaluate("location.search") == "?publisher=reuters&year=2015"


@browser_test
def test_opened_from_disk_the_search_page_says_it_needs_http(tmp_path: Path, tab: Any) -> None:
    site = make_site(tmp_path, FILES, CONFIG + "\n[build]\nrelative_urls = true\n")
    build_ok(site)
    tab.goto((site / "output/search/index.html").as_uri() + "?q=aleppo")
    tab.wait_for_function("document.getElementById('search-status').textContent.length > 0")
    assert tab.text_content("#search-status") == (
        "Search works when the site is served over HTTP (briefgen serve, or any web server), "
        "not opened from disk.")


@browser_test
def test_search_page_is_a_link_target(server: str, tab: Any) -> None:
    tab.goto(f"{server}/brief/search/?q={quote('aleppo corridor')}")
    assert results(tab) == [CORRIDORS_URL]
    assert tab.locator("#search-q").input_value() == "aleppo corridor"


@browser_test
def test_without_javascript_the_page_says_so_and_links_to_archives(server: str, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(f"{server}/brief/search/?q=aleppo")
        assert not tab.locator("form.search-form").is_visible()
        notice = tab.locator("[data-search-nojs]")
        assert notice.is_visible() and "Search needs JavaScript" in notice.inner_text()
        links = notice.locator("a").evaluate_all("a => a.map(x => new URL(x.href).pathname)")
        assert links == ["/brief/topics/", "/brief/archive/"]
    finally:
        context.close()


@browser_test
def test_keyboard_only_from_the_header_to_a_result(server: str, tab: Any) -> None:
    tab.goto(f"{server}/brief/")
    for _ in range(40):
        tab.keyboard.press("Tab")
        if tab.evaluate("document.activeElement.id") == "search-box-q":
            break
    else:
        pytest.fail("Tab never reached the header's search box")
    tab.keyboard.type("grain")
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/brief/search/?q=grain")
    assert results(tab) == [GRAIN_URL]
    tab.focus("#search-q")
    for _ in range(10):
        tab.keyboard.press("Tab")
        if tab.evaluate("document.activeElement.closest('#search-results') !== null"):
            break
    else:
        pytest.fail("Tab never reached the results")
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"**{GRAIN_URL}")


@browser_test
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_axe_violations_on_the_search_page(server: str, browser: Any, scheme: str) -> None:
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    context = browser.new_context(color_scheme=scheme)
    try:
        tab = context.new_page()
        tab.goto(f"{server}/brief/search/?q=aleppo")
        assert results(tab)
        violations = axe.run(tab).response["violations"]
        assert violations == [], json.dumps(violations, indent=1)[:3000]
        tab.goto(f"{server}/brief/")
        violations = axe.run(tab).response["violations"]
        assert violations == [], json.dumps(violations, indent=1)[:3000]
    finally:
        context.close()


@browser_test
def test_client_folds_shards_and_hashes_words_as_the_index_does(server: str, tab: Any) -> None:
    from briefgen.search.phrases import RUN_END, WordHashes, sequence, word_hash
    from briefgen.search.text import PREFIX, PREFIX_MARK, UNSPACED_CHARS, shard_of, words, words_and_runs

    samples = ["Élysée Straße ÅNGSTRÖM", "Переговоры в Женеве; ЙОД ёлка", "naïve café-crème 42nd",
               "İstanbul Ǆ ﬁnal", "東京 and Ελληνικά", "under_score x²", "越南与中国签署贸易协定。中、越",
               "iPhone手机销量 東京で会議が開かれた ｶﾞｲﾄﾞ", "〇々 𠀀𠀁𠀂 서울에서 豈",
               "København Łódź Đà Nẵng ÆRØ Œuvre STRAẞE Diyarbakır IĞDIR Þórr Ħal",  # noqa: RUF001
               "ΚΟΣΜΟΣ κόσμος ΟΔΟΣ ς", "Bundes\u00adverfassungs\u00adgericht",
               "Cafe\u0301 \U0001e900\U0001e944\U0001e923 \U00011013\U00011038",
               "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย ๒๕๖๗ ฿5", "ພາສາລາວ ភាសាខ្មែរ မြန်မာစာ",
               "ガス カス ビル ｶﾞｲﾄﾞ 東京で会議 서울에서", "हिन्दी किताब काम ক্ষ ਪੰਜਾਬ", "ข้าว ขาว",
               "שָׁלוֹם مَرْحَبًا \u0301x a\u20dd \u0e4eก \u07ff\u0800\u0901 \u1fff\u3099 \u2cef\u2c80\u2cef ދިވެހި",
               "a\u0e31b \u0901x \u309b \u3099\u30ab ก\u0901 क\u0e31 \U00011013\U00011038 ｶﾞ"]
    tab.goto(f"{server}/brief/search/")
    tab.wait_for_selector("#search-q", state="visible")
    for text in samples:
        client = tab.evaluate("t => window.briefgenSearch.words(t)", text)
        assert client == words(text), text
        shards = tab.evaluate("ws => ws.map(w => window.briefgenSearch.shardOf(w, 64))", client)
        assert shards == [shard_of(w, 64) for w in client], text
        # A word of three letters reads the shard of its prefix term.
        starts = [w[:PREFIX] for w in client if len(w) > PREFIX]
        shards = tab.evaluate("ws => ws.map(w => window.briefgenSearch.shardOf(w, 64))", starts)
        assert shards == [shard_of(w + PREFIX_MARK, 64) for w in starts], text
        hashes = tab.evaluate("ws => ws.map(w => window.briefgenSearch.wordHash(w))", client)
        assert hashes == [word_hash(w) for w in client], text
        # A quoted phrase of this text asks for the units a document's words hold for it, but
        # for the end mark of a last run, which may stop inside a longer one.
        found, runs = words_and_runs(text)
        data = sequence([(found, runs)], WordHashes())
        expected = [int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2)]
        if runs and runs[-1][0]:
            assert expected.pop() == RUN_END
        assert tab.evaluate("t => window.briefgenSearch.phraseUnits(t)", text) == expected, text
    # search.js states the unspaced scripts' ranges again: each range's first and last character
    # and its two neighbours, each between two kanji, split alike.
    bounds = [ord(bound) for pair in re.findall(r"(.)-(.)", UNSPACED_CHARS, re.S) for bound in pair]
    edges = [chr(point + step) for point in bounds for step in (-1, 0, 1) if 0 < point + step < 0x110000]
    text = " ".join(f"中{char}中" for char in edges if not 0xD800 <= ord(char) <= 0xDFFF)
    assert tab.evaluate("t => window.briefgenSearch.words(t)", text) == words(text)



def test_the_state_keeps_words_and_makes_their_prefix_terms_as_indexing_does(tmp_path: Path) -> None:
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.search import documents, indexing, postings
    from briefgen.search.text import PREFIX_MARK

    site = make_site(tmp_path, FILES, CONFIG)
    model = load(site, BuildOptions()).site
    built = indexing.build(model, lambda doc: doc.body.html)
    rows = _Rows()
    built.save(rows)
    kept = postings.read_state(rows)
    assert kept is not None
    for doc_id in range(len(built.keys)):
        words = documents.document_words(model, doc_id, lambda doc: doc.body.html)
        indexed = documents.indexed_doc(words, documents.PrefixTerms())
        joined, _ = kept.kept_terms(doc_id)
        # The rows hold a document's words; its prefix terms are made again from them.
        assert joined == indexed.terms and PREFIX_MARK not in joined
        assert kept.doc_terms(doc_id) == indexed.postings(doc_id)
        assert any(term.endswith(PREFIX_MARK) for term in indexed.postings(doc_id))


def test_a_term_of_one_document_is_listed_as_the_general_encoding_lists_it() -> None:
    from briefgen.search import encoding

    for doc_id in (0, 1, 127, 128, 16_383, 16_384, 70_000, 1 << 40):
        for weight in (0, 1, 127, 128, 16_383, 16_384, 0xFFFF):
            assert encoding.weighted_one(doc_id, weight) == encoding.weighted([doc_id], [weight])


def test_every_value_the_varints_cut_from_bytes_made_whole_is_written_as_the_varint_loop_writes_it() -> None:
    from briefgen.search import encoding

    varints = encoding._Varints()
    assert all(varints[value] == encoding._varint(value) for value in range(1 << 14))
    assert len(encoding._two_byte_varints()) == 2 * ((1 << 14) - 0x80)
    values = [0, 127, 128, 300, 16_383, 16_384, 2_000_000]  # past two bytes: the loop, joined
    assert encoding._varints(values) == b"".join(map(encoding._varint, values))


@browser_test
def test_client_decodes_postings_as_they_were_written(server: str, tab: Any) -> None:
    from briefgen.search import encoding

    tab.goto(f"{server}/brief/search/")
    tab.wait_for_selector("#search-q", state="visible")
    dense = list(range(3, 5000, 2))
    cases = {
        encoding.weighted([0, 1, 130, 20000, 2_000_000], [256, 0xFFFF, 300, 1, 16384]): [
            0, 256, 1, 0xFFFF, 130, 300, 20000, 1, 2_000_000, 16384],
        encoding.present([7, 8, 1000]): [7, -1, 8, -1, 1000, -1],
        encoding.present(dense): [n for doc_id in dense for n in (doc_id, -1)],
        encoding.weighted_one(5, 300): [5, 300],
        encoding.weighted_one(70_000, 0xFFFF): [70_000, 0xFFFF],
    }
    assert encoding.present(dense)[0] == encoding.BITMAP
    for entry, expected in cases.items():
        assert tab.evaluate("e => window.briefgenSearch.postingsOf(e)", entry) == expected, entry[:20]

# ---------------------------------------------------------------- live preview


def test_serve_reflects_an_edit_in_search_as_soon_as_the_page(tmp_path: Path) -> None:
    from briefgen.serve.server import DevServer

    site = make_site(tmp_path, FILES, CONFIG)
    server = DevServer(site, "127.0.0.1", 0, drafts=False, out=lambda _: None, err=lambda _: None)
    server.start()
    try:
        origin = f"http://127.0.0.1:{server.port}"

        def get(path: str) -> bytes:
            with urllib.request.urlopen(origin + path, timeout=10) as response:
                data: bytes = response.read()
                return data

        assert b"Search the briefings" in get("/brief/search/")
        meta = json.loads(get("/brief/search/meta.json"))
        from briefgen.search.encoding import decode
        from briefgen.search.text import shard_of

        shard = f"/brief/search/terms/{shard_of('zeppelins', meta['shards'])}.json"
        assert "zeppelins" not in json.loads(get(shard))
        path = site / "content/briefings/2016/grain.md"
        path.write_text(GRAIN.replace("three vessels", "three zeppelins"), encoding="utf-8")
        deadline = time.monotonic() + 20
        while b"zeppelins" not in get(GRAIN_URL):
            assert time.monotonic() < deadline, "the page never showed the edit"
            time.sleep(0.05)
        postings = decode(json.loads(get(shard))["zeppelins"])
        assert list(postings) == [4]  # the grain briefing's id
        from briefgen.search.phrases import word_hash
        words = base64.b64decode(json.loads(get("/brief/search/docs/4.json"))["words"])
        pairs = [words[i:i + 2] for i in range(0, len(words), 2)]
        assert word_hash("zeppelins").to_bytes(2, "little") in pairs
    finally:
        server.stop()


@pytest.mark.parametrize(("floor", "worth"), [(64, None), (1, None), (1, 1000)],
                         ids=["update by id", "ids moved", "ids moved, fewer than an update takes"])
def test_updating_the_postings_equals_indexing_afresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, floor: int, worth: int | None) -> None:
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.search import indexing, postings

    monkeypatch.setattr(indexing, "UPDATE_FLOOR", floor)
    if worth is not None:
        # Past the floor, moving ids is cheaper than updating them one by one, however few.
        monkeypatch.setattr(indexing, "_worth_updating", lambda count: worth)
    moved = _moves(monkeypatch)
    site = make_site(tmp_path, FILES, CONFIG)

    def indexed(previous: postings.Postings | None = None) -> postings.Postings:
        model = load(site, BuildOptions()).site
        return indexing.build(model, lambda doc: doc.body.html, previous)

    first = indexed()
    def shards(p: postings.Postings) -> list[bytes]:
        return [p.shard_bytes(n) for n in range(p.shards)]

    kept = shards(first)
    steps = [
        ("content/briefings/2016/grain.md", GRAIN.replace("three vessels", "three zeppelins")),
        ("content/briefings/2016/later.md", WINTER.replace("2015-11-02", "2016-12-01").replace(
            "Energy prices and the Aleppo winter", "Heating oil runs short")),
        ("content/briefings/2015/elysee.md", None),  # every later id shifts
        ("content/pages/about.md", ABOUT.replace("methodology", "approach")),
        ("content/briefings/2015/early.md", WINTER.replace("2015-11-02", "2015-01-20").replace(
            "Energy prices and the Aleppo winter", "An early thaw")),  # every later id shifts
        ("content/pages/more.md", ABOUT.replace("About", "More")),  # every briefing's id shifts
    ]
    previous = first
    for relative, text in steps:
        if text is None:
            (site / relative).unlink()
        else:
            write_files(site, {relative: text})
        moved.clear()
        updated, fresh = indexed(previous), indexed()
        # With a floor of 1, whatever moves ids takes the moving update.
        moves_ids = relative.endswith(("elysee.md", "early.md", "more.md"))
        assert bool(moved) == (floor == 1 and moves_ids), relative
        assert shards(updated) == shards(fresh), relative
        assert updated.encoded == fresh.encoded
        assert (updated.keys, updated.lengths) == (fresh.keys, fresh.lengths)
        assert [updated.doc_terms(i) for i in range(len(updated.keys))] == [
            fresh.doc_terms(i) for i in range(len(fresh.keys))]
        assert sorted(updated.lists) == sorted(fresh.lists)
        previous = updated
    assert shards(first) == kept  # the earlier state is left as it was


class _Rows:
    """The build cache's state rows, in a dict, counting what an update reads."""

    writable = True

    def __init__(self) -> None:
        self.rows: dict[str, object] = {}
        self.read: list[str] = []
        self.saved: list[str] = []  # the names of the rows saved, in order

    def load(self, names: Any) -> dict[str, Any]:
        self.read += list(names)
        return {name: self.rows[name] for name in names if name in self.rows}

    def save(self, values: dict[str, Any], fresh: bool) -> None:
        if fresh:
            self.rows.clear()
        self.rows.update(values)
        self.saved += list(values)


def _indexed_into_rows(site: Path) -> tuple[Callable[[], Any], _Rows, Any]:
    """A way to the site's model as it is now, and its postings indexed afresh and saved in rows."""
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.search import indexing

    def model() -> Any:
        return load(site, BuildOptions()).site

    rows = _Rows()
    first = indexing.build(model(), lambda doc: doc.body.html)
    first.save(rows)
    return model, rows, first


@pytest.mark.parametrize(("spare", "streamed"), [(False, False), (True, False), (True, True)],
                         ids=["copied", "changed in place", "saved as it goes"])
@pytest.mark.parametrize("floor", [64, 1], ids=["update by id", "ids moved"])
def test_postings_kept_in_rows_update_to_what_indexing_afresh_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, floor: int, spare: bool, streamed: bool) -> None:
    from briefgen.search import documents, indexing, postings, state

    monkeypatch.setattr(indexing, "UPDATE_FLOOR", floor)
    monkeypatch.setattr(state, "ROWS_READ_AT_ONCE", 2)  # shards are read in several batches
    # Rows of four documents' terms: a moving update keeps those before the first id that moved.
    monkeypatch.setattr(state, "CHUNK", 4)
    terms_read: list[int] = []
    real_kept_terms = postings.Postings.kept_terms

    def kept_terms(self: postings.Postings, doc_id: int) -> documents.DocTerms:
        terms_read.append(doc_id)
        return real_kept_terms(self, doc_id)

    monkeypatch.setattr(postings.Postings, "kept_terms", kept_terms)
    moved = _moves(monkeypatch)

    files = {**FILES, **{f"content/briefings/2014/filler{n}.md":
                         f"---\ntitle: Filler {n}\ndate: 2014-01-{n + 1:02d}\n---\n"
                         f"Words number {n} and many others: " + " ".join(f"w{n}x{k}" for k in range(40))
                         for n in range(20)}}
    site = make_site(tmp_path, files, CONFIG)
    model, rows, _ = _indexed_into_rows(site)
    steps = [
        ("content/briefings/2016/grain.md", GRAIN.replace("three vessels", "three zeppelins")),
        ("content/briefings/2014/filler3.md", None),  # every later id shifts
        # A short one: a briefing's words and their prefix terms are keyed apart, and a long
        # briefing's reach every one of this small site's 16 shards.
        ("content/briefings/2017/late.md", "---\ntitle: Late thaw\ndate: 2017-01-05\n---\nA late thaw.\n"),
        ("content/briefings/2014/filler9b.md", "---\ntitle: Filler nine b\ndate: 2014-01-10\n---\n"
         "Words inserted among the fillers: w9x1 w9x2 and thaw."),  # every later id shifts
    ]
    for relative, text in steps:
        if text is None:
            (site / relative).unlink()
        else:
            write_files(site, {relative: text})
        rows.read.clear()
        kept = postings.read_state(rows)
        assert kept is not None and kept.loaded == set()
        moved.clear()
        terms_read.clear()
        saved_before = len(rows.saved)
        updated = indexing.build(model(), lambda doc: doc.body.html, kept, previous_spare=spare,
                                 save_to=rows if streamed else None)
        assert bool(moved) == (floor == 1 and relative.endswith(("filler3.md", "filler9b.md"))), relative
        shards_saved = [name for name in rows.saved[saved_before:] if name.startswith("search/shard/")]
        if streamed:
            # The shards it changed were saved as it went, a batch at a time, and no posting is held.
            assert len(shards_saved) > 2 and not updated.lists, relative
        else:
            assert not shards_saved
        if moved:
            # The about page and the fillers before the first that moved: their row is kept unread.
            assert terms_read and min(terms_read) >= 4, relative
        shards_read = [name for name in rows.read if name.startswith("search/shard/")]
        fresh = indexing.build(model(), lambda doc: doc.body.html)
        assert [updated.shard_bytes(n) for n in range(updated.shards)] == [
            fresh.shard_bytes(n) for n in range(fresh.shards)], relative
        if relative.endswith(("grain.md", "late.md")) and floor > 1:
            # An edit in place reads the shards of the words it changed, not all of them; so does
            # a new briefing, with the shards of the terms the new count lists otherwise.
            assert 0 < len(shards_read) < updated.shards, (relative, shards_read)
        if not spare:
            # The postings updated were copies: those read stay as the rows hold them.
            as_kept = postings.read_state(rows)
            assert as_kept is not None
            as_kept.load_shards(range(as_kept.shards))
            assert kept.lists and {t: list(a) for t, a in kept.lists.items()} == {
                t: list(as_kept.lists[t]) for t in kept.lists}, relative
        updated.save(rows)
        again = postings.read_state(rows)
        assert again is not None
        assert [again.shard_bytes(n) for n in range(again.shards)] == [
            fresh.shard_bytes(n) for n in range(fresh.shards)], relative
        assert [again.digest(n) for n in range(again.shards)] == [
            fresh.digest(n) for n in range(fresh.shards)]
        assert [again.doc_terms(i) for i in range(len(again.keys))] == [
            fresh.doc_terms(i) for i in range(len(fresh.keys))]


def test_postings_set_aside_in_batches_are_what_indexing_holds_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first build that sets its postings aside a batch at a time (see spill.py) makes the same
    shards, rows and head as one that holds them all, and an update from its rows is what
    indexing afresh gives; so is a whole build, in two processes, with and without."""
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.search import indexing, postings, spill, state

    files = {**FILES, **{f"content/briefings/2014/filler{n}.md":
                         f"---\ntitle: Filler {n}\ndate: 2014-01-{n + 1:02d}\n---\n"
                         "Words shared by fillers, and " + " ".join(f"w{n}x{k}" for k in range(30))
                         for n in range(12)}}
    site = make_site(tmp_path / "site", files, CONFIG)
    model, whole_rows, whole = _indexed_into_rows(site)
    assert not whole.spilled
    spills: list[int] = []
    real_spill = spill.SpilledShards.spill

    def counted(self: spill.SpilledShards, lists: Any) -> None:
        spills.append(sum(map(len, lists.values())))
        real_spill(self, lists)

    monkeypatch.setattr(spill.SpilledShards, "spill", counted)
    monkeypatch.setattr(indexing, "SPILL_AT", 60)  # a few documents' postings
    set_aside = indexing.build(model(), lambda doc: doc.body.html)
    assert len(spills) > 5 and sum(spills) == sum(map(len, whole.lists.values()))
    assert set_aside.spilled is not None and not set_aside.lists
    rows = _Rows()
    set_aside.save(rows)
    assert set_aside.spilled is None  # every shard taken back, the file let go of
    assert rows.rows.keys() == whole_rows.rows.keys()
    for name, value in rows.rows.items():
        if name == state.HEAD:  # kept as it is, its keys one string
            assert [list(part) if isinstance(part, state.Keys) else part for part in value] == [
                list(part) if isinstance(part, state.Keys) else part for part in whole_rows.rows[name]]
        else:
            assert state.unpack(value, name) == state.unpack(whole_rows.rows[name], name), name
    assert [set_aside.shard_bytes(n) for n in range(set_aside.shards)] == [
        whole.shard_bytes(n) for n in range(whole.shards)]

    write_files(site, {"content/briefings/2014/filler5.md": "---\ntitle: Filler five\ndate: 2014-01-06\n"
                       "---\nNew words: zeppelins over the fillers.\n"})
    kept = postings.read_state(rows)
    assert kept is not None
    updated = indexing.build(model(), lambda doc: doc.body.html, kept)
    monkeypatch.setattr(indexing, "SPILL_AT", spill.SPILL_AT)
    fresh = indexing.build(model(), lambda doc: doc.body.html)
    assert [updated.shard_bytes(n) for n in range(updated.shards)] == [
        fresh.shard_bytes(n) for n in range(fresh.shards)]

    # A whole build, whose workers index the documents, sets them aside as well: with a cache,
    # in the cache's folder (the system's temporary folder may be kept in memory).
    spills.clear()
    folders: list[Path | None] = []
    real_init = spill.SpilledShards.__init__

    def noted(self: spill.SpilledShards, shards: int, folder: Path | None = None) -> None:
        folders.append(folder)
        real_init(self, shards, folder)

    monkeypatch.setattr(spill.SpilledShards, "__init__", noted)
    monkeypatch.setattr(indexing, "SPILL_AT", 60)
    build(site, BuildOptions(jobs=2, output=tmp_path / "set-aside"))
    assert len(spills) > 5 and folders == [site / ".briefgen-cache"]
    monkeypatch.setattr(indexing, "SPILL_AT", spill.SPILL_AT)
    build(site, BuildOptions(jobs=2, use_cache=False, output=tmp_path / "held"))
    assert tree_bytes(tmp_path / "set-aside") == tree_bytes(tmp_path / "held")


def test_a_preview_indexing_afresh_with_postings_set_aside_reuses_no_shard_it_cannot_tell_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live preview reuses the bytes of the term shards an update left alone (see
    SearchIndex._keep_unchanged_shards). After a change large enough to index every document
    afresh, with the postings set aside (spill.py), no shard's terms are known until it is taken
    back: a shard that had none before and has some now is made again, not reused empty."""
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.search import indexing
    from briefgen.search.index import SearchIndex

    # Few words: some of the sixteen shards have none.
    site = make_site(tmp_path, {f"content/briefings/2014/filler{n}.md":
                                f"---\ntitle: F{n}\ndate: 2014-01-{n + 1:02d}\n---\nx.\n" for n in range(12)},
                     CONFIG)

    def html(doc: Any) -> str:
        return str(doc.body.html)

    before = SearchIndex(load(site, BuildOptions()).site, html)
    kept = {shard: before.term_shard(shard) for shard in range(before.shards)}
    # Every one gains words of its own: a change indexed afresh, with as many documents.
    for n in range(12):
        write_files(site, {f"content/briefings/2014/filler{n}.md":
                           f"---\ntitle: F{n}\ndate: 2014-01-{n + 1:02d}\n---\nx, "
                           + " ".join(f"q{n}x{k} zz{n}y{k}" for k in range(12)) + "\n"})
    model = load(site, BuildOptions()).site
    monkeypatch.setattr(indexing, "SPILL_AT", 40)
    monkeypatch.setattr(indexing, "UPDATE_FLOOR", 1)  # every document changed: afresh
    after = SearchIndex(model, html, before.postings, kept)
    assert after.postings.spilled is not None  # indexed afresh, set aside
    monkeypatch.undo()
    fresh = SearchIndex(model, html)
    made = [after.term_shard(shard) for shard in range(after.shards)]
    assert made == [fresh.term_shard(shard) for shard in range(fresh.shards)]
    # Shards with no terms before that have some now: what reusing them would have got wrong.
    assert any(not before.postings.shard_terms.get(shard) and fresh.postings.shard_terms.get(shard)
               for shard in range(fresh.shards))


def test_an_update_of_postings_set_aside_and_never_saved_is_what_indexing_afresh_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a cache (or rows to save to), postings indexed afresh and set aside (spill.py) stay
    set aside until asked for: an update from them (the live preview's next edit) reads every
    shard back first, and gives what indexing afresh gives."""
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.search import indexing

    site = make_site(tmp_path, FILES, CONFIG)
    monkeypatch.setattr(indexing, "SPILL_AT", 40)
    first = indexing.build(load(site, BuildOptions()).site, lambda doc: doc.body.html)
    assert first.spilled is not None
    write_files(site, {"content/briefings/2016/grain.md": GRAIN.replace("three vessels", "three zeppelins")})
    model = load(site, BuildOptions()).site
    updated = indexing.build(model, lambda doc: doc.body.html, first)
    monkeypatch.undo()
    fresh = indexing.build(model, lambda doc: doc.body.html)
    assert list(updated.keys) == list(fresh.keys)
    assert [updated.shard_bytes(n) for n in range(updated.shards)] == [
        fresh.shard_bytes(n) for n in range(fresh.shards)]


def test_a_damaged_row_met_half_way_through_an_update_saved_as_it_goes_means_indexing_afresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An update that saves the shards it changed as it goes (see indexing.build) and then meets
    a damaged row indexes everything afresh, and saving that drops the rows it saved."""
    from briefgen.search import indexing, postings, state

    monkeypatch.setattr(state, "ROWS_READ_AT_ONCE", 2)
    site = make_site(tmp_path, FILES, CONFIG)
    model, rows, first = _indexed_into_rows(site)
    shards = [name for name in rows.rows if name.startswith("search/shard/")]
    # A new briefing whose words reach most shards; the rows of the later half damaged.
    words = " ".join(f"word{n} zephyr{n} quartz{n}" for n in range(60))
    write_files(site, {"content/briefings/2017/late.md":
                       f"---\ntitle: Late\ndate: 2017-01-05\n---\n{words}\n"})
    for name in shards:
        if int(name.rpartition("/")[2]) >= first.shards // 2:
            rows.rows[name] = "damaged"
    kept = postings.read_state(rows)
    assert kept is not None
    rows.saved.clear()
    updated = indexing.build(model(), lambda doc: doc.body.html, kept, previous_spare=True, save_to=rows)
    assert any(name.startswith("search/shard/") for name in rows.saved)  # saved some before the damage
    assert updated.fresh  # indexed afresh
    updated.save(rows)
    fresh = indexing.build(model(), lambda doc: doc.body.html)
    again = postings.read_state(rows)
    assert again is not None and "damaged" not in rows.rows.values()
    assert [again.shard_bytes(n) for n in range(again.shards)] == [
        fresh.shard_bytes(n) for n in range(fresh.shards)]


def test_shard_rows_are_kept_plain_and_compressed_ones_an_earlier_build_left_are_read(tmp_path: Path) -> None:
    """Term shards' rows are plain pickles; an update reads the compressed ones earlier
    versions kept of a first build as it reads plain ones, and writes what it changed plain."""
    import zlib

    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.search import indexing, postings, state

    site = make_site(tmp_path, FILES, CONFIG)
    rows = _Rows()

    def model() -> Any:
        return load(site, BuildOptions()).site

    def plain(names: list[str]) -> list[str]:
        return [name for name in names if bytes(rows.rows[name])[:1] == pickle.dumps(None, 5)[:1]]

    indexing.build(model(), lambda doc: doc.body.html).save(rows)
    shard_rows = [name for name in rows.rows if name.startswith("search/shard/")]
    assert shard_rows and plain(shard_rows) == shard_rows
    for name in shard_rows:  # as earlier versions kept a first build's
        rows.rows[name] = zlib.compress(bytes(rows.rows[name]), 1)
    assert plain(shard_rows) == []
    # One word for another: the shards of two terms change.
    write_files(site, {"content/briefings/2016/grain.md": GRAIN.replace("three vessels", "three zeppelins")})
    kept = postings.read_state(rows)
    assert kept is not None
    updated = indexing.build(model(), lambda doc: doc.body.html, kept)
    changed = [state.shard_row(n) for n in sorted(updated.changed_shards)]
    updated.save(rows)
    assert changed and plain(changed) == changed and len(plain(shard_rows)) == len(changed)
    write_files(site, {"content/briefings/2016/grain.md": GRAIN.replace("three vessels", "three airships")})
    again = postings.read_state(rows)
    assert again is not None
    last = indexing.build(model(), lambda doc: doc.body.html, again)
    fresh = indexing.build(model(), lambda doc: doc.body.html)
    assert ([last.shard_bytes(n) for n in range(last.shards)]
            == [fresh.shard_bytes(n) for n in range(fresh.shards)])
    assert {term for n in range(last.shards) for term in last.shard_terms.get(n, ())} >= {"airships"}


def test_a_moving_update_writes_the_rows_of_the_shards_it_changed(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A moving update keeps the rows of shards whose entries all stayed, and writes the others:
    those of moved postings, and of a term gone with the briefing that alone had it."""
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.search import indexing, postings, state, text
    from briefgen.site import search_files

    monkeypatch.setattr(indexing, "UPDATE_FLOOR", 1)
    # Many shards for few terms: most terms are alone in theirs.
    monkeypatch.setattr(search_files, "shard_count", lambda documents: 4096)
    moved = _moves(monkeypatch)
    files = {**FILES, "content/briefings/2014/quagga.md":
             "---\ntitle: Quagga\ndate: 2014-02-01\n---\nA quagga sighted near the zebu pens.\n"}
    site = make_site(tmp_path, files, CONFIG)
    rows = _Rows()
    first = indexing.build(load(site, BuildOptions()).site, lambda doc: doc.body.html)
    first.save(rows)
    shard = text.shard_of("quagga", first.shards)
    assert b'"quagga"' in first.shard_bytes(shard)
    gone = state.shard_row(shard)
    (site / "content/briefings/2014/quagga.md").unlink()  # the oldest briefing: every id moves
    kept = postings.read_state(rows)
    assert kept is not None
    updated = indexing.build(load(site, BuildOptions()).site, lambda doc: doc.body.html, kept)
    assert moved
    before = dict(rows.rows)
    updated.save(rows)
    written = {name for name, value in rows.rows.items() if before.get(name) is not value}
    shard_rows = {name for name in rows.rows if name.startswith("search/shard/")}
    assert gone in written
    assert 0 < len(written & shard_rows) < len(shard_rows)
    fresh = indexing.build(load(site, BuildOptions()).site, lambda doc: doc.body.html)
    again = postings.read_state(rows)
    assert again is not None
    assert [again.shard_bytes(n) for n in range(again.shards)] == [
        fresh.shard_bytes(n) for n in range(fresh.shards)]
    assert [again.digest(n) for n in range(again.shards)] == [fresh.digest(n) for n in range(fresh.shards)]
    assert b"quagga" not in b"".join(again.shard_bytes(n) for n in range(again.shards))


def test_every_documents_key_at_once_is_each_ones_key(tmp_path: Path) -> None:
    """document_keys makes every key from the briefings themselves, numbering them as
    search_files does and listing their fields as `fields` does: the keys document_key gives
    one by one, on the demo (a page, briefings citing shared sources, topics) and on this
    file's site."""
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.search import documents
    from briefgen.site.search_files import document_count

    for root in (REPO, make_site(tmp_path, FILES, CONFIG)):
        model = load(root, BuildOptions()).site
        keys = documents.document_keys(model)
        assert len(model.pages) >= 1 and len(keys) == document_count(model) > len(model.pages)
        assert keys == [documents.document_key(model, doc_id) for doc_id in range(document_count(model))]
        assert len(set(keys)) == len(keys)


def test_documents_kept_in_order_are_matched_by_key() -> None:
    from briefgen.search.indexing import kept_in_order

    assert kept_in_order(["a", "b", "c", "d"], ["a", "x", "b", "d"]) == {0: 0, 2: 1, 3: 3}
    assert kept_in_order(["a", "b", "c"], ["b", "c"]) == {0: 1, 1: 2}
    assert kept_in_order(["a", "b", "c"], ["a", "c", "b"]) is None  # an order changed
    assert kept_in_order(["a", "a", "b"], ["a", "b"]) is None  # two documents indexed alike
    assert kept_in_order(["a", "b"], ["b", "b"]) is None


@browser_test
def test_more_results_by_keyboard(tmp_path: Path, browser: Any) -> None:
    files = {f"content/briefings/2017/h{n}.md":
             f"---\ntitle: Harbour report {n}\ndate: 2017-03-{n + 1:02d}\n---\n"
             f"The harbour reopened, day {n}.\n"
             for n in range(12)}
    www = tmp_path / "www"
    build_ok(make_site(tmp_path, files, CONFIG), "--output", www / "brief")
    with serving(www) as server:
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(f"{server}/brief/search/?q=harbour")
            found = results(tab)
            assert len(found) == 10 and found[0].endswith("/harbour-report-11/")  # equal scores: newest first
            status = tab.locator("#search-status")
            assert status.inner_text() == "12 results for “harbour”, the first 10 shown."
            more = tab.locator("#search-more")
            assert more.is_visible()
            more.focus()
            tab.keyboard.press("Enter")
            tab.wait_for_function("document.querySelectorAll('#search-results > li').length === 12")
            assert not more.is_visible()
            assert tab.evaluate("document.activeElement.textContent") == "Harbour report 1"
            assert tab.locator("#search-status").inner_text() == "12 results for “harbour”."
        finally:
            context.close()


def test_a_search_row_lost_from_the_cache_means_indexing_afresh(tmp_path: Path) -> None:
    import sqlite3

    site = make_site(tmp_path / "a", FILES, CONFIG)
    out = tmp_path / "out"
    build_ok(site, "--output", out)
    with sqlite3.connect(site / ".briefgen-cache/cache.sqlite") as db:
        names = [row[0] for row in db.execute("SELECT name FROM state WHERE name LIKE 'search/shard/%'")]
        assert names
        db.execute("DELETE FROM state WHERE name LIKE 'search/shard/%' OR name LIKE 'search/terms/%'")
    # An edit needs some rows, and a shard file deleted by hand needs another.
    (out / "search/terms/3.json").unlink()
    write_files(site, {"content/briefings/2016/grain.md": GRAIN.replace("three vessels", "three zeppelins")})
    build_ok(site, "--output", out)
    fresh = tmp_path / "fresh"
    build_ok(site, "--output", fresh, "--no-cache")
    assert search_tree(out) == search_tree(fresh)

    # No edit: only the shard whose file was deleted is rendered, from a row that is gone.
    with sqlite3.connect(site / ".briefgen-cache/cache.sqlite") as db:
        db.execute("DELETE FROM state WHERE name LIKE 'search/shard/%'")
    (out / "search/terms/5.json").unlink()
    build_ok(site, "--output", out)
    assert search_tree(out) == search_tree(fresh)


@pytest.mark.parametrize("damage", ["frequencies", "lengths", "keys"])
def test_a_search_state_head_of_the_wrong_types_means_indexing_afresh(tmp_path: Path, damage: str) -> None:
    import pickle
    import sqlite3

    site = make_site(tmp_path / "a", FILES, CONFIG)
    out = tmp_path / "out"
    build_ok(site, "--output", out)
    with sqlite3.connect(site / ".briefgen-cache/cache.sqlite") as db:
        head = list(pickle.loads(db.execute("SELECT value FROM state WHERE name = 'search'").fetchone()[0]))
        at = {"keys": 2, "lengths": 3, "frequencies": 7}[damage]
        head[at] = ({term: "many" for term in head[at]} if damage == "frequencies"
                    else [str(value) if damage == "lengths" else 0 for value in head[at]])
        db.execute("UPDATE state SET value = ? WHERE name = 'search'", (pickle.dumps(tuple(head)),))
    # A new briefing changes the count: the update would read the kept frequencies and lengths.
    write_files(site, {"content/briefings/2016/later.md": WINTER.replace("2015-11-02", "2016-12-01")})
    build_ok(site, "--output", out)
    fresh = tmp_path / "fresh"
    build_ok(site, "--output", fresh, "--no-cache")
    assert search_tree(out) == search_tree(fresh)


@pytest.mark.parametrize("damage", ["two mappings", "counts", "entries", "typecode"])
def test_a_damaged_search_shard_row_means_indexing_afresh(tmp_path: Path, damage: str) -> None:
    import pickle
    import sqlite3
    from array import array

    site = make_site(tmp_path / "a", FILES, CONFIG)
    out = tmp_path / "out"
    build_ok(site, "--output", out)
    with sqlite3.connect(site / ".briefgen-cache/cache.sqlite") as db:
        rows = db.execute("SELECT name, value FROM state WHERE name LIKE 'search/shard/%'").fetchall()
        for name, value in rows:
            # A row's value is a pickle of the row's bytes, themselves a pickle (state.pack).
            terms, counts, entries, encoded = pickle.loads(pickle.loads(value))
            if damage == "two mappings":  # the shape rows had before they were joined
                found: object = ({}, {})
            elif damage == "counts":
                found = (terms, array("I", [count + 1 for count in counts]), entries, encoded)
            elif damage == "entries":
                found = (terms, counts, entries, encoded.rpartition("\0")[0])
            else:
                found = (terms, counts, array("d", entries), encoded)
            db.execute("UPDATE state SET value = ? WHERE name = ?", (pickle.dumps(pickle.dumps(found)), name))
    # An edit reads the rows of its words' shards; a new briefing may read them all.
    write_files(site, {"content/briefings/2016/grain.md": GRAIN.replace("three vessels", "three zeppelins"),
                       "content/briefings/2016/later.md": WINTER.replace("2015-11-02", "2016-12-01")})
    build_ok(site, "--output", out)
    fresh = tmp_path / "fresh"
    build_ok(site, "--output", fresh, "--no-cache")
    assert search_tree(out) == search_tree(fresh)


@browser_test
def test_the_search_page_speaks_the_site_language(tmp_path: Path, browser: Any) -> None:
    convoy = "\u041a\u043e\u043d\u0432\u043e\u0439"  # "Convoy" in Russian
    files = {f"content/briefings/2017/k{n}.md":
             f"---\ntitle: {convoy} {n}\ndate: 2017-03-{n + 1:02d}\n---\n{convoy}, day {n}.\n"
             for n in range(5)}
    www = tmp_path / "www"
    russian = CONFIG.replace('timezone = "UTC"', 'timezone = "UTC"\nlanguage = "ru"')
    build_ok(make_site(tmp_path, files, russian), "--output", www / "brief")
    page = (www / "brief/search/index.html").read_text(encoding="utf-8")
    assert "Поиск по брифингам" in page and "Для поиска нужен JavaScript" in page
    with serving(www) as server:
        context = browser.new_context()
        try:
            tab = context.new_page()
            assert len(type_query(tab, server, convoy.lower())) == 5
            # Russian plural forms: 5 takes "many", 1 takes "one".
            status = tab.locator("#search-status")
            assert status.inner_text() == f"5 результатов по запросу «{convoy.lower()}»."
            tab.goto(f"{server}/brief/search/?q=day+1")
            assert len(results(tab)) == 1
            assert status.inner_text() == "1 результат по запросу «day 1»."
            dates = tab.locator(".search-result__date time").all_inner_texts()
            assert dates == ["2 марта 2017 \u0433."], dates
        finally:
            context.close()


@browser_test
def test_a_frequent_word_of_a_large_site_is_listed_without_weights(tmp_path: Path, browser: Any) -> None:
    from briefgen.search.encoding import decode
    from briefgen.search.entries import PRESENCE_ONLY_FROM

    count = PRESENCE_ONLY_FROM + 52
    files = {f"content/briefings/2018/{n // 28 + 1:02d}/b{n}.md":
             f"---\ntitle: Note {n}\ndate: 2018-{n // 28 % 12 + 1:02d}-{n % 28 + 1:02d}\n---\n"
             + ("The harbour reopened. " if n % 3 == 0 else "Markets were calm. ") + f"Item {n}.\n"
             for n in range(count)}
    www = tmp_path / "www"
    build_ok(make_site(tmp_path, files, CONFIG), "--output", www / "brief")
    harbour = [n for n in range(count) if n % 3 == 0]
    shards = [json.loads(p.read_text(encoding="utf-8")) for p in (www / "brief/search/terms").glob("*.json")]
    entry = next(shard["harbour"] for shard in shards if "harbour" in shard)
    listed = decode(entry)
    assert len(listed) == len(harbour) and set(listed.values()) == {None}  # present documents, no weights
    with serving(www) as server:
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(f"{server}/brief/search/?q=harbour+item+300")
            assert len(results(tab)) == 1
            tab.goto(f"{server}/brief/search/?q=harbour")
            results(tab)
            assert tab.locator("#search-status").inner_text() == (
                f"{len(harbour)} results for “harbour”, the first 10 shown.")
        finally:
            context.close()


def test_a_parallel_build_keeps_the_index_state_an_edit_reads(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With workers, the state is held in memory while they read the cache, then written:
    the next build updates from it rather than indexing everything again."""
    from briefgen.build.cache import BuildCache
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.search import indexing, postings

    files = {**FILES, **{f"content/briefings/2014/filler{n}.md":
                         f"---\ntitle: Filler {n}\ndate: 2014-01-{n + 1:02d}\n---\n"
                         f"Harbour log {n}: " + " ".join(f"w{n}x{k}" for k in range(30))
                         for n in range(28)}}
    site = make_site(tmp_path, files, CONFIG)
    out = tmp_path / "out"
    build(site, BuildOptions(output=out, jobs=2))
    model = load(site, BuildOptions()).site
    fresh = indexing.build(model, lambda doc: doc.body.html)

    cache = BuildCache.open(site / ".briefgen-cache", writable=False)
    kept = postings.read_state(cache.state_rows("search"))
    assert kept is not None and kept.keys == fresh.keys
    assert [kept.doc_terms(i) for i in range(len(kept.keys))] == [
        fresh.doc_terms(i) for i in range(len(fresh.keys))]
    assert [kept.shard_bytes(n) for n in range(kept.shards)] == [
        fresh.shard_bytes(n) for n in range(fresh.shards)]

    # An edit updates from the kept state: it reads the rows of the words it changed.
    reads: list[str] = []
    original = postings.Postings.load_shards

    def counted(self: postings.Postings, shards: Any) -> None:
        reads.extend(str(s) for s in shards)
        original(self, shards)

    write_files(site, {"content/briefings/2014/filler3.md":
                       "---\ntitle: Filler 3\ndate: 2014-01-04\n---\nHarbour log 3: zeppelins moored.\n"})
    monkeypatch.setattr(postings.Postings, "load_shards", counted)
    build(site, BuildOptions(output=out, jobs=2))
    monkeypatch.undo()
    assert reads and len(set(reads)) < kept.shards
    build_ok(site, "--output", tmp_path / "clean", "--no-cache")
    assert search_tree(out) == search_tree(tmp_path / "clean")

    # A briefing deleted in the past moves every later id: with workers too, the moved
    # postings are kept, and the files equal a clean build's.
    monkeypatch.setattr(indexing, "UPDATE_FLOOR", 1)
    moves = _moves(monkeypatch)
    (site / "content/briefings/2014/filler5.md").unlink()
    build(site, BuildOptions(output=out, jobs=2))
    assert moves
    build_ok(site, "--output", tmp_path / "clean2", "--no-cache")
    assert search_tree(out) == search_tree(tmp_path / "clean2")
    kept = postings.read_state(BuildCache.open(site / ".briefgen-cache", writable=False).state_rows("search"))
    assert kept is not None and kept.output == str(out.resolve()) and len(kept.keys) == len(fresh.keys) - 1


def test_a_first_build_with_workers_has_them_split_the_texts(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexing afresh with workers, each document's text is split in the worker that renders
    its file, which sends its postings to the build's process: that process splits none, and
    every search file, and the state an edit updates, equal those of a build in one process."""
    from briefgen.build.cache import BuildCache
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.search import documents, indexing, postings

    files = {**FILES, **{f"content/briefings/2015/log{n}.md":
                         f"---\ntitle: Log {n}\ndate: 2015-02-{n + 1:02d}\n---\n"
                         f"Pier ledger {n}: " + " ".join(f"v{n}y{k}" for k in range(40)) + " ledger"
                         for n in range(28)}}
    site = make_site(tmp_path, files, CONFIG)
    split: list[int] = []  # appended to in this process only: workers are forked copies
    original = documents.document_words

    def counted(site: Any, doc_id: int, html_of: Any) -> Any:
        split.append(doc_id)
        return original(site, doc_id, html_of)

    monkeypatch.setattr(documents, "document_words", counted)
    build(site, BuildOptions(output=tmp_path / "workers", jobs=2))
    assert split == []
    monkeypatch.undo()
    build(site, BuildOptions(output=tmp_path / "one", jobs=1, use_cache=False))
    assert search_tree(tmp_path / "workers") == search_tree(tmp_path / "one")
    assert tree(tmp_path / "workers") == tree(tmp_path / "one")

    fresh = indexing.build(load(site, BuildOptions()).site, lambda doc: doc.body.html)
    kept = postings.read_state(BuildCache.open(site / ".briefgen-cache", writable=False).state_rows("search"))
    assert kept is not None and kept.keys == fresh.keys and kept.lengths == fresh.lengths
    assert [kept.doc_terms(i) for i in range(len(kept.keys))] == [
        fresh.doc_terms(i) for i in range(len(fresh.keys))]


def test_workers_make_moved_documents_files_from_their_earlier_files(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A briefing added or deleted among older ones moves the id of every newer document. With
    workers, they make the moved documents' files, from the words the earlier files hold, while
    the build's process updates the index: no process splits those texts again, and the output
    equals a clean build's."""
    import os

    from briefgen.build.cache import BuildCache
    from briefgen.build.loading import load
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.search import documents, index

    files = {**FILES, **{f"content/briefings/2016/tide{n}.md":
                         f"---\ntitle: Tide {n}\ndate: 2016-03-{n % 28 + 1:02d}T{n // 28 + 8:02d}:00\n---\n"
                         f"Tide table {n}: " + " ".join(f"t{n}z{k}" for k in range(25))
                         for n in range(80)}}
    site = make_site(tmp_path, files, CONFIG)
    out = tmp_path / "out"
    build(site, BuildOptions(output=out, jobs=2))
    log = tmp_path / "words.log"  # appended to by the build's process and its forked workers
    split, earlier = documents.document_words, index.SearchFiles._earlier_words

    def splitting(site: Any, doc_id: int, html_of: Any) -> Any:
        with log.open("a") as stream:
            stream.write(f"split {os.getpid()} {doc_id}\n")
        return split(site, doc_id, html_of)

    def reading(self: index.SearchFiles, doc_id: int) -> bytes | None:
        found = earlier(self, doc_id)
        with log.open("a") as stream:
            stream.write(f"{'earlier' if found is not None else 'missed'} {os.getpid()} {doc_id}\n")
        return found

    def manifest(self: BuildCache, output: Path) -> Any:
        with log.open("a") as stream:
            stream.write(f"manifest {os.getpid()} -\n")
        return read_manifest(self, output)

    monkeypatch.setattr(documents, "document_words", splitting)
    monkeypatch.setattr(index.SearchFiles, "_earlier_words", reading)
    # The build lets go of the last build's manifest while the workers fork: they are given
    # the entries of the earlier files they read, and never read it themselves.
    read_manifest = BuildCache.manifest
    monkeypatch.setattr(BuildCache, "manifest", manifest)
    for change in ("added", "deleted"):
        log.write_text("")
        if change == "added":
            write_files(site, {"content/briefings/2015/oldest.md":
                               "---\ntitle: Oldest tide\ndate: 2015-01-02\n---\nA tide table from before.\n"})
        else:
            (site / "content/briefings/2015/oldest.md").unlink()
        build(site, BuildOptions(output=out, jobs=2))
        lines = [line.split() for line in log.read_text().splitlines()]
        main = str(os.getpid())
        # The pages come first among the documents, then the briefings, oldest first: every
        # briefing but the oldest one, added or deleted, has moved.
        model = load(site, BuildOptions()).site
        first = len(model.pages) + (1 if change == "added" else 0)
        moved = set(range(first, len(model.pages) + len(model.briefings)))
        by_workers = {int(doc_id) for what, pid, doc_id in lines if what == "earlier" and pid != main}
        assert len(moved) >= 80 and moved <= by_workers, (change, sorted(moved - by_workers))
        assert not [line for line in lines if line[0] == "missed"]
        assert {pid for what, pid, _ in lines if what == "manifest"} == {main}
        split_ids = {int(doc_id) for what, _, doc_id in lines if what == "split"}
        assert not split_ids & moved
        build_ok(site, "--output", tmp_path / f"clean-{change}", "--no-cache")
        assert tree(out) == tree(tmp_path / f"clean-{change}")
        assert search_tree(out) == search_tree(tmp_path / f"clean-{change}")


@pytest.mark.parametrize("kept", [0, 150])
def test_result_files_past_the_kept_words_bound_are_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             kept: int) -> None:
    """Past the bound on kept word hashes, result files are made while indexing and kept in a
    temporary file: the files are the same bytes as those made from kept hashes."""
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.search import documents, index

    site = make_site(tmp_path, FILES, CONFIG)
    build(site, BuildOptions(output=tmp_path / "kept", jobs=1, use_cache=False))
    split: list[int] = []
    original = documents.document_words

    def counted(site: Any, doc_id: int, html_of: Any) -> Any:
        split.append(doc_id)
        return original(site, doc_id, html_of)

    monkeypatch.setattr(index, "_SEQUENCES_KEPT", kept)
    monkeypatch.setattr(documents, "document_words", counted)
    build(site, BuildOptions(output=tmp_path / "spooled", jobs=1, use_cache=False))
    documents = json.loads((tmp_path / "kept/search/meta.json").read_text())["documents"]
    # Each text split into words once, for the index: no result file splits it again.
    assert sorted(split) == list(range(documents))
    assert search_tree(tmp_path / "spooled") == search_tree(tmp_path / "kept")


def test_held_rows_read_back_what_was_saved_and_write_it_all_when_flushed(tmp_path: Path) -> None:
    from array import array

    from briefgen.search.state import HeldRows

    under = _Rows()
    under.rows = {"search": "old head", "search/shard/9": b"old shard"}
    held = HeldRows(under, tmp_path)
    held.save({"search": ("head", 1), "search/shard/1": b"\x00" * 5000}, fresh=False)
    held.save({"search/terms/0": ["a\0b", array("H", [1, 2])]}, fresh=False)
    # Held rows come from the spool; others from the rows under them.
    assert held.load(["search", "search/shard/9", "search/terms/0"]) == {
        "search": ("head", 1), "search/shard/9": b"old shard", "search/terms/0": ["a\0b", array("H", [1, 2])]}
    assert under.rows == {"search": "old head", "search/shard/9": b"old shard"}  # nothing written yet
    held.save({"search": ("head", 2)}, fresh=True)  # a fresh state: the earlier rows are none of it
    assert held.load(["search", "search/shard/1", "search/shard/9"]) == {"search": ("head", 2)}
    held.save({"search/shard/2": b"two"}, fresh=False)
    assert held.flush() is under
    assert under.rows == {"search": ("head", 2), "search/shard/2": b"two"}
    assert held.load(["search/shard/2"]) == {"search/shard/2": b"two"}  # from the rows under it now
    held.close()


@pytest.mark.parametrize("writable", [True, False], ids=["the cache's rows", "a read-only cache's"])
def test_held_rows_are_written_to_the_cache_as_they_are_held(tmp_path: Path, writable: bool) -> None:
    """Flushed into the cache's state rows, held rows are written as they were pickled (or, for a
    read-only cache, kept in its memory): read back, they are what was saved."""
    from array import array

    from briefgen.build.cache import StateRows
    from briefgen.build.store import Store
    from briefgen.search.state import HeldRows, TakesPickled

    store = Store(tmp_path / "cache.sqlite")
    StateRows(store, "search", True).save({"search": "old head", "search/shard/9": b"old"}, fresh=False)
    under = StateRows(store, "search", writable, memory=None if writable else {})
    assert isinstance(under, TakesPickled)
    held = HeldRows(under, tmp_path)
    held.save({"search": ("head", 1), "search/terms/0": ["a\0b", array("H", [1, 2])]}, fresh=True)
    held.save({"search/shard/2": b"two" * 3000}, fresh=False)
    assert held.flush() is under
    expected = {"search": ("head", 1), "search/terms/0": ["a\0b", array("H", [1, 2])],
                "search/shard/2": b"two" * 3000}
    names = [*expected, "search/shard/9"]
    if writable:
        assert under.load(names) == expected  # the fresh state dropped the old shard
    else:
        assert under.memory == expected  # nothing written: kept in memory
        kept = StateRows(store, "search", True).load(names)
        assert kept == {"search": "old head", "search/shard/9": b"old"}
    held.close()
    store.close()


def test_spooled_rows_read_back_each_row_as_written() -> None:
    from briefgen.search.state import SpooledRows

    rows = SpooledRows()
    rows[3] = b"third"
    rows[0] = bytes(range(256)) * 100
    rows[3] = b"third, again"  # a row written twice reads as the last
    assert rows[0] == bytes(range(256)) * 100 and rows[3] == b"third, again"
    assert sorted(rows) == [0, 3] and len(rows) == 2 and rows.get(1) is None
    del rows[0]
    assert dict(rows) == {3: b"third, again"}
