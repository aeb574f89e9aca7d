"""A virtual ward (hospital at home) beside the core service: step-up, step-down, capped places, staff time.

Each locality has a fixed number of places, a *loss system*: someone who arrives when every place
is taken is refused and goes to hospital as they would have without the ward (with Poisson
arrivals this is Erlang's loss model, whatever the stays' distribution). Three sources fill it:

* **caseload step-up**: a person on the caseload whose deterioration budget runs out (an emergency
  admission is due, :mod:`fundsim.sim.hazard`) is stepped up onto the ward instead, with
  ``step_up_share``, when a place is free. The deterioration is treated at home: the admission is
  avoided, unless the step-up *escalates* (``escalation_probability``), when the person is admitted
  from the ward part-way through the stay. While on the ward the person is away from the caseload's
  visits (as in hospital) and their hazard of a *new* admission is ``admission_relative_risk`` × the
  caseload's; the next budget starts at the step-up, so an avoided admission uses up its budget.
* **GP step-up**: people from outside the caseload, a Poisson stream per locality; each would have
  been an emergency admission (outside the core's ledger), avoided unless it escalates.
* **step-down**: a share of the service's emergency admissions leave hospital
  ``step_down_days_saved`` days early (at most the stay) onto the ward. The core counts the stay as it
  was (the person stays off the caseload until its end); the days saved are the ward's column.

Events are taken in time order each night (:meth:`VirtualWardService.overnight`): departures,
the night's admissions due from the caseload, and arrivals from GPs and step-downs, so places are
given in the order people come. Every draw comes from the ward's own stream purpose, keyed by the
event (a GP stream per locality; a person and admission number; a hospital admission's locality and
time), never by the order of events: the core's draws are unchanged, and the same person gets the
same ward draws however the core is staffed (common random numbers).

Staff time: each occupied place needs ``minutes_per_place_per_day`` a day (visits and remote
monitoring), counted at the start of the day. A *dedicated* team is paid for every place, occupied or
not; a *shared* one takes the minutes from the core's rostered time before the core's own work, up
to ``shared_cap_share`` (:func:`fundsim.sim.urgent_response.take_shared_minutes`), with bank staff
beyond the cap.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from fundsim.columns import VIRTUAL_WARD_COLUMNS
from fundsim.scenario.addon_models import VirtualWard
from fundsim.scenario.models import Scenario
from fundsim.sim.accounts import Accounts, DailyArraySums, DailySums
from fundsim.sim.calendar import Calendar
from fundsim.sim.event_draws import EventDraws, float_key
from fundsim.sim.patients import CASELOAD, PatientTable
from fundsim.sim.sampling import parameters, sample
from fundsim.sim.streams import RandomStreams
from fundsim.sim.urgent_response import take_one_grade, take_shared_minutes
from fundsim.sim.ward_night import (
    CORE_DEPARTURE,
    DOWN,
    FROM_WARD,
    FROM_WARD_GP,
    GP_AVOIDED,
    GP_ESCALATED,
    HOME,
    N_KINDS,
    N_VALUES,
    NOTHING,
    REFUSED,
    UP_AVOIDED,
    UP_ESCALATED,
    V_BED_DAYS_SAVED,
    V_BED_DAYS_SAVED_STEP_DOWN,
    V_STAY_DAYS,
    NightEngine,
    PureNight,
)

if TYPE_CHECKING:
    from fundsim.sim.ward_overnight_compiled import CompiledWardNight

MINUTES_PER_HOUR = 60.0
#: The ward's ledger columns, present only when a scenario has one (units and meanings in fundsim.columns).
VW_METRICS = tuple(VIRTUAL_WARD_COLUMNS)
#: First keys of per-event draws, so a step-up's and a step-down's keys never coincide.
_STEP_UP_KEY, _STEP_DOWN_KEY = 1, 2

#: The ledger columns each kind of counted event adds one to. A count of events is the sum of their
#: 1.0s, exactly (below 2^53), so counting kinds gives the sums one 1.0 per event would.
_KIND_METRICS: dict[int, tuple[str, ...]] = {
    REFUSED: ("vw_refused_full",),
    UP_ESCALATED: ("vw_admissions_step_up",),
    UP_AVOIDED: ("vw_admissions_step_up", "vw_admissions_avoided_direct"),
    GP_ESCALATED: ("vw_admissions_step_up", "vw_admissions_step_up_gp"),
    GP_AVOIDED: (
        "vw_admissions_step_up",
        "vw_admissions_step_up_gp",
        "vw_admissions_avoided_direct",
        "vw_admissions_avoided_gp",
    ),
    DOWN: ("vw_admissions_step_down",),
    HOME: ("vw_stays_ended",),
    FROM_WARD: ("vw_stays_ended", "vw_admissions_from_ward"),
    FROM_WARD_GP: ("vw_stays_ended", "vw_admissions_from_ward", "vw_admissions_from_ward_gp"),
}
#: The metrics counted, and which kinds each counts (metric × kind, 0 or 1).
_COUNT_METRICS = tuple(dict.fromkeys(m for metrics in _KIND_METRICS.values() for m in metrics))
_KIND_MATRIX = np.array(
    [[int(metric in _KIND_METRICS.get(kind, ())) for kind in range(N_KINDS)] for metric in _COUNT_METRICS],
    dtype=np.int64,
)
#: The ledger column of each row of the ward's value sums.
_VALUE_METRICS = {
    V_STAY_DAYS: "vw_stay_days",
    V_BED_DAYS_SAVED: "vw_bed_days_saved",
    V_BED_DAYS_SAVED_STEP_DOWN: "vw_bed_days_saved_step_down",
}


class Host(Protocol):
    """What the ward needs of the service (:class:`fundsim.sim.service.ServiceModel` is one)."""

    scenario: Scenario
    calendar: Calendar
    accounts: Accounts
    people: PatientTable
    m_care: float
    pay_index: np.ndarray
    kernel: str


@dataclass(slots=True)
class _Stay:
    """A caseload person's stay on the ward (stays from outside the caseload live in arrays: :mod:`.ward_night`)."""

    loc: int
    start: float
    #: Planned end: home, or (escalated) the admission from the ward.
    end: float
    #: The person's row on the core's lists.
    slot: int
    uid: int
    escalated: bool
    #: The sequence number of its planned end (the ward's order of creation).
    seq: int


#: No one to hospital tonight (shared, so read-only).
_NO_ONE = np.zeros(0, dtype=np.int64)
_NO_ONE.flags.writeable = False


def _compiled_night_class() -> type[CompiledWardNight] | None:
    """The compiled night, or ``None`` when it cannot be imported (numba without numpy's ziggurat tables).

    Its draws use the ziggurat tables numba ships (``numba.np.random._constants``, not a public
    module); a numba without them leaves the ward's night to the pure path, which gives the same
    numbers, more slowly.
    """
    try:
        from fundsim.sim.ward_overnight_compiled import CompiledWardNight  # numba: imported only when chosen
    except ImportError:
        return None
    return CompiledWardNight


class VirtualWardService:
    """The virtual ward of every locality: its places, stays, ledger columns and (shared) the core's time.

    Stays of people from the caseload are Python objects (their events move the core's patient table);
    stays from outside it (GP step-ups, step-downs), most of the ward's events, are a night engine's
    (:mod:`fundsim.sim.ward_night`). On the compiled path one numba loop takes both, the step-down
    offers and their keyed draws (:mod:`fundsim.sim.ward_overnight_compiled`, drawing with
    :mod:`fundsim.sim.keyed_draws_compiled`).
    """

    def __init__(self, spec: VirtualWard, host: Host, streams: RandomStreams, staff_grades: list[int]) -> None:
        self.spec = spec
        self.host = host
        self.accounts = acc = host.accounts
        self.staff_grades = staff_grades
        acc.add_metrics(VW_METRICS)
        #: The day's staff minutes and bank cost, added to the accounts at each month's close.
        daily_metrics = ("vw_staff_minutes", "vw_core_minutes", "vw_bank_minutes", "vw_cost_gbp")
        self._sums = DailySums(acc, daily_metrics)
        self.daily: DailySums | DailyArraySums = self._sums
        self._array_sums = DailyArraySums(acc, daily_metrics)
        self._compiled_day: Callable[..., bool] | None = None
        if getattr(host, "kernel", "pure") == "compiled" and len(staff_grades) == 1:
            from fundsim.sim.addons_compiled import ward_day  # numba: imported only when chosen

            self._compiled_day = ward_day  # the day's minutes in one call (one staff grade): the same bits
            self.daily = self._array_sums
        sc = host.scenario
        populations = [loc.population for loc in sc.localities]
        n_loc = len(populations)
        n_days = host.calendar.n_days
        self.places = np.array([spec.places(people) for people in populations], dtype=np.int64)
        #: Occupied places by locality, stays from the caseload and from outside it alike.
        self._occupied = np.zeros(n_loc, dtype=np.int64)
        self.occupants: list[dict[tuple[int, int], _Stay]] = [{} for _ in populations]
        self._departures: list[tuple[float, int, int, tuple[int, int]]] = []  # caseload stays: (end, seq, loc, key)
        #: The service's emergency admissions (locality, time, stay arrays) since the last night.
        self._hospital_stays: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # Per-event draws keyed by the event (fundsim.sim.event_draws), never by the order events come in.
        self._draws = EventDraws(streams, "virtual_ward")
        # Hash states of the keys' common starts (kind, locality), so an event hashes only its own parts.
        self._up_prefix = [self._draws.uniform_prefix((_STEP_UP_KEY, i)) for i in range(n_loc)]
        self._down_prefix = [self._draws.uniform_prefix((_STEP_DOWN_KEY, i)) for i in range(n_loc)]
        self._up_gen = [self._draws.generator_prefix((_STEP_UP_KEY, i)) for i in range(n_loc)]
        self._down_gen = [self._draws.generator_prefix((_STEP_DOWN_KEY, i)) for i in range(n_loc)]
        # The ward's counts by (kind, locality, month) and value sums by (value, locality, month), in event
        # order, and the place-days of ended stays, added to the accounts at each month's start. Month
        # columns are shifted by one: column 0 is the warm-up, the last is after the horizon.
        n_months = host.calendar.n_months
        self._counts = np.zeros((N_KINDS, n_loc, n_months + 2), dtype=np.int64)
        self._values = np.zeros((N_VALUES, n_loc, n_months + 2))
        self._month_starts = set(host.calendar.month_start_day.tolist())
        self._bounds = host.calendar.month_start_day.astype(float)
        self._bounds_list = self._bounds.tolist()
        self._n_months = n_months
        grades = sc.workforce.grades
        self.hourly_cost_gbp = spec.staff_hourly_cost_gbp or float(
            np.mean([grades[g].hourly_cost_gbp for g in staff_grades])
        )
        self.minutes_per_place = spec.minutes_per_place_per_day
        places = self.places.astype(float)
        team_gbp = places * self.minutes_per_place / MINUTES_PER_HOUR * self.hourly_cost_gbp
        for day in range(n_days):
            acc.add_day("vw_places_days", day, places)
            if spec.staffing == "dedicated":
                acc.add_day("vw_cost_gbp", day, team_gbp * host.pay_index[day])
        # GP step-ups: a Poisson stream per locality, drawn once (they depend on nothing in the core),
        # numbered in order of locality then time, and taken in order of time, then number.
        gp: list[np.ndarray] = []
        for i, people in enumerate(populations):
            rng = streams.stream("virtual_ward", i)
            n = int(rng.poisson(spec.gp_step_ups_per_day(people) * n_days))
            times = np.sort(rng.uniform(0.0, float(n_days), n))
            u = rng.random((n, 2))
            stay = np.asarray(sample(spec.length_of_stay_days, rng, n), dtype=float)
            hospital_stay = np.asarray(sample(sc.hospital.length_of_stay_days, rng, n), dtype=float)
            when = np.where(u[:, 0] < spec.escalation_probability, u[:, 1], math.nan)
            gp.append(np.array([times, stay, hospital_stay, when, np.full(n, float(i))]))
        arrivals = np.concatenate(gp, axis=1)
        n_gp = arrivals.shape[1]
        seq = np.arange(n_gp, dtype=float)
        order = np.lexsort((seq, arrivals[0]))
        # Rows (time, seq, locality, ward stay, hospital days avoided, when escalated), by time then seq.
        gp_rows = np.array([arrivals[0], seq, arrivals[4], arrivals[1], arrivals[2], arrivals[3]])[:, order]
        # The outside stays' night: Python's heaps, or the same over arrays compiled (fundsim.sim.kernels).
        parts = (gp_rows, self.places, self._bounds, self._counts, self._values, self._occupied, n_gp)
        self._night: NightEngine
        #: On the compiled path the night engine takes the caseload's events too (one call a night).
        self._whole_night: CompiledWardNight | None = None
        whole_night = _compiled_night_class() if getattr(host, "kernel", "pure") == "compiled" else None
        if whole_night is not None:
            self._night = self._whole_night = whole_night(
                *parts,
                self._draws,
                self._down_prefix,
                up_prefixes=self._up_prefix,
                up_generators=self._up_gen,
                down_generators=self._down_gen,
                length_of_stay=parameters(spec.length_of_stay_days),
                step_up_share=spec.step_up_share,
                escalation_probability=spec.escalation_probability,
                admission_relative_risk=spec.admission_relative_risk,
                step_down_share=spec.step_down_share,
                step_down_days_saved=spec.step_down_days_saved,
            )
        else:
            self._night = PureNight(*parts, self._draws, self._down_prefix)

    @classmethod
    def build(cls, host: Host, streams: RandomStreams, grade_index: dict[str, int]) -> VirtualWardService | None:
        """The scenario's virtual ward, or ``None`` without ``addons.virtual_ward``."""
        sc = host.scenario
        spec = sc.addons.virtual_ward if sc.addons is not None else None
        if spec is None:
            return None
        names = spec.staff_grades or sc.tiers[-1].allowed_grades
        unknown = [g for g in names if g not in grade_index]
        if unknown:
            raise ValueError(
                f"addons.virtual_ward.staff_grades names unknown grade(s) {unknown}; grades are {list(grade_index)}"
            )
        return cls(spec, host, streams, [grade_index[g] for g in names])

    # ------------------------------------------------------------------ counting

    def _count(self, kind: int, loc: int, t: float, *values: tuple[int, float]) -> None:
        """Count an event of ``kind`` of locality ``loc`` at ``t``; add each ``(value row, value)`` (at month end)."""
        # The month as Accounts.add_times finds it (the last month start at or before t), shifted by one.
        col = bisect.bisect_right(self._bounds_list, t)
        self._counts[kind, loc, col] += 1
        for row, value in values:
            self._values[row, loc, col] += value

    # ------------------------------------------------------------------ the night's events

    def _nothing_tonight(self, day: int, due: np.ndarray) -> bool:
        """Whether no event is due before the start of ``day`` (about half the nights)."""
        if self._whole_night is not None and not self._whole_night.nothing_kept():
            return False  # the compiled night offers the kept admissions their step-downs
        if len(due) or (self._departures and self._departures[0][0] <= day):
            return False
        return self._night.nothing_before(day)

    def overnight(self, day: int, due: np.ndarray) -> np.ndarray:
        """Take the ward's events up to the start of ``day`` in time order; return who goes to hospital.

        ``due`` are the people whose admission is due by ``day``. Each is admitted from the ward (if
        on it), stepped up onto it, or goes to hospital; the ward's departures before ``day`` and the
        arrivals of GP step-ups and step-downs are taken in between, at their times (the outside
        stays' by the night engine, :mod:`fundsim.sim.ward_night`).
        """
        night = self._whole_night
        if night is None:
            self._offer_step_downs()  # the day's admissions first: no other stay is numbered before them
        if self._nothing_tonight(day, due):
            if day in self._month_starts:
                self._add_ended_stays()
            return _NO_ONE
        if night is not None:  # the same steps in one compiled loop, the step-down offers first
            out = night.overnight(day, due, self.host.people, self.host.m_care)
            if day in self._month_starts:
                self._add_ended_stays()
            return out
        cols = self.host.people.cols
        candidates = list(zip(cols["admission_day"][due].tolist(), due.tolist(), strict=True))
        heapq.heapify(candidates)
        hospital: list[int] = []
        sent: set[int] = set()
        inf, pop, admission_day, departures = math.inf, heapq.heappop, cols["admission_day"], self._departures
        advance = self._night.advance
        while True:
            if departures and departures[0][0] <= day:
                t_core, q_core = departures[0][0], departures[0][1]
            else:
                t_core, q_core = inf, 0
            t_due = candidates[0][0] if candidates else inf
            nxt = advance(day, t_core, q_core, t_due)
            if nxt == NOTHING:
                break
            if nxt == CORE_DEPARTURE:
                end, _, loc, key = pop(departures)
                self._depart(end, loc, key, day, candidates)
            else:
                t, slot = pop(candidates)
                # A person may be listed twice (due at the scan, and again after the ward moved their
                # hazard): only their current admission counts, once.
                if slot not in sent and admission_day[slot] == t:
                    self._due(t, slot, day, candidates, hospital)
                    if hospital and hospital[-1] == slot:
                        sent.add(slot)
        if day in self._month_starts:  # the month just closed is whole before the provider's review reads it
            self._add_ended_stays()
        # In slot order, as the core lists them: the order they are released in decides later slots.
        return np.array(sorted(hospital), dtype=np.int64)

    def _step_up_draws(self, s: int) -> tuple[float, float, float]:
        """Person ``s``'s step-up draws: the escalation's and its timing's uniforms, and the length of stay.

        From the generator keyed (_STEP_UP_KEY, locality, referral time, admission number), as ``_due`` draws them.
        """
        cols = self.host.people.cols
        loc, k = int(cols["locality"][s]), int(cols["k"][s])
        rng = self._draws.generator_after(self._up_gen[loc], (float_key(float(cols["referral_day"][s])), k))
        u_escalate, u_when = rng.random(2).tolist()
        return u_escalate, u_when, float(sample(self.spec.length_of_stay_days, rng, 1)[0])

    def _free(self, loc: int) -> bool:
        return bool(self._occupied[loc] < self.places[loc])

    def _admit_stay(self, stay: _Stay, key: tuple[int, int]) -> None:
        self.occupants[stay.loc][key] = stay
        self._occupied[stay.loc] += 1
        heapq.heappush(self._departures, (stay.end, stay.seq, stay.loc, key))

    def _end_stay(self, stay: _Stay, key: tuple[int, int], t: float, admitted: bool) -> None:
        """A caseload person's ``stay`` ends at ``t``: home, or (``admitted``) in hospital."""
        loc = stay.loc
        del self.occupants[loc][key]
        self._occupied[loc] -= 1
        self._night.append_ended(loc, stay.start, t)
        self._count(FROM_WARD if admitted else HOME, loc, t, (V_STAY_DAYS, t - stay.start))

    def _depart(self, end: float, loc: int, key: tuple[int, int], day: int, candidates: list) -> None:
        """A planned end of stay at ``end``; a core person back on the caseload resumes the caseload's hazard."""
        stay = self.occupants[loc].get(key)
        if stay is None or stay.end != end:
            return  # ended already: admitted from the ward
        if stay.escalated:
            return  # the core admits them at ``end``; their due admission ends the stay
        self._end_stay(stay, key, end, admitted=False)
        cols = self.host.people.cols
        s = stay.slot
        if cols["uid"][s] != stay.uid or cols["stage"][s] != CASELOAD:
            return
        # From the end of the stay (or later, if a lever already moved this person's hazard on).
        since = max(end, float(cols["hazard_since_day"][s]))
        self.host.people.set_multiplier_one(s, since, self.host.m_care)
        if cols["admission_day"][s] <= day:
            heapq.heappush(candidates, (float(cols["admission_day"][s]), s))

    def _due(self, t: float, s: int, day: int, candidates: list, hospital: list[int]) -> None:
        """Person ``s``'s admission is due at ``t``: from the ward, onto the ward, or to hospital."""
        p = self.host.people
        cols = p.cols
        loc = int(cols["locality"][s])
        key = (s, int(cols["uid"][s]))
        stay = self.occupants[loc].get(key)
        if stay is not None:  # on the ward: admitted from it
            self._end_stay(stay, key, t, admitted=True)
            hospital.append(s)
            return
        spec = self.spec
        if spec.step_up_share <= 0.0 or cols["stage"][s] != CASELOAD:
            hospital.append(s)
            return
        k = int(cols["k"][s])
        referral = float_key(float(cols["referral_day"][s]))
        if self._draws.uniform_after(self._up_prefix[loc], (referral, k)) >= spec.step_up_share:
            hospital.append(s)
            return
        if not self._free(loc):
            self._count(REFUSED, loc, t)
            hospital.append(s)
            return
        u_escalate, u_when, length = self._step_up_draws(s)
        if u_escalate < spec.escalation_probability:
            self._count(UP_ESCALATED, loc, t)
            # Admitted from the ward part-way through the stay, on the same deterioration (budget k).
            end = t + u_when * length
            cols["admission_day"][s] = end
            cols["budget_left"][s] = 0.0
            cols["hazard_since_day"][s] = end
            escalated = True
        else:
            end = t + length
            self._count(UP_AVOIDED, loc, t, (V_BED_DAYS_SAVED, float(p.los[s, k])))
            # The deterioration is treated at home; the next budget runs from now at the ward's hazard.
            cols["k"][s] = k + 1
            p.start_hazard_one(s, t, self.host.m_care * spec.admission_relative_risk)
            escalated = False
        stay = _Stay(loc, t, end, s, key[1], escalated, self._night.next_seq())
        back = max(math.ceil(end), day)  # off the caseload's visits until the day after the stay, as in hospital
        cols["return_day"][s] = back
        cols["next_due_day"][s] = back
        cols["due_since_day"][s] = back
        cols["raised_until_day"][s] = 0
        self._admit_stay(stay, key)
        if cols["admission_day"][s] <= day:
            heapq.heappush(candidates, (float(cols["admission_day"][s]), s))

    # ------------------------------------------------------------------ hooks from the core

    def hospital_stays(self, loc: np.ndarray, t: np.ndarray, los: np.ndarray) -> None:
        """The service's emergency admissions (locality, time, stay): a share step down onto the ward.

        Kept until the ward's next night (:meth:`_offer_step_downs`), when those of the day's several
        calls are offered together, in the order they came: the step-downs are numbered in that order,
        and no other stay is numbered before the night.
        """
        if self.spec.step_down_share > 0.0 and len(t):
            if self._whole_night is not None:
                self._whole_night.keep(loc, t, los)  # offered in the compiled night
            else:
                self._hospital_stays.append((loc, t, los))

    def _offer_step_downs(self) -> None:
        """Offer the admissions kept since the last night a step-down (those offered join the queue)."""
        kept = self._hospital_stays
        if not kept:
            return
        self._hospital_stays = []
        if len(kept) == 1:
            loc, t, los = kept[0]
        else:
            loc, t, los = (np.concatenate(parts) for parts in zip(*kept, strict=True))
        share, days_saved = self.spec.step_down_share, self.spec.step_down_days_saved
        # Each admission's key is (_STEP_DOWN_KEY, its locality, its time's bits); the start hashed once per locality.
        for j in self._night.offered(loc, t, share):
            i, when, stay = int(loc[j]), float(t[j]), float(los[j])
            length = self._step_down_length(i, when)
            saved = min(days_saved, stay)
            self._night.push_step_down(when + stay - saved, length, saved, i)

    def _step_down_length(self, i: int, when: float) -> float:
        """The length of stay of the step-down from locality ``i``'s admission at ``when`` (keyed by both)."""
        rng = self._draws.generator_after(self._down_gen[i], (float_key(when),))  # key (_STEP_DOWN_KEY, i, time)
        return float(sample(self.spec.length_of_stay_days, rng, 1)[0])

    def take_core_minutes(self, day: int, rostered: np.ndarray) -> np.ndarray:
        """The core's rostered minutes (locality × grade) after the day's ward work; records the ward's minutes.

        Called after the night's events (:meth:`overnight`), so the occupied places are the day's.
        """
        mpp = self.minutes_per_place
        if self._compiled_day is not None:
            shared = self.spec.staffing == "shared"
            out = rostered.copy() if shared else rostered  # a dedicated ward's day takes nothing
            record = self._array_sums.start(day)
            pay = float(self.host.pay_index[day])
            took = self._compiled_day(
                out, self.staff_grades[0], self._occupied, mpp, shared, self.spec.shared_cap_share,
                self.hourly_cost_gbp, pay, self._array_sums.sums, record,
            )  # fmt: skip
            return out if took else rostered
        need_l = [float(n) * mpp for n in self._occupied.tolist()]  # the float products numpy makes
        self._sums.add("vw_staff_minutes", day, need_l)
        if self.spec.staffing != "shared" or not any(need_l):
            return rostered
        if len(self.staff_grades) != 1:
            need = np.array(need_l)
            out, taken_a = take_shared_minutes(rostered, need, self.staff_grades, self.spec.shared_cap_share)
            self._record_shared(day, taken_a.tolist(), (need - taken_a).tolist())
            return out
        # One grade (the usual case): the same arithmetic in Python floats, the same bits.
        grade = self.staff_grades[0]
        left, taken = take_one_grade(rostered, need_l, grade, self.spec.shared_cap_share)
        out = rostered.copy()
        out[:, grade] = left
        self._record_shared(day, taken, [n - x for n, x in zip(need_l, taken, strict=True)])
        return out

    def _record_shared(self, day: int, taken: list[float], bank: list[float]) -> None:
        """Add a shared day's minutes from the core and from bank staff, and the bank's cost."""
        daily = self._sums
        daily.add("vw_core_minutes", day, taken)
        daily.add("vw_bank_minutes", day, bank)
        rate, pay = self.hourly_cost_gbp, float(self.host.pay_index[day])
        daily.add("vw_cost_gbp", day, [b / MINUTES_PER_HOUR * rate * pay for b in bank])

    def _add_ended_stays(self) -> None:
        """Add the ward's counts, and the place-days of the stays ended, since the last time to the accounts."""
        acc = self.accounts
        locs, starts, ends = self._night.take_ended()
        if len(locs):
            acc.add_area("vw_occupied_place_days", locs, starts, ends)
        if not (self._counts.any() or self._values.any()):
            return  # nothing since the last time (the night's later calls on a month's first day)
        # Warm-up and post-horizon times are not kept, as in add_times. Adding a cell's 0.0 changes
        # nothing (the ward's sums are never -0.0), so whole months are added, each cell once.
        months = slice(1, self._n_months + 1)
        # Each metric's count is the sum of its kinds' counts: integers, so one product gives them exactly.
        totals = np.tensordot(_KIND_MATRIX, self._counts[:, :, months], axes=1)
        for metric, total in zip(_COUNT_METRICS, totals, strict=True):
            acc.sums[metric] += total  # counts below 2^53: exact as floats
        for row, metric in _VALUE_METRICS.items():
            acc.sums[metric] += self._values[row, :, months]
        self._counts[:] = 0
        self._values[:] = 0.0

    def close(self, end_day: float) -> None:
        """Add the occupied place-days of every stay not yet added, open ones up to ``end_day``.

        Open stays are added by locality, then in their order of creation, caseload stays and outside
        ones together (the order decides a sum's last bits).
        """
        open_stays = self._night.open_stays()
        for occupants in self.occupants:
            open_stays.extend((stay.loc, stay.seq, stay.start, stay.end) for stay in occupants.values())
        for loc, _, start, end in sorted(open_stays):
            self._night.append_ended(loc, start, min(end, end_day))
        self._add_ended_stays()

    def occupied(self) -> np.ndarray:
        """Occupied places in each locality now."""
        return self._occupied.copy()


__all__ = ["VW_METRICS", "Host", "VirtualWardService"]
