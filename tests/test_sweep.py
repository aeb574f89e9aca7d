"""Sweeps: same tables on every executor, resume after a kill, analysis against known indices,
and located errors for bad sweep files."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import small_dict
from click.testing import CliRunner

from fundsim.cli import main
from fundsim.sweep import analysis
from fundsim.sweep.design import design_table
from fundsim.sweep.executors import ExecutorChoice
from fundsim.sweep.overrides import apply, check_path, parse_path
from fundsim.sweep.run import run_sweep
from fundsim.sweep.spec import SweepSpec

SWEEP = """\
name: tiny
base: base.yaml
design: {design}
points: {points}
replications: 2
seed: 11
contracts: [block, cost_and_volume]
parameters:
  - path: demand.growth_per_year
    uniform: [0.0, 0.08]
  - path: workforce.grades[1].fte
    uniform: [1.0, 2.0]
outputs:
  - measure: absorbed_gbp_per_year
    contract: block
  - measure: commissioner_spend_gbp_per_year
    contract: cost_and_volume
    minus: block
"""


def _write_sweep(folder: Path, *, policy: str = "responsive", design: str = "lhs", points: int = 2) -> Path:
    """A sweep over a tiny one-locality service (about 0.2 s a simulation)."""
    folder.mkdir(parents=True, exist_ok=True)
    base = small_dict(population=8_000, years=0.5, warmup_days=30)
    base["provider_policy"] = {"mode": policy}
    base["simulation"]["seed"] = 7
    (folder / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    path = folder / "sweep.yaml"
    path.write_text(SWEEP.format(design=design, points=points), encoding="utf-8")
    return path


def _tables(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in ("results.csv", "outputs.csv", "sensitivity.csv")}


# --------------------------------------------------------------------------- executors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory):
    """A real ``dask scheduler`` and ``dask worker`` (2 processes) on 127.0.0.1, as subprocesses."""
    pytest.importorskip("distributed", reason="dask.distributed not installed (pip install 'fundsim[dask]')")
    # The `dask` command of this Python's environment: one found elsewhere on PATH would run the
    # workers on other package versions (a venv used without activating it, as CI's legs do).
    beside = Path(sys.executable).with_name("dask")
    dask_cli = str(beside) if beside.exists() else shutil.which("dask")
    if dask_cli is None:
        pytest.skip("the `dask` command is not on PATH")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    workdir = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    scheduler = subprocess.Popen(
        [dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = subprocess.Popen(
        [dask_cli, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
         "--local-directory", str(workdir)],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    if len(client.scheduler_info()["workers"]) >= 2:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("dask scheduler/worker did not come up within 60 s")
            time.sleep(0.5)
        yield address
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
        for proc in (worker, scheduler):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_tables_are_byte_identical_on_serial_pool_and_dask(tmp_path, dask_scheduler) -> None:
    """2 points × 2 contracts × 2 replications: the same bytes whoever runs them."""
    sweep = _write_sweep(tmp_path)
    runs = {}
    for label, args in (
        ("serial", ["-j", "1"]),
        ("pool", ["-j", "2"]),
        ("dask", ["--scheduler", dask_scheduler]),
    ):
        out = tmp_path / label
        result = CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(out), "-q", *args])
        assert result.exit_code == 0, result.output
        runs[label] = _tables(out)
    assert runs["pool"] == runs["serial"]
    assert runs["dask"] == runs["serial"]
    results = pd.read_csv(tmp_path / "serial" / "results.csv")
    assert len(results) == 2 * 2 * 2
    assert sorted(results["contract"].unique()) == ["block", "cost_and_volume"]
    # The HTML page: a scatter per output; with 2 points no rank correlation can be estimated, so
    # no tornado (the analysis says why).
    html = (tmp_path / "serial" / "report.html").read_text(encoding="utf-8")
    for k in (1, 2):
        assert f'<figure id="scatter-{k}">' in html
        assert (tmp_path / "serial" / "figures" / f"scatter-{k}.svg").is_file()
        assert f'<figure id="tornado-{k}">' not in html
    assert html.count('<img src="data:image/svg+xml;base64,') == html.count("<figcaption>") == 2
    assert "fewer than 3 points" in html


def test_sweep_report_has_a_tornado_per_analysed_output(tmp_path) -> None:
    sweep = _write_sweep(tmp_path, policy="passive", points=5)
    result = CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(tmp_path / "out"), "-q", "-j", "1"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    sens = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert set(sens["method"]) == {"prcc"}
    for k in (1, 2):
        for kind in ("tornado", "scatter"):
            assert f'<figure id="{kind}-{k}">' in html
            assert (tmp_path / "out" / "figures" / f"{kind}-{k}.png").is_file()
    assert html.count("<figcaption>") == 4


def test_tornado_bars_are_the_indices_largest_on_top() -> None:
    from fundsim.report.sensitivity import tornado_figure

    sens = pd.DataFrame(
        {
            "output": "y",
            "parameter": ["a", "b", "c"],
            "method": "prcc",
            "index": "PRCC",
            "value": [0.2, -0.9, 0.5],
            "ci_low": [0.1, -0.95, 0.3],
            "ci_high": [0.3, -0.8, 0.7],
        }
    )
    ax = tornado_figure(sens, "y").axes[0]
    widths = [bar.get_width() for bar in ax.patches]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["a", "c", "b"]  # bottom to top: |0.2| < |0.5| < |-0.9|
    assert widths == pytest.approx([0.2, 0.5, -0.9])


def test_passive_policy_simulates_once_per_point_and_replication(tmp_path) -> None:
    sweep = _write_sweep(tmp_path, policy="passive")
    outcome = run_sweep(sweep, tmp_path / "out", ExecutorChoice(jobs=1))
    assert outcome.total_tasks == 2 * 2  # points × replications; each priced under both contracts
    assert len(outcome.results) == 2 * 2 * 2
    # One trace priced twice: activity is identical under both contracts, point by point.
    r = outcome.results.set_index(["point", "replication", "contract"])["delivered_activity_per_year"].unstack()
    np.testing.assert_array_equal(r["block"].to_numpy(), r["cost_and_volume"].to_numpy())


# --------------------------------------------------------------------------- resume


def test_a_killed_sweep_resumes_without_redoing_finished_runs(tmp_path) -> None:
    """SIGKILL after a few partitions exist; the rerun keeps them and ends equal to an uninterrupted run."""
    sweep = _write_sweep(tmp_path, points=4)
    reference = tmp_path / "reference"
    assert CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(reference), "-q", "-j", "1"]).exit_code == 0

    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "fundsim.cli", "sweep", str(sweep), "-o", str(out), "-q", "-j", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = out / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if runs.is_dir() and len(list(runs.glob("p*.parquet"))) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in runs.glob("p*.parquet")}
    assert 3 <= len(before) < 16
    assert not (out / "results.csv").exists()  # the tables are written only at the end

    result = CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(out), "-q", "-j", "1"])
    assert result.exit_code == 0, result.output
    assert f"reused {len(before)} of 16 runs" in " ".join(result.output.split())
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in runs.glob("p*.parquet")}
    assert all(after[name] == stamp for name, stamp in before.items())  # not recomputed, not rewritten
    assert _tables(out) == _tables(reference)


def test_a_folder_of_another_sweep_is_refused(tmp_path) -> None:
    sweep = _write_sweep(tmp_path / "a")
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(out), "-q", "-j", "1"]).exit_code == 0
    other = _write_sweep(tmp_path / "b", points=3)
    result = CliRunner().invoke(main, ["sweep", str(other), "-o", str(out), "-q", "-j", "1"])
    assert result.exit_code == 2
    assert "different sweep" in result.output
    assert "Traceback" not in result.output
    assert (out / "results.csv").exists()  # nothing already saved is lost


def test_a_failing_point_is_recorded_and_the_others_finish(tmp_path) -> None:
    """A range that makes some points invalid (a probability above 1) fails those points only."""
    sweep = _write_sweep(tmp_path, points=6)
    text = sweep.read_text().replace(
        "  - path: workforce.grades[1].fte\n    uniform: [1.0, 2.0]",
        "  - path: demand.urgent_share\n    uniform: [0.5, 1.5]",
    )
    sweep.write_text(text)
    result = CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(tmp_path / "out"), "-q", "-j", "1"])
    assert result.exit_code == 0, result.output
    design = pd.read_parquet(tmp_path / "out" / "design.parquet")
    bad = set(design.loc[design["demand.urgent_share"] > 1.0, "point"])
    assert 0 < len(bad) < 6
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert set(failures["point"]) == bad
    assert failures["error"].str.contains("urgent_share").all()
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert set(results["point"]) == set(range(6)) - bad
    assert "failed" in result.output


# --------------------------------------------------------------------------- analysis


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values() -> None:
    """Ishigami (a = 7, b = 0.1) through the sweep's own design and analysis code.

    Analytic indices (Ishigami & Homma 1990; Saltelli et al. 2008, Global Sensitivity Analysis,
    §4.6): V = a²/8 + b π⁴/5 + b² π⁸/18 + 1/2; V1 = (1 + b π⁴/5)²/2, V2 = a²/8, V13 = 8 b² π⁸/225.
    Each of the six indices must fall inside its own 99% bootstrap interval (with six intervals, a
    correct estimator fails this with probability about 6%; the seed is fixed).
    """
    a, b = 7.0, 0.1
    pi = np.pi
    v = a**2 / 8 + b * pi**4 / 5 + b**2 * pi**8 / 18 + 0.5
    v1 = (1 + b * pi**4 / 5) ** 2 / 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * pi**8 / 225
    expected = {"S1": [v1 / v, v2 / v, 0.0], "ST": [(v1 + v13) / v, v2 / v, v13 / v]}

    spec = SweepSpec(
        name="ishigami",
        base="none.yaml",
        design="sobol",
        points=2048,
        seed=3,
        parameters=[{"path": f"x{i}", "uniform": [-pi, pi]} for i in (1, 2, 3)],
        outputs=[{"measure": "admissions_per_year", "contract": "block"}],
    )
    x = design_table(spec)[["x1", "x2", "x3"]].to_numpy()
    y = np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
    old = analysis.LEVEL
    analysis.LEVEL = 0.99
    try:
        table = analysis.sobol_indices(spec, y)
    finally:
        analysis.LEVEL = old
    for index, values in expected.items():
        rows = table[table["index"] == index].reset_index(drop=True)
        for j, true in enumerate(values):
            assert rows.loc[j, "ci_low"] <= true <= rows.loc[j, "ci_high"], (index, j, rows.loc[j].to_dict(), true)


def test_prcc_recovers_a_monotone_signal_and_ignores_noise() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(200, 3))
    y = np.exp(3 * x[:, 0]) - 2 * x[:, 1] + 0.01 * rng.normal(size=200)
    _, lo, hi = analysis.prcc(x, y)
    assert lo[0] > 0  # increasing in x0: the whole interval is positive
    assert hi[1] < 0  # decreasing in x1
    assert lo[2] < 0 < hi[2]  # x2 is not used: its interval covers zero


# --------------------------------------------------------------------------- overrides


def test_dotted_paths() -> None:
    data = {"demand": {"growth_per_year": 0.03}, "workforce": {"grades": [{"fte": 10}, {"fte": 20}]}}
    assert parse_path("workforce.grades[1].fte") == ["workforce", "grades", 1, "fte"]
    assert check_path(data, "workforce.grades[1].fte") is None
    assert "index 2 is out of range" in check_path(data, "workforce.grades[2].fte")
    assert "no field 'growth'" in check_path(data, "demand.growth")
    assert "not a single value" in check_path(data, "workforce.grades")
    out = apply(data, {"workforce.grades[0].fte": 12.6, "demand.growth_per_year": 0.05})
    assert out["workforce"]["grades"][0]["fte"] == 13  # a whole-number field takes the nearest whole number
    assert out["demand"]["growth_per_year"] == 0.05
    assert data["workforce"]["grades"][0]["fte"] == 10  # the base is not touched


# --------------------------------------------------------------------------- bad sweep files


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("path: demand.growth_per_year", "path: demand.growth_rate", "no field 'growth_rate'"),
        ("uniform: [0.0, 0.08]", "uniform: [0.08, 0.08]", "empty range"),
        ("design: lhs", "design: sobol", "power of 2"),
        ("design: lhs", "design: grid\nmorris_levels: 4", "at least 2 levels"),
        ("contracts: [block, cost_and_volume]", "contracts: [block, capitation_x]", "capitation_x"),
        ("design: lhs", "design: bogus", "design"),
        ("    contract: block\n  - measure", "    contract: outcomes\n  - measure", "not among the sweep's contracts"),
    ],
)
def test_bad_sweep_files_exit_2_with_a_located_message(tmp_path, old, new, expected) -> None:
    sweep = _write_sweep(tmp_path, points=3 if "sobol" in new else 1 if "grid" in new else 2)
    text = sweep.read_text()
    assert old in text
    sweep.write_text(text.replace(old, new, 1))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(out), "-q", "-j", "1"])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert str(sweep) in result.output
    assert "Traceback" not in result.output
    assert not (out / "runs").exists()  # nothing ran


def test_unknown_path_message_names_the_line(tmp_path) -> None:
    sweep = _write_sweep(tmp_path)
    text = sweep.read_text().replace("path: workforce.grades[1].fte", "path: workforce.grades[9].fte")
    sweep.write_text(text)
    result = CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 2
    line = text[: text.index("grades[9]")].count("\n") + 1
    assert f"{sweep}:{line}: parameters[1].path" in result.output
    assert "out of range" in result.output
