"""An installed briefgen (not the source checkout) carries its default theme."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_builds_a_new_site_anywhere(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels),
                    str(REPO)], check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("briefgen-*.whl")
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                    str(target), str(wheel)], check=True, cwd=tmp_path)
    assert (target / "briefgen/builtin_themes/default/templates/base.html").is_file()
    assert (target / "briefgen/builtin_themes/default/templates/i18n/de.toml").is_file()
    assert (target / "briefgen/builtin_themes/default/static/citations.js").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}

    def briefgen(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=elsewhere, env=env,
                              capture_output=True, text=True, timeout=120)

    where = briefgen("--version")
    assert where.returncode == 0, where.stderr
    init = briefgen("init", "site")
    assert init.returncode == 0, init.stderr
    # init copies no theme: the site builds with the packaged one.
    assert not (elsewhere / "site/themes").exists()
    built = briefgen("build", "site")
    assert built.returncode == 0, built.stderr
    home = (elsewhere / "site/output/index.html").read_text(encoding="utf-8")
    assert "Welcome to your briefing site" in home
    assert list((elsewhere / "site/output/static").glob("style.*.css"))
    located = subprocess.run(
        [sys.executable, "-c", "import briefgen; print(briefgen.__file__)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True,
    )
    assert located.stdout.strip().startswith(str(target))
