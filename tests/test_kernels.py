"""The compiled path gives the pure path's numbers bit for bit (:mod:`fundsim.sim.kernels`).

The pure Python/numpy implementations are the reference. Each compiled twin is compared with its
reference on many random inputs (edge cases included: nothing to do, nothing fits, times outside
the horizon, intervals over many months, ties), and whole runs of every shipped scenario are
compared on their ledgers and decision tables with exact equality, not a tolerance.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import build, small_dict

from fundsim.scenario.loader import load_scenario
from fundsim.sim import kernels, simulate
from fundsim.sim.accounts import Accounts
from fundsim.sim.allocation import allocate as pure_allocate
from fundsim.sim.allocation import allocate_day as pure_allocate_day
from fundsim.sim.allocation import priority_order as pure_priority_order
from fundsim.sim.calendar import build_calendar
from fundsim.sim.event_draws import EventDraws
from fundsim.sim.hazard import MAX_ADMISSIONS, admissions_on_path
from fundsim.sim.no_care import no_care_admissions as pure_no_care
from fundsim.sim.streams import RandomStreams
from fundsim.sim.ward_night import CORE_DEPARTURE, DUE, N_KINDS, N_VALUES, REFUSED, PureNight
from fundsim.sim.work import WorkItems

numba = pytest.importorskip("numba", reason="the compiled path needs numba (pip install 'fundsim[fast]')")

from fundsim.sim.accounts_compiled import CompiledAccounts  # noqa: E402
from fundsim.sim.allocation_compiled import allocate as compiled_allocate  # noqa: E402
from fundsim.sim.allocation_compiled import allocate_day as compiled_allocate_day  # noqa: E402
from fundsim.sim.allocation_compiled import priority_order as compiled_priority_order  # noqa: E402
from fundsim.sim.hazard_compiled import no_care_admissions as compiled_no_care  # noqa: E402
from fundsim.sim.hazard_compiled import post_discharge_admissions  # noqa: E402
from fundsim.sim.ward_night_compiled import CompiledNight  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


# --------------------------------------------------------------------------- the allocation


def _random_day(rng: np.random.Generator) -> tuple:
    n_loc = int(rng.integers(1, 5))
    n_grades = int(rng.integers(1, 4))
    n_tiers = int(rng.integers(1, 4))
    allowed = [sorted(rng.choice(n_grades, int(rng.integers(1, n_grades + 1)), replace=False).tolist())
               for _ in range(n_tiers)]  # fmt: skip
    cells = [[[i * n_grades + g for g in a] for a in allowed] for i in range(n_loc)]
    n = int(rng.integers(0, 300))
    loc = np.sort(rng.integers(0, n_loc, n))  # items come grouped by locality
    tiers = rng.integers(0, n_tiers, n)
    # Whole minutes (ties and exact fits) or fractional ones, by case.
    minutes = rng.integers(5, 90, n).astype(float) if rng.random() < 0.5 else rng.uniform(1.0, 120.0, n)
    scale = rng.choice([0.0, 0.2, 1.0, 5.0])
    capacity = (rng.uniform(0.0, 1.0, n_loc * n_grades) * scale * max(n, 1) * 40.0 / (n_loc * n_grades)).tolist()
    done = rng.random(n) < rng.choice([0.0, 0.3, 1.0])
    return minutes, loc, tiers, cells, capacity, done


def test_compiled_allocation_places_the_same_items_and_leaves_the_same_minutes() -> None:
    rng = np.random.default_rng(2026)
    placed_some = nothing_fit = 0
    for _ in range(400):
        minutes, loc, tiers, cells, capacity, done = _random_day(rng)
        done_pure, done_comp = done.copy(), done.copy()
        left_pure = pure_allocate(minutes, loc, tiers, cells, list(capacity), done_pure)
        left_comp = compiled_allocate(minutes, loc, tiers, cells, list(capacity), done_comp)
        assert np.array_equal(done_pure, done_comp)
        assert left_pure == left_comp  # exact float equality, cell by cell
        placed_some += int(done_pure.sum() > done.sum())
        nothing_fit += int(len(done) > 0 and not done.all() and done_pure.sum() == done.sum())
    # The random days cover both regimes (a guard on the generator, not on the code).
    assert placed_some > 100
    assert nothing_fit > 10


def test_compiled_allocation_follows_a_hand_worked_trace() -> None:
    """The trace of tests/test_allocation.py: 40→hca, 50→nurse, 30→nurse, 20 deferred, 15→hca."""
    done = np.zeros(5, dtype=bool)
    left = compiled_allocate(
        np.array([40.0, 50, 30, 20, 15]), np.zeros(5, dtype=np.int64), np.array([0, 1, 0, 1, 0]),
        [[[0, 1], [1]]], [60.0, 90.0], done,
    )  # fmt: skip
    assert done.tolist() == [True, True, True, False, True]
    assert left == [5.0, 10.0]


def _items(rng: np.random.Generator, n: int, n_loc: int, source: str) -> WorkItems:
    """Random work items with many ties: whole-day keys from a narrow range, signed zeros among them."""
    loc = rng.integers(0, n_loc, n)
    key1 = rng.integers(0, int(rng.integers(1, 40)), n).astype(float)
    key2 = -rng.integers(0, 4, n).astype(float) * rng.choice([0.0, 1.0])  # -0.0 and 0.0 must tie, as in lexsort
    zeros = np.zeros(n)
    return WorkItems(source, np.arange(n), loc, rng.integers(0, 3, n), rng.integers(0, 4, n), key1, key2,
                     zeros, zeros, zeros)  # fmt: skip


def test_compiled_priority_order_is_the_stable_lexsort() -> None:
    rng = np.random.default_rng(20261126)
    sizes = []
    for _ in range(300):
        n_loc = int(rng.integers(1, 6))
        items = [_items(rng, int(rng.choice([0, 1, 2, 7, 64, 1500])), n_loc, s) for s in ("a", "b")]
        want = pure_priority_order(items)
        got = compiled_priority_order(items)
        assert np.array_equal(want, got)
        sizes.append(len(want))
    # The generator reaches merges of many passes, and empty days.
    assert max(sizes) > 1000
    assert min(sizes) == 0


def test_compiled_day_allocation_is_the_pure_one_field_by_field() -> None:
    rng = np.random.default_rng(11)
    for _ in range(200):
        n_loc, n_grades = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        cells = [[[i * n_grades + g for g in range(int(rng.integers(0, n_grades)), n_grades)] for _ in range(3)]
                 for i in range(n_loc)]  # fmt: skip
        items = []
        for source in ("a", "b"):
            w = _items(rng, int(rng.choice([0, 3, 40, 400])), n_loc, source)
            n = len(w.slots)
            minutes = rng.uniform(5.0, 90.0, (3, n))
            items.append(replace(w, f2f_minutes=minutes[0], travel_minutes=minutes[1], cut_minutes=minutes[2] * 0.1))
        work = sum(len(w.slots) for w in items) * 60.0 / max(1, n_loc * n_grades)
        rostered = rng.uniform(0.0, 1.0, (n_loc, n_grades)) * work * rng.choice([0.0, 0.5, 2.0])
        overtime = rng.uniform(0.0, 0.2, (n_loc, n_grades)) * work
        want = pure_allocate_day(items, rostered, overtime, cells)
        got = compiled_allocate_day(items, rostered, overtime, cells)
        for field in fields(want):
            if field.name != "groups":  # the compiled path's of_source answers, compared below
                assert np.array_equal(getattr(want, field.name), getattr(got, field.name)), field.name
        for i in range(len(items)):
            for placed in (True, False):
                assert np.array_equal(want.of_source(i, placed), got.of_source(i, placed))


# --------------------------------------------------------------------------- the accounts


@pytest.fixture(scope="module")
def calendar():
    return build_calendar(build(small_dict()).simulation)


def test_compiled_accounts_add_the_same_totals(calendar) -> None:
    rng = np.random.default_rng(17)
    pure, comp = Accounts(calendar, 3), CompiledAccounts(calendar, 3)
    n_days = calendar.n_days
    for _ in range(3000):
        n = int(rng.integers(0, 30))
        loc = rng.integers(0, 3, n)
        kind = rng.integers(0, 4)
        if kind == 0:  # a day's events: one month
            day = float(rng.integers(-40, n_days + 40))
            t = day + rng.random(n) * rng.choice([0.0, 1.0])
        else:  # anywhere, warm-up and after the horizon included
            t = rng.uniform(-60.0, n_days + 60.0, n)
        values = [None, float(rng.uniform(0, 500)), rng.uniform(-5, 800, n), 3][int(rng.integers(0, 4))]
        pure.add_times("bed_days", loc, t, values)
        comp.add_times("bed_days", loc, t, values)
        length = rng.exponential(rng.choice([0.3, 10.0, 200.0]), n)
        pure.add_area("caseload_days", loc, t, t + length)
        comp.add_area("caseload_days", loc, t, t + length)
    for metric in ("bed_days", "caseload_days"):
        assert np.array_equal(pure.sums[metric], comp.sums[metric]), metric
        assert pure.sums[metric].sum() > 0


# --------------------------------------------------------------------------- the hazard paths


def _people(rng: np.random.Generator, n: int) -> tuple:
    budgets = rng.exponential(1.0, (n, MAX_ADMISSIONS))
    ends = rng.random((n, MAX_ADMISSIONS)) < 0.3
    los = rng.exponential(6.0, (n, MAX_ADMISSIONS))
    return budgets, ends, los


def test_compiled_no_care_path_gives_the_same_admissions_in_the_same_order() -> None:
    rng = np.random.default_rng(5)
    total = 0
    for _ in range(200):
        n = int(rng.integers(0, 60))
        start = rng.uniform(0, 400, n)
        planned_end = start + rng.exponential(60, n)
        window_end = planned_end + rng.exponential(30, n)
        hazard = rng.choice([0.0, 0.002, 0.02, 0.2], n)
        budgets, ends, los = _people(rng, n)
        loc = rng.integers(0, 4, n)
        args = (loc, start, planned_end, window_end, hazard, budgets, ends, los, 2.5, 1.3)
        a, b = pure_no_care(*args), compiled_no_care(*args)
        for x, y in zip(a, b, strict=True):
            assert x.dtype == y.dtype
            assert np.array_equal(x, y)
        total += len(a[0])
    assert total > 100  # admissions happened (a guard on the inputs)


def test_compiled_post_discharge_walk_matches_the_pure_walk() -> None:
    rng = np.random.default_rng(9)
    total = 0
    for _ in range(200):
        n = int(rng.integers(0, 40))
        day = float(rng.uniform(0, 500))
        k = rng.integers(0, MAX_ADMISSIONS, n)
        budget_left = rng.exponential(0.5, n)
        window_end = day + rng.exponential(40, n)
        hazard = rng.choice([0.001, 0.01, 0.1], n)
        budgets, ends, los = _people(rng, n)
        rows, t, stay = post_discharge_admissions(day, budget_left, k, window_end, hazard, budgets, ends, los)
        want = [
            (j, a.time_days, a.length_of_stay_days)
            for j in range(n)
            for a in admissions_on_path(
                day,
                float(budget_left[j]),
                int(k[j]),
                ((float(window_end[j]), float(hazard[j])),),
                budgets[j],
                ends[j],
                los[j],
            )
        ]
        assert list(zip(rows.tolist(), t.tolist(), stay.tolist(), strict=True)) == want
        total += len(want)
    assert total > 100


# --------------------------------------------------------------------------- the virtual ward's night


def _gp_rows(rng: np.random.Generator, n_loc: int, n_days: int, n: int) -> np.ndarray:
    """``n`` GP step-ups on a half-day grid (many ties of arrivals, ends and the core's events), by time then seq."""
    t = np.sort(rng.integers(0, 2 * n_days, n) / 2.0)
    length = rng.integers(1, 12, n) / 2.0
    when = np.where(rng.random(n) < 0.2, rng.integers(0, 3, n) / 2.0, np.nan)  # 0, half-way, the whole stay
    return np.array([t, np.arange(n, dtype=float), rng.integers(0, n_loc, n), length, rng.exponential(5.0, n), when])


def _night_pair(
    rng: np.random.Generator, n_loc: int, n_days: int, draws: EventDraws, prefixes: list[int], roomy: bool
) -> tuple[PureNight, CompiledNight]:
    # Roomy: many arrivals and room for most. Otherwise some localities without a place (every arrival
    # refused) and some nearly always full.
    gp = _gp_rows(rng, n_loc, n_days, 60 * n_days if roomy else int(rng.integers(0, 60 * n_days)))
    places = np.full(n_loc, 80) if roomy else rng.choice([0, 2, 5], n_loc)
    bounds = np.array([0.0, 7.0, 20.0, 33.0, float(n_days) - 3.0])  # the last days after the horizon
    pair = []
    for engine in (PureNight, CompiledNight):
        counts = np.zeros((N_KINDS, n_loc, len(bounds) + 1), dtype=np.int64)
        values = np.zeros((N_VALUES, n_loc, len(bounds) + 1))
        occupied = np.zeros(n_loc, dtype=np.int64)
        pair.append(engine(gp.copy(), places, bounds, counts, values, occupied, gp.shape[1], draws, prefixes))
    return pair[0], pair[1]


def _same_night(pure: PureNight, comp: CompiledNight) -> None:
    assert pure.counts.tobytes() == comp.counts.tobytes()
    assert pure.values.tobytes() == comp.values.tobytes()
    assert pure.occupied.tolist() == comp.occupied.tolist()
    assert sorted(pure.open_stays()) == sorted(comp.open_stays())


@pytest.mark.parametrize("seed", range(6))
def test_compiled_ward_night_takes_the_same_events_in_the_same_order(seed: int) -> None:
    """Random nights with the core's events between: the same answers, counts, sums and ended stays, bit for bit."""
    rng = np.random.default_rng(seed)
    n_loc, n_days = int(rng.integers(1, 4)), 50
    draws = EventDraws(RandomStreams(seed, 0), "virtual_ward")
    prefixes = [draws.uniform_prefix((2, i)) for i in range(n_loc)]
    # Every other seed a roomy ward whose ended stays are taken only at the end: over 1,024 pile up, and
    # the compiled engine's arrays grow. The others take them often, as at month ends.
    roomy = seed % 2 == 0
    pure, comp = _night_pair(rng, n_loc, n_days, draws, prefixes, roomy)
    answers = {CORE_DEPARTURE: 0, DUE: 0}
    take_share = 0.0 if roomy else 0.1
    most_ended = 0
    for day in range(1, n_days + 1):
        for _ in range(int(rng.integers(0, 40))):  # step-downs, some due tonight (the heap grows past 64)
            t, length, saved, loc = (
                day - 1 + rng.integers(0, 8) / 2.0,
                rng.integers(1, 8) / 2.0,
                1.5,
                rng.integers(n_loc),
            )
            pure.push_step_down(t, length, saved, int(loc))
            comp.push_step_down(t, length, saved, int(loc))
        # The core's next departure (end, seq) and due admission, on the same grid, some at the same times.
        t_core = float(day - 1 + rng.integers(0, 3) / 2.0) if rng.random() < 0.5 else np.inf
        q_core = int(rng.integers(0, 2 * pure.next_seq() + 1))
        comp.next_seq()  # the core took a number on both paths
        t_due = float(day - 1 + rng.integers(0, 3) / 2.0) if rng.random() < 0.5 else np.inf
        while True:
            a, b = pure.advance(day, t_core, q_core, t_due), comp.advance(day, t_core, q_core, t_due)
            assert a == b
            _same_night(pure, comp)
            if a == CORE_DEPARTURE:  # the core takes its event (a stay of its own ends), then the next is later
                answers[a] += 1
                pure.append_ended(0, t_core - 1.0, t_core)
                comp.append_ended(0, t_core - 1.0, t_core)
                t_core = np.inf
            elif a == DUE:
                answers[a] += 1
                t_due = np.inf
            else:
                break
        if rng.random() < take_share:  # a month's close: ended stays taken
            for x, y in zip(pure.take_ended(), comp.take_ended(), strict=True):
                assert x.dtype == y.dtype
                assert x.tobytes() == y.tobytes()
                most_ended = max(most_ended, len(x))
        loc, t = rng.integers(0, n_loc, 5), rng.uniform(0, n_days, 5)
        assert pure.offered(loc, t, 0.3) == comp.offered(loc, t, 0.3)
    for x, y in zip(pure.take_ended(), comp.take_ended(), strict=True):
        assert x.tobytes() == y.tobytes()
        most_ended = max(most_ended, len(x))
    assert min(answers.values()) > 5
    if roomy:
        assert most_ended > 1024
    else:
        assert pure.counts[REFUSED].sum() > 100  # full wards and wards without places
    assert pure.counts.sum() > 100


# --------------------------------------------------------------------------- whole runs


def _run(path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch, replication: int):
    monkeypatch.setenv(kernels.ENV_VAR, kernel)
    return simulate(load_scenario(path), replication)


FAST = ["tiny.yaml", "example.yaml", "example-addons.yaml"]
SLOW = ["large.yaml", "extract-source.yaml", "ten-year.yaml", "ten-year-retender.yaml"]


@pytest.mark.parametrize(
    "name", [*FAST, *(pytest.param(n, marks=pytest.mark.slow) for n in SLOW)]
)  # fmt: skip
def test_shipped_scenarios_give_bit_identical_ledgers_on_both_paths(name, monkeypatch) -> None:
    assert sorted(p.name for p in SCENARIOS.glob("*.yaml")) == sorted(FAST + SLOW), "a shipped scenario is not listed"
    pure = _run(SCENARIOS / name, "pure", monkeypatch, 1)
    comp = _run(SCENARIOS / name, "compiled", monkeypatch, 1)
    pd.testing.assert_frame_equal(pure.ledger, comp.ledger, check_exact=True)
    pd.testing.assert_frame_equal(pure.decisions, comp.decisions, check_exact=True)
    assert pure.events == comp.events
    assert pure.peak_live_people == comp.peak_live_people


def _variant(name: str) -> dict:
    """Small scenarios that reach what the shipped ones may not: a stretched team, declines, continuous days."""
    d = small_dict(population=30_000, years=1.0, warmup_days=60)
    loc = d["localities"][0]
    if name == "stretched":  # deferrals, missed visits, rationing (shortened visits, declines) under review
        loc["referral_rate_per_1000_per_year"] *= 1.8
    elif name.startswith("declines"):  # the lowest tier declined from the start, on a passive provider
        d["care"]["min_accepted_tier"] = 1
        d["provider_policy"]["mode"] = "passive"
        if name == "declines-ward":  # the declined referrals' admissions offered to a virtual ward (step-down)
            d["addons"] = {"virtual_ward": {"places_per_100k": 60, "staffing": "dedicated"}}
    elif name == "ward-full":  # a small, often-full ward offered every due admission, many escalating, shared staff
        loc["referral_rate_per_1000_per_year"] *= 1.5
        d["addons"] = {
            "virtual_ward": {
                "places_per_locality": 3,
                "step_up_share": 1.0,
                "escalation_probability": 0.5,
                "step_down_share": 0.5,
                "staffing": "shared",
            }
        }
    elif name == "continuous":
        d["simulation"]["scheduling"] = "continuous"
        d["provider_policy"]["mode"] = "passive"
    elif name == "two-localities":
        busy = {"staff_share": 0.45, "referral_rate_per_1000_per_year": 80}
        d["localities"] = [{**loc, "name": "A", "staff_share": 0.55}, {**loc, "name": "B", **busy}]
    return d


@pytest.mark.parametrize(
    "variant", ["stretched", "declines", "declines-ward", "ward-full", "continuous", "two-localities"]
)
def test_varied_small_scenarios_give_bit_identical_ledgers_on_both_paths(variant, monkeypatch) -> None:
    scenario = build(_variant(variant))
    monkeypatch.setenv(kernels.ENV_VAR, "pure")
    pure = simulate(scenario, 2)
    monkeypatch.setenv(kernels.ENV_VAR, "compiled")
    comp = simulate(scenario, 2)
    pd.testing.assert_frame_equal(pure.ledger, comp.ledger, check_exact=True)
    pd.testing.assert_frame_equal(pure.decisions, comp.decisions, check_exact=True)
    if variant == "stretched":  # the variant reaches what it is for (a guard on the scenario, not the code)
        assert pure.ledger["visits_missed"].sum() > 0
        assert pure.ledger["visit_minutes_cut"].sum() > 0
    if variant.startswith("declines"):
        assert pure.ledger["referrals_declined"].sum() > 0
    if variant == "declines-ward":
        assert pure.ledger["vw_admissions_step_down"].sum() > 0
    if variant == "ward-full":  # step-ups of both kinds, admissions from the ward, a full ward refusing
        for column in ("vw_admissions_step_up", "vw_admissions_avoided_direct", "vw_admissions_from_ward"):
            assert pure.ledger[column].sum() > 0, column
        assert pure.ledger["vw_refused_full"].sum() > 0
        from_caseload = pure.ledger["vw_admissions_step_up"].sum() - pure.ledger["vw_admissions_step_up_gp"].sum()
        assert from_caseload > 0


def test_without_the_compiled_draws_the_ward_night_runs_in_python_with_the_same_numbers(monkeypatch) -> None:
    """A numba without numpy's ziggurat tables (a private module) leaves the night to the pure engine: same ledger."""
    scenario = build(_variant("ward-full"))
    monkeypatch.setenv(kernels.ENV_VAR, "compiled")
    whole = simulate(scenario, 1)
    monkeypatch.setitem(sys.modules, "fundsim.sim.ward_overnight_compiled", None)  # its import now fails
    from fundsim.sim import virtual_ward

    assert virtual_ward._compiled_night_class() is None
    fallback = simulate(scenario, 1)
    pd.testing.assert_frame_equal(whole.ledger, fallback.ledger, check_exact=True)


# --------------------------------------------------------------------------- choosing the path


def test_the_choice_follows_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(kernels.ENV_VAR, "pure")
    assert kernels.kernel_choice() == "pure"
    monkeypatch.setenv(kernels.ENV_VAR, "compiled")
    assert kernels.kernel_choice() == "compiled"
    monkeypatch.delenv(kernels.ENV_VAR)
    assert kernels.kernel_choice() == "compiled"  # auto, with numba installed
    monkeypatch.setattr(kernels, "numba_available", lambda: False)
    assert kernels.kernel_choice() == "pure"  # auto without numba
    monkeypatch.setenv(kernels.ENV_VAR, "compiled")
    with pytest.raises(ValueError, match=r"FUNDSIM_KERNEL=compiled needs numba.*fundsim\[fast\]"):
        kernels.kernel_choice()
    monkeypatch.setenv(kernels.ENV_VAR, "fastest")
    with pytest.raises(ValueError, match="FUNDSIM_KERNEL='fastest' is not one of auto, pure, compiled"):
        kernels.kernel_choice()


def test_an_unknown_kernel_is_a_clear_error_on_the_command_line(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fundsim.cli", "run", str(SCENARIOS / "tiny.yaml"), "-r", "1",
         "-o", str(tmp_path / "o")],
        capture_output=True, text=True, env={**_env(), "FUNDSIM_KERNEL": "fastest"}, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "FUNDSIM_KERNEL" in proc.stderr
    assert "auto, pure, compiled" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "FUNDSIM_KERNEL"}
