"""Hostile suite, tampered folders (issue 15, item 7): every reader validates what it reads.

Categories: ``tampered-results`` (``fundsim report`` on a run or compare folder whose manifest or
files were damaged, replaced by something that is not a file, or changed since fundsim wrote them:
exit 2 naming the file, nothing written) and ``tampered-sweep`` (a sweep folder with damaged
partitions, which resume sets aside and runs again; damaged or foreign manifests, which are
refused; summary files changed since the sweep wrote them, which the report refuses).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hostile_kit import Guard, copy_folder, invoke, judge

# --------------------------------------------------------------------------- results folders: the manifest


def _set_manifest(text: str | bytes) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        path = folder / "manifest.json"
        path.unlink()
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    return tamper


def _edit_manifest(**changes: object) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        manifest = json.loads((folder / "manifest.json").read_text())
        for key, value in changes.items():
            if value is KeyError:
                manifest.pop(key, None)
            else:
                manifest[key] = value
        (folder / "manifest.json").write_text(json.dumps(manifest))

    return tamper


def _manifest_special(kind: str) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        path = folder / "manifest.json"
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "dir":
            path.mkdir()
        elif kind == "dev-zero":
            path.symlink_to("/dev/zero")
        elif kind == "huge":
            with open(path, "wb") as handle:
                handle.truncate(65 * 1024 * 1024)
        elif kind == "truncated":
            path.write_text('{"kind": "run", "files": {"ledger.parq')

    return tamper


MANIFESTS: dict[str, Callable[[Path], None]] = {
    "list": _set_manifest("[1, 2]"),
    "string": _set_manifest('"run"'),
    "null": _set_manifest("null"),
    "number": _set_manifest("5"),
    "empty-object": _set_manifest("{}"),
    "not-utf8": _set_manifest(b'{"kind": "r\xffn"}'),
    "deep-json": _set_manifest("[" * 100_000 + "]" * 100_000),
    "nan": _set_manifest('{"kind": "run", "replications": NaN}'),
    "kind-number": _edit_manifest(kind=5),
    "kind-unknown": _edit_manifest(kind="holiday"),
    "kind-sweep": _edit_manifest(kind="sweep"),
    "contract-number": _edit_manifest(contract=5, contracts=5),
    "contracts-of-numbers": _edit_manifest(contracts=[1, 2]),
    "replications-text": _edit_manifest(replications="two"),
    "files-list": _edit_manifest(files=["a", "b"]),
    "files-entry-text": _edit_manifest(files={"ledger.parquet": "big"}),
    "files-escape": _edit_manifest(files={"../../../etc/passwd": {"bytes": 1, "sha256": "0"}}),
    "scenario-list": _edit_manifest(scenario=[1, 2]),
    "version-object": _edit_manifest(fundsim_version={"a": 1}),
    "fifo": _manifest_special("fifo"),
    "folder": _manifest_special("dir"),
    "dev-zero": _manifest_special("dev-zero"),
    "huge": _manifest_special("huge"),
    "truncated": _manifest_special("truncated"),
}


@pytest.mark.hostile("tampered-results")
@pytest.mark.parametrize("kind", ["run", "compare"])
@pytest.mark.parametrize("tamper", sorted(MANIFESTS))
def test_report_refuses_a_damaged_manifest(request, tmp_path, hostile_saved, kind, tamper) -> None:
    folder = copy_folder(hostile_saved[kind], tmp_path / "R")
    MANIFESTS[tamper](folder)
    guard = Guard([tmp_path])
    outcome = invoke(["report", folder, "-q"], timeout=60)
    judge(request, outcome, [2], guard=guard, workdir=tmp_path, says=[str(folder)])


# --------------------------------------------------------------------------- results folders: the tables


def _csv_text_in_numbers(path: Path) -> None:
    frame = pd.read_csv(path)
    column = next(c for c in frame.columns if pd.api.types.is_float_dtype(frame[c]))
    frame[column] = frame[column].astype(object)
    frame.loc[0, column] = "abc"
    frame.to_csv(path, index=False)


def _parquet_text_in_numbers(path: Path) -> None:
    frame = pd.read_parquet(path)
    column = next(c for c in frame.columns if pd.api.types.is_float_dtype(frame[c]))
    frame[column] = frame[column].astype(str)
    frame.loc[0, column] = "abc"
    frame.to_parquet(path, index=False)


def _drop_column(path: Path) -> None:
    if path.suffix == ".csv":
        frame = pd.read_csv(path)
        frame.drop(columns=[frame.columns[0]]).to_csv(path, index=False)
    else:
        table = pq.read_table(path)
        pq.write_table(table.drop([table.column_names[0]]), path)


def _changed_but_valid(path: Path) -> None:
    if path.suffix == ".csv":
        frame = pd.read_csv(path)
        column = next(c for c in frame.columns if pd.api.types.is_float_dtype(frame[c]))
        frame[column] = frame[column] * 2
        frame.to_csv(path, index=False)
    else:
        table = pq.read_table(path)
        pq.write_table(table.replace_schema_metadata({b"edited": b"yes"}), path)


def _replace_with(kind: str) -> Callable[[Path], None]:
    def tamper(path: Path) -> None:
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
        elif kind == "dev-zero":
            path.symlink_to("/dev/zero")
        elif kind == "empty":
            path.write_bytes(b"")

    return tamper


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _append_garbage(path: Path) -> None:
    with open(path, "ab") as handle:
        handle.write(b"\x00garbage" * 10)


TABLE_TAMPERS: dict[str, Callable[[Path], None]] = {
    "text-in-numbers": lambda p: (_csv_text_in_numbers if p.suffix == ".csv" else _parquet_text_in_numbers)(p),
    "column-missing": _drop_column,
    "changed-but-valid": _changed_but_valid,
    "truncated": _truncate,
    "garbage-appended": _append_garbage,
    "empty": _replace_with("empty"),
    "missing": lambda p: p.unlink(),
    "fifo": _replace_with("fifo"),
    "folder": _replace_with("folder"),
    "dev-zero": _replace_with("dev-zero"),
}
FILES = {
    "run": ["summary.csv", "replications.csv", "provider.parquet", "ledger.parquet"],
    "compare": ["comparison.parquet", "replications.parquet", "provider.parquet", "ledger.parquet"],
}
TABLE_CASES = [("run", f, t) for f in FILES["run"] for t in TABLE_TAMPERS] + [
    ("compare", f, t) for f in FILES["compare"] for t in ("text-in-numbers", "truncated", "fifo", "changed-but-valid")
]


@pytest.mark.hostile("tampered-results")
@pytest.mark.parametrize(("kind", "name", "tamper"), TABLE_CASES)
def test_report_refuses_damaged_tables_naming_the_file(request, tmp_path, hostile_saved, kind, name, tamper) -> None:
    folder = copy_folder(hostile_saved[kind], tmp_path / "R")
    if tamper == "text-in-numbers" and name in ("provider.parquet", "ledger.parquet"):
        pass
    TABLE_TAMPERS[tamper](folder / name)
    guard = Guard([tmp_path])
    outcome = invoke(["report", folder, "-q"], timeout=60)
    judge(request, outcome, [2], guard=guard, workdir=tmp_path, says=[str(folder / name)])


@pytest.mark.hostile("tampered-results")
def test_a_changed_folder_is_reported_only_when_the_user_says_so(request, tmp_path, hostile_saved) -> None:
    folder = copy_folder(hostile_saved["run"], tmp_path / "R")
    _changed_but_valid(folder / "summary.csv")
    outcome = invoke(["report", folder, "-q", "--accept-changed"], timeout=180)
    judge(request, outcome, [0], workdir=tmp_path, says=["summary.csv changed since fundsim wrote it"])


# --------------------------------------------------------------------------- sweep folders


def _partition(folder: Path, index: int = 0) -> Path:
    return sorted((folder / "runs").glob("p*.parquet"))[index]


def _partition_text(path: Path) -> None:
    frame = pd.read_parquet(path)
    frame["income_gbp_per_year"] = "lots"
    frame.to_parquet(path, index=False)


def _partition_wrong_columns(path: Path) -> None:
    frame = pd.read_parquet(path).rename(columns={"absorbed_gbp_per_year": "zzz"})
    frame.to_parquet(path, index=False)


def _partition_two_rows(path: Path) -> None:
    frame = pd.read_parquet(path)
    pd.concat([frame, frame]).to_parquet(path, index=False)


def _partition_wrong_run(path: Path) -> None:
    other = sorted(path.parent.glob("p*.parquet"))[-1]
    path.write_bytes(other.read_bytes())


def _partition_bools(path: Path) -> None:
    table = pq.read_table(path)
    column = table.column_names.index("income_gbp_per_year")
    table = table.set_column(column, "income_gbp_per_year", pa.array([True]))
    pq.write_table(table, path)


PARTITION_TAMPERS: dict[str, Callable[[Path], None]] = {
    "empty": lambda p: p.write_bytes(b""),
    "truncated": _truncate,
    "garbage": lambda p: p.write_bytes(b"not parquet at all"),
    "text-in-numbers": _partition_text,
    "booleans-in-numbers": _partition_bools,
    "wrong-columns": _partition_wrong_columns,
    "two-rows": _partition_two_rows,
    "another-run": _partition_wrong_run,
}


@pytest.mark.hostile("tampered-sweep")
@pytest.mark.parametrize("tamper", sorted(PARTITION_TAMPERS))
def test_sweep_resume_sets_aside_and_reruns_a_damaged_partition(request, tmp_path, hostile_saved, tamper) -> None:
    folder = copy_folder(hostile_saved["sweep"], tmp_path / "S")
    victim = _partition(folder)
    PARTITION_TAMPERS[tamper](victim)
    damaged = victim.read_bytes()
    outcome = invoke(["analyse", folder])
    judge(request, outcome, [2], workdir=tmp_path, says=[victim.name])
    outcome = invoke(["sweep", hostile_saved["sweep_file"], "-q", "-j", "1", "-o", folder], timeout=180)
    judge(request, outcome, [0], workdir=tmp_path, says=["set aside", "ran 1 and reused 5 of 6 runs"])
    kept = victim.with_name(victim.name + ".damaged")
    assert kept.read_bytes() == damaged, "the damaged file was not kept as it was"
    assert pd.read_parquet(victim).shape[0] == 1


@pytest.mark.hostile("tampered-sweep")
def test_a_damaged_failure_record_is_set_aside_and_the_run_done(request, tmp_path, hostile_saved) -> None:
    folder = copy_folder(hostile_saved["sweep"], tmp_path / "S")
    victim = _partition(folder)
    record = victim.with_name(victim.name.replace(".parquet", ".error.json"))
    victim.unlink()
    record.write_text("{not json")
    outcome = invoke(["sweep", hostile_saved["sweep_file"], "-q", "-j", "1", "-o", folder], timeout=180)
    judge(request, outcome, [0], workdir=tmp_path, says=["set aside"])
    assert victim.is_file()


SWEEP_MANIFESTS: dict[str, Callable[[Path], None]] = {
    "list": _set_manifest("[]"),
    "no-hash": _edit_manifest(sweep_sha256=KeyError),
    "points-text": _edit_manifest(points="many"),
    "contracts-number": _edit_manifest(contracts=3),
    "fifo": _manifest_special("fifo"),
    "not-json": _set_manifest("{"),
}


@pytest.mark.hostile("tampered-sweep")
@pytest.mark.parametrize("command", ["sweep", "analyse", "report"])
@pytest.mark.parametrize("tamper", sorted(SWEEP_MANIFESTS))
def test_a_damaged_sweep_manifest_is_refused(request, tmp_path, hostile_saved, command, tamper) -> None:
    folder = copy_folder(hostile_saved["sweep"], tmp_path / "S")
    SWEEP_MANIFESTS[tamper](folder)
    guard = Guard([tmp_path])
    args: list[object] = {
        "sweep": ["sweep", hostile_saved["sweep_file"], "-q", "-j", "1", "-o", folder],
        "analyse": ["analyse", folder],
        "report": ["report", folder, "-q"],
    }[command]
    outcome = invoke(args, timeout=60)
    judge(request, outcome, [2], guard=guard, workdir=tmp_path)


@pytest.mark.hostile("tampered-sweep")
@pytest.mark.parametrize("command", ["resume", "analyse", "overwrite"])
def test_a_sweep_folder_of_another_version(request, tmp_path, hostile_saved, command) -> None:
    """Not silently relabelled: refused, or started afresh with --overwrite."""
    folder = copy_folder(hostile_saved["sweep"], tmp_path / "S")
    _edit_manifest(fundsim_version="0.1.0")(folder)
    guard = Guard([tmp_path])
    if command == "analyse":
        outcome = invoke(["analyse", folder])
    else:
        extra = ["--overwrite"] if command == "overwrite" else []
        outcome = invoke(["sweep", hostile_saved["sweep_file"], "-q", "-j", "1", "-o", folder, *extra], timeout=180)
    if command == "overwrite":
        judge(request, outcome, [0], workdir=tmp_path, says=["ran 6 and reused 0 of 6 runs"])
        from fundsim import __version__

        assert json.loads((folder / "manifest.json").read_text())["fundsim_version"] == __version__
    else:
        judge(request, outcome, [2], guard=guard, workdir=tmp_path, says=["0.1.0"])


BAD_SENSITIVITY = "output,parameter,method,index,value,ci_low,ci_high\na,b,c,d,x,y,z\n"
SUMMARY_TAMPERS = {
    "outputs-changed": ("outputs.csv", lambda p: p.write_text(p.read_text().replace("0", "1", 3))),
    "sensitivity-text": ("sensitivity.csv", lambda p: p.write_text(BAD_SENSITIVITY)),
    "design-truncated": ("design.parquet", _truncate),
    "failures-fifo": ("failures.csv", _replace_with("fifo")),
    "design-missing": ("design.parquet", lambda p: p.unlink()),
}


@pytest.mark.hostile("tampered-sweep")
@pytest.mark.parametrize("tamper", sorted(SUMMARY_TAMPERS))
def test_the_sweep_report_refuses_changed_summary_files(request, tmp_path, hostile_saved, tamper) -> None:
    folder = copy_folder(hostile_saved["sweep"], tmp_path / "S")
    name, change = SUMMARY_TAMPERS[tamper]
    change(folder / name)
    guard = Guard([tmp_path])
    outcome = invoke(["report", folder, "-q"], timeout=60)
    judge(request, outcome, [2], guard=guard, workdir=tmp_path, says=[name])
