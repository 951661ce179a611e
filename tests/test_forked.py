"""Work handed to a forked copy of the process gives what it would give here, and leaves no copy behind."""

from __future__ import annotations

import itertools
import os
import pickle
import threading
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import corpus_briefing, corpus_site, replace_in, tree

from briefgen.build import fingerprint, forked, loading, memo
from briefgen.build.fingerprint import Fingerprints, PackedLists
from briefgen.build.options import BuildOptions
from briefgen.build.pipeline import build
from briefgen.diagnostics import BuildFailed
from briefgen.render.renderer import make_environment
from briefgen.site.kinds import SEARCH_DOC, SEARCH_INDEX_KINDS, Shows

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")


def pid_bytes() -> bytes:
    return str(os.getpid()).encode()


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_work_runs_in_a_copy_that_is_waited_for() -> None:
    if not forked.can_fork():
        pytest.skip(f"threads still running: {[t.name for t in threading.enumerate()]}")
    with forked.meanwhile(pid_bytes) as result:
        pid = int(result())
        assert result() == str(pid).encode()  # asked again: the same bytes, the copy not asked twice
    assert pid != os.getpid()
    assert reaped(pid)


def test_a_copy_never_asked_for_its_result_is_waited_for_too(tmp_path: Path) -> None:
    mark = tmp_path / "pid"

    def work() -> bytes:
        mark.write_text(str(os.getpid()))
        return b""

    with forked.meanwhile(work):
        pass
    pid = int(mark.read_text())
    assert pid != os.getpid() and reaped(pid)


def test_work_that_fails_in_the_copy_runs_here() -> None:
    parent = os.getpid()

    def work() -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("the copy fails")
        return b"made here"

    with forked.meanwhile(work) as result:
        assert result() == b"made here"


def test_a_copy_that_dies_leaves_the_work_to_this_process() -> None:
    parent = os.getpid()

    def work() -> bytes:
        if os.getpid() != parent:
            os.kill(os.getpid(), 9)
        return b"made here"

    with forked.meanwhile(work) as result:
        assert result() == b"made here"


def test_a_large_result_comes_back_whole() -> None:
    if not forked.can_fork():
        pytest.skip(f"threads still running: {[t.name for t in threading.enumerate()]}")
    made = os.urandom(3 << 20) + pid_bytes()  # more than a pipe holds: read while it is written

    with forked.meanwhile(lambda: made) as result:
        assert bytes(result()) == made


@pytest.mark.parametrize("told", [+10, -10])
def test_a_copy_that_sends_other_than_it_says_leaves_the_work_to_this_process(told: int) -> None:
    """The copy says how many bytes follow: fewer (it was cut off) or more mean its bytes
    are not taken, and the work runs here."""
    parent = os.getpid()

    class Miscounted(bytes):
        def __len__(self) -> int:
            return super().__len__() + told

    def work() -> bytes:
        return Miscounted(b"made in the copy") if os.getpid() != parent else b"made here"

    with forked.meanwhile(work) as result:
        assert bytes(result()) == b"made here"


def test_no_copy_is_made_while_another_thread_runs_or_when_told_not_to() -> None:
    with forked.meanwhile(pid_bytes, fork=False) as result:
        assert int(result()) == os.getpid()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forked.can_fork()
        with forked.meanwhile(pid_bytes) as result:
            assert int(result()) == os.getpid()
    finally:
        stop.set()
        thread.join()


def _logged_numbers(log: Path, fail_in: str = "") -> Callable[[int, int], array[int] | None]:
    """Numbers for items (three times each item's place), made a millisecond a range; each range
    logged with the process that made it. `fail_in`: "copy" or "here", the process that cannot."""
    parent = os.getpid()

    def numbers(start: int, stop: int) -> array[int] | None:
        here = os.getpid() == parent
        if fail_in == ("here" if here else "copy"):
            return None
        time.sleep(0.001)
        with log.open("a") as lines:
            lines.write(f"{'here' if here else 'copy'} {start} {stop}\n")
        return array("q", [3 * item for item in range(start, stop)])

    return numbers


def _ranges(log: Path) -> dict[str, list[tuple[int, int]]]:
    made: dict[str, list[tuple[int, int]]] = {"here": [], "copy": []}
    for line in log.read_text().splitlines() if log.exists() else []:
        side, start, stop = line.split()
        made[side].append((int(start), int(stop)))
    return made


@pytest.mark.parametrize("count", [1, 511, 512, 513, 20_000])
def test_numbers_made_from_both_ends_are_those_made_in_order(tmp_path: Path, count: int) -> None:
    if not forked.can_fork():
        pytest.skip(f"threads still running: {[t.name for t in threading.enumerate()]}")
    log = tmp_path / "log"
    with forked.from_both_ends(count, _logged_numbers(log)) as numbers:
        # This process's other work, while the copy starts from the front.
        waited = time.monotonic() + 5
        while not _ranges(log)["copy"] and time.monotonic() < waited:
            time.sleep(0.002)
        made = numbers()
        assert made is numbers()  # asked again: the same numbers, not made again
    assert made == array("q", [3 * item for item in range(count)])
    ranges = _ranges(log)
    covered = sorted(ranges["here"] + ranges["copy"])
    assert covered[0][0] == 0 and covered[-1][1] == count
    assert all(stop >= start for (_, stop), (start, _) in itertools.pairwise(covered))  # no gap
    if count == 20_000:  # 40 ranges at a millisecond each: both sides took some
        assert ranges["copy"] and ranges["here"]
        assert min(start for start, _ in ranges["here"]) > 0  # this process from the far end
        assert max(start for start, _ in ranges["here"]) == count - 512


def test_a_copy_told_to_yield_runs_at_a_lower_priority(tmp_path: Path) -> None:
    """The output check's copy takes the cores the build leaves: its numbers are made at the
    priority asked for, this process's at its own."""
    if not forked.can_fork():
        pytest.skip(f"threads still running: {[t.name for t in threading.enumerate()]}")
    log = tmp_path / "log"
    own = os.nice(0)

    def niceness(start: int, stop: int) -> array[int]:
        with log.open("a") as lines:
            lines.write("x\n")
        time.sleep(0.002)  # both sides take some
        return array("q", [os.nice(0)] * (stop - start))

    with forked.from_both_ends(4096, niceness, nice=5) as numbers:
        waited = time.monotonic() + 5
        while not log.exists() and time.monotonic() < waited:
            time.sleep(0.002)
        made = numbers()
    assert made is not None and set(made) <= {own, min(own + 5, 19)}
    assert made[0] == min(own + 5, 19) and made[-1] == own  # the copy from the front, this one from the back
    assert os.nice(0) == own


@pytest.mark.parametrize("fail_in", ["copy", "here", "neither, no copy"])
def test_numbers_the_copy_does_not_give_are_made_here(tmp_path: Path, fail_in: str) -> None:
    log = tmp_path / "log"
    if fail_in == "here":  # asked at once: the copy is 40 ranges from done, this process must make some
        with forked.from_both_ends(20_000, _logged_numbers(log, fail_in)) as numbers:
            assert numbers() is None
        return
    fork = fail_in != "neither, no copy"
    with forked.from_both_ends(3000, _logged_numbers(log, fail_in), fork) as numbers:
        time.sleep(0.01)
        made = numbers()
    assert made == array("q", [3 * item for item in range(3000)])
    assert _ranges(log)["copy"] == []
    assert sorted(_ranges(log)["here"])[0][0] == 0


def test_a_copy_working_from_the_front_is_waited_for_when_never_asked(tmp_path: Path) -> None:
    if not forked.can_fork():
        pytest.skip(f"threads still running: {[t.name for t in threading.enumerate()]}")
    mark = tmp_path / "pid"

    def numbers(start: int, stop: int) -> array[int]:
        mark.write_text(str(os.getpid()))
        return array("q", range(start, stop))

    with forked.from_both_ends(100, numbers):
        time.sleep(0.01)
    pid = int(mark.read_text())
    assert pid != os.getpid() and reaped(pid)


@pytest.mark.parametrize("fork", [True, False])
def test_the_output_check_sees_a_folder_changed_or_gone(tmp_path: Path, fork: bool) -> None:
    output = tmp_path / "out"
    (output / "a/b").mkdir(parents=True)
    (output / "a/b/index.html").write_text("page")
    os.utime(output / "a/b", ns=(10**18, 10**18))  # a time the deletion below cannot leave as it was
    folders = memo.output_folders(["a/b/index.html"])
    times = memo.folder_times(output, folders)
    assert times is not None
    cache = tmp_path / "cache"
    last = memo.LastBuild("inputs", 1, 1, None, folders=folders, folder_times=times)
    memo.write_last_build(cache, output, last)
    with memo.checking_output(cache, output, fork) as check:
        assert check.record is not None and check.record.folder_times == times
        assert check.times() == times and check.folders_as_left()
    # Many folders: the copy takes them from the first, this process from the last.
    many = memo.output_folders(f"a/{n}/index.html" for n in range(3000))
    for folder in many:
        (output / folder).mkdir(parents=True, exist_ok=True)
    many_times = memo.folder_times(output, many)
    assert many_times is not None
    memo.write_last_build(cache, output, memo.LastBuild("inputs", 1, 1, None, folders=many,
                                                        folder_times=many_times))
    with memo.checking_output(cache, output, fork) as check:
        assert check.record is not None and check.record.folder_times == many_times
        assert check.times() == many_times and check.folders_as_left()
    # A record whose folders are not stored whole: its times are none.
    memo.write_last_build(cache, output, memo.LastBuild("inputs", 1, 1, None, folders=many[:-1],
                                                        folder_times=many_times))
    with memo.checking_output(cache, output, fork) as check:
        assert check.record is not None and check.times() is None and not check.folders_as_left()
    memo.write_last_build(cache, output, last)
    (output / "a/b/index.html").unlink()
    with memo.checking_output(cache, output, fork) as check:
        assert not check.folders_as_left()
    (output / "a/b").rmdir()
    with memo.checking_output(cache, output, fork) as check:
        assert check.times() is None and not check.folders_as_left()
    with memo.checking_output(tmp_path / "no-cache", output, fork) as check:
        assert check.record is None and not check.folders_as_left()


def test_fingerprints_split_with_a_copy_are_those_found_alone(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    if not forked.can_fork():
        pytest.skip(f"threads still running: {[t.name for t in threading.enumerate()]}")
    loaded = loading.check(corpus_site(tmp_path, count=12))
    env = make_environment(loaded.config, loaded.themes)
    deferred = SEARCH_INDEX_KINDS | {SEARCH_DOC}

    def found(split: bool) -> tuple[Any, ...]:
        prints = Fingerprints.read(loaded.config, loaded.site, loaded.themes, loaded.assets, loaded.plan, env)
        in_order = prints.of_plan(note_readers=True, defer=deferred, fork=split)
        later = [prints.of(spec) for spec in loaded.plan if spec.kind in deferred]
        # As a snapshot keeps them (packed, or two packed parts), and reads them back.
        packed = (PackedLists.of(prints.listed_by), PackedLists.of(prints.shown_full_by))
        kept = pickle.loads(pickle.dumps(packed))
        return (in_order, later, dict(prints.listed_by), dict(prints.shown_full_by), list(prints.shows_every),
                [prints.readers(index, True) for index in range(len(loaded.site.briefings))],
                [dict(lists) for lists in kept])

    alone = found(split=False)
    # Split even this small plan, in runs of a few files, and note where the runs after the
    # first were fingerprinted.
    monkeypatch.setattr(fingerprint, "_SPLIT_FROM", 0)
    monkeypatch.setattr(fingerprint, "_RUN", 4)
    mark = tmp_path / "second-half"
    of_range = Fingerprints._of_range

    def noted(self: Fingerprints, start: int, *args: Any, **kwargs: Any) -> list[str]:
        with mark.open("a") as pids:
            pids.write(f"{os.getpid()}\n")
        return of_range(self, start, *args, **kwargs)

    monkeypatch.setattr(Fingerprints, "_of_range", noted)
    split = found(split=True)
    assert {int(pid) for pid in mark.read_text().split()} - {os.getpid()}
    assert split == alone
    assert any(alone[0]) and any(alone[1]) and alone[2] and alone[3]  # compared: not empty
    # Other runs meet elsewhere, some within a run both sides made.
    for run in (1, 3, 7, 50):
        monkeypatch.setattr(fingerprint, "_RUN", run)
        assert found(split=True) == alone, run


def test_what_files_show_each_briefing_from_a_position_on(tmp_path: Path) -> None:
    """Where the two sides of a split fingerprinting met within a run, the copy's notes of that
    run are taken from where this process stopped."""
    noted = fingerprint._Readers()
    files = [Shows(listed=(0, 1)), Shows(full=(1,)), Shows(listed=(1,), every_briefing=True),
             Shows(named=(2,), listed=(0,)), Shows(full=(0, 1))]
    for position, shown in enumerate(files):
        noted.note(10 + position, shown)
    packed = noted.packed()
    later = packed.from_position(12)
    assert {i: list(p) for i, p in later.listed_by.items()} == {0: [13], 1: [12], 2: [13]}
    assert {i: list(p) for i, p in later.shown_full_by.items()} == {0: [14], 1: [14]}
    assert later.shows_every == [12]
    assert not packed.from_position(15).listed_by and packed.from_position(10).shows_every == [12]


def noting_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The qualified names of the work each forked copy is started with, from now on."""
    copies: list[str] = []
    start = forked._start

    def noted(work: Any) -> Any:
        copies.append(work.__qualname__)
        return start(work)

    monkeypatch.setattr(forked, "_start", noted)
    return copies


def test_a_snapshot_pickled_by_a_copy_serves_the_next_edit(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if not forked.can_fork():
        pytest.skip(f"threads still running: {[t.name for t in threading.enumerate()]}")
    site = corpus_site(tmp_path, count=80)
    output = tmp_path / "out"
    copies = noting_copies(monkeypatch)
    build(site, BuildOptions(output=output, jobs=2))  # a first build's snapshot too
    assert "writing.<locals>.spooled_rows" in copies
    copies.clear()
    (site / "content/briefings/2020/b5.md").unlink()  # a full build from the cache
    assert not build(site, BuildOptions(output=output, jobs=2)).in_place
    assert "writing.<locals>.spooled_rows" in copies
    replace_in(site / "content/briefings/2020/b2.md", "Second paragraph 2.", "An edited paragraph.")
    assert build(site, BuildOptions(output=output, jobs=2)).in_place  # from the snapshot the copy made
    clean = tmp_path / "clean"
    build(site, BuildOptions(output=clean, use_cache=False))
    assert tree(output) == tree(clean)


@pytest.mark.parametrize("copy", ["writes", "fails part way", "cannot be made"])
def test_a_snapshot_written_by_a_copy_reads_back_as_the_build_it_was_made_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy: str) -> None:
    from briefgen.build import snapshot
    from briefgen.build.cache import BuildCache

    site = corpus_site(tmp_path, count=12)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=1))
    cache = BuildCache.open(site / ".briefgen-cache")
    loaded = loading.load(site, BuildOptions(output=output, jobs=1), cache)
    env = make_environment(loaded.config, loaded.themes)
    prints = Fingerprints.read(loaded.config, loaded.site, loaded.themes, loaded.assets, loaded.plan, env)
    prints.of_plan(note_readers=True)
    made = snapshot.Snapshot(str(output), "inputs", loaded, prints.state())
    parent = os.getpid()
    if copy == "cannot be made":
        monkeypatch.setattr(forked, "can_fork", lambda: False)
    elif copy == "fails part way":
        real = snapshot.rows_to_write

        def half_then_fail(made: Any, kept: Any, head_file: Any) -> Any:
            rows, dropped = real(made, kept, head_file)
            if os.getpid() != parent:
                head_file.write(b"the start of a head, and no more")
                head_file.flush()
                raise RuntimeError("the copy fails")
            return rows, dropped

        monkeypatch.setattr(snapshot, "rows_to_write", half_then_fail)
    with snapshot.writing(cache.store, made, fork=True) as write:
        write()
    kept = snapshot.read(cache.store, str(output))
    assert kept is not None
    assert list(kept.loaded.site.briefings) == list(loaded.site.briefings)
    assert [kept.loaded.plan[at] for at in range(len(loaded.plan))] == list(loaded.plan)
    assert kept.fingerprints.listed_by == prints.listed_by



@pytest.mark.parametrize("change", ["added", "deleted"])
def test_related_briefings_updated_by_a_copy_beside_the_plan_are_those_of_a_clean_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    if not forked.can_fork():
        pytest.skip(f"threads still running: {[t.name for t in threading.enumerate()]}")
    site = corpus_site(tmp_path, count=40)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=1))
    monkeypatch.setattr(loading, "_RELATED_SPLIT_FROM", 0)  # a large site's way, at this size
    log = tmp_path / "updated-by"
    updated_related = loading.updated_related

    def noted(*args: Any) -> Any:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
        return updated_related(*args)

    monkeypatch.setattr(loading, "updated_related", noted)
    copies = noting_copies(monkeypatch)
    if change == "added":
        (site / "content/briefings/2020/new.md").write_text(
            corpus_briefing("A new one", "2020-02-14", "Alpha, Beta", "New text [@src-a] and [@src-b]."),
            encoding="utf-8")
    else:
        (site / "content/briefings/2020/b7.md").unlink()
    assert not build(site, BuildOptions(output=output, jobs=1)).in_place
    assert "_finding_related.<locals>.updated" in copies
    assert [int(pid) for pid in log.read_text(encoding="utf-8").split()] != [os.getpid()]
    clean = tmp_path / "clean"
    build(site, BuildOptions(output=clean, use_cache=False))
    assert tree(output) == tree(clean)


def test_a_plan_that_fails_while_a_copy_finds_related_briefings_leaves_no_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not forked.can_fork():
        pytest.skip(f"threads still running: {[t.name for t in threading.enumerate()]}")
    site = corpus_site(tmp_path, count=20)
    output = tmp_path / "out"
    build(site, BuildOptions(output=output, jobs=1))
    before = tree(output)
    monkeypatch.setattr(loading, "_RELATED_SPLIT_FROM", 0)
    started: list[int] = []
    start = forked._start

    def noted(work: Any) -> Any:
        copy = start(work)
        if copy is not None:
            started.append(copy.pid)
        return copy

    monkeypatch.setattr(forked, "_start", noted)
    (site / "content/briefings/2020/new.md").write_text(
        corpus_briefing("A new one", "2020-02-14", "Alpha", "New text [@src-a]."), encoding="utf-8")
    # A page at the search page's URL: an error the plan finds, once the model is made.
    (site / "content/pages/search.md").write_text("---\ntitle: Search\n---\nFind things.\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as failed:
        build(site, BuildOptions(output=output, jobs=1))
    assert any("URL /search/ is wanted by both" in str(problem) for problem in failed.value.diagnostics)
    assert started and all(reaped(pid) for pid in started)
    assert tree(output) == before
