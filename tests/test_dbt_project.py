"""The dbt project keeps its conventions (README "How it works"): staging reads only sources,
intermediate models live under intermediate/, every model is documented with a test of its
grain, every mart analysts query has an enforced contract, casts are written one way, and
`dbt docs generate` builds the documentation site.

Read from dbt's own parse of the project (its manifest), but for the casts (a scan of the SQL).
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import REPO
from fulfilment_monitor.db import connect
from fulfilment_monitor.tables import ensure as ensure_tables
from fulfilment_monitor.transform import _invoke

T = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    manifest = _invoke(["parse"], tmp_path_factory.mktemp("parse") / "parse.duckdb", T).result
    return {node.name: node for node in manifest.nodes.values() if node.resource_type == "model"}, manifest


def layer(node) -> str:
    return node.fqn[1]  # the folder under dbt_models/: staging, intermediate or marts


def test_staging_reads_only_sources_and_intermediate_models_live_under_intermediate(models) -> None:
    nodes, _ = models
    reads_models = {name: node.depends_on.nodes for name, node in nodes.items()
                    if layer(node) == "staging" and any(d.startswith("model.") for d in node.depends_on.nodes)}
    assert not reads_models, f"staging models that read other models: {reads_models}"
    misplaced = {name: node.original_file_path for name, node in nodes.items()
                 if name.startswith("int_") != (layer(node) == "intermediate")
                 or name.startswith("stg_") != (layer(node) == "staging")}
    assert not misplaced, f"models outside their layer's folder: {misplaced}"


def test_every_model_has_a_description_and_a_test_of_its_grain(models) -> None:
    nodes, manifest = models
    grain_tested = {test.attached_node for test in manifest.nodes.values()
                    if test.resource_type == "test" and getattr(test, "test_metadata", None)
                    and test.test_metadata.name in ("grain", "unique")}
    undocumented = sorted(name for name, node in nodes.items() if not node.description.strip())
    untested = sorted(name for name, node in nodes.items() if node.unique_id not in grain_tested)
    assert not undocumented and not untested, f"no description: {undocumented}; no grain test: {untested}"


def test_every_mart_has_an_enforced_contract_with_every_column_typed(models) -> None:
    nodes, _ = models
    marts = {name: node for name, node in nodes.items() if layer(node) == "marts"}
    assert {"fct_fulfilment_exceptions", "fct_outreach_queue", "fct_order_timeline", "fct_daily_metrics"} <= set(marts)
    loose = {name: [c.name for c in node.columns.values() if not c.data_type] or "no contract"
             for name, node in marts.items()
             if not node.config.contract.enforced or any(not c.data_type for c in node.columns.values())}
    assert not loose, f"marts without an enforced, fully typed contract: {loose}"


def test_one_sql_style_cast_never_double_colons() -> None:
    sql = [p for folder in ("dbt_models", "dbt_project/macros", "dbt_project/tests")
           for p in (REPO / folder).rglob("*.sql")]
    assert len(sql) > 50
    doubled = [f"{p.relative_to(REPO)}:{n}" for p in sql
               for n, line in enumerate(p.read_text().splitlines(), 1) if "::" in line.split("--")[0]]
    assert not doubled, f"casts written with :: (the project writes CAST(x AS type)): {doubled}"


def test_dbt_docs_generate_builds_the_site_with_every_model(tmp_path) -> None:
    database = tmp_path / "docs.duckdb"
    with connect(database) as con:
        ensure_tables(con)  # the loader's raw and audit tables, as the pipeline leaves them
    _invoke(["docs", "generate"], database, T)
    target = tmp_path / "dbt" / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    assert (target / "index.html").stat().st_size > 100_000
    assert {"source.fulfilment_monitor.raw.oms_orders", "source.fulfilment_monitor.drops.wms"} <= set(catalog["sources"])
