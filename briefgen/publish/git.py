"""Publish to a git branch: one commit per change, made with plumbing and a private index,
so the user's work tree, index, HEAD and current branch are never touched."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from briefgen.publish.common import PublishError, PublishResult, site_files, stat_key

_DEFAULT_MESSAGE = "Publish site"
_FALLBACK_NAME = "briefgen"
_FALLBACK_EMAIL = "briefgen@localhost"
_ZERO_SHA = "0" * 40
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1, or SHA-256
_FILE_MODE = "100644"
_CHUNK = 1 << 16

# Variables that would point git at another repository, work tree or index
# (for example when briefgen runs inside a git hook); the repository we were
# given must win.
_REPO_ENV_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_IMPLICIT_WORK_TREE",
)






# Git branch
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _GitRun:
    code: int
    out: str
    err: str


def _git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV_VARS}
    if extra:
        env.update(extra)
    return env


def _git(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    interactive: bool = False,
) -> _GitRun:
    """Run git in `cwd`; never raises for a git failure, only if git is missing.

    `interactive` leaves stdin alone so a push can still ask for an SSH
    passphrase on the terminal.
    """
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=dict(env) if env is not None else _git_env(),
            input=stdin,
            stdin=None if interactive or stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        if not cwd.is_dir():
            raise PublishError(
                f"{cwd} is not a git repository (run `git init` or use --dir)"
            ) from exc
        if isinstance(exc, FileNotFoundError):
            raise PublishError("git is not installed or not on PATH") from exc
        raise PublishError(f"cannot run git in {cwd}: {exc}") from exc
    return _GitRun(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def _reason(run: _GitRun) -> str:
    """git's own one-line explanation of a failure."""
    lines = [line.strip() for line in run.err.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal:", "error:"):
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
    return lines[0] if lines else f"git exited with status {run.code}"


def _git_ok(
    cwd: Path,
    *args: str,
    what: str,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> str:
    """Run git and return its output, or raise PublishError("<what>: <git's reason>")."""
    run = _git(cwd, *args, env=env, stdin=stdin)
    if run.code != 0:
        raise PublishError(f"{what}: {_reason(run)}")
    return run.out


def _toplevel(repo: Path) -> Path:
    """The work tree root of `repo`, refusing bare repositories and non-repositories."""
    not_a_repo = PublishError(f"{repo} is not a git repository (run `git init` or use --dir)")
    if not repo.is_dir():
        raise not_a_repo
    run = _git(repo, "rev-parse", "--is-bare-repository")
    if run.code != 0:
        if "not a git repository" in run.err:
            raise not_a_repo
        raise PublishError(f"{repo}: {_reason(run)}")
    if run.out.strip() == "true":
        raise PublishError(f"{repo} is a bare repository; publish needs the site's work tree")
    run = _git(repo, "rev-parse", "--show-toplevel")
    if run.code != 0 or not run.out.strip():
        raise PublishError(f"{repo} is inside a .git folder; publish needs the site's work tree")
    return Path(run.out.rstrip("\n"))


def _checked_out_branches(top: Path) -> dict[str, Path]:
    """Branch ref -> work tree path, for every work tree of the repository."""
    out = _git_ok(top, "worktree", "list", "--porcelain", what=f"cannot list work trees of {top}")
    checked_out: dict[str, Path] = {}
    tree = top
    for line in out.splitlines():
        if line.startswith("worktree "):
            tree = Path(line[len("worktree ") :])
        elif line.startswith("branch "):
            checked_out[line[len("branch ") :]] = tree
    return checked_out


def _check_branch_name(top: Path, branch: str) -> None:
    run = _git(top, "check-ref-format", "--branch", branch)
    # --branch expands shorthands such as @{-1}; a name that changes is not literal.
    if run.code != 0 or run.out.strip() != branch:
        raise PublishError(f"'{branch}' is not a valid git branch name")


def _check_remote(top: Path, remote: str) -> None:
    known = _git_ok(top, "remote", what=f"cannot list remotes of {top}").split()
    if remote not in known:
        listed = ", ".join(known) if known else "none configured"
        raise PublishError(f"{top} has no remote named '{remote}' (remotes: {listed})")


def check_git_target(repo: Path, branch: str, remote: str | None) -> None:
    """Raise PublishError before any build if the target is unusable.

    Refused: not a git repository, a bare repository, a branch name git
    refuses, a branch checked out in any work tree of the repository (moving
    it would desync that work tree), an unknown remote name. A detached or
    unborn HEAD is fine: publishing never reads or moves HEAD.
    """
    top = _toplevel(repo)
    _check_branch_name(top, branch)
    tree = _checked_out_branches(top).get(f"refs/heads/{branch}")
    if tree is not None:
        raise PublishError(
            f"branch {branch} is checked out in {tree}; publishing would desync its work tree "
            "(publish to another branch such as gh-pages)"
        )
    if remote is not None:
        _check_remote(top, remote)


def _identity_env(top: Path) -> dict[str, str]:
    """Fall back to a briefgen identity for whatever the user has not configured.

    Checked field by field so a configured name is kept even when only the
    email is missing; git's own guess (user@host) fails on many machines.
    """
    run = _git(top, "config", "--get-regexp", r"^(user|author|committer)\.(name|email)$")
    configured = {line.split(" ", 1)[0].lower() for line in run.out.splitlines() if line}
    env: dict[str, str] = {}
    for role in ("author", "committer"):
        for field, fallback in (("name", _FALLBACK_NAME), ("email", _FALLBACK_EMAIL)):
            var = f"GIT_{role.upper()}_{field.upper()}"
            if os.environ.get(var) or {f"user.{field}", f"{role}.{field}"} & configured:
                continue
            if field == "email" and os.environ.get("EMAIL"):
                continue
            env[var] = fallback
    return env


def _branch_tip(top: Path, branch: str) -> str | None:
    run = _git(top, "rev-parse", "-q", "--verify", f"refs/heads/{branch}^{{commit}}")
    return run.out.strip() if run.code == 0 else None


def _remote_tip(top: Path, remote: str, branch: str) -> str | None:
    """The remote's branch as the repository last fetched it (a fresh clone has it as
    origin/gh-pages, and no local gh-pages): what a publish with no local branch builds on."""
    run = _git(top, "rev-parse", "-q", "--verify", f"refs/remotes/{remote}/{branch}^{{commit}}")
    return run.out.strip() if run.code == 0 else None


def _tree_of(top: Path, commit: str) -> str:
    return _git_ok(top, "rev-parse", f"{commit}^{{tree}}", what=f"cannot read {commit}").strip()


def _hash_blobs(top: Path, site_output: Path, paths: Sequence[str]) -> list[str]:
    """Store each file as a blob, byte for byte.

    `--no-filters` keeps the repository's attributes (eol, LFS, clean
    filters) from altering the published bytes.
    """
    if not paths:
        return []
    if any("\n" in p or "\r" in p for p in paths):
        bad = next(p for p in paths if "\n" in p or "\r" in p)
        raise PublishError(f"cannot publish {bad!r}: file names with line breaks are not supported")
    listing = "".join(f"{site_output / p}\n" for p in paths)
    out = _git_ok(
        top,
        "hash-object",
        "-w",
        "--no-filters",
        "--stdin-paths",
        what=f"cannot store the site in {top}",
        stdin=os.fsencode(listing),
    )
    return out.split()


def _hash_bytes(top: Path, data: bytes) -> str:
    out = _git_ok(
        top, "hash-object", "-w", "--stdin", what=f"cannot store a file in {top}", stdin=data
    )
    return out.strip()


Blobs = dict[str, tuple[str, str]]  # site path -> (its file's key, its blob's sha)


def _tree_entries(top: Path, site_output: Path, cname: str | None,
                  kept: Blobs) -> tuple[dict[str, str], Blobs]:
    """Path -> blob sha for the published tree: the site plus the GitHub Pages files; and the blobs
    of the site's files, for the next publish. A file whose key is as `kept` says keeps its blob."""
    # git runs in `top`, so a relative output folder must be made absolute first.
    site = site_output.resolve()
    paths = site_files(site)
    keys = {path: stat_key(f"{site}/{path}") for path in paths}
    todo = [path for path in paths if keys[path] is None or kept.get(path, ("", ""))[0] != keys[path]]
    hashed = dict(zip(todo, _hash_blobs(top, site, todo), strict=True))
    entries = {path: hashed[path] if path in hashed else kept[path][1] for path in paths}
    blobs = {path: (key, entries[path]) for path, key in keys.items() if key is not None}
    # Without .nojekyll GitHub Pages runs Jekyll, which drops folders starting with "_".
    entries[".nojekyll"] = _hash_bytes(top, b"")
    if cname:
        entries["CNAME"] = _hash_bytes(top, f"{cname.strip()}\n".encode())
    return entries, blobs


def _kept_blobs(record: Path | None, top: Path, branch: str, tip: str | None) -> Blobs:
    """The blobs of the files the last publish to this branch committed, while the branch's tip is
    still that commit (so the blobs are in the repository, and the tree is ours)."""
    if record is None or tip is None:
        return {}
    try:
        kept = json.loads(record.read_text(encoding="utf-8")).get(f"{top}\0{branch}")
        if not (isinstance(kept, dict) and kept.get("tip") == tip and isinstance(kept.get("files"), dict)):
            return {}
        return {path: (str(key), str(sha)) for path, (key, sha) in kept["files"].items()
                if isinstance(key, str) and isinstance(sha, str) and _SHA.fullmatch(sha)}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _keep_blobs(record: Path | None, top: Path, branch: str, tip: str | None, blobs: Blobs) -> None:
    """Record the files' blobs for the next publish; a record that cannot be written is a slower
    next publish, nothing worse."""
    if record is None or tip is None:
        return
    try:
        found = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = None
    if not isinstance(found, dict):
        found = {}  # none yet, or a damaged one
    found[f"{top}\0{branch}"] = {"tip": tip, "files": {path: list(entry) for path, entry in blobs.items()}}
    with contextlib.suppress(OSError):
        record.parent.mkdir(parents=True, exist_ok=True)
        temporary = record.with_name(f".{record.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(found, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, record)


def _write_tree(top: Path, entries: Mapping[str, str]) -> str:
    """Write a tree object through a throwaway index, leaving .git/index alone."""
    records = b"".join(
        f"{_FILE_MODE} {sha}\t".encode() + os.fsencode(path) + b"\0"
        for path, sha in sorted(entries.items())
    )
    with tempfile.TemporaryDirectory(prefix="briefgen-publish-") as tmp:
        env = _git_env({"GIT_INDEX_FILE": str(Path(tmp) / "index")})
        what = f"cannot build the publish tree in {top}"
        _git_ok(top, "update-index", "-z", "--index-info", what=what, env=env, stdin=records)
        return _git_ok(top, "write-tree", what=what, env=env).strip()


def _commit(top: Path, tree: str, parent: str | None, message: str) -> str:
    args = ["commit-tree", tree, "-m", message]
    if parent:
        args += ["-p", parent]
    env = _git_env(_identity_env(top))
    return _git_ok(top, *args, what=f"cannot commit in {top}", env=env).strip()


def _move_branch(top: Path, branch: str, new: str, old: str | None) -> None:
    # Passing the old value makes the update fail instead of losing a commit
    # that someone else put on the branch while we were working.
    run = _git(
        top,
        "update-ref",
        "-m",
        "briefgen publish",
        f"refs/heads/{branch}",
        new,
        old or _ZERO_SHA,
    )
    if run.code != 0:
        raise PublishError(f"cannot update branch {branch} in {top}: {_reason(run)}")


_REJECTED = re.compile(r"\[(remote rejected|rejected)\].*\((?P<why>[^)]*)\)\s*$")


def _push_reason(run: _GitRun) -> str:
    for line in run.err.splitlines():
        match = _REJECTED.search(line)
        if match:
            return f"rejected ({match['why']})"
    return _reason(run)


def _push(top: Path, branch: str, remote: str, commit: str | None) -> None:
    ref = f"refs/heads/{branch}"
    run = _git(top, "push", remote, f"{ref}:{ref}", interactive=True)
    if run.code != 0:
        kept = (
            f"the new commit {commit[:12]} stays on the local branch {branch}"
            if commit
            else f"the local branch {branch} is unchanged"
        )
        reason = _push_reason(run)
        behind = "fetch first" in reason or "non-fast-forward" in reason  # someone published since
        advice = (f"to publish on top of what is there: `git fetch {remote} {branch} && git branch -f "
                  f"{branch} FETCH_HEAD`, then publish again" if behind
                  else f"retry with `git push {remote} {branch}`")
        raise PublishError(f"push of {branch} to {remote} from {top} failed: {reason}; {kept} ({advice})")


def publish_git_branch(
    site_output: Path,
    repo: Path,
    branch: str,
    *,
    remote: str | None = None,
    message: str | None = None,
    cname: str | None = None,
    blobs: Path | None = None,
) -> PublishResult:
    """Commit `site_output` as the tree of `branch`, on top of its previous tip.

    No commit is made when the tree is unchanged; the push still runs, so a
    remote left behind by an earlier failed push catches up. `blobs` is a file
    (in the build cache) where the files' blobs are kept from one publish to the
    next: a file unchanged since is not hashed again.
    """
    check_git_target(repo, branch, remote)
    top = _toplevel(repo)
    tip = _branch_tip(top, branch)
    # Without a local branch, the remote's is the one published on top of (a fresh clone in CI).
    base = tip if tip is not None or remote is None else _remote_tip(top, remote, branch)
    entries, files = _tree_entries(top, site_output, cname, _kept_blobs(blobs, top, branch, tip))
    tree = _write_tree(top, entries)
    commit: str | None = None
    if base is None or _tree_of(top, base) != tree:
        commit = _commit(top, tree, base, message or _DEFAULT_MESSAGE)
        _move_branch(top, branch, commit, tip)
    elif tip is None:  # the remote's branch holds this site already: the local one starts there
        _move_branch(top, branch, base, None)
    _keep_blobs(blobs, top, branch, commit or base, files)
    if remote is not None:
        _push(top, branch, remote, commit)
    return PublishResult(
        target=branch,
        changed=commit is not None,
        written=len(entries),
        removed=0,
        commit=commit,
        pushed=remote is not None,
    )


# --------------------------------------------------------------------------
# Folder
# --------------------------------------------------------------------------


