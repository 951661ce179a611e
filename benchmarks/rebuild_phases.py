"""Where a rebuild's time goes: a build in a fresh process, with the time of each of its steps.

    python benchmarks/rebuild_phases.py SITE                          # a rebuild that changes nothing
    python benchmarks/rebuild_phases.py SITE --edit REL [--rounds N]  # after a sentence appended to REL

The site must have been built (with this briefgen) before. Each round runs the build in a
fresh Python process (`python -c`), so that its imports count as a user's would (all but the
interpreter's own start, about 12 ms); the process prints its steps as `name start+duration`
in milliseconds from its first line. With --edit, a sentence is appended to the briefing REL
(a path inside the site) before each round, an edit the build takes in place from the last
build's snapshot, and the modules of that path are imported before the build, as a step of
their own. Printed: each round's steps, then the medians. The steps are functions of the
build wrapped by name (see STEPS); one a build does not reach is left out.
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

# Run in the measured process: the steps wrapped, the build run, the marks printed as JSON.
_PROBE = """
import importlib, json, sys, time
started = time.perf_counter()
marks = []
def wrap(module, name):
    owner = importlib.import_module(module)
    original = getattr(owner, name)
    def timed(*args, **kwargs):
        at = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            marks.append((name, (at - started) * 1000, (time.perf_counter() - at) * 1000))
    setattr(owner, name, timed)
from briefgen import cli
import briefgen.build.pipeline
marks.append(("imports of the command line", 0.0, (time.perf_counter() - started) * 1000))
steps, in_place = json.loads(sys.argv[1]), sys.argv[3] == "in place"
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


def one_round(site: Path, in_place: bool) -> list[tuple[str, float, float]]:
    steps = [step for step in STEPS if in_place or step[0] not in _IN_PLACE_MODULES]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(steps), str(site),
                           "in place" if in_place else "no change"],
                          capture_output=True, text=True, env=env, check=True)
    return [tuple(mark) for mark in json.loads(done.stderr.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path)
    parser.add_argument("--edit", metavar="REL", help="append a sentence to this briefing before each round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    site = args.site.resolve()
    durations: dict[str, list[float]] = collections.defaultdict(list)
    starts: dict[str, list[float]] = collections.defaultdict(list)
    for number in range(args.rounds):
        if args.edit:
            with (site / args.edit).open("a", encoding="utf-8") as briefing:
                briefing.write(f"\nA sentence added for round {number} of the phases.\n")
        marks = one_round(site, in_place=bool(args.edit))
        shown = ", ".join(f"{name} {start:.0f}+{took:.0f}" for name, start, took in marks)
        print(f"round {number + 1}: {shown}")
        for name, start, took in marks:
            durations[name].append(took)
            starts[name].append(start)
    print(f"\nmedians of {args.rounds} (ms from the start of the process's code + ms taken):")
    medians = sorted((statistics.median(starts[name]), statistics.median(durations[name]), name)
                     for name in durations)
    for start, took, name in medians:
        print(f"  {name:32s} {start:7.1f} + {took:6.1f}")


if __name__ == "__main__":
    main()
