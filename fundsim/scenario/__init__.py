"""Scenario schema and loading: ``load_scenario(path)`` returns a validated, frozen :class:`Scenario`."""

from fundsim.scenario.loader import (
    load_model,
    load_model_text,
    load_scenario,
    load_scenario_text,
    scenario_sha256,
)
from fundsim.scenario.models import (
    Care,
    Contracts,
    Demand,
    Distribution,
    Grade,
    Hospital,
    Locality,
    Outcomes,
    ProviderPolicy,
    Scenario,
    Seasonality,
    Simulation,
    Tier,
    VisitCount,
    Workforce,
)

__all__ = [
    "Care",
    "Contracts",
    "Demand",
    "Distribution",
    "Grade",
    "Hospital",
    "Locality",
    "Outcomes",
    "ProviderPolicy",
    "Scenario",
    "Seasonality",
    "Simulation",
    "Tier",
    "VisitCount",
    "Workforce",
    "load_model",
    "load_model_text",
    "load_scenario",
    "load_scenario_text",
    "scenario_sha256",
]
