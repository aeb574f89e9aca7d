"""Hostile suite, the output side (issue 15, items 1 to 3): nothing saved is ever destroyed, the
place is checked before computing, and a compute is kept when writing fails afterwards.

Categories: ``overwrite`` (``--overwrite`` and ``report --out`` against folders and files fundsim
did not write), ``output-place`` (the preflight: shapes of path, names, file systems), ``rescue``
(writing fails after the compute: the results go to a fallback folder, exit 4).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_kit import (
    Guard,
    child_processes,
    copy_folder,
    invoke,
    judge,
    tmpfs,
    write_sweep,
    write_tiny,
)

import fundsim.api
from fundsim.experiment import rescue as rescue_module

# --------------------------------------------------------------------------- targets fundsim must not replace


def _user_folder(work: Path) -> Path:
    folder = work / "out"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    return folder


def _source_tree(work: Path) -> Path:
    return copy_folder(Path(fundsim.api.__file__).parent / "experiment", work / "out")


def _hidden_only(work: Path) -> Path:
    folder = work / "out"
    folder.mkdir()
    (folder / ".keep").write_text("")
    return folder


def _manifest(text: str) -> Callable[[Path], Path]:
    def make(work: Path) -> Path:
        folder = work / "out"
        folder.mkdir()
        (folder / "manifest.json").write_text(text)
        (folder / "data.csv").write_text("a,b\n1,2\n")
        return folder

    return make


def _manifest_special(kind: str) -> Callable[[Path], Path]:
    def make(work: Path) -> Path:
        folder = work / "out"
        folder.mkdir()
        target = folder / "manifest.json"
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "dir":
            target.mkdir()
        elif kind == "zero":
            target.symlink_to("/dev/zero")
        (folder / "data.csv").write_text("x")
        return folder

    return make


def _saved_plus(kind: str, extra: str) -> Callable[[Path, dict], Path]:
    def make(work: Path, saved: dict) -> Path:
        folder = copy_folder(saved[kind], work / "out")
        if extra == "file":
            (folder / "notes.txt").write_text("mine")
        elif extra == "folder":
            (folder / "mine").mkdir()
            (folder / "mine" / "a.txt").write_text("mine")
        return folder

    return make


def _not_a_folder(kind: str) -> Callable[[Path], Path]:
    def make(work: Path) -> Path:
        target = work / "out"
        if kind == "file":
            target.write_text("a file")
        elif kind == "fifo":
            os.mkfifo(target)
        elif kind == "device":
            os.mknod(target, 0o600 | 0o020000, os.makedev(1, 3))  # like /dev/null
        elif kind == "socket":
            with socket.socket(socket.AF_UNIX) as sock:
                sock.bind(str(target))
        elif kind == "link-to-user-folder":
            _user_folder(work).rename(work / "elsewhere")
            target.symlink_to(work / "elsewhere")
        elif kind == "dangling-link":
            target.symlink_to(work / "nowhere")
        return target

    return make


PLAIN_TARGETS: dict[str, Callable[[Path], Path]] = {
    "user-folder": _user_folder,
    "source-tree": _source_tree,
    "hidden-file-only": _hidden_only,
    "manifest-without-kind": _manifest('{"name": "mine"}'),
    "manifest-unknown-kind": _manifest('{"kind": "holiday", "files": {}}'),
    "manifest-list": _manifest("[1, 2, 3]"),
    "manifest-not-json": _manifest("{not json"),
    "manifest-kind-number": _manifest('{"kind": 5}'),
    "manifest-run-files-escape": _manifest(
        '{"kind": "run", "files": {"../../etc/passwd": {"bytes": 1, "sha256": "x"}}}'
    ),
    "manifest-fifo": _manifest_special("fifo"),
    "manifest-dir": _manifest_special("dir"),
    "manifest-dev-zero": _manifest_special("zero"),
    "regular-file": _not_a_folder("file"),
    "fifo": _not_a_folder("fifo"),
    "device": _not_a_folder("device"),
    "socket": _not_a_folder("socket"),
    "link-to-user-folder": _not_a_folder("link-to-user-folder"),
}

SAVED_TARGETS = {
    "run-plus-user-file": ("run", "file"),
    "run-plus-user-folder": ("run", "folder"),
    "compare-plus-user-file": ("compare", "file"),
    "sweep-folder": ("sweep", ""),
    "other-kind": ("", ""),  # a run folder for compare, a compare folder for run
}


def _command(cmd: str, scenario: Path, out: Path, *extra: str) -> list[object]:
    if cmd == "run":
        return ["run", scenario, "-r", "1", "-q", "-o", out, *extra]
    return ["compare", scenario, "-r", "1", "-q", "--no-risk", "-c", "block,cost_and_volume", "-o", out, *extra]


@pytest.mark.hostile("overwrite")
@pytest.mark.parametrize("cmd", ["run", "compare"])
@pytest.mark.parametrize("target", sorted(PLAIN_TARGETS))
def test_overwrite_refuses_what_fundsim_did_not_write(request, tmp_path, cmd, target) -> None:
    if target == "device" and os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    out = PLAIN_TARGETS[target](tmp_path)
    guard = Guard([tmp_path])
    outcome = invoke(_command(cmd, scenario, out, "--overwrite"))
    judge(request, outcome, [2], guard=guard, workdir=tmp_path)


@pytest.mark.hostile("overwrite")
@pytest.mark.parametrize("cmd", ["run", "compare"])
@pytest.mark.parametrize("target", sorted(SAVED_TARGETS))
def test_overwrite_refuses_fundsim_folders_of_another_kind_or_with_user_files(
    request, tmp_path, hostile_saved, cmd, target
) -> None:
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    kind, extra = SAVED_TARGETS[target]
    if target == "other-kind":
        kind = "compare" if cmd == "run" else "run"
    out = _saved_plus(kind, extra)(tmp_path, hostile_saved)
    guard = Guard([tmp_path])
    outcome = invoke(_command(cmd, scenario, out, "--overwrite"))
    judge(request, outcome, [2], guard=guard, workdir=tmp_path, says=["will not replace it"])


@pytest.mark.hostile("overwrite")
@pytest.mark.parametrize("cmd", ["run", "compare"])
@pytest.mark.parametrize("state", ["own-folder", "own-folder-with-report", "empty-folder", "absent"])
def test_overwrite_replaces_a_folder_of_its_own_kind(request, tmp_path, hostile_saved, cmd, state) -> None:
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    out = tmp_path / "out"
    if state.startswith("own-folder"):
        copy_folder(hostile_saved[cmd], out)
        if state.endswith("report"):
            (out / "report.html").write_text('<meta name="generator" content="fundsim 0.3.0">')
            (out / "figures").mkdir()
            (out / "figures" / "a.svg").write_text("<svg/>")
    elif state == "empty-folder":
        out.mkdir()
    guard = Guard([tmp_path / "in"])
    outcome = invoke(_command(cmd, scenario, out, "--overwrite", "--seed", "77"))
    judge(request, outcome, [0], guard=guard, workdir=tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 77
    assert manifest["kind"] == cmd
    assert sorted([*manifest["files"], "manifest.json"]) == sorted(p.name for p in out.iterdir())


@pytest.mark.hostile("overwrite")
@pytest.mark.parametrize("target", ["run", "compare", "user-folder", "sweep-plus-user-file", "file"])
def test_sweep_overwrite_only_replaces_a_sweep_folder(request, tmp_path, hostile_saved, target) -> None:
    sweep = write_sweep(tmp_path / "in")
    out = tmp_path / "out"
    if target in ("run", "compare"):
        copy_folder(hostile_saved[target], out)
    elif target == "user-folder":
        _user_folder(tmp_path)
    elif target == "file":
        out.write_text("mine")
    else:
        copy_folder(hostile_saved["sweep"], out)
        (out / "notes.txt").write_text("mine")
    guard = Guard([tmp_path])
    outcome = invoke(["sweep", sweep, "-q", "-j", "1", "-o", out, "--overwrite"])
    judge(request, outcome, [2], guard=guard, workdir=tmp_path)


# --------------------------------------------------------------------------- report --out


def _report_target(name: str, work: Path, saved: dict, results: Path) -> Path:
    if name in ("summary.csv", "ledger.parquet", "manifest.json", "replications.csv", "provider.parquet"):
        return results / name
    if name == "figures-folder":
        (results / "figures").mkdir(exist_ok=True)
        return results / "figures"
    if name == "tables.xlsx":
        return results / "tables.xlsx"
    if name == "subfolder-of-results":
        return results / "sub" / "page.html"
    if name == "not-html-in-results":
        return results / "page.txt"
    if name == "other-results-folder":
        return copy_folder(saved["compare"], work / "other") / "report.html"
    if name == "inside-a-sweep":
        return copy_folder(saved["sweep"], work / "sweep") / "runs" / "page.html"
    if name == "char-device":
        os.mknod(work / "dev", 0o600 | 0o020000, os.makedev(1, 3))
        return work / "dev"
    if name == "fifo":
        os.mkfifo(work / "fifo")
        return work / "fifo"
    if name == "folder":
        (work / "folder").mkdir()
        return work / "folder"
    if name == "link-to-device":
        (work / "link").symlink_to("/dev/null")
        return work / "link"
    if name == "scenario-file":
        return saved["scenario_copy"]
    if name == "user-html":
        (work / "mine.html").write_text("<html><body>my own page</body></html>")
        return work / "mine.html"
    if name == "through-a-file":
        (work / "afile").write_text("x")
        return work / "afile" / "page.html"
    raise AssertionError(name)


REPORT_TARGETS = [
    "summary.csv",
    "ledger.parquet",
    "manifest.json",
    "replications.csv",
    "provider.parquet",
    "figures-folder",
    "tables.xlsx",
    "subfolder-of-results",
    "not-html-in-results",
    "other-results-folder",
    "inside-a-sweep",
    "char-device",
    "fifo",
    "folder",
    "link-to-device",
    "scenario-file",
    "user-html",
    "through-a-file",
]


@pytest.mark.hostile("overwrite")
@pytest.mark.parametrize("target", REPORT_TARGETS)
def test_report_out_never_replaces_results_inputs_devices_or_user_files(request, tmp_path, hostile_saved, target):
    if target == "char-device" and os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    results = copy_folder(hostile_saved["run"], tmp_path / "R")
    saved = {**hostile_saved, "scenario_copy": write_tiny(tmp_path / "tiny.yaml")}
    out = _report_target(target, tmp_path, saved, results)
    guard = Guard([tmp_path])
    outcome = invoke(["report", results, "--out", out, "-q"])
    judge(request, outcome, [2], guard=guard, workdir=tmp_path)


# --------------------------------------------------------------------------- the preflight


def _place(name: str, work: Path, saved: dict) -> tuple[str, list[str], int]:
    """(the -o value, extra options, the exit status expected) for a place name."""
    if name == "dot":
        return ".", [], 2
    if name == "dotdot":
        return "..", [], 2
    if name == "root":
        return "/", ["--overwrite"], 2
    if name == "cwd-absolute":
        return str(work), ["--overwrite"], 2
    if name == "parent-of-cwd":
        return str(work.parent), ["--overwrite"], 2
    if name == "through-a-file":
        (work / "afile").write_text("x")
        return "afile/sub", [], 2
    if name == "through-a-fifo":
        os.mkfifo(work / "fifo")
        return "fifo/sub", [], 2
    if name == "name-256-bytes":
        return "a" * 256, [], 2
    if name == "name-240-bytes":  # legal, but its temporary sibling would not be
        return "b" * 240, [], 2
    if name == "multibyte-name-too-long":
        return "é" * 120, [], 2
    if name == "path-too-long":
        return "/".join(["c" * 200] * 22), [], 2
    if name == "inside-a-run-folder":
        copy_folder(saved["run"], work / "R")
        return "R/sub", [], 2
    if name == "inside-a-sweep-folder":
        copy_folder(saved["sweep"], work / "S")
        return "S/runs/x", [], 2
    if name == "folder-holding-the-scenario":
        return "in", ["--overwrite"], 2
    if name == "empty-string":
        return "", [], 2
    if name == "nested-new":
        return "a/b/c", [], 0
    if name == "trailing-slash":
        return "out/", [], 0
    if name == "spaces-and-unicode":
        return "résumé des résultats ✓", [], 0
    if name == "markup-like":
        return "res[/x][bold]", [], 0
    if name == "name-200-bytes":
        return "d" * 200, [], 0
    raise AssertionError(name)


PLACES = [
    "dot",
    "dotdot",
    "root",
    "cwd-absolute",
    "parent-of-cwd",
    "through-a-file",
    "through-a-fifo",
    "name-256-bytes",
    "name-240-bytes",
    "multibyte-name-too-long",
    "path-too-long",
    "inside-a-run-folder",
    "inside-a-sweep-folder",
    "folder-holding-the-scenario",
    "empty-string",
    "nested-new",
    "trailing-slash",
    "spaces-and-unicode",
    "markup-like",
    "name-200-bytes",
]


@pytest.mark.hostile("output-place")
@pytest.mark.parametrize(
    ("cmd", "place"),
    [("run", p) for p in PLACES]
    + [("compare", p) for p in PLACES if p not in ("name-200-bytes", "spaces-and-unicode", "nested-new")],
)
def test_preflight_refuses_places_that_cannot_hold_results(request, tmp_path, monkeypatch, hostile_saved, cmd, place):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    scenario = write_tiny(work / "in" / "tiny.yaml")
    out, extra, expected = _place(place, work, hostile_saved)
    guard = Guard([work / "in"])
    computed = []
    for name in ("run_replications", "compare"):
        real = getattr(fundsim.api, name)

        def watch(*args, real=real, **kwargs):  # type: ignore[no-untyped-def]
            computed.append(1)  # the preflight must refuse before any simulation
            return real(*args, **kwargs)

        monkeypatch.setattr(fundsim.api, name, watch)
    outcome = invoke(_command(cmd, scenario, out, *extra))  # type: ignore[arg-type]
    judge(request, outcome, [expected], guard=guard, workdir=work)
    if expected == 2:
        assert not computed, "simulated before refusing"


@pytest.mark.hostile("output-place")
@pytest.mark.parametrize("case", ["read-only", "full", "mount-point", "mount-point-overwrite", "inside-mount"])
def test_preflight_on_small_file_systems(request, tmp_path, case) -> None:
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    mount = tmp_path / "mnt"
    with tmpfs(mount, "1m" if case != "full" else "128k", readonly=case == "read-only") as fs:
        if case == "full":
            with open(fs / "filler", "wb") as handle:  # fill it up
                try:
                    while True:
                        handle.write(b"\0" * 65536)
                except OSError:
                    pass
        out = {"mount-point": fs, "mount-point-overwrite": fs, "inside-mount": fs / "results"}.get(case, fs / "x")
        extra = ["--overwrite"] if case == "mount-point-overwrite" else []
        if case.startswith("mount-point"):
            (fs / "mine.txt").write_text("mine")
        guard = Guard([tmp_path / "in", fs])
        outcome = invoke(["run", scenario, "-r", "1", "-q", "-o", out, *extra])
        expected = 0 if case == "inside-mount" else 2
        judge(request, outcome, [expected], guard=None if expected == 0 else guard, workdir=tmp_path)
        if case == "inside-mount":
            assert (fs / "results" / "manifest.json").is_file()


# --------------------------------------------------------------------------- rescue: writing fails after the compute


def _failing_parquet(target: Path, code: int) -> Callable[[object, Path], None]:
    real = fundsim.api.write_parquet

    def write(frame, path):  # type: ignore[no-untyped-def]
        if f".{target.name}.tmp-" in str(path):  # the target's temporary folder, not the fallback's
            raise OSError(code, os.strerror(code), str(path))
        real(frame, path)

    return write


@pytest.mark.hostile("rescue")
@pytest.mark.parametrize("cmd", ["run", "compare"])
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EIO, errno.EDQUOT])
def test_a_failed_write_keeps_the_results_in_a_fallback_folder(request, tmp_path, monkeypatch, cmd, code) -> None:
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    rescue_dir = tmp_path / "rescued"
    monkeypatch.setenv("FUNDSIM_RESCUE_DIR", str(rescue_dir))
    out = tmp_path / "target-folder"
    monkeypatch.setattr(fundsim.api, "write_parquet", _failing_parquet(out, code))
    guard = Guard([tmp_path / "in"])
    outcome = invoke(_command(cmd, scenario, out))
    judge(request, outcome, [4], guard=guard, workdir=tmp_path, says=["saved to", os.strerror(code)])
    (rescued,) = list(rescue_dir.iterdir())
    manifest = json.loads((rescued / "manifest.json").read_text())
    assert sorted([*manifest["files"], "manifest.json"]) == sorted(p.name for p in rescued.iterdir())
    assert str(rescued) in outcome.output
    assert not out.exists()


@pytest.mark.hostile("rescue")
def test_a_folder_filled_by_someone_else_during_the_compute_is_kept_and_the_results_rescued(
    request, tmp_path, monkeypatch
) -> None:
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    monkeypatch.setenv("FUNDSIM_RESCUE_DIR", str(tmp_path / "rescued"))
    out = tmp_path / "out"
    real = fundsim.api.run_replications

    def meanwhile(*args, **kwargs):  # another user writes into the folder while we simulate
        result = real(*args, **kwargs)
        out.mkdir()
        (out / "theirs.txt").write_text("theirs")
        return result

    monkeypatch.setattr(fundsim.api, "run_replications", meanwhile)
    outcome = invoke(["run", scenario, "-r", "1", "-q", "-o", out])
    judge(request, outcome, [4], workdir=tmp_path, says=["saved to"])
    assert (out / "theirs.txt").read_text() == "theirs"
    assert sorted(p.name for p in out.iterdir()) == ["theirs.txt"]


@pytest.mark.hostile("rescue")
def test_when_no_fallback_takes_the_results_the_message_says_so(request, tmp_path, monkeypatch) -> None:
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setattr(rescue_module, "rescue_dirs", lambda: [tmp_path / "a-file" / "x", Path("/proc/nope")])
    out = tmp_path / "out"

    def no_space(frame, path):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(fundsim.api, "write_parquet", no_space)
    outcome = invoke(["run", scenario, "-r", "1", "-q", "-o", out])
    judge(request, outcome, [4], workdir=tmp_path, says=["the results are lost"])


@pytest.mark.hostile("rescue")
def test_a_disk_that_fills_during_the_compute(request, tmp_path, monkeypatch) -> None:
    """A real tmpfs: the preflight passes, then the disk fills while simulating; the results are rescued."""
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    monkeypatch.setenv("FUNDSIM_RESCUE_DIR", str(tmp_path / "rescued"))
    with tmpfs(tmp_path / "mnt", "1m") as fs:
        real = fundsim.api.run_replications

        def fill(*args, **kwargs):
            result = real(*args, **kwargs)
            with open(fs / "filler", "wb") as handle:
                try:
                    while True:
                        handle.write(b"\0" * 65536)
                except OSError:
                    pass
            return result

        monkeypatch.setattr(fundsim.api, "run_replications", fill)
        before = child_processes()
        outcome = invoke(["run", scenario, "-r", "1", "-q", "-o", fs / "results"])
        judge(
            request,
            outcome,
            [4],
            workdir=tmp_path,
            says=["No space left on device", "saved to"],
            children_before=before,
        )
        assert sorted(p.name for p in fs.iterdir()) == ["filler"]
    rescued = list((tmp_path / "rescued").iterdir())
    assert len(rescued) == 1
    assert (rescued[0] / "manifest.json").is_file()


@pytest.fixture(autouse=True)
def _no_stray_mounts(tmp_path):
    yield
    mount = tmp_path / "mnt"
    if os.path.ismount(mount):  # pragma: no cover - the tmpfs helper always unmounts
        subprocess.run(["umount", "-l", str(mount)], check=False)
