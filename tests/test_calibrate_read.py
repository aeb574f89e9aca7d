"""Located problems in a bad extract: file, line, column and kind; never a value from the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fundsim.calibrate.read import read_extract
from fundsim.calibrate.synth import SynthOptions, generate_extract, write_extract
from fundsim.cli import main  # the real command group: calibrate and synth-extract are registered on it
from fundsim.errors import ScenarioError
from fundsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clean_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    tables = generate_extract(load_scenario(ROOT / "scenarios/tiny.yaml"), SynthOptions(months=4, seed=5))
    write_extract(tables, folder)
    return folder


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _edit(folder: Path, table: str, change) -> pd.DataFrame:
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = change(frame)
    frame.to_csv(path, index=False)
    return frame


def _problem(extract, kind: str):
    found = [p for p in extract.problems if kind in p.kind]
    assert found, [str(p) for p in extract.problems]
    return found[0]


def test_clean_extract_has_no_problems(clean_extract: Path) -> None:
    extract = read_extract(clean_extract)
    assert extract.problems == []
    quality = extract.quality()
    assert (quality.loc[quality["column"] == "(whole row usable)", "share_valid"] == 1.0).all()


def test_missing_column_is_fatal_and_suggests_the_close_name(clean_extract: Path, tmp_path: Path) -> None:
    folder = _copy(clean_extract, tmp_path / "x")
    _edit(folder, "contacts", lambda f: f.rename(columns={"ClinContDurOfCareCont": "ClinContDurOfCareCnt"}))
    with pytest.raises(ScenarioError) as err:
        read_extract(folder)
    text = str(err.value)
    assert "contacts.csv:1: ClinContDurOfCareCont: missing required column" in text
    assert "did you mean 'ClinContDurOfCareCnt'" in text


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "kind"),
    [
        ("referrals", 3, "PriorityTypeCode", "Z", "unknown national code"),
        ("contacts", 4, "ConsMechanism", "77", "unknown national code"),
        ("contacts", 2, "ClinContDurOfCareCont", "900", "implausible duration"),
        ("contacts", 5, "ClinContDurOfCareCont", "-4", "negative value"),
        ("referrals", 6, "ReferralRequestReceivedDate", "31/02/2025", "not a date"),
    ],
)
def test_bad_values_are_located_and_not_echoed(
    clean_extract: Path, tmp_path: Path, table: str, row: int, column: str, value: str, kind: str
) -> None:
    folder = _copy(clean_extract, tmp_path / "x")

    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[row, column] = value
        return f

    _edit(folder, table, change)
    extract = read_extract(folder)
    problem = _problem(extract, kind)
    assert problem.file == f"{table}.csv"
    assert problem.column == column
    assert problem.rows[0] == row + 2  # the header is line 1
    assert value not in str(problem)
    assert extract.tables[table].rows_unusable >= 1


def test_dates_in_the_wrong_order(clean_extract: Path, tmp_path: Path) -> None:
    folder = _copy(clean_extract, tmp_path / "x")
    frame = _edit(
        folder,
        "referrals",
        lambda f: f.assign(
            ServDischDate=f["ServDischDate"].where(f.index != 0, "2000-01-01"),
        ),
    )
    extract = read_extract(folder)
    problem = _problem(extract, "dates in the wrong order")
    assert (problem.file, problem.column, problem.rows[0]) == ("referrals.csv", "ServDischDate", 2)
    assert frame.loc[0, "Person_ID"] not in str(problem)


def test_contact_before_its_referral_and_duplicates(clean_extract: Path, tmp_path: Path) -> None:
    folder = _copy(clean_extract, tmp_path / "x")

    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[1, "CareContDate"] = "1999-01-01"
        return pd.concat([f, f.iloc[[7]]], ignore_index=True)

    frame = _edit(folder, "contacts", change)
    extract = read_extract(folder)
    before = _problem(extract, "contact before its referral")
    assert (before.file, before.column, before.rows[0]) == ("contacts.csv", "CareContDate", 3)
    dup = _problem(extract, "duplicate row")
    assert dup.rows[0] == len(frame) + 1
    assert frame.loc[7, "CareContactId"] not in str(dup)


def test_cli_strict_exits_2_with_located_message(clean_extract: Path, tmp_path: Path) -> None:
    folder = _copy(clean_extract, tmp_path / "x")
    frame = _edit(
        folder, "referrals", lambda f: f.assign(PriorityTypeCode=f["PriorityTypeCode"].where(f.index != 2, "Q"))
    )
    result = CliRunner().invoke(main, ["calibrate", str(folder), "-o", str(tmp_path / "s.yaml"), "--strict"])
    assert result.exit_code == 2
    assert "referrals.csv:4: PriorityTypeCode: unknown national code" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert frame.loc[2, "Person_ID"] not in result.stderr


def test_cli_missing_folder_and_missing_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["calibrate", str(tmp_path / "nope"), "-o", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2
    assert "not a folder" in result.stderr
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["calibrate", str(tmp_path / "empty"), "-o", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2
    assert "no referrals table" in result.stderr


def test_mapping_file_renames_columns_codes_and_teams(clean_extract: Path, tmp_path: Path) -> None:
    from fundsim.calibrate.schema import load_mapping

    folder = _copy(clean_extract, tmp_path / "x")
    _edit(
        folder,
        "referrals",
        lambda f: f.rename(columns={"PriorityTypeCode": "prio"}).assign(
            prio=lambda g: g["prio"].map({"1": "R", "2": "U"})
        ),
    )
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        "tables:\n  referrals:\n    columns: {PriorityTypeCode: prio}\n"
        "codes:\n  PriorityTypeCode: {R: '1', U: '2'}\nteams: {Village: North}\n"
    )
    extract = read_extract(folder, load_mapping(mapping_file))
    assert extract.problems == []
    assert set(extract["referrals"]["PriorityTypeCode"]) == {"routine", "urgent"}
    assert set(extract["referrals"]["locality"]) == {"North"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables:\n  referrals:\n    columns: {PriorityTypCode: prio}\n")
    with pytest.raises(ScenarioError, match="did you mean PriorityTypeCode"):
        load_mapping(bad)
