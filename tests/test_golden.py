"""The demo site's whole output against a golden copy: any change of output shows here.

A deliberate change of output is accepted by writing the golden copy again:

    BRIEFGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

and reviewing the diff of tests/golden/ in the commit. Values that change
without any change of output (briefgen's version number) are normalised.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
from pathlib import Path

from conftest import REPO, build_ok, tree

GOLDEN = Path(__file__).resolve().parent / "golden" / "demo"
MARKER = ".briefgen-output"


def normalised(files: dict[str, bytes]) -> dict[str, bytes]:
    out = {}
    for name, data in files.items():
        if name == MARKER:
            continue
        if name.endswith((".xml", ".json")):
            data = re.sub(rb'(<generator[^>]*version=")[^"]*(")', rb"\1VERSION\2", data)
        out[name] = data
    return out


def first_difference(name: str, want: bytes, got: bytes) -> str:
    lines = difflib.unified_diff(want.decode("utf-8", "replace").splitlines(),
                                 got.decode("utf-8", "replace").splitlines(),
                                 f"golden/{name}", f"built/{name}", lineterm="", n=1)
    return "\n".join(list(lines)[:30])


def test_demo_output_equals_the_golden_copy(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy2(REPO / "briefgen.toml", site / "briefgen.toml")
    shutil.copytree(REPO / "content", site / "content")
    build_ok(site, "--output", tmp_path / "out")
    built = normalised(tree(tmp_path / "out"))
    if os.environ.get("BRIEFGEN_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in built.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    golden = tree(GOLDEN)
    assert sorted(built) == sorted(golden), "files added or removed"
    changed = [name for name in built if built[name] != golden[name]]
    assert not changed, f"{len(changed)} files differ, first:\n" + first_difference(
        changed[0], golden[changed[0]], built[changed[0]])
