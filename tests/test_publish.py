"""Tests for `briefgen publish`: real git repositories and real folders in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from briefgen.publish import (
    MANIFEST_NAME,
    PublishError,
    check_dir_target,
    check_git_target,
    publish_dir,
    publish_git_branch,
)

SITE = {
    "index.html": "<h1>Home</h1>\n",
    "2016/08/02/x/index.html": "<h1>X</h1>\n",
    "static/style.abc123.css": "body { color: #111; }\n",
    "feed.xml": "<feed/>\n",
}


# ---------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the machine's git configuration (identity, hooks, defaults) out of every test."""
    home = tmp_path / "home"
    home.mkdir()
    empty = home / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    for role in ("AUTHOR", "COMMITTER"):
        for field in ("NAME", "EMAIL"):
            monkeypatch.delenv(f"GIT_{role}_{field}", raising=False)


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def make_tree(root: Path, files: dict[str, str] = SITE) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "output")


def init_repo(path: Path, *, identity: bool = True, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if identity:
        git(path, "config", "user.name", "Ada Editor")
        git(path, "config", "user.email", "ada@example.org")
    if commit:
        (path / "briefgen.toml").write_text('[site]\ntitle = "T"\n')
        (path / "notes.md").write_text("draft\n")
        git(path, "add", ".")
        git(path, "commit", "-q", "-m", "initial")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A site repository with uncommitted work: a modified file and an untracked one."""
    path = init_repo(tmp_path / "site")
    (path / "notes.md").write_text("draft, edited but not committed\n")
    (path / "untracked.md").write_text("new\n")
    return path


def add_bare_remote(repo: Path, bare: Path, name: str = "origin") -> Path:
    git(repo.parent, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", name, str(bare))
    return bare


def snapshot(repo: Path) -> tuple[str, bytes, str, str, str, str]:
    """Everything publishing must leave alone."""
    index = repo / ".git" / "index"
    return (
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        index.read_bytes() if index.exists() else b"",
        git(repo, "rev-parse", "-q", "--verify", "HEAD", check=False),
        (repo / ".git" / "HEAD").read_text(),
        git(repo, "for-each-ref"),
        (repo / "notes.md").read_text() if (repo / "notes.md").exists() else "",
    )


def branch_files(repo: Path, branch: str) -> dict[str, str]:
    names = git(repo, "ls-tree", "-r", "--name-only", branch).splitlines()
    return {name: git_show(repo, f"{branch}:{name}") for name in names}


def git_show(repo: Path, spec: str) -> str:
    return subprocess.run(
        ["git", "show", spec], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def assert_one_line(exc: pytest.ExceptionInfo[PublishError]) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


# ---------------------------------------------------------------- git branch: content


def test_git_publishes_site_tree_with_nojekyll_and_cname(site: Path, repo: Path) -> None:
    result = publish_git_branch(site, repo, "gh-pages", cname="news.example.org")

    assert branch_files(repo, "gh-pages") == {
        **SITE,
        ".nojekyll": "",
        "CNAME": "news.example.org\n",
    }
    assert result.target == "gh-pages"
    assert result.changed and not result.pushed and result.removed == 0
    assert result.written == len(SITE) + 2
    assert result.commit == git(repo, "rev-parse", "gh-pages")
    assert git(repo, "log", "-1", "--format=%s|%an <%ae>", "gh-pages") == (
        "Publish site|Ada Editor <ada@example.org>"
    )


def test_git_without_cname_adds_only_nojekyll(site: Path, repo: Path) -> None:
    publish_git_branch(site, repo, "gh-pages")

    assert branch_files(repo, "gh-pages") == {**SITE, ".nojekyll": ""}


def test_git_keeps_bytes_exactly(tmp_path: Path, repo: Path) -> None:
    site = make_tree(tmp_path / "output", {"index.html": "x"})
    (site / "crlf.txt").write_bytes(b"a\r\nb\r\n")
    (repo / ".gitattributes").write_text("* text=auto eol=lf\n")

    publish_git_branch(site, repo, "gh-pages")

    blob = subprocess.run(
        ["git", "cat-file", "blob", "gh-pages:crlf.txt"], cwd=repo, capture_output=True, check=True
    ).stdout
    assert blob == b"a\r\nb\r\n"


def test_git_custom_message(site: Path, repo: Path) -> None:
    publish_git_branch(site, repo, "gh-pages", message="Deploy 2016-08-02")

    assert git(repo, "log", "-1", "--format=%s", "gh-pages") == "Deploy 2016-08-02"


# ---------------------------------------------------------------- git branch: safety


def test_git_leaves_work_tree_index_and_head_untouched(site: Path, repo: Path) -> None:
    before = snapshot(repo)

    publish_git_branch(site, repo, "gh-pages", cname="news.example.org")

    after = snapshot(repo)
    assert after[:4] == before[:4]
    assert after[5] == before[5]
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert not (repo / "index.html").exists()
    assert not (repo / ".nojekyll").exists()


def test_git_works_in_unborn_repository(site: Path, tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "fresh", commit=False)
    before = snapshot(repo)

    result = publish_git_branch(site, repo, "gh-pages")

    assert result.changed
    assert branch_files(repo, "gh-pages") == {**SITE, ".nojekyll": ""}
    assert git(repo, "rev-parse", "-q", "--verify", "HEAD", check=False) == ""
    assert snapshot(repo)[:4] == before[:4]


def test_git_works_with_detached_head(site: Path, repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    head = git(repo, "rev-parse", "HEAD")

    publish_git_branch(site, repo, "gh-pages")

    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "symbolic-ref", "-q", "HEAD", check=False) == ""


def test_git_accepts_a_folder_inside_the_work_tree(site: Path, repo: Path) -> None:
    inner = repo / "content" / "briefings"
    inner.mkdir(parents=True)

    publish_git_branch(site, inner, "gh-pages")

    assert "index.html" in branch_files(repo, "gh-pages")


def test_git_accepts_relative_paths(
    site: Path, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    publish_git_branch(Path("output"), Path("site"), "gh-pages")

    assert branch_files(repo, "gh-pages") == {**SITE, ".nojekyll": ""}


def test_git_falls_back_to_briefgen_identity(site: Path, tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "anon", identity=False, commit=False)

    publish_git_branch(site, repo, "gh-pages")

    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "gh-pages") == (
        "briefgen <briefgen@localhost>|briefgen <briefgen@localhost>"
    )


# ---------------------------------------------------------------- git branch: history


def test_git_second_publish_adds_commit_on_top(site: Path, repo: Path) -> None:
    first = publish_git_branch(site, repo, "gh-pages").commit
    (site / "index.html").write_text("<h1>Home, updated</h1>\n")
    (site / "feed.xml").unlink()

    second = publish_git_branch(site, repo, "gh-pages")

    assert second.changed and second.commit not in (None, first)
    assert git(repo, "rev-parse", "gh-pages^") == first
    assert git(repo, "rev-list", "--count", "gh-pages") == "2"
    files = branch_files(repo, "gh-pages")
    assert files["index.html"] == "<h1>Home, updated</h1>\n"
    assert "feed.xml" not in files


def test_git_unchanged_site_adds_no_commit(site: Path, repo: Path) -> None:
    first = publish_git_branch(site, repo, "gh-pages").commit

    again = publish_git_branch(site, repo, "gh-pages")

    assert not again.changed and again.commit is None
    assert git(repo, "rev-parse", "gh-pages") == first


def test_git_hashes_only_files_changed_since_the_last_publish(
    site: Path, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files' blobs are kept (in the build cache) with the commit they went into: while the
    branch's tip is that commit, a file whose size, times and inode are as they were keeps its
    blob. A file rewritten, even to its old size and modification time, is hashed again; so is
    every file once the branch has moved under briefgen."""
    from briefgen.publish import git as git_publish

    blobs = tmp_path / "cache" / "publish-blobs.json"
    hashed: list[str] = []
    real = git_publish._hash_blobs

    def hash_blobs(top: Path, site_output: Path, paths: list[str]) -> list[str]:
        hashed.extend(paths)
        return real(top, site_output, paths)

    monkeypatch.setattr(git_publish, "_hash_blobs", hash_blobs)
    first = publish_git_branch(site, repo, "gh-pages", blobs=blobs).commit
    assert sorted(hashed) == sorted(SITE)
    hashed.clear()
    again = publish_git_branch(site, repo, "gh-pages", blobs=blobs)
    assert not again.changed and hashed == []

    before = (site / "index.html").stat()
    (site / "index.html").write_text("<h1>Hame</h1>\n")  # as long as the last one
    os.utime(site / "index.html", ns=(before.st_atime_ns, before.st_mtime_ns))
    (site / "feed.xml").write_text("<feed>new</feed>\n")
    second = publish_git_branch(site, repo, "gh-pages", blobs=blobs)
    assert sorted(hashed) == ["feed.xml", "index.html"]
    assert git(repo, "rev-parse", "gh-pages^") == first
    files = branch_files(repo, "gh-pages")
    assert (files["index.html"], files["feed.xml"]) == ("<h1>Hame</h1>\n", "<feed>new</feed>\n")
    assert files["static/style.abc123.css"] == SITE["static/style.abc123.css"]

    # Someone else's commit on the branch: its tree is not briefgen's, every file is hashed.
    tree = git(repo, "rev-parse", "gh-pages^{tree}")
    git(repo, "update-ref", "refs/heads/gh-pages",
        git(repo, "commit-tree", "-p", str(second.commit), "-m", "by hand", tree))
    hashed.clear()
    publish_git_branch(site, repo, "gh-pages", blobs=blobs)
    assert sorted(hashed) == sorted(SITE)
    blobs.write_text("not json")  # a damaged record: every file is hashed, nothing worse
    hashed.clear()
    assert not publish_git_branch(site, repo, "gh-pages", blobs=blobs).changed
    assert sorted(hashed) == sorted(SITE)


# ---------------------------------------------------------------- git branch: push


def test_git_push_arrives_in_bare_remote(site: Path, repo: Path, tmp_path: Path) -> None:
    bare = add_bare_remote(repo, tmp_path / "remote.git")

    result = publish_git_branch(site, repo, "gh-pages", remote="origin")

    assert result.pushed
    assert git(bare, "rev-parse", "refs/heads/gh-pages") == result.commit


def test_git_unchanged_site_still_pushes_lagging_remote(
    site: Path, repo: Path, tmp_path: Path
) -> None:
    bare = add_bare_remote(repo, tmp_path / "remote.git")
    commit = publish_git_branch(site, repo, "gh-pages").commit

    result = publish_git_branch(site, repo, "gh-pages", remote="origin")

    assert not result.changed and result.pushed
    assert git(bare, "rev-parse", "refs/heads/gh-pages") == commit


def test_git_rejected_push_diverged_remote(site: Path, repo: Path, tmp_path: Path) -> None:
    bare = add_bare_remote(repo, tmp_path / "remote.git")
    other = init_repo(tmp_path / "other")
    git(other, "push", "-q", str(bare), "main:refs/heads/gh-pages")
    remote_tip = git(bare, "rev-parse", "refs/heads/gh-pages")

    with pytest.raises(PublishError) as exc:
        publish_git_branch(site, repo, "gh-pages", remote="origin")

    message = assert_one_line(exc)
    assert "rejected" in message and "origin" in message
    local = git(repo, "rev-parse", "gh-pages")
    assert local[:12] in message and "stays on the local branch" in message
    assert "git fetch origin gh-pages && git branch -f gh-pages FETCH_HEAD" in message
    assert git(bare, "rev-parse", "refs/heads/gh-pages") == remote_tip


def test_git_a_fresh_clone_publishes_on_top_of_the_remotes_branch(site: Path, repo: Path,
                                                                   tmp_path: Path) -> None:
    """A clone (a CI run, a second machine) has origin/gh-pages and no local gh-pages."""
    bare = add_bare_remote(repo, tmp_path / "remote.git")
    git(repo, "push", "-q", "origin", "main")
    first = publish_git_branch(site, repo, "gh-pages", remote="origin").commit
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(clone))
    (site / "added.html").write_text("<p>new</p>\n")

    result = publish_git_branch(site, clone, "gh-pages", remote="origin")

    assert result.pushed and result.changed
    assert git(bare, "rev-parse", "refs/heads/gh-pages") == result.commit
    assert git(clone, "rev-parse", f"{result.commit}^") == first
    # Nothing new to publish: the local branch starts at the remote's, and no commit is added.
    again = tmp_path / "again"
    git(tmp_path, "clone", "-q", "-b", "main", str(bare), str(again))
    unchanged = publish_git_branch(site, again, "gh-pages", remote="origin")
    assert not unchanged.changed and git(again, "rev-parse", "gh-pages") == result.commit


def test_git_push_refused_by_pre_receive_hook(site: Path, repo: Path, tmp_path: Path) -> None:
    bare = add_bare_remote(repo, tmp_path / "remote.git")
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'deploys are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)

    with pytest.raises(PublishError) as exc:
        publish_git_branch(site, repo, "gh-pages", remote="origin")

    assert "pre-receive hook declined" in assert_one_line(exc)
    assert git(bare, "for-each-ref") == ""
    assert git(repo, "rev-parse", "-q", "--verify", "gh-pages", check=False) != ""


def test_git_unreachable_remote(site: Path, repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", str(tmp_path / "missing.git"))

    with pytest.raises(PublishError) as exc:
        publish_git_branch(site, repo, "gh-pages", remote="origin")

    message = assert_one_line(exc)
    assert "push of gh-pages to origin" in message and "failed" in message


# ---------------------------------------------------------------- git branch: refused targets


def test_git_refuses_non_repository(site: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()

    for call in (
        lambda: check_git_target(plain, "gh-pages", None),
        lambda: publish_git_branch(site, plain, "gh-pages"),
    ):
        with pytest.raises(PublishError) as exc:
            call()
        message = assert_one_line(exc)
        assert f"{plain} is not a git repository" in message and "git init" in message
    assert list(plain.iterdir()) == []


def test_git_refuses_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="is not a git repository"):
        check_git_target(tmp_path / "nowhere", "gh-pages", None)


def test_git_refuses_bare_repository(site: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))

    with pytest.raises(PublishError) as exc:
        publish_git_branch(site, bare, "gh-pages")

    assert "is a bare repository" in assert_one_line(exc)
    assert git(bare, "for-each-ref") == ""


@pytest.mark.parametrize("name", ["bad..name", "-x", "", "a b", "HEAD", "x.lock", "@{-1}"])
def test_git_refuses_invalid_branch_name(site: Path, repo: Path, name: str) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    git(repo, "checkout", "-q", "main")  # so that @{-1} names a real branch
    before = snapshot(repo)

    with pytest.raises(PublishError) as exc:
        publish_git_branch(site, repo, name)

    assert "not a valid git branch name" in assert_one_line(exc)
    assert snapshot(repo) == before


def test_git_refuses_unknown_remote(site: Path, repo: Path, tmp_path: Path) -> None:
    add_bare_remote(repo, tmp_path / "remote.git")
    before = snapshot(repo)

    with pytest.raises(PublishError) as exc:
        check_git_target(repo, "gh-pages", "upstream")
    assert "no remote named 'upstream'" in assert_one_line(exc)

    with pytest.raises(PublishError):
        publish_git_branch(site, repo, "gh-pages", remote="upstream")
    assert snapshot(repo) == before


def test_git_refuses_checked_out_branch(site: Path, repo: Path) -> None:
    before = snapshot(repo)

    with pytest.raises(PublishError) as exc:
        publish_git_branch(site, repo, "main")

    assert "main is checked out" in assert_one_line(exc)
    assert snapshot(repo) == before


def test_git_refuses_branch_checked_out_in_other_worktree(
    site: Path, repo: Path, tmp_path: Path
) -> None:
    git(repo, "branch", "gh-pages")
    git(repo, "worktree", "add", "-q", str(tmp_path / "pages"), "gh-pages")
    before = snapshot(repo)

    with pytest.raises(PublishError, match="checked out"):
        publish_git_branch(site, repo, "gh-pages")
    assert snapshot(repo) == before


def test_git_check_accepts_a_usable_target(repo: Path, tmp_path: Path) -> None:
    add_bare_remote(repo, tmp_path / "remote.git")

    check_git_target(repo, "gh-pages", "origin")
    check_git_target(repo, "gh-pages", None)


# ---------------------------------------------------------------- folder


@pytest.fixture
def protected(tmp_path: Path) -> list[Path]:
    root = tmp_path / "siteroot"
    return [root, *(root / name for name in ("content", "templates", "static", "themes"))]


def read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_dir_first_publish_writes_everything(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    target = tmp_path / "www" / "briefing"

    result = publish_dir(site, target, protected=protected)

    files = read_tree(target)
    manifest = json.loads(files.pop(MANIFEST_NAME))
    assert files == SITE
    assert (manifest["version"], manifest["files"]) == (1, sorted(SITE))
    assert sorted(manifest["seen"]) == sorted(SITE)  # each file's stats and its copy's, as a key
    assert result.changed and result.written == len(SITE) and result.removed == 0
    assert result.target == str(target) and result.commit is None and not result.pushed


def test_dir_new_files_get_plain_copy_mode(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    # A build that writes 0600 temp files must not make the served copy unreadable.
    (site / "index.html").chmod(0o600)
    umask = os.umask(0o022)
    try:
        publish_dir(site, tmp_path / "www", protected=protected)
    finally:
        os.umask(umask)

    assert (tmp_path / "www" / "index.html").stat().st_mode & 0o777 == 0o644


def test_dir_rewritten_file_keeps_its_mode(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    target = tmp_path / "www"
    publish_dir(site, target, protected=protected)
    (target / "index.html").chmod(0o640)
    (site / "index.html").write_text("<h1>New</h1>\n")

    publish_dir(site, target, protected=protected)

    assert (target / "index.html").read_text() == "<h1>New</h1>\n"
    assert (target / "index.html").stat().st_mode & 0o777 == 0o640


def test_dir_accepts_relative_paths(
    site: Path, tmp_path: Path, protected: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    publish_dir(Path("output"), Path("www"), protected=protected)
    (site / "feed.xml").unlink()
    result = publish_dir(Path("output"), Path("www"), protected=protected)

    assert result.removed == 1 and result.target == "www"
    assert sorted(read_tree(tmp_path / "www")) == sorted(
        [*SITE.keys() - {"feed.xml"}, MANIFEST_NAME]
    )


def test_dir_keeps_unrelated_files(site: Path, tmp_path: Path, protected: list[Path]) -> None:
    target = tmp_path / "www"
    make_tree(target, {".htaccess": "deny\n", "downloads/report.pdf": "%PDF\n"})

    publish_dir(site, target, protected=protected)
    (site / "feed.xml").unlink()
    publish_dir(site, target, protected=protected)

    assert (target / ".htaccess").read_text() == "deny\n"
    assert (target / "downloads" / "report.pdf").read_text() == "%PDF\n"


def test_dir_removes_files_the_site_no_longer_has(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    target = tmp_path / "www"
    publish_dir(site, target, protected=protected)
    (target / "static" / "mine.txt").write_text("user file\n")
    (site / "2016/08/02/x/index.html").unlink()
    (site / "static/style.abc123.css").unlink()

    result = publish_dir(site, target, protected=protected)

    assert result.removed == 2 and result.changed
    assert not (target / "2016").exists()  # our folders, now empty, are gone
    assert (target / "static" / "mine.txt").exists()  # a folder holding a user file stays
    assert not (target / "static" / "style.abc123.css").exists()
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    assert manifest["files"] == ["feed.xml", "index.html"]


def test_dir_rewrites_changed_file(site: Path, tmp_path: Path, protected: list[Path]) -> None:
    target = tmp_path / "www"
    publish_dir(site, target, protected=protected)
    # Same size and an identical mtime: only a content comparison notices the change.
    (site / "index.html").write_text("<h1>Hame</h1>\n")
    stat = (target / "index.html").stat()
    os.utime(site / "index.html", ns=(stat.st_atime_ns, stat.st_mtime_ns))

    result = publish_dir(site, target, protected=protected)

    assert (target / "index.html").read_text() == "<h1>Hame</h1>\n"
    assert result.written == 1 and result.changed


def test_dir_does_not_rewrite_unchanged_files(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    target = tmp_path / "www"
    publish_dir(site, target, protected=protected)
    past = 1_000_000_000 * 10**9
    before = {}
    for rel in SITE:
        os.utime(target / rel, ns=(past, past))
        before[rel] = (target / rel).stat()
    (site / "feed.xml").write_text("<feed>new</feed>\n")

    result = publish_dir(site, target, protected=protected)

    assert result.written == 1
    for rel in set(SITE) - {"feed.xml"}:
        after = (target / rel).stat()
        assert (after.st_ino, after.st_mtime_ns) == (before[rel].st_ino, past)
    assert (target / "feed.xml").stat().st_mtime_ns != past


def test_dir_unchanged_site_changes_nothing(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    target = tmp_path / "www"
    publish_dir(site, target, protected=protected)
    manifest_stat = (target / MANIFEST_NAME).stat()

    result = publish_dir(site, target, protected=protected)

    assert not result.changed and result.written == 0 and result.removed == 0
    assert (target / MANIFEST_NAME).stat().st_ino == manifest_stat.st_ino


def test_dir_reads_only_files_whose_stats_changed_since_the_last_publish(
    site: Path, tmp_path: Path, protected: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest keeps each file's stats and its copy's: both as the last publish left them,
    they are equal still, and neither is read. A copy changed by hand since, even to its old size
    and modification time, has another change time: it is compared, and written again."""
    from briefgen.publish import folder

    target = tmp_path / "www"
    publish_dir(site, target, protected=protected)
    compared: list[str] = []
    real = folder._same_content

    def same_content(a: Path, b: Path) -> bool:
        compared.append(a.relative_to(site).as_posix())
        return real(a, b)

    monkeypatch.setattr(folder, "_same_content", same_content)
    assert not publish_dir(site, target, protected=protected).changed
    assert compared == []
    (site / "feed.xml").write_text("<feed>new</feed>\n")
    copy = target / "index.html"
    before = copy.stat()
    copy.write_text("<h1>Hand</h1>\n")  # as long as the built one
    os.utime(copy, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.utime(site / "static/style.abc123.css")  # touched: read, found equal, not written
    result = publish_dir(site, target, protected=protected)
    assert sorted(compared) == ["feed.xml", "index.html", "static/style.abc123.css"]
    assert result.written == 2 and read_tree(target)["index.html"] == SITE["index.html"]
    compared.clear()
    assert not publish_dir(site, target, protected=protected).changed and compared == []


@pytest.mark.parametrize("seen", [None, ["index.html"], {"index.html": 7}])
def test_dir_manifest_without_usable_stats_compares_every_file(
    site: Path, tmp_path: Path, protected: list[Path], seen: object
) -> None:
    """A manifest an earlier version wrote has no stats, and damaged ones are not trusted: every
    file is compared, the unchanged left alone, and the stats recorded for the next publish."""
    target = tmp_path / "www"
    publish_dir(site, target, protected=protected)
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    manifest.pop("seen")
    if seen is not None:
        manifest["seen"] = seen
    (target / MANIFEST_NAME).write_text(json.dumps(manifest))
    (target / "feed.xml").write_text("<feed>by hand</feed>\n")

    result = publish_dir(site, target, protected=protected)

    assert result.written == 1 and read_tree(target)["feed.xml"] == SITE["feed.xml"]
    assert sorted(json.loads((target / MANIFEST_NAME).read_text())["seen"]) == sorted(SITE)


def test_dir_a_built_folder_that_cannot_be_read_stops_the_publish(
    site: Path, tmp_path: Path, protected: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing a site without one of its folders would break it: the publish stops first.
    (The tests run as root, whom permissions do not stop: the listing is made to fail.)"""
    target = tmp_path / "www"
    real = os.scandir

    def scandir(path: str) -> Any:
        if path.endswith("/static"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(PublishError, match=r"cannot read .*/static: Permission denied"):
        publish_dir(site, target, protected=protected)
    assert not (target / MANIFEST_NAME).exists() and not (target / "index.html").exists()


def test_dir_replaces_stale_file_standing_where_a_folder_goes(
    tmp_path: Path, protected: list[Path]
) -> None:
    site = make_tree(tmp_path / "out1", {"about": "old page\n"})
    target = tmp_path / "www"
    publish_dir(site, target, protected=protected)
    site2 = make_tree(tmp_path / "out2", {"about/index.html": "new page\n"})

    result = publish_dir(site2, target, protected=protected)

    assert (target / "about" / "index.html").read_text() == "new page\n"
    assert result.removed == 1 and result.written == 1


def test_dir_refuses_user_file_standing_where_a_folder_goes(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    target = make_tree(tmp_path / "www", {"static": "not a folder\n"})

    with pytest.raises(PublishError, match="briefgen did not write"):
        publish_dir(site, target, protected=protected)
    assert read_tree(target) == {"static": "not a folder\n"}


@pytest.mark.parametrize(
    ("target_rel", "relation"),
    [
        ("siteroot/content/public", "lies inside"),
        ("siteroot/static", "is"),
        ("siteroot", "is"),
        (".", "contains"),
    ],
)
def test_dir_refuses_protected_targets(
    site: Path, tmp_path: Path, protected: list[Path], target_rel: str, relation: str
) -> None:
    for folder in protected:
        folder.mkdir(parents=True, exist_ok=True)
    (protected[1] / "a.md").write_text("keep\n")
    target = tmp_path / target_rel

    with pytest.raises(PublishError) as exc:
        publish_dir(site, target, protected=protected)

    assert f"it {relation}" in assert_one_line(exc)
    assert (protected[1] / "a.md").read_text() == "keep\n"
    assert not (tmp_path / "siteroot/content/public").exists()
    assert not list(tmp_path.rglob(MANIFEST_NAME))


@pytest.mark.parametrize(("target_rel", "relation"), [("home", "is"), (".", "contains")])
def test_dir_refuses_the_home_folder_and_what_holds_it(
    site: Path, tmp_path: Path, protected: list[Path], target_rel: str, relation: str
) -> None:
    home = Path(os.environ["HOME"])  # tmp_path / "home", set for every test of this module
    (home / ".profile").write_text("keep\n")
    target = tmp_path / target_rel

    with pytest.raises(PublishError) as exc:
        publish_dir(site, target, protected=protected)

    assert f"it {relation} your home folder" in assert_one_line(exc)
    assert sorted(p.name for p in home.iterdir()) == [".profile", "gitconfig"]
    assert not list(tmp_path.rglob(MANIFEST_NAME))
    # A folder of the home folder is a target like any other.
    publish_dir(site, home / "www", protected=protected)
    assert (home / "www" / MANIFEST_NAME).is_file()


def test_dir_refuses_symlink_into_protected_folder(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    protected[1].mkdir(parents=True)
    link = tmp_path / "innocent"
    link.symlink_to(protected[1])

    with pytest.raises(PublishError, match="refusing to publish"):
        check_dir_target(link, protected)


def test_dir_refuses_target_that_is_a_file(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    target = tmp_path / "www"
    target.write_text("a file\n")

    with pytest.raises(PublishError) as exc:
        publish_dir(site, target, protected=protected)

    assert "it is a file" in assert_one_line(exc)
    assert target.read_text() == "a file\n"


def test_dir_unwritable_target_changes_nothing(
    site: Path, tmp_path: Path, protected: list[Path]
) -> None:
    # Tests may run as root, which ignores permission bits; a file as parent fails for anyone.
    parent = tmp_path / "parent"
    parent.write_text("a file\n")
    target = parent / "www"
    before = sorted(p.name for p in tmp_path.iterdir())

    with pytest.raises(PublishError) as exc:
        publish_dir(site, target, protected=protected)

    message = assert_one_line(exc)
    assert message.startswith(f"cannot write to {target}")
    assert parent.read_text() == "a file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_dir_refuses_built_site_as_target(site: Path, protected: list[Path]) -> None:
    with pytest.raises(PublishError, match="overlaps the built site"):
        publish_dir(site, site / "public", protected=protected)


@pytest.mark.parametrize(
    "manifest",
    [
        '{"version": 1, "files": ["../outside.txt"]}',
        '{"version": 1, "files": ["/etc/hostname"]}',
        '{"version": 99, "files": []}',
        "not json",
    ],
)
def test_dir_refuses_broken_manifest(
    site: Path, tmp_path: Path, protected: list[Path], manifest: str
) -> None:
    target = tmp_path / "www"
    target.mkdir()
    (target / MANIFEST_NAME).write_text(manifest)
    (tmp_path / "outside.txt").write_text("keep\n")

    with pytest.raises(PublishError) as exc:
        publish_dir(site, target, protected=protected)

    assert MANIFEST_NAME in assert_one_line(exc)
    assert (tmp_path / "outside.txt").read_text() == "keep\n"
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST_NAME]
