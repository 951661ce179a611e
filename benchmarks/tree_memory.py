"""Memory of a command and every process it starts: the peak of each, and of the whole tree.

    python benchmarks/tree_memory.py [--every SECONDS] [--timeline FILE] -- COMMAND [ARGS...]
    python benchmarks/tree_memory.py -- briefgen build /dev/shm/site          # for example

Runs COMMAND and reads, every SECONDS (default 0.2), the resident memory of it and of every
process below it (its workers, and the copies it forks for a while) from `/proc`: `VmRSS`
from `status`, and `Pss` from `smaps_rollup`. Printed when it ends: the command's own peak,
the largest peak of the others, and the tree's peak twice over:

- summed RSS: each process's resident pages added up. A copy forked from the build shares
  its pages with it until either writes them, and each counts them in full, so the sum
  counts a shared page once per process (what the earlier figures in RESULTS.md sum);
- summed PSS: a page shared by n processes counted 1/n in each, so the sum is the memory
  the tree takes from the machine.

With --timeline, every sample (seconds from the start, then pid -> [RSS MB, PSS MB]) is
written to FILE as JSON. Linux only (it reads `/proc`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

Sample = dict[int, tuple[int, int]]  # pid -> (RSS, PSS), in KiB


def _field(pid: int, name: str, file: str) -> int | None:
    try:
        with open(f"/proc/{pid}/{file}", encoding="ascii") as found:
            for line in found:
                if line.startswith(name):
                    return int(line.split()[1])
    except (OSError, ValueError):  # the process ended meanwhile
        return None
    return None


def descendants(root: int, parents: dict[int, int] | None = None) -> list[int]:
    """Every process below `root`, found by each process's parent in /proc/PID/stat: a process
    forked by any thread of another is found (its parent's `children` lists only the children of
    the thread it names). `parents`, when given, keeps the parents read, for the next call."""
    parents = {} if parents is None else parents
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        parent = parents.get(pid)
        if parent is None:
            try:
                with open(f"/proc/{pid}/stat", "rb") as found:
                    parent = int(found.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # ended meanwhile
                continue
            parents[pid] = parent
        children.setdefault(parent, []).append(pid)
    below, waiting = [], list(children.get(root, []))
    while waiting:
        pid = waiting.pop()
        below.append(pid)
        waiting += children.get(pid, [])
    return below


def sample(root: int, parents: dict[int, int] | None = None) -> Sample:
    """The memory of `root` and of every process below it, now."""
    found: Sample = {}
    for pid in (root, *descendants(root, parents)):
        rss = _field(pid, "VmRSS:", "status")
        if rss:
            found[pid] = (rss, _field(pid, "Pss:", "smaps_rollup") or 0)
    return found


def _mb(kib: int) -> str:
    return f"{kib / 1024:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=0.2, help="seconds between samples")
    parser.add_argument("--timeline", type=Path, help="write every sample to this JSON file")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    started = time.perf_counter()
    process = subprocess.Popen(command)
    timeline: list[tuple[float, Sample]] = []
    parents: dict[int, int] = {}
    while process.poll() is None:
        timeline.append((time.perf_counter() - started, sample(process.pid, parents)))
        time.sleep(args.every)
    took = time.perf_counter() - started
    root = process.pid
    own = [(at, found[root]) for at, found in timeline if root in found]
    others = [(at, pid, memory) for at, found in timeline for pid, memory in found.items() if pid != root]
    print(f"{' '.join(command)}: exit {process.returncode} after {took:.1f} s, {len(timeline)} samples")
    if own:
        at, (rss, _) = max(own, key=lambda item: item[1][0])
        print(f"  the command's process: peak RSS {_mb(rss)} ({at:.1f} s), "
              f"peak PSS {_mb(max(memory[1] for _, memory in own))}")
    if others:
        at, pid, (rss, _) = max(others, key=lambda item: item[2][0])
        print(f"  the largest other process: peak RSS {_mb(rss)} (pid {pid}, {at:.1f} s), "
              f"peak PSS {_mb(max(memory[1] for _, _, memory in others))}; "
              f"{len({pid for _, pid, _ in others})} processes in all")
    if timeline:
        at, total = max(((at, sum(rss for rss, _ in found.values())) for at, found in timeline),
                        key=lambda item: item[1])
        print(f"  the tree, summed RSS: peak {_mb(total)} ({at:.1f} s)")
        at, total = max(((at, sum(pss for _, pss in found.values())) for at, found in timeline),
                        key=lambda item: item[1])
        print(f"  the tree, summed PSS: peak {_mb(total)} ({at:.1f} s)")
    if args.timeline:
        args.timeline.write_text(json.dumps([
            [round(at, 2), {pid: [rss // 1024, pss // 1024] for pid, (rss, pss) in found.items()}]
            for at, found in timeline]), encoding="utf-8")
    sys.exit(process.returncode)


if __name__ == "__main__":
    main()
