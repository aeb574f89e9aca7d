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
import itertools
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from fundsim.columns import VIRTUAL_WARD_COLUMNS
from fundsim.scenario.addon_models import VirtualWard
from fundsim.scenario.models import Scenario
from fundsim.sim.accounts import Accounts
from fundsim.sim.calendar import Calendar
from fundsim.sim.event_draws import EventDraws, float_key
from fundsim.sim.patients import CASELOAD, PatientTable
from fundsim.sim.sampling import sample
from fundsim.sim.streams import RandomStreams
from fundsim.sim.urgent_response import take_one_grade, take_shared_minutes

MINUTES_PER_HOUR = 60.0
#: The ward's ledger columns, present only when a scenario has one (units and meanings in fundsim.columns).
VW_METRICS = tuple(VIRTUAL_WARD_COLUMNS)
#: First keys of per-event draws, so a step-up's and a step-down's keys never coincide.
_STEP_UP_KEY, _STEP_DOWN_KEY = 1, 2
#: Kinds of arrival from outside the caseload.
_GP, _STEP_DOWN = 0, 1
#: An arrival from outside the caseload: (time, order, kind, locality, ward stay days, hospital stay days
#: avoided (GP) or saved (step-down), when in the stay an escalated GP step-up is admitted (NaN: never)).
_Arrival = tuple[float, int, int, int, float, float, float]


#: Kinds of event the ward counts, and the ledger columns each adds one to. A count of events is the
#: sum of their 1.0s, exactly (below 2^53), so counting kinds gives the sums one 1.0 per event would.
(_REFUSED, _UP_ESCALATED, _UP_AVOIDED, _GP_ESCALATED, _GP_AVOIDED, _DOWN, _HOME, _FROM_WARD, _FROM_WARD_GP) = range(9)
_KIND_METRICS: dict[int, tuple[str, ...]] = {
    _REFUSED: ("vw_refused_full",),
    _UP_ESCALATED: ("vw_admissions_step_up",),
    _UP_AVOIDED: ("vw_admissions_step_up", "vw_admissions_avoided_direct"),
    _GP_ESCALATED: ("vw_admissions_step_up", "vw_admissions_step_up_gp"),
    _GP_AVOIDED: (
        "vw_admissions_step_up",
        "vw_admissions_step_up_gp",
        "vw_admissions_avoided_direct",
        "vw_admissions_avoided_gp",
    ),
    _DOWN: ("vw_admissions_step_down",),
    _HOME: ("vw_stays_ended",),
    _FROM_WARD: ("vw_stays_ended", "vw_admissions_from_ward"),
    _FROM_WARD_GP: ("vw_stays_ended", "vw_admissions_from_ward", "vw_admissions_from_ward_gp"),
}


class Host(Protocol):
    """What the ward needs of the service (:class:`fundsim.sim.service.ServiceModel` is one)."""

    scenario: Scenario
    calendar: Calendar
    accounts: Accounts
    people: PatientTable
    m_care: float
    pay_index: np.ndarray


@dataclass(slots=True)
class _Stay:
    """One person's stay on the ward."""

    loc: int
    start: float
    #: Planned end: home, or (escalated) the admission from the ward.
    end: float
    #: The person's row on the core's lists, or -1 for someone outside them (GP step-up, step-down).
    slot: int
    uid: int
    escalated: bool


class VirtualWardService:
    """The virtual ward of every locality: its places, stays, ledger columns and (shared) the core's time."""

    def __init__(self, spec: VirtualWard, host: Host, streams: RandomStreams, staff_grades: list[int]) -> None:
        self.spec = spec
        self.host = host
        self.accounts = acc = host.accounts
        self.staff_grades = staff_grades
        acc.add_metrics(VW_METRICS)
        sc = host.scenario
        populations = [loc.population for loc in sc.localities]
        n_days = host.calendar.n_days
        self.places = np.array([spec.places(people) for people in populations], dtype=np.int64)
        self._places = self.places.tolist()
        self.occupants: list[dict[tuple[int, int], _Stay]] = [{} for _ in populations]
        self._departures: list[tuple[float, int, int, tuple[int, int]]] = []  # (end, seq, loc, key)
        self._arrivals: list[_Arrival] = []
        self._seq = itertools.count()
        # Per-event draws keyed by the event (fundsim.sim.event_draws), never by the order events come in.
        self._draws = EventDraws(streams, "virtual_ward")
        # Hash states of the keys' common starts (kind, locality), so an event hashes only its own parts.
        self._up_prefix = [self._draws.uniform_prefix((_STEP_UP_KEY, i)) for i in range(len(populations))]
        self._down_prefix = [self._draws.uniform_prefix((_STEP_DOWN_KEY, i)) for i in range(len(populations))]
        self._up_gen = [self._draws.generator_prefix((_STEP_UP_KEY, i)) for i in range(len(populations))]
        self._down_gen = [self._draws.generator_prefix((_STEP_DOWN_KEY, i)) for i in range(len(populations))]
        # Occupied place-days of ended stays (locality, start, end), and the ward's counts summed by
        # (metric, locality, month) in event order, added to the accounts at each month's start: the
        # same sums, added at the same moments, as one ``add_times`` call per column would make.
        self._ended: list[tuple[int, float, float]] = []
        self._counts: dict[tuple[int, int, int], int] = {}  # (kind, locality, month): events
        self._values: dict[tuple[str, int, int], float] = {}  # (metric, locality, month): sum in event order
        self._month_starts = set(host.calendar.month_start_day.tolist())
        self._bounds = host.calendar.month_start_day.astype(float).tolist()
        self._n_months = host.calendar.n_months
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
        # GP step-ups: a Poisson stream per locality, drawn once (they depend on nothing in the core).
        for i, people in enumerate(populations):
            rng = streams.stream("virtual_ward", i)
            n = int(rng.poisson(spec.gp_step_ups_per_day(people) * n_days))
            times = np.sort(rng.uniform(0.0, float(n_days), n))
            u = rng.random((n, 2))
            stay = sample(spec.length_of_stay_days, rng, n)
            hospital_stay = sample(sc.hospital.length_of_stay_days, rng, n)
            when = np.where(u[:, 0] < spec.escalation_probability, u[:, 1], math.nan)
            self._arrivals.extend(
                zip(
                    times.tolist(),
                    itertools.islice(self._seq, n),
                    itertools.repeat(_GP, n),
                    itertools.repeat(i, n),
                    np.asarray(stay, dtype=float).tolist(),
                    np.asarray(hospital_stay, dtype=float).tolist(),
                    when.tolist(),
                    strict=True,
                )
            )
        heapq.heapify(self._arrivals)

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

    # ------------------------------------------------------------------ draws

    def _count(self, kind: int, loc: int, t: float, *values: tuple[str, float]) -> None:
        """Count an event of ``kind`` of locality ``loc`` at ``t``, and add each ``(metric, value)`` (at month end)."""
        # The month as Accounts.add_times finds it (the last month start at or before t).
        month = bisect.bisect_right(self._bounds, t) - 1
        key = (kind, loc, month)
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
        for metric, value in values:
            vkey = (metric, loc, month)
            sums = self._values
            sums[vkey] = sums.get(vkey, 0.0) + value

    # ------------------------------------------------------------------ the night's events

    def overnight(self, day: int, due: np.ndarray) -> np.ndarray:
        """Take the ward's events up to the start of ``day`` in time order; return who goes to hospital.

        ``due`` are the people whose admission is due by ``day``. Each is admitted from the ward (if
        on it), stepped up onto it, or goes to hospital; the ward's departures before ``day`` and the
        arrivals of GP step-ups and step-downs are taken in between, at their times.
        """
        departures, arrivals = self._departures, self._arrivals
        if (
            not len(due) and (not departures or departures[0][0] > day) and (not arrivals or arrivals[0][0] >= day)
        ):  # nothing tonight (about half the nights): skip the event loop
            if day in self._month_starts:
                self._add_ended_stays()
            return np.zeros(0, dtype=np.int64)
        cols = self.host.people.cols
        candidates = list(zip(cols["admission_day"][due].tolist(), due.tolist(), strict=True))
        heapq.heapify(candidates)
        hospital: list[int] = []
        sent: set[int] = set()
        inf, pop, admission_day = math.inf, heapq.heappop, cols["admission_day"]
        while True:
            t_dep = departures[0][0] if departures and departures[0][0] <= day else inf
            t_due = candidates[0][0] if candidates else inf
            t_arr = arrivals[0][0] if arrivals and arrivals[0][0] < day else inf
            if t_dep == t_due == t_arr == inf:
                break
            # A departure first at equal times: the place it frees is free at that moment.
            if t_dep <= t_due and t_dep <= t_arr:
                end, _, loc, key = pop(departures)
                self._depart(end, loc, key, day, candidates)
            elif t_due <= t_arr:
                t, slot = pop(candidates)
                # A person may be listed twice (due at the scan, and again after the ward moved their
                # hazard): only their current admission counts, once.
                if slot not in sent and admission_day[slot] == t:
                    self._due(t, slot, day, candidates, hospital)
                    if hospital and hospital[-1] == slot:
                        sent.add(slot)
            else:
                self._arrive(pop(arrivals))
        if day in self._month_starts:  # the month just closed is whole before the provider's review reads it
            self._add_ended_stays()
        # In slot order, as the core lists them: the order they are released in decides later slots.
        return np.array(sorted(hospital), dtype=np.int64)

    def _free(self, loc: int) -> bool:
        return len(self.occupants[loc]) < self._places[loc]

    def _admit_stay(self, stay: _Stay, key: tuple[int, int]) -> None:
        self.occupants[stay.loc][key] = stay
        heapq.heappush(self._departures, (stay.end, next(self._seq), stay.loc, key))

    def _end_stay(self, stay: _Stay, key: tuple[int, int], t: float, admitted: bool) -> None:
        """``stay`` ends at ``t``: home, or (``admitted``) in hospital."""
        loc = stay.loc
        del self.occupants[loc][key]
        self._ended.append((loc, stay.start, t))
        # An admission of a GP step-up is outside the core's ledger: a column of its own.
        kind = _HOME if not admitted else _FROM_WARD if stay.slot >= 0 else _FROM_WARD_GP
        self._count(kind, loc, t, ("vw_stay_days", t - stay.start))

    def _depart(self, end: float, loc: int, key: tuple[int, int], day: int, candidates: list) -> None:
        """A planned end of stay at ``end``; a core person back on the caseload resumes the caseload's hazard."""
        stay = self.occupants[loc].get(key)
        if stay is None or stay.end != end:
            return  # ended already: admitted from the ward
        if stay.slot >= 0 and stay.escalated:
            return  # the core admits them at ``end``; their due admission ends the stay
        self._end_stay(stay, key, end, admitted=stay.escalated)
        if stay.slot < 0:
            return
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
            self._count(_REFUSED, loc, t)
            hospital.append(s)
            return
        rng = self._draws.generator_after(self._up_gen[loc], (referral, k))  # key (_STEP_UP_KEY, loc, referral, k)
        u_escalate, u_when = rng.random(2)
        length = float(sample(spec.length_of_stay_days, rng, 1)[0])
        if u_escalate < spec.escalation_probability:
            self._count(_UP_ESCALATED, loc, t)
            # Admitted from the ward part-way through the stay, on the same deterioration (budget k).
            end = t + u_when * length
            cols["admission_day"][s] = end
            cols["budget_left"][s] = 0.0
            cols["hazard_since_day"][s] = end
            stay = _Stay(loc, t, end, s, key[1], escalated=True)
        else:
            end = t + length
            self._count(_UP_AVOIDED, loc, t, ("vw_bed_days_saved", float(p.los[s, k])))
            # The deterioration is treated at home; the next budget runs from now at the ward's hazard.
            cols["k"][s] = k + 1
            p.start_hazard_one(s, t, self.host.m_care * spec.admission_relative_risk)
            stay = _Stay(loc, t, end, s, key[1], escalated=False)
        back = max(math.ceil(end), day)  # off the caseload's visits until the day after the stay, as in hospital
        cols["return_day"][s] = back
        cols["next_due_day"][s] = back
        cols["due_since_day"][s] = back
        cols["raised_until_day"][s] = 0
        self._admit_stay(stay, key)
        if cols["admission_day"][s] <= day:
            heapq.heappush(candidates, (float(cols["admission_day"][s]), s))

    def _arrive(self, item: _Arrival) -> None:
        """A GP step-up or a step-down arrives: onto the ward if a place is free, else refused."""
        t, _, kind, loc, length, other, when = item
        if not self._free(loc):
            self._count(_REFUSED, loc, t)
            return
        key = (-1, next(self._seq))
        if kind == _GP:
            escalated = not math.isnan(when)
            if escalated:
                end = t + when * length
                self._count(_GP_ESCALATED, loc, t)
            else:
                end = t + length
                # The bed-days saved are the hospital stay it would have been.
                self._count(_GP_AVOIDED, loc, t, ("vw_bed_days_saved", other))
        else:
            escalated = False
            end = t + length
            self._count(_DOWN, loc, t, ("vw_bed_days_saved", other), ("vw_bed_days_saved_step_down", other))
        self._admit_stay(_Stay(loc, t, end, -1, -1, escalated), key)

    # ------------------------------------------------------------------ hooks from the core

    def hospital_stays(self, loc: np.ndarray, t: np.ndarray, los: np.ndarray) -> None:
        """The service's emergency admissions (locality, time, stay): a share step down onto the ward."""
        share = self.spec.step_down_share
        if share <= 0.0 or len(t) == 0:
            return
        days_saved = self.spec.step_down_days_saved
        draws, prefix = self._draws, self._down_prefix
        for i, when, stay in zip(loc.tolist(), t.tolist(), los.tolist(), strict=True):
            time_key = float_key(when)
            # The event's key is (_STEP_DOWN_KEY, i, time_key); its common start is hashed once per locality.
            if draws.uniform_after(prefix[i], (time_key,)) < share:
                rng = draws.generator_after(self._down_gen[i], (time_key,))  # key (_STEP_DOWN_KEY, i, time_key)
                length = float(sample(self.spec.length_of_stay_days, rng, 1)[0])
                saved = min(days_saved, stay)
                item = (when + stay - saved, next(self._seq), _STEP_DOWN, i, length, saved, math.nan)
                heapq.heappush(self._arrivals, item)

    def take_core_minutes(self, day: int, rostered: np.ndarray) -> np.ndarray:
        """The core's rostered minutes (locality × grade) after the day's ward work; records the ward's minutes.

        Called after the night's events (:meth:`overnight`), so the occupied places are the day's.
        """
        mpp = self.minutes_per_place
        need_l = [float(len(o)) * mpp for o in self.occupants]  # the float products numpy makes
        need = np.array(need_l)
        acc = self.accounts
        acc.add_day("vw_staff_minutes", day, need)
        if self.spec.staffing != "shared" or not any(need_l):
            return rostered
        if len(self.staff_grades) != 1:
            out, taken_a = take_shared_minutes(rostered, need, self.staff_grades, self.spec.shared_cap_share)
            self._record_shared(day, taken_a, need - taken_a)
            return out
        # One grade (the usual case): the same arithmetic in Python floats, the same bits.
        grade = self.staff_grades[0]
        left, taken = take_one_grade(rostered, need_l, grade, self.spec.shared_cap_share)
        out = rostered.copy()
        out[:, grade] = left
        self._record_shared(day, np.array(taken), np.array([n - x for n, x in zip(need_l, taken, strict=True)]))
        return out

    def _record_shared(self, day: int, taken: np.ndarray, bank: np.ndarray) -> None:
        """Add a shared day's minutes from the core and from bank staff, and the bank's cost."""
        acc = self.accounts
        acc.add_day("vw_core_minutes", day, taken)
        acc.add_day("vw_bank_minutes", day, bank)
        acc.add_day("vw_cost_gbp", day, bank / MINUTES_PER_HOUR * self.hourly_cost_gbp * self.host.pay_index[day])

    def _add_ended_stays(self) -> None:
        """Add the ward's counts, and the place-days of the stays ended, since the last time to the accounts."""
        acc = self.accounts
        if self._ended:
            locs, starts, ends = zip(*self._ended, strict=True)
            acc.add_area("vw_occupied_place_days", np.array(locs, dtype=np.int64), np.array(starts), np.array(ends))
        self._ended = []
        n_months = self._n_months
        totals: dict[tuple[str, int, int], int] = {}
        for (kind, loc, month), n in self._counts.items():
            for metric in _KIND_METRICS[kind]:
                key = (metric, loc, month)
                totals[key] = totals.get(key, 0) + n
        # Warm-up and post-horizon times are not kept, as in add_times.
        for (metric, loc, month), n in totals.items():
            if 0 <= month < n_months:
                acc.sums[metric][loc, month] += float(n)
        for (metric, loc, month), value in self._values.items():
            if 0 <= month < n_months:
                acc.sums[metric][loc, month] += value
        self._counts = {}
        self._values = {}

    def close(self, end_day: float) -> None:
        """Add the occupied place-days of every stay not yet added, open ones up to ``end_day``."""
        for occupants in self.occupants:
            for stay in occupants.values():
                self._ended.append((stay.loc, stay.start, min(stay.end, end_day)))
        self._add_ended_stays()

    def occupied(self) -> np.ndarray:
        """Occupied places in each locality now."""
        return np.array([len(o) for o in self.occupants], dtype=np.int64)


__all__ = ["VW_METRICS", "Host", "VirtualWardService"]
