"""How many briefings' related briefings a build finds again when one briefing is removed.

    python benchmarks/related_reach.py SITE [--at 0 --at 5000]

Loads SITE's model from its build cache (build it first), then for each index given (0, the
newest, by default; and the middle one) counts the briefings that share a topic or a cited
source with it (what updated_related found again before 118dc34) and those within reach of it
in its topics' and sources' lists (what it finds again now), and times finding one briefing's
related briefings, to give both in seconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from briefgen.build import loading
from briefgen.build.cache import BuildCache
from briefgen.build.inputs import content_stats
from briefgen.build.options import BuildOptions
from briefgen.config import load_config
from briefgen.site import model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path)
    parser.add_argument("--at", type=int, action="append", help="the index of the briefing removed")
    args = parser.parse_args()
    root = args.site.resolve()
    config = load_config(root, None)
    cache = BuildCache.open(config.cache_dir)
    found = content_stats(config)
    site = loading.load(root, BuildOptions(output=config.output_dir), cache,
                       read=lambda config: loading.read_sources(config, cache, found)).site
    keys = model.related_keys(site)
    citers = model.source_citers(site)
    for removed in args.at or [0, len(keys) // 2]:
        _, topics, sources = keys[removed]
        sharing = sum(1 for i, (_, t, s) in enumerate(keys) if i != removed
                      and not (set(topics).isdisjoint(t) and set(sources).isdisjoint(s)))
        members = model._members(keys, [removed])
        near = sorted(model._near([removed], keys, *members) - {removed})
        sample = near[:500]
        started = time.perf_counter()
        for index in sample:
            model.related_briefings(site, index, citers)
        each = (time.perf_counter() - started) / max(1, len(sample))
        print(f"{len(keys)} briefings, index {removed} removed: {sharing} share a topic or source "
              f"({sharing * each:.2f} s), {len(near)} within reach ({len(near) * each:.2f} s); "
              f"{each * 1000:.3f} ms each")


if __name__ == "__main__":
    main()
