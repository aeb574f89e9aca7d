"""The CLI says who absorbs the over-performance, warns before and after, and advises."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from builders import ROOT, example_dict
from click.testing import CliRunner

from fundsim.cli import main

TINY = ROOT / "scenarios" / "tiny.yaml"


def test_validate_warns_an_undersized_service_before_any_run(tmp_path: Path) -> None:
    d = example_dict()
    d["localities"] = [
        {**d["localities"][0], "population": 200_000, "staff_share": 0.5},
        {**d["localities"][1], "population": 200_000, "staff_share": 0.5},
    ]
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("short of staff") == 2
    assert "warning: sizing: localities[0] (North)" in result.stderr


def test_run_writes_and_prints_the_incidence_under_both_policies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(TINY), "-r", "2", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    incidence = pd.read_csv(out / "incidence.csv")
    assert set(incidence["policy"]) == {"responsive", "passive"}
    assert "Who absorbs the activity the contract does not pay for" in result.stdout
    assert "How much the block contract hides depends on the provider" in result.stdout
    # The terminal's deficit is the table's, not a number of its own.
    row = incidence[(incidence["policy"] == "passive") & (incidence["measure"] == "deficit_gbp_per_year")].iloc[0]
    assert row["mean"] >= 0


def test_expected_rates_prints_yaml_for_the_outcomes_contract(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["expected-rates", str(TINY), "-r", "2"])
    assert result.exit_code == 0, result.output
    block = yaml.safe_load(result.stdout)
    assert set(block["expected_admissions_per_referral"]) == {"low", "medium", "high"}
    assert all(v >= 0 for v in block["expected_admissions_per_referral"].values())


def test_advise_recommends_replications_and_a_warm_up() -> None:
    result = CliRunner().invoke(main, ["advise", str(TINY), "--max-replications", "8", "--precision", "0.5"])
    assert result.exit_code == 0, result.output
    assert "replications needed" in result.stdout
    assert "set simulation.warmup_days to at least" in result.stdout
