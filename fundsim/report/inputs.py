"""The report's ``inputs`` table: every scenario input of the run, with its unit and where it came from.

The scenario a results folder records (the validated copy in ``manifest.json``, defaults included)
is flattened into one row per value: the dotted path (``localities[0].population``), the value,
its unit and its source. The unit comes from the field's name (:data:`UNIT_SUFFIXES`) or, failing
that, its description in the schema. The source is the comment at the end of the key's line in
the scenario file (the shipped scenarios say there where a number comes from: ``DOMAIN``,
``derived``, ``assumption``), ``default (fundsim <version>)`` for an input the file leaves out, or
``not recorded`` when the scenario file's text cannot be had.

The text is taken only from a file whose SHA-256 is the one the manifest records, so a comment is
never shown against a scenario it does not belong to: ``scenario.yaml`` in the results folder when
there is one, else the file named in the manifest (``scenario_file``) if it is still there
unchanged. Comments are the user's text: the CSV and workbook writers neutralise them like every
other text cell (:mod:`fundsim.spreadsheet`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fundsim.report.results import ResultsFolder
from fundsim.report.tables import ReportTable
from fundsim.safeio import NotAFileError, open_regular
from fundsim.scenario.loader import MAX_FILE_BYTES, FundsimLoader, format_path
from fundsim.scenario.models import Scenario

#: A copy of the scenario file kept in the results folder (read first when present).
SCENARIO_COPY = "scenario.yaml"

#: Source of every input when the scenario file's text cannot be had.
NOT_RECORDED = "not recorded"

#: Source of an input written in the file without a comment on its line or on a line above it.
NO_COMMENT = "scenario file (no comment)"

#: Unit of a scenario field by the end of its name (``hourly_cost_gbp`` ends with ``gbp``): the
#: longest matching suffix wins, and a suffix matches whole words only (``name == suffix`` or
#: ``name`` ends with ``_`` + suffix). Shares are fractions of 1 (``0.15`` is 15%).
UNIT_SUFFIXES: dict[str, str] = {
    # money
    "gbp_per_year": "£ per year",
    "price_gbp": "£ per unit",
    "prices_gbp": "£ per unit",
    "gbp": "£",
    # rates
    "per_1000_per_year": "per 1,000 people per year",
    "growth_per_year": "share per year",
    "uplift_per_year": "share per year",
    "efficiency_per_year": "share per year",
    "activity_per_year": "units per year",
    "volume_per_year": "units per year",
    "per_year": "per year",
    "per_referral": "per referral",
    "per_level": "share per level",
    "hazard": "per person-day",
    # time
    "date": "date",
    "day_of_year": "day of the year",
    "hours_per_week": "hours per week",
    "hours_per_shift": "hours per shift",
    "minutes": "minutes",
    "hours": "hours",
    "days": "days",
    "weeks": "weeks",
    "months": "months",
    "years": "years",
    # shares, probabilities and ratios
    "share": "share (0–1)",
    "share_band": "share (0–1)",
    "share_beyond": "share (0–1)",
    "share_of_fixed": "share of the fixed element",
    "share_of_unit_price": "share of the unit price",
    "share_of_acute_savings": "share (0–1)",
    "rate_above": "share of the price",
    "rate_below": "share of the price",
    "amplitude": "share (0–1)",
    "mix": "share (0–1)",
    "mix_end": "share (0–1)",
    "probability": "probability (0–1)",
    "multiplier": "ratio",
    "ratio": "ratio",
    "premium": "ratio",
    "cv": "coefficient of variation",
    "profile": "relative weight",
    "weight": "relative weight",
    "weights": "relative weight",
    # counts
    "population": "people",
    "fte": "FTE",
    "visits": "visits",
    "replications": "runs",
    "max_level": "levels",
}

#: Suffixes longest first (in words), so ``gbp_per_year`` is tried before ``per_year`` and ``gbp``.
_SUFFIXES = sorted(UNIT_SUFFIXES, key=lambda s: (-s.count("_"), -len(s)))

#: Units a field's description may state: ``(£ a year)``, ``(share of price)``, ``(people)``, ….
_DESCRIBED_UNIT = re.compile(r"\((£[^()]*|share(?: of [a-z ]+)?|people|units|contacts|[a-z]+ per [a-z]+)\)")
_DESCRIBED_TIME = re.compile(r"\bin (minutes|hours|days|weeks|months|years)\b")

#: Fields whose unit is the enclosing field's when they have none of their own (``visits.mean``).
_INHERIT_UNIT = frozenset({"mean", "maximum"})


def unit_for(name: str, description: str | None = None) -> str:
    """The unit of a scenario field from its name's suffix (:data:`UNIT_SUFFIXES`), else its description.

    >>> unit_for("hourly_cost_gbp"), unit_for("rate_per_head_gbp_per_year"), unit_for("warmup_days")
    ('£', '£ per year', 'days')
    >>> unit_for("mean", "Mean, in minutes."), unit_for("name")
    ('minutes', '')
    """
    key = name.lower()
    for suffix in _SUFFIXES:
        if key == suffix or key.endswith("_" + suffix):
            return UNIT_SUFFIXES[suffix]
    if not description:
        return ""
    text = description.strip()
    found = _DESCRIBED_UNIT.search(text)
    if found:
        unit = found.group(1)
        return "share (0–1)" if unit == "share" else unit
    found = _DESCRIBED_TIME.search(text)
    if found:
        return found.group(1)
    lowered = text.lower()
    if lowered.startswith("chance"):
        return "probability (0–1)"
    if re.search(r"\bshare\b", lowered):
        return "share (0–1)"
    return ""


# --- the scenario, flattened ---------------------------------------------------------------------------

PathKey = tuple[str | int, ...]


def leaves(data: Any) -> Iterator[tuple[PathKey, Any]]:
    """Every leaf of nested dicts and lists as ``(path, value)``, in order; an empty dict or list is a leaf."""
    stack: list[tuple[PathKey, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict) and value:
            stack.extend(((*path, str(k)), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list | tuple) and value:
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
        elif path:
            yield path, value


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation may hold: ``X | None`` → [X]; ``Annotated[X, …]`` → [X]."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [t for a in typing.get_args(annotation) for t in _unwrap(a) if t is not type(None)]
    return [annotation]


def _step(annotation: Any, key: str | int) -> tuple[Any, tuple[str, FieldInfo] | None] | None:
    """The annotation one step down ``key`` and, when the step is a model field, that field."""
    for option in _unwrap(annotation):
        origin = typing.get_origin(option)
        if isinstance(option, type) and issubclass(option, BaseModel):
            if isinstance(key, str) and key in option.model_fields:
                info = option.model_fields[key]
                return info.annotation, (key, info)
        elif origin is dict and isinstance(key, str):
            return typing.get_args(option)[1], None
        elif origin in (list, tuple) and isinstance(key, int):
            args = [a for a in typing.get_args(option) if a is not Ellipsis]
            if args:
                return args[key] if origin is tuple and len(args) > 1 and key < len(args) else args[0], None
    return None


def field_chain(path: PathKey, model: type[BaseModel] = Scenario) -> tuple[list[tuple[str, FieldInfo]], Any]:
    """The schema fields along ``path`` (outermost first) and the annotation at its end (``None`` if unknown)."""
    annotation: Any = model
    chain: list[tuple[str, FieldInfo]] = []
    for key in path:
        step = _step(annotation, key)
        if step is None:
            return chain, None
        annotation, field = step
        if field is not None:
            chain.append(field)
    return chain, annotation


def input_unit(path: PathKey) -> str:
    """The unit of the scenario input at ``path``, from the innermost schema field that has one."""
    chain, _ = field_chain(path)
    if not chain:
        names = [k for k in path if isinstance(k, str)]
        return unit_for(names[-1]) if names else ""
    name, info = chain[-1]
    unit = unit_for(name, info.description)
    if not unit and name in _INHERIT_UNIT and len(chain) > 1:
        outer, outer_info = chain[-2]
        unit = unit_for(outer, outer_info.description)
    return unit


def _value(path: PathKey, value: Any) -> Any:
    """``value`` as the workbook should hold it: a date field's ISO text as a date, an empty container as text."""
    if isinstance(value, str):
        _, annotation = field_chain(path)
        if dt.date in _unwrap(annotation):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return value
        return value
    if isinstance(value, dict | list | tuple):  # empty (leaves() descends into the others)
        return "{}" if isinstance(value, dict) else "[]"
    return value


# --- sources: the comments of the scenario file -------------------------------------------------------


def _read_verified(path: Path, sha256: str) -> str | None:
    """The text of ``path`` if it is a regular file of at most MAX_FILE_BYTES with this SHA-256, else ``None``."""
    try:
        fd = open_regular(path)  # never blocks on a FIFO, never reads a device
        with os.fdopen(fd, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_FILE_BYTES:
                return None
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, NotAFileError, ValueError):
        return None
    if len(data) > MAX_FILE_BYTES or hashlib.sha256(data).hexdigest() != sha256.lower():
        return None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None


def scenario_text(folder: ResultsFolder) -> str | None:
    """The text of the scenario file the results came from, or ``None`` when it cannot be had unchanged.

    Looks for ``scenario.yaml`` in the folder, then for the file the manifest names; either is used
    only if its SHA-256 is the manifest's ``scenario_sha256``.
    """
    expected = folder.manifest.get("scenario_sha256")
    if not isinstance(expected, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", expected):
        return None
    candidates = [Path(folder.path) / SCENARIO_COPY]
    recorded = folder.manifest.get("scenario_file")
    if isinstance(recorded, str) and recorded and "\x00" not in recorded:
        candidates.append(Path(recorded))
    for candidate in candidates:
        text = _read_verified(candidate, expected)
        if text is not None:
            return text
    return None


def line_comments(text: str) -> dict[int, str]:
    """The comment ending each line of YAML ``text`` (0-based line → text after ``#``, stripped).

    A comment is whatever follows the last YAML token on the line, so a ``#`` inside a quoted
    value is not one. Lines holding only a comment are left out. Empty for text that is not YAML.
    """
    ends: dict[int, int] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for token in yaml.scan(text, Loader=loader):
            mark = token.end_mark
            if token.start_mark.index == mark.index:
                continue  # zero-width tokens (block starts and ends) belong to no line's text
            ends[mark.line] = max(ends.get(mark.line, 0), mark.column)
    except Exception:  # not YAML: no comments can be placed
        return {}
    lines = text.splitlines()
    out = {}
    for line, column in ends.items():
        rest = lines[line][column:].strip() if line < len(lines) else ""
        if rest.startswith("#"):
            comment = rest.lstrip("#").strip()
            if comment:
                out[line] = comment
    return out


def written_lines(text: str) -> dict[PathKey, int]:
    """The (0-based) line on which each key or list item of YAML ``text`` is written, by its path.

    Keys merged in with ``<<`` are placed where they are written (the anchored mapping); keys
    written in the mapping override them, as when the file is loaded. Empty for text that is not YAML.
    """
    try:
        root = yaml.compose(text, Loader=FundsimLoader)
    except Exception:  # not YAML, or past the loader's limits: the file cannot say where anything is
        return {}
    out: dict[PathKey, int] = {}
    stack: list[tuple[PathKey, Node]] = [((), root)] if root is not None else []
    while stack:
        path, node = stack.pop()
        if isinstance(node, MappingNode):
            for key, key_node, value in _entries(node):
                out[(*path, key)] = key_node.start_mark.line
                stack.append(((*path, key), value))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                out[(*path, index)] = item.start_mark.line
                stack.append(((*path, index), item))
        if len(out) > 1_000_000:  # an alias bomb the run would have refused; stop rather than expand it
            break
    return out


def _entries(node: MappingNode, depth: int = 0) -> list[tuple[str, Node, Node]]:
    merged: dict[str, tuple[Node, Node]] = {}
    written: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" and depth < 16:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in reversed(sources):
                if isinstance(source, MappingNode):
                    merged.update({k: (kn, v) for k, kn, v in _entries(source, depth + 1)})
        elif isinstance(key_node, ScalarNode):
            written[str(key_node.value)] = (key_node, value_node)
    merged.update(written)
    return [(k, kn, v) for k, (kn, v) in merged.items()]


def sources(paths: list[PathKey], text: str | None, version: str) -> dict[PathKey, str]:
    """The source of each input: its line's comment, else the nearest enclosing key's, else a note.

    A comment on an enclosing key's line (``complexity_mix:  # share of referrals … (assumption)``)
    is shown with the key it is on. An input the file does not write is a default of the fundsim
    ``version`` that validated it; without the file's ``text`` every source is ``not recorded``.
    """
    if text is None:
        return dict.fromkeys(paths, NOT_RECORDED)
    lines = written_lines(text)
    if not lines:
        return dict.fromkeys(paths, NOT_RECORDED)
    comments = line_comments(text)
    out = {}
    for path in paths:
        if path not in lines:
            out[path] = f"default (fundsim {version})"
            continue
        out[path] = NO_COMMENT
        for depth in range(len(path), 0, -1):
            comment = comments.get(lines.get(path[:depth], -1))
            if comment is not None:
                out[path] = comment if depth == len(path) else f"{comment} (comment on {format_path(path[:depth])})"
                break
    return out


def inputs_table(folder: ResultsFolder) -> ReportTable:
    """Every scenario input of the run, defaults included: path, value, unit and source (one row each).

    Paths are written as the loader's messages write them (:func:`~fundsim.scenario.loader.format_path`):
    ``localities[0].population``, ``demand.complexity_mix.low``.
    """
    scenario = folder.scenario if isinstance(folder.scenario, dict) else {}
    rows = list(leaves(scenario))
    found = sources([p for p, _ in rows], scenario_text(folder), folder.written_by)
    frame = pd.DataFrame(
        {
            "path": pd.Series([format_path(p) for p, _ in rows], dtype=object),
            "value": pd.Series([_value(p, v) for p, v in rows], dtype=object),
            "unit": pd.Series([input_unit(p) for p, _ in rows], dtype=object),
            "source": pd.Series([found[p] for p, _ in rows], dtype=object),
        }
    )
    return ReportTable("inputs", "Every scenario input of the run, with its unit and source", frame)
