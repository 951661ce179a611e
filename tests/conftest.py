"""Shared helpers for the build, demo, bad-input and accessibility tests.

Every test builds a real site on disk and runs briefgen as a user would: through
`python -m briefgen` in a subprocess. Nothing inside briefgen is mocked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import posixpath
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[1]

DEFAULT_CONFIG = """\
[site]
title = "Test Briefings"
base_url = "https://example.org/"
language = "en"
timezone = "UTC"
description = "Briefings for the test suite"

[build]
per_page = 20
"""


# ---------------------------------------------------------------- sites on disk


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write files under root; text is dedented and written as UTF-8 with LF endings."""
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_bytes(textwrap.dedent(data).lstrip("\n").encode("utf-8"))


def make_site(tmp_path: Path, files: dict[str, str | bytes], config: str | None = None) -> Path:
    """A site folder in tmp_path/site: briefgen.toml (DEFAULT_CONFIG unless given) plus files."""
    root = tmp_path / "site"
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, {"briefgen.toml": DEFAULT_CONFIG if config is None else config})
    write_files(root, files)
    return root


@pytest.fixture
def site_factory(tmp_path: Path) -> Callable[..., Path]:
    def factory(files: dict[str, str | bytes], config: str | None = None) -> Path:
        return make_site(tmp_path, files, config)

    return factory


# ---------------------------------------------------------------- a corpus for rebuild tests

CORPUS_CONFIG = """\
[site]
title = "Incremental"
base_url = "https://example.org/brief/"

[build]
per_page = 2
"""

CORPUS_SOURCES = """\
- id: src-a
  title: "First article"
  publisher: Daily One
  url: https://example.org/a
  published: 2020-01-01
- id: src-b
  title: "Second article"
  publisher: Weekly Two
  url: https://example.org/b
  published: 2020-02-01
"""


def corpus_briefing(title: str, date: str, topics: str, body: str) -> str:
    return f"---\ntitle: \"{title}\"\ndate: {date}\ntopics: [{topics}]\nsources: [src-a]\n---\n{body}\n"


def corpus_site(tmp_path: Path, count: int = 6) -> Path:
    """tmp_path/site: `count` briefings over three months, two topics, two sources, an about page
    and a copy of the default briefing template (so template edits can be tested)."""
    files = {
        "content/sources/registry.yaml": CORPUS_SOURCES,
        "content/pages/about.md": "---\ntitle: About\n---\nAbout this site.\n",
    }
    for n in range(count):
        topics = "Alpha, Beta" if n % 2 else "Alpha"
        body = f"Paragraph {n} cites [@src-a]. More [@src-b, para. {n}].\n\nSecond paragraph {n}."
        if n == 3:
            body += "\n\nSee [the first](b0.md)."
        day = dt.date(2020, 1, 10) + dt.timedelta(days=n * 7 % 90)
        files[f"content/briefings/2020/b{n}.md"] = corpus_briefing(f"Briefing {n}", day.isoformat(),
                                                                   topics, body)
    root = make_site(tmp_path, files, CORPUS_CONFIG)
    templates = root / "templates"
    templates.mkdir()
    shutil.copy(REPO / "themes/default/templates/briefing.html", templates)
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# ---------------------------------------------------------------- the command line


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def __iter__(self) -> Iterator[Any]:  # code, stdout, stderr = run_cli(...)
        return iter((self.code, self.stdout, self.stderr))


def run_cli(*args: str | Path, cwd: Path | None = None, timeout: float = 120) -> CliResult:
    """Run `python -m briefgen ARGS` in a subprocess, with the repository importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONWARNINGS", None)
    completed = subprocess.run(
        [sys.executable, "-m", "briefgen", *(str(a) for a in args)],
        cwd=str(cwd or REPO), env=env, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def build_ok(site: Path, *args: str | Path) -> CliResult:
    """Build a site and fail the test, with briefgen's own messages, if it does not build."""
    result = run_cli("build", site, *args)
    assert result.code == 0, f"build failed ({result.code}):\n{result.stderr}\n{result.stdout}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


# ---------------------------------------------------------------- reading output


def soup_of(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def page(output: Path, url_path: str) -> BeautifulSoup:
    """Parse the page at a site-relative URL such as "2016/08/02/x/" ("" is the home page)."""
    target = output / url_path
    if url_path == "" or url_path.endswith("/"):
        target = target / "index.html"
    assert target.is_file(), f"{url_path!r} was not built ({target} missing)"
    return soup_of(target)


def tree_bytes(root: Path, skip: Iterable[str] = ()) -> dict[str, bytes]:
    """Every file under root as {relative POSIX path: bytes}."""
    skipped = tuple(skip)
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(rel.startswith(prefix) for prefix in skipped):
            files[rel] = path.read_bytes()
    return files


def text_of(element: Any) -> str:
    """An element's text with white space collapsed."""
    return " ".join(element.get_text(" ").split())


# ---------------------------------------------------------------- the link crawler


@dataclass(frozen=True)
class BrokenLink:
    page: str  # the output file holding the link
    link: str  # the href or src as written
    reason: str

    def __str__(self) -> str:
        return f"{self.page}: {self.link} ({self.reason})"


@dataclass
class Crawl:
    visited: set[str]  # output files reached, relative to output
    broken: list[BrokenLink]


_LINK_ATTRIBUTES = (("a", "href"), ("link", "href"), ("script", "src"), ("img", "src"),
                    ("source", "src"), ("iframe", "src"), ("form", "action"))


def _ids(soup: BeautifulSoup) -> set[str]:
    found = {str(tag["id"]) for tag in soup.find_all(id=True)}
    found |= {str(tag["name"]) for tag in soup.find_all("a", attrs={"name": True})}
    return found


def crawl(output: Path, base_path: str = "/", base_url: str | None = None,
          start: Iterable[str] = ("index.html", "404.html")) -> Crawl:
    """Follow every internal link from the start pages through the built site.

    A link is internal when it starts with base_path (for example "/brief/"), or, in
    <link> elements (canonical URL, feeds), with base_url. "DIR/" resolves to
    "DIR/index.html". A "#fragment" must name an id in the target page, and a bare
    "#fragment" an id in the same page.
    """
    if not base_path.endswith("/"):
        base_path += "/"
    broken: list[BrokenLink] = []
    parsed: dict[str, BeautifulSoup | None] = {}

    def load(rel_file: str) -> BeautifulSoup | None:
        if rel_file not in parsed:
            path = output / rel_file
            parsed[rel_file] = soup_of(path) if rel_file.endswith((".html", ".htm")) else None
        return parsed[rel_file]

    def target_of(link: str, here: str, absolute_ok: bool) -> tuple[str | None, str]:
        """The output file a link points at (None when external) and its fragment."""
        parts = urlsplit(link)
        fragment = unquote(parts.fragment)
        if link.startswith("#"):
            return here, fragment
        if parts.scheme in ("mailto", "tel", "data", "javascript"):
            return None, ""
        if absolute_ok and base_url and link.startswith(base_url):
            path = urlsplit(link).path
        elif parts.scheme or parts.netloc:
            return None, ""
        elif parts.path.startswith("/"):
            path = parts.path
        else:  # relative to the current page
            path = posixpath.join("/" + posixpath.dirname(here) + "/", parts.path)
            path = base_path + posixpath.normpath(path).lstrip("/")
            if parts.path.endswith("/"):
                path += "/"
        path = unquote(path)
        if not path.startswith(base_path):
            return "", fragment  # root-relative but outside the site: broken by definition
        rel = path[len(base_path):]
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        return posixpath.normpath(rel), fragment

    queue = [s for s in start if (output / s).is_file()]
    visited: set[str] = set(queue)
    missing_start = [s for s in start if not (output / s).is_file()]
    broken += [BrokenLink(s, s, "start page missing") for s in missing_start]
    while queue:
        here = queue.pop()
        soup = load(here)
        if soup is None:
            continue
        ids = _ids(soup)
        for tag_name, attribute in _LINK_ATTRIBUTES:
            for tag in soup.find_all(tag_name, attrs={attribute: True}):
                link = str(tag[attribute]).strip()
                if not link:
                    broken.append(BrokenLink(here, link, "empty link"))
                    continue
                # Absolute links to the site itself are checked in <link> (canonical, feeds);
                # in <a> they are the sources' own URLs, which may share the site's host.
                rel, fragment = target_of(link, here, tag_name == "link")
                if rel is None:
                    continue
                if rel == "" or rel.startswith("..") or not (output / rel).is_file():
                    broken.append(BrokenLink(here, link, "no such file"))
                    continue
                if fragment:
                    target = load(rel)
                    target_ids = ids if rel == here else (_ids(target) if target else set())
                    if rel.endswith((".html", ".htm")) and fragment not in target_ids:
                        broken.append(BrokenLink(here, link, f"no element with id {fragment!r}"))
                if rel not in visited:
                    visited.add(rel)
                    queue.append(rel)
    return Crawl(visited, broken)


def assert_no_broken_links(output: Path, base_path: str = "/",
                            base_url: str | None = None) -> Crawl:
    result = crawl(output, base_path, base_url)
    assert not result.broken, "broken internal links:\n" + "\n".join(map(str, result.broken))
    return result


# ---------------------------------------------------------------- diagnostics


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line]


@contextlib.contextmanager
def last_snapshot(site: Path, output: Path) -> Iterator[tuple[Any, Any]]:
    """The site's build cache (its store, open while the block runs) and the snapshot of its
    last build into `output`, which must have one."""
    from briefgen.build import snapshot
    from briefgen.build.store import STORE, Store

    store = Store(site / ".briefgen-cache" / STORE)
    try:
        kept = snapshot.read(store, str(output.resolve()))
        assert kept is not None
        yield store, kept
    finally:
        store.close()


def built_as_clean(site: Path, tmp_path: Path) -> Any:
    """Build the site, and check that its output, its warnings and the model the next edit in
    place starts from (the snapshot's sources, archives, passages, publishers and related
    briefings) are a clean build's."""
    from briefgen.build import snapshot
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build
    from briefgen.build.store import STORE, Store

    out = site / "output"
    warm = build(site, BuildOptions(jobs=1))
    clean_out = tmp_path / "clean"
    shutil.rmtree(clean_out, ignore_errors=True)
    clean = build(site, BuildOptions(jobs=1, use_cache=False, output=clean_out))
    assert tree_bytes(out, skip=[".briefgen"]) == tree_bytes(clean_out, skip=[".briefgen"])
    assert warm.warnings == clean.warnings
    store = Store(site / ".briefgen-cache" / STORE)
    try:
        kept = snapshot.read(store, str(out.resolve()))
    finally:
        store.close()
    assert kept is not None
    loaded = clean.model[0]
    assert ((kept.loaded.sources, kept.loaded.archives, kept.loaded.site.passages)
            == (loaded.sources, loaded.archives, loaded.site.passages))
    assert kept.loaded.site.publishers == loaded.site.publishers
    assert kept.loaded.site.related == loaded.site.related
    return warm


def noting_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the briefings checked against the archives, in order, from now on."""
    from briefgen.site import verify

    checked: list[str] = []
    check = verify._check_briefing

    def noted(doc: Any, *args: Any) -> Any:
        checked.append(doc.path)
        return check(doc, *args)

    monkeypatch.setattr(verify, "_check_briefing", noted)
    return checked
