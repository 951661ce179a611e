"""Publish targets and output folders that would overwrite the site, its history
or its cache are refused before anything is built or written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_CONFIG, build_ok, make_site, run_cli, tree_bytes

BRIEFING = """\
---
title: "Ports reopen"
date: 2016-08-02
---
Text.
"""


def git_site(tmp_path: Path) -> Path:
    site = make_site(tmp_path, {"content/briefings/a.md": BRIEFING})
    subprocess.run(["git", "init", "-q", str(site)], check=True)
    return site


@pytest.mark.parametrize("target", [".git", ".git/hooks", "public", ".briefgen-cache", "output",
                                    ".", "..", "content/www", ".hg", "elsewhere/.svn/pub"])
def test_publish_dir_refuses_the_site_its_history_and_its_cache(tmp_path: Path, target: str) -> None:
    site = git_site(tmp_path)
    (site / ".briefgen-cache").mkdir()
    before = tree_bytes(tmp_path)
    result = run_cli("publish", "--dir", target, cwd=site)
    assert result.code == 1, result.stderr
    assert "refusing to publish" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_bytes(tmp_path) == before  # nothing built, nothing written
    assert not (site / "output").exists()


def test_publish_dir_outside_the_site_still_works(tmp_path: Path) -> None:
    site = git_site(tmp_path)
    result = run_cli("publish", "--dir", tmp_path / "www", cwd=site)
    assert result.code == 0, result.stderr
    assert (tmp_path / "www" / "index.html").is_file()


@pytest.mark.parametrize("output", [".briefgen-cache", ".git", ".git/out", "content/out", "themes"])
def test_build_refuses_outputs_in_the_cache_or_history(tmp_path: Path, output: str) -> None:
    site = git_site(tmp_path)
    before = tree_bytes(tmp_path)
    config = DEFAULT_CONFIG.replace("[build]\n", f'[build]\noutput = "{output}"\n')
    (site / "briefgen.toml").write_text(config, encoding="utf-8")
    before = tree_bytes(tmp_path)
    result = run_cli("build", site)
    # The setting is reported where it is written, as every setting is; --output is wrong usage.
    assert result.code == 1 and result.stderr.startswith("briefgen.toml:"), result.stderr
    assert "Traceback" not in result.stderr
    assert tree_bytes(tmp_path) == before
    result = run_cli("build", site, "--output", site / output)
    assert result.code == 2, result.stderr


def test_build_output_elsewhere_inside_the_site_is_allowed(tmp_path: Path) -> None:
    site = git_site(tmp_path)
    build_ok(site, "--output", site / "public")
    assert (site / "public" / "index.html").is_file()
