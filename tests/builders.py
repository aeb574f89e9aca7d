"""Small scenarios built in code for fast, targeted tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from fundsim.scenario.models import Scenario
from fundsim.scenario.scaling import scale_contracts

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example.yaml"


def example_dict() -> dict[str, Any]:
    """The shipped example scenario as plain data."""
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def small_dict(population: int = 40_000, years: float = 1.0, warmup_days: int = 90) -> dict[str, Any]:
    """The example shrunk to one locality of ``population`` people (a fast model run)."""
    d = example_dict()
    d["simulation"].update(horizon_years=years, warmup_days=warmup_days)
    loc = d["localities"][0]
    scale = population / sum(x["population"] for x in d["localities"])
    d["localities"] = [{**loc, "population": population, "staff_share": 1.0}]
    for g in d["workforce"]["grades"]:
        g["fte"] = round(g["fte"] * scale, 2)
    scale_contracts(d["contracts"], scale)
    return d


def mmc_dict(servers: int, arrivals_per_hour: float, service_minutes: float, days: float = 240.0) -> dict[str, Any]:
    """A scenario that is exactly an M/M/c queue.

    One visit per episode (the assessment), exponential service, Poisson arrivals with a flat
    rate, ``servers`` staff on duty round the clock with no absence, no deterioration.
    """
    population = 100_000
    per_day = arrivals_per_hour * 24.0
    return {
        "name": "mmc",
        "simulation": {
            "start_date": "2025-04-01",
            "horizon_years": days / 365.25,
            "warmup_days": 30,
            "seed": 7,
            "scheduling": "continuous",
        },
        "demand": {
            "growth_per_year": 0.0,
            "seasonality": {"winter_amplitude": 0.0},
            "complexity_mix": {"only": 1.0},
            "urgent_share": 0.0,
        },
        "localities": [
            {
                "name": "A",
                "population": population,
                "referral_rate_per_1000_per_year": per_day * 365.25 * 1000 / population,
            }
        ],
        "tiers": [
            {
                "name": "only",
                "assessment_minutes": {"mean": service_minutes, "distribution": "exponential"},
                "visits": {"mean": 0, "distribution": "fixed"},
                "interval_days": 1,
                "face_to_face_minutes": {"mean": 30, "distribution": "fixed"},
                "travel_minutes": {"mean": 0, "distribution": "fixed"},
                "allowed_grades": ["nurse"],
                "daily_admission_hazard": 0.0,
            }
        ],
        "workforce": {
            "grades": [
                {
                    "name": "nurse",
                    "fte": servers,
                    "hourly_cost_gbp": 40,
                    "contract_hours_per_week": 168,
                    "shift_hours": 24,
                    "weekend_staffing_ratio": 1.0,
                    "annual_leave_share": 0.0,
                    "sickness_share": 0.0,
                    "patient_facing_share": 1.0,
                    "overtime_cap_hours_per_shift": 0.0,
                }
            ]
        },
        "contracts": {"block": {"annual_value_gbp": 1e6, "contracted_activity_per_year": 1e4}},
    }


def build(d: dict[str, Any]) -> Scenario:
    """Validate plain data into a scenario."""
    return Scenario.model_validate(d)


def modified(d: dict[str, Any], **updates: Any) -> dict[str, Any]:
    """A deep copy of ``d`` with dotted-path ``updates`` (``"demand.growth_per_year": 0.1``)."""
    out = copy.deepcopy(d)
    for path, value in updates.items():
        node = out
        *head, last = path.split(".")
        for key in head:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return out
