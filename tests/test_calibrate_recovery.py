"""Parameter recovery: calibrating a synthetic extract recovers the generating scenario's values.

Each fitted value must lie within its own 95% interval widened for the number of comparisons
(Bonferroni: the normal half-width scaled from z(0.975) to z(1 − 0.05 / 2m), m = comparisons across
all seeds). Three seeds; the generating scenario is scenarios/tiny.yaml at 10 times the population
(and staff), a constant complexity mix, over 24 months.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from fundsim.calibrate.fit import fit_scenario
from fundsim.calibrate.read import read_extract
from fundsim.calibrate.referral_model import Interval
from fundsim.calibrate.synth import SynthOptions, generate_extract, write_extract
from fundsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (11, 12, 13)


def generating_scenario():
    sc = load_scenario(ROOT / "scenarios/tiny.yaml")
    loc = sc.localities[0].model_copy(update={"population": 50_000})
    demand = sc.demand.model_copy(update={"complexity_mix_end": None})
    grades = [g.model_copy(update={"fte": g.fte * 10}) for g in sc.workforce.grades]
    workforce = sc.workforce.model_copy(update={"grades": grades})
    return sc.model_copy(update={"localities": [loc], "demand": demand, "workforce": workforce})


def comparisons(cal, truth) -> list[tuple[str, float, Interval]]:
    rf, mix, af = cal.referral_fit, cal.mixture, cal.admission_fit
    out = [
        ("rate_per_1000", truth.localities[0].referral_rate_per_1000_per_year, rf.rate_per_1000_per_year["Village"]),
        ("growth", truth.demand.growth_per_year, rf.growth_per_year),
        ("amplitude", truth.demand.seasonality.winter_amplitude, rf.winter_amplitude),
    ]
    profile = np.array(truth.demand.weekday_profile) / np.mean(truth.demand.weekday_profile)
    out += [(f"weekday{d}", profile[d], rf.weekday_profile[d]) for d in range(7)]
    for t_true, t_fit in zip(truth.tiers, mix.tiers, strict=True):
        name = t_true.name
        out += [
            (f"{name}.share", truth.demand.complexity_mix[name], t_fit.share),
            (f"{name}.visits", t_true.visits.mean, t_fit.visits_mean),
            (f"{name}.f2f", t_true.face_to_face_minutes.mean, t_fit.face_to_face_minutes),
            (f"{name}.assessment", t_true.assessment_minutes.mean, t_fit.assessment_minutes),
            (f"{name}.hazard", t_true.daily_admission_hazard, af.hazard_by_tier[name]),
        ]
    return out


@pytest.fixture(scope="module")
def fits(tmp_path_factory: pytest.TempPathFactory):
    truth = generating_scenario()
    out = []
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"seed{seed}")
        write_extract(generate_extract(truth, SynthOptions(months=24, seed=seed)), folder)
        out.append((seed, fit_scenario(read_extract(folder), n_tiers=3)))
    return truth, out


def test_parameters_recovered_within_bonferroni_intervals(fits) -> None:
    truth, results = fits
    rows = [(seed, *c) for seed, cal in results for c in comparisons(cal, truth)]
    m = len(rows)
    widen = stats.norm.ppf(1 - 0.05 / (2 * m)) / stats.norm.ppf(0.975)
    failures = []
    for seed, name, true, fit in rows:
        lo = fit.value - widen * (fit.value - fit.low)
        hi = fit.value + widen * (fit.high - fit.value)
        if not lo <= true <= hi:
            failures.append(
                f"seed {seed} {name}: true {true:.5g}, fitted {fit.value:.5g} ({fit.low:.5g}-{fit.high:.5g})"
            )
    assert not failures, "\n".join(failures)


def test_intervals_between_visits_are_the_planned_ones(fits) -> None:
    truth, results = fits
    for _seed, cal in results:
        assert [t.interval_days.value for t in cal.mixture.tiers] == [t.interval_days for t in truth.tiers]
        assert cal.mixture.mean_assigned_posterior > 0.9


def test_recovery_table(fits, capsys: pytest.CaptureFixture[str]) -> None:
    """Print the recovery table (true, fitted, 95% interval) of the first seed: pytest -s shows it."""
    truth, results = fits
    seed, cal = results[0]
    with capsys.disabled():
        print(f"\nrecovery, seed {seed}")
        for name, true, fit in comparisons(cal, truth):
            print(f"  {name:16s} true {true:<10.5g} fitted {fit.value:<10.5g} 95% CI {fit.low:.5g} to {fit.high:.5g}")
