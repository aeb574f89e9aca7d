"""The virtual ward's whole night compiled: the caseload's due admissions and stays too, not only outside ones.

:class:`~fundsim.sim.ward_night_compiled.CompiledNight` takes the stays of people from outside the
caseload in one numba loop and hands back to Python at each of the caseload's events: a due
admission (admitted from the ward, stepped up onto it, or sent to hospital) and the planned end of
a caseload person's stay. :class:`CompiledWardNight` takes those too, over the core's patient
columns, and offers the day's emergency admissions step-downs first, so a night is one call.
It is :meth:`fundsim.sim.virtual_ward.VirtualWardService.overnight` (with ``_offer_step_downs``,
``_due`` and ``_depart``) step for step, with the same floating-point operations in the same order,
so a run's numbers are the same to the last bit (``tests/test_kernels.py`` compares whole runs on
both paths).

The keyed draws are made in the loop too: a step-up's escalation, timing and length of stay, and a
step-down's length of stay, come from the Philox generator that
:meth:`fundsim.sim.event_draws.EventDraws.generator_after` starts for the event's key, and numpy's
samplers, both reproduced bit for bit by :mod:`fundsim.sim.keyed_draws_compiled`. Only arrays that
fill up hand back to Python: the loop stops before the event (having changed nothing for it), the
caller grows them and calls again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from fundsim.sim.hazard import MAX_ADMISSIONS
from fundsim.sim.keyed_draws_compiled import new_state, next_double, sample_one, start
from fundsim.sim.patients import CASELOAD, PatientTable
from fundsim.sim.service_compiled import _schedule_one
from fundsim.sim.ward_night import (
    CORE_DEPARTURE,
    FROM_WARD,
    HOME,
    NOTHING,
    REFUSED,
    UP_AVOIDED,
    UP_ESCALATED,
    V_BED_DAYS_SAVED,
    V_STAY_DAYS,
)
from fundsim.sim.ward_night_compiled import (
    _ENDED_FULL,
    _N_ENDED,
    _N_SD,
    _SEQ,
    CompiledNight,
    _advance,
    _mix64,
    _pop,
    _push,
)

#: Entries of the state vector after CompiledNight's five: candidates, caseload departures, hospital
#: list, and a fresh night to start. The kept admissions (offered step-downs at the night's start):
#: how many, and how many are taken.
_N_CAND, _N_CDEP, _N_HOSP, _FRESH, _N_KEPT, _KEPT_DONE = range(5, 11)
N_STATE = 11
#: The loop's answer besides NOTHING: an array is full (grow them and call again).
FULL = 4
#: Entries of the parameters: step-up share, escalation probability, the hazard multipliers under
#: care and on the ward (set each night), step-down share and the hospital days a step-down saves, and
#: the ward's length of stay as ``fundsim.sim.sampling.parameters`` gives it (sampler code, two numbers).
_SHARE_UP, _ESCALATION, _M_CARE, _M_WARD, _SHARE_DOWN, _DAYS_SAVED, _LOS_CODE, _LOS_A, _LOS_B = range(9)
#: Rows of the caseload stays' table (one column a stay; at most the ward's places are open).
_S_ACTIVE, _S_LOC, _S_START, _S_END, _S_SLOT, _S_UID, _S_ESC, _S_SEQ = range(8)
#: Rows of the caseload departures' heap (end, seq, locality, slot, uid) and the candidates' (time, slot).
_D_END, _D_SEQ, _D_LOC, _D_SLOT, _D_UID = range(5)
#: Columns of the generator prefixes (EventDraws.generator_prefix): the counter's third and fourth words.
_C2, _C3 = 0, 1


@njit(cache=True, nogil=True)
def _col(bounds: np.ndarray, t: float) -> int:  # pragma: no cover - compiled
    """A time's month column: bisect_right over the month starts, as the pure path's ``_count``."""
    return int(np.searchsorted(bounds, t, side="right"))


@njit(cache=True, nogil=True)
def _find_stay(stays: np.ndarray, loc: int, s: int, uid: float) -> int:  # pragma: no cover - compiled
    """The column of the open caseload stay of (``s``, ``uid``) in ``loc``, or -1 (the pure path's occupants dict)."""
    for r in range(stays.shape[1]):
        if stays[_S_ACTIVE, r] != 0.0 and stays[_S_SLOT, r] == s and stays[_S_UID, r] == uid:
            if stays[_S_LOC, r] == loc:
                return r
    return -1


@njit(cache=True, nogil=True)
def _end_stay(
    stays: np.ndarray,
    r: int,
    t: float,
    admitted: bool,
    state: np.ndarray,
    occupied: np.ndarray,
    ended: np.ndarray,
    counts: np.ndarray,
    values: np.ndarray,
    bounds: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """A caseload stay ends at ``t``: home, or (``admitted``) in hospital (VirtualWardService._end_stay)."""
    loc = int(stays[_S_LOC, r])
    start = stays[_S_START, r]
    stays[_S_ACTIVE, r] = 0.0
    occupied[loc] -= 1
    n_e = state[_N_ENDED]
    ended[0, n_e] = loc
    ended[1, n_e] = start
    ended[2, n_e] = t
    state[_N_ENDED] = n_e + 1
    col = _col(bounds, t)
    counts[FROM_WARD if admitted else HOME, loc, col] += 1
    values[V_STAY_DAYS, loc, col] += t - start


@njit(cache=True, nogil=True)
def _overnight(
    day: int,
    due: np.ndarray,
    state: np.ndarray,
    occupied: np.ndarray,
    places: np.ndarray,
    out: np.ndarray,
    gp: np.ndarray,
    step_downs: np.ndarray,
    counts: np.ndarray,
    values: np.ndarray,
    bounds: np.ndarray,
    ended: np.ndarray,
    cand: np.ndarray,
    cdep: np.ndarray,
    stays: np.ndarray,
    hosp: np.ndarray,
    rng: np.ndarray,
    up_prefix: np.ndarray,
    down_prefix: np.ndarray,
    up_gen: np.ndarray,
    down_gen: np.ndarray,
    kept: np.ndarray,
    kept_bits: np.ndarray,
    params: np.ndarray,
    admission_day: np.ndarray,
    locality: np.ndarray,
    uid: np.ndarray,
    stage: np.ndarray,
    k_col: np.ndarray,
    referral_bits: np.ndarray,
    budget_left: np.ndarray,
    hazard_since_day: np.ndarray,
    multiplier: np.ndarray,
    base_hazard: np.ndarray,
    return_day: np.ndarray,
    next_due_day: np.ndarray,
    due_since_day: np.ndarray,
    raised_until_day: np.ndarray,
    budgets: np.ndarray,
    los: np.ndarray,
) -> int:  # pragma: no cover - compiled; tests/test_kernels.py compares whole runs with the pure path
    inf = np.inf
    step_up_share, escalation_probability = params[_SHARE_UP], params[_ESCALATION]
    m_care, m_ward = params[_M_CARE], params[_M_WARD]
    los_code, los_a, los_b = int(params[_LOS_CODE]), params[_LOS_A], params[_LOS_B]
    row = np.empty(5)  # a caseload departure, or a step-down
    pair = np.empty(2)  # a candidate
    if state[_FRESH] != 0:  # a new night: first the step-downs offered, then the due people are the candidates
        # The service's emergency admissions since the last night, in order (VirtualWardService._offer_step_downs):
        # each offered a step-down when its keyed uniform is below the share, numbered in that order.
        share_down, days_saved = params[_SHARE_DOWN], params[_DAYS_SAVED]
        while state[_KEPT_DONE] < state[_N_KEPT]:
            j = state[_KEPT_DONE]
            loc, when, stay = int(kept[0, j]), kept[1, j], kept[2, j]
            h = _mix64(down_prefix[loc] ^ kept_bits[j])
            if float(h >> np.uint64(11)) * 2.0**-53 < share_down:
                if state[_N_SD] >= step_downs.shape[1]:
                    return FULL
                # Its length of stay (VirtualWardService._step_down_length): key (_STEP_DOWN_KEY, locality, time).
                bits = kept_bits[j]
                start(rng, _mix64(down_gen[loc, _C2] ^ bits), _mix64(down_gen[loc, _C3] ^ bits))
                length = sample_one(rng, los_code, los_a, los_b)
                saved = stay if stay < days_saved else days_saved  # min(days_saved, stay)
                row[0], row[1], row[2] = when + stay - saved, state[_SEQ], loc
                row[3], row[4] = length, saved
                state[_SEQ] += 1
                _push(step_downs, state[_N_SD], row)
                state[_N_SD] += 1
            state[_KEPT_DONE] = j + 1
        state[_N_KEPT] = 0
        state[_KEPT_DONE] = 0
        state[_FRESH] = 0
        state[_N_HOSP] = 0
        state[_N_CAND] = 0
        for j in range(due.shape[0]):
            s = due[j]
            pair[0], pair[1] = admission_day[s], s
            _push(cand, state[_N_CAND], pair)
            state[_N_CAND] += 1
    while True:
        n_cdep = state[_N_CDEP]
        if n_cdep > 0 and cdep[_D_END, 0] <= day:
            t_core, q_core = cdep[_D_END, 0], int(cdep[_D_SEQ, 0])
        else:
            t_core, q_core = inf, 0
        n_cand = state[_N_CAND]
        t_due = cand[0, 0] if n_cand > 0 else inf
        nxt = _advance(
            day, t_core, q_core, t_due, state, occupied, places, out, gp, step_downs, counts, values, bounds, ended
        )
        if nxt == _ENDED_FULL:
            return FULL
        if nxt == NOTHING:
            return NOTHING
        # A core event adds at most one of each: stop before it if any array is full.
        if (
            n_cand >= cand.shape[1]
            or n_cdep >= cdep.shape[1]
            or state[_N_HOSP] >= hosp.shape[0]
            or state[_N_ENDED] >= ended.shape[1]
        ):
            return FULL
        if nxt == CORE_DEPARTURE:  # the planned end of a caseload person's stay (VirtualWardService._depart)
            end, loc, s, u = cdep[_D_END, 0], int(cdep[_D_LOC, 0]), int(cdep[_D_SLOT, 0]), cdep[_D_UID, 0]
            _pop(cdep, n_cdep)
            state[_N_CDEP] = n_cdep - 1
            r = _find_stay(stays, loc, s, u)
            if r < 0 or stays[_S_END, r] != end or stays[_S_ESC, r] != 0.0:
                continue  # ended already (admitted from the ward), or the core admits them at its end
            _end_stay(stays, r, end, False, state, occupied, ended, counts, values, bounds)
            if uid[s] != u or stage[s] != CASELOAD:
                continue
            # From the end of the stay (or later, if a lever already moved this person's hazard on):
            # PatientTable.set_multiplier_one.
            since = max(end, hazard_since_day[s])
            budget = budget_left[s] - base_hazard[s] * multiplier[s] * (since - hazard_since_day[s])
            if budget >= 0:  # else spent already: the admission stands at its own time
                _schedule_one(
                    s, since, budget, m_care, base_hazard, multiplier, hazard_since_day, budget_left, admission_day
                )
            if admission_day[s] <= day:
                pair[0], pair[1] = admission_day[s], s
                _push(cand, state[_N_CAND], pair)
                state[_N_CAND] += 1
            continue
        # A due admission (VirtualWardService._due): only a person's current one counts, once.
        t, s = cand[0, 0], int(cand[1, 0])
        n_h = state[_N_HOSP]
        skip = admission_day[s] != t
        for j in range(n_h):
            if hosp[j] == s:
                skip = True
        if skip:
            _pop(cand, n_cand)
            state[_N_CAND] = n_cand - 1
            continue
        loc = locality[s]
        u = float(uid[s])
        r = _find_stay(stays, loc, s, u)
        to_hospital = True
        if r >= 0:  # on the ward: admitted from it
            _end_stay(stays, r, t, True, state, occupied, ended, counts, values, bounds)
        elif step_up_share > 0.0 and stage[s] == CASELOAD:
            kk = int(k_col[s])
            h = _mix64(_mix64(up_prefix[loc] ^ referral_bits[s]) ^ np.uint64(kk))
            if float(h >> np.uint64(11)) * 2.0**-53 < step_up_share:
                if occupied[loc] >= places[loc]:
                    counts[REFUSED, loc, _col(bounds, t)] += 1
                else:
                    to_hospital = False
        _pop(cand, n_cand)
        state[_N_CAND] = n_cand - 1
        if to_hospital:
            hosp[n_h] = s
            state[_N_HOSP] = n_h + 1
            continue
        # A step-up, with its draws (VirtualWardService._step_up_draws): key (_STEP_UP_KEY, locality,
        # referral time, admission number); two uniforms, then the length of stay.
        bits, ku = referral_bits[s], np.uint64(kk)
        start(rng, _mix64(_mix64(up_gen[loc, _C2] ^ bits) ^ ku), _mix64(_mix64(up_gen[loc, _C3] ^ bits) ^ ku))
        u_escalate = next_double(rng)
        u_when = next_double(rng)
        length = sample_one(rng, los_code, los_a, los_b)
        col = _col(bounds, t)
        escalated = u_escalate < escalation_probability
        if escalated:  # admitted from the ward part-way through the stay, on the same deterioration
            counts[UP_ESCALATED, loc, col] += 1
            end = t + u_when * length
            admission_day[s] = end
            budget_left[s] = 0.0
            hazard_since_day[s] = end
        else:  # treated at home; the next budget runs from now at the ward's hazard (start_hazard_one)
            end = t + length
            counts[UP_AVOIDED, loc, col] += 1
            values[V_BED_DAYS_SAVED, loc, col] += los[s, kk]
            k_col[s] = kk + 1
            k2 = kk + 1
            budget = budgets[s, min(k2, MAX_ADMISSIONS - 1)] if k2 < MAX_ADMISSIONS else inf
            _schedule_one(s, t, budget, m_ward, base_hazard, multiplier, hazard_since_day, budget_left, admission_day)
        seq = state[_SEQ]
        state[_SEQ] = seq + 1
        back = max(int(np.ceil(end)), day)  # off the caseload's visits until the day after the stay
        return_day[s] = back
        next_due_day[s] = back
        due_since_day[s] = back
        raised_until_day[s] = 0
        free = 0
        while stays[_S_ACTIVE, free] != 0.0:  # a free column: open caseload stays are fewer than the places
            free += 1
        stays[_S_ACTIVE, free] = 1.0
        stays[_S_LOC, free] = loc
        stays[_S_START, free] = t
        stays[_S_END, free] = end
        stays[_S_SLOT, free] = s
        stays[_S_UID, free] = u
        stays[_S_ESC, free] = 1.0 if escalated else 0.0
        stays[_S_SEQ, free] = seq
        occupied[loc] += 1
        row[_D_END], row[_D_SEQ], row[_D_LOC], row[_D_SLOT], row[_D_UID] = end, seq, loc, s, u
        _push(cdep, state[_N_CDEP], row)
        state[_N_CDEP] += 1
        if admission_day[s] <= day:
            pair[0], pair[1] = admission_day[s], s
            _push(cand, state[_N_CAND], pair)
            state[_N_CAND] += 1


@njit(cache=True, nogil=True)
def _keep(
    kept: np.ndarray, state: np.ndarray, loc: np.ndarray, t: np.ndarray, los: np.ndarray
) -> bool:  # pragma: no cover - compiled
    """Append the admissions (locality, time, stay) to ``kept``; ``False``, changing nothing, if they do not fit."""
    n, m = state[_N_KEPT], t.shape[0]
    if n + m > kept.shape[1]:
        return False
    for j in range(m):
        kept[0, n + j] = loc[j]
        kept[1, n + j] = t[j]
        kept[2, n + j] = los[j]
    state[_N_KEPT] = n + m
    return True


def _doubled(a: np.ndarray) -> np.ndarray:
    """``a`` with its last axis twice as long (the new part zero)."""
    return np.concatenate((a, np.zeros_like(a)), axis=-1)


class CompiledWardNight(CompiledNight):
    """:class:`CompiledNight` that also takes the caseload's events: a whole night in one compiled loop.

    ``parts`` are CompiledNight's arguments; ``up_prefixes`` the hash states of the step-up keys'
    start by locality, ``up_generators`` and ``down_generators`` those of the step-ups' and step-downs'
    generators (``EventDraws.generator_prefix``), ``length_of_stay`` the ward's length of stay as
    ``fundsim.sim.sampling.parameters`` gives it; the rest are the ward's (VirtualWard's fields).
    """

    def __init__(
        self,
        *parts: Any,
        up_prefixes: list[int],
        up_generators: list[tuple[int, int]],
        down_generators: list[tuple[int, int]],
        length_of_stay: tuple[int, float, float],
        step_up_share: float,
        escalation_probability: float,
        admission_relative_risk: float,
        step_down_share: float,
        step_down_days_saved: float,
    ) -> None:
        super().__init__(*parts)
        self._ward = (step_up_share, escalation_probability, admission_relative_risk)
        self._state = np.concatenate((self._state, np.zeros(N_STATE - len(self._state), dtype=np.int64)))
        self._up_prefix = np.array(up_prefixes, dtype=np.uint64)
        self._up_gen = np.array(up_generators, dtype=np.uint64).reshape(-1, 2)
        self._down_gen = np.array(down_generators, dtype=np.uint64).reshape(-1, 2)
        self._rng = new_state(self._draws.philox_key)  # the generator EventDraws.generator_after sets
        self._stays = np.zeros((8, max(int(self._places.sum()), 1)))  # open caseload stays: at most the places
        self._step_downs = np.zeros((5, 4))  # small: every run grows them, so growing is tested
        self._cdep = np.zeros((5, 8))
        self._cand = np.zeros((2, 8))
        self._hosp = np.zeros(8, dtype=np.int64)
        self._params = np.array(
            (
                step_up_share, escalation_probability, 1.0, admission_relative_risk, step_down_share,
                step_down_days_saved, *length_of_stay,
            )
        )  # fmt: skip
        #: The service's emergency admissions kept for the night's step-down offers: (locality, time, stay).
        self._kept = np.zeros((3, 8))
        self._args: tuple[Any, ...] | None = None
        self._args_columns: np.ndarray | None = None

    def nothing_before(self, day: int) -> bool:
        """Whether no event, outside or of a caseload stay, is due before the start of ``day``."""
        if self._state[_N_CDEP] > 0 and self._cdep[_D_END, 0] <= day:
            return False
        return super().nothing_before(day)

    def overnight(
        self,
        day: int,
        due: np.ndarray,
        people: PatientTable,
        m_care: float,
    ) -> np.ndarray:
        """The night's events up to the start of ``day``; who goes to hospital, in slot order.

        ``due`` are the people whose admission is due by ``day``, ``m_care`` the caseload's hazard
        multiplier under care now. The admissions kept since the last night (:meth:`keep`) are
        offered step-downs first.
        """
        params = self._params
        params[2] = m_care
        params[3] = m_care * self._ward[2]
        state = self._state
        state[_FRESH] = 1
        while self._cand.shape[1] <= len(due):
            self._cand = _doubled(self._cand)
            self._args = None
        while True:
            answer = _overnight(day, due, *self._arguments(people))
            if answer == NOTHING:
                hospital = self._hosp[: state[_N_HOSP]].copy()
                hospital.sort()  # in slot order (np.sort's copy and sort, without its wrapper's cost)
                return hospital
            # FULL: grow whichever arrays are (the loop stopped before changing anything they would hold).
            self._args = None
            if state[_N_CAND] >= self._cand.shape[1]:
                self._cand = _doubled(self._cand)
            if state[_N_CDEP] >= self._cdep.shape[1]:
                self._cdep = _doubled(self._cdep)
            if state[_N_HOSP] >= len(self._hosp):
                self._hosp = _doubled(self._hosp)
            if state[_N_ENDED] >= self._ended.shape[1]:
                self._grow_ended()
            if state[_N_SD] >= self._step_downs.shape[1]:
                self._step_downs = _doubled(self._step_downs)

    def _arguments(self, people: PatientTable) -> tuple[Any, ...]:
        """The loop's arrays after the day and the due people, built again only when one is replaced.

        Looking up sixteen columns and passing fresh views each call cost more than the night's work
        on most nights; the arrays are the same objects until the patient table or an array grows.
        """
        c = people.cols
        if self._args is None or self._args_columns is not c["admission_day"] or self._args[5] is not self._step_downs:
            self._args_columns = c["admission_day"]
            self._args = (
                self._state, self.occupied, self._places, self._out, self._gp, self._step_downs, self.counts,
                self.values, self._bounds, self._ended, self._cand, self._cdep, self._stays, self._hosp,
                self._rng, self._up_prefix, self._step_down_prefixes, self._up_gen, self._down_gen, self._kept,
                self._kept[1].view(np.uint64),
                self._params, c["admission_day"], c["locality"], c["uid"],
                c["stage"], c["k"], c["referral_day"].view(np.uint64), c["budget_left"], c["hazard_since_day"],
                c["multiplier"], c["base_hazard"], c["return_day"], c["next_due_day"], c["due_since_day"],
                c["raised_until_day"], people.budgets, people.los,
            )  # fmt: skip
        return self._args

    def keep(self, loc: np.ndarray, t: np.ndarray, los: np.ndarray) -> None:
        """Keep the service's emergency admissions (locality, time, stay) to offer step-downs at the next night."""
        while not _keep(self._kept, self._state, loc, t, los):  # one compiled call, unless the array is full
            self._kept = _doubled(self._kept)
            self._args = None

    def nothing_kept(self) -> bool:
        """Whether no admission waits to be offered a step-down."""
        return not self._state[_N_KEPT]

    def _grow_ended(self) -> None:
        super()._grow_ended()
        self._args = None

    def open_stays(self) -> list[tuple[int, int, float, float]]:
        """The open stays, outside and caseload alike: (locality, seq, start, planned end)."""
        stays = self._stays[:, self._stays[_S_ACTIVE] != 0.0]
        caseload = [
            (int(loc), int(seq), start, end)
            for loc, seq, start, end in zip(*stays[[_S_LOC, _S_SEQ, _S_START, _S_END]].tolist(), strict=True)
        ]
        return super().open_stays() + caseload


__all__ = ["FULL", "CompiledWardNight"]
