"""A briefing deleted and added again in the live preview's session, in process, for one or more
installs of briefgen run in turn.

    python benchmarks/preview_changes.py SITE REL [--python PY ...] [--rounds N] [--pause S]

SITE is a site (built or not: the session's start is not timed); REL is a briefing in it (a path
inside the site), best the newest, whose addition moves every page of the home page's list. For
each PY (an interpreter with briefgen installed; by default this one), a fresh process
(`python -P`, run from `/`, so that it imports its own install) starts a `Session` as
`briefgen serve` does, then, for each round: waits S seconds (what the session leaves to do after
a rebuild may run meanwhile, as it would while a curator works), deletes REL and times
`Session.rebuild`, reads a page the rebuild may have left to be rendered when asked for
(`page/2/index.html`), waits again, puts REL back, and times both again. The versions are run in
turn, twice. Printed: every round's times, then for each version the medians of "deleted" and
"added" (the rebuild) and of each with the page read after it. REL is put back at the end.

The session writes nothing under the site, so every version may use the one site (a build's cache
another version wrote may make a session's start longer, which is not timed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

# Run in the measured process: argv is SITE, REL, rounds, pause; prints one JSON line a change.
_PROBE = """
import json, sys, time
from pathlib import Path
from briefgen.build.options import BuildOptions
from briefgen.serve.session import Session

site, rel, rounds, pause = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
session = Session(site, BuildOptions(jobs=2))
session.rebuild()
path = site / rel
data = path.read_bytes()
try:
    for _ in range(rounds):
        for change in ("deleted", "added"):
            time.sleep(pause)
            if change == "deleted":
                path.unlink()
            else:
                path.write_bytes(data)
            started = time.perf_counter()
            session.rebuild([path])
            rebuilt = time.perf_counter()
            if "page/2/index.html" in session.pages:
                session.pages["page/2/index.html"]
            read = time.perf_counter()
            print(json.dumps([change, (rebuilt - started) * 1000, (read - started) * 1000]), flush=True)
finally:
    path.write_bytes(data)
"""


def run(python: str, site: Path, rel: str, rounds: int, pause: float) -> list[tuple[str, float, float]]:
    done = subprocess.run([python, "-P", "-c", _PROBE, str(site), rel, str(rounds), str(pause)],
                          capture_output=True, text=True, cwd="/", check=False)
    if done.returncode != 0:
        sys.exit(f"{python}: the probe failed:\n{done.stderr}")
    found = []
    for line in done.stdout.splitlines():
        if line.startswith("["):
            change, rebuild, with_page = json.loads(line)
            found.append((str(change), float(rebuild), float(with_page)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("rel", help="a briefing in SITE, best the newest")
    parser.add_argument("--python", action="append", help="an interpreter with briefgen installed "
                        "(repeat for several; default: this one)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause", type=float, default=3.0, help="seconds before each change")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / args.rel).is_file():
        sys.exit(f"{site / args.rel}: no such briefing")
    pythons = args.python or [sys.executable]
    found: dict[str, list[tuple[str, float, float]]] = {python: [] for python in pythons}
    for turn in range(2):
        for python in pythons:
            times = run(python, site, args.rel, args.rounds, args.pause)
            found[python] += times
            each = ", ".join(f"{change} {rebuild:.0f} ({with_page:.0f}) ms"
                             for change, rebuild, with_page in times)
            print(f"turn {turn + 1}, {python}: {each}", flush=True)
    print("\nmedians, the rebuild (with the page read after it):")
    for python, times in found.items():
        medians = []
        for change in ("deleted", "added"):
            rebuilds = [rebuild for kind, rebuild, _ in times if kind == change]
            with_pages = [with_page for kind, _, with_page in times if kind == change]
            medians.append(f"{change} {statistics.median(rebuilds):.0f} "
                           f"({statistics.median(with_pages):.0f}) ms")
        print(f"  {python}: {', '.join(medians)}")


if __name__ == "__main__":
    main()
