"""Provider management: a monthly SimPy process that reads the contract's signals and responds.

At the start of each month of the horizon it prices the contract year so far under the
scenario's contract (the same pure payment function the results use), works out the marginal
income of one more contact, reads last month's costs and lists, and applies the decision of
:func:`fundsim.sim.policy.decide` to the whole service (every locality alike). Staffing changes start after their
lag as their own SimPy processes. Under ``provider_policy.mode: passive`` none of this runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import replace

import numpy as np
import pandas as pd
import simpy

from fundsim.columns import derived_columns
from fundsim.contracts import REGISTRY
from fundsim.contracts.table import column
from fundsim.scenario.models import Scenario
from fundsim.sim.calendar import Calendar
from fundsim.sim.policy import Decision, Signals, State, decide
from fundsim.sim.reserves import ReserveBook, held, read_reserves, with_recovery
from fundsim.sim.retender import relet_months, transition_days, value_factor
from fundsim.sim.service import ServiceModel

#: Relative size of the activity perturbation used for the marginal income.
MARGINAL_STEP = 0.01

DAYS_PER_MONTH = 365.25 / 12.0

#: The payment columns a review reads (hospital_cost_borne_gbp only from contracts that return it).
PAYMENT_COLUMNS = ("income_gbp", "contracted_activity", "delivered_activity", "hospital_cost_borne_gbp")


def _sum_from(values: pd.Series | np.ndarray, start: int) -> float:
    """The sum of ``values`` from position ``start`` on (this contract year's months), as pandas sums.

    For floats, pandas' sum (``skipna``) is numpy's sum of the values with NaN set to 0, which is
    what :func:`numpy.nansum` computes, bit for bit, without a Series for the slice; other
    dtypes go through pandas.
    """
    if values.dtype == np.dtype(np.float64):  # numpy-backed floats only (not Arrow's, which pandas sums itself)
        return float(np.nansum(np.asarray(values)[start:]))
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return float(series.iloc[start:].sum())


class ProviderManager:
    """The provider's monthly review across all its localities."""

    def __init__(self, scenario: Scenario, calendar: Calendar, service: ServiceModel, replication: int) -> None:
        self.scenario = scenario
        self.calendar = calendar
        self.service = service
        self.replication = replication
        self.policy = scenario.provider_policy
        self.contract = REGISTRY[scenario.contract]
        self.config = getattr(scenario.contracts, scenario.contract)
        self.context = scenario.contract_context()
        # Columns that grow with activity and that the contract pays on (its ContractType says which),
        # scaled together to price "one more contact".
        self.activity_columns = self.contract.activity_ledger_columns(self.context.tier_names)
        base = scenario.workforce.unpaid_overtime_share
        self.base_unpaid_share = base
        self.state = State(unpaid_overtime_share=base)
        self._recent_hires: deque[float] = deque(maxlen=12)
        self.decisions: list[tuple[int, Decision]] = []
        # Reserves (provider_policy.reserves): the running book (closed years' surplus, any failure) and
        # the rule's own rationing level (the recovery plan adds to it, so it never compounds).
        self._book = ReserveBook()
        self._closed_columns: dict[str, np.ndarray] | None = None
        # Each month's mean wait with the count of wait samples it was computed from (see _wait_mean_days).
        self._wait_means: dict[int, tuple[int, float]] = {}
        # The calendar's columns, computed once: every review slices them.
        self._month_dates = pd.to_datetime(list(calendar.month_starts)).to_numpy()
        self._month_days = np.diff(calendar.month_start_day).astype(float)
        self._rule_level = 0
        self.retendering = self.policy.retendering
        if self.retendering is not None:
            self._start_transitions()

    # -- signals -------------------------------------------------------------------------

    def month_columns(self, months: range) -> dict[str, np.ndarray]:
        """Provider-wide ledger columns (localities summed) for ``months``, one numpy value per month.

        The derived columns are included (:func:`fundsim.columns.derived_columns`), so one frame
        construction gives :meth:`month_frame`; ``months`` are indices into the horizon.
        """
        idx = np.arange(months.start, months.stop)
        acc = self.service.accounts
        n = len(idx)
        data: dict[str, np.ndarray] = {
            "replication": np.full(n, self.replication, dtype=np.int64),
            "month": self._month_dates[idx],
            "contract_year": idx // 12 + 1,
            "days": self._month_days[idx],
            "population": np.full(n, float(self.scenario.total_population)),
        }
        # One reduction per metric over a copy of the months' columns, as the review always summed the
        # localities: with three or more, the order of the additions decides a float's last bit.
        for metric, sums in acc.sums.items():
            data[metric] = sums[:, idx].sum(axis=0)
        for metric in ("caseload_end", "waiting_list_end"):
            data[metric] = acc.snapshots[metric][:, idx].sum(axis=0)
        data["wait_mean_days"] = np.array([self._wait_mean_days(int(m)) for m in idx], dtype=float)
        data.update(derived_columns(data))
        return data

    def month_frame(self, months: range) -> pd.DataFrame:
        """Provider-wide ledger rows (localities summed) for ``months`` (indices into the horizon)."""
        return pd.DataFrame(self.month_columns(months))

    def _wait_mean_days(self, month: int) -> float:
        """Mean wait for assessment of every assessment in ``month`` (all localities); NaN without any.

        The accounts only append a month's wait samples, so a month whose count of samples has not
        changed since the last review keeps its mean; only the months still filling are recomputed.
        """
        accounts = self.service.accounts
        count = accounts.wait_calls(month)
        known = self._wait_means.get(month)
        if known is not None and known[0] == count:
            return known[1]
        waits = accounts.month_waits(month)
        mean = float(waits.mean()) if len(waits) else np.nan
        self._wait_means[month] = (count, mean)
        return mean

    def _pay(self, columns: dict[str, np.ndarray]) -> dict[str, pd.Series | np.ndarray]:
        """The contract's payments on ``columns``: the columns the review reads, as the contract returns them.

        A contract that prices numpy columns (``ContractType.reads_column_tables``, every built-in one)
        is given them as they are; any other is given them as a DataFrame, as settle gives it the ledger.
        """
        table = columns if self.contract.reads_column_tables else pd.DataFrame(columns)
        payments = self.contract.pay(table, self.config, self.context)
        out = {name: payments[name] for name in PAYMENT_COLUMNS if name in payments}
        if self.retendering is not None:
            # The winning bid's value, as settle prices it (fundsim.contracts.accounting).
            factor = value_factor(columns["contract_year"], self.retendering)
            out["income_gbp"] = column(payments, "income_gbp") * factor
        return out

    def _mobilisation_cost_gbp(self, months: range) -> float:
        """Mobilisation cost of the re-lets falling in ``months`` (GBP)."""
        if self.retendering is None:
            return 0.0
        relets = relet_months(self.retendering, self.calendar.n_months)
        return self.retendering.mobilisation_cost_gbp * sum(m in months for m in relets)

    def _start_transitions(self) -> None:
        # Lower productivity in each transition period: staff are paid as before but have less time
        # for visits (the rostered minutes the allocation fills), known from the start of the run.
        assert self.retendering is not None
        keep = 1.0 - self.retendering.transition_productivity_loss_share
        if keep == 1.0:
            return
        for start, end in transition_days(self.retendering, self.calendar.month_start_day):
            self.service.visit_minutes[start:end] *= keep
            self.service.overtime_minutes_cap[start:end] *= keep

    def _closed_years(self, year_start: int) -> dict[str, np.ndarray]:
        """Provider-wide columns of the months before ``year_start`` (closed contract years), built once a year.

        A snapshot taken at the first review of the year: later changes to those months' sums (an
        episode that closes now adds caseload days to them) are seen by the ledger, not by the review.
        """
        if self._closed_columns is None or len(self._closed_columns["month"]) != year_start:
            self._closed_columns = self.month_columns(range(0, year_start))
        return self._closed_columns

    def signals(self, month: int) -> Signals:
        """What the provider sees after closing ``month``."""
        year_start = (month // 12) * 12
        ytd = self.month_columns(range(year_start, month + 1))
        # The contract is priced on every month so far, as settle prices it at the end: a contract
        # whose value is rebased on earlier years (fundsim.contracts.rebasing) sees them. Only the
        # current year's rows are read; payment functions are pure, so earlier rows change nothing.
        earlier = self._closed_years(year_start)
        n_earlier = len(earlier["month"])
        columns = {name: np.concatenate((earlier[name], values)) for name, values in ytd.items()} if n_earlier else ytd
        payments = self._pay(columns)
        income = _sum_from(payments["income_gbp"], n_earlier)
        contacts = float(ytd["contacts"][-1])
        if self.activity_columns:
            # One more contact of the current mix: scale last month's activity columns by (1 + step)
            # and price the months again (the other columns are the same arrays: pay is pure).
            bumped = dict(columns)
            for name in self.activity_columns:
                values = columns[name].astype(float)
                values[-1] = values[-1] * (1.0 + MARGINAL_STEP)
                bumped[name] = values
            bumped_income = _sum_from(self._pay(bumped)["income_gbp"], n_earlier)
        else:
            # The contract's income does not move with activity (its ContractType scales no column):
            # pricing the same months again would give the same income, bit for bit.
            bumped_income = income
        extra_contacts = contacts * MARGINAL_STEP
        marginal = (bumped_income - income) / extra_contacts if contacts > 0 else 0.0
        staff_cost = ytd["staff_cost_gbp"]
        cost = float(np.nansum(staff_cost)) + self._mobilisation_cost_gbp(range(year_start, month + 1))
        if "hospital_cost_borne_gbp" in payments:
            cost += _sum_from(payments["hospital_cost_borne_gbp"], n_earlier)
        return Signals(
            income_ytd_gbp=income,
            cost_ytd_gbp=cost,
            marginal_income_per_contact_gbp=marginal,
            unit_cost_per_contact_gbp=float(staff_cost[-1]) / contacts if contacts > 0 else np.inf,
            waiting_list=float(ytd["waiting_list_end"][-1]),
            assessments_per_month=float(ytd["assessments"][-1]),
            visits_due=float(ytd["visits_due"][-1]),
            visits_missed=float(ytd["visits_missed"][-1]),
            visit_deferrals=float(ytd["visit_deferrals"][-1]),
            funded_activity_ytd=_sum_from(payments["contracted_activity"], n_earlier),
            delivered_activity_ytd=_sum_from(payments["delivered_activity"], n_earlier),
        )

    # -- the process -----------------------------------------------------------------------

    def run(self, env: simpy.Environment) -> Generator[simpy.Event, None, None]:
        """Review at the start of every month after the first of the horizon."""
        cal = self.calendar
        if self.retendering is not None:
            env.process(self._relets(env))
        for month in range(cal.n_months):
            review_day = int(cal.month_start_day[month + 1])
            if review_day >= cal.n_days:
                return
            yield env.timeout(review_day - env.now)
            self.review(env, month, review_day)

    def _relets(self, env: simpy.Environment) -> Generator[simpy.Event]:
        # At each re-let a share of the transferred staff leaves; the incoming provider replaces
        # them after the hiring lag (a vacancy, not a change of establishment).
        assert self.retendering is not None
        lost_share = self.retendering.staff_lost_share
        for month in relet_months(self.retendering, self.calendar.n_months):
            day = int(self.calendar.month_start_day[month])
            yield env.timeout(day - env.now)
            lost = lost_share * self.service.fte_scale
            if lost > 0:
                self.service.change_fte(-lost)
                lag = round(self.policy.hiring.lag_months * DAYS_PER_MONTH)
                env.process(self._change_staff(env, lag, lost))

    def _decide(self, signals: Signals, month: int) -> Decision:
        """The usual rule's decision, or with reserves: under the recovery plan, or held after failure."""
        reserves = self.policy.reserves
        if reserves is None:
            return decide(signals, self.state, self.policy, self.base_unpaid_share)
        ytd_surplus = signals.income_ytd_gbp - signals.cost_ytd_gbp
        self._book, in_hand, status = read_reserves(self._book, month, ytd_surplus, reserves)
        if status == "failed":
            decision = held(self.state, False, False)
        else:
            rule_state = replace(self.state, ration_level=self._rule_level)
            decision = decide(signals, rule_state, self.policy, self.base_unpaid_share)
            self._rule_level = decision.ration_level
            if status == "recovery":
                decision = with_recovery(decision, self.policy)
        return replace(decision, reserves_gbp=in_hand, reserve_status=status)

    def review(self, env: simpy.Environment, month: int, day: int) -> Decision:
        """Decide on the signals of ``month`` and apply the decision from ``day``."""
        decision = self._decide(self.signals(month), month)
        self.decisions.append((month, decision))
        self._recent_hires.append(decision.hire_share)
        self.state = State(
            fte_share=self.state.fte_share + decision.fte_change_share,
            hired_last_12_months_share=float(sum(self._recent_hires)),
            unpaid_overtime_share=decision.unpaid_overtime_share,
            ration_level=decision.ration_level,
        )
        self.service.set_unpaid_overtime_share(decision.unpaid_overtime_share)
        self.service.set_ration_level(decision.ration_level, day)
        if decision.hire_share > 0:
            lag = round(self.policy.hiring.lag_months * DAYS_PER_MONTH)
            env.process(self._change_staff(env, lag, decision.hire_share))
        if decision.shed_share > 0:
            lag = round(self.policy.shedding.lag_months * DAYS_PER_MONTH)
            env.process(self._change_staff(env, lag, -decision.shed_share))
        return decision

    def _change_staff(self, env: simpy.Environment, lag_days: int, share: float) -> Generator[simpy.Event]:
        # Its own process: the change lands at the start of a day, before that day's planning.
        yield env.timeout(lag_days)
        self.service.change_fte(share)
