"""Scale a scenario's size: population, workforce and contract totals together.

Used to build smaller or larger versions of a service with the same shape (tests, the scaling
benchmark, sweeps over size): per-head rates, prices and care plans stay as they are.
"""

from __future__ import annotations

import copy
from typing import Any

#: Contract parameters that are totals for the whole population (per-head rates and prices are not).
SCALED_CONTRACT_KEYS = (
    "annual_value_gbp",
    "contracted_activity_per_year",
    "baseline_volume_per_year",
    "floor_gbp_per_year",
    "cap_gbp_per_year",
    "reference_activity_per_year",
    "fixed_gbp_per_year",
    "agreed_activity_per_year",
)


def scale_size(data: dict[str, Any], factor: float) -> dict[str, Any]:
    """A copy of scenario ``data`` (plain YAML data), ``factor`` times the size.

    Every locality's population, every grade's FTE and every contract total are multiplied by
    ``factor``; rates per head, prices, care plans and staffing ratios stay as they are.
    """
    if factor <= 0:
        raise ValueError(f"scale factor must be positive, got {factor}")
    d = copy.deepcopy(data)
    for loc in d["localities"]:
        loc["population"] = max(1, round(loc["population"] * factor))
    for grade in d["workforce"]["grades"]:
        grade["fte"] = round(grade["fte"] * factor, 4)
    for config in (d.get("contracts") or {}).values():
        for key in SCALED_CONTRACT_KEYS:
            if isinstance(config, dict) and config.get(key) is not None:
                config[key] *= factor
    return d
