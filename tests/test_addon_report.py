"""Add-on services end to end: `fundsim compare` measures the add-on's effect, writes it into a folder
the ownership and manifest checks accept, prints it, and the report shows the "Add-on services" section."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from builders import small_dict
from click.testing import CliRunner

from fundsim.cli import main
from fundsim.experiment.manifest import check_manifest, read_manifest
from fundsim.experiment.ownership import check_replaceable, foreign_entries
from fundsim.report import build_report
from fundsim.report.results import changed_files


def _scenario_file(tmp_path: Path, addons: bool = True) -> Path:
    d = small_dict(population=20_000, years=0.5, warmup_days=30)
    d["provider_policy"]["mode"] = "passive"
    d["contracts"]["cost_and_volume"] = {"unit": "contacts", "price_gbp": 70.0, "baseline_volume_per_year": 5000}
    if addons:
        d["addons"] = {
            "urgent_response": {
                "staffing": "shared",
                "calls_per_100k_per_month": 300.0,
                "funding": {"mode": "separate", "price_gbp_per_response": 200.0},
            }
        }
    path = tmp_path / "addons.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("addons")
    out = tmp / "res"
    code, text = _invoke("compare", str(_scenario_file(tmp)), "-r", "2", "-j", "1", "-o", str(out), "-q", "--report")
    assert code == 0, text
    return out, text


def test_the_effect_files_are_listed_in_the_manifest_and_the_folder_is_fundsims(folder: tuple[Path, str]) -> None:
    out, _ = folder
    manifest = read_manifest(out)
    assert manifest is not None
    check_manifest(manifest, "compare", out)
    assert {"addon_effect.csv", "addon_effect_replications.csv"} <= set(manifest["files"])
    assert changed_files(out, manifest) == []
    assert foreign_entries(out, manifest, "compare") == []  # the report's files included
    check_replaceable(out, "compare")  # --overwrite may replace it: nothing in it is foreign


def test_the_effect_table_holds_net_admissions_avoided_under_both_staffing_choices(folder: tuple[Path, str]) -> None:
    out, text = folder
    effect = pd.read_csv(out / "addon_effect.csv")
    net = effect[effect["measure"] == "net_admissions_avoided_per_year"]
    assert sorted(net["staffing"]) == ["dedicated", "shared"]
    assert net.loc[net["staffing"] == "shared", "configured"].item()
    assert "Net admissions avoided" in text
    assert "shared (as configured)" in text


def test_every_contract_prices_the_add_on_funding_line(folder: tuple[Path, str]) -> None:
    out, _ = folder
    provider = pd.read_parquet(out / "provider.parquet")
    for _, rows in provider.groupby("contract"):
        # 200 a response, for every call in every month.
        assert rows["urgent_response_income_gbp"].to_numpy() == pytest.approx(200.0 * rows["ucr_calls"].to_numpy())
    incidence = pd.read_csv(out / "incidence.csv")
    assert "addon_core_hours_per_year" in set(incidence["measure"])


def test_the_report_shows_the_add_on_section_and_figure(folder: tuple[Path, str]) -> None:
    out, _ = folder
    page = (out / "report.html").read_text()
    assert 'id="addons"' in page
    assert "Add-on services" in page
    assert "Urgent calls reached within 2 hours" in page
    assert (out / "figures" / "addons.png").exists()
    assert (out / "tables" / "addon_effect.csv").exists()


def test_no_addon_effect_skips_it_and_a_scenario_without_add_ons_refuses_the_flag(tmp_path: Path) -> None:
    out = tmp_path / "plain"
    code, text = _invoke(
        "compare", str(_scenario_file(tmp_path)), "-r", "1", "-j", "1", "-o", str(out), "-q", "--no-addon-effect",
        "--no-incidence", "-c", "block",
    )  # fmt: skip
    assert code == 0, text
    assert not (out / "addon_effect.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "addon_effect.csv" not in manifest["files"]
    bare = tmp_path / "bare"
    bare.mkdir()
    code, text = _invoke(
        "compare", str(_scenario_file(bare, addons=False)), "-o", str(tmp_path / "x"), "--addon-effect"
    )
    assert code == 2
    assert "--addon-effect" in text
    assert "addons" in text


def test_a_report_without_add_ons_does_not_list_the_add_on_figure_as_missing(tmp_path: Path) -> None:
    out = tmp_path / "bare"
    code, text = _invoke(
        "compare",
        str(_scenario_file(tmp_path, addons=False)),
        "-r",
        "1",
        "-j",
        "1",
        "-o",
        str(out),
        "-q",
        "--no-incidence",
    )
    assert code == 0, text
    outputs = build_report(out)
    assert not [s for s in outputs.skipped if s.startswith("Add-on services")]
    assert 'id="addons"' not in outputs.html.read_text()
