"""Query results as pandas DataFrames, built column by column.

``pd.DataFrame(result.all())`` probes every SQLAlchemy ``Row`` for attributes it does not
have (each probe raises and catches an exception inside SQLAlchemy); transposing to columns
first is several times faster for the few thousand rows a page shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection


def query_frame(conn: Connection, stmt) -> pd.DataFrame:
    """Execute ``stmt`` on ``conn`` and return the rows as a DataFrame (columns as named).

    SQLAlchemy executes the statement (events, error translation and transactions as usual),
    but the rows are taken from the driver's cursor and each column's result processing (e.g.
    UTC datetimes) is applied column by column, without a ``Row`` object per row: 17,297
    rescue requests in ~35 ms instead of ~115 ms.
    """
    result = conn.execute(stmt)
    keys = list(result.keys())
    cursor = result.cursor
    try:
        rows = cursor.fetchall() if cursor is not None else []
        type_codes = [d[1] for d in cursor.description] if rows else []
    finally:
        result.close()
    if not rows:
        return pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
    dialect = conn.dialect
    processors = [
        column.type.dialect_impl(dialect).result_processor(dialect, type_code)
        for column, type_code in zip(stmt.selected_columns, type_codes, strict=True)
    ]
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame(
        {
            k: [process(v) for v in col] if process else list(col)
            for k, col, process in zip(keys, columns, processors, strict=True)
        }
    )


def query_ids(conn: Connection, stmt) -> np.ndarray:
    """Execute ``stmt`` (one integer column) and return it as an int64 array.

    The rows go from the driver's cursor straight into NumPy, without SQLAlchemy's per-row
    objects: 58,669 register ids in 12 ms instead of 80 ms on PostgreSQL.
    """
    result = conn.execute(stmt)
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))


def query_columns(conn: Connection, stmt) -> dict[str, np.ndarray]:
    """Execute ``stmt`` and return each column as a NumPy array straight from the cursor
    (no result processing: select numbers, codes or text — times as epoch seconds), for the
    whole-population reads that are counted or merged, never shown (120,000 rows in ~40 ms)."""
    result = conn.execute(stmt)
    keys = list(result.keys())
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    if not rows:
        return {k: np.empty(0, dtype=object) for k in keys}
    return {k: np.array(col) for k, col in zip(keys, zip(*rows, strict=True), strict=True)}
