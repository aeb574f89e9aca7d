"""`fundsim report`: tables, figures, headline, HTML, files, escaping and error handling.

Figure functions are tested on small hand-made tables (what is drawn is read back from the artists);
tables and the headline are checked against numbers computed here from the results files, by a
different route; the HTML is parsed, not searched.
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.dates import date2num
from matplotlib.patches import Rectangle
from scipy import stats
from test_report_data import compare_folder, copy_of, invoke, run_folder

from fundsim import __version__
from fundsim.report import figure_kit, figures, headline, style, tables
from fundsim.report.catalogue import FIGURES
from fundsim.report.results import load_results

MONTHS = pd.date_range("2025-04-01", periods=6, freq="MS")
CONTRACTS = ("block", "cost_and_volume")


# --- figures, on hand-made tables ------------------------------------------------------------------


def _activity() -> pd.DataFrame:
    rows = []
    for contract, delivered in (
        ("block", [90.0, 120.0, 135.0, 100.0, 80.0, 150.0]),
        ("cost_and_volume", [100.0, 110.0, 100.0, 95.0, 105.0, 100.0]),
    ):
        for month, d in zip(MONTHS, delivered, strict=True):
            rows.append({"contract": contract, "month": month, "contracted": 100.0, "delivered": d})
    frame = pd.DataFrame(rows)
    frame["delivered_ci_low"] = frame["delivered"] - 5.0
    frame["delivered_ci_high"] = frame["delivered"] + 5.0
    return frame


def _gap_heights(collection: PolyCollection) -> dict[float, float]:
    """Height of a fill_between polygon at each x: max − min of its vertices there."""
    vertices = np.concatenate([p.vertices for p in collection.get_paths()])
    out: dict[float, float] = {}
    for x in np.unique(vertices[:, 0]):
        ys = vertices[vertices[:, 0] == x, 1]
        out[float(x)] = float(ys.max() - ys.min())
    return out


def test_activity_figure_shades_delivered_minus_contracted() -> None:
    activity = _activity()
    fig = figures.activity_figure(activity)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["block", "cost and volume"]
    for ax, contract in zip(visible, CONTRACTS, strict=True):
        gaps = [c for c in ax.collections if c.get_gid() == figures.UNFUNDED_GID]
        assert len(gaps) == 1
        rows = activity[activity["contract"] == contract]
        expected = dict(
            zip(
                date2num(rows["month"]),
                np.maximum(rows["delivered"] - rows["contracted"], 0.0),
                strict=True,
            )
        )
        assert _gap_heights(gaps[0]) == pytest.approx(expected)
        # The gap starts at the contracted line: its lowest vertex is the contracted value.
        assert gaps[0].get_paths()[0].vertices[:, 1].min() == pytest.approx(100.0)
        # The delivered line is drawn in the contract's colour.
        lines = [ln for ln in ax.get_lines() if ln.get_color() == style.CONTRACT_COLOURS[contract]]
        assert lines
        assert list(lines[0].get_ydata()) == list(rows["delivered"])


def _per_contract(measure: str, means: list[float], half: list[float]) -> pd.DataFrame:
    m, h = np.array(means), np.array(half)
    return pd.DataFrame(
        {"contract": list(CONTRACTS), measure: m, f"{measure}_ci_low": m - h, f"{measure}_ci_high": m + 2 * h}
    )


def _error_segments(ax: object) -> list[tuple[float, float]]:
    """(low, high) of each vertical error bar drawn on ``ax``."""
    out = []
    for coll in ax.collections:  # type: ignore[attr-defined]
        if isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                if len(seg) == 2 and seg[0][0] == pytest.approx(seg[1][0]):
                    out.append((float(min(seg[:, 1])), float(max(seg[:, 1]))))
    return out


def test_finance_figure_bars_are_means_and_whiskers_are_cis() -> None:
    absorbed = _per_contract("absorbed_gbp_per_year", [2.3e6, 0.0], [1e5, 0.0])
    surplus = _per_contract("surplus_gbp_per_year", [-2.3e6, 4e5], [2e5, 5e4])
    fig = figures.finance_figure(absorbed.merge(surplus, on="contract"))
    for ax, frame, col in zip(
        fig.axes, (absorbed, surplus), ("absorbed_gbp_per_year", "surplus_gbp_per_year"), strict=True
    ):
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert [b.get_height() for b in bars] == pytest.approx(list(frame[col]))
        assert [b.get_facecolor()[:3] for b in bars] == [
            pytest.approx(tuple(int(style.CONTRACT_COLOURS[c][i : i + 2], 16) / 255 for i in (1, 3, 5)))
            for c in CONTRACTS
        ]
        # pytest.approx compares flat sequences only (pytest >= 9 refuses nested ones): flatten the
        # sorted (low, high) pairs.
        drawn = [v for pair in sorted(_error_segments(ax)) for v in pair]
        expected = sorted(zip(frame[f"{col}_ci_low"], frame[f"{col}_ci_high"], strict=True))
        assert drawn == pytest.approx([v for pair in expected for v in pair])


def test_spend_figure_stacks_payments_and_hospital_to_the_total() -> None:
    spend = pd.DataFrame(
        {
            "contract": list(CONTRACTS),
            "payments_gbp_per_year": [9.7e6, 10.4e6],
            "hospital_gbp_per_year": [5.7e6, 5.1e6],
        }
    )
    spend["commissioner_spend_gbp_per_year"] = spend["payments_gbp_per_year"] + spend["hospital_gbp_per_year"]
    spend["commissioner_spend_gbp_per_year_ci_low"] = spend["commissioner_spend_gbp_per_year"] - 1e5
    spend["commissioner_spend_gbp_per_year_ci_high"] = spend["commissioner_spend_gbp_per_year"] + 1e5
    ax = figures.spend_figure(spend).axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 4
    payments, hospital = bars[:2], bars[2:]
    assert [b.get_height() for b in payments] == pytest.approx(list(spend["payments_gbp_per_year"]))
    assert [b.get_y() for b in hospital] == pytest.approx(list(spend["payments_gbp_per_year"]))
    assert [b.get_y() + b.get_height() for b in hospital] == pytest.approx(
        list(spend["commissioner_spend_gbp_per_year"])
    )


def test_risk_figure_draws_each_contract_against_growth() -> None:
    growth = [0.0, 3.0, 6.0]
    rows = []
    for contract, slope in (("block", -1e5), ("cost_and_volume", 2e5)):
        for g in growth:
            rows.append(
                {
                    "demand_growth_pct_per_year": g,
                    "contract": contract,
                    "surplus_gbp_per_year": slope * g,
                    "commissioner_spend_gbp_per_year": 1e7 + abs(slope) * g,
                }
            )
    risk = pd.DataFrame(rows)
    fig = figures.risk_figure(risk)
    for ax, col in zip(fig.axes, ("surplus_gbp_per_year", "commissioner_spend_gbp_per_year"), strict=True):
        drawn = {
            ln.get_color(): list(ln.get_ydata())
            for ln in ax.get_lines()
            if ln.get_color() in style.CONTRACT_COLOURS.values()
        }
        for contract in ("block", "cost_and_volume"):
            assert drawn[style.CONTRACT_COLOURS[contract]] == pytest.approx(
                list(risk.loc[risk["contract"] == contract, col])
            )


def test_funnel_limits_are_poisson_limits_over_expected() -> None:
    points = pd.DataFrame({"unit": ["A", "B"], "expected": [20.0, 400.0], "oe_ratio": [0.8, 1.05]})
    limits = tables.funnel_limits(points).frame
    e = limits["expected"].to_numpy()
    assert e.min() <= 20.0
    assert e.max() >= 400.0
    for level, tag in ((0.95, "95"), (0.998, "99.8")):
        a = (1 - level) / 2
        assert limits[f"low_{tag}"].to_numpy() == pytest.approx(stats.poisson.ppf(a, e) / e)
        assert limits[f"high_{tag}"].to_numpy() == pytest.approx(stats.poisson.ppf(1 - a, e) / e)
    # 99.8% limits are outside the 95% ones, and the funnel narrows as E grows.
    assert (limits["low_99.8"] <= limits["low_95"]).all()
    assert (limits["high_99.8"] >= limits["high_95"]).all()
    width = (limits["high_95"] - limits["low_95"]).to_numpy()
    assert width[-1] < width[0] / 3
    ax = figures.funnel_figure(points, limits, people_per_expected=100.0).axes[0]
    scattered = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    # pytest.approx compares flat sequences only (pytest >= 9): compare the sorted points' coordinates.
    drawn = np.array(sorted(map(tuple, scattered)), dtype=float).ravel()
    expected = np.array(sorted(zip(points["expected"], points["oe_ratio"], strict=True)), dtype=float).ravel()
    assert drawn.tolist() == pytest.approx(expected.tolist())


def test_locality_figure_bars_and_literal_names() -> None:
    frame = pd.DataFrame(
        {
            "contract": ["block", "block"],
            "locality": ["North", "$x$ <b>"],
            "over_performance_pct": [12.0, -3.0],
        }
    )
    ax = figures.locality_figure(frame).axes[0]
    widths = [p.get_width() for p in ax.patches if isinstance(p, Rectangle)]
    assert widths == pytest.approx([12.0, -3.0])
    # The name is drawn as written (dollars escaped, so no mathtext).
    assert [t.get_text() for t in ax.get_yticklabels()] == ["North", r"\$x\$ <b>"]
    ax.figure.canvas.draw()  # would raise on a mathtext parse error


def _colour_lines(ax: object) -> dict[tuple[str, str], list[float]]:
    """(colour, linestyle) → y data of the lines drawn on ``ax`` in contract colours."""
    return {
        (ln.get_color(), ln.get_linestyle()): list(ln.get_ydata())
        for ln in ax.get_lines()  # type: ignore[attr-defined]
        if ln.get_color() in style.CONTRACT_COLOURS.values()
    }


def test_waits_and_missed_figures_draw_their_tables() -> None:
    months = MONTHS[:3]
    waits = pd.DataFrame(
        {
            "contract": ["block"] * 3 + ["cost_and_volume"] * 3,
            "month": list(months) * 2,
            "wait_mean_days": [1.0, 2.0, 3.0, 0.5, 0.7, 0.9],
            "wait_p90_days": [3.0, 5.0, 8.0, 1.0, 1.5, 2.0],
            "waiting_list_end": [10.0, 40.0, 90.0, 5.0, 6.0, 7.0],
        }
    )
    fig = figures.waits_figure(waits)
    for contract in CONTRACTS:
        rows = waits[waits["contract"] == contract]
        colour = style.CONTRACT_COLOURS[contract]
        assert _colour_lines(fig.axes[0])[(colour, "-")] == list(rows["wait_mean_days"])
        assert _colour_lines(fig.axes[0])[(colour, "--")] == list(rows["wait_p90_days"])
        assert _colour_lines(fig.axes[1])[(colour, "-")] == list(rows["waiting_list_end"])
    per_year = _per_contract("visits_missed_per_year", [120.0, 30.0], [10.0, 5.0])
    monthly = waits.rename(columns={"waiting_list_end": "visits_missed"})[["contract", "month", "visits_missed"]]
    fig = figures.missed_figure(per_year, monthly)
    assert [p.get_height() for p in fig.axes[0].patches] == pytest.approx([120.0, 30.0])
    assert _colour_lines(fig.axes[1])[(style.CONTRACT_COLOURS["block"], "-")] == [10.0, 40.0, 90.0]


def test_admissions_figure_bars() -> None:
    table = _per_contract("admissions_per_year", [2204.0, 2105.0], [50.0, 40.0]).merge(
        _per_contract("admissions_avoided_per_year", [299.0, 398.0], [20.0, 10.0]), on="contract"
    )
    fig = figures.admissions_figure(table)
    assert [p.get_height() for p in fig.axes[0].patches] == pytest.approx([2204.0, 2105.0])
    assert [p.get_height() for p in fig.axes[1].patches] == pytest.approx([299.0, 398.0])


def test_mean_ci_by_is_the_student_t_interval() -> None:
    from fundsim.experiment.stats import mean_ci

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"contract": ["a"] * 5 + ["b"] * 3 + ["c"], "x": rng.normal(10.0, 2.0, 9)})
    out = tables.mean_ci_by(frame, ["contract"], ["x"]).set_index("contract")
    for contract, group in frame.groupby("contract"):
        m, lo, hi = mean_ci(group["x"].to_numpy())
        assert out.loc[contract, "x"] == pytest.approx(m)
        assert out.loc[contract, ["x_ci_low", "x_ci_high"]].to_numpy(dtype=float) == pytest.approx(
            [lo, hi], nan_ok=True
        )


def test_money_format() -> None:
    assert style.money(2_310_000) == "£2.3m"
    assert style.money(-804_521) == "−£805k"
    assert style.money(6_292) == "£6.3k"
    assert style.money(950) == "£950"
    assert style.money(float("nan")) == "–"


# --- headline ---------------------------------------------------------------------------------------


def _summary(rows: dict[tuple[str, str], tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "contract": c,
                "measure": m,
                "mean": v[0],
                "ci_low": v[1],
                "ci_high": v[2],
                "diff_mean": 0.0,
                "diff_ci_low": 0.0,
                "diff_ci_high": 0.0,
            }
            for (c, m), v in rows.items()
        ]
    )


def test_headline_sentence_from_a_hand_made_table() -> None:
    summary = _summary(
        {
            ("block", "over_performance_pct"): (18.04, 15.2, 21.3),
            ("block", "absorbed_gbp_per_year"): (2.31e6, 1.9e6, 2.7e6),
            ("block", "contracted_activity_per_year"): (1e5, 1e5, 1e5),
            ("block", "delivered_activity_per_year"): (1.18e5, 1.15e5, 1.21e5),
            ("block", "over_performance_activity_per_year"): (18_040.0, 15_200.0, 21_300.0),
            ("block", "over_performance_cost_gbp_per_year"): (1.2e6, 1e6, 1.4e6),
        }
    )
    [sentence] = headline.headline(summary, ["block"], "block")
    assert sentence.startswith(
        "Under the block contract the provider delivers 18.0% more contacts than it is paid for "
        "(95% CI 15.2–21.3%), absorbing £2.3m a year"
    )
    assert "18,040 contacts a year are delivered above the contract and not paid for, worth £1.2m a year" in sentence


def test_headline_under_delivery_and_interval_across_zero() -> None:
    summary = _summary(
        {
            ("block", "over_performance_pct"): (-4.9, -50.0, 47.9),
            ("block", "absorbed_gbp_per_year"): (0.0, 0.0, 0.0),
            ("block", "surplus_gbp_per_year"): (267.5, -1e3, 1e3),
            ("block", "contracted_activity_per_year"): (1e4, 1e4, 1e4),
            ("block", "delivered_activity_per_year"): (9.5e3, 9e3, 1e4),
        }
    )
    [sentence] = headline.headline(summary, ["block"], "block")
    assert "delivers 4.9% fewer contacts than it is paid for (95% CI 50.0% fewer to 47.9% more)" in sentence
    assert "absorbs no cost (surplus £268 a year)" in sentence


def test_headline_who_bears_the_risk() -> None:
    rows = []
    for growth, block, cv in ((0.0, (1e5, 1.0e7), (0.0, 1.0e7)), (6.0, (-4e5, 1.01e7), (1e4, 1.06e7))):
        for contract, (surplus, spend) in (("block", block), ("cost_and_volume", cv)):
            rows.append(
                {
                    "demand_growth_pct_per_year": growth,
                    "contract": contract,
                    "surplus_gbp_per_year": surplus,
                    "commissioner_spend_gbp_per_year": spend,
                }
            )
    sentence = headline.risk_sentence(pd.DataFrame(rows), ["block", "cost_and_volume"])
    assert sentence == (
        "With demand growing 6% a year rather than 0%, in money the extra cost falls mainly on the commissioner "
        "under cost and volume (commissioner spend +£600k, provider surplus +£10k a year) and on the provider under "
        "block (commissioner spend +£100k, provider surplus −£500k a year)."
    )


def test_risk_sentence_names_who_bears_rising_demand_in_each_currency() -> None:
    # Block: staff and patients carry the growth; cost and volume: the commissioner pays, care holds.
    by = {
        ("block", 0.0): dict(s=1e5, c=1.0e7, ot=1_000.0, dec=100.0, wait=5.0, defer=2_000.0, miss=0.0),
        ("block", 6.0): dict(s=-4e5, c=1.01e7, ot=9_400.0, dec=714.0, wait=11.25, defer=31_700.0, miss=0.2),
        ("cost_and_volume", 0.0): dict(s=0.0, c=1.0e7, ot=500.0, dec=50.0, wait=4.0, defer=1_000.0, miss=0.0),
        ("cost_and_volume", 6.0): dict(s=1e4, c=1.06e7, ot=700.0, dec=60.0, wait=4.5, defer=1_500.0, miss=0.0),
    }
    rows = [
        {
            "demand_growth_pct_per_year": growth,
            "contract": contract,
            "surplus_gbp_per_year": v["s"],
            "commissioner_spend_gbp_per_year": v["c"],
            "unpaid_overtime_hours_per_year": v["ot"],
            "referrals_declined_per_year": v["dec"],
            "wait_mean_days": v["wait"],
            "visit_deferrals_per_year": v["defer"],
            "visits_missed_per_year": v["miss"],
        }
        for (contract, growth), v in by.items()
    ]
    sentence = headline.risk_sentence(pd.DataFrame(rows), ["block", "cost_and_volume"])
    # Changes by hand: block overtime 9,400 − 1,000; declines 714 − 100; wait 11.25 − 5; deferrals 31,700 − 2,000;
    # missed visits +0.2 rounds to no change, so it is not named.
    assert sentence is not None
    assert sentence.endswith(
        "Staff bear it in +8,400 unpaid overtime hours a year under block (the most of any contract). Patients bear "
        "it in +614 referrals declined a year under block (the most of any contract), +6.2 days on the mean wait for "
        "assessment under block (the most of any contract) and +29,700 visits deferred a year under block (the most "
        "of any contract)."
    )


def test_risk_sentence_says_when_care_holds_under_every_contract() -> None:
    rows = [
        {
            "demand_growth_pct_per_year": g,
            "contract": "cost_and_volume",
            "surplus_gbp_per_year": 0.0,
            "commissioner_spend_gbp_per_year": 1e7 + g * 1e5,
            "unpaid_overtime_hours_per_year": 10.0,
            "referrals_declined_per_year": 3.0 - g / 6,
            "wait_mean_days": 2.0,
            "visit_deferrals_per_year": 0.0,
            "visits_missed_per_year": 0.0,
        }
        for g in (0.0, 6.0)
    ]
    sentence = headline.risk_sentence(pd.DataFrame(rows), ["cost_and_volume"])
    assert sentence is not None
    assert sentence.endswith(
        "Staff and patients bear none of it: no contract's overtime, declines, waits or visits worsen."
    )


def _incidence_rows(contract: str, policy: str, **values: tuple[float, float, float]) -> list[dict[str, object]]:
    return [
        {"policy": policy, "contract": contract, "measure": m, "mean": v[0], "ci_low": v[1], "ci_high": v[2]}
        for m, v in values.items()
    ]


def test_headline_opens_with_who_absorbs_and_names_the_policy_bracket() -> None:
    inc = pd.DataFrame(
        _incidence_rows(
            "block",
            "responsive",
            unfunded_activity_per_year=(13_000, 12_000, 14_000),
            deficit_gbp_per_year=(0.0, 0.0, 0.0),
            unpaid_overtime_hours_per_year=(9_000, 8_000, 10_000),
            unpaid_overtime_value_gbp_per_year=(500_000, 450_000, 550_000),
        )
        + _incidence_rows(
            "block",
            "passive",
            unfunded_activity_per_year=(14_000, 13_500, 14_500),
            deficit_gbp_per_year=(736_000, 718_000, 753_000),
        )
    )
    summary = _summary({("block", "admissions_avoided_per_year"): (400.0, 380.0, 420.0)})
    sentences = headline.headline(summary, ["block"], "block", incidence=inc, policy="responsive")
    assert sentences[0].startswith("Under the block contract, if the provider manages to its contract")
    assert "13,000 (95% CI 12,000 to 14,000) contacts a year are delivered that it does not pay for" in sentences[0]
    assert sentences[1] == "The provider's finances carry none of it (no deficit)."
    assert sentences[2].startswith("Staff carry 9,000 (95% CI 8,000 to 10,000) hours a year of unpaid overtime")
    assert "not responding to it, £736k (95% CI £718k to £753k) a year" in sentences[3]
    assert sentences[-1].startswith("Community care avoids 400 emergency admissions a year")
    # Without an incidence table (--no-incidence) the headline is the activity sentence, as before.
    assert not any("manages to its contract" in s for s in headline.headline(summary, ["block"], "block"))


def _t_interval(values: np.ndarray) -> tuple[float, float, float]:
    m = float(np.mean(values))
    half = float(stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values)))
    return m, m - half, m + half


def test_headline_numbers_match_the_replications(compare_report: Path) -> None:
    """The numbers in the report's first sentence, recomputed from replications.csv (not comparison.csv)."""
    reps = pd.read_csv(compare_report / "replications.csv")
    block = reps[reps["contract"] == "block"]
    text = _parse(compare_report / "report.html").headline
    # Who absorbs: the incidence table (incidence.csv) is computed by another code path than
    # replications.csv; the headline's staff and deficit numbers must agree with the replications.
    hours, lo, hi = _t_interval(block["unpaid_overtime_hours_per_year"].to_numpy())
    lo = max(lo, 0.0)  # hours cannot be negative: the interval is drawn from 0
    if round(hours) >= 1:
        assert (
            f"Staff carry {style.count(hours)} (95% CI {style.count(lo)} to {style.count(hi)}) hours a year of "
            "unpaid overtime"
        ) in text
    absorbed = block["absorbed_gbp_per_year"].to_numpy()
    if absorbed.max() < 0.5:
        assert "The provider's finances carry none of it (no deficit)." in text
    else:
        m, lo, hi = _t_interval(absorbed)
        lo = max(lo, 0.0)
        assert f"a deficit of {style.money(m)} (95% CI {style.money(lo)} to {style.money(hi)}) a year" in text
    spend = reps.groupby("contract")["commissioner_spend_gbp_per_year"].mean()
    assert (
        f"lowest under {style.contract_label(spend.idxmin())} ({style.money(spend.min())} a year) and highest under "
        f"{style.contract_label(spend.idxmax())} ({style.money(spend.max())} a year)"
    ) in text


# --- tables, against the results files --------------------------------------------------------------


@pytest.fixture(scope="module")
def compare_report() -> Path:
    return compare_folder()


def test_activity_table_is_the_monthly_mean_over_replications(compare_report: Path) -> None:
    provider = pd.read_parquet(compare_report / "provider.parquet")
    activity = pd.read_csv(compare_report / "tables" / "activity.csv", parse_dates=["month"])
    columns = ["contracted_activity", "funded_activity", "delivered_activity"]
    expected = provider.groupby(["contract", "month"])[columns].mean()
    got = activity.set_index(["contract", "month"])
    for (contract, month), row in expected.iterrows():
        r = got.loc[(contract, pd.Timestamp(month))]
        assert r["delivered (contacts per month)"] == pytest.approx(row["delivered_activity"])
        assert r["contracted (contacts per month)"] == pytest.approx(row["contracted_activity"])
        # Unfunded by the contract's own rule: above what it pays for, not above the contracted level.
        assert r["unfunded (contacts per month)"] == pytest.approx(
            max(row["delivered_activity"] - row["funded_activity"], 0.0)
        )
        if contract == "block":
            assert row["funded_activity"] == pytest.approx(row["contracted_activity"])


def test_spend_parts_add_up_to_commissioner_spend(compare_report: Path) -> None:
    folder = load_results(compare_report)
    spend = tables.spend_per_contract(folder).frame.set_index("contract")
    reps = pd.read_csv(compare_report / "replications.csv").groupby("contract").mean(numeric_only=True)
    for contract in folder.contracts:
        assert spend.loc[contract, "payments_gbp_per_year"] == pytest.approx(reps.loc[contract, "income_gbp_per_year"])
        assert spend.loc[contract, "payments_gbp_per_year"] + spend.loc[
            contract, "hospital_gbp_per_year"
        ] == pytest.approx(reps.loc[contract, "commissioner_spend_gbp_per_year"])


def test_funnel_whole_service_matches_outcomes_csv(compare_report: Path) -> None:
    """E and O summed over localities equal what compare's observability module wrote (another code path)."""
    funnel = pd.read_csv(compare_report / "tables" / "funnel.csv")
    whole = funnel[funnel["unit"] == "whole service"].set_index(["replication", "contract_year"]).sort_index()
    outcomes = pd.read_csv(compare_report / "outcomes.csv").set_index(["replication", "contract_year"]).sort_index()
    assert whole["expected (admissions)"].to_numpy() == pytest.approx(outcomes["expected"].to_numpy())
    assert whole["observed (admissions)"].to_numpy() == pytest.approx(outcomes["observed"].to_numpy())
    assert set(funnel["unit"]) == {"North", "Central", "whole service"}


def test_locality_over_performance_recomputed(compare_report: Path) -> None:
    ledger = pd.read_parquet(compare_report / "ledger.parquet")
    provider = pd.read_parquet(compare_report / "provider.parquet")
    table = pd.read_csv(compare_report / "tables" / "localities.csv")
    block_ledger = ledger[ledger["contract"] == "block"]
    block_provider = provider[provider["contract"] == "block"]
    populations = block_ledger.groupby("locality")["population"].mean()
    values = []
    for rep in (0, 1):
        contracted = block_provider.loc[block_provider["replication"] == rep, "contracted_activity"].sum()
        delivered = block_ledger[block_ledger["replication"] == rep].groupby("locality")["contacts"].sum()
        share = populations / populations.sum()
        values.append(100 * (delivered - contracted * share) / (contracted * share))
    mean = pd.concat(values, axis=1).mean(axis=1)
    got = table[table["contract"] == "block"].set_index("locality")["over_performance_pct (% of contracted)"]
    assert got.sort_index().to_numpy() == pytest.approx(mean.sort_index().to_numpy())


def test_tables_in_csv_and_excel_with_units(compare_report: Path) -> None:
    csvs = sorted(p.stem for p in (compare_report / "tables").glob("*.csv"))
    workbook = pd.read_excel(compare_report / "tables.xlsx", sheet_name=None)
    assert sorted(workbook) == csvs
    assert {"parameters", "summary", "activity", "spend", "risk", "funnel", "localities", "manifest"} <= set(csvs)
    assert "delivered (contacts per month)" in workbook["activity"].columns
    assert "commissioner_spend_gbp_per_year (£ per year)" in workbook["spend"].columns
    for name in csvs:
        csv = pd.read_csv(compare_report / "tables" / f"{name}.csv")
        assert list(csv.columns) == list(workbook[name].columns), name
        assert len(csv) == len(workbook[name]), name


def test_every_figure_written_as_png_and_svg(compare_report: Path) -> None:
    names = [spec.name for spec in FIGURES]
    for name in names:
        png = (compare_report / "figures" / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG"), name
        root = ET.fromstring((compare_report / "figures" / f"{name}.svg").read_bytes())
        assert root.tag.endswith("svg")


# --- the HTML page ------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Collects the structure the tests need: figures (img + caption), scripts, links, text by element id."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, object]] = []
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.csp = ""
        self._stack: list[tuple[str, str | None]] = []
        self.text: dict[str, str] = {}
        self.h1 = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.csp = a.get("content") or ""
        for key in ("src", "href"):
            if a.get(key):
                self.urls.append(str(a[key]))
        if tag == "figure":
            self.figures.append({"id": a.get("id"), "img": [], "caption": ""})
        if tag == "img" and self._inside("figure"):
            self.figures[-1]["img"].append(a)  # type: ignore[union-attr]
        if tag not in ("img", "meta", "br", "input", "link"):
            self._stack.append((tag, a.get("id") or a.get("class")))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def _inside(self, tag: str) -> bool:
        return any(t == tag for t, _ in self._stack)

    def handle_data(self, data: str) -> None:
        if self._inside("figcaption"):
            self.figures[-1]["caption"] = str(self.figures[-1]["caption"]) + data
        if self._inside("h1"):
            self.h1 += data
        for _, ident in self._stack:
            if ident:
                self.text[ident] = self.text.get(ident, "") + data

    @property
    def headline(self) -> str:
        return " ".join(self.text.get("headline-text", "").replace("\u2060", "").split())


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_html_has_each_figure_with_an_image_and_a_caption(compare_report: Path) -> None:
    page = _parse(compare_report / "report.html")
    assert [f["id"] for f in page.figures] == [f"figure-{spec.name}" for spec in FIGURES]
    for fig in page.figures:
        [img] = fig["img"]  # type: ignore[misc]
        assert img["src"].startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(img["src"].split(",", 1)[1])
        assert ET.fromstring(svg).tag.endswith("svg")
        assert int(img["width"]) > 0
        assert int(img["height"]) > 0
        caption = " ".join(str(fig["caption"]).split())
        assert caption.startswith("Figure ")
        assert "How to read it:" in caption
        assert len(caption) > 120
    assert "script" not in page.tags
    assert all(url.startswith("data:") for url in page.urls), [u[:40] for u in page.urls if not u.startswith("data:")]
    assert "default-src 'none'" in page.csp
    assert "parameters" in page.text
    assert "Master seed" in page.text["parameters"]
    assert __version__ in page.text["manifest-table"]


EVIL_NAME = "<script>alert(1)</script>"
EVIL_DESCRIPTION = 'Harmless? <img src=x onerror="alert(2)"> & "quotes"'
EVIL_LOCALITY = "<b>bold</b> $x$ & co"


@pytest.fixture(scope="module")
def foreign_report() -> dict[str, object]:
    """A run folder from elsewhere: written by fundsim 0.0.1, with markup in its scenario strings.

    Reported once with ``--out`` outside the folder; the tests below read different parts of it.
    """
    folder = copy_of(run_folder(), "foreign")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["fundsim_version"] = "0.0.1"
    manifest["scenario_name"] = EVIL_NAME
    manifest["scenario"]["name"] = EVIL_NAME
    manifest["scenario"]["description"] = EVIL_DESCRIPTION
    old_locality = manifest["scenario"]["localities"][0]["name"]
    manifest["scenario"]["localities"][0]["name"] = EVIL_LOCALITY
    (folder / "manifest.json").write_text(json.dumps(manifest))
    ledger = pd.read_parquet(folder / "ledger.parquet")
    ledger["locality"] = ledger["locality"].astype(str).replace(old_locality, EVIL_LOCALITY)
    ledger.to_parquet(folder / "ledger.parquet")
    target = folder.parent / "elsewhere" / "board.html"
    # The ledger was edited above, so its SHA-256 no longer matches the manifest: issue 15 refuses
    # such a folder unless --accept-changed says to report the files as they are.
    code, stdout, stderr = invoke("report", str(folder), "--out", str(target), "-q", "--accept-changed")
    return {"folder": folder, "html": target, "code": code, "stdout": stdout, "stderr": stderr}


def test_scenario_strings_are_escaped_in_html_and_figures(foreign_report: dict[str, object]) -> None:
    """Issue 8, item 6: every string from a scenario or manifest is shown as text, never as markup."""
    assert foreign_report["code"] == 0, foreign_report["stderr"]
    html, folder = Path(str(foreign_report["html"])), Path(str(foreign_report["folder"]))
    page = _parse(html)
    assert "script" not in page.tags
    assert "b" not in page.tags
    assert EVIL_NAME in page.h1
    assert EVIL_DESCRIPTION in page.text["scenario"]
    assert f"{EVIL_LOCALITY} 8,000" in page.text["parameters"]
    raw = html.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "<script>" not in raw
    assert [tag for tag in page.tags if tag == "img"] == ["img"] * len(page.figures)  # no injected <img>
    # In the figure the locality name is one text element holding the literal string; no markup got in.
    svg = ET.fromstring((folder / "figures" / "localities.svg").read_bytes())
    texts = ["".join(el.itertext()) for el in svg.iter() if el.tag.endswith("text")]
    assert EVIL_LOCALITY in texts
    assert not [el for el in svg.iter() if el.tag.split("}")[-1] in ("script", "b", "foreignObject")]


def test_run_folder_report_shows_what_a_run_has(foreign_report: dict[str, object]) -> None:
    page = _parse(Path(str(foreign_report["html"])))
    shown = [f["id"] for f in page.figures]
    assert shown == [
        f"figure-{n}"
        for n in ("activity", "finance", "decisions", "waits", "missed_visits", "admissions", "spend", "localities")
    ]
    # A run has one contract: the risk view and the funnel plot are listed as not shown, with why.
    assert "risk view was not run" in page.text["skipped"]
    assert "outcomes contract was not compared" in page.text["skipped"]
    assert page.headline.startswith("Under the block contract, if the provider ")


def test_run_and_compare_report_flags_write_the_report() -> None:
    for folder, figures_expected in ((run_folder(), 8), (compare_folder(), len(FIGURES))):
        assert (folder / "report.html").is_file()
        assert len(list((folder / "figures").glob("*.svg"))) == figures_expected
        assert len(list((folder / "figures").glob("*.png"))) == figures_expected
        assert (folder / "tables.xlsx").is_file()
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "temporary files left behind"


# --- bad folders: a located message and exit 2, never a traceback --------------------------------


def test_report_on_missing_and_non_results_folders(tmp_path: Path) -> None:
    code, _, err = invoke("report", str(tmp_path / "nope"))
    assert code == 2
    assert f"{tmp_path / 'nope'}: no such folder" in err
    code, _, err = invoke("report", str(tmp_path))
    assert code == 2
    assert "manifest.json: not found" in err
    assert "not a complete fundsim results folder" in err
    (tmp_path / "manifest.json").write_text("{not json")
    code, _, err = invoke("report", str(tmp_path))
    assert code == 2
    assert "cannot be read as JSON" in err


def test_report_on_incomplete_or_damaged_folder() -> None:
    folder = copy_of(run_folder(), "broken")
    (folder / "ledger.parquet").unlink()
    code, _, err = invoke("report", str(folder), "-q")
    assert code == 2
    assert f"{folder / 'ledger.parquet'}: missing" in err
    folder = copy_of(run_folder(), "damaged")
    (folder / "provider.parquet").write_bytes(b"not parquet")
    code, _, err = invoke("report", str(folder), "-q")
    assert code == 2
    assert f"{folder / 'provider.parquet'}: cannot be read" in err
    assert not (folder / "report.html").exists()


def test_report_on_results_of_another_version(foreign_report: dict[str, object]) -> None:
    # Readable: a warning that names both versions, then the report (here with --out elsewhere).
    assert foreign_report["code"] == 0, foreign_report["stderr"]
    target, folder = Path(str(foreign_report["html"])), Path(str(foreign_report["folder"]))
    assert f"written by fundsim 0.0.1; this is fundsim {__version__}" in str(foreign_report["stderr"])
    warnings = _parse(target).text["warning"]
    assert "written by fundsim 0.0.1" in warnings
    if "files" in json.loads((folder / "manifest.json").read_text()):  # manifests list their files' hashes
        assert "ledger.parquet changed since fundsim wrote it" in warnings
    assert target.is_file()
    assert not (folder / "report.html").exists()
    assert re.search(r"Wrote .*board\.html", " ".join(str(foreign_report["stdout"]).split()))
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")], "temporary file left behind"
    # Not readable (a column this version needs is missing): exit 2 and the versions in the message.
    folder = copy_of(folder, "unreadable")
    provider = pd.read_parquet(folder / "provider.parquet").drop(columns=["delivered_activity"])
    provider.to_parquet(folder / "provider.parquet")
    code, _, err = invoke("report", str(folder), "-q", "--accept-changed")
    assert code == 2
    assert "delivered_activity" in err
    assert f"written by fundsim 0.0.1; this is fundsim {__version__}" in err
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["kind"] = "sweep"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = invoke("report", str(folder), "-q")
    assert code == 2
    assert "not a complete sweep folder (design.parquet, outputs.csv, sensitivity.csv, failures.csv missing)" in err


def test_activity_figure_shades_above_what_the_contract_funds() -> None:
    """Cost and volume pays for everything delivered: no gap, however far above the baseline."""
    activity = _activity()
    activity["funded"] = np.where(activity["contract"] == "cost_and_volume", activity["delivered"], 100.0)
    fig = figures.activity_figure(activity)
    for ax, contract in zip([a for a in fig.axes if a.get_visible()], CONTRACTS, strict=True):
        (gap,) = [c for c in ax.collections if c.get_gid() == figures.UNFUNDED_GID]
        heights = _gap_heights(gap)
        if contract == "cost_and_volume":
            assert max(heights.values(), default=0.0) == pytest.approx(0.0)
        else:
            assert max(heights.values()) == pytest.approx(50.0)  # 150 delivered against 100 funded


def test_intervals_of_counts_are_never_drawn_below_zero() -> None:
    # Missed visits 1 ± 9 (a wide t-interval): the whisker stops at 0; a surplus may go below it.
    missed = _per_contract("visits_missed_per_year", [1.0, 3.0], [9.0, 1.0])
    err = figure_kit.error_bars(missed, "visits_missed_per_year")
    assert err is not None
    assert (missed["visits_missed_per_year"].to_numpy() - err[0] >= 0).all()
    surplus = _per_contract("surplus_gbp_per_year", [1.0, 3.0], [9.0, 1.0])
    err = figure_kit.error_bars(surplus, "surplus_gbp_per_year")
    assert err is not None
    assert (surplus["surplus_gbp_per_year"].to_numpy() - err[0])[0] == pytest.approx(-8.0)


def test_spend_legend_covers_no_bar_and_its_swatches_match_the_bars() -> None:
    spend = pd.DataFrame(
        {
            "contract": list(CONTRACTS),
            "payments_gbp_per_year": [9.5e6, 11e6],
            "hospital_gbp_per_year": [5.5e6, 5.2e6],
            "commissioner_spend_gbp_per_year": [15e6, 16.2e6],
            "commissioner_spend_gbp_per_year_ci_low": [14.5e6, 15.8e6],
            "commissioner_spend_gbp_per_year_ci_high": [15.5e6, 16.6e6],
        }
    )
    fig = figures.spend_figure(spend)
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend()
    box = legend.get_window_extent()
    for bar in ax.patches:
        assert not box.overlaps(bar.get_window_extent())
    swatches = {t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)}
    (hospital_label,) = [k for k in swatches if k.startswith("hospital")]
    hospital_bars = [p for p in ax.patches if p.get_hatch() == ".."]
    assert hospital_bars
    assert swatches[hospital_label].get_facecolor() == hospital_bars[0].get_facecolor()
