"""The scenario's sections fitted from the extract beyond demand: tiers, workforce, contracts, outcomes.

Each function returns plain scenario data and adds one provenance comment per value to ``comments``
("fitted from FILE (n = …, 95% CI …)" or "assumption: …"), as :func:`fundsim.calibrate.fit.fit_scenario`
does for the demand and localities it builds itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fundsim.calibrate.admissions import AdmissionFit
from fundsim.calibrate.provenance import (
    DEFAULT_HOURLY_COST_GBP,
    FOLLOW_UP_DAYS,
    HOURLY_COST_GBP,
    MIN_GRADE_SHARE,
    PRICE_PER_CONTACT_GBP,
)
from fundsim.calibrate.provenance import fitted as _fitted
from fundsim.calibrate.provenance import scenario_name as _name
from fundsim.calibrate.read import Extract
from fundsim.calibrate.suppress import enough
from fundsim.calibrate.tiers import MixtureFit
from fundsim.calibrate.writer import number


def tier_sections(
    mixture: MixtureFit,
    allowed: dict[str, list[str]],
    has_grades: bool,
    af: AdmissionFit | None,
    n_tiers: int,
    files: dict[str, str],
    comments: dict[str, str],
) -> list[dict[str, Any]]:
    """One tier per latent class: care plan, durations, allowed grades and admission hazard."""
    tiers: list[dict[str, Any]] = []
    for j, t in enumerate(mixture.tiers):
        path = f"tiers[{j}]"
        interval = t.interval_days.value if np.isfinite(t.interval_days.value) else 7.0
        tier: dict[str, Any] = {
            "name": t.name,
            "assessment_minutes": {"mean": number(t.assessment_minutes.value, 3), "cv": number(t.assessment_cv, 2)},
            "visits": {"mean": number(t.visits_mean.value, 3), "distribution": "geometric"},
            "interval_days": number(max(interval, 1.0), 3),
            "face_to_face_minutes": {
                "mean": number(t.face_to_face_minutes.value if np.isfinite(t.face_to_face_minutes.value) else 30.0, 3),
                "cv": number(t.face_to_face_cv, 2),
            },
            "travel_minutes": {"mean": 20, "cv": 0.5},
            "allowed_grades": allowed[t.name],
        }
        comments[f"{path}.assessment_minutes.mean"] = _fitted(
            files["contacts"], t.episodes, t.assessment_minutes, "first face-to-face contact of the episode"
        )
        comments[f"{path}.visits.mean"] = _fitted(
            files["contacts"], t.episodes, t.visits_mean, "follow-up visits per episode, censored geometric"
        )
        comments[f"{path}.interval_days"] = (
            _fitted(files["contacts"], t.gaps, t.interval_days, "median days between visits")
            if np.isfinite(t.interval_days.value)
            else "assumption: no episode of this tier had two visits"
        )
        comments[f"{path}.face_to_face_minutes.mean"] = _fitted(
            files["contacts"], t.visits, t.face_to_face_minutes, "ClinContDurOfCareCont of attended follow-up visits"
        )
        comments[f"{path}.travel_minutes"] = "assumption: not in the extract (CSDS records clinical contact time only)"
        comments[f"{path}.allowed_grades"] = (
            f"from {files['contacts']}: bands making at least {MIN_GRADE_SHARE:.0%} of this tier's visits"
            if has_grades
            else "assumption: not in the extract (no StaffBand); every grade"
        )
        if af is not None and enough(af.admissions_by_tier[t.name]):
            h = af.hazard_by_tier[t.name]
            tier["daily_admission_hazard"] = number(h.value, 3)
            comments[f"{path}.daily_admission_hazard"] = _fitted(
                files["admissions"],
                af.admissions_by_tier[t.name],
                h,
                "emergency admissions per person-day under care",
                digits=2,
            )
        else:
            tier["daily_admission_hazard"] = [0.0008, 0.0015, 0.003][min(j, 2)] if n_tiers == 3 else 0.0015
            comments[f"{path}.daily_admission_hazard"] = (
                "assumption: not in the extract (no admissions table)"
                if af is None
                else "assumption: fewer than 8 admissions under care in this tier (small-number rule)"
            )
        tiers.append(tier)
    return tiers


def workforce_section(grade_wte: pd.Series, files: dict[str, str], comments: dict[str, str]) -> dict[str, Any]:
    """Grades with their WTE in post and an assumed hourly cost by band."""
    grades: list[dict[str, Any]] = []
    for label, wte in grade_wte.items():
        i = len(grades)
        g = str(label)  # grade names are text (read_extract names them from the bands)
        cost = HOURLY_COST_GBP.get(g, DEFAULT_HOURLY_COST_GBP)
        grades.append({"name": _name(g), "fte": number(float(wte)), "hourly_cost_gbp": cost})
        comments[f"workforce.grades[{i}].fte"] = f"from {files['workforce']}: WTE in post (ESR summary)"
        comments[f"workforce.grades[{i}].hourly_cost_gbp"] = (
            "assumption: not in the extract (Agenda for Change band cost, docs/calibrate.md)"
        )
    comments["workforce"] = (
        "rosters (shift hours, leave, sickness, patient-facing share, overtime): assumption, fundsim's defaults"
    )
    return {"grades": grades}


def contract_sections(
    extract: Extract,
    w0: pd.Timestamp,
    w1: pd.Timestamp,
    af: AdmissionFit | None,
    tier_names: list[str],
    files: dict[str, str],
    comments: dict[str, str],
) -> dict[str, Any]:
    """A block sized to the last fitted year's contacts, and an outcomes contract when admissions allow."""
    # Activity in the last 12 fitted months (or annualised) for the contracts.
    contacts = extract["contacts"]
    delivered = contacts[
        (contacts["AttendOrDNACode"] == "attended")
        & (contacts["ConsMechanism"] == "face_to_face")
        & (contacts["CareContDate"] >= max(w0, w1 - pd.Timedelta(days=364)))
        & (contacts["CareContDate"] <= w1)
    ]
    span_days = (w1 - max(w0, w1 - pd.Timedelta(days=364))).days + 1
    per_year = float(len(delivered)) * 365.25 / span_days
    value = round(per_year * PRICE_PER_CONTACT_GBP, -2)
    activity_comment = _fitted(files["contacts"], len(delivered), None, "attended face-to-face contacts a year")
    contracts: dict[str, Any] = {
        "block": {
            "annual_value_gbp": number(max(value, 100.0), 6),
            "contracted_activity_per_year": number(max(per_year, 1.0), 4),
            "activity_unit": "contacts",
        }
    }
    comments["contracts.block.annual_value_gbp"] = (
        f"assumption: not in the extract; contacts × £{PRICE_PER_CONTACT_GBP:.0f} (national average per community "
        "nursing contact, National Cost Collection 2019/20, derived)"
    )
    comments["contracts.block.contracted_activity_per_year"] = activity_comment
    if af is not None and all(enough(af.referrals_followed[t]) for t in tier_names):
        contracts["outcomes"] = {
            "fixed_gbp_per_year": number(0.95 * max(value, 100.0), 6),
            "expected_admissions_per_referral": {
                t: number(min(af.expected_per_referral[t].value, 10.0), 3) for t in tier_names
            },
            "payment_per_admission_avoided_gbp": 1900,
            "reference_activity_per_year": number(max(per_year, 1.0), 4),
        }
        comments["contracts.outcomes"] = "the outcomes contract's risk model from the provider's own history"
        comments["contracts.outcomes.fixed_gbp_per_year"] = "assumption: 95% of the block value"
        comments["contracts.outcomes.payment_per_admission_avoided_gbp"] = "assumption: one non-elective tariff"
        for tname in tier_names:
            comments[f"contracts.outcomes.expected_admissions_per_referral.{tname}"] = _fitted(
                files["admissions"],
                af.referrals_followed[tname],
                af.expected_per_referral[tname],
                f"admissions from referral to {FOLLOW_UP_DAYS:.0f} days after discharge, per referral",
                digits=2,
            )
    return contracts


def outcome_sections(af: AdmissionFit | None, files: dict[str, str], comments: dict[str, str]) -> dict[str, Any]:
    """The ``outcomes`` and ``hospital`` sections fitted from the admissions table (none without one)."""
    sections: dict[str, Any] = {}
    if af is not None:
        outcomes: dict[str, Any] = {"follow_up_days": FOLLOW_UP_DAYS}
        comments["outcomes.follow_up_days"] = (
            "assumption: fundsim's default; admissions attributed this long after discharge"
        )
        if af.waiting_multiplier is not None:
            outcomes["waiting_hazard_multiplier"] = number(min(af.waiting_multiplier.value, 100.0), 3)
            comments["outcomes.waiting_hazard_multiplier"] = _fitted(
                files["admissions"], af.n_in_episodes, af.waiting_multiplier, "hazard waiting ÷ hazard under care"
            )
        if af.post_discharge_multiplier is not None:
            outcomes["post_discharge_hazard_multiplier"] = number(min(af.post_discharge_multiplier.value, 100.0), 3)
            comments["outcomes.post_discharge_hazard_multiplier"] = _fitted(
                files["admissions"], af.n_in_episodes, af.post_discharge_multiplier, "after discharge ÷ under care"
            )
        sections["outcomes"] = outcomes
        hospital: dict[str, Any] = {}
        if enough(af.n_admissions) and np.isfinite(af.length_of_stay_days.value):
            hospital["length_of_stay_days"] = {
                "mean": number(max(af.length_of_stay_days.value, 0.0), 3),
                "cv": number(min(af.length_of_stay_cv, 5.0), 2),
            }
            comments["hospital.length_of_stay_days.mean"] = _fitted(
                files["admissions"], af.n_admissions, af.length_of_stay_days
            )
        if af.ends_episode_share is not None and enough(af.n_in_episodes):
            hospital["ends_episode_probability"] = number(af.ends_episode_share.value, 3)
            comments["hospital.ends_episode_probability"] = _fitted(
                files["admissions"],
                af.n_in_episodes,
                af.ends_episode_share,
                "episodes closed as admitted within a day of an admission under care",
            )
        if hospital:
            sections["hospital"] = hospital
    return sections
