"""Memory of a long live-preview session: RSS before and after many rebuilds.

Runs briefgen's preview session in this process on a generated corpus, as
`briefgen serve` does (rebuild, then settle once the pages are served), for
N rebuilds: mostly body edits (the fast path) and every tenth a title edit
(the full path). Prints RSS after the first build, after 10% of the rebuilds
(warm) and at the end.

    python benchmarks/preview_memory.py --count 2000 --rebuilds 1000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

from briefgen.build.options import BuildOptions  # noqa: E402
from briefgen.serve.session import Session  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rebuilds", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        generate(Path(work), args.count, seed=1)
        site = Path(work) / "briefgen"
        files = sorted((site / "content/briefings").rglob("*.md"))
        target = files[len(files) // 2]
        original = target.read_text(encoding="utf-8")
        session = Session(site, BuildOptions(drafts=True, jobs=2))
        session.rebuild()
        session.settle()
        first = rss_mb()
        started = time.perf_counter()
        warm = first
        for n in range(args.rebuilds):
            text = original + f"\n\nEdit {n}.\n"
            if n % 10 == 9:
                text = text.replace("title: ", f"title: Edit {n} of ", 1)
            target.write_text(text, encoding="utf-8")
            session.rebuild([target])
            session.settle()
            if n + 1 == max(1, args.rebuilds // 10):
                warm = rss_mb()
        final = rss_mb()
        print(f"{args.count} briefings, {args.rebuilds} rebuilds in {time.perf_counter() - started:.0f} s")
        print(f"RSS after the first build: {first:.0f} MB; after {max(1, args.rebuilds // 10)} rebuilds: "
              f"{warm:.0f} MB; after {args.rebuilds}: {final:.0f} MB ({final - warm:+.0f} MB since warm)")


if __name__ == "__main__":
    main()
