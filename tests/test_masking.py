"""Personal data masked wherever input is quoted: email addresses and phone numbers in any text
that leaves the pipeline (errors, logs, the ledger, the data-quality page, alerts), and a
quarantined record's personal fields, its structure kept. Hand-written cases."""
from __future__ import annotations

from pathlib import Path

import pytest

from fulfilment_monitor import db, load
from fulfilment_monitor.feeds import Column, FeedFile
from fulfilment_monitor.redact import masked_record
from fulfilment_monitor.settings import private_db_for
from fulfilment_monitor.text import fragment, mask
from test_load import CUSTOMER_COLUMNS, load_one, oms_drop

# (text, masked): every written form the pipeline may meet, and what must stay as it is.
SHAPES = [
    ("wrote from jane.doe@example.com today", "wrote from [email] today"),
    ("isla.smith.c0000001@mail.example,+14785148071", "[email],[phone]"),
    ("+15551234567,+15559876543", "[phone],[phone]"),
    ("call +44 7700 900123 or 07700 900123", "call [phone] or [phone]"),
    ("(555) 123-4567 / 555.123.4567", "[phone] / [phone]"),
    # what looks a little like them and is neither: an order version's key, timestamps, ids, amounts
    ("O1@2026-11-01T09:00:00Z", "O1@2026-11-01T09:00:00Z"),
    ("2026-10-01T09:00:00+00:00 2026-10-01 08:00", "2026-10-01T09:00:00+00:00 2026-10-01 08:00"),
    ("C0000001 SH-000123 19.99 -1 1e3", "C0000001 SH-000123 19.99 -1 1e3"),
]


@pytest.mark.parametrize("text, masked", SHAPES, ids=[s[0][:24] for s in SHAPES])
def test_email_addresses_and_phone_numbers_are_masked_and_nothing_else(text, masked):
    assert mask(text) == masked


def test_a_fragment_masks_before_it_cuts_so_no_part_of_an_address_is_left():
    text = "x" * 70 + " jane.doe@example.com and more"
    shown = fragment(text)
    assert "jane" not in shown and shown.endswith("…") and len(shown) == 80


# --- quarantined customer records, and what a load keeps where ------------------------------------

STAMP = "2026-11-01T09:00:00+00:00"
CONSENTS = "true,false,true,false,false"
# (line as delivered, as quarantined, reason): lines 3 onwards of one customers file.
QUARANTINED = [
    (f"CU2,Grace Hopper,grace@example.com,+15550001111,America/New_York,sms,{CONSENTS},yesterday 3pm",
     f"CU2,***,***,***,America/New_York,sms,{CONSENTS},yesterday 3pm",
     "bad timestamp (ISO 8601 with offset expected) in updated_at: yesterday 3pm"),
    (f"CU3,,c3@example.com,,Europe/London,email,{CONSENTS},{STAMP}",
     f"CU3,,***,,Europe/London,email,{CONSENTS},{STAMP}", "missing full_name"),
    (f"CU5,Alan Turing,alan@example.com,,Europe/London,alan@example.com,{CONSENTS},{STAMP}",
     f"CU5,***,***,,Europe/London,[email],{CONSENTS},{STAMP}", "unknown value in preferred_channel: [email]"),
    # too broken to find the fields: the first field (an id) is kept, every other part masked
    (f"CU4,Doe, Jane,jane.doe@example.com,+15551234567,Europe/London,email,{CONSENTS},{STAMP}",
     "CU4" + ",***" * 12, "wrong column count"),
    ("Jane Roe,jane.roe@example.com", "***,***", "wrong column count"),
    # bytes that are not UTF-8, in fields that can still be found
    (f"CU6,Jos\xe9 Pe\xf1a,jose@example.com,+34600111222,Europe/Madrid,email,{CONSENTS},{STAMP}",
     f"CU6,***,***,***,Europe/Madrid,email,{CONSENTS},{STAMP}", "not valid UTF-8"),
    # a repeated key: the record as loaded, its personal fields masked
    (f"CU1,Ada Lovelace,ada@example.com,+441234567890,Europe/London,email,{CONSENTS},{STAMP}",
     f"CU1,***,***,***,Europe/London,email,{CONSENTS},{STAMP}", "duplicate key within drop"),
]
GOOD = f"CU1,Ada Lovelace,ada@example.com,+441234567890,Europe/London,email,{CONSENTS},{STAMP}"
SECRETS = ["Grace", "Hopper", "grace@", "5550001111", "c3@", "Alan", "Turing", "alan@", "Jane", "Doe", "jane",
           "5551234567", "Roe", "Jos", "jose@", "600111222", "Ada", "Lovelace", "ada@", "1234567890"]


def customers_file(*lines: str) -> bytes:
    return "\n".join([",".join(CUSTOMER_COLUMNS), *lines, ""]).encode("latin-1")


def test_a_quarantined_customer_record_keeps_its_structure_and_loses_its_personal_fields(landing, con):
    oms_drop(landing, customers=customers_file(GOOD, *(line for line, _, _ in QUARANTINED)))
    result = load_one(con, landing, "oms")
    assert (result.read, result.quarantined) == (1 + len(QUARANTINED), len(QUARANTINED))
    stored = {line: (text, reason) for line, text, reason in db.query(
        con, "SELECT line_no, raw_text, reason FROM quarantine.rows")}
    for line_no, (_, masked, reason) in enumerate(QUARANTINED, start=3):
        assert stored[line_no][0] == masked, line_no
        assert stored[line_no][1].startswith(reason), (line_no, stored[line_no][1])
    kept = repr(db.query(con, "SELECT * FROM quarantine.rows"))
    assert not [s for s in SECRETS if s in kept]


def test_raw_keeps_the_first_name_and_the_private_file_the_rest_with_its_lineage(landing, con):
    oms_drop(landing, customers=customers_file(GOOD, f"CU7,  Grace Lee \"Lefty\",,,,,{CONSENTS},{STAMP}"))
    result = load_one(con, landing, "oms")
    assert [c for (c,) in db.query(con, "SELECT column_name FROM information_schema.columns WHERE "
                                        "table_schema = 'raw' AND table_name = 'oms_customers' "
                                        "AND NOT starts_with(column_name, '_') ORDER BY ordinal_position")] == [
        "customer_id", "timezone", "preferred_channel", "consent_email", "consent_sms", "consent_phone",
        "consent_whatsapp", "marketing_opt_in", "updated_at", "first_name"]
    assert db.query(con, "SELECT customer_id, first_name, _line_no FROM raw.oms_customers ORDER BY 1") == [
        ("CU1", "Ada", 2), ("CU7", "Grace", 3)]
    assert db.query(con, "SELECT customer_id, full_name, email, phone, updated_at, _load_id, _source, _file, _line_no "
                         "FROM personal.oms_customers ORDER BY 1") == [
        ("CU1", "Ada Lovelace", "ada@example.com", "+441234567890", STAMP, result.load_id, "oms", "customers.csv", 2),
        ("CU7", '  Grace Lee "Lefty"', None, None, STAMP, result.load_id, "oms", "customers.csv", 3)]
    assert private_db_for(con_path(con)).exists()


def con_path(con) -> Path:
    return Path(db.query(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")[0][0])


def test_a_load_dying_after_the_private_write_leaves_rows_its_next_load_rewrites(landing, con, monkeypatch):
    oms_drop(landing, customers=customers_file(GOOD))

    def die(*args):
        raise RuntimeError("killed after the private file was written, before the load committed")

    monkeypatch.setattr(load, "_write_ledger", die)
    with pytest.raises(RuntimeError):
        load_one(con, landing, "oms")
    assert db.query(con, "SELECT count(*) FROM raw.oms_customers") == [(0,)]
    assert db.query(con, "SELECT count(*) FROM personal.oms_customers") == [(1,)], "the private rows came first"
    monkeypatch.undo()
    load_one(con, landing, "oms")
    assert db.query(con, "SELECT customer_id, count(*) FROM personal.oms_customers GROUP BY 1") == [("CU1", 1)]


def test_a_forgotten_customer_delivered_again_loads_without_name_email_or_phone(landing, con):
    con.execute("INSERT INTO audit.erasures VALUES ('CU1', now(), 'asked on the phone')")
    oms_drop(landing, customers=customers_file(GOOD, f"CU7,Grace Lee,g@example.com,,,,{CONSENTS},{STAMP}"))
    load_one(con, landing, "oms")
    assert db.query(con, "SELECT customer_id, first_name FROM raw.oms_customers ORDER BY 1") == [
        ("CU1", None), ("CU7", "Grace")]
    assert db.query(con, "SELECT customer_id FROM personal.oms_customers") == [("CU7",)]


def test_a_json_record_with_a_personal_field_is_masked_the_same_way():
    people = FeedFile("crm", "people.jsonl", "crm_people", (Column("id"), Column("name", personal=True),
                                                            Column("note", nullable=True)), key=("id",))
    assert masked_record(people, '{"id":"p1","name":"Jane Roe","note":"call +15551234567"}') == \
        '{"id":"p1","name":"***","note":"call [phone]"}'
    assert masked_record(people, '{"id":"p1","name":"Jane Roe","no') == '{"id":"p1",***,***'
