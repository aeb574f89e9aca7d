"""Write a fitted scenario as commented YAML: every value says where it came from.

The scenario is a plain nested structure (dicts, lists, scalars); provenance is a separate mapping
from a dotted path (``tiers[0].visits.mean``) to its comment. The emitter writes block YAML with the
comment at the end of the value's line; short lists (the weekday profile, allowed grades) are
written in flow style.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

#: Significant digits of fitted numbers in the YAML.
DIGITS = 4


def number(value: float, digits: int = DIGITS) -> float | int:
    """``value`` rounded to ``digits`` significant digits (ints stay ints)."""
    if isinstance(value, bool | int):
        return value
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        value = number(value)
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _comment(comments: dict[str, str], path: str) -> str:
    text = comments.get(path)
    return f"  # {' '.join(text.split())}" if text else ""


def _emit(value: Any, path: str, indent: int, comments: dict[str, str], lines: list[str]) -> None:
    pad = " " * indent
    for key, item in value.items():
        child = f"{path}.{key}" if path else str(key)
        comment = _comment(comments, child)
        if isinstance(item, dict) and item:
            lines.append(f"{pad}{key}:{comment}")
            _emit(item, child, indent + 2, comments, lines)
        elif isinstance(item, list) and item and all(isinstance(x, dict) for x in item):
            lines.append(f"{pad}{key}:{comment}")
            for i, entry in enumerate(item):
                sub: list[str] = []
                _emit(entry, f"{child}[{i}]", indent + 4, comments, sub)
                first = sub[0].lstrip()
                lines.append(f"{pad}  - {first}")
                lines.extend(sub[1:])
        elif isinstance(item, list | tuple):
            inner = ", ".join(_scalar(x) for x in item)
            lines.append(f"{pad}{key}: [{inner}]{comment}")
        else:
            lines.append(f"{pad}{key}: {_scalar(item)}{comment}")


def scenario_yaml(scenario: dict[str, Any], comments: dict[str, str], header: list[str]) -> str:
    """The scenario as YAML text, ``header`` lines first (as comments), a provenance comment per value."""
    lines = [f"# {line}" if line else "#" for line in header]
    _emit(scenario, "", 0, comments, lines)
    return "\n".join(lines) + "\n"
