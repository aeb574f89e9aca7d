"""The monthly accumulators against direct, dense computations of the same quantities."""

from __future__ import annotations

import numpy as np
import pytest
from builders import build, small_dict

from fundsim.columns import WAIT_BANDS_WEEKS, wait_band_names
from fundsim.sim.accounts import Accounts, DailySums
from fundsim.sim.calendar import build_calendar


@pytest.fixture(scope="module")
def calendar():
    return build_calendar(build(small_dict()).simulation)


@pytest.mark.parametrize("scale_days", [0.5, 20.0, 300.0])
def test_person_days_match_the_dense_overlap_of_every_interval_with_every_month(calendar, scale_days) -> None:
    rng = np.random.default_rng(7)
    bounds = calendar.month_start_day.astype(float)
    for _ in range(50):
        n = int(rng.integers(1, 40))
        start = rng.uniform(-30.0, calendar.n_days + 30.0, n)
        end = start + rng.exponential(scale_days, n)
        loc = rng.integers(0, 3, n)
        acc = Accounts(calendar, 3)
        acc.add_area("caseload_days", loc, start, end)
        overlap = np.clip(
            np.minimum(end[:, None], bounds[None, 1:]) - np.maximum(start[:, None], bounds[None, :-1]), 0.0, None
        )
        expected = np.zeros((3, calendar.n_months))
        np.add.at(expected, loc, overlap)
        np.testing.assert_allclose(acc.sums["caseload_days"], expected, atol=1e-9)


def test_times_land_in_their_month_and_locality(calendar) -> None:
    rng = np.random.default_rng(3)
    bounds = calendar.month_start_day
    t = rng.uniform(0.0, calendar.n_days, 500)
    loc = rng.integers(0, 2, 500)
    w = rng.uniform(0.0, 5.0, 500)
    acc = Accounts(calendar, 2)
    acc.add_times("bed_days", loc, t, w)
    for i in range(2):
        for m in range(calendar.n_months):
            sel = (loc == i) & (t >= bounds[m]) & (t < bounds[m + 1])
            assert acc.sums["bed_days"][i, m] == pytest.approx(w[sel].sum())


def test_waiting_list_bands_match_numpy_histogram(calendar) -> None:
    rng = np.random.default_rng(5)
    ages = rng.exponential(60.0, 400)
    loc = rng.integers(0, 2, 400)
    acc = Accounts(calendar, 2)
    acc.snapshot(0, np.array([0, 1, 1]), loc, ages)
    edges = np.array([*WAIT_BANDS_WEEKS, np.inf]) * 7.0
    for i in range(2):
        counts, _ = np.histogram(ages[loc == i], bins=edges)
        got = [acc.snapshots[name][i, 0] for name in wait_band_names()]
        np.testing.assert_array_equal(got, counts)
        assert acc.snapshots["waiting_list_end"][i, 0] == np.count_nonzero(loc == i)
    np.testing.assert_array_equal(acc.snapshots["caseload_end"][:, 0], [1, 2])


def test_daily_sums_added_at_the_months_close_are_add_days_sums_bit_for_bit(calendar) -> None:
    """Random daily values over the warm-up and every month, with days skipped: the same cells as add_day's."""
    rng = np.random.default_rng(11)
    n_loc = 3
    ref, acc = Accounts(calendar, n_loc), Accounts(calendar, n_loc)
    for a in (ref, acc):
        a.add_metrics(("x_minutes", "y_gbp"))
    daily = DailySums(acc, ("x_minutes", "y_gbp"))
    month_ends = set(calendar.month_start_day[1:].tolist())
    for day in range(calendar.n_days):
        for metric in ("x_minutes", "y_gbp"):
            if rng.random() < 0.7:
                values = (rng.exponential(100.0, n_loc) * (rng.random(n_loc) < 0.8)).tolist()
                ref.add_day(metric, day, np.array(values))
                daily.add(metric, day, values)
        if day + 1 in month_ends and rng.random() < 0.5:  # a close at some month ends; a new month flushes too
            daily.flush()
    daily.flush()
    for metric in ("x_minutes", "y_gbp"):
        assert acc.sums[metric].tobytes() == ref.sums[metric].tobytes()
        assert (acc.sums[metric] > 0).all()
