"""What a build reads, named by cheap facts: the stat of every content file, and a
digest of the stats of every template, theme and static file, the configuration
and the options. A build that changes nothing stops after this, so it imports
no parser and no renderer."""

from __future__ import annotations

import operator
import os
from collections.abc import Mapping
from pathlib import Path

from briefgen.build import memo
from briefgen.build.options import BuildOptions
from briefgen.build.store import FileStat, file_stat, stat_base
from briefgen.config import Config
from briefgen.content.files import TOPICS_FOLDER, FolderListing, Listing, discover_listed
from briefgen.content.markdown_settings import MARKDOWN_SETTINGS_KEY
from briefgen.diagnostics import BuildFailed, Diagnostic, error
from briefgen.render.themes import builtin_themes_dir

ContentStat = tuple[str, str, FileStat]  # kind, path on disk, stat


def unreadable(shown: str, exc: OSError) -> Diagnostic:
    return error(shown, 1, 1, f"cannot read this file: {exc.strerror or exc}")


def content_stats(config: Config) -> list[ContentStat]:
    """Every content file as (kind, path on disk, stat), in a stable order (by kind, then path)."""
    return listed_content_stats(config, {})[0]


def listed_content_stats(config: Config, known: Mapping[str, FolderListing]
                         ) -> tuple[list[ContentStat], Listing]:
    """`content_stats`, with the content folders listed again only where their times differ
    from those of an earlier listing, `known`; and the listing made (see files.discover_listed)."""
    groups, listing = discover_listed(config, known)
    found: list[ContentStat] = []
    problems = []
    prefix = len(str(config.root)) + 1
    for kind, folders in groups:
        stats: list[ContentStat] = []
        for folder, names in folders:
            try:
                stats += _stats_in(kind, folder, names)
            except OSError:
                for name in names:  # again one by one, to name each that cannot be read
                    path = folder + os.sep + name
                    try:
                        stats.append((kind, path, file_stat(path)))
                    except OSError as exc:
                        problems.append(unreadable(path[prefix:].replace(os.sep, "/"), exc))
        # In order already, but where a folder's files and its subfolders' meet: folders are
        # walked, and their names listed, in order (see files.discover_listed).
        stats.sort(key=_by_path)
        found += stats
    if problems:
        raise BuildFailed(problems)
    return found, listing


_by_path = operator.itemgetter(1)


def _stats_in(kind: str, folder: str, names: tuple[str, ...]) -> list[ContentStat]:
    """(kind, path, stat) of the files of these names in a folder; OSError if one cannot be statted."""
    path_prefix = folder + os.sep
    stats = []
    stat = os.stat
    with stat_base(folder) as (prefix, at):
        for name in names:
            st = stat(prefix + name, dir_fd=at)
            stats.append((kind, path_prefix + name, (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)))
    return stats


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
    return memo.inputs_digest([], [], global_digest, list(map(_by_path, found)), list(map(_stat, found)))


_stat = operator.itemgetter(2)
