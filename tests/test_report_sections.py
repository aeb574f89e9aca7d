"""The report's "who absorbs" and outcomes tables: hand-made tables in, the rows the page shows out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from fundsim.report.sections import incidence_tables, outcome_rows, price_notes, wrong_way_rows


def _rows(policy: str, contract: str, deficit: float, hours: float) -> list[dict[str, object]]:
    common = {"policy": policy, "contract": contract, "source": ""}
    return [
        {
            **common,
            "bearer": "provider",
            "measure": "deficit_gbp_per_year",
            "label": "Provider deficit",
            "unit": "GBP per year",
            "against_reference": False,
            "mean": deficit,
            "ci_low": deficit * 0.9,
            "ci_high": deficit * 1.1,
        },
        {
            **common,
            "bearer": "staff",
            "measure": "unpaid_overtime_hours_per_year",
            "label": "Unpaid overtime",
            "unit": "hours per year",
            "against_reference": False,
            "mean": hours,
            "ci_low": math.nan,
            "ci_high": math.nan,
        },
    ]


INCIDENCE = pd.DataFrame(
    _rows("passive", "block", 736_000.0, 100.0)
    + _rows("passive", "cost_and_volume", 0.0, 100.0)
    + _rows("responsive", "block", 0.0, 9_344.0)
    + _rows("responsive", "cost_and_volume", 0.0, 120.0)
)


def test_a_comparison_has_a_table_per_policy_the_scenarios_first() -> None:
    first, second = incidence_tables(INCIDENCE, ["block", "cost_and_volume"], "responsive")
    assert first["title"].startswith("A provider that manages to its contract")
    assert second["title"].startswith("A provider that does not respond")
    assert first["columns"] == ["block", "cost and volume"]
    deficit, hours = first["rows"]
    assert (deficit["bearer"], deficit["label"], deficit["unit"]) == ("Provider", "Provider deficit", "£ per year")
    assert hours["cells"][0] == {"mean": "9,344", "ci": ""}  # one replication: no interval
    assert second["rows"][0]["cells"][0] == {"mean": "£736k", "ci": "£662k to £810k"}


def test_a_run_has_one_table_with_a_column_per_policy() -> None:
    [table] = incidence_tables(INCIDENCE, ["block"], "responsive")
    assert table["columns"] == ["passive provider", "responsive provider"]
    assert [c["mean"] for c in table["rows"][0]["cells"]] == ["£736k", "£0"]


def test_no_incidence_no_tables_and_prices_are_listed_once() -> None:
    assert incidence_tables(None, ["block"], "passive") == []
    valued = INCIDENCE.copy()
    valued.loc[valued["measure"] == "unpaid_overtime_hours_per_year", "source"] = "£1.00 per hour (a guess)"
    assert price_notes(valued) == ["Unpaid overtime: £1.00 per hour (a guess)"]
    assert price_notes(INCIDENCE) == []


def test_outcome_rows_are_means_and_t_intervals_over_replication_years() -> None:
    years = pd.DataFrame(
        {
            "expected": [100.0, 110.0, 90.0, 105.0],
            "observed": [95.0, 120.0, 80.0, 100.0],
            "oe_ratio": [0.95, 120 / 110, 80 / 90, 100 / 105],
            "true_avoided": [300.0, 280.0, 320.0, 310.0],
            "rewarded": [True, False, True, True],
        }
    )
    rows = {r["label"]: r for r in outcome_rows(years)}
    obs = years["observed"].to_numpy()
    half = stats.t.ppf(0.975, 3) * obs.std(ddof=1) / 2.0
    observed = rows["Observed admissions (O)"]
    assert observed["mean"] == f"{obs.mean():,.0f}"
    assert observed["ci"] == f"{obs.mean() - half:,.0f} to {obs.mean() + half:,.0f}"
    assert rows["O/E"]["mean"] == f"{np.mean(years['oe_ratio']):.3f}"
    assert rows["Contract years rewarded"]["mean"] == "75%"


def test_wrong_way_rows_leave_unseen_shares_blank() -> None:
    ww = pd.DataFrame(
        {
            "population": [25_000, 250_000],
            "expected_per_year": [210.4, 2104.0],
            "p_wrong_way": [0.41, 0.07],
            "observed_wrong_way_share": [math.nan, 0.05],
        }
    )
    assert wrong_way_rows(ww) == [
        {"population": "25,000", "expected": "210", "p_wrong_way": "41%", "seen": ""},
        {"population": "250,000", "expected": "2,104", "p_wrong_way": "7%", "seen": "5%"},
    ]
