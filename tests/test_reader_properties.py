"""Properties of the reader, checked by Hypothesis on feed files built from feeds.py (feed_files.py),
CSV and JSON Lines alike, against Python's own csv and json modules as the independent reader:

1. a valid file loads exactly what the independent reader reads from it, value for value, each
   record on its line;
2. with one line broken (the catalogue in feed_files.py), every other record loads unchanged,
   the broken line is quarantined with its line number and a reason, and the drop is loaded;
3. no reason, error or ledger text holds a raw control character or more than 80 characters of
   the file's text.

`make test-fast` runs them with a fixed seed and a bounded number of examples (the `default`
profile, tests/conftest.py); `HYPOTHESIS_PROFILE=long` runs thousands.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import write_drop
from feed_files import KINDS, Corruption, FeedText, corruptions, feed_texts, independent
from fulfilment_monitor import db, load, tables
from fulfilment_monitor.feeds import files_of
from fulfilment_monitor.landing import complete_drops
from fulfilment_monitor.reader import survey

INPUT_CHARS = 80


class Loader:
    """One work database for every example (a new one each would cost most of an example's time):
    each example's drop on a day of its own, in a landing zone of its own."""

    def __init__(self):
        self.folder = tempfile.TemporaryDirectory()
        self.con = db.connect(Path(self.folder.name) / "work.duckdb")
        tables.ensure(self.con)
        self.days = 0

    def load(self, feed_text: FeedText):
        """Load a drop holding `feed_text` (its source's other files empty): (the drop's result, the
        records loaded as (line, values), the quarantined (line, last line, reason), the ledger's problems)."""
        feed, con = feed_text.feed, self.con
        self.days += 1
        day = dt.date(2000, 1, 1) + dt.timedelta(days=self.days)
        landing = Path(self.folder.name) / f"landing{self.days}"
        files = {f.file: ",".join(f.column_names) + "\n" if f.is_csv else "" for f in files_of(feed.source)}
        write_drop(landing, feed.source, day.isoformat(), {**files, feed.file: feed_text.data()})
        (result,) = load.load_drops(con, complete_drops(landing))
        shutil.rmtree(landing)
        kept = [c.name if not c.personal else "NULL" for c in feed.columns]
        loaded = db.query(con, f"SELECT _line_no, {', '.join(kept)} FROM raw.{feed.table} WHERE _extract_date = ? "
                               "ORDER BY _line_no", [day])
        quarantined = db.query(con, "SELECT line_no, last_line_no, reason FROM quarantine.rows WHERE extract_date = ? "
                                    "ORDER BY line_no", [day])
        ledger = db.query(con, "SELECT coalesce(problems, '') FROM audit.drops WHERE extract_date = ?", [day])
        return result, loaded, quarantined, [p for (p,) in ledger]

    def close(self):
        self.con.close()
        self.folder.cleanup()


@pytest.fixture(scope="module")
def loader():
    made = Loader()
    yield made
    made.close()


def without_personal(feed_text: FeedText, rows: list[tuple]) -> list[tuple]:
    """Rows as raw keeps them: personal values are in the private file only."""
    personal = [c.personal for c in feed_text.feed.columns]
    return [(line, *[None if p else v for p, v in zip(personal, values)]) for line, *values in rows]


def assert_safe(texts: list[str], data: bytes) -> None:
    """Property 3: every text printable, quoting at most 80 characters of the file in a row."""
    source = data.decode("utf-8", "replace")
    for text in texts:
        assert text.isprintable(), text
        longest = max((n for n in range(1, len(text) + 1) for start in range(len(text) - n + 1)
                       if text[start:start + n] in source and n > INPUT_CHARS), default=0)
        assert longest == 0, text


@given(feed_texts())
def test_a_valid_file_loads_exactly_what_pythons_reader_reads(loader, feed_text):
    result, loaded, quarantined, ledger = loader.load(feed_text)
    assert result.status == "loaded", result.problems
    assert quarantined == []
    assert loaded == without_personal(feed_text, independent(feed_text))
    assert (result.read, result.loaded) == (len(feed_text.records), len(feed_text.records))


def swallows_a_record(corruption: Corruption) -> bool:
    """Whether an unclosed quote of the broken line, read on over the next lines, makes a record of
    the right width (then it is one, by the rule: the ambiguity of an unclosed quote)."""
    text = corruption.text
    if not text.feed.is_csv or corruption.lost is None:
        return False
    rest = b"".join(r + e.encode() for r, e in zip(text.records[corruption.lost:], text.ends[1 + corruption.lost:]))
    reader = csv.reader(io.StringIO(rest.decode("utf-8", "replace"), newline=""), strict=True)
    try:
        record = next(reader)
    except (csv.Error, StopIteration):
        return False
    return reader.line_num > 1 and len(record) == len(text.feed.columns)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_one_broken_line_costs_that_line_alone(loader, kind, data):
    corruption = data.draw(corruptions(kind))
    assume(corruption.kind != "none" and not swallows_a_record(corruption))
    text = corruption.text
    values = [v for _, *v in without_personal(text, independent(corruption.valid))]
    firsts = text.first_lines()
    if corruption.inserted is not None:
        del firsts[corruption.inserted]  # now one per record of the valid file
    expected = [(firsts[k], *v) for k, v in enumerate(values) if k != corruption.lost]

    result, loaded, quarantined, ledger = loader.load(text)

    assert result.status == "loaded", result.problems
    assert loaded == expected
    if corruption.line is None:
        assert quarantined == []
    else:
        assert [(first, last) for first, last, _ in quarantined] == [(corruption.line, corruption.line)]
        assert quarantined[0][2]
    assert result.read == result.loaded + result.quarantined == len(text.records)
    assert_safe([r for _, _, r in quarantined] + ledger + result.problems, text.data())


# Bytes where the survey's answer turns: line ends of each kind, the controls it must see (NUL,
# the unit separator, DEL), tab, and text around them.
SURVEY_BYTES = st.lists(st.sampled_from([b"\n", b"\r", b"\r\n", b"\t", b"\x00", b"\x1f", b"\x7f", b"a", b",", b"\xc3\xa9"]),
                        max_size=40).map(b"".join) | st.binary(max_size=200)


@settings(max_examples=1000)  # a pure function on short bytes: a thousand take a second
@given(SURVEY_BYTES)
def test_the_survey_counts_lines_and_finds_controls_as_python_does(data):
    """The loader's survey of a file (the lines the readers must account for, and whether the fast
    path may read it) against Python's own: bytes.splitlines ends a line at LF, CR and CRLF alike."""
    lines, plain = survey(data)
    assert lines == len(data.splitlines())
    assert plain == all(byte >= 32 and byte != 0x7F or byte in b"\t\n\r" for byte in data)
