"""Archived copies of sources, checked at scale: edits of an archive, alternated between two
versions of briefgen.

    python benchmarks/archive_edits.py prepare SITE
    python benchmarks/archive_edits.py run SITE_A BRIEFGEN_A SITE_B BRIEFGEN_B [--rounds N]

generate.py's corpora cite sources with paragraph locators but keep no archived copy of
any, so no build of theirs checks a locator or a quotation. `prepare` gives every source of
a site made by generate.py an archive (content/archive/<id>.md: 15 paragraphs of
generate.py's sentences, marked as written for the benchmark) and every briefing one to
three sentences, each quoting a few words of one of its sources' archives with a locator of
one of the first 14 paragraphs: every build then checks every quotation and locator, and
every briefing page shows the passages its locators point at. Run it on each copy (the
result is the same for one site and seed).

`run` builds each copy once (untimed), then round by round and version by version changes
the archive of the source cited by the most briefings: the start of its first paragraph
(which the passages of its `para. 1` locators show), then its last paragraph (which no
locator names), then appends a sentence to a briefing, then points that briefing's first
`para.` locator at the next paragraph, then makes it cite the most cited source (or no longer,
every other round), then adds a source as `briefgen source add` does (a registry entry and an
archive). Printed: medians of wall and CPU time,
as ab_rebuilds.py measures them, and the site's counts. Each version is an installed
`briefgen` building its own copy of the site.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import secrets
import statistics
from pathlib import Path

import yaml
from ab_rebuilds import timed
from generate import Writer

_PARAGRAPHS = 14  # that locators name; one more no locator names
_SOURCES_KEY = re.compile(r"^sources:\n((?:  - .*\n)+)", re.M)


def prepare(site: Path, seed: int = 3) -> None:
    rng = random.Random(seed)
    writer = Writer(rng)
    registry = [entry for path in sorted((site / "content" / "sources").glob("*.yaml"))
                for entry in yaml.safe_load(path.read_text("utf-8"))]
    archive = site / "content" / "archive"
    archive.mkdir(exist_ok=True)
    sentences: dict[str, list[list[str]]] = {}  # each paragraph's sentences, by source id
    for source in registry:
        written = [[writer.sentence() for _ in range(rng.randint(2, 4))] for _ in range(_PARAGRAPHS + 1)]
        sentences[source["id"]] = written
        meta = {"id": source["id"], "url": source["url"], "title": source["title"],
                "publisher": source["publisher"], "accessed": "2025-01-01T00:00:00Z", "sha256": "0" * 64,
                "captured_from": "text-file", "note": "Generated for a benchmark; not a real article."}
        body = "\n\n".join(f"{number}. {' '.join(para)}" for number, para in enumerate(written, start=1))
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
        (archive / f"{source['id']}.md").write_text(f"---\n{front}---\n{body}\n", "utf-8")
    for path in sorted((site / "content" / "briefings").rglob("*.md")):
        text = path.read_text("utf-8")
        listed = _SOURCES_KEY.search(text)
        if listed is None:
            continue
        ids = [line.strip()[2:] for line in listed.group(1).splitlines()]
        quoted = []
        for _ in range(rng.randint(1, 3)):
            source_id = rng.choice(ids)
            number = rng.randrange(_PARAGRAPHS)
            quoted.append(f'A statement put it plainly: "{_phrase(rng, sentences[source_id][number])}" '
                          f"[@{source_id}, para. {number + 1}].")
        path.write_text(text.rstrip("\n") + "\n\n" + " ".join(quoted) + "\n", "utf-8")


def _phrase(rng: random.Random, sentences: list[str]) -> str:
    """A few words in a row of one of these sentences, lower-cased, with no quote mark in them."""
    while True:
        words = rng.choice(sentences).rstrip(".").lower().split()
        start = rng.randrange(max(1, len(words) - 5))
        phrase = " ".join(words[start:start + rng.randint(5, 9)])
        if not re.search(r"['\u2018\u2019\"]", phrase):
            return phrase


def most_cited(site: Path) -> tuple[str, int, int]:
    """The source cited by the most briefings, their count, and the count of briefings."""
    citing: collections.Counter[str] = collections.Counter()
    briefings = 0
    for path in (site / "content" / "briefings").rglob("*.md"):
        briefings += 1
        citing.update(set(re.findall(r"\[@([\w.:-]+)", path.read_text("utf-8"))))
    source_id, count = citing.most_common(1)[0]
    return source_id, count, briefings


def _edited(path: Path, pattern: str, replacement: str) -> None:
    text, count = re.subn(pattern, replacement, path.read_text("utf-8"), count=1, flags=re.M)
    if count != 1:
        raise SystemExit(f"{path}: no line matches {pattern!r}")
    path.write_text(text, "utf-8")


def _next_locator(path: Path) -> None:
    """A briefing's first `para. N` locator made `para. N+1` (after the last, `para. 1`)."""
    text = path.read_text("utf-8")
    found = re.search(r", para\. (\d+)\]", text)
    if found is None:
        raise SystemExit(f"{path}: no para. locator")
    number = int(found.group(1)) % _PARAGRAPHS + 1
    path.write_text(text[:found.start(1)] + str(number) + text[found.end(1):], "utf-8")


def _cite_or_not(path: Path, source_id: str) -> None:
    """A sentence citing `source_id` appended to a briefing, or taken out if it is there."""
    sentence = f"\nA citation added for the benchmark [@{source_id}].\n"
    text = path.read_text("utf-8")
    path.write_text(text.replace(sentence, "") if sentence in text else text + sentence, "utf-8")


def _add_source(site: Path, like: str, source_id: str) -> None:
    """What `briefgen source add` writes: a registry entry and an archive (a copy of another's)."""
    registry = sorted((site / "content" / "sources").glob("*.yaml"))[0]
    with open(registry, "a", encoding="utf-8") as stream:
        stream.write(f"- id: {source_id}\n  title: An article added\n  publisher: Benchmark Wire\n"
                     f"  url: https://bench.example.org/{source_id}\n")
    archive = site / "content" / "archive"
    text = (archive / f"{like}.md").read_text("utf-8")
    (archive / f"{source_id}.md").write_text(text.replace(f"id: {like}\n", f"id: {source_id}\n", 1), "utf-8")


def run(pairs: list[tuple[str, str]], rounds: int) -> None:
    source_id, citing, briefings = most_cited(Path(pairs[0][0]))
    print(f"{briefings} briefings; the edited archive's source, {source_id}, is cited by {citing}")
    edited_briefing = sorted((Path(pairs[0][0]) / "content" / "briefings").rglob("*.md"))[briefings // 2]
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    run_tag = secrets.token_hex(3)  # the sources this run adds are new to a copy run on before
    for site, briefgen in pairs:
        timed([briefgen, "build"], site)
    for number in range(1, rounds + 1):
        for site, briefgen in pairs:
            archive = Path(site) / "content" / "archive" / f"{source_id}.md"
            _edited(archive, r"^1\. ", f"1. Round {number}: ")
            figures.setdefault((briefgen, "cited paragraph"), []).append(timed([briefgen, "build"], site)[:2])
            _edited(archive, rf"^({_PARAGRAPHS + 1}\. .*)$", rf"\1 Round {number}.")
            figures.setdefault((briefgen, "other paragraph"), []).append(timed([briefgen, "build"], site)[:2])
            briefing = Path(site) / edited_briefing.relative_to(pairs[0][0])
            with open(briefing, "a", encoding="utf-8") as stream:
                stream.write(f"\nA sentence added in round {number}.\n")
            figures.setdefault((briefgen, "briefing"), []).append(timed([briefgen, "build"], site)[:2])
            _next_locator(briefing)
            figures.setdefault((briefgen, "locator"), []).append(timed([briefgen, "build"], site)[:2])
            _cite_or_not(briefing, source_id)
            figures.setdefault((briefgen, "citation"), []).append(timed([briefgen, "build"], site)[:2])
            _add_source(Path(site), source_id, f"bench-added-{run_tag}-{number}")
            figures.setdefault((briefgen, "source added"), []).append(timed([briefgen, "build"], site)[:2])
    print(f"{'version':40s} {'edit':16s} {'wall median':>12s} {'CPU median':>11s}  walls")
    for (briefgen, edit), runs in figures.items():
        walls = [wall for wall, _ in runs]
        print(f"{briefgen:40s} {edit:16s} {statistics.median(walls):11.2f}s "
              f"{statistics.median(cpu for _, cpu in runs):10.2f}s  "
              + " ".join(f"{wall:.2f}" for wall in walls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prepared = commands.add_parser("prepare", help="give a generated site archives and quotations")
    prepared.add_argument("site", type=Path)
    running = commands.add_parser("run", help="time archive edits, alternating two versions")
    running.add_argument("sites_and_commands", nargs=4, metavar="SITE_A BRIEFGEN_A SITE_B BRIEFGEN_B")
    running.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.site)
    else:
        a, b = args.sites_and_commands[:2], args.sites_and_commands[2:]
        run([(a[0], a[1]), (b[0], b[1])], args.rounds)


if __name__ == "__main__":
    main()
