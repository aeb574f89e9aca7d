"""Results folders are written atomically and only where the user said: unit tests of the store
(temporary sibling, swap, clean-up of what a killed process left) and of the confinement of
output paths derived from a scenario's name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from builders import small_dict
from click.testing import CliRunner

from fundsim.api import OutputPathError, default_output_dir
from fundsim.cli import main
from fundsim.errors import FundsimError
from fundsim.experiment import store
from fundsim.experiment.store import OutputExistsError, clean_stale_siblings, file_record, write_outputs


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "data.csv").write_text(text)
    (path / "manifest.json").write_text(json.dumps({"files": {"data.csv": file_record(path / "data.csv")}}))
    return path


def _siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


# --------------------------------------------------------------------------- writing


def test_manifest_is_last_and_lists_every_file_with_size_and_hash(tmp_path: Path) -> None:
    out = tmp_path / "res"
    order: list[str] = []

    def writer(name: str, text: str) -> Callable[[Path], None]:
        def write(path: Path) -> None:
            assert path.parent != out
            assert path.parent.name.startswith(".res.tmp-"), path
            order.append(name)
            path.write_text(text)

        return write

    names = write_outputs(out, False, {"b.csv": writer("b.csv", "b\n"), "a.csv": writer("a.csv", "aa\n")}, {"k": 1})
    assert names == ["b.csv", "a.csv", "manifest.json"]
    assert order == ["b.csv", "a.csv"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["k"] == 1
    assert manifest["files"] == {"b.csv": file_record(out / "b.csv"), "a.csv": file_record(out / "a.csv")}
    assert manifest["files"]["a.csv"]["bytes"] == 3
    assert _siblings(out) == []
    assert oct(out.stat().st_mode & 0o777) != oct(0o700), "the folder kept mkdtemp's private mode"


def test_a_failing_writer_leaves_nothing_and_the_old_folder_untouched(tmp_path: Path) -> None:
    out = _folder(tmp_path / "res", "old\n")

    def boom(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_outputs(out, True, {"data.csv": lambda p: p.write_text("new\n"), "z.csv": boom}, {})
    assert (out / "data.csv").read_text() == "old\n"
    assert sorted(p.name for p in out.iterdir()) == ["data.csv", "manifest.json"]
    assert _siblings(out) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "rename-aside"])
def test_overwrite_replaces_the_folder_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool) -> None:
    if exchange and store._renameat2() is None:
        pytest.skip("no renameat2 on this system")
    if not exchange:
        monkeypatch.setattr(store, "_exchange", lambda a, b: False)
    out = _folder(tmp_path / "res", "old\n")
    (out / "stray.txt").write_text("from the old run")
    write_outputs(out, True, {"data.csv": lambda p: p.write_text("new\n")}, {})
    assert sorted(p.name for p in out.iterdir()) == ["data.csv", "manifest.json"]
    assert (out / "data.csv").read_text() == "new\n"
    assert _siblings(out) == []


def test_existing_folder_is_refused_without_overwrite(tmp_path: Path) -> None:
    out = _folder(tmp_path / "res", "old\n")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        write_outputs(out, False, {"data.csv": lambda p: p.write_text("new\n")}, {})
    assert (out / "data.csv").read_text() == "old\n"
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputExistsError, match="not a folder"):
        write_outputs(tmp_path / "file", True, {}, {})


def test_an_empty_existing_folder_is_filled(tmp_path: Path) -> None:
    out = tmp_path / "res"
    out.mkdir()
    write_outputs(out, False, {"data.csv": lambda p: p.write_text("new\n")}, {})
    assert (out / "data.csv").read_text() == "new\n"


def test_a_folder_filled_by_someone_else_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "res"

    def finish_first(path: Path) -> None:
        path.write_text("mine")
        _folder(out, "theirs\n")  # another run finished first

    with pytest.raises(OutputExistsError):
        write_outputs(out, False, {"mine.csv": finish_first}, {})
    assert (out / "data.csv").read_text() == "theirs\n"
    assert _siblings(out) == []


def test_an_interrupt_removes_the_temporary_folder(tmp_path: Path) -> None:
    out = tmp_path / "res"

    def interrupted(path: Path) -> None:
        path.write_text("x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_outputs(out, False, {"a.csv": lambda p: p.write_text("a"), "b.csv": interrupted}, {})
    assert not out.exists()
    assert _siblings(out) == []


# --------------------------------------------------------------------------- what a killed process leaves


def test_stale_siblings_of_dead_processes_are_cleaned_live_ones_kept(tmp_path: Path) -> None:
    out = _folder(tmp_path / "res", "current\n")
    dead = _dead_pid()
    (tmp_path / f".res.tmp-{dead}-abc").mkdir()
    (tmp_path / f".res.tmp-{dead}-abc" / "ledger.parquet").write_text("half")
    _folder(tmp_path / f".res.old-{dead}", "older\n")
    (tmp_path / f".res.tmp-{os.getpid()}-live").mkdir()  # a write in progress (this process)
    (tmp_path / ".res.tmp-notapid").mkdir()  # not ours: left alone
    (tmp_path / ".other.tmp-1-x").mkdir()  # another target's: left alone
    removed = clean_stale_siblings(out)
    assert sorted(p.name for p in removed) == [f".res.old-{dead}", f".res.tmp-{dead}-abc"]
    assert _siblings(out) == sorted([".res.tmp-notapid", f".res.tmp-{os.getpid()}-live"])
    assert (tmp_path / ".other.tmp-1-x").exists()
    assert (out / "data.csv").read_text() == "current\n"


def test_a_set_aside_old_folder_is_put_back_when_the_target_is_missing(tmp_path: Path) -> None:
    """A process killed between renaming the old folder aside and the new one in (no renameat2)."""
    out = tmp_path / "res"
    dead = _dead_pid()
    _folder(tmp_path / f".res.old-{dead}", "previous\n")
    assert clean_stale_siblings(out) == []
    assert (out / "data.csv").read_text() == "previous\n"
    assert _siblings(out) == []


def test_the_next_write_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "res"
    (tmp_path / f".res.tmp-{_dead_pid()}-abc").mkdir()
    write_outputs(out, False, {"data.csv": lambda p: p.write_text("new\n")}, {})
    assert _siblings(out) == []


# --------------------------------------------------------------------------- confinement of output paths


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../../etc", "path separator"),
        ("..", "outside the results folder"),
        (".", "outside the results folder"),
        ("/etc", "path separator"),
        ("C:evil", "outside the results folder"),
        ("a\\b", "path separator"),
        ("a\0b", "NUL"),
        ("a\nb", "control character"),
        (".hidden", "starts with '.'"),
        ("", "empty"),
        ("  ", "empty"),
        ("name.", "ends with a space or '.'"),
        ("x" * 201, "longer than 200 bytes"),
    ],
)
def test_default_output_dir_refuses_names_that_leave_the_results_folder(name: str, why: str) -> None:
    with pytest.raises(OutputPathError, match="cannot be used as the name of its results folder") as info:
        default_output_dir(name)
    assert why in str(info.value)
    assert isinstance(info.value, FundsimError)  # the CLI reports it with exit status 2


def test_default_output_dir_is_one_folder_inside_results(tmp_path: Path) -> None:
    assert default_output_dir("example") == Path("results") / "example"
    assert default_output_dir("my service v1.2", "-compare") == Path("results") / "my service v1.2-compare"
    assert default_output_dir("ñandú", root=tmp_path) == tmp_path / "ñandú"


@pytest.mark.parametrize("name", ["../../etc", "/tmp/evil", "a/b", "..", ".hidden", "a\\b"])
@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_scenario_name_cannot_move_the_output(
    name: str, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "a" / "b" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    d = small_dict(population=2_000, years=0.1, warmup_days=0)
    d["name"] = name
    path = work / "evil.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    result = CliRunner().invoke(main, [command, str(path), "-r", "1", "-q"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "evil.yaml:" in result.stderr
    assert ": name: " in result.stderr
    # Nothing was written anywhere under tmp_path except the scenario itself.
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [str(Path("a/b/work/evil.yaml"))]


def test_a_scenario_built_in_code_with_a_bad_name_is_refused_before_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema is bypassed (model_copy does not validate); the output path check still holds."""
    from fundsim.scenario import Scenario

    scenario = Scenario.model_validate(small_dict(population=2_000, years=0.1, warmup_days=0))
    evil = scenario.model_copy(update={"name": "../../escaped"})
    with pytest.raises(OutputPathError):
        default_output_dir(evil.name)


def test_out_confines_every_file_to_the_named_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    d = small_dict(population=2_000, years=0.1, warmup_days=0)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    result = CliRunner().invoke(main, ["run", str(path), "-r", "1", "-q", "-o", "mine"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "s.yaml"]
