"""What a build reads, named by cheap facts: the stat of every content file, and a
digest of the stats of every template, theme and static file, the configuration
and the options. A build that changes nothing stops after this, so it imports
no parser and no renderer."""

from __future__ import annotations

import os
from pathlib import Path

from briefgen.build import memo
from briefgen.build.options import BuildOptions
from briefgen.build.store import FileStat, file_stat
from briefgen.config import Config
from briefgen.content.files import TOPICS_FOLDER, discover
from briefgen.content.markdown_settings import MARKDOWN_SETTINGS_KEY
from briefgen.diagnostics import BuildFailed, Diagnostic, error
from briefgen.render.themes import builtin_themes_dir

ContentStat = tuple[str, str, FileStat]  # kind, path on disk, stat


def unreadable(shown: str, exc: OSError) -> Diagnostic:
    return error(shown, 1, 1, f"cannot read this file: {exc.strerror or exc}")


def content_stats(config: Config) -> list[ContentStat]:
    """Every content file as (kind, path on disk, stat), in a stable order."""
    found, problems = [], []
    prefix = len(str(config.root)) + 1
    for kind, path in discover(config):
        try:
            found.append((kind, path, file_stat(path)))
        except OSError as exc:
            problems.append(unreadable(path[prefix:].replace(os.sep, "/"), exc))
    if problems:
        raise BuildFailed(problems)
    return found


def global_inputs(config: Config, options: BuildOptions, output: Path) -> str:
    """A digest of every input but the content files: templates, themes, static files,
    topic descriptions, the configuration and the options."""
    folders = [config.templates_dir, config.static_dir, config.themes_dir, builtin_themes_dir(),
               config.content_dir / TOPICS_FOLDER]
    settings = repr((config.site, config.build, options.drafts, options.future, options.base_url,
                     str(output), MARKDOWN_SETTINGS_KEY))
    return memo.inputs_digest([f for f in folders if f.is_dir()], [config.config_path], settings)


def inputs_digest(global_digest: str, found: list[ContentStat]) -> str:
    """A digest of every input: the global ones and the content files."""
    return memo.inputs_digest([], [], global_digest, [(path, stat) for _, path, stat in found])
