"""`briefgen serve`: a live preview that rebuilds on change and updates every open page.

    watchdog events → debounce (50 ms quiet) → Session.rebuild → new snapshot
    → Server-Sent Event to every open page → the page reloads, or shows the
    errors as an overlay and keeps the last good version

The site is served from the session's pages in memory, never from disk, so a
request cannot reach a file outside the built site and `output/` is never
touched. The reload script and the error overlay are injected into HTML
responses when they are served; the built bytes stay as `build` writes them.

Threads: the HTTP server (`http.py`: one thread per connection, daemon
threads), the watchdog observer (`watch.py`), and one builder thread, the only
one that calls the session. Everything they share lives in one `DevServer` and
changes under its condition variable; what requests read is an immutable
`Snapshot`, replaced whole after every rebuild.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import sys
import threading
import time
import traceback
import warnings
import webbrowser
from collections import deque
from collections.abc import Callable, Collection, Generator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final

from briefgen.build.options import BuildOptions, default_jobs
from briefgen.diagnostics import BuildFailed, UsageError
from briefgen.serve.http import HTTPServer, Snapshot
from briefgen.serve.livereload import (
    assets_changed,
    build_event,
    changed_urls,
)
from briefgen.serve.routes import (
    HostCheck,
    address_family,
    is_loopback,
    is_wildcard,
    url_host,
)
from briefgen.serve.session import Session
from briefgen.serve.watch import Watcher

Say = Callable[[str], None]


DEBOUNCE_SECONDS: Final = 0.05  # quiet time after the last change before rebuilding
MAX_DELAY_SECONDS: Final = 1.0  # rebuild anyway when changes keep coming this long
HEARTBEAT_SECONDS: Final = 15.0  # an SSE comment keeps idle connections (and proxies) alive
STOP_WAIT_SECONDS: Final = 2.0  # bound on joining threads at Ctrl-C
SETTLE_AFTER_SECONDS: Final = 2.0  # quiet time after a rebuild before memory is tidied


# ---------------------------------------------------------------- the server


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    seconds: float = 0.0
    files: int = 0
    changed: int = 0


class DevServer:
    """The live preview: one session, one HTTP server, one observer, one builder thread."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 8000, *,
                 drafts: bool = True, out: Say = print, err: Say | None = None,
                 future: bool = False, base_url: str | None = None, config: Path | None = None,
                 quiet: bool = False) -> None:
        self.root = root.resolve()
        self._quiet = quiet  # only the address served and problems: no line for each rebuild
        self._started = False  # the start's own build is done (the later ones are announced)
        self.host = host
        self.requested_port = port
        self.options = BuildOptions(drafts=drafts, future=future, base_url=base_url, jobs=default_jobs(),
                                    config=config)
        self._out = out
        self._err = err or _print_stderr
        self._token = secrets.token_hex(4)
        self._cond = threading.Condition()
        self._pending: set[Path] = set()
        self._carry: set[Path] = set()  # changes of failed rebuilds, read again on the next one
        self._first_change = 0.0
        self._last_change = 0.0
        self._building = False
        self._stopping = False
        self._stopped = threading.Event()
        self._streams = 0
        self._history: deque[tuple[int, bytes]] = deque(maxlen=64)
        self._snapshot = Snapshot(0, 0, f"{self._token}.0", {}, "/", (), 0, 0)
        self._session: Session | None = None
        self._httpd: HTTPServer | None = None
        self.watcher = Watcher(self.root, self.changed, self.say_error)
        self._threads: list[threading.Thread] = []
        self.hosts = HostCheck(host, port)
        self.port = port

    # -- life cycle

    def start(self) -> None:
        """Build, listen and watch; returns once the site is served.

        Raises UsageError when the address cannot be used. A site that does not
        build, briefgen.toml included, is served as its errors until it is fixed.
        """
        self._session = Session(self.root, self.options)
        family = address_family(self.host, self.requested_port)
        try:
            self._httpd = HTTPServer((self.host, self.requested_port), family, self)
        except OSError as exc:
            raise UsageError(f"cannot listen on {url_host(self.host)}:{self.requested_port}: "
                             f"{exc.strerror or exc}") from None
        self.port = int(self._httpd.server_address[1])
        self.hosts = HostCheck(self.host, self.port)
        if not is_loopback(self.host):
            self._err(f"briefgen: warning: listening on {self.host}, not on loopback: anyone who "
                      "can reach this machine can read the site, drafts included")
        # watchdog's inotify observer warns when a moved folder is watched again under
        # its new name; the watch still works, and the warning would only confuse a curator.
        warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning,
                                module="watchdog")
        self.watcher.start()
        self._update_watches()  # before the first build, so no change goes unseen
        outcome = self._rebuild(None)
        self._started = True
        self._settle()
        self._start_thread("briefgen-builder", self._build_loop)
        self._start_thread("briefgen-http", self._httpd.serve_forever, 0.2)
        snapshot = self.snapshot
        if outcome.ok:
            count = f"{snapshot.briefings} briefing{'' if snapshot.briefings == 1 else 's'}"
            self.say(f"Serving {count} at {self.url} "
                     f"(built in {outcome.seconds:.2f} s); Ctrl-C to stop")
        else:
            self.say(f"Serving at {self.url}, but the build failed: the pages show the errors and "
                     "update by themselves once they are fixed; Ctrl-C to stop")

    def wait(self) -> None:
        """Block until stop() is called (from another thread) or Ctrl-C."""
        while not self._stopped.wait(0.5):
            pass

    def stop(self) -> None:
        """Stop watching, building and serving; idempotent. Open event streams end at once."""
        with self._cond:
            already = self._stopping
            self._stopping = True
            self._cond.notify_all()
        if already:
            return
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        self.watcher.stop(STOP_WAIT_SECONDS)
        if self._httpd is not None and any(t.name == "briefgen-http" for t in self._threads):
            self._httpd.shutdown()
        with self._cond:
            self._cond.wait_for(lambda: self._streams == 0, timeout=STOP_WAIT_SECONDS)
        if self._httpd is not None:
            self._httpd.close_connections()
            self._httpd.server_close()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.watcher.join(max(0.1, deadline - time.monotonic()))
        self._stopped.set()

    def _start_thread(self, name: str, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- what requests read

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def url(self) -> str:
        shown = self.host
        if is_wildcard(shown):
            shown = "::1" if shown == "::" else "127.0.0.1"
        return f"http://{url_host(shown)}:{self.port}{self._snapshot.base}"

    def status_json(self) -> str:
        with self._cond:
            snapshot, busy, building = self._snapshot, self._busy(), self._building
        return json.dumps({"build": snapshot.build, "version": snapshot.version,
                           "attempts": snapshot.attempts, "errors": list(snapshot.errors),
                           "base": snapshot.base, "briefings": snapshot.briefings,
                           "busy": busy, "building": building})

    def wait_until_idle(self, timeout: float) -> None:
        """Let a page request wait (bounded) for a rebuild under way, like MkDocs does."""
        with self._cond:
            self._cond.wait_for(lambda: not self._busy() or self._stopping, timeout=timeout)

    def _busy(self) -> bool:
        return self._building or bool(self._pending)

    def messages(self) -> Generator[bytes, None, None]:
        """One SSE connection's messages: the state now, then each rebuild; ends at stop()."""
        with self._cond:
            self._streams += 1
            snapshot = self._snapshot
            seen = snapshot.seq
        try:
            yield build_event(snapshot.seq, _payload(snapshot, None))
            while True:
                with self._cond:
                    self._wait_for_news(seen)
                    if self._stopping:
                        return
                    news = [m for seq, m in self._history if seq > seen]
                    current = self._snapshot
                    if current.seq != seen and (not news or current.seq - seen > len(news)):
                        news = [build_event(current.seq, _payload(current, None))]  # fell behind
                    seen = current.seq
                yield b"".join(news) if news else b": ping\n\n"
        finally:
            with self._cond:
                self._streams -= 1
                self._cond.notify_all()

    def _wait_for_news(self, seen: int) -> None:
        self._cond.wait_for(lambda: self._snapshot.seq != seen or self._stopping,
                            timeout=HEARTBEAT_SECONDS)

    # -- watching

    def changed(self, paths: Iterable[Path], expand: bool = False) -> None:
        """Note changes (from the observer's thread); the builder rebuilds once they settle."""
        found = set(paths)
        if expand:  # a folder appeared or moved in: its files are new to the session
            for folder in list(found):
                with contextlib.suppress(OSError):  # it may be gone again already
                    found |= {p for p in folder.rglob("*") if p.is_file()}
        now = time.monotonic()
        with self._cond:
            if not self._pending:
                self._first_change = now
            self._pending |= found
            self._last_change = now
            self._cond.notify_all()

    def _update_watches(self) -> None:
        session = self._session
        if session is None or self._stopping:
            return
        added = self.watcher.update(session.config, session.watch_paths())
        if added and self._snapshot.seq > 0:
            # A folder that was just created may have got files before it was watched.
            self.changed(added, expand=True)

    # -- building

    def _build_loop(self) -> None:
        unsettled = False
        while True:
            with self._cond:
                ready = self._cond.wait_for(lambda: bool(self._pending) or self._stopping,
                                            timeout=SETTLE_AFTER_SECONDS if unsettled else None)
                if self._stopping:
                    return
                if not ready:
                    # Quiet for a while: tidy memory now, while no page waits for an answer (or
                    # after the next quiet while, if the session is not ready for it).
                    unsettled = not self._settle()
                    continue
                while True:  # debounce: wait for a quiet moment, but not for ever
                    now = time.monotonic()
                    quiet = self._last_change + DEBOUNCE_SECONDS - now
                    if quiet <= 0 or now - self._first_change >= MAX_DELAY_SECONDS:
                        break
                    self._cond.wait(quiet)
                    if self._stopping:
                        return
                changes, self._pending = self._pending, set()
                self._building = True
            try:
                self._rebuild(changes)
                unsettled = True
            except Exception:  # a bug: say so, and keep watching
                self.say_error("briefgen: internal error in the live preview (please report it):\n"
                               + traceback.format_exc().rstrip())
            finally:
                with self._cond:
                    self._building = False
                    self._cond.notify_all()

    def _rebuild(self, changes: set[Path] | None) -> _Outcome:
        """Rebuild once, publish the outcome to every page, and print it."""
        session = self._session
        assert session is not None
        if changes is not None:
            changes |= self._carry
        errors: list[str] = []
        try:
            result = session.rebuild(changes)
        except BuildFailed as failed:
            errors = [str(d) for d in failed.diagnostics]
        except UsageError as exc:
            errors = [f"error: {exc}"]
        except OSError as exc:  # a file vanished between listing and reading: more events follow
            errors = [f"{exc.filename or self.root}: error: {exc.strerror or exc}"]
        except Exception as exc:  # a bug in briefgen: keep serving, say what happened
            self.say_error("briefgen: internal error during the rebuild (please report it):\n"
                           + traceback.format_exc().rstrip())
            errors = [f"internal error: {type(exc).__name__}: {exc}"]
        if errors:
            self._carry |= changes or set()
            self._publish(None, errors)
            for line in errors:
                self.say_error(line)
            count = len(errors)
            kept = ("still serving the last good version" if self._snapshot.build
                    else "nothing to serve until it builds")
            self.say_error(f"{_clock()} Build failed ({count} problem{'s' if count != 1 else ''}); {kept}")
            self._update_watches()
            return _Outcome(False)
        self._carry = set()
        for warning in result.warnings:
            self.say_error(str(warning))
        new = session.pages
        # The session knows: comparing every page costs more than the rebuild on a large site.
        changed = set(result.changed_files)
        self._publish((new, session.config.site.base_url, result.briefings, changed), [])
        if not self._quiet:
            self._tell_built(changes, result.seconds, new, changed, result.compared)
        self._update_watches()
        return _Outcome(True, result.seconds, len(new), len(changed))

    def _tell_built(self, changes: set[Path] | None, seconds: float, pages: Collection[str],
                    changed: Collection[str], compared: bool = True) -> None:
        """The line a good rebuild prints; none for the start's own build."""
        if self._snapshot.build > 1 and not compared:
            self.say(f"{_clock()} Rebuilt{self._cause(changes)} in {_duration(seconds)}: {len(changed)} of "
                     f"{len(pages)} files may have changed (compared with the last build meanwhile)")
        elif self._snapshot.build > 1:
            # Removed files are among the changed ones, but not among the site's.
            removed = sum(name not in pages for name in changed)
            gone = f", {removed} removed" if removed else ""
            self.say(f"{_clock()} Rebuilt{self._cause(changes)} in {_duration(seconds)}: "
                     f"{len(changed) - removed} of {len(pages)} files changed{gone}")
        elif self._started:  # the first good build of a preview that started on a broken site
            self.say(f"{_clock()} Built{self._cause(changes)} in {_duration(seconds)}: "
                     f"serving {len(pages)} files")

    def _settle(self) -> bool:
        return self._session is None or self._session.settle()

    def _cause(self, changes: set[Path] | None) -> str:
        """" after a change to content/a.md (and 2 more)", for the terminal."""
        if not changes:
            return ""
        shown = sorted(_shown(p, self.root) for p in changes)
        more = f" (and {len(shown) - 1} more)" if len(shown) > 1 else ""
        return f" after a change to {shown[0]}{more}"

    def _publish(self, good: tuple[Mapping[str, bytes], str, int, set[str]] | None,
                 errors: list[str]) -> None:
        with self._cond:
            old = self._snapshot
            if good is None:
                new = Snapshot(old.seq + 1, old.build, old.version, old.pages, old.base,
                                tuple(errors), old.briefings, old.attempts + 1)
                urls: list[str] | None = []
                assets = False
            else:
                pages, base_url, briefings, changed = good
                base = _base_path(base_url)
                build = old.build + 1
                new = Snapshot(old.seq + 1, build, f"{self._token}.{build}", pages, base, (),
                                briefings, old.attempts + 1)
                urls = changed_urls(changed, base) if old.build and base == old.base else None
                assets = bool(old.build) and assets_changed(changed)
            self._snapshot = new
            self._history.append((new.seq, build_event(new.seq, _payload(new, urls, assets))))
            self._cond.notify_all()

    # -- the terminal

    def say(self, line: str) -> None:
        self._out(line)
        with contextlib.suppress(Exception):
            sys.stdout.flush()

    def say_error(self, line: str) -> None:
        self._err(line)


def _payload(snapshot: Snapshot, changed: list[str] | None, assets: bool = False) -> dict[str, object]:
    return {"seq": snapshot.seq, "build": snapshot.build, "version": snapshot.version,
            "base": snapshot.base, "errors": list(snapshot.errors), "changed": changed, "assets": assets}


def _base_path(base_url: str) -> str:
    from briefgen.site.urls import UrlScheme

    return UrlScheme(base_url).base_path


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _clock() -> str:
    return time.strftime("[%H:%M:%S]")


def _print_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the command


def run(root: Path, host: str = "127.0.0.1", port: int = 8000, drafts: bool = True,
        open_browser: bool = False, out: Say = print, err: Say | None = None,
        future: bool = False, base_url: str | None = None, config: Path | None = None,
        quiet: bool = False) -> int:
    """`briefgen serve`: serve and rebuild until Ctrl-C; returns 0."""
    server = DevServer(root, host.strip("[]") if host.startswith("[") else host, port,
                       drafts=drafts, out=out, err=err, future=future, base_url=base_url,
                       config=config, quiet=quiet)
    _stop_on_terminate()
    try:
        server.start()
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        previous = _ignore_interrupts()
        try:
            server.stop()
        finally:
            _restore_interrupts(previous)
    if not quiet:
        server.say("Stopped.")
    return 0


_SignalHandler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


def _stop_on_terminate() -> None:
    """SIGTERM (a service manager, `kill`) stops the server as Ctrl-C does, cleanly."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _ignore_interrupts() -> _SignalHandler:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _restore_interrupts(previous: _SignalHandler) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)
