"""Calibrate -> validate -> run round trip; the check's files; every output scanned for person-level data."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import fundsim
from fundsim.calibrate.suppress import count_text, suppress_count
from fundsim.cli import main  # the real command group: calibrate and synth-extract are registered on it

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("cal")
    extract, out = base / "extract", base / "out" / "mine.yaml"
    runner = CliRunner()
    args = ["synth-extract", str(ROOT / "scenarios/tiny.yaml"), "-o", str(extract), "--months", "14"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output + result.stderr
    result = runner.invoke(
        main, ["calibrate", str(extract), "-o", str(out), "--check", "--holdout-months", "2", "-r", "3"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    return extract, out


def test_round_trip_validates_and_runs(calibrated: tuple[Path, Path]) -> None:
    _extract, out = calibrated
    scenario = fundsim.load_scenario(out)
    assert [t.name for t in scenario.tiers] == ["low", "medium", "high"]
    short = scenario.model_copy(
        update={"simulation": scenario.simulation.model_copy(update={"horizon_years": 0.25, "warmup_days": 30})}
    )
    run = fundsim.simulate(short, 0)
    assert run.ledger["referrals"].sum() > 0


def test_every_value_says_where_it_came_from(calibrated: tuple[Path, Path]) -> None:
    _extract, out = calibrated
    text = out.read_text()
    assert "fitted from referrals.csv (n = " in text
    assert "95% CI" in text
    assert "assumption: not in the extract" in text
    data = yaml.safe_load(text)
    for line in text.splitlines():
        if re.match(r"^\s+(mean|referral_rate_per_1000_per_year|urgent_share|fte|interval_days):", line):
            assert "#" in line or line.strip().startswith("mean: 20"), line  # travel's comment sits on its parent
    assert data["contracts"]["outcomes"]["expected_admissions_per_referral"].keys() == {"low", "medium", "high"}


def test_check_files(calibrated: tuple[Path, Path]) -> None:
    _extract, out = calibrated
    check = out.with_name("mine-check")
    table = pd.read_csv(check / "check.csv")
    assert set(table["measure"]) == {"referrals", "contacts", "contact_hours", "caseload_end", "wait_mean_days"}
    assert table["held_out"].sum() == 2 * 5
    for measure in set(table["measure"]):
        assert (check / f"check-{measure}.png").stat().st_size > 1000
        assert (check / f"check-{measure}.svg").exists()
    # The page: one figure per measure and the coverage table.
    page = (check / "check.html").read_text()
    assert page.count("<img ") == 5
    assert "predictive interval" in page
    # Coverage: a row per measure and one for all; 3 replications give the extremes, stated as (3 + 1 − 2)/4.
    coverage = pd.read_csv(check / "coverage.csv")
    assert list(coverage["measure"]) == [*dict.fromkeys(table["measure"]), "all"]
    assert (coverage["share_expected"] == 0.5).all()
    held = table[table["held_out"] & table["side"].isin(["within", "above", "below"])]
    assert coverage["months_compared"].iloc[-1] == len(held)
    assert coverage["months_within"].iloc[-1] == (held["side"] == "within").sum()
    # The workbook stores numbers as numbers.
    import openpyxl

    sheet = openpyxl.load_workbook(check / "check.xlsx")["check"]
    header = [c.value for c in sheet[1]]
    col = header.index("sim_high") + 1
    month_col = header.index("month") + 1
    first_month = sheet.cell(row=2, column=month_col).value
    # The check simulates from the end of the first whole month (it starts from the lists open then):
    # that month has no simulated band, every later one has numbers.
    rows = range(2, sheet.max_row + 1)
    later = [r for r in rows if sheet.cell(row=r, column=month_col).value != first_month]
    assert len(later) == len(table) - 5
    assert all(isinstance(sheet.cell(row=r, column=col).value, float | int) for r in later)
    assert all(sheet.cell(row=r, column=col).value is None for r in rows if r not in later)


def test_no_output_holds_person_ids_or_contact_dates(calibrated: tuple[Path, Path]) -> None:
    extract, out = calibrated
    refs = pd.read_csv(extract / "referrals.csv", dtype=str)
    contacts = pd.read_csv(extract / "contacts.csv", dtype=str)
    identifiers = set(refs["Person_ID"]) | set(refs["ServiceRequestId"]) | set(contacts["CareContactId"])
    outputs = [p for p in out.parent.rglob("*") if p.is_file()]
    assert len(outputs) >= 10
    allowed_dates = set()
    for path in outputs:
        if path.suffix in (".png", ".xlsx"):
            data = path.read_bytes()
            assert not any(i.encode() in data for i in identifiers), path
            continue
        text = path.read_text()
        leaked = [i for i in identifiers if i in text]
        assert not leaked, f"{path.name} holds {len(leaked)} identifier(s)"
        for date in re.findall(r"\d{4}-\d{2}-\d{2}", text):
            allowed_dates.add(date)
    contact_dates = set(contacts["CareContDate"])
    # Dates written are month starts (the start date, monthly rows) and the extract's last day only.
    last_day = max(contact_dates)
    for date in allowed_dates:
        assert date.endswith("-01") or date == last_day or date.endswith(("-28", "-29", "-30", "-31")), date


def test_small_number_rule() -> None:
    assert [suppress_count(n) for n in (0, 1, 7, 8, 12, 13, 1234)] == [0, None, None, 10, 10, 15, 1235]
    assert count_text(5) == "*"
    assert count_text(1234) == "1,235"
