"""Two versions of briefgen, alternated: no-change rebuilds and one-briefing edits, a
briefing deleted and added again, or cold builds.

    python benchmarks/ab_rebuilds.py SITE_A BRIEFGEN_A SITE_B BRIEFGEN_B --edit REL [--rounds N]
    python benchmarks/ab_rebuilds.py SITE_A BRIEFGEN_A SITE_B BRIEFGEN_B --summary REL [--rounds N]
    python benchmarks/ab_rebuilds.py SITE_A BRIEFGEN_A SITE_B BRIEFGEN_B --updated REL [--rounds N]
    python benchmarks/ab_rebuilds.py SITE_A BRIEFGEN_A SITE_B BRIEFGEN_B --remove REL [--rounds N]
    python benchmarks/ab_rebuilds.py SITE_A BRIEFGEN_A SITE_B BRIEFGEN_B --cold [--rounds N]

Each version is an installed `briefgen` command (for example `venv-old/bin/briefgen`)
building its own copy of one generated site (`generate.py`, then `cp -r`): the copies
must not share a cache or an output folder, and two installs differ in their theme
folder's path, which is an input. Each copy is built once first (untimed). Then, round
by round and version by version: a no-change rebuild, then a sentence appended to the
briefing REL (a path inside the site) and a rebuild; with --summary, its `summary:` line
rewritten instead (what every list showing it shows); with --updated, its `updated:` date set
to another day each round (which the sitemap shows too). With --remove instead: the briefing
REL moved out of the site and a rebuild, then moved back and a rebuild. With --cold: a
build with `--no-cache` into an emptied folder beside the site (nothing is built first;
one site may serve both versions). Printed: medians of wall time and of CPU time (the
build's process and every process it waited for), and with --cold every round's figures,
since this machine's speed drifts between rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import time


def timed(command: list[str], site: str) -> tuple[float, float, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # installs keep .pyc
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=site, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout


def removed(site: str, briefgen: str, rel: str,
            figures: dict[tuple[str, str], list[tuple[float, float]]]) -> None:
    """A briefing deleted (moved out of the site) and a rebuild, then put back and a rebuild."""
    path = os.path.join(site, rel)
    aside = os.path.join(os.path.dirname(os.path.abspath(site)), f".{os.path.basename(site)}-aside.md")
    os.replace(path, aside)
    try:
        wall, cpu, _ = timed([briefgen, "build"], site)
    finally:
        os.replace(aside, path)
    figures.setdefault((briefgen, "deleted"), []).append((wall, cpu))
    wall, cpu, _ = timed([briefgen, "build"], site)
    figures.setdefault((briefgen, "added"), []).append((wall, cpu))


def rewrite_summary(path: str, summary: str) -> None:
    """The front matter's `summary:` line of a briefing made this one."""
    with open(path, encoding="utf-8") as stream:
        text = stream.read()
    lines = text.split("\n")
    at = next((n for n, line in enumerate(lines) if line.startswith("summary:")), None)
    if at is None:
        raise SystemExit(f"{path}: no summary: line to rewrite")
    lines[at] = f'summary: "{summary}"'
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("\n".join(lines))


def set_updated(path: str, day: int) -> None:
    """The front matter's `updated:` line of a briefing made a date `day` days into 2030, added
    after its `date:` line when it has none."""
    with open(path, encoding="utf-8") as stream:
        lines = stream.read().split("\n")
    value = f"updated: {dt.date(2030, 1, 1) + dt.timedelta(days=day)}"
    at = next((n for n, line in enumerate(lines) if line.startswith("updated:")), None)
    if at is not None:
        lines[at] = value
    else:
        dated = next((n for n, line in enumerate(lines) if line.startswith("date:")), None)
        if dated is None:
            raise SystemExit(f"{path}: no date: line to put an updated: line after")
        lines.insert(dated + 1, value)
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("\n".join(lines))


def cold(site: str, briefgen: str, figures: dict[tuple[str, str], list[tuple[float, float]]]) -> None:
    """A build with no cache into an emptied folder (one for both versions: each empties it)."""
    output = os.path.join(os.path.dirname(os.path.abspath(site)), f".{os.path.basename(site)}-cold")
    shutil.rmtree(output, ignore_errors=True)
    wall, cpu, _ = timed([briefgen, "build", "-q", "--no-cache", "--output", output], site)
    figures.setdefault((briefgen, "cold"), []).append((wall, cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site_a")
    parser.add_argument("briefgen_a")
    parser.add_argument("site_b")
    parser.add_argument("briefgen_b")
    change = parser.add_mutually_exclusive_group(required=True)
    change.add_argument("--edit", help="the briefing to append to, relative to each site")
    change.add_argument("--summary", help="the briefing whose summary to rewrite, relative to each site")
    change.add_argument("--updated", help="the briefing whose date of update to set, relative to each site")
    change.add_argument("--remove", help="the briefing to delete and add again, relative to each site")
    change.add_argument("--cold", action="store_true", help="cold builds, without the cache")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    versions = [(args.site_a, args.briefgen_a), (args.site_b, args.briefgen_b)]
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    if not args.cold:
        for site, briefgen in versions:
            timed([briefgen, "build", "-q"], site)
    for number in range(args.rounds):
        for site, briefgen in versions:
            if args.cold:
                cold(site, briefgen, figures)
                continue
            if args.remove:
                removed(site, briefgen, args.remove, figures)
                continue
            wall, cpu, out = timed([briefgen, "build"], site)
            if " 0 rendered" not in out:
                raise SystemExit(f"{briefgen} on {site}: not a no-change rebuild: {out.strip()}")
            figures.setdefault((briefgen, "no-change"), []).append((wall, cpu))
            if args.summary:
                rewrite_summary(os.path.join(site, args.summary), f"A summary rewritten in round {number}.")
            elif args.updated:
                set_updated(os.path.join(site, args.updated), number)
            else:
                with open(os.path.join(site, args.edit), "a", encoding="utf-8") as stream:
                    stream.write(f"\nA sentence added in round {number}.\n")
            wall, cpu, out = timed([briefgen, "build"], site)
            what = "summary edit" if args.summary else "updated edit" if args.updated else "edit"
            figures.setdefault((briefgen, what), []).append((wall, cpu))
    for (briefgen, what), values in figures.items():
        print(f"{briefgen} {what}: wall {statistics.median(v[0] for v in values):.3f} s, "
              f"CPU {statistics.median(v[1] for v in values):.3f} s (median of {len(values)})")
        if args.cold:
            print("  rounds: " + ", ".join(f"{wall:.2f} s (CPU {cpu:.1f})" for wall, cpu in values))


if __name__ == "__main__":
    main()
