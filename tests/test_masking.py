"""Personal data masked wherever input is quoted: email addresses and phone numbers in any text
that leaves the pipeline (errors, logs, the ledger, the data-quality page, alerts), and a
quarantined record's personal fields, its structure kept. Hand-written cases."""
from __future__ import annotations

import pytest

from fulfilment_monitor.text import fragment, mask

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
