"""Great Expectations, quietly: one ephemeral context per process, pandas batches in, Outcomes out.

GX is imported here only, on first use, so commands that validate nothing stay fast.
"""
from __future__ import annotations

import logging
import os
import warnings
from functools import lru_cache

import pandas as pd

from fulfilment_monitor.validation.outcome import Outcome

EXAMPLES = 5  # unexpected values quoted in a failure's details


def _import_gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no usage events: no network here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
    # After the import, which sets some of its loggers to INFO (e.g. data_context.types.base).
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return gx


@lru_cache(maxsize=1)
def _batch_definition():
    """A pandas data source whose batch is whatever DataFrame is passed at validation time."""
    gx = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("frames").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole frame")


def suite_from_dict(data: dict):
    gx = _import_gx()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return gx.ExpectationSuite(name=data["name"], expectations=data.get("expectations", []),
                                   meta=data.get("meta"))


def label(config) -> str:
    """An expectation as a person reads it: type, columns, and the rows it is about."""
    kwargs = config.kwargs
    columns = kwargs.get("column") or ", ".join(kwargs.get("column_list") or ())
    if kwargs.get("column_A"):
        columns = f"{kwargs['column_A']}, {kwargs['column_B']}"
    if config.type.startswith("expect_table_columns"):  # the whole list is in the suite file
        columns = f"{len(kwargs.get('column_list') or kwargs.get('column_set') or ())} columns"
    text = f"{config.type}({columns})"
    condition = kwargs.get("row_condition")
    if condition:
        text += f" where {_condition_text(condition)}"
    if kwargs.get("mostly") is not None:
        text += f" for at least {kwargs['mostly']:.0%} of rows"
    return text


def _condition_text(condition) -> str:
    """`status == open` for a comparison (an object, or its JSON form); anything else as GX prints it."""
    if not isinstance(condition, dict):
        condition = condition.dict() if hasattr(condition, "dict") else {}
    column, operator = condition.get("column"), condition.get("operator")
    name = column.get("name") if isinstance(column, dict) else getattr(column, "name", column)
    if name and "is_null" in condition:
        return f"{name} is {'' if condition['is_null'] else 'not '}null"
    if not name or not operator:
        return str(condition)
    parameter = condition.get("parameter")
    shown = ", ".join(map(str, parameter)) if isinstance(parameter, (list, tuple)) else str(parameter)
    return f"{name} {getattr(operator, 'value', operator)} {shown}"


def _is_critical(config) -> bool:
    severity = getattr(config, "severity", None) or "critical"
    return str(getattr(severity, "value", severity)).lower() == "critical"


def _short(value, width: int = 40) -> str:
    text = "/".join(map(str, value.values())) if isinstance(value, dict) else str(value)
    text = text.replace("\r", "\\r").replace("\n", "\\n")  # details stay on one line
    return text if len(text) <= width else text[: width - 1] + "…"


def details(result) -> str:
    """What was found, in one line: counts and examples for row checks, the observation otherwise."""
    raised = (result.exception_info or {}).get("raised_exception")
    if raised:
        message = str(result.exception_info.get("exception_message") or "").strip().splitlines()
        return "could not be evaluated: " + (message[0] if message else "error")
    found = result.result or {}
    if "unexpected_count" in found:
        total = found.get("element_count", 0)
        text = f"{found['unexpected_count']} of {total} rows unexpected"
        if found["unexpected_count"]:
            share = found.get("unexpected_percent") or 0
            examples = ", ".join(_short(v) for v in (found.get("partial_unexpected_list") or [])[:EXAMPLES])
            text += f" ({share:.1f}%), e.g. {examples}"
        return text
    if "observed_value" in found:
        return f"observed {_short(found['observed_value'], 200)}"
    return ""


def _run(suite, frame: pd.DataFrame, parameters: dict | None, result_format):
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return batch.validate(suite, expectation_parameters=parameters or {}, result_format=result_format)


def _raised(result) -> bool:
    return bool((result.exception_info or {}).get("raised_exception"))


def _in_suite_order(suite, outcomes: list[Outcome]) -> list[Outcome]:
    order = {label(e.configuration): i for i, e in enumerate(suite.expectations)}
    return sorted(outcomes, key=lambda o: order.get(o.expectation, len(order)))


def _outcome(suite, config, result) -> Outcome:
    """What GX found for the expectation `config` of `suite`, as the gate records it."""
    return Outcome(suite=suite.name, expectation=label(config), success=bool(result.success) and not _raised(result),
                   critical=_is_critical(config), details=details(result))


def validate(suite, frame: pd.DataFrame, parameters: dict | None = None) -> list[Outcome]:
    """Every expectation of `suite` on `frame`; severity `critical` makes a failure block."""
    report = _run(suite, frame, parameters, "SUMMARY")
    return _in_suite_order(suite, [_outcome(suite, r.expectation_config, r) for r in report.results])


PART = "_part"  # which frame a row of a combined batch came from
# Whole-frame checks whose verdict on a combined batch is each frame's: every frame of a file is
# built by the same query, with the same columns and dtypes. Any other whole-frame check (a row
# count, a column's max) is judged on each frame's rows.
SAME_FOR_EVERY_PART = {"expect_table_columns_to_match_ordered_list", "expect_column_values_to_be_of_type"}


def _tagged(config: dict, **meta) -> dict:
    config["meta"] = {**(config.get("meta") or {}), **meta}
    return config


def _meta(result, key: str):
    return (result.expectation_config.meta or {})[key]


def _per_part(suite):
    """The suite for a combined batch: uniqueness holds within each part, the extra column is
    expected; each expectation is tagged with its place in `suite`."""
    expectations = []
    for k, e in enumerate(suite.expectations):
        config = e.configuration.to_json_dict()
        kwargs = config["kwargs"]
        if config["type"] == "expect_column_values_to_be_unique":
            config["type"] = "expect_compound_columns_to_be_unique"
            kwargs["column_list"] = [kwargs.pop("column"), PART]
        elif config["type"] == "expect_compound_columns_to_be_unique":
            kwargs["column_list"] = [*kwargs["column_list"], PART]
        elif config["type"] == "expect_table_columns_to_match_ordered_list":
            kwargs["column_list"] = [*kwargs["column_list"], PART]
        expectations.append(_tagged(config, _index=k))
    return suite_from_dict({"name": suite.name, "expectations": expectations})


def _in_parts(suite, pairs: set[tuple[int, int]]):
    """Expectation k of `suite` on the rows of part i only (its own row condition kept), for each (i, k)."""
    expectations = []
    for part, k in sorted(pairs):
        config = suite.expectations[k].configuration.to_json_dict()
        own = config["kwargs"].get("row_condition")
        mine = {"type": "comparison", "column": {"name": PART}, "operator": "==", "parameter": part}
        config["kwargs"]["row_condition"] = {"type": "and", "conditions": [own, mine]} if own else mine
        expectations.append(_tagged(config, _part=part, _index=k))
    return suite_from_dict({"name": suite.name, "expectations": expectations})


def _attributable(result) -> bool:
    """Whether each unexpected row of a combined run is named with its part (a table-level
    failure, or an error, is not: then every part is judged alone)."""
    found = result.result or {}
    if _raised(result) or (not result.success and "unexpected_count" not in found):
        return False
    return len(found.get("unexpected_index_list") or ()) >= (found.get("unexpected_count") or 0)


def validate_many(suite, frames: list[pd.DataFrame]) -> list[list[Outcome]]:
    """validate(suite, frame) for each frame, in two GX runs over all of them.

    GX's cost is mostly a fixed price per run, so a backlog of drops is checked together: the
    first run finds, per expectation, the frames with an unexpected row; the second runs just
    those expectations again, each on that frame's rows only, so GX itself gives that frame's
    counts, examples and `mostly` verdict (whole-frame checks, bar SAME_FOR_EVERY_PART, always
    go to the second run). A row check with no unexpected row in a frame held there, which is
    what a run of its own would say. Anything GX cannot attribute to a
    frame (a table-level failure, an error) sends those frames through validate() alone.
    """
    if len(frames) < 2:
        return [validate(suite, frame) for frame in frames]
    combined = pd.concat([frame.assign(**{PART: i}) for i, frame in enumerate(frames)], ignore_index=True)
    first = _run(_per_part(suite), combined, None,
                 {"result_format": "COMPLETE", "unexpected_index_column_names": [PART]})
    if not all(map(_attributable, first.results)):
        return [validate(suite, frame) for frame in frames]
    dirty = {(int(row[PART]), _meta(r, "_index"))
             for r in first.results for row in (r.result or {}).get("unexpected_index_list") or ()}
    dirty |= {(part, _meta(r, "_index")) for r in first.results for part in range(len(frames))
              if "unexpected_count" not in (r.result or {}) and r.expectation_config.type not in SAME_FOR_EVERY_PART}
    judged, alone = {}, set()
    for r in (_run(_in_parts(suite, dirty), combined, None, "SUMMARY").results if dirty else ()):
        part, k = _meta(r, "_part"), _meta(r, "_index")
        found = r.result or {}
        if _raised(r) or not ("unexpected_count" in found or "observed_value" in found):
            alone.add(part)  # GX could not judge it on that part's rows: judge the part alone
        judged[part, k] = _outcome(suite, suite.expectations[k].configuration, r)
    held = [Outcome(suite=suite.name, expectation=label(e.configuration), success=True,
                    critical=_is_critical(e.configuration),
                    details=f"held (one GX run over {len(frames)} drops)")
            for e in suite.expectations]
    return [validate(suite, frame) if i in alone
            else [judged.get((i, k), h) for k, h in enumerate(held)]
            for i, frame in enumerate(frames)]
