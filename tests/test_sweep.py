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


# --------------------------------------------------------------------------- grid levels


def _grid_spec(**changes) -> SweepSpec:
    fields = {
        "name": "g",
        "base": "b.yaml",
        "design": "grid",
        "points": 3,
        "parameters": [{"path": "demand.growth_per_year", "uniform": [0.0, 0.09]}],
        "outputs": [{"measure": "admissions_per_year", "contract": "block"}],
    }
    return SweepSpec(**{**fields, **changes})


def test_grid_levels_include_both_ends_by_default() -> None:
    table = design_table(_grid_spec())
    assert table["demand.growth_per_year"].tolist() == [0.0, 0.045, 0.09]
    # Triangular [1, 2, 4]: its ends, and the median quantile 1 + sqrt(0.5 · 3 · 1) = 2.2247 (inverse CDF at 1/2).
    tri = design_table(_grid_spec(parameters=[{"path": "x", "triangular": [1, 2, 4]}]))["x"].to_numpy()
    np.testing.assert_allclose(tri, [1.0, 4 - np.sqrt(0.5 * 3 * 2), 4.0])
    # Midpoints on request: the centres of three equal cells, as grids were placed before.
    mid = design_table(_grid_spec(grid_placement="midpoints"))["demand.growth_per_year"].to_numpy()
    np.testing.assert_allclose(mid, [0.015, 0.045, 0.075])


def test_explicit_levels_are_run_exactly_and_combine_with_ranges() -> None:
    spec = _grid_spec(
        parameters=[
            {"path": "demand.growth_per_year", "levels": [0, 0.03, 0.06, 0.09]},
            {"path": "contracts.block.annual_value_gbp", "uniform": [16.7e6, 19.3e6]},
        ]
    )
    assert spec.design_points == 4 * 3
    table = design_table(spec)
    assert len(table) == 12
    assert sorted(set(table["demand.growth_per_year"])) == [0, 0.03, 0.06, 0.09]
    assert sorted(set(table["contracts.block.annual_value_gbp"])) == [16.7e6, 18.0e6, 19.3e6]


def test_levels_outside_a_grid_and_repeated_levels_are_refused() -> None:
    with pytest.raises(ValueError, match="grid designs only"):
        _grid_spec(design="lhs", parameters=[{"path": "a", "levels": [1, 2]}])
    with pytest.raises(ValueError, match="repeat"):
        _grid_spec(parameters=[{"path": "a", "levels": [1, 2, 1]}])


def test_grid_of_an_unbounded_distribution_uses_midpoint_quantiles() -> None:
    x = design_table(_grid_spec(parameters=[{"path": "x", "normal": [10, 2]}]))["x"].to_numpy()
    # Quantiles 1/6, 1/2, 5/6 of N(10, 2²): 10 ∓ 2 × 0.96742.
    np.testing.assert_allclose(x, [10 - 2 * 0.967422, 10, 10 + 2 * 0.967422], atol=1e-5)


def test_sampling_designs_are_unchanged_by_the_grid_placement() -> None:
    """LHS, Sobol and Morris keep their own placement (the folders they wrote stay resumable)."""
    spec = _grid_spec(design="morris", points=20, parameters=[{"path": "a", "uniform": [0, 1]},
                                                             {"path": "b", "uniform": [0, 1]}])  # fmt: skip
    table = design_table(spec)
    # Morris levels are 0, 1/3, 2/3, 1 on the unit scale, kept 1e-12 inside (0, 1) as before.
    values = np.concatenate([table["a"].to_numpy(), table["b"].to_numpy()])
    np.testing.assert_allclose(np.unique(values), [1e-12, 1 / 3, 2 / 3, 1 - 1e-12], rtol=0, atol=1e-15)


def _grid_sweep(folder: Path) -> Path:
    sweep = _write_sweep(folder, policy="passive", design="grid", points=2)
    sweep.write_text(sweep.read_text().replace("replications: 2", "replications: 1"), encoding="utf-8")
    return sweep


def test_a_folder_of_midpoint_grid_levels_is_refused_with_a_clear_message(tmp_path) -> None:
    """A grid folder written when levels were cell midpoints: the same sweep file no longer resumes into it."""
    import json

    sweep = _grid_sweep(tmp_path)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(out), "-q", "-j", "1"]).exit_code == 0
    # Make it the folder the old code wrote: midpoint levels (0.02, 0.06 of [0, 0.08]; 1.25, 1.75 of
    # [1, 2]), no grid_placement in the manifest, one run still to do, no tables yet.
    old = design_table(SweepSpec(**{**yaml.safe_load(sweep.read_text()), "grid_placement": "midpoints"}))
    np.testing.assert_allclose(sorted(set(old["demand.growth_per_year"])), [0.02, 0.06])
    old.to_parquet(out / "design.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["grid_placement"]
    manifest["status"] = "running"
    for key in ("summary_files", "files"):
        manifest.pop(key, None)
    (out / "manifest.json").write_text(json.dumps(manifest))
    for name in ("results.csv", "results.parquet", "outputs.csv", "sensitivity.csv", "failures.csv", "sweep.xlsx"):
        (out / name).unlink()  # (the old code wrote no workbook)
    next(iter(sorted((out / "runs").glob("p000003-*.parquet")))).unlink()
    before = sorted(p.name for p in (out / "runs").iterdir())

    result = CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(out), "-q", "-j", "1"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for said in ("midpoints", "endpoints", "--overwrite", "0.02, 0.06", "0, 0.08"):  # the old and new levels
        assert said in text
    assert "Traceback" not in result.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == before  # nothing run, nothing mixed
    assert pd.read_parquet(out / "design.parquet").equals(old)

    analysed = CliRunner().invoke(main, ["analyse", str(out)])
    assert analysed.exit_code == 2, analysed.output
    assert "midpoints" in analysed.output

    fresh = CliRunner().invoke(main, ["sweep", str(sweep), "-o", str(out), "-q", "-j", "1", "--overwrite"])
    assert fresh.exit_code == 0, fresh.output
    assert sorted(set(pd.read_parquet(out / "design.parquet")["demand.growth_per_year"])) == [0.0, 0.08]


def test_progress_total_is_known_before_the_first_run_finishes(tmp_path) -> None:
    sweep = _write_sweep(tmp_path, points=2)
    out = tmp_path / "out"
    events: list[tuple] = []

    def on_start(total: int, reused: int) -> None:
        finished = list((out / "runs").glob("p*.parquet")) if (out / "runs").is_dir() else []
        events.append(("start", total, reused, len(finished)))

    run_sweep(sweep, out, ExecutorChoice(jobs=1), on_start=on_start,
              progress=lambda done, total: events.append(("progress", done, total)))  # fmt: skip
    # 2 points × 2 replications × 2 contracts (responsive), told before any partition existed.
    assert events[0] == ("start", 8, 0, 0)
    assert [e[1] for e in events[1:]] == list(range(1, 9))
    assert all(e[2] == 8 for e in events[1:])


def test_time_left_from_the_first_finished_runs() -> None:
    from fundsim.cli.sweeps import time_left_s

    assert time_left_s(10.0, 0, 20, 2) is None  # nothing finished yet
    # One of two workers done after 10 s: both are about as far, so 2 runs per 10 s; 19 left → 95 s.
    assert time_left_s(10.0, 1, 19, 2) == pytest.approx(95.0)
    assert time_left_s(30.0, 6, 14, 2) == pytest.approx(70.0)  # 6 runs in 30 s: 5 s a run
    assert time_left_s(30.0, 6, 0, 2) == 0.0
