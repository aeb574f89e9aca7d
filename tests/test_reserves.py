"""Provider reserves and failure, re-tendering's schedule: the pure rules on hand-made numbers.

The thresholds are checked at exactly their values, the reserves identity (opening + surplus −
deficit = closing) on a hand-made ledger whose yearly results are worked out by hand, and the
Wilson interval against its closed form at p = 0 and textbook values.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import simpy

from fundsim.errors import ScenarioError
from fundsim.experiment.reserves import failure_rates, reserve_outcomes, reserves_by_year, wilson_interval
from fundsim.scenario import load_scenario_text
from fundsim.scenario.policy_models import ProviderPolicy, Rationing, Reserves, Retendering
from fundsim.sim.policy import Decision
from fundsim.sim.reserves import ReserveBook, read_reserves, reserve_status, with_recovery
from fundsim.sim.retender import relet_months, start_passive_relets, transition_days, value_factor

RESERVES = Reserves(opening_gbp=1000.0, recovery_threshold_gbp=500.0, failure_floor_gbp=-200.0)


# -- the standing at a review ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reserves", "expected"),
    [
        (1000.0, "normal"),
        (500.0 + 1e-9, "normal"),
        (500.0, "recovery"),  # at exactly the threshold the recovery plan starts
        (-199.999, "recovery"),
        (-200.0, "failed"),  # at exactly the floor the provider fails
        (-1e6, "failed"),
    ],
)
def test_status_at_exactly_the_thresholds(reserves: float, expected: str) -> None:
    assert reserve_status(reserves, RESERVES) == expected


def test_failure_is_final() -> None:
    assert reserve_status(1e9, RESERVES, already_failed=True) == "failed"


def test_hand_made_sequence_fails_exactly_at_the_floor() -> None:
    # Year 1 (months 0..11) closes with −700: reserves 1000 → 300. Year 2's year-to-date surplus
    # then reads −400 (300 − 400 = −100: recovery), then −500 (300 − 500 = −200: exactly the floor).
    ytd = [-100.0] * 7 + [-700.0] * 5 + [-400.0, -500.0, 0.0]
    book = ReserveBook()
    seen = []
    for month, surplus in enumerate(ytd):
        book, in_hand, status = read_reserves(book, month, surplus, RESERVES)
        seen.append((in_hand, status))
    assert seen[0] == (900.0, "normal")
    assert seen[7] == (300.0, "recovery")  # 1000 − 700 ≤ 500
    assert seen[11] == (300.0, "recovery")  # the year closes: −700 moves into the closed years
    assert book.closed_years_surplus_gbp == -700.0
    assert seen[12] == (-100.0, "recovery")  # 300 − 400
    assert seen[13] == (-200.0, "failed")  # 300 − 500: exactly the floor
    assert seen[14] == (300.0, "failed")  # reserves recover, but failure is final
    assert book.failed_month == 14  # handed back at the review that opens month 14


def test_recovery_plan_deepens_rationing_and_freezes_hiring() -> None:
    policy = ProviderPolicy(reserves=RESERVES, rationing=Rationing(max_level=3))
    usual = Decision(True, True, 0.02, 0.0, 0.7, 2)
    plan = with_recovery(usual, policy)
    assert plan.hire_share == 0.0
    assert plan.ration_level == 3  # 2 + 1
    top = with_recovery(Decision(True, False, 0.0, 0.0, 0.7, 3), policy)
    assert top.ration_level == 3  # capped at max_level
    unfrozen = ProviderPolicy(
        reserves=RESERVES.model_copy(update={"recovery": RESERVES.recovery.model_copy(update={"hiring_freeze": False})})
    )
    assert with_recovery(usual, unfrozen).hire_share == 0.02


# -- reserves closed by year -------------------------------------------------------------------


def hand_ledger() -> pd.DataFrame:
    """Two replications, 24 months; income 100 a month, cost 110 in year 1 and 95 in year 2 (rep 0)."""
    rows = []
    for rep in (0, 1):
        for m in range(24):
            cost = (110.0 if m < 12 else 95.0) if rep == 0 else 130.0
            rows.append({"replication": rep, "contract_year": m // 12 + 1, "income_gbp": 100.0, "cost_gbp": cost})
    return pd.DataFrame(rows)


def test_reserves_identity_every_year() -> None:
    by_year = reserves_by_year(hand_ledger(), 50.0)
    # Worked by hand: rep 0 year 1 net 12 × (100 − 110) = −120 → 50 − 120 = −70; year 2 net +60 → −10.
    rep0 = by_year[by_year["replication"] == 0].reset_index(drop=True)
    assert rep0["deficit_gbp"].tolist() == [120.0, 0.0]
    assert rep0["surplus_gbp"].tolist() == [0.0, 60.0]
    assert rep0["closing_gbp"].tolist() == [-70.0, -10.0]
    # The identity, exactly, every year, and each year opens with the last one's closing.
    assert (by_year["opening_gbp"] + by_year["surplus_gbp"] - by_year["deficit_gbp"] == by_year["closing_gbp"]).all()
    for _, rows in by_year.groupby("replication"):
        assert rows["opening_gbp"].iloc[1:].tolist() == rows["closing_gbp"].iloc[:-1].tolist()


def test_outcomes_from_the_year_table_and_decisions() -> None:
    by_year = reserves_by_year(hand_ledger(), 50.0)
    months = pd.date_range("2025-04-01", periods=24, freq="MS")
    status = ["normal"] * 15 + ["failed"] * 9  # rep 1 hands the contract back in month 15 (year 2)
    decisions = pd.DataFrame(
        {
            "replication": np.repeat([0, 1], 24),
            "month": np.tile(months, 2),
            "reserve_status": ["normal"] * 24 + status,
        }
    )
    out = reserve_outcomes(by_year, decisions).set_index("replication")
    assert out.loc[0, "first_deficit_year"] == 1.0
    assert out.loc[0, "reserves_out_year"] == 1.0  # closes year 1 at −70
    assert not out.loc[0, "failed"]
    assert out.loc[1, "failed"]
    assert out.loc[1, "failure_month"] == pd.Timestamp("2026-07-01")
    assert out.loc[1, "failure_year"] == 2.0
    rates = failure_rates(out.reset_index())
    assert rates.loc[0, "failures"] == 1
    assert rates.loc[0, "failure_rate"] == 0.5


def test_wilson_interval() -> None:
    z2 = 1.959963984540054**2
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(z2 / (10 + z2), abs=1e-12)  # closed form at p = 0
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == pytest.approx((0.2366, 0.7634), abs=1e-4)  # Newcombe (1998), table I


# -- re-tendering's schedule ------------------------------------------------------------------


def test_relet_schedule_and_value_factor() -> None:
    config = Retendering(every_years=3, bid_value_share=0.9, transition_months=2)
    assert relet_months(config, 120) == [36, 72, 108]
    years = np.arange(1, 11)
    # Years 1–3: the original value; 4–6 one re-let; 7–9 two; 10 three.
    assert value_factor(years, config).tolist() == pytest.approx([1, 1, 1, 0.9, 0.9, 0.9, 0.81, 0.81, 0.81, 0.729])
    starts = np.arange(0, 121) * 30
    assert transition_days(config, starts) == [(1080, 1140), (2160, 2220), (3240, 3300)]


class _Service:
    """The parts of the service a passive re-let touches: rostered minutes, overtime cap, staff in post."""

    def __init__(self, n_days: int) -> None:
        self.visit_minutes = np.full((n_days, 1, 1), 100.0)
        self.overtime_minutes_cap = np.full((n_days, 1, 1), 10.0)
        self.fte_scale = 1.0
        self.changes: list[tuple[float, float]] = []

    def change_fte(self, share: float) -> None:
        self.fte_scale += share
        self.changes.append((float(self._env.now), share))


def test_passive_relets_transition_and_staff_turnover() -> None:
    """Re-let every year over 3 years of 30-day months: months 12 and 24. Transition of 2 months at
    40% lost: days 360–419 and 720–779 keep 60% of their minutes. 25% of staff leave at day 360 and
    return after round(3 × 30.4375) = 91 days (day 451); at day 720, 25% of the 1.0 then in post."""
    starts = np.arange(0, 37) * 30
    calendar = SimpleNamespace(month_start_day=starts, n_months=36)
    config = Retendering(
        every_years=1, transition_months=2, transition_productivity_loss_share=0.4, staff_lost_share=0.25
    )
    service = _Service(int(starts[-1]))
    env = simpy.Environment()
    service._env = env
    start_passive_relets(env, config, calendar, service, hiring_lag_months=3)  # type: ignore[arg-type]
    env.run(until=int(starts[-1]))
    minutes = service.visit_minutes[:, 0, 0]
    low = np.zeros(len(minutes), dtype=bool)
    low[360:420] = low[720:780] = True
    assert np.allclose(minutes[low], 60.0)
    assert np.allclose(minutes[~low], 100.0)
    assert np.allclose(service.overtime_minutes_cap[low, 0, 0], 6.0)
    assert service.changes == [(360.0, -0.25), (451.0, 0.25), (720.0, -0.25), (811.0, 0.25)]
    assert service.fte_scale == pytest.approx(1.0)


def test_passive_relets_at_no_cost_touch_nothing() -> None:
    starts = np.arange(0, 25) * 30
    service = _Service(int(starts[-1]))
    env = simpy.Environment()
    service._env = env
    calendar = SimpleNamespace(month_start_day=starts, n_months=24)
    start_passive_relets(env, Retendering(every_years=1), calendar, service, 3)  # type: ignore[arg-type]
    env.run(until=int(starts[-1]))
    assert (service.visit_minutes == 100.0).all()
    assert (service.overtime_minutes_cap == 10.0).all()
    assert service.changes == []


# -- located errors ----------------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example.yaml"


def with_policy_lines(lines: str) -> str:
    text = EXAMPLE.read_text()
    anchor = "provider_policy:"
    head, tail = text.split(anchor, 1)
    first, rest = tail.split("\n", 1)
    return f"{head}{anchor}{first}\n{lines}{rest}"


@pytest.mark.parametrize(
    ("lines", "field", "words"),
    [
        (
            "  reserves: {opening_gbp: 1000, recovery_threshold_gbp: 0, failure_floor_gbp: 10}\n",
            "provider_policy.reserves",
            "failure_floor_gbp",
        ),
        (
            "  reserves: {opening_gbp: 1000, failure_floor_gbp: 0, overdraft: 1}\n",
            "provider_policy.reserves.overdraft",
            "",
        ),
        ("  reserves: {opening_gbp: 1000}\n", "provider_policy.reserves.failure_floor_gbp", ""),
        ("  retendering: {every_years: 0}\n", "provider_policy.retendering.every_years", ""),
        (
            "  retendering: {every_years: 3, staff_lost_share: 1.5}\n",
            "provider_policy.retendering.staff_lost_share",
            "",
        ),
    ],
)
def test_bad_sections_are_located(lines: str, field: str, words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(with_policy_lines(lines), "example.yaml")
    problems = info.value.problems
    assert any(p.field == field and p.file == "example.yaml" and p.line is not None for p in problems), problems
    assert words in str(info.value)


def test_passive_with_reserves_is_refused() -> None:
    text = with_policy_lines("  reserves: {opening_gbp: 1000, failure_floor_gbp: 0}\n").replace(
        "mode: responsive", "mode: passive"
    )
    with pytest.raises(ScenarioError, match="responsive"):
        load_scenario_text(text, "example.yaml")


# -- the decisions table -----------------------------------------------------------------------


def test_decision_table_has_reserve_columns_only_with_reserves() -> None:
    from types import SimpleNamespace

    from fundsim.sim.decisions import COLUMNS, decision_table

    calendar = SimpleNamespace(n_months=3, month_starts=list(pd.date_range("2025-04-01", periods=3, freq="MS")))
    ends = [(m, 1.0, 0.6, 0) for m in range(3)]
    plain = decision_table(calendar, ends, [(0, Decision(False, True, 0.0, 0.0, 0.6, 0))], 0)  # type: ignore[arg-type]
    assert list(plain.columns) == list(COLUMNS)
    reviews = [
        (0, Decision(False, True, 0.0, 0.0, 0.6, 0, reserves_gbp=-5.0, reserve_status="recovery")),
        (1, Decision(False, True, 0.0, 0.0, 0.6, 0, reserves_gbp=-9.0, reserve_status="failed")),
    ]
    table = decision_table(calendar, ends, reviews, 0)  # type: ignore[arg-type]
    # A review at the start of month m + 1 reads month m: the first month has none.
    assert np.isnan(table["reserves_gbp"].iloc[0])
    assert table["reserves_gbp"].iloc[1:].tolist() == [-5.0, -9.0]
    assert table["reserve_status"].tolist() == ["normal", "recovery", "failed"]
