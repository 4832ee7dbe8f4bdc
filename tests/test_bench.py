"""The benchmark runs end to end at a tiny scale, so it cannot rot. Timings are never asserted."""
from conftest import cli

PHASES = ["generate", "floor (read every file)", "validate + load", "dbt build", "validate marts",
          "publish", "report", "nightly: validate + load", "nightly: dbt build", "pipeline total",
          "nightly increment"]


def test_bench_prints_a_table_per_scale(tmp_path):
    result = cli("bench", "--scales", "240", "300", "--days", "16", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for scale in ("## 240 orders", "## 300 orders"):
        assert scale in result.stdout
    largest = result.stdout.split("## 300 orders")[1]
    for phase in PHASES:
        assert f"| {phase}" in largest or f"**{phase}" in largest, phase
    assert "s per 1k orders" in result.stdout
    assert "GX drop validation" in largest


def test_bench_refuses_a_scale_the_generator_cannot_make(tmp_path):
    result = cli("bench", "--scales", "60", "--days", "16", "--out", str(tmp_path))
    assert result.returncode == 1 and "every scale >=" in result.stderr
