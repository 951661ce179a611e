"""Where a first build's time goes, process by process: the CPU of each step in the build's
process and in each worker, when each worker finished its search documents and its last file,
and each process's peak memory.

    python benchmarks/cold_phases.py SITE [--rounds N] [--jobs N] [--search-off]

Each round builds SITE with `--no-cache` into a new temporary folder beside it, in a fresh Python
process (`python -P -c`) whose steps are wrapped by name (a step this version of briefgen lacks is
left out). Printed for each round, then as medians over the rounds:

- the build's process: each step's start and wall time in milliseconds from the process's
  first line, and the CPU its own thread used in it (`time.thread_time`: not the thread that
  reads the workers' results, which the wall time of a step waiting on them includes);
- the workers, summed over the parsing pool's and the rendering pool's processes: their CPU
  (`time.process_time`) in each kind of work: parsing a file, rendering a page, and for a
  search document (a first build's workers index each one as they write its file) splitting
  its words, hashing them for phrases, counting its terms, and the rest of its file;
- the timeline of the rendering pool: when its last worker finished the search documents, and
  its last file;
- the peak resident memory of the build's process and of the largest worker.

With --search-off, each round also builds the site with `search = false` (its settings copied,
with that line), right after the build with search, and it prints those figures too and what
search adds: each row's figure with search less its figure without, round by round.

CPU time moves much less than wall time on a noisy machine with two cores, where the build's
process and two workers share them and none waits: it says which process's work a change
takes away, or moves from one process to another.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

# Steps of the build's process: (module, function or Class.method), as build/pipeline.py,
# build/loading.py and build/rendering.py take a full build.
MAIN_STEPS = [
    ("briefgen.build.loading", "load"),
    ("briefgen.build.loading", "_parse_all"),
    ("briefgen.build.loading", "build_site"),
    ("briefgen.build.loading", "plan_site"),
    ("briefgen.build.rendering", "render_site"),
    ("briefgen.search.index", "SearchFiles.index"),
    ("briefgen.search.indexing", "build"),
    ("briefgen.search.postings", "Postings.save"),
    ("briefgen.build.fingerprint", "Fingerprints.of_plan"),
    ("briefgen.build.rendering", "_rendered_here"),
    ("briefgen.build.write", "OutputWriter.commit"),
]

# Work done in the workers, each summed by process: (module, function, name shown, the step
# it is counted within, or "" for any). A step within another is shown indented under it.
SEARCH_DOCUMENT = "a search document, in all"
WORKER_STEPS = [
    ("briefgen.build.loading", "_parse_in_worker", "parsing a file", ""),
    ("briefgen.build.rendering", "render_one", "rendering a page", ""),
    ("briefgen.build.rendering", "_render_indexed", SEARCH_DOCUMENT, ""),
    ("briefgen.search.documents", "document_words", "  its words", SEARCH_DOCUMENT),
    ("briefgen.build.cache", "BuildCache.html", "    its body read from the cache", SEARCH_DOCUMENT),
    ("briefgen.search.phrases", "sequence", "  its phrase hashes", SEARCH_DOCUMENT),
    ("briefgen.search.documents", "indexed_doc", "  its terms counted", SEARCH_DOCUMENT),
    ("briefgen.search.index", "Record.as_json", "  its file's JSON", SEARCH_DOCUMENT),
    ("briefgen.build.rendering", "_write", "  its file written", SEARCH_DOCUMENT),
]

# Run in the measured process: the steps wrapped, the build run; every worker writes its
# figures to a file of its own after each batch, the build's process prints them all as JSON.
_PROBE = """
import functools, importlib, inspect, json, os, sys, time
started = time.perf_counter()
main_steps, worker_steps, search_document, site, output, jobs, folder, config = json.loads(sys.argv[1])
main_pid = os.getpid()
marks = []  # the build's process: (step, start, wall, cpu of its thread)
worker = {"cpu": {}, "docs_end": None, "last_end": None}  # this worker's own, once forked
inside = []  # the worker's steps under way, outermost first

def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))

def owner_of(module, name):
    try:
        owner = importlib.import_module(module)
    except ModuleNotFoundError:
        return None, None
    *within, last = name.split(".")
    for part in within:
        owner = getattr(owner, part, None)
    return (owner, last) if owner is not None and hasattr(owner, last) else (None, None)

def wrap_main(module, name):
    owner, last = owner_of(module, name)
    if owner is None:
        return
    kept, original = inspect.getattr_static(owner, last), getattr(owner, last)
    shown = module.rsplit(".", 1)[-1] + "." + name
    @functools.wraps(original)
    def timed(*args, **kwargs):
        if os.getpid() != main_pid:
            return original(*args, **kwargs)
        at, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            marks.append((shown, (at - started) * 1000, (time.perf_counter() - at) * 1000,
                          (time.thread_time() - cpu) * 1000))
    setattr(owner, last, staticmethod(timed) if isinstance(kept, classmethod) else timed)

def wrap_worker(module, name, shown, within):
    owner, last = owner_of(module, name)
    if owner is None:
        return
    kept, original = inspect.getattr_static(owner, last), getattr(owner, last)
    @functools.wraps(original)
    def timed(*args, **kwargs):
        if os.getpid() == main_pid or (within and within not in inside):
            return original(*args, **kwargs)
        cpu = time.process_time()
        inside.append(shown)
        try:
            return original(*args, **kwargs)
        finally:
            inside.pop()
            worker["cpu"][shown] = worker["cpu"].get(shown, 0.0) + (time.process_time() - cpu) * 1000
            if not within:
                now = (time.perf_counter() - started) * 1000
                worker["last_end"] = now
                if shown == search_document:
                    worker["docs_end"] = now
    setattr(owner, last, staticmethod(timed) if isinstance(kept, staticmethod) else timed)

for module, name in main_steps:
    wrap_main(module, name)
for module, name, shown, within in worker_steps:
    wrap_worker(module, name, shown, within)
import briefgen.build.workers as workers
run_batch = workers._run
@functools.wraps(run_batch)
def run_and_note(*args, **kwargs):
    try:
        return run_batch(*args, **kwargs)
    finally:
        figures = dict(worker, cpu_total=time.process_time() * 1000, peak_kb=peak())
        with open(os.path.join(folder, f"{os.getpid()}.json"), "w") as file:
            json.dump(figures, file)
workers._run = run_and_note
from briefgen import cli
try:
    given = ["--config", config] if config else []
    cli.main(["build", "--quiet", "--no-cache", "--jobs", str(jobs), "--output", output, *given, site])
finally:
    marks.append(("end", (time.perf_counter() - started) * 1000, 0.0, time.process_time() * 1000))
    print(json.dumps({"marks": marks, "peak_kb": peak()}), file=sys.stderr)
"""


def one_round(site: Path, jobs: int, config: Path | None = None) -> dict[str, object]:
    """One cold build in a fresh process (with these settings, when given): its marks, and
    every worker's figures."""
    # The output beside the site, on its file system, as ab_rebuilds.py --cold builds it.
    with (tempfile.TemporaryDirectory(dir=site.parent, prefix=".cold-phases-") as output,
          tempfile.TemporaryDirectory() as folder):
        probe_args = [MAIN_STEPS, WORKER_STEPS, SEARCH_DOCUMENT, str(site), output, jobs, folder,
                      str(config) if config else ""]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        # -P: the current folder is not put on the path, so the briefgen measured is the one this
        # Python has installed even when run from the repository (which holds another).
        done = subprocess.run([sys.executable, "-P", "-c", _PROBE, json.dumps(probe_args)],
                              capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            sys.exit(f"the build failed:\n{done.stderr}")
        found: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
        found["workers"] = [json.loads(path.read_text()) for path in sorted(Path(folder).glob("*.json"))]
    return found


Key = tuple[str, str]  # (section, row)


def figures(found: dict[str, object]) -> dict[Key, float]:
    """One round's figures: ms, or KB for memory."""
    shown: dict[Key, float] = {}
    marks = found["marks"]
    assert isinstance(marks, list)
    for name, start, wall, cpu in sorted(marks, key=lambda mark: mark[1]):
        if name == "end":
            shown[("process", "end")] = start
            shown[("process", "end: CPU of every thread")] = cpu
            continue
        # A step taken more than once: its first start, its summed time.
        shown.setdefault(("process", f"{name}: start"), start)
        for field, value in (("wall", wall), ("CPU of its thread", cpu)):
            shown[("process", f"{name}: {field}")] = shown.get(("process", f"{name}: {field}"), 0.0) + value
    workers = found["workers"]
    assert isinstance(workers, list)
    for _, _, step, _ in WORKER_STEPS:
        if any(step in worker["cpu"] for worker in workers):
            shown[("workers", step)] = sum(worker["cpu"].get(step, 0.0) for worker in workers)
    shown[("workers", "CPU in all")] = sum(worker["cpu_total"] for worker in workers)
    renderers = [w for w in workers if "rendering a page" in w["cpu"] or SEARCH_DOCUMENT in w["cpu"]]
    ends = [w["docs_end"] for w in renderers if w["docs_end"] is not None]
    if ends:
        shown[("timeline", "the rendering workers done with the search documents")] = max(ends)
    if renderers:
        shown[("timeline", "the rendering workers done with their last file")] = max(
            w["last_end"] or 0.0 for w in renderers)
    shown[("timeline", "the build's process done")] = shown[("process", "end")]
    shown[("memory", "the build's process")] = float(found["peak_kb"])  # type: ignore[arg-type]
    if workers:
        shown[("memory", "the largest worker")] = float(max(w["peak_kb"] for w in workers))
    return shown


SECTIONS = {
    "process": "the build's process: each step's start (ms from its first line), wall time and its "
               "own thread's CPU",
    "workers": "the workers' CPU, summed over every worker (ms)",
    "timeline": "when (ms from the first line)",
    "memory": "peak resident memory (KB)",
}


def _print(title: str, rows: dict[Key, list[float]]) -> None:
    print(f"\n{title}")
    for section, heading in SECTIONS.items():
        print(f"{heading}:")
        for (within, name), values in rows.items():
            if within == section:
                spread = f"  ({min(values):.0f}-{max(values):.0f})" if len(values) > 1 else ""
                print(f"  {name:62s} {statistics.median(values):9.0f}{spread}")


def without_search(site: Path, folder: Path) -> Path:
    """The site's settings with `search = false`, written in `folder`."""
    settings = (site / "briefgen.toml").read_text(encoding="utf-8")
    with (site / "briefgen.toml").open("rb") as file:
        has_search = "search" in tomllib.load(file).get("site", {})
    lines = settings.splitlines()
    table = ""
    for place, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped
        elif table == "[site]" and has_search and re.match(r"search\s*=", stripped):
            lines[place] = "search = false"
    if not has_search:
        if "[site]" not in (line.strip() for line in lines):
            lines += ["[site]"]
        lines.insert([line.strip() for line in lines].index("[site]") + 1, "search = false")
    written = folder / "briefgen.toml"
    written.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--search-off", action="store_true",
                        help="each round also builds with `search = false`, and prints what search adds")
    args = parser.parse_args()
    site = args.site.resolve()
    rows: dict[Key, list[float]] = collections.defaultdict(list)
    rows_off: dict[Key, list[float]] = collections.defaultdict(list)
    added: dict[Key, list[float]] = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as folder:
        config = without_search(site, Path(folder)) if args.search_off else None
        for number in range(args.rounds):
            shown = figures(one_round(site, args.jobs))
            listed = ", ".join(f"{name} {value:.0f}" for (_, name), value in shown.items())
            print(f"round {number + 1}: {listed}")
            for key, value in shown.items():
                rows[key].append(value)
            if config is None:
                continue
            # Alternated with the build with search, round by round: this machine's speed drifts.
            off = figures(one_round(site, args.jobs, config))
            listed = ", ".join(f"{name} {value:.0f}" for (_, name), value in off.items())
            print(f"round {number + 1}, search off: {listed}")
            for key, value in off.items():
                rows_off[key].append(value)
            for key, value in shown.items():
                # A step only a build with search takes adds all of its time (but has no start to compare).
                if key in off or (key[0] in ("process", "workers") and not key[1].endswith(": start")):
                    added[key].append(value - off.get(key, 0.0))
    _print(f"medians of {args.rounds}, the spread in brackets", rows)
    if args.search_off:
        _print(f"search off: medians of {args.rounds}, the spread in brackets", rows_off)
        # In the order rows shows them: what each round's build with search took more.
        _print(f"what search adds, round by round (with less without): medians of {args.rounds}",
               {key: added[key] for key in rows if key in added})


if __name__ == "__main__":
    main()
