"""The one place that writes the built site: a fresh folder, swapped in on success.

A build writes into a staging folder beside the output. Only when every file
is written does the staging folder replace the output, so a failed or
interrupted build leaves the previous site as it was. briefgen only ever
replaces a folder that carries its marker file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from briefgen.diagnostics import UsageError

MARKER = ".briefgen-output"
_MARKER_TEXT = "This folder is built by briefgen and is replaced by every build.\n"


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def check_output_dir(output: Path, site_root: Path, protected: Iterable[Path]) -> None:
    """Refuse an output folder that is not ours or that overlaps the site's own files."""
    output = output.resolve()
    site_root = site_root.resolve()
    if site_root.is_relative_to(output):
        raise UsageError(f"output folder {output} holds the site itself; choose a folder inside it")
    for path in protected:
        if _overlaps(output, path.resolve()):
            raise UsageError(f"output folder {output} overlaps {path}; briefgen will not write there")
    if output.exists() and not output.is_dir():
        raise UsageError(f"output {output} is a file, not a folder")
    if output.is_dir() and not (output / MARKER).is_file() and any(output.iterdir()):
        raise UsageError(
            f"output folder {output} is not empty and was not made by briefgen; "
            f"empty it or choose another with --output"
        )


class OutputWriter:
    """Writes files into a staging folder; `commit` swaps it into place."""

    def __init__(self, output: Path) -> None:
        self.output = output.resolve()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.staging = self.output.parent / f".{self.output.name}.briefgen-new-{os.getpid()}"
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir()
        self._written: set[str] = set()
        self._made_dirs: set[str] = set()

    def _target(self, rel_file: str) -> Path:
        if rel_file in self._written:
            raise RuntimeError(f"briefgen tried to write {rel_file} twice")
        self._written.add(rel_file)
        target = self.staging / rel_file
        parent = os.path.dirname(rel_file)
        if parent not in self._made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(parent)
        return target

    def register(self, rel_file: str) -> None:
        """Record a file that a worker process wrote into the staging folder."""
        if rel_file in self._written:
            raise RuntimeError(f"briefgen tried to write {rel_file} twice")
        self._written.add(rel_file)

    def write(self, rel_file: str, data: bytes) -> None:
        self._target(rel_file).write_bytes(data)

    def reuse(self, rel_file: str) -> bool:
        """Hard-link the previous build's file: same bytes, same modification time."""
        previous = self.output / rel_file
        if not previous.is_file():
            return False
        target = self._target(rel_file)
        try:
            os.link(previous, target)
        except OSError:
            shutil.copy2(previous, target)
        return True

    def previous_bytes(self, rel_file: str) -> bytes | None:
        try:
            return (self.output / rel_file).read_bytes()
        except OSError:
            return None

    @property
    def written(self) -> frozenset[str]:
        return frozenset(self._written)

    def commit(self) -> None:
        (self.staging / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        old = self.output.parent / f".{self.output.name}.briefgen-old-{os.getpid()}"
        if self.output.exists():
            os.replace(self.output, old)
        os.replace(self.staging, self.output)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def recover_interrupted(output: Path) -> None:
    """Tidy up after a build that was killed: put a moved-aside output back, drop staging."""
    output = output.resolve()
    if not output.parent.is_dir():
        return
    for staging in output.parent.glob(f".{output.name}.briefgen-new-*"):
        shutil.rmtree(staging, ignore_errors=True)
    leftovers = sorted(output.parent.glob(f".{output.name}.briefgen-old-*"))
    if leftovers and not output.exists():
        os.replace(leftovers.pop(), output)
    for old in leftovers:
        shutil.rmtree(old, ignore_errors=True)
