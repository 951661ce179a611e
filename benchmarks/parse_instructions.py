"""Instructions a parse of one briefing takes, counted by valgrind: a figure this machine's noise
does not move, for changes too small for wall time to tell.

    python benchmarks/parse_instructions.py SITE PYTHON [PYTHON ...] [--files N]

Each PYTHON is an interpreter with briefgen installed (for example `venv-old/bin/python`). For
each, the first N briefings of SITE (200 by default) and the first 3N are parsed in a process
run under `valgrind --tool=callgrind`, as a build's workers parse them (`parse_file`, with the
same converters), after 50 untimed parses; the difference of the two counts over 2N is the
instructions a file. The runs repeat to the instruction: `PYTHONHASHSEED=0` (with a random
seed, dicts and sets lay out their entries differently, which moves the count by a few
percent), addresses not randomized (`setarch -R`: sets keyed by `id()` too), and one run
outside valgrind first, so that neither count includes compiling a changed module. Counts differ
from wall time (a cache miss is one instruction), but a change that does less work shows.
Needs Debian's `valgrind`; each run takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
from pathlib import Path

_PARSE = """
import sys
from pathlib import Path
from briefgen.build.loading import _parse_setup, parse_file

root, count = Path(sys.argv[1]), int(sys.argv[2])
paths = sorted(root.glob("content/briefings/**/*.md"))[:count + 50]
converters = _parse_setup()


class File:
    kind, digest = "briefing", ""

    def __init__(self, path, data):
        self.path, self._data = path, data

    def bytes(self):
        return self._data


files = [File(str(path.relative_to(root)), path.read_bytes()) for path in paths]
for file in files:
    parse_file(file, *converters)
"""


def instructions(python: str, site: Path, count: int) -> int:
    run = subprocess.run(["setarch", platform.machine(), "-R",
                          "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                          python, "-c", _PARSE, str(site.resolve()), str(count)],
                         capture_output=True, text=True, check=True, cwd="/",  # not a checkout's briefgen
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        raise SystemExit(f"valgrind printed no count:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("pythons", nargs="+")
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    for python in args.pythons:
        subprocess.run([python, "-c", _PARSE, str(args.site.resolve()), "0"], check=True, cwd="/")
        fewer = instructions(python, args.site, args.files)
        more = instructions(python, args.site, 3 * args.files)
        print(f"{python}: {(more - fewer) / (2 * args.files):,.0f} instructions a file")


if __name__ == "__main__":
    main()
