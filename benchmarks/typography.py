"""briefgen's Markdown passes against stock Python-Markdown's: same HTML, and how much faster.

    python benchmarks/typography.py CONTENT_DIR... [--repeat 3]

converts every Markdown file under each CONTENT_DIR (front matter removed) with
briefgen's Converter and with the same pipeline on stock Python-Markdown (the
smarty extension in place of the typography pass, the stock inline pass and
block processors in place of briefgen's), reports every document whose HTML differs, then times both pipelines
back to back over all documents (median of --repeat runs, same process;
--repeat 0 only compares).
Exits 1 when any document differs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import frontmatter
import markdown

from briefgen.content import markup

REFERENCE_EXTENSIONS = ("tables", "fenced_code", "footnotes", "smarty", "toc", "sane_lists",
                        "attr_list", "def_list")


class SmartyConverter(markup.Converter):
    """briefgen's Converter on stock Python-Markdown with the smarty extension."""

    def _markdown(self) -> markdown.Markdown:
        return markdown.Markdown(
            extensions=[*REFERENCE_EXTENSIONS,
                        markup._BriefingExtension(self._state, self._citations)],
            extension_configs=markup.MARKDOWN_CONFIG,
            output_format="html",
        )


def bodies(directories: list[Path]) -> list[tuple[str, str]]:
    found = []
    for directory in directories:
        for path in sorted(directory.rglob("*.md")):
            text = path.read_text(encoding="utf-8")
            try:
                body = frontmatter.loads(text).content
            except Exception:
                body = text
            found.append((path.relative_to(directory).as_posix(), body))
    return found


def convert_all(converter: markup.Converter, documents: list[tuple[str, str]]) -> list[str]:
    return [converter.convert(body, name, 1).html for name, body in documents]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    documents = bodies(args.directories)
    new, old = markup.Converter(), SmartyConverter()
    new_page, old_page = markup.Converter(citations=False), SmartyConverter(citations=False)
    different = 0
    for (name, body), got, want in zip(documents, convert_all(new, documents),
                                       convert_all(old, documents), strict=True):
        page_got = new_page.convert(body, name, 1).html
        page_want = old_page.convert(body, name, 1).html
        if got != want or page_got != page_want:
            different += 1
            print(f"differs: {name}")
    print(f"{len(documents)} documents compared, {different} differ")
    if args.repeat < 1:
        return 1 if different else 0
    timings: dict[str, list[float]] = {"smarty": [], "typography": []}
    for _ in range(args.repeat):
        for label, converter in (("smarty", old), ("typography", new)):
            start = time.perf_counter()
            convert_all(converter, documents)
            timings[label].append(time.perf_counter() - start)
    old_median = statistics.median(timings["smarty"])
    new_median = statistics.median(timings["typography"])
    for label, values in timings.items():
        print(f"{label}: median {statistics.median(values):.3f} s of "
              + ", ".join(f"{value:.3f}" for value in values))
    print(f"ratio smarty/typography: {old_median / new_median:.2f}")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
