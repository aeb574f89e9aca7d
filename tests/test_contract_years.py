"""Contract-year grouping (fundsim.contracts.years) against exact arithmetic and pandas' grouping.

Sums are checked against exact rational arithmetic (:class:`fractions.Fraction`): a correctly rounded
sum is the float nearest the exact one, so ``float(Fraction sum)`` is the only right answer. The
grouping itself (which rows form a contract year, in which order, each row's rank and predecessor)
is checked against pandas' ``groupby`` on shuffled tables of several replications.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from fundsim.contracts.years import YEAR_KEYS, YearGroups


def random_table(rng: np.random.Generator, rows: int, replications: int) -> pd.DataFrame:
    """Rows of random (replication, contract_year) with values of mixed magnitude and sign, some NaN."""
    values = rng.normal(0.0, 1.0, rows) * 10.0 ** rng.integers(-4, 10, rows)
    values[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "replication": rng.integers(0, replications, rows),
            "contract_year": rng.integers(1, 6, rows),
            "value": values,
        }
    )


def exact(values: list[float]) -> float:
    """The float nearest the exact sum of ``values``."""
    return float(sum((Fraction(v) for v in values), Fraction(0)))


@pytest.mark.parametrize("seed", range(40))
def test_sums_are_the_exact_sum_rounded_once(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = random_table(rng, int(rng.integers(1, 80)), int(rng.integers(1, 4)))
    years = YearGroups.of(table)
    sums = years.sum(table["value"].to_numpy())
    running = years.cumsum(table["value"].to_numpy())
    for g, (rep, year) in enumerate(zip(years.replication, years.contract_year, strict=True)):
        mask = (table["replication"] == rep) & (table["contract_year"] == year)
        members = table.loc[mask, "value"].to_numpy()
        assert sums[g] == exact([v for v in members if not np.isnan(v)])
        for i, row in enumerate(np.flatnonzero(mask.to_numpy())):
            if np.isnan(members[i]):
                assert np.isnan(running[row])
            else:
                assert running[row] == exact([v for v in members[: i + 1] if not np.isnan(v)])


def test_sums_do_not_depend_on_row_order() -> None:
    """Cancellation that plain left-to-right addition gets wrong in one order and not another."""
    values = np.array([1e16, 1.0, -1e16, 1.0, 3.0])
    one = YearGroups(np.zeros(5, dtype=int), np.ones(5, dtype=int))
    assert one.sum(values)[0] == 5.0
    assert one.sum(values[::-1])[0] == 5.0
    assert sum(values.tolist()) != 5.0  # the naive order loses the ones: the case is not trivial


@pytest.mark.parametrize("seed", range(20))
def test_grouping_matches_pandas_groupby(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    table = random_table(rng, int(rng.integers(1, 80)), int(rng.integers(1, 4)))
    years = YearGroups.of(table)
    sorted_groups = table.groupby(YEAR_KEYS, sort=True)
    keys = sorted_groups.size().index
    assert np.array_equal(years.replication, keys.get_level_values("replication"))
    assert np.array_equal(years.contract_year, keys.get_level_values("contract_year"))
    assert np.array_equal(years.sizes, sorted_groups.size().to_numpy())
    in_order = table.groupby(YEAR_KEYS, sort=False)
    assert np.array_equal(years.rank(), in_order.cumcount().to_numpy())
    values = table["value"].to_numpy()
    expected_previous = in_order["value"].shift(1, fill_value=-1.0).to_numpy()
    assert np.array_equal(years.previous(values, fill=-1.0), expected_previous, equal_nan=True)
    label = pd.Series(np.arange(years.n_groups), index=keys)
    rows = pd.MultiIndex.from_frame(table[YEAR_KEYS])
    assert np.array_equal(years.per_row(np.arange(years.n_groups)), label.reindex(rows).to_numpy())


def test_empty_table_has_no_groups() -> None:
    years = YearGroups(np.zeros(0, dtype=int), np.zeros(0, dtype=int))
    assert years.n_groups == 0
    assert years.sum(np.zeros(0)).shape == (0,)
    assert years.cumsum(np.zeros(0)).shape == (0,)
    assert years.previous(np.zeros(0)).shape == (0,)


def test_a_group_of_only_nan_sums_to_zero_and_infinities_carry() -> None:
    years = YearGroups(np.zeros(4, dtype=int), np.array([1, 1, 2, 2]))
    sums = years.sum(np.array([np.nan, np.nan, np.inf, 1.0]))
    assert sums[0] == 0.0
    assert sums[1] == np.inf
