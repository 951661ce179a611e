"""A build killed at any instant, then edited or reverted and built again, gives
exactly what a clean build gives; workers never outlive a killed build; a commit
that cannot complete leaves the previous site whole."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, build_ok, make_site, run_cli, tree_bytes

CONFIG = """\
[site]
title = "Kill test"
base_url = "https://example.org/brief/"

[build]
per_page = 5
"""

SOURCES = """\
- id: src-a
  title: "First article"
  publisher: Daily One
  url: https://example.org/a
  published: 2020-01-01
"""


def briefing(n: int, extra: str = "") -> str:
    day = dt.date(2020, 1, 1) + dt.timedelta(days=n % 200)
    topic = "Alpha" if n % 3 else "Beta"
    return (f'---\ntitle: "Briefing {n}"\ndate: {day.isoformat()}\ntopics: [{topic}]\nsources: [src-a]\n'
            f"---\nParagraph {n} cites [@src-a].{extra}\n")


def kill_site(tmp_path: Path, count: int) -> Path:
    files: dict[str, str | bytes] = {"content/sources/s.yaml": SOURCES}
    files |= {f"content/briefings/b{n}.md": briefing(n) for n in range(count)}
    return make_site(tmp_path, files, config=CONFIG)


def edit(site: Path, n: int, extra: str) -> None:
    (site / "content" / "briefings" / f"b{n}.md").write_text(briefing(n, extra), encoding="utf-8")


def output_tree(output: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree_bytes(output).items() if k != ".briefgen-output"}


def clean(site: Path, target: Path) -> dict[str, bytes]:
    if target.exists():
        shutil.rmtree(target)
    build_ok(site, "--no-cache", "--output", target, "--jobs", "1")
    return output_tree(target)


def start_build(site: Path, *args: str) -> subprocess.Popen[bytes]:
    # A build killed with SIGKILL cannot remove its temporary folders (a `--no-cache` build's
    # scratch cache): they are left beside the site, in the test's own folder.
    temporary = site.parent / "temporary"
    temporary.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(temporary)}
    return subprocess.Popen([sys.executable, "-m", "briefgen", "build", str(site), "--quiet", *args],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def kill_when(process: subprocess.Popen[bytes], condition: Callable[[], bool], timeout: float = 60) -> bool:
    """SIGKILL the build as soon as condition holds; False when it finished first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if condition():
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.0005)
    process.wait()
    return False


def inode(path: Path) -> int:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return -1


def test_kill_after_commit_then_revert_gives_the_clean_site(tmp_path: Path) -> None:
    """Item 1: killed after the new page is in place, before the cache records it."""
    site = kill_site(tmp_path, 150)
    output = site / "output"
    build_ok(site, "--jobs", "1")
    caught = 0
    for attempt in range(3):
        page = output / "2020" / "01" / f"{attempt + 11:02d}" / f"briefing-{attempt + 10}" / "index.html"
        assert page.is_file()
        before = inode(page)
        edit(site, attempt + 10, " An added sentence.")
        process = start_build(site, "--jobs", "1")
        caught += kill_when(process, lambda page=page, before=before: inode(page) != before)
        edit(site, attempt + 10, "")  # revert
        build_ok(site, "--jobs", "1")
        assert output_tree(output) == clean(site, tmp_path / "clean")
    assert caught, "every build finished before it could be killed"


def _timed_build(site: Path) -> float:
    started = time.monotonic()
    build_ok(site, "--jobs", "1")
    return time.monotonic() - started


@pytest.mark.parametrize(("change", "jobs"), [("one briefing", "1"), ("every page", "1"),
                                             ("every page", "2"), ("a new briefing", "2")])
def test_kill_at_many_instants_then_edit_or_revert(tmp_path: Path, change: str, jobs: str) -> None:
    """A sweep of kill times over the whole build, the commit sequence included;
    with two jobs, the kills land while workers render into the staging folder too. A new
    briefing rewrites a few files of many folders: those are staged flat."""
    site = kill_site(tmp_path, 120)
    output = site / "output"
    build_ok(site, "--jobs", jobs)
    config = site / "briefgen.toml"
    added = site / "content" / "briefings" / "added.md"

    def apply(step: int) -> None:
        if change == "one briefing":
            edit(site, 7, f" Edit {step}.")
        elif change == "a new briefing":
            added.write_text(briefing(250, f" Added {step}."), encoding="utf-8")
        else:
            config.write_text(CONFIG.replace("Kill test", f"Kill test {step}"), encoding="utf-8")

    def revert() -> None:
        if change == "one briefing":
            edit(site, 7, "")
        elif change == "a new briefing":
            added.unlink()
        else:
            config.write_text(CONFIG, encoding="utf-8")

    apply(0)
    duration = _timed_build(site)
    revert()
    _timed_build(site)
    fractions = [0.05, 0.2, 0.35, 0.5, 0.6, 0.7, 0.8, 0.88, 0.94, 0.98]
    for step, fraction in enumerate(fractions, start=1):
        apply(step)
        process = start_build(site, "--jobs", jobs)
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait()
        if step % 2:
            revert()  # then build the reverted site
        else:
            apply(step + 100)  # or edit once more
        build_ok(site, "--jobs", jobs)
        assert output_tree(output) == clean(site, tmp_path / "clean"), f"killed at {fraction:.0%}"


def test_kill_at_the_commit_point(tmp_path: Path) -> None:
    """Killed as the staging folder appears, and as its journal (the commit point) appears."""
    site = kill_site(tmp_path, 80)
    output = site / "output"
    build_ok(site, "--jobs", "1")
    for step, marker in enumerate(["", ".briefgen-journal.json", ".briefgen-journal.json.tmp"]):
        edit(site, 3, f" Edit {step}.")
        process = start_build(site, "--jobs", "1")

        def staged(marker: str = marker) -> bool:
            return any((p / marker).exists() for p in site.glob(".output.briefgen-new-*"))

        kill_when(process, staged)
        if step == 1:
            edit(site, 3, "")
        build_ok(site, "--jobs", "1")
        assert output_tree(output) == clean(site, tmp_path / "clean")
        assert not list(site.glob(".output.briefgen-*"))


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_build(tmp_path: Path) -> None:
    """Item 6: SIGKILL of `build --jobs 2` leaves no worker running."""
    site = kill_site(tmp_path, 400)
    process = start_build(site, "--jobs", "2", "--no-cache")
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and process.poll() is None and time.monotonic() < deadline:
        workers |= _children(process.pid)
        time.sleep(0.002)
    assert workers, "the build started no workers"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [w for w in workers if _alive(w)]
    for w in survivors:
        os.kill(w, signal.SIGKILL)
    assert not survivors, f"workers {survivors} outlived the build"


def test_failed_commit_leaves_the_previous_site_whole(tmp_path: Path) -> None:
    """Item 7: a folder inside the output that refuses writes fails the build before
    anything in the output changes."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    site = kill_site(tmp_path, 30)
    output = site / "output"
    build_ok(site, "--jobs", "1")
    before = output_tree(output)
    locked = output / "topics" / "alpha"
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
        pytest.skip("this file system does not support immutable folders")
    try:
        edit(site, 1, " A change that reaches the Alpha feed.")
        result = run_cli("build", site, "--jobs", "1")
        assert result.code == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert "topics/alpha" in result.stderr
        assert output_tree(output) == before
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    build_ok(site, "--jobs", "1")
    assert output_tree(output) == clean(site, tmp_path / "clean")


def test_output_folder_that_is_a_mount_point(tmp_path: Path) -> None:
    """Item 8: an output folder that is a mount point builds, rebuilds and stays correct."""
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a private mount namespace here")
    site = kill_site(tmp_path, 20)
    output = site / "output"
    output.mkdir()
    copy = tmp_path / "copy"
    edited = site / "content" / "briefings" / "b2.md"
    python = f"PYTHONPATH={REPO} {sys.executable} -m briefgen build {site} --quiet --jobs 1"
    script = (f"mount -t tmpfs briefgen-test {output} && {python} && "
              f"printf '%s' '{briefing(2, ' Mounted edit.')}' > {edited} && {python} && "
              f"{python} && cp -a {output}/. {copy}/")
    copy.mkdir()
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    if "mount:" in result.stderr and result.returncode != 0:
        pytest.skip(f"cannot mount here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert not any(name.startswith(".briefgen-new") for name in os.listdir(copy))
    assert output_tree(copy) == clean(site, tmp_path / "clean")


def test_a_flat_staged_commit_killed_after_its_journal_is_completed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Told that few of its files will be written, a build stages them flat (no folder made
    for each); killed past the commit point, the next run puts them in place all the same."""
    from briefgen.build import write

    output = tmp_path / "output"
    (output / "gone").mkdir(parents=True)
    (output / write.MARKER).write_text("", encoding="utf-8")
    (output / "gone" / "index.html").write_bytes(b"old")
    (output / "kept.html").write_bytes(b"kept")
    deep = "/".join(["a-folder-name-of-forty-characters-or-so-"] * 8) + "/index.html"
    assert len(deep) > 255  # longer than any file name may be
    writer = write.OutputWriter(output)
    writer.expect(2, 10)
    assert writer.flat
    writer.write("2020/01/02/new/index.html", b"new")
    writer.write(deep, b"deep")
    assert writer.reuse("kept.html")
    staged = list(writer.staging.iterdir())
    assert len(staged) == 2 and all(path.is_file() for path in staged), "no folder made in staging"

    def killed(staging: Path, output: Path) -> None:
        raise KeyboardInterrupt  # as a SIGKILL right after the commit point

    monkeypatch.setattr(write, "_apply_journal", killed)
    with pytest.raises(KeyboardInterrupt):
        writer.commit(["gone/index.html", "kept.html"])
    monkeypatch.undo()
    assert not (output / deep).exists(), "the kill came before any file moved"
    write.recover_interrupted(output)
    assert (output / "2020/01/02/new/index.html").read_bytes() == b"new"
    assert (output / deep).read_bytes() == b"deep"
    assert (output / "kept.html").read_bytes() == b"kept"
    assert not (output / "gone").exists()
    assert not list(tmp_path.glob(".output.briefgen-*")), "the staging folder is removed"


def test_a_mostly_rewritten_site_is_staged_as_a_tree(tmp_path: Path) -> None:
    """Told that most files will be written, a build stages the new tree that replaces the output."""
    from briefgen.build import write

    output = tmp_path / "output"
    output.mkdir()
    writer = write.OutputWriter(output)
    writer.expect(9, 10)
    assert not writer.flat
    writer.write("a/b/index.html", b"x")
    assert (writer.staging / "a" / "b" / "index.html").read_bytes() == b"x"
    writer.abort()


@pytest.mark.parametrize("written", [1, 3])  # files moved one by one; a new tree swapped in
def test_files_kept_by_count_are_the_planned_ones_not_written(tmp_path: Path, written: int) -> None:
    """A writer that counts the files it keeps (a full build's, see OutputWriter) puts the
    planned files it wrote in place, keeps the other planned ones as they were, and removes
    what the last build made and this one did not plan."""
    from briefgen.build import write

    output = tmp_path / "output"
    output.mkdir()
    (output / write.MARKER).write_text("", encoding="utf-8")
    last = ["a/index.html", "b/index.html", "c/index.html", "gone/index.html"]
    for rel in last:
        (output / rel).parent.mkdir()
        (output / rel).write_bytes(b"old " + rel.encode())
    planned = ["a/index.html", "b/index.html", "c/index.html", "new/index.html"]
    writer = write.OutputWriter(output, listed_present=True, kept_by_plan=True)
    writer.expect(written, len(planned))
    rewritten = planned[4 - written:]
    for rel in planned[:4 - written]:
        assert writer.reuse(rel)
    for rel in rewritten:
        writer.write(rel, b"new " + rel.encode())
    with pytest.raises(ValueError, match="planned files"):
        writer.commit(last)
    writer.commit(last, planned=planned)
    assert sorted(str(p.relative_to(output)) for p in output.rglob("*.html")) == sorted(planned)
    for rel in planned:
        assert (output / rel).read_bytes() == (b"new " if rel in rewritten else b"old ") + rel.encode()


@pytest.mark.parametrize("killed", ["right after the commit", "at the commit point", "in an edit in place"])
def test_a_page_left_by_a_killed_build_goes_when_its_briefing_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed: str) -> None:
    """A build killed between the cache's two records of the output (before the commit and
    after it) leaves pages the cache no longer vouches for: a new briefing's, or an edited
    one's. Deleting that briefing must still remove its page, as a clean build has none."""
    from briefgen.build import write
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build

    site = kill_site(tmp_path, 30)
    output = site / "output"
    folder = site / "content" / "briefings"
    build(site, BuildOptions(jobs=1))
    if killed == "in an edit in place":
        (folder / "x.md").write_text(briefing(250), encoding="utf-8")
        (folder / "y.md").write_text(briefing(251), encoding="utf-8")
        build(site, BuildOptions(jobs=1))
        (folder / "x.md").write_text(briefing(250, "\n\nA second paragraph."), encoding="utf-8")
        assert build(site, BuildOptions(jobs=1)).in_place, "such an edit is made in place"
        (folder / "x.md").write_text(briefing(250, "\n\nAnother second paragraph."), encoding="utf-8")
    elif killed == "at the commit point":
        (folder / "x.md").write_text(briefing(250), encoding="utf-8")
        build(site, BuildOptions(jobs=1))
        edit(site, 3, " Edited.")  # with a new briefing beside it: the full build, not an edit in place
        (folder / "x.md").write_text(briefing(250, " Edited."), encoding="utf-8")
        (folder / "y.md").write_text(briefing(251), encoding="utf-8")
    else:
        (folder / "x.md").write_text(briefing(250), encoding="utf-8")
        (folder / "y.md").write_text(briefing(251), encoding="utf-8")
    page = output / "2020" / "02" / "20" / "briefing-250" / "index.html"

    def kill(staging: Path, output: Path, apply: Callable[[Path, Path], None] = write._apply_journal) -> None:
        if killed == "right after the commit":
            apply(staging, output)
        raise KeyboardInterrupt  # as a SIGKILL: nothing after this runs

    with monkeypatch.context() as patched:
        patched.setattr(write, "_apply_journal", kill)
        with pytest.raises(KeyboardInterrupt):
            build(site, BuildOptions(jobs=1))
    assert page.is_file()
    (folder / "x.md").unlink()
    (folder / "y.md").unlink()
    build(site, BuildOptions(jobs=1))
    assert not page.exists(), "the page of a deleted briefing stays in the output"
    assert output_tree(output) == clean(site, tmp_path / "clean")


def test_files_staged_flat_reach_an_output_removed_during_the_build(tmp_path: Path) -> None:
    """The output folder deleted by hand after the writer chose flat staging: the commit
    puts the files in their places of a new output, not under their staged names."""
    from briefgen.build import write

    output = tmp_path / "output"
    output.mkdir()
    writer = write.OutputWriter(output)
    writer.expect(1, 10)
    assert writer.flat
    writer.write("2020/01/02/new/index.html", b"new")
    shutil.rmtree(output)
    writer.commit([])
    assert (output / "2020/01/02/new/index.html").read_bytes() == b"new"
    assert sorted(p.name for p in output.iterdir()) == [write.MARKER, "2020"]


def test_ctrl_c_past_the_commit_point_waits_until_the_output_is_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupt that arrives while the journal is applied takes effect after it: the output
    is the new site, never half old, half new (it was, until the next build)."""
    from briefgen.build import write
    from briefgen.build.options import BuildOptions
    from briefgen.build.pipeline import build

    site = kill_site(tmp_path, 40)
    build(site, BuildOptions(jobs=1))
    for n in (3, 7, 11):
        edit(site, n, " Edited after the first build.")
    moves = 0
    real_replace = os.replace

    def replace_and_interrupt(source: Any, target: Any) -> None:
        nonlocal moves
        real_replace(source, target)
        moves += 1
        if moves == 3:  # past the commit point (the journal's own rename), mid-way
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(write.os, "replace", replace_and_interrupt)
    # As a terminal gives it: a shell that starts the tests in the background has Python
    # start with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            build(site, BuildOptions(jobs=1))
    finally:
        signal.signal(signal.SIGINT, previous)
    monkeypatch.undo()
    assert moves > 3, "the journal was applied whole"
    assert output_tree(site / "output") == clean(site, tmp_path / "clean")
    assert not list(site.glob(".output.briefgen-*"))
