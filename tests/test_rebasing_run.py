"""A responsive provider manages to the contract it is really paid: a rebased block, as settle prices it.

The monthly review prices the months so far; settle prices the whole ledger at the end. For a block
rebased on an earlier year's outturn, the income the provider saw up to each month of year 2 must
be what settle pays for those months (an independent route: the stored ledger, priced once).
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import small_dict

from fundsim.columns import provider_totals
from fundsim.contracts import REGISTRY
from fundsim.contracts.accounting import settle
from fundsim.scenario.models import Scenario
from fundsim.sim import management, simulate


def test_the_provider_sees_the_rebased_value_settle_pays(monkeypatch: pytest.MonkeyPatch) -> None:
    d = small_dict(population=20_000, years=2.0, warmup_days=30)
    d["provider_policy"]["mode"] = "responsive"
    d["contracts"]["block"]["rebasing"] = {"rule": "outturn", "lag_years": 1, "max_change_share": 0.2}
    scenario = Scenario.model_validate(d)

    seen: dict[int, float] = {}
    real = management.ProviderManager.signals

    def record(self: management.ProviderManager, month: int) -> management.Signals:
        signals = real(self, month)
        seen[month] = signals.income_ytd_gbp
        return signals

    monkeypatch.setattr(management.ProviderManager, "signals", record)
    ledger = simulate(scenario, 0).ledger
    periods = provider_totals(ledger)
    config = scenario.contracts.block
    priced = settle(periods, "block", config, scenario.contract_context())
    income = priced["income_gbp"].to_numpy(dtype=float)
    year1 = income[:12].sum()
    # The rebased value differs from the rolled-forward one, or this test would not tell them apart.
    # Priced alone (no complete earlier year), year 2 rolls forward: what a year-only review would have seen.
    rolled = REGISTRY["block"].pay(periods.iloc[12:13], config, scenario.contract_context())
    assert not np.isclose(income[12], float(rolled["income_gbp"].iloc[0]))
    for month in (12, 15, 23):
        if month in seen:
            assert seen[month] == pytest.approx(income[12 : month + 1].sum(), rel=1e-12)
    assert seen[11] == pytest.approx(year1, rel=1e-12)
    assert {12, 15}.issubset(seen)
