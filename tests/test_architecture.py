"""The house's shape, checked: layers point down, contracts stay pure, the simulation never reports.

The contracts are in pyproject.toml (``[tool.importlinter]``); import-linter reads the package's
imports as they are, so a new import that runs up a layer fails here, naming it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    # The lint-imports of this environment (beside this Python), not one found on PATH.
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def _lint_copy_with(tmp_path: Path, module: str, planted: str) -> subprocess.CompletedProcess[str]:
    """import-linter over a copy of the package with ``planted`` appended to ``module`` (a relative path)."""
    import shutil

    shutil.copytree(ROOT / "fundsim", tmp_path / "fundsim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "fundsim" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{planted}\n", encoding="utf-8")
    lint = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(lint), "--config", str(tmp_path / "pyproject.toml"), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )


def test_a_planted_import_below_the_public_api_breaks_the_thin_cli_contract(tmp_path: Path) -> None:
    proc = _lint_copy_with(tmp_path, "cli/reports.py", "import fundsim.experiment.stats  # planted")
    assert proc.returncode != 0
    assert "The command line is thin" in proc.stdout
    assert "BROKEN" in proc.stdout
    assert "fundsim.cli.reports -> fundsim.experiment.stats" in proc.stdout


def test_a_planted_import_from_the_simulation_to_the_report_breaks_two_contracts(tmp_path: Path) -> None:
    proc = _lint_copy_with(tmp_path, "sim/ledger.py", "import fundsim.report.style  # planted")
    assert proc.returncode != 0
    # The layers and "the simulation does not report" both break.
    assert re.search(r"Contracts: \d+ kept, 2 broken", proc.stdout), proc.stdout[-2000:]
    assert "The simulation does not report BROKEN" in " ".join(proc.stdout.split())
    assert "fundsim.sim.ledger -> fundsim.report.style" in proc.stdout
