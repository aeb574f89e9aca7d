"""The building blocks every scenario model shares: the strict base model, bounded number types, limits.

Kept apart from the models so that each part of the schema (the service, the provider's policy, the
analysis options) imports the same base without importing the others.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

#: Tolerance when checking that a probability mix sums to one.
MIX_TOLERANCE = 1e-6
#: Largest total population of a scenario: about the United Kingdom's (a larger "service" is a typo,
#: and would take days to simulate).
MAX_TOTAL_POPULATION = 70_000_000
#: Largest mean duration of a visit, assessment or journey, in minutes (a whole day).
MAX_VISIT_MINUTES = 24 * 60
#: Largest mean hospital length of stay, in days.
MAX_STAY_DAYS = 365
#: Largest relative referral rate of one weekday (the profile is rescaled to average 1).
MAX_WEEKDAY_WEIGHT = 100

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
#: A relative weight (a weekday's referral rate against the others).
Weight = Annotated[float, Field(ge=0.0, le=MAX_WEEKDAY_WEIGHT, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$")]


class Model(BaseModel):
    """Base for every scenario model: unknown keys are errors and instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _check_mix(mix: dict[str, float], what: str) -> dict[str, float]:
    """Raise if the shares of ``mix`` do not sum to one (the sum is shown)."""
    total = math.fsum(mix.values())
    if abs(total - 1.0) > MIX_TOLERANCE:
        raise ValueError(f"{what} must sum to 1, got {total:.6g}")
    return mix
