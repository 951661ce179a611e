"""The build's first stages: read the content files, parse them (cached, in parallel),
build the model and check it, plan the files; what `check` runs, and what rendering
starts from (rendering.py).

    discover → parse (cached, parallel) → model → plan
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import os
import pickle
import time
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen import __version__
from briefgen.build import forked
from briefgen.build.cache import BuildCache, ParsedFile
from briefgen.build.inputs import ContentFiles, PackedContent, content_stats, unreadable
from briefgen.build.options import BuildOptions, Progress
from briefgen.build.store import FileStat, file_stat
from briefgen.config import Config, load_config
from briefgen.content.archive import Archive, parse_archive
from briefgen.content.files import walk_files
from briefgen.content.markdown_settings import MARKDOWN_SETTINGS_KEY
from briefgen.content.markup import Converter
from briefgen.content.records import (
    BriefingDoc,
    PageDoc,
    Source,
    file_digest,
    is_unreadable_registry,
    item_position,
    parse_briefing,
    parse_page,
)
from briefgen.content.registries import parse_any_registry
from briefgen.diagnostics import BuildFailed, Diagnostic, at_item, error, has_errors
from briefgen.render.themes import (
    Asset,
    Theme,
    resolve_themes,
    template_folders,
    template_syntax_problem,
    theme_assets,
)
from briefgen.site.model import (
    RELATED_LIMIT,
    RELATED_WINDOW,
    RelatedKey,
    Site,
    all_related,
    build_site,
    collect_sources,
    is_published,
    is_unknown_source,
    related_keys,
    to_site_time,
    updated_related,
)
from briefgen.site.packed import PackedTuples
from briefgen.site.plan import PageSpec, plan_site
from briefgen.tomlkeys import locate_key

if TYPE_CHECKING:
    # The workers' module loads multiprocessing: only builds with a pool need it. The checks
    # across files are a full build's: an edit in place, which imports this module for its
    # records, checks only what it changed, and imports them then (see edits._passages).
    from briefgen.build.workers import WorkerPool
    from briefgen.site.verify import KnownChecks, Verified


@dataclass(frozen=True)
class SourceFile:
    """A content file to parse: where it is, its stat and, once read, its bytes."""

    kind: str  # "briefing", "page" or "registry"
    path: str  # site-relative POSIX path, as shown in messages
    data: bytes | None  # None when not read here (see read_sources)
    digest: str  # "" when not read yet
    stat: FileStat
    location: str  # the file's path on disk

    def bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        with open(self.location, "rb") as stream:
            return stream.read()


@dataclass
class Loaded:
    """Everything read from a site, before any page is rendered."""

    config: Config
    site: Site
    plan: Sequence[PageSpec]  # a list, or rows kept by the last build (snapshot.py)
    themes: tuple[Theme, ...]
    warnings: list[Diagnostic]
    briefing_count: int
    assets: dict[str, Asset]
    next_release: dt.datetime | None = None  # the earliest briefing left out as future
    sources: Mapping[str, Source] = dataclasses.field(default_factory=dict)  # every source, by id
    archives: Mapping[str, Archive] = dataclasses.field(default_factory=dict)  # by source id
    drafts_left_out: int = 0
    future_left_out: int = 0
    # Each content file's stat and digest, by site-relative path, as this build read them.
    content: Mapping[str, tuple[FileStat, str]] = dataclasses.field(default_factory=dict)
    # The briefings left out, by site-relative path: no file of the site shows them. Drafts, and
    # briefings dated in the future (with that date, in the site's timezone).
    drafts: frozenset[str] = frozenset()
    scheduled: Mapping[str, dt.datetime] = dataclasses.field(default_factory=dict)

    def left_out_paths(self) -> tuple[str, ...]:
        """The briefings left out, drafts and future ones, sorted: the build's record keeps them
        (memo.LastBuild.left_out)."""
        return tuple(sorted({*self.drafts, *self.scheduled}))


def read_file(kind: str, path: str | Path, shown: str) -> SourceFile:
    stat = file_stat(path)
    with open(path, "rb") as stream:
        data = stream.read()
    return SourceFile(kind, shown, data, file_digest(data), stat, str(path))


def read_sources(config: Config, cache: BuildCache | None = None,
                 found: ContentFiles | None = None) -> list[SourceFile]:
    """The site's content files, each read at most once per build.

    A file whose size, times and inode are as the cache last saw them is not
    read at all. A file the cache has never seen is left for the parser (a
    worker process, in parallel builds) to read. Only a file the cache knows
    but whose stat changed is read here, to see whether its bytes changed.
    """
    files = []
    prefix = len(str(config.root)) + 1
    for kind, path, stat in found if found is not None else content_stats(config):
        shown = path[prefix:].replace(os.sep, "/")
        if cache is None or not cache.knows(shown):
            files.append(SourceFile(kind, shown, None, "", stat, path))
            continue
        digest = cache.known_digest(shown, stat)
        if digest is not None:
            files.append(SourceFile(kind, shown, None, digest, stat, path))
            continue
        try:
            files.append(read_file(kind, path, shown))
        except OSError:  # left for the parser, which reports it beside every other problem
            files.append(SourceFile(kind, shown, None, "", stat, path))
    return files


def _utf8_name(path: str) -> bool:
    """Whether a path read from the file system is UTF-8: a name of other bytes comes with
    them as lone surrogates (the file system's "surrogateescape")."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_file(file: SourceFile, converter: Converter, page_converter: Converter) -> ParsedFile:
    if not _utf8_name(file.path):
        # Its path names it in the cache, the output and the feeds, all UTF-8.
        return ParsedFile(file.path, "", None, (), (error(
            file.path, 1, 1, "this file's name is not valid UTF-8: rename it (its URL, and "
                             "every other name the site writes, is UTF-8)"),))
    try:
        data = file.bytes()
    except OSError as exc:
        return ParsedFile(file.path, "", None, (), (unreadable(file.path, exc),))
    digest = file.digest or file_digest(data)
    if file.kind == "briefing":
        doc, problems = parse_briefing(file.path, data, converter)
        return ParsedFile(file.path, digest, doc, (), tuple(problems))
    if file.kind == "page":
        page, problems = parse_page(file.path, data, page_converter)
        return ParsedFile(file.path, digest, page, (), tuple(problems))
    if file.kind == "archive":
        archive, problems = parse_archive(file.path, data)
        return ParsedFile(file.path, digest, None, (), tuple(problems), archive)
    sources, problems = parse_any_registry(file.path, data)
    return ParsedFile(file.path, digest, None, sources, tuple(problems))


def _parse_setup() -> tuple[Converter, Converter]:
    return Converter(), Converter(citations=False)


def _parse_in_worker(converters: tuple[Converter, Converter], file: SourceFile) -> ParsedFile:
    return parse_file(file, *converters)


def parse_key() -> str:
    """What, besides a file's bytes, decides how it parses: part of every cache key."""
    return f"briefgen {__version__}; {MARKDOWN_SETTINGS_KEY}"


def load(root: Path, options: BuildOptions, cache: BuildCache | None = None,
         pool: WorkerPool | None = None, progress: Progress | None = None,
         read: Callable[[Config], list[SourceFile]] | None = None,
         known_checks: KnownChecks | None = None, meanwhile: Callable[[], None] | None = None) -> Loaded:
    """Read, parse and check a whole site; raise BuildFailed with every error found.

    `read` supplies the content files (default: read them all from disk); the
    live preview passes one that re-reads only the files that changed, and the
    checks of briefings against the archives it keeps between rebuilds. `meanwhile` is
    called while worker processes parse, if they do.
    """
    config = load_config(root, options.config)
    if options.base_url:
        config = config.with_base_url(options.base_url)
    if options.output:
        config = config.with_output(options.output)
    themes = resolve_themes(config.site.theme, config.themes_dir)

    started = time.perf_counter()
    files = read(config) if read else read_sources(config, cache)
    parsed, fresh = _parse_all(files, cache, pool, meanwhile)
    if progress:
        progress(f"{len(files)} content files: parsed {fresh}, {len(files) - fresh} from cache "
                 f"({time.perf_counter() - started:.1f} s)")
    problems = [d for p in parsed for d in p.diagnostics]

    zone = zoneinfo.ZoneInfo(config.site.timezone)
    now = options.now or dt.datetime.now(dt.UTC)
    briefing_docs: list[BriefingDoc] = [p.doc for p in parsed if isinstance(p.doc, BriefingDoc)]
    page_docs: list[PageDoc] = [p.doc for p in parsed if isinstance(p.doc, PageDoc)]
    registry: list[Source] = [s for p in parsed for s in p.sources]
    included = [d for d in briefing_docs if is_published(d, now, zone, options.drafts, options.future)]
    pages = [d for d in page_docs if is_published(d, now, zone, options.drafts, options.future)]
    excluded = ({d.path for d in briefing_docs} | {d.path for d in page_docs}) - (
        {d.path for d in included} | {d.path for d in pages})

    sources, source_problems = collect_sources(registry, included)
    problems += source_problems
    unparsed = {p.path for p in parsed if p.doc is None and has_errors(p.diagnostics)}
    site, model_problems = build_site(included, pages, sources, config.site.timezone,
                                      excluded_paths=excluded, unparsed_paths=unparsed)
    if any(is_unreadable_registry(d) for p in parsed for d in p.diagnostics):
        # A registry file that did not parse explains every "unknown source" below:
        # show the cause, not a screen of its consequences.
        model_problems = [d for d in model_problems if not is_unknown_source(d)]
    # So does an entry in error, for the source it declares.
    rejected = {d.source_id for p in parsed for d in p.diagnostics if d.source_id is not None}
    if rejected:
        model_problems = [d for d in model_problems if not (is_unknown_source(d) and d.source_id in rejected)]
    problems += _at_items(model_problems, config.root)
    from briefgen.site.verify import collect_archives

    archives, archive_problems = collect_archives(p.archive for p in parsed if p.archive is not None)
    verified = _verify(site, sources, archives, config.build.strict_quotes, cache, known_checks)
    problems += [*archive_problems, *verified.problems]
    site = replace(site, passages=verified.passages)
    # Related briefings updated from the last build's are found beside the plan, by a forked
    # copy (see _finding_related); not when an error already stops the build.
    with _finding_related(site, cache, beside=not has_errors(problems)) as related:
        assets = theme_assets(themes)
        static_files = _static_files(config)
        plan, plan_problems = plan_site(site, config.build.per_page, static_files,
                                        [a.output for a in assets.values()],
                                        search=config.site.search)
        problems += plan_problems + _cname_clash(config, static_files)
        if has_errors(problems):
            # Rendering, which would find them, does not come: the templates' syntax is
            # reported with the rest, not at the next run.
            raise BuildFailed(problems + template_syntax_problems(config, themes))
        site = replace(site, related=related())
    # The briefings is_published left out: drafts, and those that wait for their date (a draft
    # dated in the future stays out when its date comes).
    left_out = [d for d in briefing_docs if d.path in excluded]
    drafts = frozenset(d.path for d in left_out if d.draft and not options.drafts)
    scheduled = {d.path: to_site_time(d.date, zone) for d in left_out if d.path not in drafts}
    return Loaded(config, site, plan, themes, sorted(set(problems)), len(site.briefings), assets,
                  min(scheduled.values()) if scheduled else None, sources, archives,
                  drafts_left_out=len(drafts), future_left_out=len(scheduled),
                  content=PackedContent.of_files([f.path for f in files], [f.stat for f in files],
                                                 [p.digest for p in parsed]),
                  drafts=drafts, scheduled=scheduled)


def _verify(site: Site, sources: Mapping[str, Source], archives: Mapping[str, Archive], strict_quotes: bool,
            cache: BuildCache | None, known: KnownChecks | None) -> Verified:
    """The briefings checked against the archives: those checked before, as they were, are not
    checked again. Those checks are `known`'s, or when it knows none, the build cache's; a
    writable cache keeps this run's. Without archives there is nothing to check or keep."""
    from briefgen.site.verify import CHECKS, KnownChecks, verify

    rows = cache.state_rows(CHECKS) if cache is not None and archives else None
    known = known if known is not None else KnownChecks()
    parsing = parse_key()
    if rows is not None and known.knows_none():
        known.read(rows.load(KnownChecks.row_names()), parsing)
    verified = verify(site.briefings, sources, archives, strict_quotes, known)
    if rows is not None and rows.writable:
        changed, fresh = known.rows(parsing)
        if changed:
            rows.save(changed, fresh)
    return verified


def _at_items(problems: list[Diagnostic], root: Path) -> list[Diagnostic]:
    """Problems about a front-matter list item, moved from the list's key to the item: the
    file is read again, which only a failed build does."""
    moved = []
    for problem in problems:
        if problem.item is not None:
            try:
                found = item_position(problem.path, (root / problem.path).read_bytes(), *problem.item)
            except OSError:
                found = None  # the key's position stands
            if found is not None:
                problem = at_item(problem, *found)
        moved.append(problem)
    return moved


# What a kept table of related briefings must say it is: found by other rules, it is found again.
_RELATED_FORMAT = f"briefgen-related-5 {RELATED_LIMIT} {RELATED_WINDOW}"


@contextlib.contextmanager
def _finding_related(site: Site, cache: BuildCache | None, beside: bool = True
                     ) -> Iterator[Callable[[], PackedTuples]]:
    """Every briefing's related briefings, found once for the fingerprints and the pages; kept
    from the last build while no briefing's topics or cited sources changed (an edit to a text),
    and otherwise found again only around what changed (a briefing added or removed). The block
    gets a function that gives them. With `beside`, an update of the kept table is made by a
    forked copy of this process while the block runs (the site's plan): at 50,000 briefings the
    plan and the update take about a third of a second each, which a briefing added spent one
    after the other while the other core waited."""
    keys = related_keys(site)
    # The live preview's cache is read-only: it remembers its own last table.
    rows = cache.state_rows("related", remember=True) if cache is not None else None
    kept = _kept_related(rows.load(["related"]).get("related") if rows is not None else None)
    if kept is not None and _same_related(kept[1], keys):
        same = kept[0]
        yield lambda: same  # only paths differ, if anything: the same related briefings
        return

    def updated() -> bytes:
        try:
            found = None if kept is None else updated_related(site, keys, kept[1], kept[0])
        except (TypeError, ValueError, IndexError):  # a damaged row: found afresh
            found = None
        return pickle.dumps(None if found is None else PackedTuples.of(found), pickle.HIGHEST_PROTOCOL)

    made: list[PackedTuples] = []
    fork = beside and kept is not None and len(site.briefings) >= _RELATED_SPLIT_FROM
    with forked.meanwhile(updated, fork=fork) as update:
        def table() -> PackedTuples:
            if not made:
                found = pickle.loads(update()) if kept is not None else None
                if found is not None and not isinstance(found, PackedTuples):
                    raise TypeError("related briefings")
                made.append(found if found is not None else _all_related(site))
                if rows is not None:
                    rows.save({"related": (_RELATED_FORMAT, made[0], keys)}, fresh=False)
            return made[0]

        yield table


def _kept_related(kept: object) -> tuple[PackedTuples, Sequence[RelatedKey]] | None:
    """The last build's table of related briefings and the keys it was found from; None when
    there is none, or it is damaged or of another version."""
    if not (isinstance(kept, tuple) and len(kept) == 3 and kept[0] == _RELATED_FORMAT):
        return None
    _, table, keys = kept
    if isinstance(table, PackedTuples) and isinstance(keys, tuple) and len(table) == len(keys):
        return table, keys
    return None


def _same_related(kept_keys: Sequence[RelatedKey], keys: Sequence[RelatedKey]) -> bool:
    """Whether briefings keyed so have the same related briefings: the same topics and sources
    in the same order, whatever their paths."""
    try:
        return len(kept_keys) == len(keys) and all(
            a[1:] == b[1:] for a, b in zip(kept_keys, keys, strict=True))
    except (TypeError, ValueError, IndexError):  # a damaged row
        return False


# From this many briefings on, a forked copy finds the second half's related briefings.
_RELATED_SPLIT_FROM = 2000


def _all_related(site: Site) -> PackedTuples:
    """Every briefing's related briefings, the second half's found by a forked copy of this
    process (see forked.py): a full build finds them between parsing and rendering, when no
    worker runs, and on one core this took 1.2-2.3 s at 10,000 briefings and 11 s at 50,000."""
    count = len(site.briefings)
    middle = count // 2 if count >= _RELATED_SPLIT_FROM else count

    def second_half() -> bytes:
        return pickle.dumps(PackedTuples.of(all_related(site, range(middle, count))), pickle.HIGHEST_PROTOCOL)

    with forked.meanwhile(second_half, fork=middle < count) as second:
        first = PackedTuples.of(all_related(site, range(middle)))
        if middle == count:
            return first
        rest = pickle.loads(second())
        if not isinstance(rest, PackedTuples):
            raise TypeError("related briefings")
        return first + rest


# Folders of version control kept in static/ (a repository of assets, say): never published.
_VCS_FOLDERS = frozenset({".git", ".hg", ".svn"})


def template_syntax_problems(config: Config, themes: Sequence[Theme]) -> list[Diagnostic]:
    """Errors in the syntax of the templates a build would use (the site's own and its themes'),
    as rendering reports them: at the template's line. Runs only where rendering will not."""
    # Imported here: a build that renders imports Jinja with the renderer anyway.
    import jinja2

    env = jinja2.Environment()
    problems = []
    seen: set[str] = set()
    for folder in template_folders(config, themes):
        for name in walk_files(str(folder)) if folder.is_dir() else []:
            if name in seen or not name.endswith((".html", ".xml", ".htm")):
                continue  # one the site overrides is never read
            seen.add(name)
            path = folder / name
            try:
                env.parse(path.read_text(encoding="utf-8"))
            except jinja2.TemplateSyntaxError as exc:
                inside = path.is_relative_to(config.root)
                shown = path.relative_to(config.root).as_posix() if inside else str(path)
                problems.append(template_syntax_problem(shown, exc.lineno, exc.message or ""))
            except (OSError, UnicodeDecodeError):
                continue  # rendering reports what it cannot read
    return problems


def _cname_clash(config: Config, static_files: Sequence[str]) -> list[Diagnostic]:
    """static/CNAME and site.cname both name the site's domain (`publish --git-branch` writes
    the setting over the file): an error naming both, unless they agree."""
    if not config.site.cname or "CNAME" not in static_files:
        return []
    try:
        written = (config.static_dir / "CNAME").read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        written = None
    if written == config.site.cname.strip():
        return []
    line, column = locate_key(config.config_path.read_text(encoding="utf-8-sig"), "site", "cname")
    return [error("static/CNAME", 1, 1, f"static/CNAME names {written!r} where site.cname "
                  f"(briefgen.toml:{line}:{column}) names {config.site.cname!r}: keep one of them")]


def _static_files(config: Config) -> list[str]:
    if not config.static_dir.is_dir():
        return []
    return [rel for rel in walk_files(str(config.static_dir))
            if _VCS_FOLDERS.isdisjoint(rel.split("/")) and (config.static_dir / rel).is_file()]


def _parse_all(files: Sequence[SourceFile], cache: BuildCache | None, pool: WorkerPool | None,
               meanwhile: Callable[[], None] | None = None) -> tuple[list[ParsedFile], int]:
    """Parse results for every file, and how many had to be parsed afresh; `meanwhile` is
    called once workers parse, before their results are read."""
    key = parse_key()
    results: dict[str, ParsedFile] = {}
    missing = []
    for file in files:
        hit = cache.parsed(file.path, file.digest, key) if cache and file.digest else None
        if hit is not None:
            results[file.path] = hit
            if cache is not None and file.data is not None:
                cache.restat(file.path, file.stat)
        else:
            missing.append(file)
    stats = {f.path: f.stat for f in missing}
    with contextlib.ExitStack() as workers:
        batches: Iterable[list[ParsedFile]]
        if pool is not None and len(missing) > 1:
            batches = workers.enter_context(pool.started(_parse_in_worker, missing, _parse_setup))
            if meanwhile is not None:
                meanwhile()
        else:
            batches = _parse_here(missing)
        for batch in batches:
            # Stored batch by batch, so the bodies of the whole site are never in memory at once.
            fresh = cache.store_parsed([(item, stats[item.path]) for item in batch], key) if cache else batch
            for item in fresh:
                results[item.path] = item
    return [results[f.path] for f in files], len(missing)


def _parse_here(missing: Sequence[SourceFile]) -> Iterator[list[ParsedFile]]:
    converter, page_converter = Converter(), Converter(citations=False)
    with collecting():
        for start in range(0, len(missing), 200):
            yield [parse_file(f, converter, page_converter) for f in missing[start:start + 200]]


@contextlib.contextmanager
def collecting() -> Iterator[None]:
    """Work done in the build's own process collects its cyclic garbage as a worker does.

    Markdown and Jinja2 make reference cycles, which would pile up with the
    collector off (see pipeline.build); the heap so far is frozen first, so a
    collection scans only what is new.
    """
    collecting = gc.isenabled()
    gc.freeze()
    gc.enable()
    try:
        yield
    finally:
        if not collecting:
            gc.disable()


def check(root: Path, options: BuildOptions | None = None, cache: BuildCache | None = None,
          pool: WorkerPool | None = None) -> Loaded:
    """Every validation of a build, drafts and future briefings included; writes nothing (give
    it a read-only cache)."""
    return load(root, replace(options or BuildOptions(), drafts=True, future=True), cache, pool)
