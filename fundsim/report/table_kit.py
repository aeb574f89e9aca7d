"""What every report table is made of: the ``ReportTable``, means with intervals, units, contract order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: Confidence level of every interval in the report.
LEVEL = 0.95

#: Control limits of the funnel plot: about 2 and 3 standard deviations.
FUNNEL_LEVELS = (0.95, 0.998)

#: Days in a year, as fundsim annualises.
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class ReportTable:
    """One table of the report: its data, a title, and the unit of each column (``''`` = none)."""

    name: str
    title: str
    frame: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)

    def with_unit_headers(self) -> pd.DataFrame:
        """The frame with each column headed ``name (unit)``, as written to CSV and Excel."""
        return self.frame.rename(columns={c: f"{c} ({u})" for c, u in self.units.items() if u and c in self.frame})


def mean_ci_by(frame: pd.DataFrame, keys: Sequence[str], values: Sequence[str], level: float = LEVEL) -> pd.DataFrame:
    """Mean and Student-t interval of each ``values`` column over the rows of each ``keys`` group.

    The rows of a group are replications. Columns out: ``keys``, then ``<value>``,
    ``<value>_ci_low``, ``<value>_ci_high`` for each value (NaN interval for a single replication).
    """
    grouped = frame.groupby(list(keys), sort=False)[list(values)]
    mean, sd, n = grouped.mean(), grouped.std(ddof=1), grouped.count()
    out = pd.DataFrame(index=mean.index)
    for col in values:
        k = n[col].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(k >= 2, stats.t.ppf(0.5 + level / 2.0, np.maximum(k - 1, 1)), np.nan)
            half = t * sd[col].to_numpy(dtype=float) / np.sqrt(k)
        out[col] = mean[col]
        out[f"{col}_ci_low"] = mean[col].to_numpy(dtype=float) - half
        out[f"{col}_ci_high"] = mean[col].to_numpy(dtype=float) + half
    return out.reset_index()


def units_of(values: Sequence[str], unit: str | dict[str, str]) -> dict[str, str]:
    """The unit of each value column and of its CI columns (one unit for all, or one per column)."""
    out = {}
    for col in values:
        u = unit if isinstance(unit, str) else unit[col]
        out.update({col: u, f"{col}_ci_low": u, f"{col}_ci_high": u})
    return out


def in_contract_order(frame: pd.DataFrame, contracts: Sequence[str]) -> pd.DataFrame:
    """``frame`` sorted by the order of ``contracts``, then by month, locality or growth where present."""
    order = {c: i for i, c in enumerate(contracts)}
    return (
        frame.assign(_order=frame["contract"].map(order))
        .sort_values(
            ["_order", *[c for c in ("month", "locality", "demand_growth_per_year") if c in frame]], kind="stable"
        )
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def get_in(data: Any, *path: str | int) -> Any:
    """The value at ``path`` in nested dicts and lists, or ``None`` where the path does not exist."""
    for key in path:
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data
