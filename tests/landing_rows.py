"""What the generator sent, read here in plain Python: every row of one file of every drop of a
landing zone, less the lines its truth (truth/quarantine.csv) says the loader must quarantine.

Tests take expected values from here, never from the project's tables: a row the pipeline drops or
invents shows as a difference.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path


def quarantined(out: Path) -> set[tuple[str, str, str, int]]:
    """(source, extract_date, file, line_no) of every line truth/quarantine.csv lists."""
    with open(out / "truth" / "quarantine.csv", newline="", encoding="utf-8") as handle:
        return {(r["source"], r["extract_date"], r["file"], int(r["line_no"])) for r in csv.DictReader(handle)}


def rows(out: Path, source: str, file: str) -> list[dict]:
    """Every good row of `landing/SOURCE/*/FILE` (CSV by its header, JSON Lines by line), in drop
    order, each with its drop's `extract_date`; lines counted as the loader counts them (1 = a
    CSV's header)."""
    bad = quarantined(out)
    found = []
    for folder in sorted((out / "landing" / source).iterdir()):
        path = folder / file
        if not path.exists():
            continue
        day = folder.name
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            if file.endswith(".csv"):
                reader = csv.reader(handle)
                header = next(reader)
                for record in reader:
                    if (source, day, file, reader.line_num) not in bad:
                        found.append(dict(zip(header, record), extract_date=day))
            else:
                for line_no, line in enumerate(handle, start=1):
                    if (source, day, file, line_no) not in bad and line.strip():
                        found.append(json.loads(line) | {"extract_date": day})
    assert found, f"no {source}/{file} in {out}"
    return found


def moment(text: str) -> dt.datetime:
    """A feed's timestamp (ISO 8601 with its offset) as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc)
