"""What one file of each page kind costs to render, in one process, from a built site.

    python benchmarks/render_kinds.py SITE [--limit N] [--kinds home,briefing] [--rounds R]

SITE must have been built with its cache (a plain `briefgen build`) by the briefgen this
runs with. The model, the plan and a renderer come from the snapshot the last full build
left, as an edit in place starts from them. For each page kind, the first N files of the
plan (100 by default) are rendered: three once, untimed, so that templates are compiled and
what a kind reads once is read, then all N, R times (3 by default). Printed, for each kind:
the best of the rounds, in microseconds a file. Search files are left out: their cost is the
search index's, not the templates'.

Run it once with each version (two installs, or the working tree before and after a change)
and alternate the runs: this machine's speed drifts between minutes.
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

from briefgen.build import snapshot
from briefgen.build.in_place import snapshot_baseline
from briefgen.build.store import STORE, Store
from briefgen.config import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--limit", type=int, default=100, help="files of each kind (default 100)")
    parser.add_argument("--kinds", default="", help="page kinds, comma-separated (default: every one)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    config = load_config(args.site)
    store = Store(config.cache_dir / STORE, writable=False)
    last = snapshot.read(store, str(config.output_dir.resolve()))
    if last is None:
        raise SystemExit(f"{args.site}: no snapshot; build the site with this briefgen first")
    base = snapshot_baseline(store, last)
    by_kind = collections.defaultdict(list)
    for spec in base.loaded.plan:
        by_kind[spec.kind.name].append(spec)
    wanted = args.kinds.split(",") if args.kinds else [k for k in by_kind if not k.startswith("search")]
    renderer = base.renderer
    for kind in wanted:
        specs = by_kind.get(kind, [])[:args.limit]
        if not specs:
            print(f"{kind:12s} none planned")
            continue
        for spec in specs[:3]:
            renderer.render(spec)
        best = float("inf")
        for _ in range(args.rounds):
            started = time.perf_counter()
            for spec in specs:
                renderer.render(spec)
            best = min(best, (time.perf_counter() - started) / len(specs))
        print(f"{kind:12s} {best * 1e6:10,.0f} us a file ({len(specs)} files)")
    store.close()


if __name__ == "__main__":
    main()
