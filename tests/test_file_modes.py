"""Files the pipeline writes are never readable by every user of the machine: what holds personal
data (the work database, the private file, their write-ahead logs) is its owner's only, what
analysts and ops read is 0640 in their shared group. Real files; the whole pipeline's files are
checked in test_privacy.py."""
from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

import pytest

from fulfilment_monitor import access, db, pipeline
from fulfilment_monitor.settings import private_db_for, work_db_for


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def other_group() -> int:
    """A group this process may give files to, other than its own."""
    mine = os.getegid()
    groups = [g.gr_gid for g in grp.getgrall()] if os.geteuid() == 0 else os.getgroups()
    choices = [g for g in groups if g != mine]
    if not choices:
        pytest.skip("this user belongs to no second group to share files with")
    return choices[0]


def test_a_database_and_its_write_ahead_log_are_created_owner_only(tmp_path):
    work = tmp_path / "f.work.duckdb"
    with access.owner_only(), db.connect(work) as con:
        con.sql("CREATE TABLE t AS SELECT 1 AS x")
        con.sql("INSERT INTO t VALUES (2)")
        wal = work.with_name(work.name + ".wal")
        assert wal.exists() and mode(wal) == 0o600
    assert mode(work) == 0o600


def test_a_work_database_made_before_is_narrowed_to_its_owner_when_next_opened(tmp_path):
    published = tmp_path / "f.duckdb"
    work, private = work_db_for(published), private_db_for(work_db_for(published))
    for path in (work, private):
        with db.connect(path) as con:
            con.sql("CREATE TABLE t AS SELECT 1 AS x")
        os.chmod(path, 0o644)
    pipeline.work_for(published)
    assert (mode(work), mode(private)) == (0o600, 0o600)


def test_a_shared_file_is_0640_in_the_shared_group(tmp_path, monkeypatch):
    group = other_group()
    monkeypatch.setenv("FULFILMENT_SHARED_GROUP", str(group))
    with access.shared_files():
        report = tmp_path / "report.html"
        report.write_text("<p>hello</p>")
    access.share(report)
    assert (mode(report), report.stat().st_gid) == (0o640, group)


def test_an_unknown_shared_group_is_a_one_line_error(monkeypatch, tmp_path):
    from fulfilment_monitor.errors import UserError

    monkeypatch.setenv("FULFILMENT_SHARED_GROUP", "no-such-group-here")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="FULFILMENT_SHARED_GROUP='no-such-group-here': no such group"):
        access.share(tmp_path / "f")
