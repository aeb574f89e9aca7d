"""Rows of a monthly table grouped into contract years: correctly rounded sums without pandas' overhead.

The contracts price a monthly table whose rows fall into (replication, contract_year) groups. The
provider's monthly review prices the months so far twice a month, so a payment function runs about
70 times in a simulation on a table of a few dozen rows, where pandas' ``groupby`` costs far more to
set up than to add. :class:`YearGroups` does the same grouping with numpy, about ten times faster.

Its sums are correctly rounded (:func:`math.fsum`): the float nearest the exact sum, whatever the
order of the rows. pandas' grouped sums are compensated but their last bit depends on the pandas
version and the order of additions (measured: pandas 3.1's ``groupby().sum()`` and its
``groupby().cumsum()`` disagree in the last bit on the same three numbers), and a last bit can
move a review's decision through a threshold. A correctly rounded sum is the same on every
platform and version, and is tested against exact rational arithmetic (``tests/test_contract_years.py``).
"""

from __future__ import annotations

import math

import numpy as np

from fundsim.contracts.table import Table, column

#: The columns that identify one contract year of one replication.
YEAR_KEYS = ["replication", "contract_year"]


class YearGroups:
    """The (replication, contract_year) groups of a table's rows, in sorted key order.

    ``codes[i]`` is row i's group; :attr:`replication` and :attr:`contract_year` are the groups' keys.
    """

    def __init__(self, replication: np.ndarray, year: np.ndarray) -> None:
        n = len(replication)
        if n and replication[0] == replication[-1] and (replication == replication[0]).all():
            # One replication (the monthly review's table): group on the year alone.
            years, codes = np.unique(year, return_inverse=True)
            self.replication = np.full(len(years), replication[0])
            self.contract_year = years
        else:
            keys, codes = np.unique(np.column_stack((replication, year)), axis=0, return_inverse=True)
            self.replication = keys[:, 0] if n else replication[:0]
            self.contract_year = keys[:, 1] if n else year[:0]
        self.codes: np.ndarray = np.asarray(codes, dtype=np.intp).reshape(-1)
        self.n_groups = len(self.contract_year)
        self.sizes: np.ndarray = np.bincount(self.codes, minlength=self.n_groups)
        # Each group's rows in row order (a stable sort keeps it).
        order = np.argsort(self.codes, kind="stable")
        self._members: list[np.ndarray] = np.split(order, np.cumsum(self.sizes)[:-1]) if self.n_groups else []

    @classmethod
    def of(cls, periods: Table) -> YearGroups:
        """The contract years of a monthly table's rows (its ``replication`` and ``contract_year`` columns)."""
        return cls(column(periods, "replication", None), column(periods, "contract_year", None))

    @classmethod
    def in_month_order(cls, periods: Table) -> tuple[YearGroups, np.ndarray]:
        """The contract years of ``periods``' rows taken in (replication, contract year, month) order.

        Returns the groups of the reordered rows and the order (positions in ``periods``): a
        year-to-date or a year's first month runs month by month whatever order the rows came in.
        """
        replication, year = column(periods, "replication", None), column(periods, "contract_year", None)
        order = np.lexsort((column(periods, "month", None), year, replication))
        return cls(replication[order], year[order]), order

    def _rows(self, values: np.ndarray) -> list[np.ndarray]:
        """Each group's values in row order, NaN dropped."""
        values = np.asarray(values, dtype=float)
        return [v[~np.isnan(v)] for v in (values[rows] for rows in self._members)]

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Each group's sum of ``values``, correctly rounded (NaN skipped; 0 for a group of none)."""
        return np.array([_exact_sum(v) for v in self._rows(values)], dtype=float)

    def cumsum(self, values: np.ndarray) -> np.ndarray:
        """Each row's running sum within its group in row order, each correctly rounded (NaN rows stay NaN)."""
        values = np.asarray(values, dtype=float)
        out = np.full(len(values), np.nan)
        for rows in self._members:
            seen: list[float] = []
            for row in rows:
                value = float(values[row])
                if value == value:  # not NaN
                    seen.append(value)
                    out[row] = _exact_sum(np.array(seen))
        return out

    def previous(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Each row's value in the group's previous row (``fill`` for a group's first row), as groupby shift(1)."""
        values = np.asarray(values, dtype=float)
        out = np.full(len(values), fill)
        for rows in self._members:
            out[rows[1:]] = values[rows[:-1]]
        return out

    def per_row(self, annual: np.ndarray) -> np.ndarray:
        """A per-group value looked up for every row."""
        return np.asarray(annual)[self.codes]

    def rank(self) -> np.ndarray:
        """Each row's position within its group in row order (0 for the first), as groupby cumcount."""
        rank = np.empty(len(self.codes), dtype=np.intp)
        for rows in self._members:
            rank[rows] = np.arange(len(rows))
        return rank


def _exact_sum(values: np.ndarray) -> float:
    """The correctly rounded sum of finite ``values`` (:func:`math.fsum`); numpy's sum where any is infinite."""
    if np.isfinite(values).all():
        return math.fsum(values.tolist())
    return float(values.sum())
