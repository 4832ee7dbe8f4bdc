"""Great Expectations, quietly: one ephemeral context per process, pandas batches in, Outcomes out.

GX is imported here only, on first use, so commands that validate nothing stay fast.
"""
from __future__ import annotations

import logging
import os
import warnings
from functools import lru_cache

import pandas as pd

from fulfilment_monitor.text import fragment
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


def prepare() -> None:
    """Import GX and build its context now (it is cached), so the first validation need not wait."""
    _batch_definition()


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


def is_critical(config) -> bool:
    severity = getattr(config, "severity", None) or "critical"
    return str(getattr(severity, "value", severity)).lower() == "critical"


def holds_for_review(config) -> bool:
    """A statistical expectation (`"meta": {"on_failure": "hold"}`): failing it holds the drop for
    review instead of rejecting it, since a well-formed drop may simply be unusual."""
    return (getattr(config, "meta", None) or {}).get("on_failure") == "hold"


def short(value, width: int = 40) -> str:
    """A value quoted in details: one line, cut, emails and phones masked (text.fragment)."""
    return fragment("/".join(map(str, value.values())) if isinstance(value, dict) else value, width)


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
            examples = ", ".join(short(v) for v in (found.get("partial_unexpected_list") or [])[:EXAMPLES])
            text += f" ({share:.1f}%), e.g. {examples}"
        return text
    if "observed_value" in found:
        return f"observed {short(found['observed_value'], 200)}"
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
                   critical=is_critical(config), details=details(result))


def validate(suite, frame: pd.DataFrame, parameters: dict | None = None) -> list[Outcome]:
    """Every expectation of `suite` on `frame`; severity `critical` makes a failure block."""
    report = _run(suite, frame, parameters, "SUMMARY")
    return _in_suite_order(suite, [_outcome(suite, r.expectation_config, r) for r in report.results])


def judge_rows(suite, frame: pd.DataFrame, key: str, parameters: dict | None = None):
    """Each expectation of `suite` on `frame` (one row per thing judged, named by column `key`),
    with the set of `key` values it failed for: (expectation config, failed keys), in suite
    order. None for the set means it failed for every row (a table-level failure, an error)."""
    report = _run(suite, frame, parameters, {"result_format": "COMPLETE", "unexpected_index_column_names": [key]})
    results = {label(r.expectation_config): r for r in report.results}
    judged = []
    for expectation in suite.expectations:
        config = expectation.configuration
        r = results[label(config)]
        found = r.result or {}
        if _raised(r) or (not r.success and "unexpected_index_list" not in found):
            judged.append((config, None))
        else:
            judged.append((config, {row[key] for row in found.get("unexpected_index_list") or ()}))
    return judged
