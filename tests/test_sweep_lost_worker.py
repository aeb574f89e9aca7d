"""A Dask worker killed in the middle of a sweep: no partition is lost and none is duplicated.

The sweep runs on a ``LocalCluster`` of two worker processes (each watched by a nanny, as on a real
cluster). Once a few runs are saved, one worker process is killed with SIGKILL, as when a machine
of a cluster is lost; the scheduler gives its tasks to the surviving worker (and to the one the
nanny restarts). The sweep must finish with every (point, contract, replication) saved exactly
once and tables byte-identical to a serial run of the same sweep file (docs/sweeps.md, "Running
on a Dask cluster").
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from builders import small_dict

from fundsim.sweep.executors import ExecutorChoice
from fundsim.sweep.run import run_sweep

POINTS, REPLICATIONS, CONTRACTS = 8, 2, ("block", "cost_and_volume")

SWEEP = f"""\
name: lost-worker
base: base.yaml
design: lhs
points: {POINTS}
replications: {REPLICATIONS}
seed: 5
contracts: [{", ".join(CONTRACTS)}]
parameters:
  - path: demand.growth_per_year
    uniform: [0.0, 0.08]
  - path: workforce.grades[1].fte
    uniform: [1.0, 2.0]
outputs:
  - measure: absorbed_gbp_per_year
    contract: block
"""


def _write_sweep(folder: Path) -> Path:
    """A passive sweep of a small one-locality service: 16 simulations, each priced under 2 contracts."""
    folder.mkdir(parents=True, exist_ok=True)
    base = small_dict(population=20_000, years=1.0, warmup_days=30)
    base["provider_policy"] = {"mode": "passive"}
    base["simulation"]["seed"] = 3
    (folder / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    path = folder / "sweep.yaml"
    path.write_text(SWEEP, encoding="utf-8")
    return path


def _tables(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in ("results.csv", "outputs.csv", "sensitivity.csv")}


def test_a_worker_killed_mid_sweep_neither_loses_nor_duplicates_a_partition(tmp_path) -> None:
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (fundsim[dask])")
    sweep = _write_sweep(tmp_path)
    reference = tmp_path / "serial"
    run_sweep(sweep, reference, ExecutorChoice(jobs=1))

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        local_directory=str(tmp_path / "dask"),
    )  # fmt: skip
    client = distributed.Client(cluster)
    try:
        pids_before = set(client.run(os.getpid).values())
        assert len(pids_before) == 2
        out = tmp_path / "dask-out"
        outcome: dict = {}

        def sweep_on_dask() -> None:
            try:
                outcome["result"] = run_sweep(sweep, out, ExecutorChoice(scheduler=cluster.scheduler_address))
            except BaseException as exc:  # reported by the main thread
                outcome["error"] = exc

        thread = threading.Thread(target=sweep_on_dask)
        thread.start()
        runs = out / "runs"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and thread.is_alive():
            if runs.is_dir() and len(list(runs.glob("p*.parquet"))) >= 2 * len(CONTRACTS):
                break
            time.sleep(0.02)
        saved_at_kill = len(list(runs.glob("p*.parquet")))
        assert thread.is_alive(), "the sweep finished before a worker could be killed"
        victim = sorted(pids_before)[0]
        os.kill(victim, signal.SIGKILL)  # a lost machine: no goodbye to the scheduler
        thread.join(timeout=600)
        assert not thread.is_alive(), "the sweep did not finish after a worker was lost"
        assert "error" not in outcome, outcome.get("error")
        # The kill happened mid-sweep and took a worker: its process is gone.
        assert saved_at_kill < POINTS * REPLICATIONS * len(CONTRACTS)
        with pytest.raises(ProcessLookupError):
            os.kill(victim, 0)
    finally:
        client.close()
        cluster.close()

    expected = {f"p{p:06d}-r{r:04d}-{c}.parquet" for p in range(POINTS) for r in range(REPLICATIONS) for c in CONTRACTS}
    saved = {f.name for f in runs.iterdir()}
    assert saved == expected  # nothing lost, no error record, no temporary left behind
    results = pd.read_csv(out / "results.csv")
    keys = results[["point", "contract", "replication"]]
    assert len(results) == len(expected)
    assert not keys.duplicated().any()  # nothing counted twice
    assert outcome["result"].ran == POINTS * REPLICATIONS
    assert _tables(out) == _tables(reference)
