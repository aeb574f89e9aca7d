"""Set values in a scenario by dotted path (``workforce.grades[0].fte``).

Paths are resolved against the *validated* base scenario dumped to plain data, so every field
exists (defaults included) and a path that names nothing is an error before anything runs.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from fundsim.scenario.models import Scenario

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def parse_path(path: str) -> list[str | int]:
    """``"workforce.grades[0].fte"`` → ``["workforce", "grades", 0, "fte"]``."""
    steps: list[str | int] = []
    for part in path.split("."):
        m = _SEGMENT.fullmatch(part)
        if m is None:
            raise ValueError(f"{path!r}: {part!r} is not a field name with optional [index]")
        steps.append(m.group(1))
        steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return steps


def check_path(data: dict[str, Any], path: str) -> str | None:
    """Why ``path`` does not name a value in ``data`` (``None`` if it does)."""
    node: Any = data
    done: list[str] = []
    for step in parse_path(path):
        where = ".".join(done) or "the scenario"
        if isinstance(step, int):
            if not isinstance(node, list):
                return f"{where} is not a list"
            if step >= len(node):
                return f"{where} has {len(node)} item(s); index {step} is out of range"
            done[-1] += f"[{step}]"
        else:
            if not isinstance(node, dict):
                return f"{where} is not a mapping"
            if step not in node:
                known = ", ".join(sorted(node)) if node else "nothing"
                return f"{where} has no field {step!r} (it has: {known})"
            done.append(step)
        node = node[step]
    if isinstance(node, dict | list):
        return f"{path} is a {'mapping' if isinstance(node, dict) else 'list'}, not a single value"
    if node is None:
        return f"{path} is not set in the base scenario (configure it there first)"
    return None


def apply(data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with each dotted path in ``values`` set to its value."""
    out = copy.deepcopy(data)
    for path, value in values.items():
        steps = parse_path(path)
        node: Any = out
        for step in steps[:-1]:
            node = node[step]
        old = node[steps[-1]]
        # A whole-number field (a population, a number of days) takes the nearest whole number.
        if isinstance(old, int) and not isinstance(old, bool) and isinstance(value, float):
            value = round(value)
        node[steps[-1]] = value
    return out


def base_data(scenario: Scenario) -> dict[str, Any]:
    """The validated scenario as plain data (every field present)."""
    return scenario.model_dump(mode="json")
