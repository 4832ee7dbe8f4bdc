"""Same seed, same bytes, across versions of the generator: for every size the project makes (the
tests' data, the bundled sample, the benchmark's scales and its backlog), the landing zone and
truth trees hash to the digests recorded from the generator that held every order in memory
(main at 14bec20), so the one that streams writes exactly what it wrote.

A digest is the sha256 of the tree's listing, one `<sha256 of the file>  <path>` line per file,
by path (`sha256sum` over the sorted files gives the same lines). A change meant to alter the
generator's output records new digests: `python tests/test_generate_bytes.py` prints them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import sys
import tempfile
from pathlib import Path

import pytest

from fulfilment_monitor.generate import generate, placement, spill, writer

START = dt.date(2026, 10, 1)
# name: (orders, days, seed, digest of landing/ and truth/)
RECORDED = {
    "tests' data": (240, 16, 7, "a835de44fcd994ae86476aa22a2bb6a7cc5a3d579eab1ca0890f268cb9e5941b"),
    "test_generate": (300, 21, 7, "4371d43ba3021358334ea9d860b9a8e3cf34648e1eeb135da84e9b1bca303db2"),
    "bundled sample": (400, 21, 7, "77095a47b817c1a54bd4de4d300d905c4515a8d092dd9aea6918db4e770f9933"),
    "daily volumes": (3000, 21, 3, "79fb9402788ff6b18dbf4630a7a4280bd05c9110a2917ca8d998ef234e851084"),
    "twenty thousand": (20_000, 21, 1, "48592477e06478a110e8f2604ada23b5b5ab099a11c63907fcacf783359c3060"),
    "bench 10k": (10_000, 30, 1, "d65c7ad5a8a9d70adad2d8b0d2a86bf27505d4e6d101339af8378d57c4cd15f5"),
    "bench 100k": (100_000, 30, 1, "59677990cdd604da78e11e7e700be3aa60a792d85c499ef9ebd93c66895f06b3"),
    "bench 1M": (1_000_000, 30, 1, "cac80c459c5ecf60108a6875a332fc4043e8fdb42aff2a0d63c609e4ac363503"),
    "bench backlog": (3000, 750, 1, "072a70c51bd93ff9d9844edcdb96793f33006775b007371010d58798d3df2daa"),
}
# A minute or more each (1,000,000 orders write 1.8 GB; the backlog 8,000 files).
SLOW = {"bench 100k", "bench 1M", "bench backlog"}


def digest(root: Path) -> str:
    listing = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root)}\n"
                      for p in sorted(root.rglob("*")) if p.is_file())
    return hashlib.sha256(listing.encode()).hexdigest()


def generated_digest(folder: Path, orders: int, days: int, seed: int) -> str:
    generate(folder, orders=orders, days=days, start=START, seed=seed)
    return digest(folder)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in RECORDED])
def test_a_seed_writes_the_bytes_the_generator_wrote_before_it_streamed(name, tmp_path):
    orders, days, seed, recorded = RECORDED[name]
    assert generated_digest(tmp_path, orders, days, seed) == recorded, f"{name}: the bytes changed"


def test_the_bytes_do_not_depend_on_how_much_is_held_at_once(tmp_path, monkeypatch):
    """Parts spilled 100 kB at a time (segments of a few rows), the events' defects drawn 1,000 events at a
    time, files written 7 rows at a time (junk lines falling at the pieces' edges): the same
    bytes as the recorded ones, made with 64 MB, 1 M events and 100,000 rows at a time."""
    monkeypatch.setattr(spill, "BUDGET", 100_000)
    monkeypatch.setattr(placement, "BLOCK", 1000)
    monkeypatch.setattr(writer, "PIECE", 7)
    orders, days, seed, recorded = RECORDED["daily volumes"]
    assert generated_digest(tmp_path, orders, days, seed) == recorded


if __name__ == "__main__":  # print the digests of the generator as it is now
    for name, (orders, days, seed, _) in RECORDED.items():
        if len(sys.argv) < 2 or name in sys.argv[1:]:
            with tempfile.TemporaryDirectory() as folder:
                print(f"{name!r}: ({orders}, {days}, {seed}, {generated_digest(Path(folder), orders, days, seed)!r}),")
