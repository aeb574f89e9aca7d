"""Exact traces of the day's allocation (:mod:`fundsim.sim.allocation`) on tiny hand-made cases.

Cells are flat (locality, grade) capacity slots. In every case here grade 0 is the cheaper one
(a healthcare assistant, "hca") and grade 1 the nurse; tier 0 work may go to either (hca first),
tier 1 work only to a nurse. Expected results are worked out by hand in each docstring.
"""

from __future__ import annotations

import numpy as np
import pytest

from fundsim.sim.allocation import allocate as _allocate
from fundsim.sim.allocation import allocate_day
from fundsim.sim.work import Priority, WorkItems

#: One locality: tier 0 → cells [hca, nurse]; tier 1 → [nurse].
ONE_LOC = [[[0, 1], [1]]]
#: Two localities: cells 0, 1 are locality 0's hca and nurse; cells 2, 3 locality 1's.
TWO_LOC = [[[0, 1], [1]], [[2, 3], [3]]]


def _run(
    minutes: list[float], loc: list[int], tiers: list[int], cells: list, capacity: list[float], done: list[bool]
) -> tuple[list[bool], list[float]]:
    flags = np.array(done, dtype=bool)
    left = _allocate(np.array(minutes, dtype=float), np.array(loc), np.array(tiers), cells, list(capacity), flags)
    return flags.tolist(), [float(x) for x in left]


def test_one_locality_trace() -> None:
    """hca 60 min, nurse 90 min; items in priority order:

    1. tier 0, 40 min → hca (60 → 20)
    2. tier 1, 50 min → nurse (90 → 40)
    3. tier 0, 30 min → hca has 20, so the nurse (40 → 10)
    4. tier 1, 20 min → nurse has 10: deferred
    5. tier 0, 15 min → hca (20 → 5): a later, shorter item fills the gap
    """
    done, left = _run([40, 50, 30, 20, 15], [0] * 5, [0, 1, 0, 1, 0], ONE_LOC, [60, 90], [False] * 5)
    assert done == [True, True, True, False, True]
    assert left == [5.0, 10.0]


def test_exact_fit_is_placed_and_nurse_only_work_never_goes_to_an_hca() -> None:
    """hca 100, nurse 30. Tier 1, 30 min fits the nurse exactly (30 → 0); the next tier 1 item
    (10 min) may not use the hca's 100 minutes: deferred. Tier 0, 100 min fits the hca exactly."""
    done, left = _run([30, 10, 100], [0] * 3, [1, 1, 0], ONE_LOC, [100, 30], [False] * 3)
    assert done == [True, False, True]
    assert left == [0.0, 0.0]


def test_too_long_for_any_grade_and_empty_capacity() -> None:
    """An item longer than every allowed cell is never placed; with no capacity nothing is."""
    done, left = _run([200, 10], [0, 0], [0, 0], ONE_LOC, [60, 90], [False, False])
    assert done == [False, True]
    assert left == [50.0, 90.0]
    done, left = _run([1, 1], [0, 0], [0, 1], ONE_LOC, [0, 0], [False, False])
    assert done == [False, False]
    assert left == [0.0, 0.0]


def test_localities_do_not_share_staff() -> None:
    """Locality 0: hca 30, nurse 30; locality 1: hca 0, nurse 100. Items grouped by locality:

    - loc 0, tier 0, 25 → hca (30 → 5)
    - loc 0, tier 0, 25 → hca has 5, nurse (30 → 5)
    - loc 0, tier 1, 20 → nurse has 5: deferred (locality 1's spare nurse time cannot help)
    - loc 1, tier 0, 60 → hca has 0, nurse (100 → 40)
    - loc 1, tier 1, 40 → nurse (40 → 0)
    """
    done, left = _run([25, 25, 20, 60, 40], [0, 0, 0, 1, 1], [0, 0, 1, 0, 1], TWO_LOC, [30, 30, 0, 100], [False] * 5)
    assert done == [True, True, False, True, True]
    assert left == [5.0, 5.0, 0.0, 0.0]


def test_items_already_done_are_skipped_as_in_the_overtime_pass() -> None:
    """The overtime pass sees only what rostered time left: items 1 and 3 are done already.

    Overtime hca 10, nurse 20: item 2 (tier 1, 15) → nurse (20 → 5); item 4 (tier 0, 10) → hca (10 → 0);
    item 5 (tier 0, 6) → hca has 0, nurse has 5: deferred.
    """
    done, left = _run(
        [40, 15, 50, 10, 6], [0] * 5, [0, 1, 0, 0, 0], ONE_LOC, [10, 20], [True, False, True, False, False]
    )
    assert done == [True, True, True, True, False]
    assert left == [0.0, 5.0]


def test_nothing_to_do_leaves_capacity_untouched() -> None:
    done, left = _run([10, 20], [0, 0], [0, 1], ONE_LOC, [7, 8], [True, True])
    assert done == [True, True]
    assert left == [7.0, 8.0]


@pytest.mark.parametrize("seed", range(20))
def test_vectorised_prefix_equals_the_plain_rule(seed: int) -> None:
    """On random small days the result equals the rule read literally: each item in turn to the
    first allowed cell of its locality with enough time left."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 25))
    loc = np.sort(rng.integers(0, 2, n))
    tiers = rng.integers(0, 2, n)
    minutes = rng.integers(5, 90, n).astype(float)
    capacity = rng.integers(0, 300, 4).astype(float).tolist()
    done0 = rng.random(n) < 0.2
    expected_done = done0.copy()
    expected_left = list(capacity)
    for j in range(n):
        if expected_done[j]:
            continue
        for cell in TWO_LOC[loc[j]][tiers[j]]:
            if expected_left[cell] >= minutes[j]:
                expected_left[cell] -= minutes[j]
                expected_done[j] = True
                break
    done, left = _run(minutes.tolist(), loc.tolist(), tiers.tolist(), TWO_LOC, capacity, done0.tolist())
    assert done == expected_done.tolist()
    assert left == pytest.approx(expected_left)


def _items(rng: np.random.Generator, source: str, n: int, priorities: list[int]) -> WorkItems:
    return WorkItems(
        source=source,
        slots=rng.permutation(1000)[:n],
        loc=rng.integers(0, 2, n),
        tier=rng.integers(0, 2, n),
        priority=rng.choice(priorities, n).astype(np.int64),
        key1=rng.integers(0, 5, n).astype(float),
        key2=-rng.integers(0, 2, n).astype(float),
        f2f_minutes=rng.integers(5, 60, n).astype(float),
        travel_minutes=rng.integers(0, 30, n).astype(float),
        cut_minutes=np.zeros(n),
    )


@pytest.mark.parametrize("seed", range(25))
def test_a_day_from_two_sources_equals_a_naive_loop(seed: int) -> None:
    """The whole day read literally: order every item by (locality, priority, key1, key2, the order the
    sources listed them), give each in turn to its first allowed cell with rostered time left, then walk
    the items not placed again over the overtime caps. Placed flags, minutes used and each source's
    placed and not-placed slots must match exactly."""
    rng = np.random.default_rng(1000 + seed)
    assessments = _items(rng, "assessments", int(rng.integers(0, 12)), [0, 1, 3])
    visits = _items(rng, "follow-up visits", int(rng.integers(0, 12)), [int(Priority.FOLLOW_UP_VISIT)])
    rostered = rng.integers(0, 200, (2, 2)).astype(float)
    overtime = rng.integers(0, 40, (2, 2)).astype(float)
    alloc = allocate_day([assessments, visits], rostered, overtime, TWO_LOC)

    rows = [(i, j) for i, w in enumerate((assessments, visits)) for j in range(len(w.slots))]
    src = (assessments, visits)

    def key(r: tuple[int, int]) -> tuple[float, ...]:
        w, j = src[r[0]], r[1]
        return (w.loc[j], w.priority[j], w.key1[j], w.key2[j], rows.index(r))

    ordered = sorted(rows, key=key)
    left = rostered.ravel().tolist()
    placed = {}
    for capacity in (left, overtime.ravel().tolist()):
        for r in ordered:
            if placed.get(r):
                continue
            w, j = src[r[0]], r[1]
            need = w.f2f_minutes[j] + w.travel_minutes[j]
            for cell in TWO_LOC[w.loc[j]][w.tier[j]]:
                if capacity[cell] >= need:
                    capacity[cell] -= need
                    placed[r] = True
                    break
        if capacity is left:
            spare_rostered = list(capacity)
        else:
            spare_overtime = list(capacity)
    assert alloc.done.tolist() == [bool(placed.get(r)) for r in ordered]
    used = rostered.ravel() + overtime.ravel() - np.array(spare_rostered) - np.array(spare_overtime)
    assert alloc.used_minutes.ravel().tolist() == pytest.approx(used.tolist())
    for i, w in enumerate(src):
        mine = [r for r in ordered if r[0] == i]
        assert alloc.of_source(i, True).tolist() == [int(w.slots[r[1]]) for r in mine if placed.get(r)]
        assert alloc.of_source(i, False).tolist() == [int(w.slots[r[1]]) for r in mine if not placed.get(r)]
