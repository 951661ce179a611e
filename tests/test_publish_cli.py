"""`briefgen publish` end to end: build, then publish, from the command line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import corpus_site, run_cli


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def site_repo(tmp_path: Path) -> Path:
    site = corpus_site(tmp_path)
    (site / "briefgen.toml").write_text(
        (site / "briefgen.toml").read_text().replace('[build]', 'cname = "news.example.org"\n\n[build]'),
        encoding="utf-8")
    git(site, "init", "-q", "-b", "main")
    git(site, "config", "user.name", "Curator")
    git(site, "config", "user.email", "curator@example.org")
    (site / ".gitignore").write_text("output/\n.briefgen-cache/\n", encoding="utf-8")
    git(site, "add", "-A")
    git(site, "commit", "-qm", "content")
    return site


def test_publish_to_a_branch_and_push(tmp_path: Path) -> None:
    site = site_repo(tmp_path)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(site, "remote", "add", "origin", str(remote))
    (site / "content/pages/about.md").write_text("---\ntitle: About\n---\nUncommitted edit.\n")
    status_before = git(site, "status", "--porcelain")
    head_before = git(site, "rev-parse", "HEAD")

    code, out, err = run_cli("publish", site, "--git-branch", "gh-pages", "--remote", "origin")
    assert code == 0, err
    assert "pushed" in out
    files = git(site, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert {".nojekyll", "CNAME", "index.html", "feed.xml"} <= set(files)
    assert ".briefgen-output" not in files
    assert git(site, "show", "gh-pages:CNAME") == "news.example.org"
    assert git(remote, "rev-parse", "gh-pages") == git(site, "rev-parse", "gh-pages")
    assert git(site, "status", "--porcelain") == status_before
    assert git(site, "rev-parse", "HEAD") == head_before
    assert git(site, "symbolic-ref", "--short", "HEAD") == "main"

    code, out, err = run_cli("publish", site, "--git-branch", "gh-pages")
    assert code == 0, err
    assert "nothing changed" in out
    assert git(site, "rev-list", "--count", "gh-pages") == "1"


def test_publish_refuses_a_folder_that_is_not_a_repository(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    code, _, err = run_cli("publish", site, "--git-branch", "gh-pages")
    assert code == 1
    assert "not a git repository" in err
    assert "Traceback" not in err
    assert not (site / "output").exists()


def test_publish_to_a_folder(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    target = tmp_path / "www"
    target.mkdir()
    (target / "keep.txt").write_text("not ours", encoding="utf-8")
    code, _, err = run_cli("publish", site, "--dir", target)
    assert code == 0, err
    assert (target / "index.html").is_file() and (target / "keep.txt").is_file()
    assert not (target / ".briefgen-output").exists()
    (site / "content/briefings/2020/b5.md").unlink()
    code, _, err = run_cli("publish", site, "--dir", target)
    assert code == 0, err
    assert not list(target.glob("2020/*/*/briefing-5"))
    assert (target / "keep.txt").read_text(encoding="utf-8") == "not ours"


def test_publish_refuses_a_folder_inside_the_content(tmp_path: Path) -> None:
    site = corpus_site(tmp_path)
    code, _, err = run_cli("publish", site, "--dir", site / "content" / "www")
    assert code == 1
    assert "Traceback" not in err
    assert not (site / "content" / "www").exists()


def test_publish_refuses_the_built_sites_own_folder_before_building(tmp_path: Path) -> None:
    """An output kept outside the site (`output = "../srv/public"`): publishing into it, or
    into the folder that holds it, is refused before the build writes anything there."""
    site = corpus_site(tmp_path)
    config = site / "briefgen.toml"
    config.write_text(config.read_text().replace("[build]", '[build]\noutput = "../srv/public"'),
                      encoding="utf-8")
    assert run_cli("build", site).code == 0
    public = tmp_path / "srv" / "public"
    before = {path: path.read_bytes() for path in public.rglob("*") if path.is_file()}
    for target in (public, public.parent):
        (site / "content" / "briefings" / "extra.md").write_text(
            f"---\ntitle: Extra {target.name}\ndate: 2016-08-09\n---\nText.\n", encoding="utf-8")
        code, out, err = run_cli("publish", site, "--dir", target)
        assert code == 1 and "overlaps the built site" in err, err
        assert "Built" not in out
        assert {path: path.read_bytes() for path in public.rglob("*") if path.is_file()} == before
