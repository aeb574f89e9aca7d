"""The virtual ward's cheap paths give the numbers of the general ones, bit for bit (issue 17's speed limit).

The ward moves one person's hazard at a time with scalar copies of the patient table's methods, and
sums its ledger counts by (event kind, locality, month) in Python before adding them once a month.
Each is checked here against the general code it replaces, on random inputs chosen to reach every
branch (spent budgets, zero hazards, the last admission, months before and after the horizon).
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import small_dict

from fundsim.scenario.models import Scenario
from fundsim.sim.accounts import Accounts
from fundsim.sim.calendar import build_calendar
from fundsim.sim.hazard import MAX_ADMISSIONS
from fundsim.sim.patients import PatientTable
from fundsim.sim.service import ServiceModel
from fundsim.sim.streams import RandomStreams
from fundsim.sim.virtual_ward import VW_METRICS
from fundsim.sim.ward_night import V_BED_DAYS_SAVED, V_BED_DAYS_SAVED_STEP_DOWN, V_STAY_DAYS

HAZARD_COLUMNS = ("budget_left", "hazard_since_day", "multiplier", "admission_day")


def _random_table(rng: np.random.Generator, n: int) -> tuple[PatientTable, np.ndarray]:
    p = PatientTable(capacity=n)
    slots = p.allocate(n)
    c = p.cols
    c["base_hazard"][slots] = rng.uniform(0.0, 0.01, n) * (rng.random(n) > 0.1)  # some with no hazard
    c["multiplier"][slots] = rng.uniform(0.5, 2.0, n)
    c["hazard_since_day"][slots] = rng.uniform(0.0, 100.0, n)
    c["budget_left"][slots] = np.where(rng.random(n) < 0.1, np.inf, rng.exponential(0.3, n))
    c["k"][slots] = rng.integers(0, MAX_ADMISSIONS + 1, n)
    p.budgets[slots] = rng.exponential(1.0, (n, MAX_ADMISSIONS))
    p._schedule(slots)
    return p, slots


def _copy(p: PatientTable) -> PatientTable:
    q = PatientTable(capacity=p.capacity)
    q.cols = {name: col.copy() for name, col in p.cols.items()}
    q.budgets = p.budgets.copy()
    return q


def test_one_slot_set_multiplier_is_the_tables() -> None:
    rng = np.random.default_rng(3)
    p, slots = _random_table(rng, 400)
    ref = _copy(p)
    spent_before = 0
    for s in slots.tolist():
        t = float(p.cols["hazard_since_day"][s]) + float(rng.uniform(0.0, 200.0))  # some budgets run out first
        m = float(rng.uniform(0.5, 3.0))
        spent_before += int(ref.budget_at(np.array([s]), t)[0] < 0)
        ref.set_multiplier(np.array([s]), t, m)
        p.set_multiplier_one(s, t, m)
    assert spent_before > 20  # the branch that leaves a spent budget alone was reached
    for name in HAZARD_COLUMNS:
        assert p.cols[name].tobytes() == ref.cols[name].tobytes(), name


def test_one_slot_start_hazard_is_the_tables() -> None:
    rng = np.random.default_rng(4)
    p, slots = _random_table(rng, 400)
    ref = _copy(p)
    assert (p.cols["k"][slots] == MAX_ADMISSIONS).any()  # the last admission's branch (no budget left)
    for s in slots.tolist():
        t, m = float(rng.uniform(0.0, 500.0)), float(rng.uniform(0.1, 2.0))
        ref.start_hazard(np.array([s]), t, m)
        p.start_hazard_one(s, t, m)
    for name in HAZARD_COLUMNS:
        assert p.cols[name].tobytes() == ref.cols[name].tobytes(), name


#: What each kind of event adds, one each, written out from the module's docstring (the reference).
ONES = {
    0: ("vw_refused_full",),
    1: ("vw_admissions_step_up",),
    2: ("vw_admissions_step_up", "vw_admissions_avoided_direct"),
    3: ("vw_admissions_step_up", "vw_admissions_step_up_gp"),
    4: (
        "vw_admissions_step_up",
        "vw_admissions_step_up_gp",
        "vw_admissions_avoided_direct",
        "vw_admissions_avoided_gp",
    ),
    5: ("vw_admissions_step_down",),
    6: ("vw_stays_ended",),
    7: ("vw_stays_ended", "vw_admissions_from_ward"),
    8: ("vw_stays_ended", "vw_admissions_from_ward", "vw_admissions_from_ward_gp"),
}
#: The sums the ward keeps in event order, by their row in its value arrays (fundsim.sim.ward_night).
VALUES = {
    V_BED_DAYS_SAVED: "vw_bed_days_saved",
    V_STAY_DAYS: "vw_stay_days",
    V_BED_DAYS_SAVED_STEP_DOWN: "vw_bed_days_saved_step_down",
}


def _ward_scenario() -> Scenario:
    d = small_dict(population=100_000, years=1.0, warmup_days=30)
    d["addons"] = {"virtual_ward": {"places_per_locality": 3, "step_down_share": 0.0}}
    return Scenario.model_validate(d)


@pytest.mark.parametrize("seed", [0, 1])
def test_counts_summed_by_month_are_one_add_times_call_per_column(seed: int) -> None:
    """Events over months and outside the horizon, in two batches: each column's sums as add_times gives them."""
    sc = _ward_scenario()
    calendar = build_calendar(sc.simulation)
    service = ServiceModel(sc, calendar, RandomStreams(sc.simulation.seed, 0))
    ward = service.ward
    assert ward is not None
    n_loc = len(sc.localities)
    ref = Accounts(calendar, n_loc)
    ref.add_metrics(VW_METRICS)
    rng = np.random.default_rng(seed)
    for _batch in range(2):
        events: dict[str, tuple[list[int], list[float], list[float]]] = {}
        for _ in range(3000):
            kind, loc = int(rng.integers(0, 9)), int(rng.integers(0, n_loc))
            t = float(rng.uniform(-20.0, calendar.n_days + 20.0))
            values = [(row, float(rng.exponential(5.0))) for row in VALUES if rng.random() < 0.4]
            ward._count(kind, loc, t, *values)
            for name, value in [(m, 1.0) for m in ONES[kind]] + [(VALUES[row], v) for row, v in values]:
                locs, times, vals = events.setdefault(name, ([], [], []))
                locs.append(loc)
                times.append(t)
                vals.append(value)
        ward._add_ended_stays()
        for name, (locs, times, vals) in events.items():
            ref.add_times(name, np.array(locs, dtype=np.int64), np.array(times), np.array(vals))
    counted = set(VALUES.values()).union(*ONES.values())
    assert counted <= set(VW_METRICS)
    for name in counted:
        assert service.accounts.sums[name].tobytes() == ref.sums[name].tobytes(), name
        assert service.accounts.sums[name].sum() > 0, name


def test_a_quiet_night_sends_no_one_and_still_closes_the_month() -> None:
    d = small_dict(population=100_000, years=1.0, warmup_days=30)
    d["addons"] = {
        "virtual_ward": {"places_per_locality": 3, "step_down_share": 0.0, "gp_step_ups_per_100k_per_month": 0}
    }
    sc = Scenario.model_validate(d)  # no GP step-ups: nothing happens on any night
    calendar = build_calendar(sc.simulation)
    service = ServiceModel(sc, calendar, RandomStreams(sc.simulation.seed, 0))
    ward = service.ward
    assert ward is not None
    first, second = (int(d) for d in calendar.month_start_day[:2])
    ward._count(0, 0, first + 0.5)  # a refusal in the first measured month
    nobody = np.empty(0, dtype=np.int64)
    out = ward.overnight(first + 1, nobody)
    assert out.dtype == np.int64
    assert len(out) == 0
    refused = service.accounts.sums["vw_refused_full"]
    assert refused.sum() == 0.0  # not added before the month closes
    ward.overnight(second, nobody)
    assert refused[0, 0] == 1.0
    assert refused.sum() == 1.0
