"""Watching the site for the preview: which folders to watch, which changes matter.

The observer's thread hands each relevant change to a callback; the watched
folders follow the site (a templates/ folder created later, a theme changed
in briefgen.toml) through `update`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from briefgen.config import Config
from briefgen.content.files import ignored_name

# The changes that matter, which alone the system is asked for (watchdog's event_filter; on
# Linux it narrows what inotify reports). Not a file opened, nor one closed unwritten, which
# every reader of the site's files causes (an editor, `git status`, grep, the preview's own
# rebuilds), and each of which the observer's thread would handle in Python, holding the lock
# the rebuild needs (a second over 10,000 briefings read at once). Nor a folder's own time
# stamp: its files report themselves.
_EVENTS: Final = [FileCreatedEvent, FileModifiedEvent, FileDeletedEvent, FileMovedEvent, FileClosedEvent,
                  DirCreatedEvent, DirDeletedEvent, DirMovedEvent]

Changed = Callable[[list[Path], bool], None]  # paths, and whether they are folders to look into


class _Handler(FileSystemEventHandler):
    """Passes relevant changes on; runs in the observer's thread."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Only the events of _EVENTS come here.
        paths = [Path(os.fsdecode(event.src_path))]
        if event.dest_path:
            paths.append(Path(os.fsdecode(event.dest_path)))
        relevant = [p for p in paths if self.watcher.wants(p)]
        if relevant:
            self.watcher.changed(relevant, event.is_directory)


class Watcher:
    def __init__(self, root: Path, changed: Changed, warn: Callable[[str], None]) -> None:
        self.root = root
        self.changed = changed
        self._warn = warn
        self.handler = _Handler(self)
        self._observer: BaseObserver | None = None
        self._watches: dict[tuple[Path, bool], ObservedWatch] = {}
        self._interesting: tuple[Path, ...] = ()

    def start(self) -> None:
        self._observer = Observer(timeout=0.2)
        self._observer.start()

    def stop(self, timeout: float) -> None:
        """Stop watching, waiting at most `timeout` seconds."""
        if self._observer is not None:
            # An event racing the stop makes watchdog log an error nobody needs to see.
            quiet = logging.getLogger("watchdog.observers")
            if not quiet.handlers:
                quiet.addHandler(logging.NullHandler())
            # watchdog's stop joins its threads with no bound; they are daemon threads, so one
            # that never ends must not keep Ctrl-C from ending the command.
            stopping = threading.Thread(target=self._observer.stop, name="briefgen-watch-stop", daemon=True)
            stopping.start()
            stopping.join(timeout)

    def join(self, timeout: float) -> None:
        if self._observer is not None and self._observer.is_alive():
            self._observer.join(timeout)

    def wants(self, path: Path) -> bool:
        """Is a change at this path one the site can see?"""
        for base in self._interesting:
            if path == base or base in path.parents:
                relative = path.relative_to(base).parts
                name = path.name
                return not ignored_name(name) and not any(ignored_name(p) for p in relative[:-1])
        return False

    def update(self, config: Config, watch_paths: Iterable[Path]) -> list[Path]:
        """Watch what the site reads, and the site folder (briefgen.toml, new folders).

        Returns the folders newly watched, which may have got files before.
        """
        observer = self._observer
        if observer is None:
            return []
        interesting = [config.config_path, config.content_dir, config.templates_dir,
                       config.static_dir, config.themes_dir]
        recursive: list[Path] = []
        for path in watch_paths:
            if path.is_dir():
                recursive.append(path)
            interesting.append(path)
        recursive = [p for p in recursive if not any(q in p.parents for q in recursive)]
        wanted = {(p, True) for p in recursive}
        # The site folder (briefgen.toml, folders made later) and, for `--config FILE`, FILE's.
        for folder in dict.fromkeys([self.root, config.config_path.parent]):
            if folder.is_dir() and not any(q == folder or q in folder.parents for q in recursive):
                wanted.add((folder, False))
        self._interesting = tuple(dict.fromkeys(interesting))
        added = []
        for key in wanted - self._watches.keys():
            try:
                self._watches[key] = observer.schedule(self.handler, str(key[0]), recursive=key[1],
                                                       event_filter=_EVENTS)
                added.append(key[0])
            except OSError as exc:
                self._warn(f"briefgen: warning: cannot watch {key[0]}: {exc}")
        for key in self._watches.keys() - wanted:
            with contextlib.suppress(KeyError, OSError):
                observer.unschedule(self._watches.pop(key))
        return [p for p in added if p != self.root]
