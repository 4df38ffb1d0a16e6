"""Query results as pandas DataFrames, built column by column.

``pd.DataFrame(result.all())`` probes every SQLAlchemy ``Row`` for attributes it does not
have (each probe raises and catches an exception inside SQLAlchemy); transposing to columns
first is several times faster for the few thousand rows a page shows.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection


def query_frame(conn: Connection, stmt) -> pd.DataFrame:
    """Execute ``stmt`` on ``conn`` and return the rows as a DataFrame (columns as named)."""
    result = conn.execute(stmt)
    keys = list(result.keys())
    rows = result.all()
    if not rows:
        return pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame({k: list(col) for k, col in zip(keys, columns, strict=True)})
