"""Every table the terminal prints is readable in 80 columns (issue 14).

Each table is rendered as the CLI prints it, at 80 and 120 columns, from small fast results of
scenarios/tiny.yaml (with a risk view added), and checked three ways: no line is wider than the
terminal; nothing is cut (no ``…``); and every number is printed whole, in the cell where it
belongs, formatted as the HTML report formats it (:mod:`fundsim.report.style`). A number that
Rich wrapped onto two lines or squeezed would no longer be an exact cell of the table.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from builders import ROOT
from click.testing import CliRunner
from rich.console import Console

from fundsim.cli import main
from fundsim.experiment.compare import RISK_MEASURES
from fundsim.experiment.incidence import MEASURES as INCIDENCE_MEASURES
from fundsim.experiment.runner import MEASURES
from fundsim.report import terminal
from fundsim.report.style import by_unit, contract_label, count, percent
from fundsim.report.sweep_labels import parameter_label
from fundsim.scenario.models import Scenario

TINY = ROOT / "scenarios" / "tiny.yaml"
WIDTHS = (80, 120)
UNITS = {col: unit for col, _label, unit in MEASURES}


# --------------------------------------------------------------------------- results, made once


def _tiny_with_risk_view() -> Scenario:
    data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    data["risk_view"] = {"demand_growth_per_year": [0.0, 0.06], "replications": 2}
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def comparison():  # type: ignore[no-untyped-def]
    """All five contracts of tiny.yaml, two replications, with the risk view and the incidence."""
    from fundsim.api import compare_scenario

    return compare_scenario(_tiny_with_risk_view(), None, 2, jobs=2, risk=True, incidence=True)


@pytest.fixture(scope="module")
def run_results():  # type: ignore[no-untyped-def]
    from fundsim.api import run_scenario

    return run_scenario(_tiny_with_risk_view(), 2, incidence=True)


# --------------------------------------------------------------------------- rendering and reading


def _console(width: int) -> Console:
    return Console(width=width, record=True, file=io.StringIO(), highlight=False, color_system=None)


def _text(console: Console) -> str:
    return console.export_text(styles=False)


def _assert_fits(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if len(line.rstrip()) > width]
    assert not wide, f"{len(wide)} line(s) wider than {width} columns, e.g. {wide[0]!r}"
    assert "…" not in text, "Rich cut a cell or a header short"


def _split(line: str, bar: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip(bar).split(bar)]


def _header(text: str) -> list[str]:
    """The column headers of the first table in ``text`` (a header wrapped over lines joined again)."""
    lines = []
    for line in text.splitlines():
        if line.strip().startswith("┡"):
            break
        if line.strip().startswith("┃"):
            lines.append(_split(line, "┃"))
    return [" ".join(part for part in column if part) for column in zip(*lines, strict=True)]


def _rows(text: str) -> list[list[str]]:
    """The body rows of every table in ``text``, as lists of stripped cells."""
    return [_split(line, "│") for line in text.splitlines() if line.strip().startswith("│")]


def _cells(text: str) -> set[str]:
    return {cell for row in _rows(text) for cell in row}


def _pm(mean: float, lo: float, hi: float, unit: str, signed: bool = False) -> str:
    """Mean ± the CI's half-width, each formatted as the report formats it (computed independently)."""
    text = by_unit(mean, unit)
    if signed and text[0] not in "−–" and any(ch in "123456789" for ch in text):
        text = "+" + text
    return text if pd.isna(lo) else f"{text} ± {by_unit((hi - lo) / 2, unit)}"


def _missing(expected: list[str], cells: set[str]) -> list[str]:
    return [value for value in expected if value not in cells]


# --------------------------------------------------------------------------- run


@pytest.mark.parametrize("width", WIDTHS)
def test_run_summary_fits_and_prints_every_number_whole(run_results, width: int) -> None:  # type: ignore[no-untyped-def]
    console = _console(width)
    terminal.print_summary(run_results, Path("/tmp/out"), 1.0, console)
    text = _text(console)
    _assert_fits(text, width)
    cells = _cells(text)
    expected = []
    for row in run_results.summary.itertuples():
        expected.append(by_unit(row.mean, row.unit))
        if not pd.isna(row.ci_low):
            expected.append(f"{by_unit(row.ci_low, row.unit)} – {by_unit(row.ci_high, row.unit)}")
    assert not _missing(expected, cells), _missing(expected, cells)
    # Money as the report shows it (£191k), never the old long form (£190,652).
    income = run_results.summary.set_index("measure").loc["income_gbp_per_year", "mean"]
    assert f"{income:,.0f}" not in text
    # The unit has its own column when the terminal is wide enough, else it follows the label.
    assert ("unit" in _header(text)) is (width >= 120)


def test_run_incidence_fits_and_prints_every_number_whole(run_results) -> None:  # type: ignore[no-untyped-def]
    console = _console(80)
    policy = run_results.scenario.provider_policy.mode
    terminal.print_incidence(console, run_results.incidence, [run_results.contract], policy)
    text = _text(console)
    _assert_fits(text, 80)
    frame = run_results.incidence.set_index(["policy", "contract", "measure"])
    expected = [
        _pm(row["mean"], row["ci_low"], row["ci_high"], m.unit)
        for m in INCIDENCE_MEASURES
        for (p, c, col), row in frame.iterrows()
        if col == m.column
    ]
    assert len(expected) == 2 * len(INCIDENCE_MEASURES)  # responsive and passive provider
    assert not _missing(expected, _cells(text)), _missing(expected, _cells(text))


# --------------------------------------------------------------------------- compare


@pytest.mark.parametrize("width", WIDTHS)
def test_comparison_of_five_contracts_fits(comparison, width: int) -> None:  # type: ignore[no-untyped-def]
    console = _console(width)
    terminal.print_comparison(comparison, console)
    text = _text(console)
    _assert_fits(text, width)
    cells = _cells(text)
    summary = comparison.summary.set_index(["measure", "contract"])
    expected = []
    for measure in terminal.COMPARE_ROWS:
        for contract in comparison.contracts:
            row = summary.loc[(measure, contract)]
            expected.append(_pm(row["mean"], row["ci_low"], row["ci_high"], row["unit"]))
            if contract != comparison.baseline:
                expected.append(_pm(row["diff_mean"], row["diff_ci_low"], row["diff_ci_high"], row["unit"], True))
    assert not _missing(expected, cells), _missing(expected, cells)[:10]
    for contract in comparison.contracts:
        assert contract_label(contract) in cells
    # The outcomes contract's observability tables.
    years = comparison.outcomes
    assert f"{count(years['expected'].mean())}" in cells
    for row in comparison.wrong_way.itertuples():
        assert count(row.population) in cells
        assert percent(100 * row.p_wrong_way, 0) in cells


@pytest.mark.parametrize("width", WIDTHS)
def test_comparison_incidence_fits(comparison, width: int) -> None:  # type: ignore[no-untyped-def]
    console = _console(width)
    policy = comparison.scenario.provider_policy.mode
    terminal.print_incidence(console, comparison.incidence, list(comparison.contracts), policy)
    text = _text(console)
    _assert_fits(text, width)
    frame = comparison.incidence.set_index(["policy", "contract", "measure"])
    expected = [
        _pm(*frame.loc[(policy, contract, m.column), ["mean", "ci_low", "ci_high"]], m.unit)
        for m in INCIDENCE_MEASURES
        for contract in comparison.contracts
    ]
    assert not _missing(expected, _cells(text)), _missing(expected, _cells(text))[:10]


# --------------------------------------------------------------------------- the risk view


def test_every_risk_measure_has_a_column() -> None:
    shown = [col for _title, columns in terminal.RISK_TABLES for col, _header in columns]
    assert sorted(shown) == sorted(RISK_MEASURES)
    assert len(terminal.RISK_CAPTIONS) == len(terminal.RISK_TABLES)


@pytest.mark.parametrize("width", WIDTHS)
def test_risk_view_prints_every_measure_per_growth_and_contract(comparison, width: int) -> None:  # type: ignore[no-untyped-def]
    console = _console(width)
    terminal.print_risk(console, comparison.risk, list(comparison.contracts), comparison.scenario.risk_view)
    text = _text(console)
    _assert_fits(text, width)
    for header in ("unpaid hours", "declined", "wait days", "missed", "deferred", "surplus", "spend"):
        assert header in text, header
    means = comparison.risk.set_index(["demand_growth_per_year", "contract", "measure"])["mean"]
    growths = list(dict.fromkeys(comparison.risk["demand_growth_per_year"]))
    tables = text.split("Who bears the risk of demand growth")[1:]
    assert len(tables) == len(terminal.RISK_TABLES)
    checked = set()
    for table, (_title, columns) in zip(tables, terminal.RISK_TABLES, strict=True):
        assert _header(table)[1:] == [header for _col, header in columns]
        growth = None
        seen = 0
        for row in _rows(table):
            if not any(row[1:]):  # a growth rate's heading row: "6.0% a year"
                growth = next(g for g in growths if row[0] == f"{percent(100 * g)} a year")
                continue
            contract = next(c for c in comparison.contracts if contract_label(c) == row[0])
            for (col, _name), cell in zip(columns, row[1:], strict=True):
                assert cell == by_unit(means[(growth, contract, col)], UNITS[col]), (col, growth, contract)
                checked.add(col)
            seen += 1
        assert seen == len(growths) * len(comparison.contracts)
    assert checked == set(RISK_MEASURES)


# --------------------------------------------------------------------------- advise and sweep


def test_advice_table_fits() -> None:
    table = pd.DataFrame(
        {
            "measure": ["commissioner_spend_gbp_per_year", "wait_mean_days", "admissions_per_year"],
            "mean": [15_790_123.4, 1.04, 2_350.2],
            "relative_half_width": [0.0123, 0.21, 0.013],
            "replications_needed": [3.0, float("nan"), 12.0],
        }
    )
    result = SimpleNamespace(
        replications=SimpleNamespace(table=table, replications_run=8, recommended=None),
        warmup=SimpleNamespace(truncation_months={"caseload": 2, "waiting_list": 1}, recommended_days=61),
    )
    console = _console(80)
    terminal.print_advice(console, result, 0.05, 8, 30)
    text = _text(console)
    _assert_fits(text, 80)
    assert {"£15.8m", "1.0", "2,350", "more than run", "Commissioner spend"} <= _cells(text)
    assert _header(text) == ["measure", "mean", "± % now", "replications needed"]


def test_sweep_table_fits_with_a_long_parameter_path(tmp_path: Path) -> None:
    long = "contracts.cost_and_volume.marginal_rate_above_threshold_for_each_locality"
    sens = pd.DataFrame(
        {
            "output": ["admissions_per_year"] * 2,
            "parameter": [long, "workforce.unpaid_overtime_share"],
            "method": ["prcc"] * 2,
            "index": ["PRCC"] * 2,
            "value": [-0.8123, 0.1],
            "ci_low": [-0.95, -0.31],
            "ci_high": [-0.62, 0.47],
        }
    )
    outcome = SimpleNamespace(
        sensitivity=sens,
        notes=[],
        failed=pd.DataFrame(columns=["point", "replication", "contract", "error"]),
        out_dir=tmp_path,
        ran=2,
        reused=0,
        total_tasks=2,
    )
    console = _console(80)
    terminal.print_sweep(outcome, None, console)
    text = _text(console)
    _assert_fits(text, 80)
    assert {"-0.812", "0.100", "-0.95 – -0.62", "-0.31 – 0.47"} <= _cells(text)
    # Parameters are shown in words (the sweep report's labels), folded over lines, never cut.
    shown = " ".join(" ".join(row[0].split()) for row in _rows(text))
    assert long not in shown
    assert "workforce.unpaid_overtime_share" not in shown
    for path in (long, "workforce.unpaid_overtime_share"):
        assert " ".join(parameter_label(path).text.split()) in " ".join(shown.split()), path


# --------------------------------------------------------------------------- through the command line


def test_commands_print_within_the_terminal_width(tmp_path: Path) -> None:
    """The real commands, with the terminal's width from COLUMNS as a user's shell sets it."""
    runner = CliRunner()
    for width in WIDTHS:
        out = tmp_path / f"run{width}"
        result = runner.invoke(main, ["run", str(TINY), "-r", "2", "-q", "-o", str(out)], env={"COLUMNS": str(width)})
        assert result.exit_code == 0, result.output
        _assert_fits(result.stdout, width)
        assert "Who absorbs the activity the contract does not pay for" in result.stdout
    out = tmp_path / "cmp"
    args = ["compare", str(TINY), "-r", "1", "-q", "-j", "1", "--no-incidence", "-o", str(out)]
    result = runner.invoke(main, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    _assert_fits(result.stdout, 80)
    for contract in ("block", "cost and volume", "capitation", "outcomes-based", "blended"):
        assert contract in _cells(result.stdout)
