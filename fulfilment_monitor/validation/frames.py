"""Arrow tables from DuckDB as pandas frames GX can type-check (one conversion for drops and marts)."""
from __future__ import annotations

import pandas as pd
import pyarrow as pa


def _dtype(arrow_type: pa.DataType):
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) \
            or pa.types.is_string_view(arrow_type):
        return pd.StringDtype()
    return None  # pandas' default: float64, datetime64, tz-aware timestamps


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Nullable pandas dtypes, so a null never turns an integer column into floats.

    Decimals become float64 (GX's pandas type check knows no decimal type) and
    dates datetime64, so every column has a dtype GX can name.
    """
    columns = [c.cast(pa.float64()) if pa.types.is_decimal(c.type) else c for c in table.columns]
    table = pa.table(columns, names=table.column_names)
    return table.to_pandas(types_mapper=_dtype, date_as_object=False)
