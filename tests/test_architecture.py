"""The house's shape, checked: layers point down, contracts stay pure, the simulation never reports.

The contracts are in pyproject.toml (``[tool.importlinter]``); import-linter reads the package's
imports as they are, so a new import that runs up a layer fails here, naming it.
"""

from __future__ import annotations

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
