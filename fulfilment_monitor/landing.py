"""Find the drops of a landing zone: <landing>/<source>/<YYYY-MM-DD>/ with `_SUCCESS`.

A drop is ready when its folder holds `_SUCCESS` and every file of its feed (spec: "A drop
is complete only when its folder holds a file named `_SUCCESS`"). A folder without the
marker is still being written and is skipped without a word; one with the marker but not
all its files (the marker came first) waits for them and is listed. Anything else in the
landing zone (a stray `.DS_Store`, a folder named `20261016`) is no drop: it is listed once
as ignored and never stops a run.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.feeds import SOURCES, files_of

SUCCESS_MARKER = "_SUCCESS"
EXTRACT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Drop:
    source: str
    extract_date: dt.date
    path: Path

    @property
    def name(self) -> str:
        return f"{self.source}/{self.extract_date.isoformat()}"

    @property
    def landing(self) -> Path:
        return self.path.parent.parent

    def files(self) -> list[Path]:
        return [self.path / f.file for f in files_of(self.source)]

    def size(self) -> int:
        """Bytes of the drop's feed files (those that are regular files)."""
        return sum(p.stat().st_size for p in self.files() if p.is_file())

    def checksum(self) -> str:
        """Content hash of the drop's feed files: a re-delivered drop is recognised by it."""
        digest = hashlib.sha256()
        for feed_file, path in zip(files_of(self.source), self.files()):
            digest.update(feed_file.file.encode())
            digest.update(path.read_bytes() if regular_file_inside(path, self.landing) is None else b"<unreadable>")
        return digest.hexdigest()


def regular_file_inside(path: Path, landing: Path) -> str | None:
    """Why `path` may not be read as a feed file (None: it may): only a regular file inside the
    landing zone is read; a pipe would hang the run, a link outside would read another's file."""
    if not path.exists():
        return "missing"
    if path.is_symlink() and not path.resolve().is_relative_to(landing.resolve()):
        return "a link to a file outside the landing zone"
    if not path.is_file():
        return "not a regular file"
    return None


@dataclass
class Landing:
    """What a landing zone holds: drops ready to load, drops waiting for files, and the rest."""
    drops: list[Drop] = field(default_factory=list)  # oldest first
    waiting: list[tuple[str, str]] = field(default_factory=list)  # (drop name, which files)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (path in the landing zone, why)

    def notes(self) -> list[str]:
        """One line each for a person: what waits, and what is no drop."""
        return ([f"waiting for {name}: {why}" for name, why in self.waiting]
                + [f"ignored {path}: {why}" for path, why in self.ignored])


def _drop_date(folder: Path) -> dt.date | None:
    if not EXTRACT_DATE.fullmatch(folder.name):
        return None
    try:
        return dt.date.fromisoformat(folder.name)
    except ValueError:
        return None


def scan(landing: Path) -> Landing:
    """The drops of a landing zone, oldest first; incomplete folders are skipped."""
    if not landing.is_dir():
        raise UserError(f"landing zone {landing} does not exist or is not a folder")
    found = Landing()
    for source_dir in sorted(landing.iterdir()):
        relative = source_dir.relative_to(landing)
        if source_dir.name not in SOURCES or not source_dir.is_dir():
            found.ignored.append((str(relative), f"not a source folder ({', '.join(SOURCES)})"))
            continue
        for day_dir in sorted(source_dir.iterdir()):
            day = _drop_date(day_dir) if day_dir.is_dir() else None
            if day is None:
                found.ignored.append((str(day_dir.relative_to(landing)), "not an extract date folder (YYYY-MM-DD)"))
                continue
            if not (day_dir / SUCCESS_MARKER).exists():
                continue  # still being written
            drop = Drop(source_dir.name, day, day_dir)
            missing = [p.name for p in drop.files() if not p.exists() and not p.is_symlink()]
            if missing:
                found.waiting.append((drop.name, f"{', '.join(missing)} not there yet, though {SUCCESS_MARKER} is"))
            else:
                found.drops.append(drop)
    found.drops.sort(key=lambda d: (d.extract_date, SOURCES.index(d.source)))
    return found


def complete_drops(landing: Path) -> list[Drop]:
    """Every drop ready to load, oldest first."""
    return scan(landing).drops
