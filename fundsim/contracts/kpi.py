"""Quality indicators (KPIs) that outcome-based and blended contracts reward, computed per contract year.

Shared by :mod:`fundsim.contracts.outcomes` (KPI bonuses) and :mod:`fundsim.contracts.blended`
(the CQUIN-style quality incentive) so that both read the same numbers from the ledger.

Each KPI is measured over one contract year of one replication, from the provider's monthly table:

- ``urgent_response_share`` = Σ urgent_assessed_within_2_days / Σ urgent_assessments; met when ≥ target;
- ``missed_visit_share`` = Σ visits_missed / Σ visits_due; met when ≤ target;
- ``mean_wait_days`` = assessment-weighted mean of the monthly ``wait_mean_days``; met when ≤ target.

A KPI with no denominator in the year (no urgent assessments, no visits due, no assessments) is
undefined and counts as **not met**: no evidence, no payment (otherwise a provider that assesses
nobody would meet a waiting-time target).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from fundsim.columns import mean_wait
from fundsim.contracts.base import ContractConfig

#: The columns that identify one contract year of one replication.
YEAR_KEYS = ["replication", "contract_year"]

KpiName = Literal["urgent_response_share", "missed_visit_share", "mean_wait_days"]

#: The KPIs and the direction that meets a target: "min" = value ≥ target, "max" = value ≤ target.
KPI_DIRECTION: dict[str, str] = {
    "urgent_response_share": "min",
    "missed_visit_share": "max",
    "mean_wait_days": "max",
}

#: KPIs that are shares (their targets must lie in [0, 1]).
SHARE_KPIS = ("urgent_response_share", "missed_visit_share")


class KpiTarget(ContractConfig):
    """One quality target: a KPI and the level that meets it."""

    kpi: KpiName = Field(
        description=(
            "urgent_response_share (urgent referrals assessed within 2 days, ≥ target), missed_visit_share "
            "(visits missed / visits due, ≤ target) or mean_wait_days (mean wait for assessment, ≤ target)."
        )
    )
    target: float = Field(
        ge=0,
        le=3650,
        allow_inf_nan=False,
        description="Level that meets the target: a share in [0, 1], or days for mean_wait_days.",
    )

    @model_validator(mode="after")
    def _share_targets_are_shares(self) -> KpiTarget:
        if self.kpi in SHARE_KPIS and self.target > 1.0:
            raise ValueError(f"target for {self.kpi} is a share and must be at most 1, got {self.target}")
        return self


def annual_kpis(periods: pd.DataFrame) -> pd.DataFrame:
    """Each KPI per (replication, contract_year): one row per contract year, NaN where undefined."""
    df = periods[[*YEAR_KEYS, "urgent_assessments", "urgent_assessed_within_2_days", "visits_missed", "visits_due"]]
    sums = df.groupby(YEAR_KEYS, sort=True).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "urgent_response_share": sums["urgent_assessed_within_2_days"] / sums["urgent_assessments"],
                "missed_visit_share": sums["visits_missed"] / sums["visits_due"],
                # The ledger's one mean wait (NaN in a year without assessments).
                "mean_wait_days": mean_wait(periods, YEAR_KEYS).to_numpy(),
            },
            index=sums.index,
        )
    # x / 0 gives inf or NaN: both mean "no denominator", i.e. undefined.
    return out.replace([np.inf, -np.inf], np.nan).where(
        pd.DataFrame(
            {
                "urgent_response_share": sums["urgent_assessments"] > 0,
                "missed_visit_share": sums["visits_due"] > 0,
                "mean_wait_days": out["mean_wait_days"].notna(),
            }
        )
    )


def target_met(kpis: pd.DataFrame, target: KpiTarget) -> pd.Series:
    """Whether ``target`` is met in each contract year of ``kpis`` (from :func:`annual_kpis`); undefined = not met."""
    value = kpis[target.kpi]
    met = value >= target.target if KPI_DIRECTION[target.kpi] == "min" else value <= target.target
    return met & value.notna()


def per_row(periods: pd.DataFrame, annual: pd.Series) -> np.ndarray:
    """Look up a per-(replication, contract_year) value for every row of ``periods``."""
    keys = pd.MultiIndex.from_frame(periods[YEAR_KEYS])
    return annual.reindex(keys).to_numpy(dtype=float)


class QualityTarget(KpiTarget):
    """A quality (CQUIN-style) target; the incentive is earned in proportion to the weight of targets met."""

    weight: float = Field(1.0, gt=0, le=100, allow_inf_nan=False, description="Relative weight of this target.")


def quality_achievement(periods: pd.DataFrame, targets: Sequence[QualityTarget]) -> np.ndarray:
    """Share (0–1) of the quality targets' weight met in each row's contract year; 1 when there are no targets."""
    if not targets:
        return np.ones(len(periods))
    kpis = annual_kpis(periods)
    earned = pd.Series(0.0, index=kpis.index)
    for target in targets:
        earned = earned + target_met(kpis, target).astype(float) * target.weight
    total = sum(t.weight for t in targets)
    return per_row(periods, earned / total)
