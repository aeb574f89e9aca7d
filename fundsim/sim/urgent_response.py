"""A 2-hour urgent community response (UCR) service within the day: calls, responders, reach times.

Calls arrive through the day by an hour-of-day profile (a Poisson count in each hour, at uniform
times within it). Each locality's responders are a first-come-first-served queue (a SimPy
resource, :func:`queue_waits`, computed in the model by the equivalent recursion
:func:`fcfs_waits`, tested against it): a call waits for a free responder, who travels to the
caller and stays on scene. The call is *reached* when the wait plus the journey is within the
target (2 hours). Responders are on duty whenever a call is waiting (a queue at the end of service
hours is cleared, as services do by overrunning).

Every random quantity of a call (its time, journey, time on scene and the uniform number that
decides an admission) is drawn before the queue is run and in a fixed order, so the same calls
arrive with the same needs however many responders there are or who they are (common random
numbers): staffing changes only the waits. An admission follows from the call's uniform number
``u``: admitted when ``u`` is below the probability for a timely or a late response, and admitted
*without the service* when ``u`` is below that probability, so avoided admissions are counted on
the same callers.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import simpy

from fundsim.scenario.addon_models import HOURS_PER_DAY, UrgentResponse
from fundsim.scenario.service_models import Hospital
from fundsim.sim.accounts import Accounts, DailyArraySums, DailySums
from fundsim.sim.sampling import sample
from fundsim.sim.streams import RandomStreams

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_HOUR = 60


@dataclass(frozen=True)
class UrgentCalls:
    """The calls of one locality over a run, in order of arrival (arrays of equal length)."""

    #: When the call came, in days from the start of the run.
    arrival_day: np.ndarray
    #: Minutes from the call to a responder setting off.
    wait_minutes: np.ndarray
    travel_minutes: np.ndarray
    on_scene_minutes: np.ndarray
    #: Reached within the target: wait + travel <= target_hours.
    reached: np.ndarray
    #: Admitted to hospital after the call, and whether they would have been with no UCR service.
    admitted: np.ndarray
    admitted_without: np.ndarray

    @property
    def responder_minutes(self) -> np.ndarray:
        """Responder time each call takes: the journey and the time on scene."""
        return self.travel_minutes + self.on_scene_minutes

    @property
    def start_day(self) -> np.ndarray:
        """When a responder set off, in days from the start of the run."""
        return self.arrival_day + self.wait_minutes / MINUTES_PER_DAY

    def minutes_by_day(self, n_days: int) -> np.ndarray:
        """Responder minutes taken on each day (by the day a responder set off), ``n_days`` long."""
        day = np.minimum(np.floor(self.start_day).astype(np.int64), n_days - 1)
        return np.bincount(day, weights=self.responder_minutes, minlength=n_days)[:n_days]


def draw_call_times(spec: UrgentResponse, population: int, n_days: int, rng: np.random.Generator) -> np.ndarray:
    """Arrival times (days from the start, sorted) of ``n_days`` of calls for ``population`` people.

    A Poisson count per hour of each day at the profile's rate, placed uniformly within the hour:
    a non-homogeneous Poisson process with a piecewise-constant rate.
    """
    per_hour = np.asarray(spec.calls_per_hour(population), dtype=float)
    counts = rng.poisson(np.tile(per_hour, n_days))
    hour_index = np.repeat(np.arange(n_days * HOURS_PER_DAY), counts)
    offsets = rng.random(len(hour_index))
    return np.sort((hour_index + offsets) / HOURS_PER_DAY)


def simulate_calls(
    spec: UrgentResponse,
    population: int,
    n_days: int,
    responders: int,
    rng: np.random.Generator,
    waits_of: Callable[[np.ndarray, np.ndarray, int], np.ndarray] | None = None,
) -> UrgentCalls:
    """One locality's UCR over ``n_days`` with ``responders`` on duty: every call and its outcome.

    ``waits_of`` runs the queue (default :func:`fcfs_waits`; its compiled twin gives the same waits).
    """
    arrival = draw_call_times(spec, population, n_days, rng)
    n = len(arrival)
    travel = sample(spec.travel_minutes, rng, n)
    on_scene = sample(spec.on_scene_minutes, rng, n)
    u = rng.random(n)
    wait = (waits_of or fcfs_waits)(arrival * MINUTES_PER_DAY, travel + on_scene, responders)
    reached = wait + travel <= spec.target_hours * MINUTES_PER_HOUR
    p_admit = np.where(reached, spec.admission_probability_reached, spec.admission_probability_late)
    return UrgentCalls(
        arrival_day=arrival,
        wait_minutes=wait,
        travel_minutes=travel,
        on_scene_minutes=on_scene,
        reached=reached,
        admitted=u < p_admit,
        admitted_without=u < spec.admission_probability_without,
    )


def queue_waits(arrival_minutes: np.ndarray, busy_minutes: np.ndarray, responders: int) -> np.ndarray:
    """Each call's wait for one of ``responders`` (first come, first served), run as a SimPy process.

    The reference for :func:`fcfs_waits`, which the model uses (the same queue, computed directly).
    ``arrival_minutes`` must be sorted; ``busy_minutes`` is how long each call holds a responder.
    """
    env = simpy.Environment()
    team = simpy.Resource(env, capacity=responders)
    waits = np.zeros(len(arrival_minutes))

    def call(i: int) -> Generator[simpy.Event, object, None]:
        with team.request() as request:
            yield request
            waits[i] = env.now - arrival_minutes[i]
            yield env.timeout(float(busy_minutes[i]))

    def calls() -> Generator[simpy.Event, object, None]:
        for i, t in enumerate(arrival_minutes):
            yield env.timeout(float(t) - env.now)
            env.process(call(i))

    env.process(calls())
    env.run()
    return waits


def fcfs_waits(arrival_minutes: np.ndarray, busy_minutes: np.ndarray, responders: int) -> np.ndarray:
    """Each call's wait for one of ``responders`` (first come, first served), by the Kiefer–Wolfowitz recursion.

    The same queue as :func:`queue_waits` (the SimPy process, kept as the reference it is tested
    against): call *i* starts when it arrives or when the first responder frees, whichever is later,
    and holds that responder for ``busy_minutes[i]``. A heap of the times the responders free gives
    each wait in O(log c), about twenty times faster than SimPy's events, so an urgent response adds
    little to a run's cost (issue 17: at most 20% per core contact). ``arrival_minutes`` must be sorted.
    """
    free = [0.0] * responders  # a heap of the times each responder is next free
    waits = np.zeros(len(arrival_minutes))
    for i, (arrive, busy) in enumerate(zip(arrival_minutes.tolist(), busy_minutes.tolist(), strict=True)):
        start = max(arrive, heapq.heappop(free))
        waits[i] = start - arrive
        heapq.heappush(free, start + busy)
    return waits


def take_shared_minutes(
    rostered: np.ndarray, need: np.ndarray, grades: list[int], cap_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """The core's rostered minutes (locality × grade) after a shared add-on takes ``need`` (one per locality).

    The minutes come out of ``grades``, in proportion to each grade's rostered minutes, up to
    ``cap_share`` of those grades' minutes in the locality. Returns the minutes left to the core
    and the minutes taken (per locality); ``need`` beyond the cap is the add-on's to find elsewhere
    (bank staff). Every shared add-on (urgent response, virtual ward) takes its time this way.
    """
    if len(grades) == 1:  # the common shape: one grade, its column is the pool (a sum of one term)
        left, taken_list = take_one_grade(rostered, need.tolist(), grades[0], cap_share)
        out = rostered.copy()
        out[:, grades[0]] = left
        return out, np.array(taken_list)
    pool = rostered[:, grades]  # (n_loc, n_grades taken from)
    pool_total = pool.sum(axis=1)
    taken = np.minimum(need, cap_share * pool_total)
    share = np.divide(taken, pool_total, out=np.zeros_like(taken), where=pool_total > 0)
    out = rostered.copy()
    out[:, grades] = pool * (1.0 - share[:, None])
    return out, taken


def take_one_grade(
    rostered: np.ndarray, need: list[float], grade: int, cap_share: float
) -> tuple[list[float], list[float]]:
    """:func:`take_shared_minutes` from one ``grade``, in Python floats: the grade's minutes left, the minutes taken.

    The same operations on each locality as the array version (so the same bits), without a dozen
    numpy calls on three numbers each day. Minutes are finite (``min`` and ``np.minimum`` differ
    only on NaN).
    """
    left: list[float] = []
    taken: list[float] = []
    for pool, want in zip(rostered[:, grade].tolist(), need, strict=True):
        cap = cap_share * pool
        take = want if want <= cap else cap
        share = take / pool if pool > 0 else 0.0
        left.append(pool * (1.0 - share))
        taken.append(take)
    return left, taken


#: The urgent response's ledger columns, present only when a scenario has one (sums by locality and month).
UCR_METRICS = (
    "ucr_calls",
    "ucr_calls_reached",
    "ucr_responder_hours",
    "ucr_core_hours",
    "ucr_bank_hours",
    "ucr_staff_cost_gbp",
    "ucr_admissions",
    "ucr_admissions_without",
    "ucr_bed_days",
    "ucr_hospital_cost_gbp",
)


class UrgentResponseService:
    """The urgent response beside the core service: its calls, their ledger columns, and (shared) the core's time.

    The calls are run once, for the whole run, when the service is built: they depend on no core
    state. A *dedicated* team costs its responders' rota and leaves the core untouched. A *shared*
    one takes its responders' minutes out of the core team's rostered time each day (from the
    responder grades, in proportion to their rostered minutes), up to ``shared_cap_share`` of those
    grades' time in the locality; minutes beyond the cap are worked by bank staff at the responder
    rate. The core's allocation then places fewer items, and the visits that do not fit are
    deferred as any other.
    """

    def __init__(
        self,
        spec: UrgentResponse,
        populations: list[int],
        n_days: int,
        streams: RandomStreams,
        accounts: Accounts,
        responder_grades: list[int],
        hospital: Hospital,
        pay_index: np.ndarray,
        kernel: str = "pure",
    ) -> None:
        self.spec = spec
        self.accounts = accounts
        self.responder_grades = responder_grades
        self.pay_index = pay_index
        accounts.add_metrics(UCR_METRICS)
        #: A shared team's daily hours and bank cost, added to the accounts at each month's close.
        daily_metrics = ("ucr_core_hours", "ucr_bank_hours", "ucr_staff_cost_gbp")
        self._sums = DailySums(accounts, daily_metrics)
        self.daily: DailySums | DailyArraySums = self._sums
        waits_of = None
        self._compiled_day: Callable[..., None] | None = None
        self._array_sums = DailyArraySums(accounts, daily_metrics)
        if kernel == "compiled":  # the queue and (one responder grade) the day's take, compiled: the same bits
            from fundsim.sim import addons_compiled  # numba: imported only when chosen

            waits_of = addons_compiled.fcfs_waits
            if len(responder_grades) == 1:
                self._compiled_day = addons_compiled.urgent_day
                self.daily = self._array_sums
        n_loc = len(populations)
        calls = [
            simulate_calls(
                spec, people, n_days, spec.responders_per_locality, streams.stream("urgent_response", i), waits_of
            )
            for i, people in enumerate(populations)
        ]
        self.calls = calls
        #: Responder minutes each day in each locality: (n_days, n_localities).
        self.minutes = np.stack([c.minutes_by_day(n_days) for c in calls], axis=1) if n_loc else np.zeros((n_days, 0))
        # The same as Python lists, and whether a day has any: read once a day, cheaper than numpy on 3 numbers.
        self._any_minutes: list[bool] = (self.minutes != 0.0).any(axis=1).tolist()
        # The pure path's one-grade day reads Python floats (a few thousand objects: only when it runs).
        self._minutes_list: list[list[float]] = (
            self.minutes.tolist() if self._compiled_day is None and spec.staffing == "shared" else []
        )
        for i, c in enumerate(calls):
            loc = np.full(len(c.arrival_day), i, dtype=np.int64)
            start = c.start_day
            accounts.add_times("ucr_calls", loc, c.arrival_day)
            accounts.add_times("ucr_calls_reached", loc[c.reached], c.arrival_day[c.reached])
            accounts.add_times("ucr_responder_hours", loc, start, c.responder_minutes / MINUTES_PER_HOUR)
            accounts.add_times("ucr_admissions_without", loc[c.admitted_without], start[c.admitted_without])
            admitted = np.flatnonzero(c.admitted)
            # Stays from a stream of their own (entity after the localities'), so the calls' draws never move.
            los = sample(hospital.length_of_stay_days, streams.stream("urgent_response", n_loc + i), len(admitted))
            cost = hospital.tariff_gbp + np.maximum(0.0, los - hospital.trim_point_days) * hospital.excess_bed_day_gbp
            accounts.add_times("ucr_admissions", loc[admitted], start[admitted])
            accounts.add_times("ucr_bed_days", loc[admitted], start[admitted], los)
            accounts.add_times("ucr_hospital_cost_gbp", loc[admitted], start[admitted], cost)
        if spec.staffing == "dedicated":
            rota_gbp = spec.responders_per_locality * spec.service_hours_per_day * spec.responder_hourly_cost_gbp
            for day in range(n_days):
                accounts.add_day("ucr_staff_cost_gbp", day, np.full(n_loc, rota_gbp * pay_index[day]))

    def take_core_minutes(self, day: int, rostered: np.ndarray) -> np.ndarray:
        """The core's rostered minutes (locality × grade) after a shared team's responders are pulled off."""
        spec = self.spec
        if spec.staffing != "shared" or not self._any_minutes[day]:
            return rostered
        grades = self.responder_grades
        if self._compiled_day is not None:
            daily = self._array_sums
            out = rostered.copy()
            record = daily.start(day)
            pay = float(self.pay_index[day])
            self._compiled_day(
                out, grades[0], self.minutes[day], spec.shared_cap_share, spec.responder_hourly_cost_gbp, pay,
                daily.sums, record,
            )  # fmt: skip
            return out
        if len(grades) != 1:
            need = self.minutes[day]
            out, taken_a = take_shared_minutes(rostered, need, grades, spec.shared_cap_share)
            bank_a = (need - taken_a) / MINUTES_PER_HOUR
            self._record(day, (taken_a / MINUTES_PER_HOUR).tolist(), bank_a.tolist())
            return out
        # One responder grade (the usual case): the same arithmetic in Python floats, the same bits.
        need_l = self._minutes_list[day]
        left, taken = take_one_grade(rostered, need_l, grades[0], spec.shared_cap_share)
        out = rostered.copy()
        out[:, grades[0]] = left
        core_h = [x / MINUTES_PER_HOUR for x in taken]
        bank_h = [(n - x) / MINUTES_PER_HOUR for n, x in zip(need_l, taken, strict=True)]
        self._record(day, core_h, bank_h)
        return out

    def _record(self, day: int, core_h: list[float], bank_h: list[float]) -> None:
        """Add a shared day's hours from the core and from bank staff, and the bank's cost (at the month's close)."""
        daily = self._sums
        daily.add("ucr_core_hours", day, core_h)
        daily.add("ucr_bank_hours", day, bank_h)
        rate, pay = self.spec.responder_hourly_cost_gbp, float(self.pay_index[day])
        daily.add("ucr_staff_cost_gbp", day, [b * rate * pay for b in bank_h])
