"""The command line: parse arguments, call one command, map outcomes to exit codes.

Exit status: 0 success, 1 problems in content (or a failed publish), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from briefgen import __version__
from briefgen.diagnostics import BuildFailed, Diagnostic, UsageError


class _Console:
    """Progress on a terminal, one summary line elsewhere, nothing but problems with --quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.live = not quiet and sys.stderr.isatty()

    def progress(self, message: str) -> None:
        if self.live:
            print(f"  {message}", file=sys.stderr, flush=True)

    def summary(self, message: str) -> None:
        if not self.quiet:
            print(message, flush=True)

    @staticmethod
    def problems(diagnostics: Sequence[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            print(diagnostic, file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefgen", description="Build sites of curated news briefings.")
    parser.add_argument("--version", action="version", version=f"briefgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def site_command(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("site", nargs="?", default=".", type=Path, help="site folder (default: .)")
        command.add_argument("--quiet", "-q", action="store_true", help="print only problems")
        return command

    def build_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--drafts", action="store_true", help="include drafts")
        command.add_argument("--future", action="store_true", help="include briefings dated in the future")
        command.add_argument("--base-url", help="override site.base_url")

    build = site_command("build", "build the site")
    build_options(build)
    build.add_argument("--output", type=Path, help="output folder (default: build.output)")
    build.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: cores)")
    build.add_argument("--no-cache", action="store_true", help="ignore and do not update the cache")

    serve = site_command("serve", "live preview: rebuild on change and reload the browser")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-drafts", action="store_true", help="leave drafts out, as build does")
    serve.add_argument("--open", action="store_true", help="open the site in a browser")

    site_command("check", "run every validation of build, writing nothing")
    site_command("clean", "delete the build cache")

    new = commands.add_parser("new", help="write a new briefing file")
    new.add_argument("title")
    new.add_argument("--topic", "-t", action="append", default=[], help="a topic (repeatable)")
    new.add_argument("--site", type=Path, default=Path("."), help="site folder (default: .)")

    init = commands.add_parser("init", help="create a new site")
    init.add_argument("dir", type=Path)
    init.add_argument("--title", default="My Briefings")

    publish = site_command("publish", "build, then publish to a git branch or a folder")
    target = publish.add_mutually_exclusive_group(required=True)
    target.add_argument("--git-branch", metavar="BRANCH", help="commit the site as this branch")
    target.add_argument("--dir", type=Path, metavar="PATH", help="sync the site into this folder")
    publish.add_argument("--remote", help="push the branch to this remote")
    publish.add_argument("--message", "-m", help="commit message")
    build_options(publish)
    publish.add_argument("--jobs", "-j", type=int, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = _Console(getattr(args, "quiet", False))
    try:
        return _run(args, console)
    except BuildFailed as failed:
        console.problems(failed.diagnostics)
        errors = sum(d.is_error for d in failed.diagnostics)
        warnings = len(failed.diagnostics) - errors
        counted = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        print(f"briefgen: {errors} error{'s' if errors != 1 else ''}{counted}; nothing was written",
              file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"briefgen: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("briefgen: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # A folder that cannot be written, a full disk: the user's to fix, no traceback.
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"briefgen: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


def entry_point() -> NoReturn:
    """`briefgen` and `python -m briefgen`: run, then leave without interpreter teardown.

    After a build of a large site, Python's exit would free the model object by
    object, a quarter of a second for nothing at 10,000 briefings. Every file
    briefgen writes is closed by then, so only the standard streams need flushing.
    """
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _run(args: argparse.Namespace, console: _Console) -> int:
    from briefgen.commands import (
        run_build,
        run_check,
        run_clean,
        run_init,
        run_new,
        run_publish,
        run_serve,
    )

    handlers = {"build": run_build, "check": run_check, "clean": run_clean, "new": run_new,
                "init": run_init, "publish": run_publish, "serve": run_serve}
    return handlers[args.command](args, console)
