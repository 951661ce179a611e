"""The command line: parse arguments, call one command, map outcomes to exit codes.

Exit status: 0 success, 1 problems in content (or a failed publish), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from briefgen import __version__
from briefgen.diagnostics import BuildFailed, Diagnostic, UsageError


class _Console:
    """Progress on a terminal, one summary line elsewhere, nothing but problems with --quiet."""

    def __init__(self, quiet: bool, held: list[object]) -> None:
        self.quiet = quiet
        self.live = not quiet and sys.stderr.isatty()
        self.held = held

    def hold(self, value: object) -> None:
        """Keep what a command made until the caller of `main` lets it go (see entry_point)."""
        self.held.append(value)

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


# One example per command, shown at the end of its --help and in the CLI reference.
EXAMPLES = {
    "build": "briefgen build                      # the site in this folder, into output/\n"
             "briefgen build my-site --drafts --output /tmp/preview",
    "serve": "briefgen serve                      # then open http://127.0.0.1:8000/\n"
             "briefgen serve my-site --port 8080 --future",
    "check": "briefgen check my-site              # exit status 1 when there are errors",
    "clean": "briefgen clean my-site",
    "new": 'briefgen new "Talks resume in Geneva" --topic Syria --topic Diplomacy',
    "init": "briefgen init my-site --title \"World Briefing\"",
    "publish": "briefgen publish --git-branch gh-pages --remote origin\n"
               "briefgen publish my-site --dir /var/www/briefing",
    "theme": "briefgen theme eject my-site        # copies the default theme into my-site/themes/",
    "source": "briefgen source add https://www.example.org/news/port-strike   # prints [@id] to paste\n"
              "briefgen source add pasted.txt --publisher \"Daily One\" --url https://...",
}


def _example(name: str) -> str:
    return "example:\n  " + EXAMPLES[name].replace("\n", "\n  ")


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions as usual but keeps the examples' line breaks."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefgen", description="Build sites of curated news briefings.",
        formatter_class=_HelpFormatter,
        epilog="Run `briefgen COMMAND --help` for a command's options and an example.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"briefgen {__version__}")
    # Not required: `briefgen` alone prints this help (see main).
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def site_command(name: str, help_text: str, description: str | None = None,
                     quiet: str = "print only problems") -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=description or help_text,
                                      epilog=_example(name), formatter_class=_HelpFormatter)
        command.add_argument("site", nargs="?", default=".", type=Path, metavar="SITE",
                             help="site folder (default: .)")
        command.add_argument("--quiet", "-q", action="store_true", help=quiet)
        command.add_argument("--config", type=Path, metavar="FILE",
                             help="read the settings from FILE (default: SITE/briefgen.toml)")
        return command

    def build_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--drafts", action="store_true", help="include drafts")
        command.add_argument("--future", action="store_true", help="include briefings dated in the future")
        command.add_argument("--base-url", help="override site.base_url")

    build = site_command("build", "build the site", "Build the site into its output folder. A failed "
                         "build leaves the previous output as it was.")
    build_options(build)
    build.add_argument("--output", type=Path, help="output folder (default: build.output)")
    build.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: cores)")
    build.add_argument("--no-cache", action="store_true", help="ignore and do not update the cache")

    serve = site_command("serve", "live preview: rebuild on change and reload the browser",
                         "Serve a live preview: rebuild on every change and reload the browser. "
                         "Drafts are shown, marked as such. The preview starts from the last "
                         "build's output, rendering only the pages it lacks or that changed since "
                         "and reading the others from the output as they are asked for. A change "
                         "to many pages (a template, a new briefing) renders a few of them at once "
                         "and each of the others when it is first opened.",
                         quiet="print only the address served and problems (no line for each rebuild)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.add_argument("--future", action="store_true", help="include briefings dated in the future")
    serve.add_argument("--base-url", help="override site.base_url (its path is where the site is served)")
    serve.add_argument("--no-drafts", action="store_true", help="leave drafts out, as build does")
    serve.add_argument("--open", action="store_true", help="open the site in a browser")

    check = site_command("check", "run every validation of build, writing nothing")
    check.add_argument("--links", action="store_true",
                       help="also check every source URL over HTTP (results kept for a day)")
    check.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                       help="with --links: seconds to wait for one response (default: 10)")
    check.add_argument("--delay", type=float, default=0.5, metavar="SECONDS",
                       help="with --links: seconds between two requests to one host (default: 0.5)")
    site_command("clean", "delete the build cache", "Delete the build cache (.briefgen-cache/); the "
                 "next build renders every page.")

    new = commands.add_parser(
        "new", help="write a new briefing file",
        description="Write content/briefings/YYYY/<slug>.md, a draft dated now, with its front matter "
                    "filled in. Never overwrites a file.",
        epilog=_example("new"), formatter_class=_HelpFormatter)
    new.add_argument("title", metavar="TITLE", help="the briefing's title (its slug is derived from it)")
    new.add_argument("site", nargs="?", type=Path, metavar="SITE", help="site folder (default: .)")
    new.add_argument("--topic", "-t", action="append", default=[], help="a topic (repeatable)")
    # The positional SITE replaced this; kept so existing scripts work.
    new.add_argument("--site", dest="site_option", type=Path, default=None, help=argparse.SUPPRESS)
    new.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    new.add_argument("--config", type=Path, metavar="FILE",
                     help="read the settings from FILE (default: SITE/briefgen.toml)")

    init = commands.add_parser(
        "init", help="create a new site",
        description="Create a new site in SITE (a new or empty folder): briefgen.toml, a sample "
                    "briefing with its source, an About page. The default theme is used from the "
                    "installed package; `briefgen theme eject` copies it when you want to change it.",
        epilog=_example("init"), formatter_class=_HelpFormatter)
    init.add_argument("dir", type=Path, metavar="SITE", help="folder for the new site")
    init.add_argument("--title", default="My Briefings", help="site title (default: My Briefings)")
    init.add_argument("--quiet", "-q", action="store_true", help="print only problems")

    theme = commands.add_parser(
        "theme", help="work with the site's theme",
        description="Work with the site's theme. `eject` copies the built-in default theme into "
                    "SITE/themes/default/, where it then replaces the built-in one: edit it freely.",
        epilog=_example("theme"), formatter_class=_HelpFormatter)
    theme_commands = theme.add_subparsers(dest="theme_command", metavar="ACTION", required=True)
    eject = theme_commands.add_parser("eject", help="copy the default theme into the site to change it",
                                      description="Copy the default theme into SITE/themes/default/.")
    eject.add_argument("site", nargs="?", default=".", type=Path, metavar="SITE",
                       help="site folder (default: .)")
    eject.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    eject.add_argument("--config", type=Path, metavar="FILE",
                       help="read the settings from FILE (default: SITE/briefgen.toml)")

    publish = site_command("publish", "build, then publish to a git branch or a folder",
                           "Build, then publish: commit the site to a git branch (GitHub Pages style) "
                           "without touching the working tree, or sync it into a folder.")
    target = publish.add_mutually_exclusive_group(required=True)
    target.add_argument("--git-branch", metavar="BRANCH", help="commit the site as this branch")
    target.add_argument("--dir", type=Path, metavar="PATH", help="sync the site into this folder")
    publish.add_argument("--remote", help="push the branch to this remote")
    publish.add_argument("--message", "-m", help="commit message")
    build_options(publish)
    publish.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: cores)")

    source = commands.add_parser(
        "source", help="capture and register source articles",
        description="Capture a source article: register it and keep an archived copy of its text.",
        epilog=_example("source"), formatter_class=_HelpFormatter)
    source_commands = source.add_subparsers(dest="source_command", required=True, metavar="ACTION")
    add = source_commands.add_parser(
        "add", help="register an article from a URL, a saved page or pasted text, and archive its text",
        description="Register an article from a URL, a saved .html page, a text file or - (standard "
                    "input), and archive its paragraphs under content/archive/.",
        epilog=_example("source"), formatter_class=_HelpFormatter)
    add.add_argument("target", metavar="URL|FILE|-")
    add.add_argument("site", nargs="?", type=Path, metavar="SITE", help="site folder (default: .)")
    add.add_argument("--site", dest="site_option", type=Path, default=None, help=argparse.SUPPRESS)
    add.add_argument("--id", help="the source id (default: publisher abbreviation and title words)")
    add.add_argument("--title", help="the article's title")
    add.add_argument("--publisher", help="the publisher's name")
    add.add_argument("--url", help="the article's URL")
    add.add_argument("--published", metavar="YYYY-MM-DD", help="the date the article was published")
    add.add_argument("--keep-html", action="store_true",
                     help="also keep the page, gzipped, in content/archive/")
    add.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for a page (default: 20)")
    add.add_argument("--quiet", "-q", action="store_true", help="print only the line to paste")
    add.add_argument("--config", type=Path, metavar="FILE",
                     help="the site's settings are in FILE (default: SITE/briefgen.toml)")
    return parser


def main(argv: Sequence[str] | None = None, held: list[object] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    console = _Console(getattr(args, "quiet", False), [] if held is None else held)
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
    object, a quarter of a second for nothing at 10,000 briefings; the command
    hands it over (`held`) rather than let it go on return. Every file briefgen
    writes is closed by then, so only the standard streams need flushing.
    """
    held: list[object] = []
    status = main(held=held)
    sys.stdout.flush()
    sys.stderr.flush()
    # What multiprocessing leaves to its own exit handler: the live preview's forkserver
    # keeps its socket in a temporary folder that only that handler removes.
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        with contextlib.suppress(Exception):
            util._exit_function()
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
        run_source,
        run_theme,
    )

    handlers = {"build": run_build, "check": run_check, "clean": run_clean, "new": run_new,
                "init": run_init, "publish": run_publish, "serve": run_serve, "source": run_source,
                "theme": run_theme}
    return handlers[args.command](args, console)
