"""Exact traces of ``admissions_on_path`` on hand-made hazard paths.

Hazards and budgets are chosen as binary fractions so every time below is exact in floating point.
"""

from __future__ import annotations

from fundsim.sim.hazard import MAX_ADMISSIONS, Admission, admissions_on_path


def test_two_admissions_across_pieces() -> None:
    """Pieces: hazard 1/16 a day to day 8, then 1/4 to day 20; budgets 1, 1/2, 2; stays 3, 2, 1 days.

    - day 0–8 spends 8/16 = 1/2 of budget 1, leaving 1/2;
    - at 1/4 a day the rest goes in 2 days: admission at day 10, home at 13;
    - budget 2 (1/2) goes in 2 days: admission at day 15, home at 17;
    - budget 3 (2) would need 8 days, but the path ends at day 20: no third admission.
    """
    got = admissions_on_path(
        0.0, 1.0, 0, ((8.0, 0.0625), (20.0, 0.25)), [1.0, 0.5, 2.0], [False, False, False], [3.0, 2.0, 1.0]
    )
    assert got == [Admission(10.0, 3.0, False), Admission(15.0, 2.0, False)]


def test_no_hazard_in_hospital_and_stays_cross_pieces() -> None:
    """Hazard 1/2 to day 10, then 1/4 to day 30; budgets 1, 1, 1; stays 10, 4, 1.

    Admission at day 2 (1/(1/2)); in hospital to day 12, which skips the rest of the first piece
    (nothing is spent in hospital); budget 2 at 1/4 a day: admission at 16, home at 20; budget 3:
    admission at 24.
    """
    got = admissions_on_path(
        0.0, 1.0, 0, ((10.0, 0.5), (30.0, 0.25)), [1.0, 1.0, 1.0], [False, False, False], [10.0, 4.0, 1.0]
    )
    assert got == [Admission(2.0, 10.0, False), Admission(16.0, 4.0, False), Admission(24.0, 1.0, False)]


def test_an_admission_that_ends_the_episode_stops_the_path() -> None:
    """Hazard 1 a day to day 10; budgets 1, 1, 1; the first admission (day 1) ends the episode."""
    got = admissions_on_path(0.0, 1.0, 0, ((10.0, 1.0),), [1.0, 1.0, 1.0], [True, False, False], [2.0, 2.0, 2.0])
    assert got == [Admission(1.0, 2.0, True)]


def test_starts_mid_path_with_a_partly_spent_budget_and_stops_at_max_admissions() -> None:
    """From day 5 with 1/4 left of budget 2 (k = 1), hazard 1/2 a day to day 100; stays 1 day:

    admission at 5.5 (k = 1), home at 6.5; budget 3 (1/2) → admission at 7.5 (k = 2); that is the
    third admission of the episode (``MAX_ADMISSIONS``), so the path stops there.
    """
    assert MAX_ADMISSIONS == 3
    got = admissions_on_path(5.0, 0.25, 1, ((100.0, 0.5),), [9.0, 9.0, 0.5], [False, False, False], [1.0, 1.0, 1.0])
    assert got == [Admission(5.5, 1.0, False), Admission(7.5, 1.0, False)]


def test_zero_hazard_pieces_and_pieces_already_past() -> None:
    """A piece ending before the start is skipped; a zero-hazard piece spends nothing.

    Start day 4: piece to day 3 is past; hazard 0 to day 6; then 1/8 a day to day 16: budget 1
    runs out at 6 + 8 = 14.
    """
    got = admissions_on_path(
        4.0, 1.0, 0, ((3.0, 5.0), (6.0, 0.0), (16.0, 0.125)), [1.0, 1.0, 1.0], [False] * 3, [7.0, 7.0, 7.0]
    )
    assert got == [Admission(14.0, 7.0, False)]


def test_budget_spent_exactly_at_the_end_is_not_an_admission() -> None:
    """The path is [start, end): a budget that runs out exactly at the window's end is not admitted."""
    assert admissions_on_path(0.0, 1.0, 0, ((4.0, 0.25),), [1.0, 1.0, 1.0], [False] * 3, [1.0] * 3) == []
    assert admissions_on_path(0.0, 1.0, 0, (), [1.0, 1.0, 1.0], [False] * 3, [1.0] * 3) == []
