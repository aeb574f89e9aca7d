"""The command line end to end: a real run, and every kind of bad input (exit 2, a located message,
no traceback, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from builders import EXAMPLE, small_dict
from click.testing import CliRunner

from fundsim.cli import main


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    # An exception escaping the CLI would be a traceback for the user.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output + (result.stderr if hasattr(result, "stderr") else "")


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small_dict(population=20_000, years=0.5, warmup_days=30), sort_keys=False))
    return path


def test_run_writes_results_and_manifest(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    code, text = _invoke("run", str(small_file), "-r", "2", "-o", str(out), "-q")
    assert code == 0, text
    assert sorted(p.name for p in out.iterdir()) == [
        "decisions.csv",
        "incidence.csv",
        "ledger.parquet",
        "manifest.json",
        "provider.parquet",
        "replications.csv",
        "summary.csv",
    ]
    ledger = pd.read_parquet(out / "ledger.parquet")
    assert set(ledger["replication"]) == {0, 1}
    manifest = json.loads((out / "manifest.json").read_text())
    import hashlib

    assert manifest["scenario_sha256"] == hashlib.sha256(small_file.read_bytes()).hexdigest()
    assert manifest["replications"] == 2
    assert manifest["seed"] == yaml.safe_load(small_file.read_text())["simulation"]["seed"]
    for key in ("fundsim_version", "command", "wall_time_s", "packages"):
        assert key in manifest
    summary = pd.read_csv(out / "summary.csv")
    assert "absorbed_gbp_per_year" in set(summary["measure"])
    assert "Over-performance" in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".res")], "temporary folder left behind"


def test_run_seed_option_changes_numbers(small_file: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert _invoke("run", str(small_file), "-r", "1", "-o", str(a), "-q")[0] == 0
    assert _invoke("run", str(small_file), "-r", "1", "-o", str(b), "-q", "--seed", "4242")[0] == 0
    la, lb = pd.read_parquet(a / "ledger.parquet"), pd.read_parquet(b / "ledger.parquet")
    assert not la["referrals"].equals(lb["referrals"])
    assert json.loads((b / "manifest.json").read_text())["seed"] == 4242


def test_existing_output_refused_then_overwritten(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    out.mkdir()
    keep = out / "precious.txt"
    keep.write_text("do not lose me")
    code, text = _invoke("run", str(small_file), "-r", "1", "-o", str(out), "-q")
    assert code == 2
    assert "--overwrite" in text
    assert "Traceback" not in text
    assert keep.read_text() == "do not lose me"
    # Issue 15: --overwrite replaces only a folder fundsim wrote (its manifest says so), never this one.
    code, text = _invoke("run", str(small_file), "-r", "1", "-o", str(out), "-q", "--overwrite")
    assert code == 2
    assert "not a folder fundsim wrote" in text
    assert keep.read_text() == "do not lose me"
    keep.unlink()
    assert _invoke("run", str(small_file), "-r", "1", "-o", str(out), "-q")[0] == 0  # an empty folder is filled
    code, _ = _invoke("run", str(small_file), "-r", "1", "-o", str(out), "-q", "--overwrite", "--seed", "5")
    assert code == 0  # a run folder fundsim wrote is replaced
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5


def test_validate_example_and_schema() -> None:
    code, text = _invoke("validate", str(EXAMPLE))
    assert code == 0
    assert "valid scenario 'example'" in text
    code, text = _invoke("schema")
    assert code == 0
    schema = json.loads(text)
    assert schema["additionalProperties"] is False
    assert "workforce" in schema["properties"]


BASE = EXAMPLE.read_text(encoding="utf-8")


def _bad_cases() -> list[tuple[str, str, list[str]]]:
    """(id, file text, substrings the message must contain)."""
    return [
        ("yaml_syntax", BASE.replace("  horizon_years: 3", "  horizon_years: [3"), ["example.yaml:"]),
        ("wrong_type", BASE.replace("  horizon_years: 3 ", "  horizon_years: three "), ["simulation.horizon_years"]),
        (
            "unknown_key",
            BASE.replace("      fte: 54", "      fte_count: 54"),
            ["workforce.grades[1].fte_count", "unknown key", "did you mean 'fte'"],
        ),
        (
            "out_of_range",
            BASE.replace("      fte: 54", "      fte: -2"),
            ["workforce.grades[1].fte: must be >= 0, got -2"],
        ),
        ("mix_not_one", BASE.replace("    high: 0.15", "    high: 0.25"), ["complexity_mix", "sum to 1", "1.1"]),
        ("empty", "", ["empty"]),
    ]


@pytest.mark.parametrize(("case", "text", "needles"), _bad_cases(), ids=[c[0] for c in _bad_cases()])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_input_exit_2_located_nothing_written(
    case: str, text: str, needles: list[str], command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "example.yaml"
    path.write_text(text, encoding="utf-8")
    args = [command, str(path)] + (["-o", str(tmp_path / "out"), "-q"] if command == "run" else [])
    code, out = _invoke(*args)
    assert code == 2, out
    assert "Traceback" not in out
    for needle in needles:
        assert needle in out, f"{needle!r} not in {out!r}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["example.yaml"], "something was written"


def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = _invoke("run", "nope.yaml")
    assert code == 2
    assert "nope.yaml" in out
    assert "Traceback" not in out
    assert list(tmp_path.iterdir()) == []


def test_bad_option_value() -> None:
    code, out = _invoke("run", str(EXAMPLE), "--replications", "0")
    assert code == 2
    assert "replications" in out.lower()


def test_unknown_bad_value_line_and_column(tmp_path: Path) -> None:
    """The message gives the line and column of the offending value."""
    text = BASE.replace("      fte: 54", "      fte: -2")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.strip().startswith("fte: -2"))
    path = tmp_path / "example.yaml"
    path.write_text(text)
    code, out = _invoke("validate", str(path))
    assert code == 2
    assert f"example.yaml:{line}:12: workforce.grades[1].fte: must be >= 0, got -2" in out


def test_semantic_check_min_accepted_tier(tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(BASE.replace("  min_accepted_tier: 0", "  min_accepted_tier: 3"))
    code, out = _invoke("validate", str(path))
    assert code == 2
    assert "care.min_accepted_tier" in out
    assert "below the number of tiers (3)" in out
