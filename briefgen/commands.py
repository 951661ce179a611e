"""One function per CLI verb: turn parsed arguments into a call of the pipeline."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from briefgen.build import pipeline
from briefgen.build.options import BuildOptions, default_jobs
from briefgen.config import CONFIG_NAME, load_config
from briefgen.diagnostics import Diagnostic, UsageError, warning
from briefgen.tomlkeys import locate_key
from briefgen.weburl import web_url_problem

if TYPE_CHECKING:
    from briefgen.build.loading import Loaded


class Console(Protocol):
    def progress(self, message: str) -> None: ...
    def summary(self, message: str) -> None: ...
    def problems(self, diagnostics: list[Diagnostic]) -> None: ...
    def hold(self, value: object) -> None: ...


# What `briefgen init` writes and the docs show, not where a site lives.
_PLACEHOLDER_HOSTS = ("example.org", "www.example.org", "example.com", "www.example.com")


def _site_root(site: Path) -> Path:
    if not site.is_dir():
        raise UsageError(f"{site} is not a folder")
    return site.resolve()


def _jobs(value: int | None) -> int:
    if value is not None and value < 1:
        raise UsageError("--jobs must be at least 1")
    return value or default_jobs()


def _base_url(value: str | None) -> str | None:
    if value is not None and (problem := web_url_problem(value)):
        raise UsageError(f"--base-url {value!r} {problem}")
    return value


def _options(args: argparse.Namespace, **extra: object) -> BuildOptions:
    _base_url(args.base_url)
    return BuildOptions(
        drafts=args.drafts, future=args.future, base_url=args.base_url,
        jobs=_jobs(args.jobs), config=args.config, **extra,  # type: ignore[arg-type]
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _warnings(diagnostics: Sequence[Diagnostic]) -> str:
    return f"; {_count(sum(not d.is_error for d in diagnostics), 'warning')}" if diagnostics else ""


def _left_out(drafts: int, future: int) -> str:
    parts = []
    if drafts:
        parts.append(f"{_count(drafts, 'draft')} (--drafts includes them)")
    if future:
        parts.append(f"{_count(future, 'future briefing')} (--future includes them)")
    return f"; left out {' and '.join(parts)}" if parts else ""


def _built(result: pipeline.BuildResult) -> str:
    return (f"Built {_count(result.briefings, 'briefing')} into {result.output}: {result.pages} files, "
            f"{result.rendered} rendered, {result.reused} unchanged, in {result.seconds:.2f} s"
            f"{_warnings(result.warnings)}{_left_out(result.drafts_left_out, result.future_left_out)}")


def run_build(args: argparse.Namespace, console: Console) -> int:
    root = _site_root(args.site)
    options = _options(args, output=args.output.resolve() if args.output else None,
                       use_cache=not args.no_cache)
    result = pipeline.build(root, options, console.progress)
    console.problems(list(result.warnings))
    console.summary(_built(result))
    console.hold(result.model)
    return 0


def run_check(args: argparse.Namespace, console: Console) -> int:
    loaded = pipeline.check(_site_root(args.site),
                            BuildOptions(config=args.config, jobs=default_jobs()))
    console.problems(loaded.warnings)
    checked = _count(loaded.briefing_count, "briefing")
    console.summary(f"Checked {checked} and {len(loaded.plan)} files: no errors{_warnings(loaded.warnings)}")
    if getattr(args, "links", False):
        return _check_links(args, loaded, console)
    return 0


# A day: a longer wait is a mistake (and "inf" or "nan", which float() reads, overflow or
# compare false with every bound).
_MOST_SECONDS = 86400
_HIGHEST_PORT = 65535


def _check_links(args: argparse.Namespace, loaded: Loaded, console: Console) -> int:
    from briefgen.check import links

    if not (0 < args.timeout <= _MOST_SECONDS and 0 <= args.delay <= _MOST_SECONDS):
        raise UsageError(f"--timeout must be above 0 and --delay at least 0, both at most {_MOST_SECONDS} "
                         f"seconds")
    citing: dict[str, list[str]] = {}
    by_id = {}
    for briefing in sorted(loaded.site.briefings, key=lambda b: b.path):
        for source in briefing.sources:
            citing.setdefault(source.id, []).append(briefing.path)
            by_id[source.id] = source
    sources = [(by_id[sid], tuple(paths)) for sid, paths in sorted(citing.items())]
    archives = {sid: archive.path for sid, archive in loaded.archives.items()}
    settings = links.LinkSettings(timeout=args.timeout, delay=args.delay)
    console.progress(f"checking the URLs of {len(sources)} sources")
    count, dead = links.check_links(sources, archives, loaded.config.cache_dir, settings)
    problems = links.diagnostics(dead)
    console.problems(problems)
    lost = sum(not link.covered for link in dead)
    console.summary(f"Checked {count} source links: {len(dead)} dead, {lost} of them with no archive "
                    f"and no archive_url")
    return 1 if lost else 0


def run_clean(args: argparse.Namespace, console: Console) -> int:
    config = load_config(_site_root(args.site), args.config)
    from briefgen.build.cache import clear

    if config.cache_dir.is_symlink():
        # What it points to may hold more than a cache: that is for its owner to delete.
        raise UsageError(f"{config.cache_dir} is a symbolic link; remove the link, and what it points "
                         f"to if that is only the cache, yourself")
    from briefgen.build.memo import check_cache_folder

    check_cache_folder(config.cache_dir)
    removed = clear(config.cache_dir)
    console.summary(f"Removed {config.cache_dir}" if removed else "No cache to remove")
    return 0


def run_new(args: argparse.Namespace, console: Console) -> int:
    if args.site_option is not None:
        print("briefgen: warning: --site is deprecated; give the site folder after the title",
              file=sys.stderr)
    config = load_config(_site_root(args.site or args.site_option or Path(".")), args.config)
    from briefgen.scaffold import new_briefing

    path = new_briefing(config, args.title, args.topic)
    console.summary(f"Wrote {path}")
    return 0


def run_init(args: argparse.Namespace, console: Console) -> int:
    from briefgen.scaffold import init_site

    init_site(args.dir, args.title)
    console.summary(f"Created a site in {args.dir}; run `briefgen build {args.dir}` to build it")
    return 0


def run_publish(args: argparse.Namespace, console: Console) -> int:
    from briefgen import publish

    root = _site_root(args.site)
    _base_url(args.base_url)
    config = load_config(root, args.config)
    protected = pipeline.protected_paths(config)
    if not args.base_url and urlsplit(config.site.base_url).hostname in _PLACEHOLDER_HOSTS:
        line, column = locate_key(config.config_path.read_text(encoding="utf-8-sig"), "site", "base_url")
        console.problems([warning(
            CONFIG_NAME, line, column,
            f"site.base_url is still the placeholder {config.site.base_url}: feeds, the sitemap and "
            f"canonical links will point there; set the address the site is served from "
            f"(or pass --base-url)")])
    try:
        if args.git_branch:
            publish.check_git_target(root, args.git_branch, args.remote)
        else:
            # The whole site is off limits: its configured output is for `build` only.
            publish.check_dir_target(args.dir.resolve(), [root, *protected])
            publish.check_apart(args.dir, config.output_dir)
        result = pipeline.build(root, _options(args), console.progress)
        console.problems(list(result.warnings))
        console.summary(_built(result))
        if args.git_branch:
            outcome = publish.publish_git_branch(
                result.output, root, args.git_branch, remote=args.remote, message=args.message,
                cname=config.site.cname or None, blobs=config.cache_dir / "publish-blobs.json",
            )
        else:
            outcome = publish.publish_dir(result.output, args.dir.resolve(), protected=[root, *protected])
    except publish.PublishError as exc:
        print(f"briefgen: error: {exc}", file=sys.stderr)
        return 1
    console.summary(_published(outcome))
    return 0


def _published(outcome: object) -> str:
    from briefgen.publish import PublishResult

    assert isinstance(outcome, PublishResult)
    if outcome.commit:
        text = f"Published to {outcome.target}: commit {outcome.commit[:12]} ({outcome.written} files)"
    elif outcome.changed:
        text = f"Published to {outcome.target}: {outcome.written} written, {outcome.removed} removed"
    else:
        text = f"Published to {outcome.target}: nothing changed"
    return text + (", pushed" if outcome.pushed else "")


def run_serve(args: argparse.Namespace, console: Console) -> int:
    from briefgen.serve import server as serve

    if not 0 <= args.port <= _HIGHEST_PORT:  # the socket layer raises OverflowError past it
        raise UsageError(f"--port must be from 0 (any free port) to {_HIGHEST_PORT}, not {args.port}")
    return serve.run(_site_root(args.site), args.host, args.port, drafts=not args.no_drafts,
                     open_browser=args.open, future=args.future, base_url=args.base_url,
                     config=args.config, quiet=args.quiet)


def run_source(args: argparse.Namespace, console: Console) -> int:
    # Imported here: capture brings trafilatura and lxml, which `build` must not load.
    import datetime as dt

    from briefgen.sources.capture import CaptureError, Request, capture

    if not 0 < args.timeout <= _MOST_SECONDS:
        raise UsageError(f"--timeout must be more than 0 seconds, and at most {_MOST_SECONDS}")
    site = args.site or args.site_option or Path(".")
    root = _site_root(site)
    if args.config is not None:
        load_config(root, args.config)  # a site's settings, kept elsewhere: reported if they are not
    elif not (root / "briefgen.toml").is_file():
        raise UsageError(f"{site} is not a briefgen site (it has no briefgen.toml); give the site folder "
                         f"(or its settings with --config FILE)")
    request = Request(
        target=args.target, site=root, id=args.id, title=args.title,
        publisher=args.publisher, url=args.url, published=args.published, keep_html=args.keep_html,
        timeout=args.timeout,
    )
    # Questions only on a terminal, and never when the article itself comes on standard input.
    ask = _ask if sys.stdin.isatty() and args.target != "-" else None
    try:
        outcome = capture(request, now=dt.datetime.now(dt.UTC), ask=ask,
                          read_stdin=lambda: sys.stdin.buffer.read())
    except CaptureError as exc:
        print(f"briefgen: error: {exc}", file=sys.stderr)
        return 1
    where = outcome.registry.relative_to(request.site).as_posix()
    if outcome.duplicate:
        console.summary(f"Already registered as {outcome.id} in {where}; nothing was added")
    else:
        archive = outcome.archive.relative_to(request.site).as_posix() if outcome.archive else ""
        noun = "paragraph" if outcome.paragraphs == 1 else "paragraphs"
        language = f" (language: {outcome.language})" if outcome.language else ""
        console.summary(f"Added {outcome.id} to {where}; archived {outcome.paragraphs} {noun} in {archive}"
                        f"{language}")
    print(f"[@{outcome.id}]")
    return 0


def _ask(what: str, flag: str) -> str:
    # The question goes to stderr so that stdout keeps only the summary and the line to paste.
    print(f"The article's {what} was not found ({flag}): ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline()


def run_theme(args: argparse.Namespace, console: Console) -> int:
    config = load_config(_site_root(args.site), args.config)
    from briefgen.scaffold import eject_theme

    target = eject_theme(config)
    console.summary(f"Copied the default theme into {target}; the site now uses this copy")
    return 0
