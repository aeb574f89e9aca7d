"""``--check``: the model's invariants are verified every day, pass on the example, and catch bugs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import EXAMPLE, build, small_dict
from click.testing import CliRunner

from fundsim import simulate
from fundsim.cli import main
from fundsim.sim import allocation as allocation_module
from fundsim.sim import service as service_module
from fundsim.sim.checks import InvariantError, check_allocation


def test_the_example_passes_every_check_and_checking_changes_no_number(tmp_path) -> None:
    result = CliRunner().invoke(main, ["run", str(EXAMPLE), "-r", "1", "-q", "--check", "-o", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "checks passed" in result.output
    plain = CliRunner().invoke(main, ["run", str(EXAMPLE), "-r", "1", "-q", "-o", str(tmp_path / "p")])
    assert plain.exit_code == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "c" / "ledger.parquet"), pd.read_parquet(tmp_path / "p" / "ledger.parquet")
    )


def test_checks_run_every_day(tmp_path) -> None:
    sc = build(small_dict(population=8_000, years=0.5, warmup_days=30))
    run = simulate(sc, 0, check=True)
    days = 30 + 181  # warm-up plus at least half a year
    assert run.checks_run >= 10 * days  # ten state checks a day, plus three per allocation
    assert simulate(sc, 0).checks_run == 0


@pytest.mark.parametrize("kernel", ["pure", "compiled"])
def test_an_overbooking_bug_is_caught(monkeypatch, kernel) -> None:
    """A broken allocation that gives every item to staff regardless of their time fails the check.

    On either implementation of the allocation (fundsim.sim.kernels): the bug goes into the one that runs.
    """
    monkeypatch.setenv("FUNDSIM_KERNEL", kernel)
    if kernel == "pure":
        real = allocation_module.allocate

        def overbook(minutes, loc, tiers, cells, capacity, done):
            remaining = real(minutes, loc, tiers, cells, capacity, done)
            done[:] = True  # claims everything was done, beyond the minutes on duty
            return remaining

        monkeypatch.setattr(allocation_module, "allocate", overbook)
    else:  # the compiled day allocation is one call: the bug goes into what it returns
        pytest.importorskip("numba")
        from fundsim.sim import allocation_compiled

        real_day = allocation_compiled.allocate_day

        def overbook_day(items, rostered, overtime_cap, cells):
            alloc = real_day(items, rostered, overtime_cap, cells)
            # Claims everything was done, beyond the minutes on duty (of_source regroups from ``done``).
            return replace(alloc, done=np.ones_like(alloc.done), groups=None)

        monkeypatch.setattr(allocation_compiled, "allocate_day", overbook_day)
    sc = build(small_dict(population=40_000, years=0.5, warmup_days=30))
    # Without the check the bug passes silently; with it the run stops.
    simulate(sc, 0)
    with pytest.raises(InvariantError, match="overbooked"):
        simulate(sc, 0, check=True)


def test_a_lost_referral_is_caught(monkeypatch) -> None:
    """A bug that drops someone from the table without recording where they went fails conservation."""
    original = service_module.ServiceModel.arrive

    def arrive_and_lose(self, day):
        slots = original(self, day)
        if len(slots) and day == 40:
            self.people.release(slots[:1])  # gone, but neither discharged, declined nor admitted
        return slots

    monkeypatch.setattr(service_module.ServiceModel, "arrive", arrive_and_lose)
    sc = build(small_dict(population=8_000, years=0.5, warmup_days=30))
    with pytest.raises(InvariantError, match="referred but"):
        simulate(sc, 0, check=True)


def test_check_allocation_directly() -> None:
    rostered = np.array([[100.0, 50.0]])
    cap = np.array([[10.0, 0.0]])
    assert check_allocation(0, rostered, cap, np.array([[110.0, 50.0]])) > 0
    with pytest.raises(InvariantError):
        check_allocation(0, rostered, cap, np.array([[110.5, 50.0]]))


def test_cli_reports_a_violation_as_a_bug_with_exit_3(monkeypatch, tmp_path) -> None:
    def broken(*_args):
        raise InvariantError("day 0: staff overbooked (injected)")

    monkeypatch.setenv("FUNDSIM_KERNEL", "pure")  # the bug is injected into the pure allocation
    monkeypatch.setattr(allocation_module, "allocate", broken)
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(small_dict(population=8_000, years=0.5, warmup_days=30)))
    result = CliRunner().invoke(main, ["run", str(f), "-r", "1", "-q", "--check", "-o", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert "model invariant violated" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()
