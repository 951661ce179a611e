"""What a build is asked to do: the command line's options, as one value."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Progress = Callable[[str], None]


def default_jobs() -> int:
    """One worker process per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass(frozen=True)
class BuildOptions:
    """How a build is asked for: the command line's options, or a caller's."""

    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    output: Path | None = None
    jobs: int = 1
    use_cache: bool = True
    now: dt.datetime | None = None  # for tests; the current time otherwise
    config: Path | None = None  # `--config FILE`: settings from elsewhere than SITE/briefgen.toml
