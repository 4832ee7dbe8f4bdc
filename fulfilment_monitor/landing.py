"""Find complete drops in a landing zone: <landing>/<source>/<YYYY-MM-DD>/ with `_SUCCESS`."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.feeds import SOURCES, files_of

SUCCESS_MARKER = "_SUCCESS"


@dataclass(frozen=True)
class Drop:
    source: str
    extract_date: dt.date
    path: Path

    @property
    def name(self) -> str:
        return f"{self.source}/{self.extract_date.isoformat()}"

    def size(self) -> int:
        """Bytes of the drop's feed files."""
        return sum(p.stat().st_size for p in (self.path / f.file for f in files_of(self.source)) if p.exists())

    def checksum(self) -> str:
        """Content hash of the drop's feed files: a re-delivered drop is recognised by it."""
        digest = hashlib.sha256()
        for feed_file in files_of(self.source):
            path = self.path / feed_file.file
            digest.update(feed_file.file.encode())
            digest.update(path.read_bytes() if path.exists() else b"<missing>")
        return digest.hexdigest()


def complete_drops(landing: Path) -> list[Drop]:
    """Every complete drop, oldest first; incomplete folders are skipped, odd ones refused."""
    if not landing.is_dir():
        raise UserError(f"landing zone {landing} does not exist or is not a folder")
    drops = []
    for source_dir in sorted(p for p in landing.iterdir() if not p.name.startswith(".")):
        if source_dir.name not in SOURCES:
            raise UserError(
                f"unknown source folder {source_dir} (expected one of: {', '.join(SOURCES)})")
        for day_dir in sorted(source_dir.iterdir()):
            try:
                day = dt.date.fromisoformat(day_dir.name)
            except ValueError:
                raise UserError(f"{day_dir} is not an extract date folder (YYYY-MM-DD)") from None
            if (day_dir / SUCCESS_MARKER).exists():
                drops.append(Drop(source_dir.name, day, day_dir))
    return sorted(drops, key=lambda d: (d.extract_date, SOURCES.index(d.source)))
