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

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field, model_validator

from fundsim.columns import wait_weight_values
from fundsim.contracts.base import ContractConfig
from fundsim.contracts.table import Table, column, n_rows
from fundsim.contracts.years import YearGroups

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


def year_kpis(periods: Table, groups: YearGroups) -> dict[str, np.ndarray]:
    """Each KPI per contract year of ``groups`` (arrays in the groups' order), NaN where undefined."""
    urgent = groups.sum(column(periods, "urgent_assessments"))
    within = groups.sum(column(periods, "urgent_assessed_within_2_days"))
    due = groups.sum(column(periods, "visits_due"))
    missed = groups.sum(column(periods, "visits_missed"))
    # The ledger's one mean wait (fundsim.columns.mean_wait): total wait-days over assessments.
    wait = column(periods, "wait_mean_days")
    weight = wait_weight_values(column(periods, "assessments"), wait)
    wait_days = groups.sum(np.nan_to_num(wait, nan=0.0) * weight)
    assessed = groups.sum(weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "urgent_response_share": np.where(urgent > 0, within / urgent, np.nan),
            "missed_visit_share": np.where(due > 0, missed / due, np.nan),
            "mean_wait_days": np.where(assessed > 0, wait_days / assessed, np.nan),
        }


def target_met(kpis: Mapping[str, ArrayLike], target: KpiTarget) -> np.ndarray:
    """Whether ``target`` is met in each contract year of ``kpis`` (from :func:`year_kpis`); undefined = not met."""
    value = np.asarray(kpis[target.kpi], dtype=float)
    with np.errstate(invalid="ignore"):
        met = value >= target.target if KPI_DIRECTION[target.kpi] == "min" else value <= target.target
    return met & ~np.isnan(value)


class QualityTarget(KpiTarget):
    """A quality (CQUIN-style) target; the incentive is earned in proportion to the weight of targets met."""

    weight: float = Field(1.0, gt=0, le=100, allow_inf_nan=False, description="Relative weight of this target.")


def quality_achievement(periods: Table, targets: Sequence[QualityTarget]) -> np.ndarray:
    """Share (0–1) of the quality targets' weight met in each row's contract year; 1 when there are no targets."""
    if not targets:
        return np.ones(n_rows(periods))
    groups = YearGroups.of(periods)
    kpis = year_kpis(periods, groups)
    earned = np.zeros(groups.n_groups)
    for target in targets:
        earned = earned + target_met(kpis, target).astype(float) * target.weight
    total = sum(t.weight for t in targets)
    return groups.per_row(earned / total)
