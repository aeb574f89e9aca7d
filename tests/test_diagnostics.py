"""After-run warnings on hand-made ledgers whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
from builders import build, example_dict

from fundsim.experiment.diagnostics import (
    growing_waiting_list,
    too_few_replications,
    waits_beyond_follow_up,
    warmup_too_short,
)


def _ledger(waiting: np.ndarray, caseload: np.ndarray, replications: int = 2, seed: int = 0) -> pd.DataFrame:
    """Two localities splitting each month's lists evenly; 30-day months; a little noise per replication."""
    rng = np.random.default_rng(seed)
    rows = []
    months = pd.date_range("2025-04-01", periods=waiting.size, freq="MS")
    for rep in range(replications):
        for m, month in enumerate(months):
            for loc in ("A", "B"):
                rows.append(
                    {
                        "replication": rep,
                        "locality": loc,
                        "month": month,
                        "days": 30.0,
                        "waiting_list_days": 30.0 * waiting[m] / 2 * (1 + 0.01 * rng.standard_normal()),
                        "caseload_days": 30.0 * caseload[m] / 2 * (1 + 0.01 * rng.standard_normal()),
                    }
                )
    return pd.DataFrame(rows)


def test_a_steadily_growing_waiting_list_is_warned_with_its_slope() -> None:
    months = np.arange(36)
    warning = growing_waiting_list(_ledger(100 + 20.0 * months, np.full(36, 3000.0)))
    assert warning is not None
    assert "about 20 people a month" in warning


def test_a_stable_waiting_list_is_not() -> None:
    rng = np.random.default_rng(1)
    assert growing_waiting_list(_ledger(200 + 10 * rng.standard_normal(36), np.full(36, 3000.0))) is None
    # Growing but only a little (10% over the horizon): not "without bound".
    assert growing_waiting_list(_ledger(np.linspace(200, 220, 36), np.full(36, 3000.0))) is None


def test_a_caseload_still_filling_means_the_warm_up_was_short() -> None:
    months = np.arange(36)
    filling = 3000.0 * (1 - np.exp(-months / 3.0)) + 100
    warning = warmup_too_short(_ledger(np.full(36, 100.0), filling))
    assert warning is not None
    assert "warmup_days" in warning
    assert warmup_too_short(_ledger(np.full(36, 100.0), np.full(36, 3000.0))) is None


def test_replications_advice_follows_one_over_root_n_by_hand() -> None:
    # 90 and 110: mean 100, sd 14.142, t(0.975, 1) = 12.706: half-width 127.06, ±127% of the mean.
    # Reaching ±5% needs n × (1.2706 / 0.05)² = 2 × 645.8 → 1,292 replications.
    per_rep = pd.DataFrame({"replication": [0, 1], "admissions_per_year": [90.0, 110.0]})
    (warning,) = too_few_replications(per_rep, ["admissions_per_year"])
    assert "±127% of its mean" in warning
    assert "about 1,292 replications" in warning
    tight = pd.DataFrame({"replication": range(5), "admissions_per_year": [100.0, 101.0, 99.0, 100.5, 99.5]})
    assert too_few_replications(tight, ["admissions_per_year"]) == []


def test_waits_longer_than_the_follow_up_window_are_warned() -> None:
    scenario = build(example_dict())  # follow-up 60 days
    provider = pd.DataFrame({"assessments": [100.0, 300.0], "wait_p90_days": [40.0, 100.0]})
    warning = waits_beyond_follow_up(provider, scenario)
    assert warning is not None
    assert "85 days" in warning  # (40 × 100 + 100 × 300) / 400
    provider["wait_p90_days"] = [10.0, 20.0]
    assert waits_beyond_follow_up(provider, scenario) is None
