"""The report's year-by-year tables against the ledger summed by contract year another way.

A hand-made results folder (random numbers from a fixed seed: two contracts, three replications,
two localities, 24 months) is summed with plain loops and boolean masks, independently of the
group-bys the tables use; the tables must agree to rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fundsim.report import years
from fundsim.report.results import ResultsFolder
from fundsim.report.years_figures import absorbed_figure, reserves_figure, service_years_figure, years_figure

CONTRACTS = ("block", "cost_and_volume")
REPS = (0, 1, 2)
LOCALITIES = ("North", "South")
MONTHS = pd.date_range("2025-04-01", periods=24, freq="MS")


def folder(reserves: dict | None = None, n_months: int = 24) -> ResultsFolder:
    rng = np.random.default_rng(7)
    ledger_rows, provider_rows = [], []
    for contract in CONTRACTS:
        for rep in REPS:
            for m, month in enumerate(MONTHS[:n_months]):
                year = m // 12 + 1
                locs = []
                for loc in LOCALITIES:
                    row = {
                        "contract": contract,
                        "replication": rep,
                        "locality": loc,
                        "month": month,
                        "contract_year": year,
                        "assessments": float(rng.integers(0, 40)),
                        "wait_mean_days": float(rng.uniform(1, 30)),
                        "visits_missed": float(rng.integers(0, 9)),
                        "admissions": float(rng.integers(0, 6)),
                        "waiting_list_end": float(rng.integers(0, 100)),
                    }
                    locs.append(row)
                ledger_rows += locs
                income, cost = float(rng.uniform(90, 110)), float(rng.uniform(90, 120))
                provider_rows.append(
                    {
                        "contract": contract,
                        "replication": rep,
                        "month": month,
                        "contract_year": year,
                        "income_gbp": income,
                        "cost_gbp": cost,
                        "surplus_gbp": income - cost,
                        "delivered_activity": float(rng.integers(50, 80)),
                        "contracted_activity": 60.0,
                        "funded_activity": 60.0,
                        "unpaid_overtime_hours": float(rng.uniform(0, 10)),
                    }
                )
    scenario = {"provider_policy": {"reserves": reserves}} if reserves else {}
    return ResultsFolder(
        path=Path("hand-made"),
        kind="compare",
        manifest={},
        scenario=scenario,
        contracts=CONTRACTS,
        baseline="block",
        summary=pd.DataFrame(),
        replications=pd.DataFrame(),
        provider=pd.DataFrame(provider_rows),
        ledger=pd.DataFrame(ledger_rows),
    )


def by_loops(f: ResultsFolder, contract: str, year: int) -> dict[str, float]:
    """The ``years`` table's means for (contract, year), from masks and loops over replications."""
    out: dict[str, list[float]] = {}
    for rep in REPS:
        p = f.provider
        pm = (p["contract"] == contract) & (p["replication"] == rep) & (p["contract_year"] == year)
        led = f.ledger
        lm = (led["contract"] == contract) & (led["replication"] == rep) & (led["contract_year"] == year)
        rows = led[lm]
        last = rows["month"].max()
        values = {
            "income_gbp": p.loc[pm, "income_gbp"].sum(),
            "cost_gbp": p.loc[pm, "cost_gbp"].sum(),
            "delivered_activity": p.loc[pm, "delivered_activity"].sum(),
            "admissions": rows["admissions"].sum(),
            "visits_missed": rows["visits_missed"].sum(),
            "wait_mean_days": (rows["wait_mean_days"] * rows["assessments"]).sum() / rows["assessments"].sum(),
            "waiting_list_end": rows.loc[rows["month"] == last, "waiting_list_end"].sum(),
        }
        for key, value in values.items():
            out.setdefault(key, []).append(float(value))
    return {k: float(np.mean(v)) for k, v in out.items()}


def test_years_table_equals_the_ledger_summed_by_year() -> None:
    f = folder()
    table = years.years_table(f)
    assert table is not None
    frame = table.frame
    assert list(frame["contract"]) == ["block", "block", "cost_and_volume", "cost_and_volume"]
    for row in frame.itertuples():
        expected = by_loops(f, row.contract, row.contract_year)
        for key, value in expected.items():
            assert getattr(row, key) == pytest.approx(value, rel=1e-12), (row.contract, row.contract_year, key)
        assert row.income_gbp_ci_low <= row.income_gbp <= row.income_gbp_ci_high
    assert table.units["income_gbp"] == "GBP per year"


def test_absorbed_cumulates_each_years_deficit() -> None:
    f = folder()
    table = years.absorbed_by_year(f)
    assert table is not None
    frame = table.frame.set_index(["contract", "contract_year"])
    p = f.provider
    for contract in CONTRACTS:
        running = []
        for rep in REPS:
            total = 0.0
            per_year = []
            for year in (1, 2):
                m = (p["contract"] == contract) & (p["replication"] == rep) & (p["contract_year"] == year)
                total += max(0.0, p.loc[m, "cost_gbp"].sum() - p.loc[m, "income_gbp"].sum())
                per_year.append(total)
            running.append(per_year)
        means = np.mean(running, axis=0)
        for year in (1, 2):
            assert frame.loc[(contract, year), "provider_deficit_gbp"] == pytest.approx(means[year - 1], rel=1e-12)


def test_one_year_has_no_year_tables() -> None:
    f = folder(n_months=12)
    assert years.years_table(f) is None
    assert years.absorbed_by_year(f) is None


def test_reserves_tables_only_with_reserves() -> None:
    assert years.reserves_table(folder()) is None
    assert years.failures_table(folder()) is None
    config = {"opening_gbp": 100.0, "recovery_threshold_gbp": 0.0, "failure_floor_gbp": -50.0}
    f = folder(config)
    table = years.reserves_table(f)
    assert table is not None
    frame = table.frame
    assert np.allclose(frame["opening_gbp"] + frame["surplus_gbp"] - frame["deficit_gbp"], frame["closing_gbp"])
    # Year 2 opens where year 1 closed (means over the same replications).
    for contract in CONTRACTS:
        rows = frame[frame["contract"] == contract]
        assert rows["opening_gbp"].iloc[1] == pytest.approx(rows["closing_gbp"].iloc[0], rel=1e-12)
    failures = years.failures_table(f)
    assert failures is not None
    assert (failures.frame["failures"] == 0).all()  # no decisions recorded: nobody handed the contract back


def test_figures_draw_from_the_tables() -> None:
    config = {"opening_gbp": 100.0, "recovery_threshold_gbp": 0.0, "failure_floor_gbp": -50.0}
    f = folder(config)
    y, a, r = years.years_table(f), years.absorbed_by_year(f), years.reserves_table(f)
    assert y is not None
    assert a is not None
    assert r is not None
    for fig in (
        years_figure(y.frame, CONTRACTS),
        absorbed_figure(a.frame, CONTRACTS),
        reserves_figure(r.frame, CONTRACTS),
        service_years_figure(y.frame, CONTRACTS),
    ):
        assert fig.axes


#: Monthly provider-table columns of the patients' and hospital's side.
PEOPLE_COLUMNS = (
    "waiting_list_days",
    "referrals_declined",
    "visits_missed",
    "visit_deferrals",
    "visit_minutes_cut",
    "admissions",
    "hospital_cost_gbp",
    "hospital_cost_borne_gbp",
)


def with_people(f: ResultsFolder, valuation: dict | None = None) -> ResultsFolder:
    """``f`` with the patients' and hospital's monthly columns (fixed seed), and optional valuation prices."""
    from dataclasses import replace

    rng = np.random.default_rng(11)
    provider = f.provider.copy()
    n = len(provider)
    for col in PEOPLE_COLUMNS:
        provider[col] = rng.integers(0, 500, n).astype(float)
    provider["hospital_cost_borne_gbp"] = np.where(
        provider["contract"] == "block", 0.0, provider["hospital_cost_gbp"] / 4
    )
    scenario = dict(f.scenario)
    if valuation:
        scenario["valuation"] = valuation
    return replace(f, provider=provider, scenario=scenario)


def cumulated_by_loops(f: ResultsFolder, contract: str, value: Callable[[pd.Series], float]) -> list[float]:
    """Mean over replications of Σ_{years ≤ y} Σ_months value(row), for y = 1, 2 (plain loops)."""
    p = f.provider
    running = []
    for rep in REPS:
        total, per_year = 0.0, []
        for year in (1, 2):
            m = (p["contract"] == contract) & (p["replication"] == rep) & (p["contract_year"] == year)
            total += sum(value(row) for _, row in p[m].iterrows())
            per_year.append(total)
        running.append(per_year)
    return list(np.mean(running, axis=0))


def test_absorbed_patients_and_hospital_cumulate_by_year() -> None:
    """Patients' waits, declines and missed visits, and the hospital's admissions and the cost the
    commissioner pays (hospital cost − the part the provider bears), cumulated from year 1."""
    f = with_people(folder())
    table = years.absorbed_by_year(f)
    assert table is not None
    frame = table.frame.set_index(["contract", "contract_year"])
    assert "patients_valued_gbp" not in frame  # no valuation prices: natural units only
    checks = {
        "patients_wait_days": lambda r: r["waiting_list_days"],
        "patients_declined": lambda r: r["referrals_declined"],
        "patients_visits_missed": lambda r: r["visits_missed"],
        "hospital_admissions": lambda r: r["admissions"],
        "hospital_cost_gbp": lambda r: r["hospital_cost_gbp"] - r["hospital_cost_borne_gbp"],
    }
    for contract in CONTRACTS:
        for col, value in checks.items():
            expected = cumulated_by_loops(f, contract, value)
            for year in (1, 2):
                assert frame.loc[(contract, year), col] == pytest.approx(expected[year - 1], rel=1e-12), (col, year)
    assert table.units["patients_wait_days"] == "person-days cumulated"
    assert table.units["hospital_cost_gbp"] == "GBP cumulated"
    # Reading order: provider, staff (absent: the hand-made scenario does not validate), patients, hospital.
    values = [c for c in frame.columns if not c.endswith(("_ci_low", "_ci_high"))]
    assert values == [
        "provider_deficit_gbp",
        "patients_wait_days",
        "patients_declined",
        "patients_visits_missed",
        "hospital_admissions",
        "hospital_cost_gbp",
    ]


def test_absorbed_patients_valued_at_the_scenario_prices() -> None:
    """£2 a person-day waiting, £30 a referral declined, £15 a missed visit (no deferral or minute price)."""
    valuation = {
        "wait_day": {"gbp": 2.0, "source": "test"},
        "declined_referral": {"gbp": 30.0, "source": "test"},
        "missed_visit": {"gbp": 15.0, "source": "test"},
    }
    f = with_people(folder(), valuation)
    table = years.absorbed_by_year(f)
    assert table is not None
    frame = table.frame.set_index(["contract", "contract_year"])
    for contract in CONTRACTS:
        expected = cumulated_by_loops(
            f,
            contract,
            lambda r: 2.0 * r["waiting_list_days"] + 30.0 * r["referrals_declined"] + 15.0 * r["visits_missed"],
        )
        for year in (1, 2):
            assert frame.loc[(contract, year), "patients_valued_gbp"] == pytest.approx(expected[year - 1], rel=1e-12)
    fig = absorbed_figure(table.frame, CONTRACTS)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == [
        "Provider: deficits, cumulated",
        "Patients: waits, declines, missed visits (valued), cumulated",
        "Hospital: emergency admissions' cost, cumulated",
    ]


def test_failure_notes_say_the_failures_table_in_words() -> None:
    from fundsim.report.years_figures import failure_notes

    failures = pd.DataFrame(
        {
            "contract": ["block", "cost_and_volume"],
            "replications": [5, 5],
            "failures": [2, 0],
            "ci_low": [0.1176, 0.0],
            "ci_high": [0.7693, 0.4345],
            "median_first_deficit_year": [2.0, np.nan],
            "median_reserves_out_year": [4.0, np.nan],
            "share_run_out": [0.6, 0.0],
        }
    )
    notes = failure_notes(failures)
    assert notes["block"] == "first deficit year 2, reserves out year 4 in 60% of runs, failed 2/5, 95% CI 12%–77%"
    assert notes["cost_and_volume"] == "first deficit never, reserves out never, failed 0/5, 95% CI 0%–43%"
    assert failure_notes(None) == {}
    config = {"opening_gbp": 100.0, "recovery_threshold_gbp": 0.0, "failure_floor_gbp": -50.0}
    f = folder(config)
    table, fails = years.reserves_table(f), years.failures_table(f)
    assert table is not None
    assert fails is not None
    fig = reserves_figure(table.frame, CONTRACTS, fails.frame)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert any(label.startswith("block (first deficit") and "failed 0/3" in label for label in labels), labels
