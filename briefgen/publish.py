"""Publish a built site: commit it to a git branch, or sync it into a folder.

The caller builds the site and hands over the finished output folder; this
module only moves files. Both targets are incremental and conservative:

- a git branch gets one new commit per publish that changes something, made
  with plumbing and a private index, so the user's work tree, index, HEAD and
  current branch are never touched;
- a folder gets only new and changed files written, and loses only the files
  an earlier publish wrote there (tracked in a manifest), never anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MANIFEST_NAME",
    "PublishError",
    "PublishResult",
    "check_dir_target",
    "check_git_target",
    "publish_dir",
    "publish_git_branch",
]

MANIFEST_NAME = ".briefgen-publish.json"
_MANIFEST_VERSION = 1
_DEFAULT_MESSAGE = "Publish site"
_FALLBACK_NAME = "briefgen"
_FALLBACK_EMAIL = "briefgen@localhost"
_ZERO_SHA = "0" * 40
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


from briefgen.write import MARKER  # noqa: E402


class PublishError(Exception):
    """A one-line, user-facing message; the CLI prints `error: <message>` and exits 1."""


@dataclass(frozen=True)
class PublishResult:
    target: str  # branch name or folder path, for the summary line
    changed: bool  # False when nothing was committed / no file changed
    written: int  # files written (dir) or files in the commit tree (git)
    removed: int  # files removed (dir); 0 for git
    commit: str | None  # new commit sha (git), None otherwise
    pushed: bool


# --------------------------------------------------------------------------
# Shared: the files of a built site
# --------------------------------------------------------------------------


def _site_files(site_output: Path) -> list[str]:
    """Sorted POSIX paths of the regular files under `site_output`.

    Symlinks and other special files are skipped: a build writes regular
    files only, and following a link could publish something outside the site.
    """
    if not site_output.is_dir():
        raise PublishError(f"built site {site_output} is not a folder")
    found: list[str] = []
    for folder, dirs, files in os.walk(site_output):
        base = Path(folder)
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
        for name in files:
            path = base / name
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(site_output).as_posix())
    # The marker that says "briefgen made this folder" belongs to the build, not the site.
    return sorted(f for f in found if f != MARKER)


# --------------------------------------------------------------------------
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


def _tree_entries(top: Path, site_output: Path, cname: str | None) -> dict[str, str]:
    """Path -> blob sha for the published tree: the site plus the GitHub Pages files."""
    # git runs in `top`, so a relative output folder must be made absolute first.
    site = site_output.resolve()
    paths = _site_files(site)
    entries = dict(zip(paths, _hash_blobs(top, site, paths), strict=True))
    # Without .nojekyll GitHub Pages runs Jekyll, which drops folders starting with "_".
    entries[".nojekyll"] = _hash_bytes(top, b"")
    if cname:
        entries["CNAME"] = _hash_bytes(top, f"{cname.strip()}\n".encode())
    return entries


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
        raise PublishError(
            f"push of {branch} to {remote} from {top} failed: {_push_reason(run)}; {kept} "
            f"(retry with `git push {remote} {branch}`)"
        )


def publish_git_branch(
    site_output: Path,
    repo: Path,
    branch: str,
    *,
    remote: str | None = None,
    message: str | None = None,
    cname: str | None = None,
) -> PublishResult:
    """Commit `site_output` as the tree of `branch`, on top of its previous tip.

    No commit is made when the tree is unchanged; the push still runs, so a
    remote left behind by an earlier failed push catches up.
    """
    check_git_target(repo, branch, remote)
    top = _toplevel(repo)
    entries = _tree_entries(top, site_output, cname)
    tree = _write_tree(top, entries)
    tip = _branch_tip(top, branch)
    commit: str | None = None
    if tip is None or _tree_of(top, tip) != tree:
        commit = _commit(top, tree, tip, message or _DEFAULT_MESSAGE)
        _move_branch(top, branch, commit, tip)
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


def _overlap(a: Path, b: Path) -> str | None:
    """How resolved path `a` relates to resolved path `b`, if they overlap."""
    if a == b:
        return "is"
    if a.is_relative_to(b):
        return "lies inside"
    if b.is_relative_to(a):
        return "contains"
    return None


_RELATION_RANK = {"is": 0, "lies inside": 1, "contains": 2}


def _closest_conflict(resolved: Path, protected: Iterable[Path]) -> tuple[str, Path] | None:
    """The most telling overlap with a protected path: sameness, then the deepest one."""
    found = []
    for path in protected:
        relation = _overlap(resolved, path.resolve())
        if relation:
            found.append((_RELATION_RANK[relation], -len(path.resolve().parts), relation, path))
    if not found:
        return None
    _, _, relation, path = min(found, key=lambda item: item[:2])
    return relation, path


def _probe_writable(folder: Path, target: Path) -> None:
    """Create and remove a temp file, the only check that also holds for root."""
    try:
        fd, name = tempfile.mkstemp(prefix=".briefgen-probe-", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise PublishError(f"cannot write to {target}: {exc.strerror or exc}") from exc


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_dir_target(target: Path, protected: list[Path]) -> None:
    """Raise PublishError if target is, contains or lies inside any protected path
    (the site's content/, templates/, static/, themes/ folders and the site root
    itself), is a file, or cannot be written."""
    resolved = target.resolve()
    conflict = _closest_conflict(resolved, protected)
    if conflict:
        relation, path = conflict
        raise PublishError(f"refusing to publish into {target}: it {relation} {path}")
    if resolved.exists() and not resolved.is_dir():
        raise PublishError(f"cannot publish into {target}: it is a file, not a folder")
    existing = _nearest_existing(resolved)
    if not existing.is_dir():
        raise PublishError(f"cannot write to {target}: {existing} is not a folder")
    _probe_writable(existing, target)


def _valid_entry(entry: object) -> bool:
    if not isinstance(entry, str) or not entry or entry.startswith("/") or "\\" in entry:
        return False
    parts = entry.split("/")
    return all(p not in ("", ".", "..") for p in parts) and entry != MANIFEST_NAME


def _read_manifest(target: Path) -> set[str]:
    """What earlier publishes wrote; empty when there is no manifest yet."""
    path = target / MANIFEST_NAME
    if not path.exists():
        return set()
    broken = PublishError(
        f"{path} is not a briefgen publish manifest (delete it and publish again; "
        "files from earlier publishes will then be left in place)"
    )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise broken from exc
    if not isinstance(data, dict) or data.get("version") != _MANIFEST_VERSION:
        raise broken
    files = data.get("files")
    # Entries decide what gets deleted, so anything that could leave the target is fatal.
    if not isinstance(files, list) or not all(_valid_entry(f) for f in files):
        raise broken
    return set(files)


def _manifest_bytes(files: Iterable[str]) -> bytes:
    data = {"version": _MANIFEST_VERSION, "files": sorted(files)}
    return (json.dumps(data, indent=2) + "\n").encode()


def _same_content(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with a.open("rb") as fa, b.open("rb") as fb:
            while True:
                chunk = fa.read(_CHUNK)
                if chunk != fb.read(_CHUNK):
                    return False
                if not chunk:
                    return True
    except OSError:
        return False


def _create_temp(dest: Path) -> tuple[int, Path]:
    """A new file next to `dest`, with the mode a plain copy would get.

    Not mkstemp: its 0600 files would be unreadable to a web server running as
    another user. An existing file keeps its mode, which an admin may have set.
    """
    mode = stat.S_IMODE(dest.stat().st_mode) if dest.is_file() else 0o666
    for _ in range(100):
        tmp = dest.parent / f".{dest.name}.{secrets.token_hex(4)}.briefgen-tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        if dest.is_file():
            os.chmod(fd, mode)  # os.open applied the umask; an existing mode is kept as is
        return fd, tmp
    raise FileExistsError(f"no free temporary name next to {dest}")


def _atomic_write(dest: Path, data: Path | bytes) -> None:
    """Write through a temp file in the same folder so readers never see half a file."""
    fd, tmp = _create_temp(dest)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                with data.open("rb") as src:
                    shutil.copyfileobj(src, out, _CHUNK)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@dataclass(frozen=True)
class _Plan:
    write: list[str]
    remove: list[str]
    blockers: list[str]  # stale files standing where a new folder must go


def _plan(site_output: Path, target: Path, files: list[str], previous: set[str]) -> _Plan:
    """Decide every change up front, so a conflict stops the publish before it starts.

    Here and in the helpers below, `site_output` and `target` are resolved paths.
    """
    stale = previous - set(files)
    blockers: set[str] = set()
    write: list[str] = []
    for rel in files:
        if rel == MANIFEST_NAME:
            raise PublishError(f"the built site contains {MANIFEST_NAME}, which briefgen reserves")
        dest = target / rel
        blockers |= _blocking_files(target, rel, stale)
        if dest.is_dir() and not dest.is_symlink():
            raise PublishError(f"cannot publish {rel} into {target}: a folder is in the way")
        if not dest.parent.resolve().is_relative_to(target):
            raise PublishError(f"cannot publish {rel} into {target}: a symlink leads outside it")
        if not (dest.is_file() and _same_content(site_output / rel, dest)):
            write.append(rel)
    remove = sorted(r for r in stale - blockers if (target / r).is_file())
    return _Plan(write, remove, sorted(blockers))


def _blocking_files(target: Path, rel: str, stale: set[str]) -> set[str]:
    """Files in the way of `rel`'s folders; only stale files of ours may be moved aside."""
    blocking: set[str] = set()
    parts = rel.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        path = target / prefix
        if path.exists() and not path.is_dir():
            if prefix not in stale:
                raise PublishError(
                    f"cannot publish {rel} into {target}: {prefix} is a file briefgen did not write"
                )
            blocking.add(prefix)
    return blocking


def _remove(target: Path, rel: str) -> bool:
    path = target / rel
    # A stale entry behind a symlink to elsewhere is not ours to delete.
    if path.is_symlink() or not path.parent.resolve().is_relative_to(target):
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _prune_empty_parents(target, path.parent)
    return True


def _prune_empty_parents(target: Path, folder: Path) -> None:
    # A folder that is empty once our files are gone held only our files; a user's file
    # anywhere below keeps it (rmdir refuses a non-empty folder).
    while folder != target and folder.is_relative_to(target):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _apply(site_output: Path, target: Path, plan: _Plan) -> int:
    removed = 0
    for rel in plan.blockers:
        removed += _remove(target, rel)
    for rel in plan.write:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(dest, site_output / rel)
    for rel in plan.remove:
        removed += _remove(target, rel)
    return removed


def _write_manifest(target: Path, files: Iterable[str]) -> None:
    path = target / MANIFEST_NAME
    data = _manifest_bytes(files)
    if path.is_file() and path.read_bytes() == data:
        return
    _atomic_write(path, data)


def publish_dir(site_output: Path, target: Path, *, protected: list[Path]) -> PublishResult:
    """Sync `site_output` into `target`, touching only what differs or is ours to remove."""
    check_dir_target(target, protected)
    # Work on resolved paths so every containment check compares like with like.
    root, site = target.resolve(), site_output.resolve()
    if _overlap(root, site):
        raise PublishError(
            f"cannot publish into {target}: it overlaps the built site {site_output}"
        )
    files = _site_files(site)
    try:
        root.mkdir(parents=True, exist_ok=True)
        previous = _read_manifest(root)
        plan = _plan(site, root, files, previous)
        if plan.write or plan.remove or plan.blockers:
            # Record the new files before writing them: if the publish is cut short,
            # the next one still knows they are ours.
            _write_manifest(root, previous | set(files))
        removed = _apply(site, root, plan)
        _write_manifest(root, files)
    except OSError as exc:
        raise PublishError(f"cannot write to {target}: {exc.strerror or exc}") from exc
    return PublishResult(
        target=str(target),
        changed=bool(plan.write) or removed > 0,
        written=len(plan.write),
        removed=removed,
        commit=None,
        pushed=False,
    )
