"""The calibration check on the shipped extract: its source, its start, and its held-out coverage.

* the shipped extract is exactly what the documented command writes from scenarios/extract-source.yaml;
* that source's staff meet its demand (its simulated waits stay at about a day), and tiny.yaml's,
  the earlier source, do not (its waits climb): the reason the earlier extract failed the check;
* the check starts from the extract's state (the lists open at the end of its first whole month)
  and, on the shipped extract, holds the held-out months within the simulation's 95% predictive
  interval as often as chance allows (binomial bound below).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import fundsim
from fundsim.calibrate.check import DEFAULT_REPLICATIONS, check_fit, observed_monthly
from fundsim.calibrate.fit import whole_months
from fundsim.calibrate.read import read_extract
from fundsim.calibrate.synth import SynthOptions, generate_extract, write_extract
from fundsim.columns import provider_totals

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "example-extract"
SOURCE = ROOT / "scenarios" / "extract-source.yaml"


def test_shipped_extract_is_what_the_documented_command_writes(tmp_path: Path) -> None:
    # docs/calibrate.md: fundsim synth-extract scenarios/extract-source.yaml -o data/example-extract --months 24 --gzip
    tables = generate_extract(fundsim.load_scenario(SOURCE), SynthOptions(months=24, seed=20251))
    written = write_extract(tables, tmp_path, compress=True)
    assert sorted(p.name for p in SHIPPED.iterdir()) == sorted(p.name for p in written)
    for path in written:
        # gzip's header holds a time stamp: compare what the files hold.
        assert gzip.decompress(path.read_bytes()) == gzip.decompress((SHIPPED / path.name).read_bytes()), path.name
    size = sum(p.stat().st_size for p in SHIPPED.iterdir())
    assert size < 2_000_000  # the repository ships it


def _monthly_waits(path: Path, replications: int) -> pd.DataFrame:
    sc = fundsim.load_scenario(path)
    sc = sc.model_copy(
        update={
            "simulation": sc.simulation.model_copy(update={"horizon_years": 2.0, "warmup_days": 120}),
            "provider_policy": sc.provider_policy.model_copy(update={"mode": "passive"}),
        }
    )
    frames = [provider_totals(fundsim.simulate(sc, r).ledger) for r in range(replications)]
    return pd.concat(frames).groupby("month")["wait_mean_days"].mean()


def test_the_source_meets_its_demand_and_tiny_does_not() -> None:
    """A service that keeps up assesses a referral on the next day (the model assesses no earlier).

    Its mean wait is then half a day (arrivals are uniform through the day) plus the occasional
    routine assessment that slips a day: under 2 days in every month. A service short of staff
    builds a queue whose wait grows month on month: tiny.yaml's passes a week within two years.
    """
    source = _monthly_waits(SOURCE, 2)
    assert source.max() < 2.0, source.round(2).to_dict()
    tiny = _monthly_waits(ROOT / "scenarios" / "tiny.yaml", 2)
    assert tiny.iloc[-6:].mean() > 7.0, tiny.round(2).to_dict()


def test_observed_waits_are_measured_as_the_model_measures_them() -> None:
    # The generator's first contact is the day after referral: one day between the dates, less the
    # half day a referral arrives into its day on average = 0.5 in every month (referrals received
    # before the extract are left out, so the first month is not inflated by their old waits).
    extract = read_extract(SHIPPED)
    months = whole_months(extract.first_day, extract.last_day)
    observed = observed_monthly(extract, months)
    assert len(months) == 24
    np.testing.assert_allclose(observed["wait_mean_days"].to_numpy(), 0.5)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("check") / "check"
    return out, check_fit(read_extract(SHIPPED), out, replications=DEFAULT_REPLICATIONS)


@pytest.mark.slow
def test_check_starts_from_the_extracts_state(checked) -> None:
    out, result = checked
    scenario = yaml.safe_load((out / "scenario-fit-window.yaml").read_text(encoding="utf-8"))
    # The lists open at the end of the first whole month (April 2025), simulated from May to March 2027.
    assert scenario["initial_state"]["as_of"] == "2025-04-30"
    assert str(scenario["simulation"]["start_date"]) == "2025-05-01"
    assert scenario["simulation"]["warmup_days"] == 0
    assert round(scenario["simulation"]["horizon_years"] * 12) == 23
    assert sum(c["people"] for loc in scenario["initial_state"]["localities"] for c in loc.get("caseload", [])) > 0
    table = result.table
    first = table[table["month"] == "2025-04-01"]
    assert (first["side"] == "").all()
    assert first["sim_mean"].isna().all()


@pytest.mark.slow
def test_held_out_months_within_the_predictive_interval(checked) -> None:
    """Coverage on the shipped extract: misses no more than chance allows.

    39 replications give a 95% predictive interval per month (38/40); 6 held-out months × 5 measures
    are 30 comparisons, so misses are binomial(30, 0.05) if the model is right. The test fails when
    the count of misses has a chance under 1% (one-sided): binomial(30, 0.05) gives P(X ≥ 6) = 0.003
    and P(X ≥ 5) = 0.016, so at most 5 misses pass. Each measure is compared on all 6 months.
    """
    _out, result = checked
    cov = result.coverage.set_index("measure")
    assert list(cov.index) == ["referrals", "contacts", "contact_hours", "caseload_end", "wait_mean_days", "all"]
    assert (cov["months_compared"].iloc[:-1] == 6).all()
    n = int(cov.loc["all", "months_compared"])
    misses = n - int(cov.loc["all", "months_within"])
    assert cov.loc["all", "share_expected"] == pytest.approx(38 / 40)
    limit = int(stats.binom.isf(0.01, n, 0.05))  # the largest count with P(X > limit) <= 1%
    assert limit == 5
    assert misses <= limit, result.coverage.to_string()
