"""One look for every figure and table: a colour per contract, labels, number formats.

The colours are the Okabe–Ito palette (distinguishable with the common colour-vision
deficiencies); a contract keeps its colour in every figure of every report. Each contract's colour
and label are declared by its ``ContractType`` (``fundsim/contracts/<name>.py``) and read from the
registry here, so a contract added later needs no edit in this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping

from fundsim.contracts import REGISTRY, ContractType


class _FromRegistry(Mapping[str, str]):
    """A read-only view of one attribute of every registered contract that has it (live, never stale)."""

    def __init__(self, attribute: Callable[[ContractType], str | None]) -> None:
        self._attribute = attribute

    def _items(self) -> dict[str, str]:
        return {name: value for name, entry in REGISTRY.items() if (value := self._attribute(entry)) is not None}

    def __getitem__(self, contract: str) -> str:
        return self._items()[contract]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


#: Colour of each registered contract that declares one, the same in every figure.
CONTRACT_COLOURS: Mapping[str, str] = _FromRegistry(lambda entry: entry.colour)

#: Colours for contracts not in :data:`CONTRACT_COLOURS` (one with no colour of its own, or one a
#: results folder names that is not registered), in order.
SPARE_COLOURS = ("#56B4E9", "#F0E442", "#000000", "#999999")

#: Readable names of the registered contracts.
CONTRACT_LABELS: Mapping[str, str] = _FromRegistry(lambda entry: entry.label)


def contract_colour(contract: str, order: tuple[str, ...] = ()) -> str:
    """The colour of ``contract``; unknown contracts take spare colours by their place in ``order``."""
    colours = dict(CONTRACT_COLOURS)
    if contract in colours:
        return colours[contract]
    unknown = [c for c in order if c not in colours]
    index = unknown.index(contract) if contract in unknown else len(unknown)
    return SPARE_COLOURS[index % len(SPARE_COLOURS)]


def contract_label(contract: str) -> str:
    """The readable name of ``contract`` (``cost_and_volume`` → ``cost and volume``)."""
    return CONTRACT_LABELS.get(contract, str(contract).replace("_", " "))


def plain_text(text: object) -> str:
    """``text`` made safe for matplotlib: shown literally, never parsed as mathtext.

    Matplotlib reads text between two ``$`` as TeX-like maths, which could fail or draw something
    else for a name taken from a scenario file; escaped dollars are drawn as they are.
    """
    return str(text).replace("\\", "\\\\").replace("$", r"\$")


def _unsigned_zero(text: str) -> str:
    """``-0`` or ``-0.0%`` (a small negative rounded away) without its sign; minus signs as ``−``."""
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = text[1:]
    return text.replace("-", "−")


def _finite(value: float) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def money(value_gbp: float) -> str:
    """Pounds in a short form: ``£2.3m``, ``£805k``, ``£6.3k``, ``£950``; ``–`` for a missing value."""
    if not _finite(value_gbp):
        return "–"
    v = abs(float(value_gbp))
    if v >= 999_500:  # would round to £1,000k
        text = f"£{v / 1e6:,.1f}m"
    elif v >= 9_999.5:
        text = f"£{v / 1e3:,.0f}k"
    elif v >= 999.5:
        text = f"£{v / 1e3:,.1f}k"
    else:
        text = f"£{v:,.0f}"
    return ("−" if value_gbp < 0 and text not in ("£0", "£0.0k") else "") + text


def count(value: float) -> str:
    """A count with thousands separators (``12,041``); ``–`` for a missing value."""
    if not _finite(value):
        return "–"
    return _unsigned_zero(f"{float(value):,.0f}")


def percent(value_pct: float, decimals: int = 1) -> str:
    """A percentage given in percent (``9.3`` → ``9.3%``); ``–`` for a missing value."""
    if not _finite(value_pct):
        return "–"
    return _unsigned_zero(f"{float(value_pct):.{decimals}f}%")


def days(value_days: float) -> str:
    """Days to one decimal (``1.8``); ``–`` for a missing value."""
    if not _finite(value_days):
        return "–"
    return _unsigned_zero(f"{float(value_days):.1f}")


def by_unit(value: float, unit: str) -> str:
    """Format ``value`` for its fundsim measure ``unit`` (``GBP per year``, ``days``, ``% of contracted``…)."""
    if "GBP" in unit or "£" in unit:
        return money(value)
    if unit == "days":
        return days(value)
    if "%" in unit:
        return percent(value)
    return count(value)


def unit_text(unit: str) -> str:
    """A measure unit as people read it (``GBP per year`` → ``£ per year``)."""
    return unit.replace("GBP", "£")


def share(value_share: float, decimals: int = 0) -> str:
    """A share given as a fraction, as a percentage (``0.045`` → ``4.5%`` with one decimal)."""
    if not _finite(value_share):
        return "–"
    return percent(float(value_share) * 100, decimals)


def axis_number(value: float) -> str:
    """A number for an axis tick in full, never with a ``1e7`` offset: ``18,000,000``, ``0.045``, ``56``."""
    if not _finite(value):
        return "–"
    v = float(value)
    if abs(v) >= 1000 or v == int(v):
        return count(v)
    return _unsigned_zero(f"{v:.3g}")
