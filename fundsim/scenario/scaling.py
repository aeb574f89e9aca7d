"""Scale a scenario's size: population, workforce and contract totals together.

Used to build smaller or larger versions of a service with the same shape (tests, the scaling
benchmark, sweeps over size): per-head rates, prices and care plans stay as they are.
"""

from __future__ import annotations

import copy
from typing import Any

from fundsim.contracts import REGISTRY


def scale_contracts(contracts: dict[str, Any] | None, factor: float) -> None:
    """Multiply, in place, each contract's totals for the whole population by ``factor``.

    Each contract declares its totals (``ContractType.scaled_fields``) and the registry is read when
    called, so a contract registered later (a plug-in, a test's toy) is scaled too. An unknown
    contract is left as it is: validating the scenario will name it.
    """
    for name, config in (contracts or {}).items():
        if name in REGISTRY and isinstance(config, dict):
            REGISTRY[name].scale(config, factor)


def scale_size(data: dict[str, Any], factor: float) -> dict[str, Any]:
    """A copy of scenario ``data`` (plain YAML data), ``factor`` times the size.

    Every locality's population, every grade's FTE and every contract total (the fields each
    registered contract declares in ``scaled_fields``) are multiplied by ``factor``; rates per head,
    prices, care plans and staffing ratios stay as they are.
    """
    if factor <= 0:
        raise ValueError(f"scale factor must be positive, got {factor}")
    d = copy.deepcopy(data)
    for loc in d["localities"]:
        loc["population"] = max(1, round(loc["population"] * factor))
    for grade in d["workforce"]["grades"]:
        grade["fte"] = round(grade["fte"] * factor, 4)
    scale_contracts(d.get("contracts"), factor)
    return d
