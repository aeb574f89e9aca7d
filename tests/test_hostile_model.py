"""Hostile suite, the model's own state (issue 15, item 9): no allowed scenario reaches an
impossible state, and the cheap invariants run on every run.

Category ``model``. The cause found by fuzzing the provider policy within its bounds on
scenarios/tiny.yaml: rationing shortens a visit's face-to-face time by
``visit_shortening_per_level × level``; at 0.3 × 10 a visit lasted minus twice its time ("negative
minutes worked" under ``--check``, negative contact hours without it). The product is now bounded
(at most 0.9) by the schema, and the rule caps the level as a second line; the ledger invariants
(fundsim/experiment/guards.py) run after every simulation, ``--check`` or not.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace

import numpy as np
import pytest
import yaml
from hostile_kit import ROOT, invoke, judge, long_mode, write_sweep, write_tiny

import fundsim.experiment.executor as executor
import fundsim.sweep.tasks as sweep_tasks
from fundsim.scenario.loader import load_scenario
from fundsim.scenario.models import ProviderPolicy, Rationing, Scenario
from fundsim.sim import simulate
from fundsim.sim.policy import max_ration_level

LOCATED = re.compile(r":\d+:\d+: provider_policy\.rationing")
TINY_DATA = yaml.safe_load((ROOT / "scenarios" / "tiny.yaml").read_text())

#: A policy under pressure from the first review, that never hires and always rations.
PRESSED = {
    "pressure_waiting_weeks": 0,
    "pressure_missed_share": 0,
    "pressure_deferral_share": 0,
    "hiring": {"min_margin_share": 5, "surplus_headroom_share": 1},
}


def _scenario_text(rationing: dict, years: float = 1.0) -> str:
    data = yaml.safe_load((ROOT / "scenarios" / "tiny.yaml").read_text())
    data["simulation"]["horizon_years"] = years
    data["provider_policy"] = {**PRESSED, "rationing": {"only_above_funded_activity": False, **rationing}}
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.hostile("model")
@pytest.mark.parametrize(("shortening", "levels"), [(0.3, 10), (0.1, 10), (0.2, 5), (0.091, 10), (0.3, 4), (0.25, 4)])
def test_rationing_that_would_make_visits_negative_is_refused_with_a_located_message(
    request, tmp_path, shortening, levels
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(_scenario_text({"visit_shortening_per_level": shortening, "max_level": levels}))
    outcome = invoke(["validate", path])
    judge(request, outcome, [2], workdir=tmp_path, says=["visit_shortening_per_level × max_level", "at most 0.9"])
    assert LOCATED.search(outcome.stderr), outcome.stderr


@pytest.mark.hostile("model")
@pytest.mark.parametrize(("shortening", "levels"), [(0.09, 10), (0.3, 3), (0.18, 5), (0.0, 10)])
def test_the_most_rationing_allowed_runs_without_check_and_stays_possible(request, tmp_path, shortening, levels):
    path = tmp_path / "policy.yaml"
    path.write_text(_scenario_text({"visit_shortening_per_level": shortening, "max_level": levels}))
    out = tmp_path / "out"
    outcome = invoke(["run", path, "-r", "1", "-q", "-o", out])
    judge(request, outcome, [0], workdir=tmp_path)
    import pandas as pd

    ledger = pd.read_parquet(out / "ledger.parquet")
    assert (ledger.select_dtypes("number").drop(columns=["admissions_avoided"]).fillna(0) >= 0).all().all()


def _random_policy(rng: random.Random) -> dict:
    def pick(low: float, high: float) -> float:
        r = rng.random()
        return low if r < 0.2 else high if r < 0.4 else rng.uniform(low, high)

    levels = int(pick(0, 10))
    return {
        "pressure_waiting_weeks": pick(0, 520),
        "pressure_missed_share": pick(0, 1),
        "pressure_deferral_share": pick(0, 1),
        "deficit_tolerance_share": pick(0, 1),
        "hiring": {
            "step_share": pick(0, 0.5),
            "lag_months": int(pick(0, 24)),
            "max_growth_per_year": pick(0, 2),
            "min_margin_share": pick(-1, 5),
            "surplus_headroom_share": pick(0, 1),
        },
        "shedding": {"step_share": pick(0, 0.5), "lag_months": int(pick(0, 24)), "floor_share": pick(0, 1)},
        "overtime": {"max_unpaid_share": pick(0, 1), "step": pick(0, 1)},
        "rationing": {
            "max_level": levels,
            "interval_stretch_per_level": pick(0, 2),
            "visit_shortening_per_level": min(pick(0, 0.3), 0.9 / max(levels, 1)),
            "hazard_increase_per_level": pick(0, 5),
            "only_above_funded_activity": rng.random() < 0.5,
            "lowest_tier_decline_share_per_level": pick(0, 1),
        },
    }


@pytest.mark.hostile("model")
@pytest.mark.parametrize("seed", [*range(6), *(long_mode(s) for s in range(6, 60))])
def test_fuzzed_provider_policies_within_their_bounds_pass_every_check(request, seed) -> None:
    rng = random.Random(seed)
    data = {**TINY_DATA, "provider_policy": _random_policy(rng)}
    data["simulation"] = {**TINY_DATA["simulation"], "horizon_years": 1.0}
    data["contract"] = rng.choice(["block", "cost_and_volume", "capitation", "outcomes", "blended"])
    scenario = Scenario.model_validate(data)
    result = simulate(scenario, 0, check=True)  # raises InvariantError on an impossible state
    assert result.checks_run > 0
    request.node.user_properties.append(("hostile_exit", 0))


@pytest.mark.hostile("model")
def test_the_rule_caps_the_level_for_a_policy_built_without_validation(request) -> None:
    unsafe = Rationing.model_construct(
        **{**Rationing().model_dump(), "visit_shortening_per_level": 0.3, "max_level": 10}
    )
    assert max_ration_level(unsafe) == 3
    base = load_scenario(ROOT / "scenarios" / "tiny.yaml")
    raw = {**PRESSED, "mode": "responsive"}
    policy = ProviderPolicy.model_validate(raw).model_copy(update={"rationing": unsafe})
    data = base.model_dump()
    data["simulation"]["horizon_years"] = 1.0
    scenario = Scenario.model_validate({**data, "provider_policy": ProviderPolicy.model_validate(raw)})
    scenario = scenario.model_copy(update={"provider_policy": policy})
    result = simulate(scenario, 0, check=True)
    assert (result.ledger["contact_hours"] >= 0).all()
    request.node.user_properties.append(("hostile_exit", 0))


# --------------------------------------------------------------------------- the invariants on every run


def _spoiled(column: str, value: float):  # type: ignore[no-untyped-def]
    real = simulate

    def spoil(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        ledger = result.ledger.copy()
        ledger.loc[ledger.index[0], column] = value
        return replace(result, ledger=ledger)

    return spoil


SPOILS = {
    "negative-contact-hours": ("contact_hours", -3.5),
    "negative-staff-cost": ("staff_cost_gbp", -1.0),
    "nan-income-input": ("paid_hours", np.nan),
    "infinite-bed-days": ("bed_days", np.inf),
    "tiers-do-not-add-up": ("referrals_tier_low", 1e6),
    "overtime-does-not-add-up": ("unpaid_overtime_hours", 1e5),
}


@pytest.mark.hostile("model")
@pytest.mark.parametrize("cmd", ["run", "compare"])
@pytest.mark.parametrize("spoil", sorted(SPOILS))
def test_ledger_invariants_run_on_every_run(request, tmp_path, monkeypatch, cmd, spoil) -> None:
    column, value = SPOILS[spoil]
    monkeypatch.setattr(executor, "simulate", _spoiled(column, value))
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    args: list[object] = [cmd, scenario, "-r", "1", "-q", "-o", tmp_path / "out"]
    if cmd == "compare":
        args += ["--no-risk", "-c", "block", "-j", "1"]
    outcome = invoke(args)  # no --check
    judge(request, outcome, [3], workdir=tmp_path, says=["model invariant violated", "ledger check failed"])
    assert not (tmp_path / "out").exists()


@pytest.mark.hostile("model")
def test_a_sweep_run_that_breaks_an_invariant_is_recorded_as_failed(request, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sweep_tasks, "simulate", _spoiled("contact_hours", -1.0))
    sweep = write_sweep(tmp_path / "in")
    outcome = invoke(["sweep", sweep, "-q", "-j", "1", "-o", tmp_path / "out"], timeout=120)
    judge(request, outcome, [0], workdir=tmp_path, says=["failed"])
    assert "ledger check failed" in (tmp_path / "out" / "failures.csv").read_text()


@pytest.mark.hostile("model")
def test_check_still_counts_its_checks(request, tmp_path) -> None:
    outcome = invoke(["run", write_tiny(tmp_path / "tiny.yaml"), "-r", "1", "-q", "-o", tmp_path / "out", "--check"])
    judge(request, outcome, [0], workdir=tmp_path, says=["checks passed"])
