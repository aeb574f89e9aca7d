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

from fundsim.columns import add_derived_columns
from fundsim.contracts import REGISTRY
from fundsim.scenario.models import Scenario
from fundsim.sim.calendar import Calendar
from fundsim.sim.policy import Decision, Signals, State, decide
from fundsim.sim.reserves import ReserveBook, held, read_reserves, with_recovery
from fundsim.sim.retender import relet_months, transition_days, value_factor
from fundsim.sim.service import ServiceModel

#: Relative size of the activity perturbation used for the marginal income.
MARGINAL_STEP = 0.01

DAYS_PER_MONTH = 365.25 / 12.0


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
        self._closed_frame: pd.DataFrame | None = None
        self._rule_level = 0
        self.retendering = self.policy.retendering
        if self.retendering is not None:
            self._start_transitions()

    # -- signals -------------------------------------------------------------------------

    def month_frame(self, months: range) -> pd.DataFrame:
        """Provider-wide ledger rows (localities summed) for ``months`` (indices into the horizon)."""
        cal = self.calendar
        idx = np.arange(months.start, months.stop)
        acc = self.service.accounts
        data: dict[str, object] = {
            "replication": self.replication,
            "month": pd.to_datetime([cal.month_starts[m] for m in idx]),
            "contract_year": idx // 12 + 1,
            "days": np.diff(cal.month_start_day)[idx].astype(float),
            "population": float(self.scenario.total_population),
        }
        for metric, sums in acc.sums.items():
            data[metric] = sums[:, idx].sum(axis=0)
        for metric in ("caseload_end", "waiting_list_end"):
            data[metric] = acc.snapshots[metric][:, idx].sum(axis=0)
        means = []
        for m in idx:
            waits = [w for by_month in acc.waits for w in by_month[m]]
            means.append(float(np.concatenate(waits).mean()) if waits else np.nan)
        data["wait_mean_days"] = means
        return add_derived_columns(pd.DataFrame(data))

    def _pay(self, frame: pd.DataFrame) -> pd.DataFrame:
        payments = self.contract.pay(frame, self.config, self.context)
        if self.retendering is not None:
            # The winning bid's value, as settle prices it (fundsim.contracts.accounting).
            payments = payments.copy()
            factor = value_factor(frame["contract_year"].to_numpy(), self.retendering)
            payments["income_gbp"] = payments["income_gbp"].to_numpy(dtype=float) * factor
        return payments

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

    def _closed_years(self, year_start: int) -> pd.DataFrame:
        """Provider-wide rows of the months before ``year_start`` (closed contract years), built once a year."""
        if self._closed_frame is None or len(self._closed_frame) != year_start:
            self._closed_frame = self.month_frame(range(0, year_start))
        return self._closed_frame

    def signals(self, month: int) -> Signals:
        """What the provider sees after closing ``month``."""
        year_start = (month // 12) * 12
        ytd = self.month_frame(range(year_start, month + 1))
        # The contract is priced on every month so far, as settle prices it at the end: a contract
        # whose value is rebased on earlier years (fundsim.contracts.rebasing) sees them. Only the
        # current year's rows are read; payment functions are pure, so earlier rows change nothing.
        earlier = self._closed_years(year_start)
        frame = pd.concat([earlier, ytd], ignore_index=True) if len(earlier) else ytd
        payments = self._pay(frame).iloc[len(earlier) :]
        income = float(payments["income_gbp"].sum())
        last = ytd.iloc[-1]
        contacts = float(last["contacts"])
        # One more contact of the current mix: scale last month's activity columns by (1 + step)
        # and price the months again.
        bumped = frame.copy()
        bumped.loc[bumped.index[-1], self.activity_columns] = last[self.activity_columns].to_numpy(dtype=float) * (
            1.0 + MARGINAL_STEP
        )
        extra_contacts = contacts * MARGINAL_STEP
        bumped_income = float(self._pay(bumped)["income_gbp"].iloc[len(earlier) :].sum())
        marginal = (bumped_income - income) / extra_contacts if contacts > 0 else 0.0
        cost = float(ytd["staff_cost_gbp"].sum()) + self._mobilisation_cost_gbp(range(year_start, month + 1))
        if "hospital_cost_borne_gbp" in payments:
            cost += float(payments["hospital_cost_borne_gbp"].sum())
        return Signals(
            income_ytd_gbp=income,
            cost_ytd_gbp=cost,
            marginal_income_per_contact_gbp=marginal,
            unit_cost_per_contact_gbp=float(last["staff_cost_gbp"]) / contacts if contacts > 0 else np.inf,
            waiting_list=float(last["waiting_list_end"]),
            assessments_per_month=float(last["assessments"]),
            visits_due=float(last["visits_due"]),
            visits_missed=float(last["visits_missed"]),
            visit_deferrals=float(last["visit_deferrals"]),
            funded_activity_ytd=float(payments["contracted_activity"].sum()),
            delivered_activity_ytd=float(payments["delivered_activity"].sum()),
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
