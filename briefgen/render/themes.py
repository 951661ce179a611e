"""Finding a theme, the themes it extends, and their static files."""

from __future__ import annotations

import contextlib
import hashlib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from briefgen.config import CONFIG_NAME, Config
from briefgen.diagnostics import BuildFailed, Diagnostic, error
from briefgen.suggest import closest
from briefgen.tomlkeys import locate_key, toml_error

THEME_FILE = "theme.toml"


def builtin_themes_dir() -> Path:
    """Themes shipped with the package; in a source checkout, the repository's themes/."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "builtin_themes"
    if (packaged / "default" / THEME_FILE).is_file():
        return packaged
    return package.parent / "themes"


@dataclass(frozen=True)
class Theme:
    """A theme: its name and its folder (theme.toml, templates/, static/)."""

    name: str
    path: Path

    @property
    def templates(self) -> Path:
        return self.path / "templates"

    @property
    def static(self) -> Path:
        return self.path / "static"


def template_syntax_problem(shown: str, line: int, message: str) -> Diagnostic:
    """A template's syntax error (jinja2.TemplateSyntaxError's line and message), at its line:
    as rendering reports it, and as a build that stops before rendering does."""
    return error(shown, line, 1, f"template syntax: {message}")


def template_folders(config: Config, themes: Sequence[Theme]) -> list[Path]:
    """Where templates are looked for: the site's own, then each theme of the chain."""
    return [config.templates_dir, *(theme.templates for theme in themes)]


def resolve_themes(name: str, site_themes: Path) -> tuple[Theme, ...]:
    """The theme and every theme it extends, most specific first."""
    chain: list[Theme] = []
    while True:
        if any(t.name == name for t in chain):
            theme_file = chain[-1].path / THEME_FILE
            raise BuildFailed([error(_shown(theme_file, site_themes), *_extends_at(theme_file),
                                     f"themes extend each other in a loop ({name!r})")])
        path = _find(name, site_themes)
        if path is None:
            raise BuildFailed([_missing_theme(name, site_themes, chain)])
        theme = Theme(name, path)
        chain.append(theme)
        parent = _extends(theme, site_themes)
        if parent is None:
            return tuple(chain)
        name = parent


def available_themes(site_themes: Path) -> list[str]:
    """Names of the themes a site can use: its own and those shipped with briefgen."""
    names = set()
    for base in (site_themes, builtin_themes_dir()):
        if base.is_dir():
            names |= {p.name for p in base.iterdir() if _find(p.name, base) is not None}
    return sorted(names)


def _missing_theme(name: str, site_themes: Path, chain: list[Theme]) -> Diagnostic:
    """Where the missing theme is named (briefgen.toml, or the theme that extends it),
    with the themes there are."""
    if chain:
        shown, text, section, key = _shown(chain[-1].path / THEME_FILE, site_themes), "", None, "extends"
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = (chain[-1].path / THEME_FILE).read_text(encoding="utf-8")
    else:
        shown, text, section, key = CONFIG_NAME, "", "site", "theme"
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = (site_themes.parent / CONFIG_NAME).read_text(encoding="utf-8-sig")
    line, column = locate_key(text, section, key) if text else (1, 1)
    names = available_themes(site_themes)
    close = closest(name, names)
    hint = f" (did you mean {close!r}?)" if close else ""
    return error(shown, line, column, f"theme {name!r} not found{hint}; the themes there are: "
                                      f"{', '.join(names) or 'none'} (in {site_themes} and shipped "
                                      f"with briefgen)")


def _find(name: str, site_themes: Path) -> Path | None:
    for base in (site_themes, builtin_themes_dir()):
        if (base / name / "templates").is_dir() or (base / name / THEME_FILE).is_file():
            return base / name
    return None


def _shown(path: Path, site_themes: Path) -> str:
    """A theme's file as messages name it: from the site's folder, when it is the site's."""
    site = site_themes.parent
    return path.relative_to(site).as_posix() if path.is_relative_to(site) else str(path)


def _extends_at(path: Path) -> tuple[int, int]:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return locate_key(path.read_text(encoding="utf-8"), None, "extends")
    return 1, 1


def _extends(theme: Theme, site_themes: Path) -> str | None:
    path = theme.path / THEME_FILE
    if not path.is_file():
        return None
    shown = _shown(path, site_themes)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        line, column, message = toml_error(exc)
        raise BuildFailed([error(shown, line, column, f"invalid theme.toml: {message}")]) from None
    parent = data.get("extends")
    if parent is not None and not isinstance(parent, str):
        raise BuildFailed([error(shown, *_extends_at(path), "`extends` must be a theme name")])
    return parent or None


@dataclass(frozen=True)
class Asset:
    """A theme's static file and the content-hashed name it is written under."""

    source: Path
    name: str  # theme-relative, as templates ask for it: "style.css"
    output: str  # site-relative, content-hashed: "static/style.1a2b3c4d.css"


_CSS_STRING = re.compile(rb"""("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')""")
_CSS_COMMENT = re.compile(rb"/\*.*?\*/", re.S)
_CSS_SPACE = re.compile(rb"\s+")
_CSS_AROUND = re.compile(rb"\s*([{};,>])\s*")


def _compact_css(code: bytes) -> bytes:
    code = _CSS_SPACE.sub(b" ", code)
    code = _CSS_AROUND.sub(rb"\1", code)
    return code.replace(b": ", b":").replace(b";}", b"}")


def asset_bytes(path: Path) -> bytes:
    """A theme file as the site serves it: style sheets without comments and needless white
    space (they are for theme authors; readers would download them with every page).
    Strings in a style sheet are kept exactly as written."""
    data = path.read_bytes()
    if path.suffix != ".css":
        return data
    # Comments first: an apostrophe in a comment is no string. (A "/*" inside a string
    # would be taken for a comment; style sheets do not write one.)
    parts = _CSS_STRING.split(_CSS_COMMENT.sub(b"", data))
    # Odd parts are the strings the pattern captured.
    return b"".join(part if i % 2 else _compact_css(part) for i, part in enumerate(parts)).strip() + b"\n"


_VCS_FOLDERS = frozenset({".git", ".hg", ".svn"})


def theme_assets(themes: tuple[Theme, ...]) -> dict[str, Asset]:
    """Static files of the theme chain; a theme's file hides its parent's of the same name."""
    assets: dict[str, Asset] = {}
    for theme in reversed(themes):
        if not theme.static.is_dir():
            continue
        for path in sorted(p for p in theme.static.rglob("*") if p.is_file()):
            if not _VCS_FOLDERS.isdisjoint(path.relative_to(theme.static).parts):
                continue  # a theme kept in a repository of its own: its .git is not the site's
            name = path.relative_to(theme.static).as_posix()
            digest = hashlib.sha256(asset_bytes(path)).hexdigest()[:10]
            pure = PurePosixPath(name)
            hashed = pure.with_name(f"{pure.stem}.{digest}{pure.suffix}")
            assets[name] = Asset(path, name, f"static/{hashed}")
    return assets
