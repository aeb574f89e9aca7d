"""The generator restates the simulator's referral curve and samplers: they must agree."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import numpy as np
import pandas as pd

from fundsim.calibrate.synth import SynthOptions, generate_extract, referral_rate_per_day, sample, sample_visit_count
from fundsim.scenario import load_scenario
from fundsim.sim.calendar import build_calendar

ROOT = Path(__file__).resolve().parents[1]


def _sim_rate():
    for module in ("fundsim.sim.referrals", "fundsim.sim.service"):
        found = getattr(importlib.import_module(module), "referral_rate_per_day", None)
        if found is not None:
            return found
    raise AssertionError("the simulator's referral_rate_per_day moved")


def test_referral_curve_matches_the_simulator() -> None:
    sc = load_scenario(ROOT / "scenarios/tiny.yaml")
    sim = sc.simulation.model_copy(update={"warmup_days": 0, "horizon_years": 2.0})
    calendar = build_calendar(sim)
    dates = pd.date_range(sim.start_date, periods=calendar.n_days, freq="D")
    ours = referral_rate_per_day(sc, dates, 0, sim.start_date)
    np.testing.assert_allclose(ours, _sim_rate()(sc, calendar, 0), rtol=1e-12)


def test_samplers_match_the_simulator() -> None:
    from fundsim.sim import sampling

    sc = load_scenario(ROOT / "scenarios/tiny.yaml")
    tier = sc.tiers[1]
    a = sample(tier.face_to_face_minutes, np.random.default_rng(1), 1000)
    b = sampling.sample(tier.face_to_face_minutes, np.random.default_rng(1), 1000)
    np.testing.assert_array_equal(a, b)
    c = sample_visit_count(tier.visits, np.random.default_rng(2), 1000)
    d = sampling.sample_visit_count(tier.visits, np.random.default_rng(2), 1000)
    np.testing.assert_array_equal(c, d)


def test_same_seed_same_extract() -> None:
    sc = load_scenario(ROOT / "scenarios/tiny.yaml")
    a = generate_extract(sc, SynthOptions(months=3, seed=4, start_date=dt.date(2025, 4, 1)))
    b = generate_extract(sc, SynthOptions(months=3, seed=4, start_date=dt.date(2025, 4, 1)))
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
