"""The virtual ward beside the core service: the limits issue 17 sets, on whole runs.

* without the section the ledger has no ward column and is unchanged (the seeded back test pins it too);
* a ward with no demand, shared staffing, changes nothing in the core;
* a dedicated ward whose people come from outside the caseload (GP step-ups, step-downs) changes no
  core number (common random numbers: every core column bit-identical);
* a ward with no places refuses every caseload step-up, and then too the core is unchanged: the
  refusals are exactly the caseload's admissions;
* a shared ward in a service with no slack takes from the core exactly the time the core then does
  not deliver (within the fragment of a visit left over in a day);
* the hazard reduction while on the ward lowers the admissions of the people on it (paired runs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import small_dict

from fundsim.errors import ScenarioError
from fundsim.scenario import load_scenario
from fundsim.scenario.models import Scenario
from fundsim.sim import simulate
from fundsim.sim.virtual_ward import VW_METRICS

#: The ward's columns that count activity (everything but its capacity and a dedicated team's cost).
ACTIVITY = tuple(c for c in VW_METRICS if c not in ("vw_places_days", "vw_cost_gbp"))


def _scenario(
    ward: dict | None,
    fte_scale: float = 1.0,
    population: int = 30_000,
    one_grade: bool = False,
    hazard_scale: float = 1.0,
) -> Scenario:
    d = small_dict(population=population, years=1.0, warmup_days=30)
    d["provider_policy"]["mode"] = "passive"  # the same levers in both runs: only the add-on differs
    for g in d["workforce"]["grades"]:
        g["fte"] = round(g["fte"] * fte_scale, 3)
    if one_grade:  # one grade makes every visit: no grade can have slack while another is short
        grades = d["workforce"]["grades"]
        only = {**grades[0], "fte": round(sum(g["fte"] for g in grades), 3)}
        d["workforce"]["grades"] = [only]
        for tier in d["tiers"]:
            tier["allowed_grades"] = [only["name"]]
    for tier in d["tiers"]:
        tier["daily_admission_hazard"] = tier["daily_admission_hazard"] * hazard_scale
    if ward is not None:
        d["addons"] = {"virtual_ward": ward}
    return Scenario.model_validate(d)


def _core(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger.drop(columns=[c for c in VW_METRICS if c in ledger])


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return simulate(_scenario(None), 0).ledger


def test_without_the_section_there_is_no_ward(base: pd.DataFrame) -> None:
    assert not [c for c in base if c.startswith("vw_")]
    empty = simulate(Scenario.model_validate({**_scenario(None).model_dump(), "addons": {}}), 0).ledger
    pd.testing.assert_frame_equal(empty, base, check_exact=True)


def test_a_shared_ward_without_demand_changes_nothing(base: pd.DataFrame) -> None:
    idle = {"staffing": "shared", "step_up_share": 0.0, "gp_step_ups_per_100k_per_month": 0.0, "step_down_share": 0.0}
    ledger = simulate(_scenario(idle), 0).ledger
    for col in ACTIVITY:
        assert (ledger[col] == 0).all(), col
    assert (ledger["vw_cost_gbp"] == 0).all()  # shared: no team of its own, and no bank time
    # 19.7 places per 100,000 people, rounded: 6 places for 30,000, every day of every month.
    np.testing.assert_array_equal(ledger["vw_places_days"], 6 * ledger["days"])
    pd.testing.assert_frame_equal(_core(ledger), base, check_exact=True)


def test_a_dedicated_ward_from_outside_the_caseload_changes_no_core_number(base: pd.DataFrame) -> None:
    ward = {"staffing": "dedicated", "step_up_share": 0.0, "gp_step_ups_per_100k_per_month": 150.0,
            "step_down_share": 0.5, "places_per_locality": 20}  # fmt: skip
    ledger = simulate(_scenario(ward), 0).ledger
    assert ledger["vw_admissions_step_up_gp"].sum() > 300
    assert ledger["vw_admissions_step_down"].sum() > 20
    assert ledger["vw_staff_minutes"].sum() > 0
    assert (ledger["vw_core_minutes"] == 0).all()
    # A dedicated team is paid for every place: 20 × 75 minutes a day at the top tier's grades' mean rate.
    assert ledger["vw_cost_gbp"].sum() > 0
    # Each step-down saves at most step_down_days_saved (2.9) days.
    assert ledger["vw_bed_days_saved_step_down"].sum() <= 2.9 * ledger["vw_admissions_step_down"].sum() + 1e-9
    pd.testing.assert_frame_equal(_core(ledger), base, check_exact=True)


def test_a_ward_without_places_refuses_every_caseload_step_up(base: pd.DataFrame) -> None:
    ward = {"places_per_locality": 0, "step_up_share": 1.0, "gp_step_ups_per_100k_per_month": 0.0,
            "step_down_share": 0.0}  # fmt: skip
    ledger = simulate(_scenario(ward), 0).ledger
    # Every admission due from the caseload is offered to the ward, and refused: the person goes to
    # hospital at the same moment, so the months match too.
    np.testing.assert_array_equal(ledger["vw_refused_full"], base["admissions_from_caseload"])
    assert ledger["vw_admissions_step_up"].sum() == 0
    pd.testing.assert_frame_equal(_core(ledger), base, check_exact=True)


def test_caseload_step_ups_avoid_admissions() -> None:
    """Every caseload admission stepped up, none escalated: each is avoided, and its stay is the bed-days saved."""
    none = simulate(_scenario(None, hazard_scale=4.0), 0).ledger
    ward = {"places_per_locality": 1000, "step_up_share": 1.0, "escalation_probability": 0.0,
            "gp_step_ups_per_100k_per_month": 0.0, "step_down_share": 0.0, "admission_relative_risk": 0.0}  # fmt: skip
    ledger = simulate(_scenario(ward, hazard_scale=4.0), 0).ledger
    up = ledger["vw_admissions_step_up"].sum()
    assert up > 100
    assert ledger["vw_admissions_avoided_direct"].sum() == up
    assert ledger["vw_admissions_from_ward"].sum() == 0  # no escalation, and no hazard while on the ward
    assert ledger["admissions_from_caseload"].sum() == 0  # every one was stepped up
    assert ledger["admissions"].sum() < none["admissions"].sum()


def test_the_hazard_reduction_lowers_admissions_from_the_ward() -> None:
    """Paired runs (common random numbers): the same people, with their hazard on the ward × 0, × 0.5, × 1."""
    ward = {"places_per_locality": 1000, "step_up_share": 1.0, "escalation_probability": 0.0,
            "gp_step_ups_per_100k_per_month": 0.0, "step_down_share": 0.0,
            "length_of_stay_days": {"mean": 30.0, "distribution": "fixed"}}  # fmt: skip
    from_ward = {}
    for rr in (0.0, 0.5, 1.0):
        ledger = simulate(_scenario({**ward, "admission_relative_risk": rr}, hazard_scale=8.0), 0).ledger
        assert ledger["vw_admissions_step_up"].sum() > 100
        from_ward[rr] = ledger["vw_admissions_from_ward"].sum()
    assert from_ward[0.0] == 0
    assert 0 < from_ward[0.5] < from_ward[1.0], from_ward


def test_a_shared_ward_takes_from_the_core_what_the_core_then_does_not_deliver() -> None:
    """In a service short of staff every day, the core's delivered minutes fall by the minutes the ward takes.

    GP step-ups only, so the ward's work does not depend on the core; one grade makes every visit, so
    the time taken is never time a grade would have left idle.
    """
    ward = {"staffing": "shared", "step_up_share": 0.0, "gp_step_ups_per_100k_per_month": 150.0,
            "step_down_share": 0.0, "places_per_locality": 20, "shared_cap_share": 0.5}  # fmt: skip
    base = simulate(_scenario(None, fte_scale=0.4, one_grade=True), 0).ledger
    shared = simulate(_scenario(ward, fte_scale=0.4, one_grade=True), 0).ledger
    assert base["visit_deferrals"].sum() > 0  # no slack: visits wait every day
    taken_h = shared["vw_core_minutes"].sum() / 60
    assert taken_h > 500
    np.testing.assert_allclose(
        shared["vw_core_minutes"] + shared["vw_bank_minutes"], shared["vw_staff_minutes"], rtol=1e-12
    )
    delivered_h = (base["contact_hours"] + base["travel_hours"]).sum()
    delivered_shared_h = (shared["contact_hours"] + shared["travel_hours"]).sum()
    # Whole visits are placed, so each locality-day may leave part of a visit's time unused: allow
    # 5% of the time taken for that fragment (a visit is about an hour; the days number ~365).
    assert delivered_h - delivered_shared_h == pytest.approx(taken_h, rel=0.05)
    assert shared["visit_deferrals"].sum() > base["visit_deferrals"].sum()


@pytest.mark.parametrize(
    ("ward", "where"),
    [
        ({"staffing": "part-time"}, r"addons\.virtual_ward\.staffing"),
        ({"places_per_100k": -1}, r"addons\.virtual_ward\.places_per_100k"),
        ({"step_up_share": 1.5}, r"addons\.virtual_ward\.step_up_share"),
        ({"beds": 10}, r"addons\.virtual_ward\.beds"),
        ({"funding": {"mode": "separate", "price_gbp_per_response": 10}}, r"addons\.virtual_ward"),
        ({"staff_grades": ["Band 9"]}, r"addons\.virtual_ward\.staff_grades names unknown grade"),
    ],
)
def test_bad_input_is_a_located_error(tmp_path: Path, ward: dict, where: str) -> None:
    d = small_dict()
    d["addons"] = {"virtual_ward": ward}
    path = tmp_path / "vw.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    with pytest.raises(ScenarioError, match=where):
        load_scenario(path)


def test_escalated_step_ups_are_admitted_from_the_ward() -> None:
    """With escalation certain, no step-up avoids its admission: each is admitted from the ward, later."""
    ward = {"places_per_locality": 1000, "step_up_share": 1.0, "escalation_probability": 1.0,
            "gp_step_ups_per_100k_per_month": 0.0, "step_down_share": 0.0, "admission_relative_risk": 0.0}  # fmt: skip
    ledger = simulate(_scenario(ward, hazard_scale=4.0), 0).ledger
    up = ledger["vw_admissions_step_up"].sum()
    assert up > 100
    assert ledger["vw_admissions_avoided_direct"].sum() == 0
    assert ledger["vw_bed_days_saved"].sum() == 0
    # Each escalation is a core admission from the caseload; those after the horizon are not counted.
    from_ward = ledger["vw_admissions_from_ward"].sum()
    assert up - 10 <= from_ward <= up
    assert ledger["vw_admissions_from_ward_gp"].sum() == 0  # every one is a core admission
    assert ledger["admissions_from_caseload"].sum() == from_ward
