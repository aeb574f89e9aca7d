"""Words for a sweep's columns: outputs and parameters as people read them, with their units.

Outputs (``absorbed_gbp_per_year[block]``) take the name and unit the run report gives each
headline measure (:data:`fundsim.experiment.runner.MEASURES`), and the contract's readable name
(:func:`fundsim.report.style.contract_label`): "Cost absorbed by provider, £ a year — block".
Parameters (``contracts.block.annual_value_gbp``) take the report catalogue's name where it has one
(:data:`fundsim.report.catalogue.PARAMETER_NAMES`), else the first sentence of the scenario
schema's description of the field, and a unit read from the field's name (``_gbp``: £; ``_share``:
a share shown as %): "block contract: contract value in year 1, £".
"""

from __future__ import annotations

import re
import textwrap
import typing
from dataclasses import dataclass

from fundsim.experiment.runner import MEASURES
from fundsim.report.catalogue import PARAMETER_NAMES
from fundsim.report.style import contract_label, unit_text

_OUTPUT = re.compile(r"(?P<measure>[a-z0-9_]+)\[(?P<contract>[A-Za-z0-9_]+)(?:-(?P<minus>[A-Za-z0-9_]+))?\]")
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")

#: Unit suffixes of scenario field names, longest first: (suffix, unit shown, kind for formatting).
_SUFFIXES = (
    ("growth_per_year", "% a year", "share"),
    ("_per_1000_per_year", "per 1,000 people a year", "count"),
    ("_gbp_per_year", "£ a year", "money"),
    ("_gbp_per_hour", "£ an hour", "money"),
    ("_per_year", "a year", "count"),
    ("_gbp", "£", "money"),
    ("_share", "%", "share"),
    ("_probability", "%", "share"),
    ("_pct", "%", "percent"),
    ("_days", "days", "count"),
    ("_minutes", "minutes", "count"),
    ("_hours", "hours", "count"),
)
#: The sensitivity indices in words (the sweep report's and the terminal's).
INDEX_LABELS = {
    "ST": "total-order Sobol index ST",
    "S1": "first-order Sobol index S1",
    "mu_star": "Morris μ* (unit scale)",
    "PRCC": "partial rank correlation (PRCC)",
}
#: Plural list names and what one item is called.
_ITEM = {"localities": "locality", "grades": "grade", "tiers": "tier", "years": "year"}


@dataclass(frozen=True)
class Label:
    """A column in words: ``text`` (with its unit) and ``kind`` (``money``, ``share``, ``percent``, ``count``)."""

    text: str
    kind: str

    def wrapped(self, width: int = 38) -> str:
        """The text broken into lines of at most ``width`` characters (axis labels are never cut off)."""
        return "\n".join(textwrap.wrap(self.text, width)) or self.text


def output_label(column: str) -> Label:
    """``absorbed_gbp_per_year[block]`` → "Cost absorbed by provider, £ a year — block"."""
    match = _OUTPUT.fullmatch(column)
    if match is None:
        return Label(column.replace("_", " "), "count")
    names = {col: (label, unit) for col, label, unit in MEASURES}
    measure = match["measure"]
    name, unit = names.get(measure, (measure.replace("_", " "), ""))
    shown = unit_text(unit)
    if shown == "per year":
        unit_part = " a year"
    else:
        unit_part = f", {shown.replace(' per year', ' a year')}" if shown else ""
    contract = contract_label(match["contract"])
    if match["minus"]:
        contract = f"{contract} minus {contract_label(match['minus'])}"
    kind = "money" if "GBP" in unit else "percent" if "%" in unit else "count"
    return Label(f"{name}{unit_part} — {contract}", kind)


def _field_info(path: str) -> tuple[str | None, list[str]]:
    """The scenario schema's description of the field at ``path``, and the readable context of its parents."""
    from fundsim.scenario.models import Scenario

    node: typing.Any = Scenario
    context: list[str] = []
    description = None
    steps = [(m.group(1), re.findall(r"\[(\d+)\]", m.group(2))) for m in map(_STEP.fullmatch, path.split(".")) if m]
    for i, (name, indices) in enumerate(steps):
        fields = getattr(node, "model_fields", None)
        field = fields.get(name) if isinstance(fields, dict) else None
        if field is None:
            return None, context
        last = i == len(steps) - 1
        if last:
            description = field.description
        elif indices:
            context.append(f"{_ITEM.get(name, name.replace('_', ' '))} {int(indices[0]) + 1}")
        elif getattr(node, "__name__", "") == "Contracts":
            context.append(f"{contract_label(name)} contract")
        node = _model_of(field.annotation)
    return description, context


def _model_of(annotation: typing.Any) -> typing.Any:
    """The pydantic model inside an annotation (``list[Grade]``, ``BlockContract | None``), else None."""
    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def parameter_label(path: str) -> Label:
    """A parameter path in words with its unit: ``workforce.grades[1].fte`` → "grade 2: whole-time equivalents…"."""
    leaf = path.rsplit(".", 1)[-1].split("[", 1)[0]
    unit, kind, stem = "", "count", leaf
    for suffix, shown, what in _SUFFIXES:
        if leaf.endswith(suffix):
            unit, kind, stem = shown, what, leaf[: -len(suffix)]
            break
    if leaf == "fte":
        unit = "FTE"
    try:
        description, context = _field_info(path)
    except Exception:  # an unusual annotation: fall back to the field's own name
        description, context = None, []
    name = PARAMETER_NAMES.get(leaf)
    if name is None and description:
        first = re.split(r"(?<=[a-z0-9)])\.\s", description.strip(), maxsplit=1)[0].rstrip(".")
        first = re.sub(r"\s*\([^)]*\)", "", first)  # "(£ per unit)": the unit is given once, below
        name = first[0].lower() + first[1:] if len(first) <= 60 and not first[:2].isupper() else None
    if name is None:
        name = stem.replace("_", " ")
    text = (", ".join(context) + ": " if context else "") + name + (f", {unit}" if unit else "")
    return Label(text, kind)
