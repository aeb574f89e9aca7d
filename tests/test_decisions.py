"""The provider's decisions are output (issue 16, item 6): a per-month table, stored and drawn.

The table (:mod:`fundsim.sim.decisions`) is checked against what the ledger implies by another
route: the rationing level against the visit minutes rationing cut, the unpaid-overtime share
against the unpaid and total overtime hours, the staff in post against the paid hours, and the
hires and sheds against the staff in post once their lags have run. Then it is followed through
the runner, the comparison, the files and the report.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import small_dict
from matplotlib.dates import date2num

from fundsim.api import write_comparison, write_run
from fundsim.experiment.compare import compare
from fundsim.experiment.runner import run_replications
from fundsim.report import figures, tables
from fundsim.report.build import build_report
from fundsim.report.results import ReportError, load_results
from fundsim.scenario.models import Scenario
from fundsim.sim import simulate
from fundsim.sim.calendar import build_calendar
from fundsim.sim.decisions import COLUMNS
from fundsim.sim.management import DAYS_PER_MONTH

DECISION_COLUMNS = ["contract", *COLUMNS]


def _understaffed(mode: str = "responsive") -> Scenario:
    """A small block-contract service with 40% of its staff, one year: it hires, then rations."""
    d = small_dict(population=20_000, years=1.0, warmup_days=30)
    d["contract"] = "block"
    for grade in d["workforce"]["grades"]:
        grade["fte"] = round(grade["fte"] * 0.4, 2)
    # Ration even below the funded activity (this service never reaches it): the rules' other conditions hold.
    d["provider_policy"]["rationing"]["only_above_funded_activity"] = False
    d["provider_policy"]["mode"] = mode
    d.pop("risk_view", None)
    return Scenario.model_validate(d)


@pytest.fixture(scope="module")
def responsive() -> Scenario:
    return _understaffed("responsive")


@pytest.fixture(scope="module")
def passive() -> Scenario:
    return _understaffed("passive")


@pytest.fixture(scope="module")
def run_results(responsive: Scenario):  # type: ignore[no-untyped-def]
    return run_replications(responsive, 2, jobs=1)


def _service_months(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger.groupby("month", sort=True)[
        ["visit_minutes_cut", "visits_delivered", "unpaid_overtime_hours", "overtime_hours", "paid_hours"]
    ].sum()


# --- the table in one simulation ------------------------------------------------------------------


def test_a_passive_run_is_flat_at_the_scenarios_starting_values(passive: Scenario) -> None:
    run = simulate(passive, 0)
    table = run.decisions
    assert table is not None
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == build_calendar(passive.simulation).n_months
    assert (table["replication"] == 0).all()
    assert table["month"].tolist() == sorted(run.ledger["month"].unique().tolist())
    assert (table["fte_share"] == 1.0).all()
    assert (table["unpaid_overtime_share"] == passive.workforce.unpaid_overtime_share).all()
    assert (table["ration_level"] == 0).all()
    assert (table["hire_share"] == 0.0).all()
    assert (table["shed_share"] == 0.0).all()


def test_a_responsive_run_decides_and_the_ledger_agrees_month_by_month(responsive: Scenario, passive: Scenario) -> None:
    run = simulate(responsive, 0)
    table = run.decisions.set_index("month")
    months = _service_months(run.ledger)
    assert table.index.tolist() == months.index.tolist()
    # The provider did decide: staff hired, then unpaid overtime up and rationing once hiring stopped.
    assert (table["hire_share"] > 0).any()
    assert (table["ration_level"] > 0).any()
    assert table["unpaid_overtime_share"].max() > responsive.workforce.unpaid_overtime_share
    assert table["ration_level"].iloc[0] == 0  # no review before the first month

    # Rationing shortens every follow-up visit delivered while it is in force, and only then.
    assert (months["visits_delivered"] > 0).all()
    np.testing.assert_array_equal(months["visit_minutes_cut"] > 0, table["ration_level"] > 0)
    # The share of overtime worked unpaid is the one in force all month.
    assert (months["overtime_hours"] > 0).all()
    np.testing.assert_allclose(
        months["unpaid_overtime_hours"] / months["overtime_hours"], table["unpaid_overtime_share"], rtol=1e-9
    )

    # Paid hours against the same service with its initial staff: the month's mean staff in post,
    # which lies between last month's end and this month's (equal to both when nothing landed).
    mean_fte = months["paid_hours"] / _service_months(simulate(passive, 0).ledger)["paid_hours"]
    end = table["fte_share"].to_numpy()
    start = np.concatenate([[1.0], end[:-1]])
    low, high = np.minimum(start, end), np.maximum(start, end)
    assert np.all(mean_fte.to_numpy() >= low - 1e-9)
    assert np.all(mean_fte.to_numpy() <= high + 1e-9)
    same = start == end
    assert same.any()
    assert (~same).any()
    np.testing.assert_allclose(mean_fte.to_numpy()[same], end[same], rtol=1e-9)


def test_hires_and_sheds_land_in_the_staff_in_post_after_their_lags(responsive: Scenario) -> None:
    table = simulate(responsive, 0).decisions
    calendar = build_calendar(responsive.simulation)
    policy = responsive.provider_policy
    hire_lag = round(policy.hiring.lag_months * DAYS_PER_MONTH)
    shed_lag = round(policy.shedding.lag_months * DAYS_PER_MONTH)
    decided = calendar.month_start_day[:-1]  # the review of row m is at the start of month m
    ends = calendar.month_start_day[1:]
    expected = [
        1.0 + table["hire_share"][decided + hire_lag < end].sum() - table["shed_share"][decided + shed_lag < end].sum()
        for end in ends
    ]
    np.testing.assert_allclose(table["fte_share"], expected, atol=1e-12)
    assert table["fte_share"].iloc[-1] > 1.0


# --- through the runner, the comparison and the files ---------------------------------------------


def test_run_results_carry_each_replications_table_and_decisions_csv_is_it(run_results, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    table = run_results.decisions
    assert list(table.columns) == DECISION_COLUMNS
    assert set(table["contract"]) == {"block"}
    assert sorted(set(table["replication"])) == [0, 1]
    for r, rows in table.groupby("replication"):
        alone = simulate(run_results.scenario, int(r)).decisions
        pd.testing.assert_frame_equal(rows.drop(columns="contract").reset_index(drop=True), alone)
    out = tmp_path / "run"
    names = write_run(run_results, out, scenario_file=None, wall_time_s=0.0)
    assert "decisions.csv" in names
    manifest = json.loads((out / "manifest.json").read_text())
    assert "decisions.csv" in manifest["files"]
    written = pd.read_csv(out / "decisions.csv", parse_dates=["month"])
    pd.testing.assert_frame_equal(written, table, check_dtype=False)
    assert written["ration_level"].dtype.kind == "i"


def test_a_passive_comparison_simulates_once_and_every_contract_shows_its_flat_table(
    passive: Scenario, tmp_path: Path
) -> None:
    result = compare(passive, ["block", "cost_and_volume"], 2, risk=False, incidence=False)
    table = result.decisions
    assert list(table.columns) == DECISION_COLUMNS
    by_contract = {c: g.drop(columns="contract").reset_index(drop=True) for c, g in table.groupby("contract")}
    assert sorted(by_contract) == ["block", "cost_and_volume"]
    pd.testing.assert_frame_equal(by_contract["block"], by_contract["cost_and_volume"])
    assert (table["fte_share"] == 1.0).all()
    assert (table["ration_level"] == 0).all()
    out = tmp_path / "compare"
    write_comparison(result, out, scenario_file=None, wall_time_s=0.0, jobs=1)
    written = pd.read_csv(out / "decisions.csv", parse_dates=["month"])
    pd.testing.assert_frame_equal(written, table, check_dtype=False)


def test_same_decisions_on_one_worker_and_on_two(responsive: Scenario, run_results) -> None:  # type: ignore[no-untyped-def]
    two = run_replications(responsive, 2, jobs=2)
    pd.testing.assert_frame_equal(two.decisions, run_results.decisions)
    pd.testing.assert_frame_equal(two.ledger, run_results.ledger)
    one = compare(responsive, ["block", "cost_and_volume"], 2, jobs=1, risk=False, incidence=False)
    both = compare(responsive, ["block", "cost_and_volume"], 2, jobs=2, risk=False, incidence=False)
    pd.testing.assert_frame_equal(both.decisions, one.decisions)
    # Each contract's rows are its own simulations': block here is the run above.
    block = one.decisions[one.decisions["contract"] == "block"].reset_index(drop=True)
    pd.testing.assert_frame_equal(block, run_results.decisions)
    assert len(one.decisions) == 2 * len(run_results.decisions)


# --- the report -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(run_results, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("decisions") / "run"
    write_run(run_results, out, scenario_file=None, wall_time_s=0.0)
    return out


def test_the_report_draws_what_the_provider_decided(run_folder: Path, run_results, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "R"
    shutil.copytree(run_folder, folder)
    outputs = build_report(folder)
    assert (folder / "figures" / "decisions.svg").is_file()
    assert not [s for s in outputs.skipped if s.startswith("What the provider decided")]
    # The table is the monthly mean over replications, recomputed here from the run's own table.
    table = pd.read_csv(folder / "tables" / "decisions.csv")
    mean = run_results.decisions.groupby("month", sort=True)[["fte_share", "ration_level"]].mean()
    np.testing.assert_allclose(table["fte_share (share of initial staff)"], mean["fte_share"])
    np.testing.assert_allclose(table["ration_level (level (0 = none))"], mean["ration_level"])


def test_a_folder_without_decisions_still_reports_and_says_why(run_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(run_folder, folder)
    (folder / "decisions.csv").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"]["decisions.csv"]  # as a folder written before fundsim recorded them
    (folder / "manifest.json").write_text(json.dumps(manifest))
    results = load_results(folder)
    assert results.decisions is None
    assert tables.decisions_monthly(results) is None
    outputs = build_report(folder)
    [skipped] = [s for s in outputs.skipped if s.startswith("What the provider decided")]
    assert "no decisions.csv" in skipped
    assert not (folder / "figures" / "decisions.svg").exists()
    assert "no decisions.csv" in (folder / "report.html").read_text(encoding="utf-8")


def _text_in_numbers(path: Path) -> None:
    frame = pd.read_csv(path)
    frame["ration_level"] = "lots"
    frame.to_csv(path, index=False)


def _gone(path: Path) -> None:
    path.unlink()


def _a_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("damage", [_text_in_numbers, _gone, _a_folder])
def test_a_damaged_or_missing_decisions_csv_is_refused_naming_it(run_folder: Path, tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    """Optional for folders written before it existed; a folder whose manifest lists it must have it whole."""
    folder = tmp_path / "bad"
    shutil.copytree(run_folder, folder)
    damage(folder / "decisions.csv")
    with pytest.raises(ReportError, match=r"decisions\.csv"):
        load_results(folder, accept_changed=True)


# --- the figure, on a hand-made table -------------------------------------------------------------


def test_decisions_figure_draws_each_contract_in_each_panel() -> None:
    months = pd.date_range("2025-04-01", periods=4, freq="MS")
    frame = pd.DataFrame(
        {
            "contract": ["block"] * 4 + ["cost_and_volume"] * 4,
            "month": list(months) * 2,
            "fte_share": [1.0, 1.0, 1.02, 1.04, 1.0, 0.99, 0.99, 0.98],
            "unpaid_overtime_share": [0.6, 0.65, 0.7, 0.7, 0.6, 0.6, 0.6, 0.6],
            "ration_level": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        }
    )
    fig = figures.decisions_figure(frame, ("block", "cost_and_volume"))
    axes = [ax for ax in fig.axes if ax.get_lines()]
    assert [ax.get_title() for ax in axes] == [title for _, title, _ in figures.DECISION_PANELS]
    for ax, (col, _, _) in zip(axes, figures.DECISION_PANELS, strict=True):
        lines = [line for line in ax.get_lines() if line.get_label() in ("block", "cost and volume")]
        assert len(lines) == 2
        for line, contract in zip(lines, ("block", "cost_and_volume"), strict=True):
            rows = frame[frame["contract"] == contract]
            np.testing.assert_allclose(date2num(line.get_xdata()), date2num(rows["month"]))
            np.testing.assert_allclose(line.get_ydata(), rows[col])
    # Lines that coincide hide one another: the panel says so, and only that panel.
    said = [any(t.get_text() == figures.SAME_UNDER_EVERY_CONTRACT for t in ax.texts) for ax in axes]
    assert said == [False, False, True]
    assert len(fig.legends) == 1


def test_table_has_no_contract_the_folder_does_not_name(run_folder: Path) -> None:
    results = load_results(run_folder)
    foreign = copy.copy(results.decisions).assign(contract="someone_else")
    folder = type(results)(**{**results.__dict__, "decisions": pd.concat([results.decisions, foreign])})
    table = tables.decisions_monthly(folder)
    assert table is not None
    assert set(table.frame["contract"]) == {"block"}
    assert len(table.frame) == results.decisions["month"].nunique()
