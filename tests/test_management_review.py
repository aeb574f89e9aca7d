"""The provider's monthly review reads the same signals, bit for bit, as the pandas review it replaced.

``ProviderManager.signals`` builds the provider-wide months as numpy columns (priced as they are by a
contract that reads numpy columns, as a frame by any other), keeps the closed years' columns, reuses
a month's mean wait while its samples are unchanged and skips the second pricing when a contract's
income cannot move with activity. The reference below is the review as it
was written before (a pandas frame per call, ``add_derived_columns`` on a copy, ``pd.concat`` with the
closed years' frame, the last row bumped with ``.loc`` and priced again, pandas sums): each review of a
run, under every registered contract, must give exactly the same :class:`Signals` (every float to the
bit), and the run the same ledger and decisions. Expected values come from that independent
implementation, not from the code under test.
"""

from __future__ import annotations

import copy
import math
import struct
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fundsim.columns import add_derived_columns, derived_columns
from fundsim.contracts import REGISTRY
from fundsim.scenario.scaling import scale_contracts
from fundsim.sim.engine import simulate
from fundsim.sim.management import MARGINAL_STEP, ProviderManager, _sum_from
from fundsim.sim.policy import Signals
from fundsim.sim.retender import value_factor
from tests.builders import build, example_dict

# Example-sized configs (9.5m a year, 130,000 contacts) for the contracts example.yaml leaves out; the
# scenario below scales every contract to its population, as for the five it has.
EXTRA_CONTRACTS: dict[str, dict[str, Any]] = {
    "block_rebased": {
        "annual_value_gbp": 9_500_000,
        "contracted_activity_per_year": 130_000,
        "rebasing": {"rule": "outturn", "max_change_share": 0.05},
    },
    "aligned_payment": {"fixed_gbp_per_year": 9_500_000, "planned_activity_per_year": 130_000, "unit_price_gbp": 73},
    "low_volume_block": {"annual_value_gbp": 1_200_000, "expected_activity_per_year": 16_000},
    "year_of_care": {"rate_gbp_per_person_year": {"low": 300, "medium": 600, "high": 1200}},
}

POPULATIONS = (6_000, 5_000, 3_000)


def small_multi_year(contract: str) -> dict[str, Any]:
    """The example with three localities of 14,000 people, three contract years, responsive, under ``contract``.

    Three years so the review prices closed years; three localities so the order of the provider-wide sums shows.
    """
    d = example_dict()
    d["simulation"].update(horizon_years=3.0, warmup_days=60)
    scale = sum(POPULATIONS) / sum(loc["population"] for loc in d["localities"])
    d["localities"] = d["localities"][: len(POPULATIONS)]
    for loc, people in zip(d["localities"], POPULATIONS, strict=True):
        loc.update(population=people, staff_share=people / sum(POPULATIONS))
    for grade in d["workforce"]["grades"]:
        grade["fte"] = round(grade["fte"] * scale, 2)
    for name, config in EXTRA_CONTRACTS.items():
        d["contracts"].setdefault(name, copy.deepcopy(config))
    scale_contracts(d["contracts"], scale)
    d["contract"] = contract
    d["provider_policy"]["mode"] = "responsive"
    d.pop("risk_view", None)
    return d


# --------------------------------------------------------------------------- the reference review


def reference_month_frame(m: ProviderManager, months: range) -> pd.DataFrame:
    """The provider-wide months as the review built them before: a pandas frame and ``add_derived_columns``."""
    cal = m.calendar
    idx = np.arange(months.start, months.stop)
    acc = m.service.accounts
    data: dict[str, object] = {
        "replication": m.replication,
        "month": pd.to_datetime([cal.month_starts[i] for i in idx]),
        "contract_year": idx // 12 + 1,
        "days": np.diff(cal.month_start_day)[idx].astype(float),
        "population": float(m.scenario.total_population),
    }
    for metric, sums in acc.sums.items():
        data[metric] = sums[:, idx].sum(axis=0)
    for metric in ("caseload_end", "waiting_list_end"):
        data[metric] = acc.snapshots[metric][:, idx].sum(axis=0)
    means = []
    for i in idx:
        waits = np.concatenate([acc.waits_of(loc, i) for loc in range(acc.n_localities)])
        means.append(float(waits.mean()) if len(waits) else np.nan)
    data["wait_mean_days"] = means
    return add_derived_columns(pd.DataFrame(data))


def reference_pay(m: ProviderManager, frame: pd.DataFrame) -> pd.DataFrame:
    """The contract priced on a frame, as the review priced it before (and settle does): any re-let's value applied."""
    payments = m.contract.pay(frame, m.config, m.context)
    assert isinstance(payments, pd.DataFrame)
    if m.retendering is not None:
        payments = payments.copy()
        factor = value_factor(frame["contract_year"].to_numpy(), m.retendering)
        payments["income_gbp"] = payments["income_gbp"].to_numpy(dtype=float) * factor
    return payments


def reference_signals(m: ProviderManager, month: int, closed: dict[int, pd.DataFrame]) -> Signals:
    """The signals as the pandas review computed them; ``closed`` is its closed-years frame, kept per manager."""
    year_start = (month // 12) * 12
    ytd = reference_month_frame(m, range(year_start, month + 1))
    earlier = closed.get(id(m))
    if earlier is None or len(earlier) != year_start:
        earlier = closed[id(m)] = reference_month_frame(m, range(0, year_start))
    frame = pd.concat([earlier, ytd], ignore_index=True) if len(earlier) else ytd
    payments = reference_pay(m, frame).iloc[len(earlier) :]
    income = float(payments["income_gbp"].sum())
    last = ytd.iloc[-1]
    contacts = float(last["contacts"])
    bumped = frame.copy()
    bumped.loc[bumped.index[-1], m.activity_columns] = last[m.activity_columns].to_numpy(dtype=float) * (
        1.0 + MARGINAL_STEP
    )
    bumped_income = float(reference_pay(m, bumped)["income_gbp"].iloc[len(earlier) :].sum())
    marginal = (bumped_income - income) / (contacts * MARGINAL_STEP) if contacts > 0 else 0.0
    cost = float(ytd["staff_cost_gbp"].sum()) + m._mobilisation_cost_gbp(range(year_start, month + 1))
    if "hospital_cost_borne_gbp" in payments:
        cost += float(payments["hospital_cost_borne_gbp"].sum())
    return Signals(
        income_ytd_gbp=income,
        cost_ytd_gbp=cost,
        marginal_income_per_contact_gbp=marginal,
        unit_cost_per_contact_gbp=float(last["staff_cost_gbp"]) / contacts if contacts > 0 else np.inf,
        waiting_list=float(last["waiting_list_end"]),
        assessments_per_month=float(last["assessments"]),
        visits_due=float(last["visits_due"]),
        visits_missed=float(last["visits_missed"]),
        visit_deferrals=float(last["visit_deferrals"]),
        funded_activity_ytd=float(payments["contracted_activity"].sum()),
        delivered_activity_ytd=float(payments["delivered_activity"].sum()),
    )


def same_bits(a: float, b: float) -> bool:
    """Equal to the last bit (so 0.0 and -0.0 differ); any NaN equals any NaN."""
    if math.isnan(a) and math.isnan(b):
        return True
    return struct.pack("<d", a) == struct.pack("<d", b)


def differences(new: Signals, ref: Signals) -> list[str]:
    """The fields of two signals that differ in any bit."""
    return [
        f"{f.name}: {getattr(new, f.name)!r} != {getattr(ref, f.name)!r}"
        for f in fields(Signals)
        if not same_bits(float(getattr(new, f.name)), float(getattr(ref, f.name)))
    ]


@pytest.fixture
def checked_reviews(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Signals]]:
    """While the test runs, every review's signals are checked against the reference; yields those seen."""
    seen: list[tuple[int, Signals]] = []
    closed: dict[int, pd.DataFrame] = {}
    signals: Callable[[ProviderManager, int], Signals] = ProviderManager.signals

    def checked(self: ProviderManager, month: int) -> Signals:
        new = signals(self, month)
        ref = reference_signals(self, month, closed)
        assert not differences(new, ref), (month, differences(new, ref))
        seen.append((month, new))
        return new

    monkeypatch.setattr(ProviderManager, "signals", checked)
    return seen


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("contract", sorted(REGISTRY))
def test_signals_match_the_pandas_review_under_every_contract(
    contract: str, checked_reviews: list[tuple[int, Signals]]
) -> None:
    scenario = build(small_multi_year(contract))
    result = simulate(scenario, 1)
    # One review at the start of every month after the first: the check ran on each of them.
    assert [m for m, _ in checked_reviews] == list(range(len(result.ledger["month"].unique()) - 1))
    if not REGISTRY[contract].activity_ledger_columns(scenario.contract_context().tier_names):
        # No activity column to scale: income cannot move with one more contact.
        assert all(s.marginal_income_per_contact_gbp == 0.0 for _, s in checked_reviews)


def test_signals_match_with_reserves_and_retendering(checked_reviews: list[tuple[int, Signals]]) -> None:
    d = small_multi_year("cost_and_volume")
    value = d["contracts"]["block"]["annual_value_gbp"]
    d["provider_policy"]["reserves"] = {
        "opening_gbp": 0.05 * value,
        "recovery_threshold_gbp": 0.02 * value,
        "failure_floor_gbp": -0.05 * value,
    }
    d["provider_policy"]["retendering"] = {
        "every_years": 1,
        "mobilisation_cost_gbp": 0.026 * value,
        "transition_months": 3,
        "transition_productivity_loss_share": 0.05,
        "staff_lost_share": 0.05,
        "bid_value_share": 0.98,
    }
    simulate(build(d), 2)
    assert len(checked_reviews) == 35


def test_cost_and_volume_pays_one_more_contact_at_its_price() -> None:
    # Inside the tolerance band a pure cost-and-volume contract (marginal rates 1) pays the full price
    # for a contact: the marginal income is the year's price per contact, price × (1 + uplift − efficiency)^(y−1).
    d = small_multi_year("cost_and_volume")
    cv = d["contracts"]["cost_and_volume"]
    cv.update(tolerance_band_share=0.5, marginal_rate_above=1.0, marginal_rate_below=1.0)
    seen: list[tuple[int, Signals]] = []
    signals = ProviderManager.signals

    def record(self: ProviderManager, month: int) -> Signals:
        out = signals(self, month)
        seen.append((month, out))
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ProviderManager, "signals", record)
        simulate(build(d), 0)
    g = 1.0 + cv["cost_uplift_per_year"] - cv["efficiency_per_year"]
    for month, s in seen:
        price = cv["price_gbp"] * g ** (month // 12)
        # Inside the band the income is price × year-to-date contacts, so the difference quotient is
        # exact up to the rounding of two sums of about 10^5 GBP (relative 1e-9 is far wider).
        assert s.marginal_income_per_contact_gbp == pytest.approx(price, rel=1e-9), month


def test_derived_columns_agree_for_frames_and_numpy_columns() -> None:
    # Hand-made month: 30 assessments + 270 visits = 300 contacts; 900 caseload-days over 30 days = 30 on
    # the caseload; 150 waiting-list days = 5 waiting; 7 counterfactual − 4 admissions = 3 avoided.
    columns = {
        "assessments": np.array([30.0, 0.0]),
        "visits_delivered": np.array([270.0, 1.0]),
        "caseload_days": np.array([900.0, 31.0]),
        "waiting_list_days": np.array([150.0, 0.0]),
        "days": np.array([30.0, 31.0]),
        "counterfactual_admissions": np.array([7.0, 0.0]),
        "admissions": np.array([4.0, 2.0]),
    }
    expected = {
        "contacts": [300.0, 1.0],
        "caseload_mean": [30.0, 1.0],
        "waiting_list_mean": [5.0, 0.0],
        "admissions_avoided": [3.0, -2.0],
    }
    from_numpy = derived_columns(columns)
    from_frame = add_derived_columns(pd.DataFrame(columns))
    assert list(from_numpy) == list(expected)
    assert list(from_frame.columns[-4:]) == list(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(from_numpy[name], values)
        np.testing.assert_array_equal(from_frame[name].to_numpy(), values)


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 12, 15, 16, 17, 36, 120])
def test_sum_from_is_pandas_sum_to_the_bit(n: int) -> None:
    # Random magnitudes so the order of additions shows in the last bits; with and without NaN.
    rng = np.random.default_rng(n)
    values = rng.lognormal(10.0, 3.0, n) * rng.choice([-1.0, 1.0], n)
    with_nan = values.copy()
    with_nan[rng.integers(0, n, max(1, n // 5))] = np.nan
    for array in (values, with_nan, np.full(n, np.nan)):
        series = pd.Series(array)
        for start in sorted({0, n // 3, n - 1}):
            assert same_bits(_sum_from(series, start), float(series.iloc[start:].sum()))
    ints = pd.Series(rng.integers(0, 1000, n))
    assert _sum_from(ints, 0) == float(ints.sum())


def test_the_closed_years_are_built_once_a_year() -> None:
    # The review keeps the closed years' columns from the first review of a contract year, as the pandas
    # review kept its frame: each review builds its year to date, and the first review of each year
    # (the first of the run with no closed months) builds the closed years once.
    built: list[range] = []
    month_columns = ProviderManager.month_columns

    def counted(self: ProviderManager, months: range) -> dict[str, np.ndarray]:
        built.append(months)
        return month_columns(self, months)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ProviderManager, "month_columns", counted)
        simulate(build(small_multi_year("block_rebased")), 0)
    expected: list[range] = []
    for month in range(35):
        year_start = month // 12 * 12
        expected.append(range(year_start, month + 1))
        if month % 12 == 0:
            expected.append(range(0, year_start))
    assert built == expected


def test_month_frame_is_the_pandas_frame() -> None:
    # The provider-wide frame (values, dtypes, column order, index) is the one the pandas review built,
    # for the year to date and for the closed years, at every review of a run.
    compared: list[int] = []
    signals = ProviderManager.signals

    def check(self: ProviderManager, month: int) -> Signals:
        year_start = month // 12 * 12
        for months in (range(year_start, month + 1), range(0, year_start)):
            if len(months):
                expected = reference_month_frame(self, months)
                pd.testing.assert_frame_equal(self.month_frame(months), expected, check_exact=True)
        compared.append(month)
        return signals(self, month)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ProviderManager, "signals", check)
        simulate(build(small_multi_year("block")), 0)
    assert compared == list(range(35))
