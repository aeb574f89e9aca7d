"""A monthly table as a payment rule reads it: a pandas DataFrame, or the same columns as numpy arrays.

``settle`` prices a ledger DataFrame. The provider's monthly review (:mod:`fundsim.sim.management`)
prices the contract year so far about 70 times a simulation, on tables of a few dozen rows, where
pandas costs more than the payment's arithmetic: building a frame of the ledger's hundred-odd
columns takes about 1.4 ms and reading a column back about 35 µs (pandas 3.1, measured in
``docs/performance.md``). So the built-in contracts read their columns through :func:`column` and
return their payments through :func:`like`: a DataFrame with the table's index for a DataFrame, a
dict of numpy arrays for a dict of numpy arrays. Their arithmetic is the same numpy on the same
values either way, so both kinds of table give the same payments bit for bit
(``tests/test_contract_properties.py``); a contract that does so says ``reads_column_tables=True`` in
its :class:`~fundsim.contracts.base.ContractType`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

#: A monthly table: a DataFrame (settle, tests) or named numpy columns of equal length (the review).
Table: TypeAlias = pd.DataFrame | Mapping[str, np.ndarray]


def column(table: Table, name: str, dtype: type | str | None = float) -> np.ndarray:
    """Column ``name`` of ``table`` as a numpy array of ``dtype`` (``None``: as stored)."""
    values = table[name]
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=dtype)
    return np.asarray(values, dtype=dtype)


def n_rows(table: Table) -> int:
    """The number of rows (months) of ``table``."""
    if isinstance(table, pd.DataFrame):
        return len(table)
    return len(next(iter(table.values()))) if table else 0


def like(table: Table, columns: Mapping[str, npt.ArrayLike]) -> Table:
    """A table of ``columns`` of the same kind as ``table``: a DataFrame with its index, or a dict of arrays.

    A scalar column is repeated on every row, as a DataFrame does.
    """
    if isinstance(table, pd.DataFrame):
        return pd.DataFrame(columns, index=table.index)
    n = n_rows(table)
    out: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        array = np.asarray(values)
        out[name] = np.full(n, array) if array.ndim == 0 else array
    return out
