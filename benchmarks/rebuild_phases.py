"""Where a rebuild's time goes: a build in a fresh process, with the time of each of its steps.

    python benchmarks/rebuild_phases.py SITE                          # a rebuild that changes nothing
    python benchmarks/rebuild_phases.py SITE --edit REL [--rounds N]  # after a sentence appended to REL
    python benchmarks/rebuild_phases.py SITE --remove REL [--rounds N]  # REL deleted, then added again

The site must have been built (with this briefgen) before. Each round runs the build in a
fresh Python process (`python -P -c`), so that its imports count as a user's would (all but the
interpreter's own start, about 12 ms); the process prints its steps as `name start+duration`
in milliseconds from its first line. With --edit, a sentence is appended to the briefing REL
(a path inside the site) before each round, an edit the build takes in place from the last
build's snapshot, and the modules of that path are imported before the build, as a step of
their own. With --remove, each round moves the briefing REL out of the site and builds (the
"deleted" build), then puts it back and builds again (the "added" build): both take the full
build from the cache, whose steps (FULL_STEPS) are timed, and the medians are given for each
kind of build. Printed: each round's steps, then the medians. The steps are functions of the
build wrapped by name (see STEPS), shown after their module's last name; one a build does
not reach, or this version of briefgen lacks, is left out, and one called more than once is
given its first start and its summed time.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

# (module, function, or Class.method): the steps of a rebuild, as build/pipeline.py and
# build/in_place.py take them.
STEPS = [
    ("briefgen.build.memo", "read_build_record"),
    ("briefgen.build.memo", "read_listing"),
    ("briefgen.build.pipeline", "listed_content_stats"),
    ("briefgen.build.pipeline", "inputs_digest"),
    ("briefgen.build.pipeline", "_output_state"),
    ("briefgen.build.snapshot", "read"),
    ("briefgen.build.in_place", "read_kept_manifest"),
    ("briefgen.build.in_place", "snapshot_baseline"),
    ("briefgen.build.in_place", "edit_in_place"),
    ("briefgen.build.memo", "write_last_build"),
]

# The full build from the cache (a briefing added or deleted), as build/pipeline.py's _built,
# build/loading.py's load and build/rendering.py's render_site take it. Functions those modules
# imported by name are wrapped in their namespace. Each step of build/stages.py, which held both
# before they had modules of their own, is there for older versions.
FULL_STEPS = [
    ("briefgen.build.cache", "BuildCache.open"),
    ("briefgen.build.stages", "load"),
    ("briefgen.build.loading", "load"),
    ("briefgen.build.stages", "read_sources"),
    ("briefgen.build.loading", "read_sources"),
    ("briefgen.build.stages", "_parse_all"),
    ("briefgen.build.loading", "_parse_all"),
    ("briefgen.build.stages", "build_site"),
    ("briefgen.build.loading", "build_site"),
    ("briefgen.build.stages", "plan_site"),
    ("briefgen.build.loading", "plan_site"),
    ("briefgen.build.stages", "_related"),  # before it was found beside the plan
    ("briefgen.build.stages", "_all_related"),
    ("briefgen.build.loading", "_all_related"),
    ("briefgen.build.cache", "BuildCache.manifest"),
    ("briefgen.build.stages", "render_site"),
    ("briefgen.build.rendering", "render_site"),
    ("briefgen.build.fingerprint", "Fingerprints.of_plan"),
    ("briefgen.search.postings", "build"),  # before the index's making had a module of its own
    ("briefgen.search.indexing", "build"),
    ("briefgen.build.stages", "_rendered_here"),
    ("briefgen.build.rendering", "_rendered_here"),
    ("briefgen.search.postings", "HeldRows.flush"),
    ("briefgen.search.state", "HeldRows.flush"),
    ("briefgen.build.cache", "BuildCache.save"),
    ("briefgen.build.write", "OutputWriter.commit"),
    ("briefgen.build.memo", "refreshed_times"),
    ("briefgen.build.memo", "folder_times"),
    ("briefgen.build.memo", "write_last_build"),
]

# Run in the measured process: the steps wrapped, the build run, the marks printed as JSON.
_PROBE = """
import importlib, inspect, json, sys, time
started = time.perf_counter()
marks = []
def wrap(module, name):
    try:
        owner = importlib.import_module(module)
    except ModuleNotFoundError:  # a module of another version of briefgen
        return
    *within, last = name.split(".")
    for part in within:  # a method: "Class.method"
        owner = getattr(owner, part, None)
    if owner is None or not hasattr(owner, last):  # a step of another version of briefgen
        return
    kept = inspect.getattr_static(owner, last)
    original = getattr(owner, last)
    def timed(*args, **kwargs):
        at = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            marks.append((shown, (at - started) * 1000, (time.perf_counter() - at) * 1000))
    shown = module.rsplit(".", 1)[-1] + "." + name  # "indexing.build", not "build"
    # A class method is bound already: called as it is, without the class again.
    setattr(owner, last, staticmethod(timed) if isinstance(kept, classmethod) else timed)
from briefgen import cli
import briefgen.build.pipeline
marks.append(("imports of the command line", 0.0, (time.perf_counter() - started) * 1000))
steps, in_place = json.loads(sys.argv[1]), sys.argv[3] == "in place"
if sys.argv[3] == "full":  # what a full build imports once it finds it has work to do
    at = time.perf_counter()
    for module in ("briefgen.build.cache", "briefgen.build.stages", "briefgen.build.rendering",
                   "briefgen.build.write", "briefgen.search.postings", "briefgen.search.indexing"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:  # a module of another version of briefgen
            pass
    marks.append(("imports of the full build", (at - started) * 1000, (time.perf_counter() - at) * 1000))
if in_place:  # what the build would import when it finds an edit to take in place
    at = time.perf_counter()
    import briefgen.build.in_place
    marks.append(("imports of the in-place path", (at - started) * 1000, (time.perf_counter() - at) * 1000))
for module, name in steps:
    wrap(module, name)
try:
    cli.main(["build", "--quiet", sys.argv[2]])
finally:
    marks.append(("end", (time.perf_counter() - started) * 1000, 0.0))
    print(json.dumps(marks), file=sys.stderr)
"""


# Imported only by a build that takes an edit in place: a rebuild that changes nothing never does.
_IN_PLACE_MODULES = ("briefgen.build.in_place", "briefgen.build.snapshot")


def one_round(site: Path, kind: str) -> list[tuple[str, float, float]]:
    """One build in a fresh process; `kind` is "no change", "in place" or "full"."""
    if kind == "full":
        steps = STEPS[:5] + FULL_STEPS
    else:
        steps = [step for step in STEPS if kind == "in place" or step[0] not in _IN_PLACE_MODULES]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # -P: the current folder is not put on the path (see cold_phases.py).
    done = subprocess.run([sys.executable, "-P", "-c", _PROBE, json.dumps(steps), str(site), kind],
                          capture_output=True, text=True, env=env, check=True)
    return _merged([tuple(mark) for mark in json.loads(done.stderr.strip().splitlines()[-1])])


def _merged(marks: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """A step called more than once, as one: its first start and its summed time."""
    found: dict[str, tuple[str, float, float]] = {}
    for name, start, took in marks:
        before = found.get(name)
        found[name] = (name, start, took) if before is None else (name, before[1], before[2] + took)
    return list(found.values())


def _add(durations: dict[str, list[float]], starts: dict[str, list[float]],
         marks: list[tuple[str, float, float]]) -> None:
    for name, start, took in marks:
        durations[name].append(took)
        starts[name].append(start)


def _print_medians(title: str, durations: dict[str, list[float]], starts: dict[str, list[float]]) -> None:
    print(f"\n{title} (ms from the start of the process's code + ms taken):")
    medians = sorted((statistics.median(starts[name]), statistics.median(durations[name]), name)
                     for name in durations)
    for start, took, name in medians:
        print(f"  {name:32s} {start:7.1f} + {took:6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path)
    change = parser.add_mutually_exclusive_group()
    change.add_argument("--edit", metavar="REL", help="append a sentence to this briefing before each round")
    change.add_argument("--remove", metavar="REL",
                        help="each round: delete this briefing and build, then put it back and build")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    site = args.site.resolve()
    if args.remove:
        _removals(site, args.remove, args.rounds)
        return
    durations: dict[str, list[float]] = collections.defaultdict(list)
    starts: dict[str, list[float]] = collections.defaultdict(list)
    for number in range(args.rounds):
        if args.edit:
            with (site / args.edit).open("a", encoding="utf-8") as briefing:
                briefing.write(f"\nA sentence added for round {number} of the phases.\n")
        marks = one_round(site, "in place" if args.edit else "no change")
        shown = ", ".join(f"{name} {start:.0f}+{took:.0f}" for name, start, took in marks)
        print(f"round {number + 1}: {shown}")
        _add(durations, starts, marks)
    _print_medians(f"medians of {args.rounds}", durations, starts)


def _removals(site: Path, rel: str, rounds: int) -> None:
    """Rounds of the briefing `rel` deleted then added again, each build timed step by step."""
    briefing = site / rel
    kept = briefing.read_bytes()
    timed: dict[str, tuple[dict[str, list[float]], dict[str, list[float]]]] = {
        kind: (collections.defaultdict(list), collections.defaultdict(list)) for kind in ("deleted", "added")}
    try:
        for number in range(rounds):
            for kind in ("deleted", "added"):
                if kind == "deleted":
                    briefing.unlink()
                else:
                    briefing.write_bytes(kept)
                marks = one_round(site, "full")
                shown = ", ".join(f"{name} {start:.0f}+{took:.0f}" for name, start, took in marks)
                print(f"round {number + 1}, {kind}: {shown}")
                _add(*timed[kind], marks)
    finally:
        if not briefing.exists():
            briefing.write_bytes(kept)
    for kind, (durations, starts) in timed.items():
        _print_medians(f"the briefing {kind}, medians of {rounds}", durations, starts)


if __name__ == "__main__":
    main()
