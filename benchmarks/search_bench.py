"""Measure site search: what it adds to builds, the size of its files, and queries in Chromium.

    python benchmarks/search_bench.py --count 2000 [--repeat 3] [--skip-builds] [--shape long]

Generates a corpus with generate.py into benchmarks/work/search-N/ (git-ignored),
then, for `search = true` and `search = false` on copies of it, alternately:
a cold build, a no-change rebuild and a rebuild after appending a sentence to
one briefing in the middle of the archive (medians, GNU time's peak RSS).
Then it reports the index's file sizes and runs queries in headless Chromium
(/usr/bin/chromium, never downloaded) against the built site on a local HTTP
server: bytes the query downloads (search.js and search/ files, uncompressed)
and the time from the last keystroke to the results, first with nothing
fetched and again once the files are fetched; besides a fixed set of queries,
those that fetch the most in this corpus's index (see heaviest_queries).
Prints a Markdown report.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "benchmarks" / "work"
TIME = Path("/usr/bin/time")
CHROMIUM = "/usr/bin/chromium"
QUERIES = ["sanctions", "ceasefire proposal", "negot", '"price cap"', "tunis", "the",
           "pipeline&topic=energy", "talks&year=2021&publisher=reuters"]


def queries_for(shape: str) -> list[str]:
    """QUERIES, for the `cjk` shape in the characters its corpus writes those words in (a word
    being typed, "negot", is the first character of "negotiations")."""
    if shape != "cjk":
        return QUERIES
    sys.path.insert(0, str(REPO / "benchmarks"))
    from generate import hanzi_text, hanzi_word

    written = []
    for spec in QUERIES:
        text, _, filters = spec.partition("&")
        text = hanzi_word("negotiations")[0] if text == "negot" else hanzi_text(text)
        written.append(text + (f"&{filters}" if filters else ""))
    return written


def build(site: Path) -> tuple[float, int, float, float]:
    """Wall seconds, peak RSS (KB, largest process), CPU seconds (user + system, the build and
    its workers) and of those the system's, of one build; all but the first 0 without GNU time."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    prefix = [str(TIME), "-f", "%M %U %S"] if TIME.exists() else []
    started = time.perf_counter()
    done = subprocess.run([*prefix, sys.executable, "-m", "briefgen", "build", str(site), "--quiet"],
                          env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    if not prefix:
        return seconds, 0, 0.0, 0.0
    rss, user, system = done.stderr.strip().splitlines()[-1].split()
    return seconds, int(rss), float(user) + float(system), float(system)


def measure_builds(corpus: Path, repeat: int) -> dict[str, dict[str, list[tuple[float, int, float, float]]]]:
    sites = {}
    for variant in ("on", "off"):
        site = corpus.parent / f"site-{variant}"
        if not site.exists():
            shutil.copytree(corpus, site)
            if variant == "off":
                config = site / "briefgen.toml"
                config.write_text(config.read_text().replace('theme = "default"',
                                                             'theme = "default"\nsearch = false'))
        sites[variant] = site
    results: dict[str, dict[str, list[tuple[float, int, float, float]]]] = {v: {} for v in sites}
    trash = corpus.parent / "trash"
    # Neither variant's first build should pay for what the other's then finds done: compiling
    # briefgen's modules, reading the content into the page cache.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "briefgen")], check=True)
    for site in sites.values():
        for path in (site / "content").rglob("*"):
            if path.is_file():
                path.read_bytes()
    for run in range(repeat):
        # Alternated, so that load on the machine hits both alike; which goes first, too.
        order = list(sites.items()) if run % 2 == 0 else list(reversed(sites.items()))
        for variant, site in order:
            # Moved aside, deleted after the runs: ext4 skips inodes freed in the last minute
            # when it allocates new ones, and a build just after deleting a 29,000-file output
            # spent 5 to 28 s of system time searching for free ones, which measured the disk.
            for name in ("output", ".briefgen-cache"):
                if (site / name).exists():
                    trash.mkdir(exist_ok=True)
                    (site / name).rename(trash / f"{variant}-{time.time_ns()}-{name}")
            results[variant].setdefault("cold", []).append(build(site))
            results[variant].setdefault("no-change", []).append(build(site))
            middle = sorted((site / "content" / "briefings").rglob("*.md"))[len(results[variant]["cold"]) * 7]
            with middle.open("a", encoding="utf-8") as stream:
                stream.write(f"\nA sentence added at {time.time_ns()} about zeppelins.\n")
            results[variant].setdefault("one-briefing edit", []).append(build(site))
    shutil.rmtree(trash, ignore_errors=True)
    return results


def sizes(output: Path) -> dict[str, Any]:
    def stats(files: list[Path]) -> dict[str, int]:
        values = sorted(p.stat().st_size for p in files)
        return {"files": len(values), "total": sum(values), "median": int(statistics.median(values)),
                "p95": values[int(len(values) * 0.95) - 1] if len(values) > 1 else values[0],
                "max": values[-1]}

    search = output / "search"
    script = next((output / "static").glob("search.*.js"))
    return {"meta.json": (search / "meta.json").stat().st_size, "search.js": script.stat().st_size,
            "terms": stats(list((search / "terms").glob("*.json"))),
            "docs": stats(list((search / "docs").glob("*.json"))),
            "filters": stats(list((search / "filters").rglob("*.json")))}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def heaviest_queries(output: Path) -> list[str]:
    """Queries that fetch the most a corpus makes a query fetch, found in its index rather than
    chosen for it: the word with the longest entry in the largest term shard, its first three
    letters, and the three letters whose prefix term has the longest entry."""
    terms = output / "search" / "terms"
    largest = max(terms.glob("*.json"), key=lambda path: path.stat().st_size)
    shard = json.loads(largest.read_text(encoding="utf-8"))
    word = max((term for term in shard if not term.endswith("*")), key=lambda term: len(shard[term]))
    longest_prefix, prefix = 0, ""
    for path in terms.glob("*.json"):
        for term, entry in json.loads(path.read_text(encoding="utf-8")).items():
            if term.endswith("*") and len(entry) > longest_prefix:
                longest_prefix, prefix = len(entry), term[:-1]
    return list(dict.fromkeys(q for q in (word, word[:3], prefix) if q))


def measure_queries(output: Path, queries: list[str]) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(output))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for spec in [*queries, *heaviest_queries(output)]:
                text, _, filters = spec.partition("&")
                context = browser.new_context()
                tab = context.new_page()
                fetched: list[int] = []

                def counted(response: Any, fetched: list[int] = fetched) -> None:
                    path = response.url.split(origin, 1)[-1]
                    index_file = path.startswith("/search/") and not path.startswith("/search/?")
                    if index_file or "/search." in path:
                        fetched.append(len(response.body()))

                tab.on("response", counted)
                tab.goto(f"{origin}/search/" + (f"?{filters}" if filters else ""))
                tab.wait_for_selector("#search-q", state="visible")
                tab.wait_for_function("document.querySelector('#search-results')"
                                      ".hasAttribute('data-search-for')")
                runs = []
                for _ in range(2):  # first with nothing fetched, then with every file at hand
                    tab.fill("#search-q", "")
                    tab.wait_for_function("new URLSearchParams(document.querySelector('#search-results')"
                                          ".getAttribute('data-search-for')).get('q') === null")
                    tab.locator("#search-q").press_sequentially(text, delay=30)
                    tab.wait_for_function(
                        "t => { const l = document.querySelector('#search-results');"
                        " return new URLSearchParams(l.getAttribute('data-search-for')).get('q') === t; }",
                        arg=text)
                    runs.append(float(tab.get_attribute("#search-results", "data-search-ms") or "nan"))
                count = tab.locator("#search-results > li").count()
                rows.append({"query": spec, "bytes": sum(fetched), "requests": len(fetched),
                             "first_ms": runs[0], "fetched_ms": runs[1], "shown": count,
                             "status": tab.inner_text("#search-status")})
                context.close()
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return rows


def report(count: int, builds: dict[str, Any] | None, size: dict[str, Any],
           queries: list[dict[str, Any]]) -> str:
    lines = [f"### {count:,} briefings", ""]
    if builds:
        lines += ["| build (median) | wall, search on / off (s) | added (s) | CPU, on / off (s) "
                  "| added CPU (s) | of which system, on / off (s) | peak RSS on / off (MB) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for step in builds["on"]:
            on, off = (statistics.median(r[0] for r in builds[v][step]) for v in ("on", "off"))
            cpu_on, cpu_off = (statistics.median(r[2] for r in builds[v][step]) for v in ("on", "off"))
            sys_on, sys_off = (statistics.median(r[3] for r in builds[v][step]) for v in ("on", "off"))
            rss_on, rss_off = (max(r[1] for r in builds[v][step]) // 1024 for v in ("on", "off"))
            lines.append(f"| {step} | {on:.2f} / {off:.2f} | {on - off:+.2f} | {cpu_on:.2f} / {cpu_off:.2f} "
                         f"| {cpu_on - cpu_off:+.2f} | {sys_on:.2f} / {sys_off:.2f} | {rss_on} / {rss_off} |")
        lines.append("")
    lines += ["| index files | files | total (KB) | median (KB) | p95 (KB) | max (KB) |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, shown in (("terms", "search/terms/*.json"), ("docs", "search/docs/*.json"),
                       ("filters", "search/filters/*/*.json")):
        stat = size[key]
        lines.append(f"| {shown} | {stat['files']} | {stat['total'] / 1024:.0f} "
                     f"| {stat['median'] / 1024:.1f} | {stat['p95'] / 1024:.1f} | {stat['max'] / 1024:.1f} |")
    lines += [f"| search/meta.json | 1 | {size['meta.json'] / 1024:.1f} | | | |",
              f"| static/search.*.js | 1 | {size['search.js'] / 1024:.1f} | | | |", "",
              "| query | downloaded (KB, uncompressed) | requests | ms, first query | ms, files fetched "
              "| results |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for row in queries:
        shown = row["query"].replace("|", "\\|").replace("&", " + ")
        lines.append(f"| `{shown}` | {row['bytes'] / 1024:.0f} | {row['requests']} | {row['first_ms']:.0f} "
                     f"| {row['fetched_ms']:.0f} | {row['status']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-builds", action="store_true", help="only sizes and queries")
    parser.add_argument("--shape", default="default", help="a corpus shape of generate.py")
    args = parser.parse_args()
    name = f"search-{args.count}" if args.shape == "default" else f"search-{args.shape}-{args.count}"
    target = WORK / name
    corpus = target / "briefgen"
    if not corpus.exists():
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), str(target),
                        "--count", str(args.count), "--shape", args.shape], check=True)
    builds = None if args.skip_builds else measure_builds(corpus, args.repeat)
    site = target / "site-on"
    if not site.exists():
        shutil.copytree(corpus, site)
    build(site)  # brings an output an earlier version of briefgen left up to date
    output = site / "output"
    print(report(args.count, builds, sizes(output), measure_queries(output, queries_for(args.shape))))
    (target / "results.json").write_text(json.dumps({"builds": builds, "sizes": sizes(output)}, indent=1))


if __name__ == "__main__":
    main()
