"""The benchmark runs end to end at a tiny scale, so it cannot rot. Timings are never asserted,
but the figures it prints must be measured and add up."""
import json

import pytest

from conftest import cli

FULL = ["validate + load", "dbt build", "validate marts", "publish", "report"]
NIGHTLY = ["nightly: validate + load", "nightly: dbt build", "nightly: validate marts", "nightly: publish"]


@pytest.mark.slow
def test_bench_measures_every_phase_and_its_figures_add_up(tmp_path):
    result = cli("bench", "--scales", "240", "--days", "16", "--backlog", "80", "--json", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert list(measured) == ["240 orders", "backlog of 80 drops"]
    scale, backlog = measured["240 orders"], measured["backlog of 80 drops"]
    phases, summary = scale["phases"], scale["summary"]
    assert list(phases) == ["generate", "floor (read every file)", "(one read per feed file type)", *FULL, *NIGHTLY]
    assert all(p["seconds"] > 0 and p["peak_mb"] > 0 for p in phases.values())
    assert summary["pipeline"] == pytest.approx(sum(phases[p]["seconds"] for p in FULL))
    assert summary["nightly"] == pytest.approx(sum(phases[p]["seconds"] for p in NIGHTLY))
    assert summary["pipeline_x_floor"] == pytest.approx(summary["pipeline"] / phases["floor (read every file)"]["seconds"])
    assert summary["load_x_floor"] == pytest.approx(phases["validate + load"]["seconds"] / summary["floor"])
    floor_rows = int(phases["floor (read every file)"]["detail"].split()[0])
    loaded_rows = int(phases["validate + load"]["detail"].split()[0])
    assert loaded_rows == floor_rows > 0, "the loader reads every record the floor counts"
    assert int(phases["(one read per feed file type)"]["detail"].split()[0]) == floor_rows
    assert backlog["phases"]["validate + load"]["detail"].split()[2] == "80", "one drop per source and day"


def test_bench_refuses_a_scale_the_generator_cannot_make(tmp_path):
    result = cli("bench", "--scales", "60", "--days", "16", "--out", str(tmp_path))
    assert result.returncode == 1 and "every scale >=" in result.stderr
