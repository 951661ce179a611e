"""Publish into a folder: write new and changed files, remove only what an earlier
publish wrote there (tracked in a manifest), never anything else."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from briefgen.build.write import remove_empty_parents, reserved_part
from briefgen.publish.common import PublishError, PublishResult, site_files, stat_key

MANIFEST_NAME = ".briefgen-publish.json"
_MANIFEST_VERSION = 1
_CHUNK = 1 << 16

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


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no HOME and no password entry
        return None


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
    itself), is or contains the user's home folder, is a file, or cannot be written."""
    resolved = target.resolve()
    if (part := reserved_part(resolved)) is not None:
        raise PublishError(f"refusing to publish into {target}: it is or lies inside a {part} folder")
    home = _home()
    if home is not None and home.is_relative_to(resolved):
        # Where dotfiles and everything else of the user's live: a site belongs in a folder of it.
        relation = "is" if home == resolved else "contains"
        raise PublishError(f"refusing to publish into {target}: it {relation} your home folder "
                           f"({home}); publish into a folder of its own")
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


@dataclass(frozen=True)
class _Manifest:
    files: set[str]  # what earlier publishes wrote
    # For files the last publish left equal to the built site's: both files' stats, as a key
    # (see common.stat_key). Both as they were, the two are equal still, without reading them.
    seen: dict[str, str]


def _read_manifest(target: Path) -> _Manifest:
    """What earlier publishes wrote; empty when there is no manifest yet."""
    path = target / MANIFEST_NAME
    if not path.exists():
        return _Manifest(set(), {})
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
    # Only a shortcut: anything unexpected (an earlier version wrote none) means reading the files.
    seen = data.get("seen")
    if not (isinstance(seen, dict) and all(isinstance(key, str) for key in seen.values())):
        seen = {}
    return _Manifest(set(files), seen)


def _manifest_bytes(files: Iterable[str], seen: dict[str, str]) -> bytes:
    listed = sorted(files)
    data = {"version": _MANIFEST_VERSION, "files": listed,
            "seen": {rel: seen[rel] for rel in listed if rel in seen}}
    return (json.dumps(data, indent=0, separators=(",", ":")) + "\n").encode()


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
    same: dict[str, str]  # files found equal to the built site's, with their stats' key


def _plan(site_output: Path, target: Path, files: list[str], previous: _Manifest) -> _Plan:
    """Decide every change up front, so a conflict stops the publish before it starts.

    Here and in the helpers below, `site_output` and `target` are resolved paths.
    """
    stale = previous.files - set(files)
    blockers: set[str] = set()
    write: list[str] = []
    same: dict[str, str] = {}
    checked: dict[str, bool] = {}  # folder (relative) -> whether it stays inside the target
    source_root, target_root = str(site_output), str(target)
    for rel in files:
        if rel == MANIFEST_NAME:
            raise PublishError(f"the built site contains {MANIFEST_NAME}, which briefgen reserves")
        folder = rel.rpartition("/")[0]
        if not _inside(target, folder, rel, stale, checked, blockers):
            raise PublishError(f"cannot publish {rel} into {target}: a symlink leads outside it")
        source, dest = f"{source_root}/{rel}", f"{target_root}/{rel}"
        key = stat_key(source, dest)
        if key is not None and previous.seen.get(rel) == key:
            same[rel] = key  # as the last publish left both: equal still
            continue
        if os.path.isdir(dest) and not os.path.islink(dest):
            raise PublishError(f"cannot publish {rel} into {target}: a folder is in the way")
        if key is not None and _same_content(Path(source), Path(dest)):
            same[rel] = key
        else:
            write.append(rel)
    remove = sorted(r for r in stale - blockers if (target / r).is_file())
    return _Plan(write, remove, sorted(blockers), same)


def _inside(target: Path, folder: str, rel: str, stale: set[str], checked: dict[str, bool],
            blockers: set[str]) -> bool:
    """Whether a folder of the target (relative; `rel` goes in it) stays inside the target, each
    of its folders looked at once: a file in the way is a blocker when it is a stale file of ours,
    else an error."""
    found = checked.get(folder)
    if found is not None:
        return found
    parent = folder.rpartition("/")[0]
    found = not folder or _inside(target, parent, rel, stale, checked, blockers)
    if folder and found:
        path = f"{target}/{folder}"
        try:
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                found = Path(path).resolve().is_relative_to(target)
                mode = os.stat(path).st_mode  # where it leads, which is the folder
        except OSError:  # nothing there (or a link to nothing): the folder is made, or refused
            mode = stat.S_IFDIR
        if not stat.S_ISDIR(mode):
            if folder not in stale:
                raise PublishError(
                    f"cannot publish {rel} into {target}: {folder} is a file briefgen did not write"
                )
            blockers.add(folder)
    checked[folder] = found
    return found


def _remove(target: Path, rel: str) -> bool:
    path = target / rel
    # A stale entry behind a symlink to elsewhere is not ours to delete.
    if path.is_symlink() or not path.parent.resolve().is_relative_to(target):
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    remove_empty_parents(path.parent, target)
    return True


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


def _write_manifest(target: Path, files: Iterable[str], seen: dict[str, str]) -> None:
    path = target / MANIFEST_NAME
    data = _manifest_bytes(files, seen)
    if path.is_file() and path.read_bytes() == data:
        return
    _atomic_write(path, data)


def check_apart(target: Path, site_output: Path) -> None:
    """Raise PublishError if target and the built site's folder hold one another (asked before
    the build too, which would otherwise write the site where it is then refused)."""
    # Resolved paths, so every containment check compares like with like.
    if _overlap(target.resolve(), site_output.resolve()):
        raise PublishError(f"cannot publish into {target}: it overlaps the built site {site_output}")


def publish_dir(site_output: Path, target: Path, *, protected: list[Path]) -> PublishResult:
    """Sync `site_output` into `target`, touching only what differs or is ours to remove."""
    check_dir_target(target, protected)
    check_apart(target, site_output)
    root, site = target.resolve(), site_output.resolve()
    files = site_files(site)
    try:
        root.mkdir(parents=True, exist_ok=True)
        previous = _read_manifest(root)
        plan = _plan(site, root, files, previous)
        if plan.write or plan.remove or plan.blockers:
            # Record the new files before writing them: if the publish is cut short,
            # the next one still knows they are ours (and that they must be compared).
            _write_manifest(root, previous.files | set(files), plan.same)
        removed = _apply(site, root, plan)
        seen = dict(plan.same)
        for rel in plan.write:
            key = stat_key(f"{site}/{rel}", f"{root}/{rel}")
            if key is not None:
                seen[rel] = key
        _write_manifest(root, files, seen)
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
