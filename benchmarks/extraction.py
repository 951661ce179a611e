"""Precision and recall of the paragraphs `briefgen source add` keeps, over the article fixtures.

    python benchmarks/extraction.py [-v]

Each folder in tests/fixtures/articles/ holds one fictional article as an HTML
page (page.html) and as text pasted from a browser (pasted.txt), with the
article's paragraphs in expected.yaml. A kept paragraph counts as correct when
it equals an expected one after white space is collapsed. With -v, every
paragraph kept wrongly or missed is printed.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from briefgen.sources.extract import article_from_html  # noqa: E402
from briefgen.sources.fetch import decode_page  # noqa: E402
from briefgen.sources.metadata import page_metadata  # noqa: E402
from briefgen.sources.text import article_from_text  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "articles"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _norm(text: str) -> str:
    return " ".join(text.split())


def kept_paragraphs(folder: Path, form: str) -> tuple[list[str], str | None]:
    data = (folder / form).read_bytes()
    text = decode_page(data, None)
    if form.endswith(".html"):
        meta = page_metadata(text)
        article = article_from_html(text, meta.title)
    else:
        article = article_from_text(text)
    return [_norm(p) for p in article.paragraphs], article.headline


def main(verbose: bool) -> int:
    totals = {"page.html": [0, 0, 0], "pasted.txt": [0, 0, 0]}  # kept right, kept wrong, missed
    headlines = [0, 0]  # right, all: the headline found in pasted text
    print(f"{'fixture':<14}{'form':<12}{'expected':>9}{'kept':>6}{'right':>7}{'wrong':>7}{'missed':>8}")
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        spec = yaml.safe_load((folder / "expected.yaml").read_text("utf-8"))
        expected = [_norm(p) for p in spec["paragraphs"]]
        for form in ("page.html", "pasted.txt"):
            kept, headline = kept_paragraphs(folder, form)
            if form == "pasted.txt":
                headlines[0] += headline == spec["title"]
                headlines[1] += 1
                if verbose and headline != spec["title"]:
                    print(f"    headline:     {headline}")
            right = [p for p in kept if p in expected]
            wrong = [p for p in kept if p not in expected]
            missed = [p for p in expected if p not in kept]
            for index, value in enumerate((len(right), len(wrong), len(missed))):
                totals[form][index] += value
            print(f"{folder.name:<14}{form:<12}{len(expected):>9}{len(kept):>6}{len(right):>7}"
                  f"{len(wrong):>7}{len(missed):>8}")
            if verbose:
                for paragraph in wrong:
                    print(f"    kept wrongly: {paragraph[:100]}")
                for paragraph in missed:
                    print(f"    missed:       {paragraph[:100]}")
    print()
    overall = [sum(t[i] for t in totals.values()) for i in range(3)]
    for label, (right, wrong, missed) in [*totals.items(), ("all", overall)]:
        precision = right / (right + wrong) if right + wrong else 1.0
        recall = right / (right + missed) if right + missed else 1.0
        print(f"{label:<11} precision {precision:.3f}  recall {recall:.3f}  "
              f"({right} right, {wrong} wrong, {missed} missed)")
    print(f"headlines found in pasted text: {headlines[0]} of {headlines[1]}")
    example = REPO.parent / "shared" / "examples" / "source-article-moscow-times.txt"
    if example.is_file():
        digests = yaml.safe_load((REPO / "tests/fixtures/example-digests.yaml").read_text("utf-8"))
        article = article_from_text(example.read_text("utf-8"))
        found = [_digest(p) for p in article.paragraphs]
        right = sum(d in digests["paragraphs"] for d in found)
        same = article.headline is not None and _digest(article.headline) == digests["headline"]
        headline = "right" if same else "wrong"
        print(f"shared example (pasted text): headline {headline}, {right} of {len(digests['paragraphs'])} "
              f"paragraphs found, {len(found) - right} kept wrongly")
    else:
        print(f"shared example: not on this machine ({example})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main("-v" in sys.argv[1:]))
