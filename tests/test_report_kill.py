"""Kill ``fundsim report`` with SIGKILL at seeded moments: the results it reads are never touched,
and every report file is either absent, the previous complete one, or a new complete one."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fundsim.experiment.store import file_record

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny.yaml"
KILLS = 10


def _report(folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fundsim.cli", "report", str(folder), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _check(folder: Path, results: dict[str, dict]) -> None:
    """The invariant after a kill."""
    manifest = json.loads((folder / "manifest.json").read_text())
    # The results the report reads are exactly as they were (same files, sizes and hashes).
    assert manifest["files"] == results
    for name, record in results.items():
        assert file_record(folder / name) == record
    html = folder / "report.html"
    if html.exists():
        text = html.read_text(encoding="utf-8")
        assert text.rstrip().endswith("</html>")
    figures = folder / "figures"
    if figures.exists():
        pngs = {p.stem for p in figures.glob("*.png")}
        svgs = {p.stem for p in figures.glob("*.svg")}
        assert pngs == svgs
        assert pngs
        assert all(p.read_text(encoding="utf-8").rstrip().endswith("</svg>") for p in figures.glob("*.svg"))
    workbook = folder / "tables.xlsx"
    if workbook.exists():
        assert load_workbook(workbook, read_only=True).sheetnames


def test_sigkill_during_report_never_leaves_a_broken_file(tmp_path) -> None:
    folder = tmp_path / "cmp"
    done = subprocess.run(
        [sys.executable, "-m", "fundsim.cli", "compare", str(TINY), "-r", "2", "-j", "1", "--no-risk", "-q",
         "-c", "block,cost_and_volume", "-o", str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads((folder / "manifest.json").read_text())["files"]
    t0 = time.perf_counter()
    assert _report(folder).wait(timeout=300) == 0
    duration = time.perf_counter() - t0
    rng = random.Random(20261123)
    for _ in range(KILLS):
        proc = _report(folder)
        time.sleep(rng.uniform(0.0, 1.1 * duration))
        proc.kill()
        proc.wait()
        _check(folder, results)
    # A report after the kills completes, and leaves no temporary file or folder behind.
    assert _report(folder).wait(timeout=300) == 0
    _check(folder, results)
    assert (folder / "report.html").is_file()
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", ["truncate_html", "svg_without_png"])
def test_the_invariant_check_can_fail(tmp_path, damage) -> None:
    folder = tmp_path
    (folder / "manifest.json").write_text(json.dumps({"files": {}}))
    if damage == "truncate_html":
        (folder / "report.html").write_text("<!DOCTYPE html><html><body>half")
    else:
        (folder / "figures").mkdir()
        (folder / "figures" / "a.svg").write_text("<svg></svg>")
    with pytest.raises(AssertionError):
        _check(folder, {})
