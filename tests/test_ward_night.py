"""The ward's night for stays from outside the caseload, on a hand-worked trace (both engines).

One locality with one place, months starting on days 0, 10 and 20. GP step-ups (time, stay):
A at 1.0 for 2.0 days, B at 3.0 for 1.0, C at 3.5 for 1.0, D at 4.0, escalated half-way through a
2.0-day stay. Worked by hand from the ward's rule (a departure first at equal times, then a due
admission, then an arrival): A ends at 3.0 just as B arrives, so B gets the place; C finds it taken
and is refused; B ends at 4.0 as D arrives, so D gets it and is admitted from the ward at 5.0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fundsim.sim.event_draws import EventDraws
from fundsim.sim.streams import RandomStreams
from fundsim.sim.ward_night import (
    CORE_DEPARTURE,
    DUE,
    FROM_WARD_GP,
    GP_AVOIDED,
    GP_ESCALATED,
    HOME,
    N_KINDS,
    N_VALUES,
    NOTHING,
    REFUSED,
    V_BED_DAYS_SAVED,
    V_STAY_DAYS,
    PureNight,
)


def _engines() -> list[object]:
    engines: list[object] = [pytest.param(PureNight, id="pure")]
    try:
        from fundsim.sim.ward_night_compiled import CompiledNight
    except ImportError:  # no numba: the pure engine only
        return engines
    return [*engines, pytest.param(CompiledNight, id="compiled")]


ENGINES = _engines()
BOUNDS = np.array([0.0, 10.0, 20.0])
#: Rows (time, seq, locality, ward stay, hospital days avoided, when escalated), by time.
GP = np.array(
    [
        [1.0, 3.0, 3.5, 4.0],
        [0.0, 1.0, 2.0, 3.0],
        [0.0, 0.0, 0.0, 0.0],
        [2.0, 1.0, 1.0, 2.0],
        [6.0, 5.0, 4.0, 7.0],
        [math.nan, math.nan, math.nan, 0.5],
    ]
)


def _night(engine):  # type: ignore[no-untyped-def]
    counts = np.zeros((N_KINDS, 1, 4), dtype=np.int64)
    values = np.zeros((N_VALUES, 1, 4))
    occupied = np.zeros(1, dtype=np.int64)
    draws = EventDraws(RandomStreams(1, 0), "virtual_ward")
    return engine(GP.copy(), np.array([1], dtype=np.int64), BOUNDS, counts, values, occupied, 4, draws, [0])


@pytest.mark.parametrize("engine", ENGINES)
def test_the_hand_worked_night(engine) -> None:  # type: ignore[no-untyped-def]
    night = _night(engine)
    assert not night.nothing_before(2)
    assert night.advance(10, math.inf, 0, math.inf) == NOTHING
    counts = night.counts[:, 0, 1]  # all in the first month (column 1; column 0 is the warm-up)
    assert counts[GP_AVOIDED] == 2  # A and B (C was refused, not stepped up)
    assert counts[GP_ESCALATED] == 1  # D
    assert counts[REFUSED] == 1  # C
    assert counts[HOME] == 2  # A and B went home
    assert counts[FROM_WARD_GP] == 1  # D was admitted from the ward
    assert night.values[V_STAY_DAYS, 0, 1] == 2.0 + 1.0 + 1.0  # D's stay ended half-way through its 2 days
    assert night.values[V_BED_DAYS_SAVED, 0, 1] == 6.0 + 5.0  # the hospital stays A and B avoided
    locs, starts, ends = night.take_ended()
    assert locs.tolist() == [0, 0, 0]
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == [(1.0, 3.0), (3.0, 4.0), (4.0, 5.0)]
    assert night.occupied.tolist() == [0]
    assert night.nothing_before(30)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_due_admission_comes_after_a_departure_and_before_an_arrival_at_its_time(engine) -> None:  # type: ignore[no-untyped-def]
    night = _night(engine)
    # A due admission at 3.0: A's departure at 3.0 first, then the due (B's arrival at 3.0 waits).
    assert night.advance(10, math.inf, 0, 3.0) == DUE
    assert night.counts[HOME, 0, 1] == 1
    assert night.counts[GP_AVOIDED, 0, 1] == 1  # B not yet
    assert night.occupied.tolist() == [0]
    assert night.advance(10, math.inf, 0, math.inf) == NOTHING
    assert night.counts[GP_AVOIDED, 0, 1] == 2


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("q_core", "core_first"), [(2, True), (9, False)])
def test_departures_at_the_same_time_go_in_order_of_creation(engine, q_core: int, core_first: bool) -> None:  # type: ignore[no-untyped-def]
    night = _night(engine)
    # A takes sequence numbers 4 (its key) and 5 (its departure): a caseload stay's departure at 3.0
    # numbered 2 comes before A's, one numbered 9 after it.
    first = night.advance(10, 3.0, q_core, math.inf)
    assert first == CORE_DEPARTURE
    assert night.counts[HOME, 0, 1] == (0 if core_first else 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_step_down_waits_behind_an_earlier_numbered_arrival_at_the_same_time(engine) -> None:  # type: ignore[no-untyped-def]
    night = _night(engine)
    # Before day 3: A arrives (1.0) and leaves (3.0, at or before the day's start); B (3.0) is not yet before it.
    assert night.advance(3, math.inf, 0, math.inf) == NOTHING
    assert night.counts[HOME, 0, 1] == 1
    # A step-down at 3.0 is numbered after B (seq 1), so B takes the place and the step-down is refused.
    night.push_step_down(3.0, 1.0, 2.0, 0)
    assert night.advance(4, math.inf, 0, math.inf) == NOTHING
    assert night.counts[REFUSED, 0, 1] == 2  # the step-down and C
    assert night.counts[GP_AVOIDED, 0, 1] == 2
