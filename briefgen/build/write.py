"""The one place that writes the built site.

Every file a build renders goes first into a staging folder beside the output;
nothing in the output changes until rendering has fully succeeded, so a failed
build leaves the previous site as it was. Then the build commits, one of two
ways:

- a fresh or mostly changed site: unchanged files are hard-linked into the
  staging folder, which then replaces the output by rename;
- a few changed files: a journal listing them is written into the staging
  folder (the commit point), then each file is renamed into the output and
  files the site no longer has are removed. Told beforehand that few files
  will be written (`expect`), the writer stages them flat, under names made
  from their paths: no folder is made in staging for each one, or removed
  after.

A build killed after the commit point is completed by the next run, before it
does anything else; one killed before it leaves the output untouched.

Unchanged files are never rewritten, so they keep their modification times.
briefgen only ever replaces a folder that carries its marker file.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import hashlib
import json
import os
import shutil
import signal
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path

from briefgen.diagnostics import UsageError

MARKER = ".briefgen-output"
_MARKER_TEXT = "This folder is built by briefgen and is replaced by every build.\n"
_JOURNAL = ".briefgen-journal.json"
# Above this share of changed files, a whole new tree is cheaper than renames.
_FULL_SWAP_SHARE = 0.5


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


# Folders that hold history or state a build must never write into, wherever they are.
RESERVED_FOLDERS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", ".briefgen-cache"})


def reserved_part(path: Path) -> str | None:
    """The version-control or cache folder a path is or lies inside, if any."""
    return next((part for part in path.resolve().parts if part in RESERVED_FOLDERS), None)


def check_output_dir(output: Path, site_root: Path, protected: Iterable[Path]) -> None:
    """Refuse an output folder that is not ours or that overlaps the site's own files."""
    output = output.resolve()
    site_root = site_root.resolve()
    if (part := reserved_part(output)) is not None:
        raise UsageError(f"output folder {output} is or lies inside a {part} folder; "
                         f"briefgen will not write there")
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


def _staging_glob(output: Path) -> str:
    return f".{output.name}.briefgen-new-*"


# Inside an output folder that is a mount point, which cannot be renamed and
# whose files cannot be renamed across its edge.
_INNER_STAGING = ".briefgen-new-"


def _staging_places(output: Path) -> list[Path]:
    """Where a build's staging folders may be: beside the output, or inside a mounted one."""
    found = list(output.parent.glob(_staging_glob(output)))
    if output.is_dir():
        found += output.glob(_INNER_STAGING + "*")
    return found


def _probe_writable(folder: Path) -> None:
    """Create and remove a file in folder: the one check that also holds for root,
    read-only mounts and immutable folders. Raises the OSError a commit would meet."""
    if hasattr(os, "O_TMPFILE"):
        # A file without a name: a build killed here leaves nothing in the output.
        try:
            os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600))
            return
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise
    probe = folder / f".briefgen-probe-{os.getpid()}"
    with open(probe, "xb"):
        pass
    probe.unlink()


def _write_file(path: str, data: bytes) -> None:
    """A new file of these bytes, by the system calls alone: a build writes tens of thousands,
    and a buffered file object for each cost as much as writing it."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view):]
    finally:
        os.close(handle)


class OutputWriter:
    """Collects a build's new files in a staging folder; `commit` puts them in place."""

    def __init__(self, output: Path, listed_present: bool = False, kept_by_plan: bool = False) -> None:
        """`listed_present`: the files the last build's manifest lists are in the output as it
        left them (its folders' times say no file was added or removed since), and `reuse`
        (asked only of those) need not stat them.
        `kept_by_plan`: the files `reuse` keeps are counted, not noted one by one; `commit` is
        given the planned files, every one of which not written was kept. Noted, at 50,000
        briefings they were 138,000 paths (15 MB) from the check of the fingerprints to the
        end of the build, and in every worker forked meanwhile."""
        self.output = output.resolve()
        self._listed_present = listed_present
        self._kept_by_plan = kept_by_plan
        self._kept_unnoted = 0
        self._output_prefix = str(self.output) + os.sep
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.mounted = os.path.ismount(self.output)
        if self.mounted:
            self.staging = self.output / f"{_INNER_STAGING}{os.getpid()}"
        else:
            self.staging = self.output.parent / f".{self.output.name}.briefgen-new-{os.getpid()}"
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir()
        self._written: set[str] = set()
        self._kept: set[str] = set()
        self._made_dirs: set[str] = set()
        self._records = True  # see in_worker
        self.flat = False  # see expect
        # After a commit: the files it put in place or removed, or None when it swapped a
        # new tree in (every folder is new). The output's other folders are as they were.
        self.changed_files: list[str] | None = None

    def expect(self, writing: int, planned: int) -> None:
        """Told, before anything is written, that at most `writing` of the `planned` files will
        be: when the commit will then move them one by one rather than swap a new tree in,
        they are staged flat (a folder made and removed again for each one costs as much as
        its rename on a disk, and a new briefing rewrites a page in each of thousands of folders)."""
        if not self._written and not _swaps(writing, planned) and self.output.is_dir():
            self.flat = True

    def _claim(self, rel_file: str) -> None:
        if rel_file in self._written or rel_file in self._kept:
            raise RuntimeError(f"briefgen tried to write {rel_file} twice")

    def in_worker(self) -> OutputWriter:
        """This writer as a worker process's (a forked copy of the build's): it writes without
        noting what it wrote, which the build's process is told (`register`) and checks. At
        50,000 briefings a worker's notes were 70,000 paths, 10 MB in each worker."""
        self._records = False
        return self

    def register(self, rel_file: str, kept: bool) -> None:
        """Record what a worker process did: wrote a file into staging, or kept the old one."""
        self._claim(rel_file)
        (self._kept if kept else self._written).add(rel_file)

    def write(self, rel_file: str, data: bytes) -> None:
        if self._records:
            self._claim(rel_file)
            self._written.add(rel_file)
        if self.flat:
            _write_file(os.path.join(self.staging, staged_name(rel_file)), data)
            return
        parent = os.path.dirname(rel_file)
        if parent not in self._made_dirs:
            os.makedirs(self.staging / parent, exist_ok=True)
            self._made_dirs.add(parent)
        _write_file(os.path.join(self.staging, rel_file), data)

    def reuse(self, rel_file: str) -> bool:
        """Keep the previous build's file as it is; False when there is none. Asked only of
        files the last build's manifest lists."""
        # A plain string join: this runs for every unchanged file of the site.
        if not self._listed_present and not os.path.isfile(self._output_prefix + rel_file):
            return False
        if self._records and self._kept_by_plan:
            self._kept_unnoted += 1
        elif self._records:
            self._claim(rel_file)
            self._kept.add(rel_file)
        return True

    def commit(self, previous_files: Iterable[str] | None = None,
               planned: Collection[str] | None = None) -> None:
        """Put the new site in place; previous_files lists what the last build wrote, `planned`
        what this one planned (asked for when the files kept were not noted: see __init__)."""
        if self._kept_by_plan and planned is None:
            raise ValueError("the files kept were counted: commit needs the planned files")
        written, kept = self._written, self._kept  # apart: a file is claimed once (see _claim)
        if not self.output.is_dir():
            if self.flat:  # the output went away since `expect`
                self._unflatten()
            self._swap()
            return
        if not self.mounted and not self.flat and _swaps(len(written),
                                                         len(written) + len(kept) + self._kept_unnoted):
            # Every planned file is written or kept by now.
            for rel_file in (kept if planned is None else (f for f in planned if f not in written)):
                target = self.staging / rel_file
                os.makedirs(target.parent, exist_ok=True)
                os.link(self.output / rel_file, target)
            self._swap()
            return
        if previous_files is None:
            known: Iterable[str] = _files_in(self.output)
        else:
            # Looked up one by one, not made a set: at 50,000 briefings, a set of the last build's
            # 141,803 files and one of this build's added 12 MB at the end of the build, its peak.
            known = previous_files
        gone = (f for f in known if f not in written and f not in kept and f != MARKER)
        self._commit_journal(sorted(gone if planned is None else (f for f in gone if f not in planned)))

    def _unflatten(self) -> None:
        """Give the files staged flat their places in a staging tree."""
        for rel_file in sorted(self._written):
            target = self.staging / rel_file
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / staged_name(rel_file), target)
        self.flat = False

    def let_go(self) -> None:
        """Forget the files noted as written and kept, once committed: only `changed_files` is
        asked for after."""
        self._written, self._kept = set(), set()

    def commit_in_place(self) -> None:
        """Put the files written in place and remove none: for an edit that leaves the
        site's list of files as it was (the rest of the output is not even looked at)."""
        self._commit_journal([])

    def _commit_journal(self, remove: list[str]) -> None:
        written = sorted(self._written)
        journal = {"write": written, "remove": remove, "flat": self.flat}
        # Past the commit point a failure would leave a half-updated site, so meet
        # any folder that refuses writes now, while the output is still untouched.
        for folder in _folders_touched(self.output, written + remove):
            _probe_writable(folder)
        self.changed_files = written + remove
        temporary = self.staging / (_JOURNAL + ".tmp")
        temporary.write_text(json.dumps(journal), encoding="utf-8")
        with interrupts_held():
            os.replace(temporary, self.staging / _JOURNAL)  # the commit point
            _apply_journal(self.staging, self.output)

    def _swap(self) -> None:
        (self.staging / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        old = self.output.parent / f".{self.output.name}.briefgen-old-{os.getpid()}"
        with interrupts_held():
            if self.output.exists():
                os.replace(self.output, old)
            os.replace(self.staging, self.output)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        # A committed journal is kept: the next build completes it, so the site is
        # never left half old, half new.
        if not (self.staging / _JOURNAL).is_file():
            shutil.rmtree(self.staging, ignore_errors=True)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C (and a polite kill: SIGTERM, SIGHUP) wait while the output is being changed,
    then take effect: past the commit point an interrupt would leave the site half old, half
    new until the next build. Only the main thread can hold them; SIGKILL cannot wait, and the
    next build completes its journal."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _swaps(written: int, planned: int) -> bool:
    """Whether a commit of this many written files puts a whole new tree in place."""
    return written > _FULL_SWAP_SHARE * max(1, planned)


def staged_name(rel_file: str) -> str:
    """A file's name in a flat staging folder: its path's digest (a path may be longer than a name)."""
    return hashlib.blake2b(rel_file.encode("utf-8"), digest_size=16).hexdigest()


def _folders_touched(output: Path, rel_files: Iterable[str]) -> set[Path]:
    """The nearest existing folder of each file a commit writes or removes."""
    folders = set()
    for rel_file in rel_files:
        folder = (output / rel_file).parent
        while not folder.is_dir() and folder != output:
            folder = folder.parent
        folders.add(folder)
    return folders


def _files_in(folder: Path) -> set[str]:
    found = set()
    for base, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(_INNER_STAGING)]
        relative = os.path.relpath(base, folder)
        for name in files:
            found.add(name if relative == "." else f"{relative}/{name}".replace(os.sep, "/"))
    return found


def _apply_journal(staging: Path, output: Path) -> None:
    """Move staged files into the output and remove stale ones; safe to run again."""
    journal = json.loads((staging / _JOURNAL).read_text(encoding="utf-8"))
    flat = journal.get("flat", False)
    in_the_way = _in_the_way(journal["write"], journal["remove"])
    for rel_file in sorted(in_the_way):  # first: they hold a place a file written takes
        _remove(output, rel_file)
    for rel_file in journal["write"]:
        source = os.path.join(staging, staged_name(rel_file) if flat else rel_file)
        target = os.path.join(output, rel_file)
        # Renamed first: its folder is there but for a new one (a folder made at every file
        # costs a call each, mostly refused).
        try:
            os.replace(source, target)
        except FileNotFoundError:
            if not os.path.exists(source):
                continue  # moved by an earlier run of this journal
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(source, target)
        except (IsADirectoryError, NotADirectoryError) as exc:
            raise OSError(exc.errno, f"{rel_file} in the output is in the way of a file or folder "
                                     f"of the site: it holds files briefgen did not write; move them "
                                     f"out of {output} and build again", target) from exc
    for rel_file in journal["remove"]:
        if rel_file not in in_the_way:
            _remove(output, rel_file)
    (output / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    shutil.rmtree(staging, ignore_errors=True)


def _remove(output: Path, rel_file: str) -> None:
    target = output / rel_file
    target.unlink(missing_ok=True)
    remove_empty_parents(target.parent, output)


def _in_the_way(written: Sequence[str], removed: Sequence[str]) -> set[str]:
    """The stale files to remove before any is written: a file where a written one's folder
    must be (static/downloads, a file, becoming a folder), or a file in a folder where a
    written file must be (the reverse)."""
    if not removed:
        return set()
    # By the removed files, few: a written file under one is found by bisecting the written
    # ones sorted, a written file above one by looking its folders up.
    ordered = sorted(written)
    files = set(written)
    found = set()
    for rel in removed:
        below = bisect.bisect_left(ordered, rel + "/")
        under = below < len(ordered) and ordered[below].startswith(rel + "/")
        if under or any(rel[:at] in files for at in range(len(rel)) if rel[at] == "/"):
            found.add(rel)
    return found


def remove_empty_parents(folder: Path, stop: Path) -> None:
    """Remove folder and its parents up to stop while they are empty; a folder holding
    anything (a user's file too) stays, since rmdir refuses a non-empty folder."""
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def recover_interrupted(output: Path) -> None:
    """Finish or undo what a killed build left: complete a committed journal, drop the rest."""
    output = output.resolve()
    if not output.parent.is_dir():
        return
    for staging in _staging_places(output):
        if (staging / _JOURNAL).is_file() and output.is_dir():
            _apply_journal(staging, output)
        else:
            shutil.rmtree(staging, ignore_errors=True)
    leftovers = sorted(output.parent.glob(f".{output.name}.briefgen-old-*"))
    if leftovers and not output.exists():
        os.replace(leftovers.pop(), output)
    for old in leftovers:
        shutil.rmtree(old, ignore_errors=True)
