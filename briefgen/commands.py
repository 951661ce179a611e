"""One function per CLI verb: turn parsed arguments into a call of the pipeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Protocol

from briefgen.build import pipeline, stages
from briefgen.build.cache import clear
from briefgen.build.workers import default_jobs
from briefgen.config import load_config
from briefgen.diagnostics import Diagnostic, UsageError
from briefgen.scaffold import init_site, new_briefing
from briefgen.weburl import web_url_problem


class Console(Protocol):
    def progress(self, message: str) -> None: ...
    def summary(self, message: str) -> None: ...
    def problems(self, diagnostics: list[Diagnostic]) -> None: ...


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


def _options(args: argparse.Namespace, **extra: object) -> stages.BuildOptions:
    _base_url(args.base_url)
    return stages.BuildOptions(
        drafts=args.drafts, future=args.future, base_url=args.base_url,
        jobs=_jobs(args.jobs), **extra,  # type: ignore[arg-type]
    )


def _built(result: pipeline.BuildResult) -> str:
    noun = "briefing" if result.briefings == 1 else "briefings"
    return (f"Built {result.briefings} {noun} into {result.output}: {result.pages} files, "
            f"{result.rendered} rendered, {result.reused} unchanged, in {result.seconds:.2f} s")


def run_build(args: argparse.Namespace, console: Console) -> int:
    root = _site_root(args.site)
    options = _options(args, output=args.output.resolve() if args.output else None,
                       use_cache=not args.no_cache)
    result = pipeline.build(root, options, console.progress)
    console.problems(list(result.warnings))
    console.summary(_built(result))
    return 0


def run_check(args: argparse.Namespace, console: Console) -> int:
    loaded = stages.check(_site_root(args.site))
    console.problems(loaded.warnings)
    console.summary(f"Checked {loaded.briefing_count} briefings and {len(loaded.plan)} files: no errors")
    return 0


def run_clean(args: argparse.Namespace, console: Console) -> int:
    config = load_config(_site_root(args.site))
    removed = clear(config.cache_dir)
    console.summary(f"Removed {config.cache_dir}" if removed else "No cache to remove")
    return 0


def run_new(args: argparse.Namespace, console: Console) -> int:
    config = load_config(_site_root(args.site))
    path = new_briefing(config, args.title, args.topic)
    console.summary(f"Wrote {path}")
    return 0


def run_init(args: argparse.Namespace, console: Console) -> int:
    init_site(args.dir, args.title)
    console.summary(f"Created a site in {args.dir}; run `briefgen build {args.dir}` to build it")
    return 0


def run_publish(args: argparse.Namespace, console: Console) -> int:
    from briefgen import publish

    root = _site_root(args.site)
    _base_url(args.base_url)
    config = load_config(root)
    protected = pipeline.protected_paths(config)
    try:
        if args.git_branch:
            publish.check_git_target(root, args.git_branch, args.remote)
        else:
            # The whole site is off limits: its configured output is for `build` only.
            publish.check_dir_target(args.dir.resolve(), [root, *protected])
        result = pipeline.build(root, _options(args), console.progress)
        console.problems(list(result.warnings))
        console.summary(_built(result))
        if args.git_branch:
            outcome = publish.publish_git_branch(
                result.output, root, args.git_branch, remote=args.remote, message=args.message,
                cname=config.site.cname or None,
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

    return serve.run(_site_root(args.site), args.host, args.port, drafts=not args.no_drafts,
                     open_browser=args.open)
