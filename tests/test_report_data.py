"""Results folders for the report tests, built once per test session.

Not a test module of its own: the report tests import these builders. The scenario is the example
shrunk to two small localities and one year under the passive provider policy, so a comparison of
all five contracts (with a two-point risk view) takes six short simulations.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from builders import example_dict
from click.testing import CliRunner

from fundsim.cli import main
from fundsim.scenario.scaling import scale_contracts

_ROOT = Path(tempfile.mkdtemp(prefix="fundsim-report-tests-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)


def tiny_dict(populations: tuple[int, int] = (8_000, 4_000)) -> dict[str, Any]:
    """The example scenario with two localities of ``populations`` people, one year, passive provider."""
    d = example_dict()
    d["name"] = "tiny"
    d["simulation"].update(horizon_years=1.0, warmup_days=30, replications=2)
    scale = sum(populations) / sum(loc["population"] for loc in d["localities"])
    d["localities"] = d["localities"][: len(populations)]
    for loc, people in zip(d["localities"], populations, strict=True):
        loc.update(population=people, staff_share=people / sum(populations))
    for grade in d["workforce"]["grades"]:
        grade["fte"] = round(grade["fte"] * scale, 2)
    scale_contracts(d["contracts"], scale)
    d["provider_policy"]["mode"] = "passive"
    d["risk_view"] = {"demand_growth_per_year": [0.0, 0.06], "replications": 2}
    return d


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; exit code, stdout and stderr (an escaped exception fails the test)."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def _scenario_file() -> Path:
    path = _ROOT / "tiny.yaml"
    if not path.exists():
        path.write_text(yaml.safe_dump(tiny_dict(), sort_keys=False), encoding="utf-8")
    return path


@functools.cache
def compare_folder() -> Path:
    """``fundsim compare tiny.yaml -r 2 --report``: a comparison of every contract, with its report."""
    out = _ROOT / "compare"
    code, stdout, stderr = invoke(
        "compare", str(_scenario_file()), "-r", "2", "-j", "1", "-o", str(out), "-q", "--report"
    )
    assert code == 0, stdout + stderr
    return out


@functools.cache
def run_folder() -> Path:
    """``fundsim run tiny.yaml -r 2 --report``: a run folder under the block contract, with its report."""
    out = _ROOT / "run"
    code, stdout, stderr = invoke("run", str(_scenario_file()), "-r", "2", "-o", str(out), "-q", "--report")
    assert code == 0, stdout + stderr
    return out


#: What a report adds to a results folder.
REPORT_FILES = ("report.html", "figures", "tables", "tables.xlsx")


def copy_of(folder: Path, name: str) -> Path:
    """A fresh copy of a results folder without its report (for tests that change it)."""
    target = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_ROOT)) / name
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns(*REPORT_FILES))
    return target
