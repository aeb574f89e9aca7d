"""Step 4 of loading: pydantic's validation errors translated into located, readable problems.

Each error's location is resolved against the model (through unions, lists and mappings) to the
line and column where the value starts, with the field's bounds, a "did you mean" for unknown keys,
and union noise dropped.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from fundsim.errors import Problem
from fundsim.scenario.yaml_safe import Path, Position, _short_repr, format_path
from fundsim.scenario.yaml_walk import _Document

# --------------------------------------------------------------------------- pydantic errors -> problems

_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "less_than_equal": ("le", "<="),
    "greater_than": ("gt", ">"),
    "less_than": ("lt", "<"),
}
#: Error types showing that a mapping's keys do not fit a model (used to tell which union branch was meant).
_STRUCTURAL = frozenset({"missing", "extra_forbidden"})


@dataclass
class _Resolved:
    """A pydantic ``loc`` with union-branch tags removed, and what the schema says lives there."""

    path: Path  # data path, may end with "[key]" for dict-key errors
    annotation: Any  # the type at the end of the path, or None when unknown
    union_site: Path | None = None  # data path of the outermost union the loc passed through
    branch: str | None = None  # the branch tag taken at that union


def _translate(exc: ValidationError, model_cls: type[BaseModel], doc: _Document, filename: str) -> list[Problem]:
    errors = [(err, _resolve(model_cls, err["loc"])) for err in exc.errors(include_url=False)]
    problems = [_problem(err, resolved, model_cls, doc, filename) for err, resolved in _drop_union_noise(errors)]
    return _sorted_unique(problems)


def _drop_union_noise(errors: list[tuple[ErrorDetails, _Resolved]]) -> list[tuple[ErrorDetails, _Resolved]]:
    """Keep, for each union-typed value, only the errors of the branch the user evidently meant.

    Pydantic reports every branch's errors. A branch that failed only with a type error at the
    union itself was not meant; among the rest, the branch with fewest unknown/missing keys (then
    fewest errors) was. If no branch was meant, one combined error is reported instead.
    """
    kept: list[tuple[ErrorDetails, _Resolved]] = []
    by_site: dict[Path, dict[str, list[tuple[ErrorDetails, _Resolved]]]] = {}
    for err, resolved in errors:
        if resolved.union_site is None or resolved.branch is None:
            kept.append((err, resolved))
        else:
            by_site.setdefault(resolved.union_site, {}).setdefault(resolved.branch, []).append((err, resolved))
    for site, branches in by_site.items():
        meant = {
            tag: errs
            for tag, errs in branches.items()
            if any(r.path != site or e["type"] in _STRUCTURAL for e, r in errs)
        }
        if meant:
            best = min(meant.values(), key=lambda errs: (sum(e["type"] in _STRUCTURAL for e, _ in errs), len(errs)))
            kept.extend(best)
        else:
            first_err, _ = next(iter(branches.values()))[0]
            messages = list(dict.fromkeys(e["msg"] for errs in branches.values() for e, _ in errs))
            combined: ErrorDetails = {
                "type": "union_mismatch",
                "loc": first_err["loc"],
                "msg": "does not match any allowed form (" + "; or ".join(messages) + ")",
                "input": first_err.get("input"),
            }
            kept.append((combined, _Resolved(site, None)))
    return kept


def _resolve(model_cls: type[BaseModel], loc: tuple[Any, ...]) -> _Resolved:
    """Follow ``loc`` through the model's annotations, dropping the tags pydantic adds for union branches."""
    path: list[Any] = []
    annotation: Any = model_cls
    union_site: Path | None = None
    branch: str | None = None
    for segment in loc:
        annotation = _unwrap(annotation)
        members = _union_members(annotation)
        if members is not None:
            # This segment names the union branch, not a key in the data.
            if union_site is None:
                union_site, branch = tuple(path), str(segment)
            annotation = _pick_member(members, segment)
            continue
        path.append(segment)
        annotation = _step(annotation, segment)
    return _Resolved(tuple(path), _unwrap(annotation), union_site, branch)


def _unwrap(annotation: object) -> object:
    """Strip ``Annotated`` and ``X | None`` (pydantic reports no branch tag for a bare optional)."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        members = _raw_union_members(annotation)
        if members is not None:
            non_none = [m for m in members if m is not type(None)]
            if len(non_none) == 1:
                annotation = non_none[0]
                continue
        return annotation


def _raw_union_members(annotation: object) -> tuple[object, ...] | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(annotation)
    return None


def _union_members(annotation: object) -> list[object] | None:
    members = _raw_union_members(annotation)
    if members is None:
        return None
    return [m for m in members if m is not type(None)]


def _pick_member(members: list[object], tag: object) -> object:
    """The union member a pydantic branch tag refers to, or None when it cannot be told."""
    for member in members:
        if isinstance(member, type) and member.__name__ == tag:
            return member
    for member in members:
        origin = typing.get_origin(_unwrap(member))
        if origin is not None and isinstance(tag, str) and tag.startswith(f"{origin.__name__}["):
            return member
    return None


def _step(annotation: object, segment: object) -> object:
    """The annotation of the value at ``segment`` inside a value of type ``annotation``."""
    if _is_model(annotation):
        info = annotation.model_fields.get(segment) if isinstance(segment, str) else None
        return info.annotation if info is not None else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, set, frozenset) or (
        isinstance(origin, type) and issubclass(origin, Sequence) and origin is not tuple
    ):
        return args[0] if args else None
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[segment] if isinstance(segment, int) and 0 <= segment < len(args) else None
    if origin is dict or (isinstance(origin, type) and issubclass(origin, Mapping)):
        if not args:
            return None
        return args[0] if segment == "[key]" else args[1]
    return None


def _problem(
    err: ErrorDetails, resolved: _Resolved, model_cls: type[BaseModel], doc: _Document, filename: str
) -> Problem:
    path = resolved.path
    is_key = bool(path) and path[-1] == "[key]"
    if is_key:
        path = path[:-1]
    kind = err["type"]
    if is_key or kind == "extra_forbidden":
        position = doc.key_positions.get(path) or _nearest(doc.positions, path)
    elif kind in ("value_error", "assertion_error") and _is_model(resolved.annotation):
        # A model-level validator: point at the model's mapping, or closer when the message
        # starts by naming a field below it ("tiers[0].allowed_grades names unknown grade(s) ...").
        position = _nearest(doc.positions, path)
        named = _leading_path(_strip_value_error(str(err["msg"])))
        if named and (*path, *named) in doc.positions:
            position = doc.positions[(*path, *named)]
    else:
        position = _nearest(doc.positions, path)
    if is_key:
        message = f"invalid key {_short_repr(err.get('input'))}: {err['msg']}"
        written = doc.plain_keys.get(path)
        if err["type"] == "string_type" and written is not None and "'" not in written:
            message += f"; put it in quotes to make it text: '{written}'"
    elif kind == "model_type" and _is_model(resolved.annotation):
        # Pydantic names the model class ("instance of DurationMinutes"), which means nothing in a file.
        keys = ", ".join(resolved.annotation.model_fields)
        message = f"must be a mapping with the keys {keys}, got {_short_repr(err.get('input'))}"
    else:
        message = _message(err, model_cls, doc, path)
    line, column = position if position is not None else (None, None)
    return Problem(filename, line, column, format_path(path), message)


def _nearest(positions: dict[Path, Position], path: Path) -> Position | None:
    """Position of ``path``, or of its deepest ancestor present in the file (e.g. for a missing key)."""
    while path not in positions and path:
        path = path[:-1]
    return positions.get(path)


def _message(err: ErrorDetails, model_cls: type[BaseModel], doc: _Document, path: Path) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind in _BOUNDS:
        bound_name, symbol = _BOUNDS[kind]
        if bound_name in ctx:
            return f"must be {symbol} {_format_bound(ctx[bound_name])}, got {_short_repr(value)}"
    if kind == "finite_number":
        return f"must be a finite number, got {_short_repr(value)}"
    if kind == "missing":
        return "required field missing"
    if kind == "extra_forbidden":
        return _unknown_key_message(path[-1] if path else "", _resolve(model_cls, tuple(err["loc"][:-1])).annotation)
    if kind in ("value_error", "assertion_error"):
        return _strip_value_error(str(err["msg"]))
    if kind in ("too_short", "too_long"):
        return str(err["msg"])  # already says how many items there were
    message = f"{err['msg']}, got {_short_repr(value)}"
    written = doc.plain_scalars.get(path)
    if kind == "string_type" and written is not None and "'" not in written:
        # YAML turned an unquoted 123, 1.5 or 2025-04-01 into a number or date.
        message += f"; put it in quotes to make it text: '{written}'"
    return message


def _strip_value_error(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


_LEADING_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*")


def _leading_path(message: str) -> Path:
    """The field path a message starts with (``tiers[0].allowed_grades`` -> ``('tiers', 0, 'allowed_grades')``)."""
    match = _LEADING_PATH.match(message)
    if match is None:
        return ()
    return tuple(
        int(part[1:-1]) if part.startswith("[") else part for part in re.findall(r"\[\d+\]|[A-Za-z_]\w*", match.group())
    )


def _is_model(annotation: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _unknown_key_message(key: object, annotation: object) -> str:
    message = f"unknown key {_short_repr(key)}"
    if not _is_model(annotation):
        return message
    allowed = list(annotation.model_fields)
    suggestion = _did_you_mean(str(key), allowed)
    if suggestion is not None:
        return f"{message}; did you mean {suggestion!r}?"
    return f"{message}; allowed keys: {', '.join(allowed)}"


def _did_you_mean(key: str, allowed: list[str]) -> str | None:
    """The allowed name the user most likely meant by ``key``, if any is close enough."""
    normalised = key.strip().lower().replace("-", "_").replace(" ", "_")
    if normalised in allowed:
        return normalised
    close = difflib.get_close_matches(normalised, allowed, n=1, cutoff=0.6)
    if close:
        return close[0]
    # difflib undervalues a real name with a suffix or prefix added ('fte_count' for 'fte'), so
    # also accept the longest allowed name that the key starts or ends with, or that starts with the key.
    related = [
        name
        for name in allowed
        if min(len(name), len(normalised)) >= 3
        and (normalised.startswith(name) or normalised.endswith(name) or name.startswith(normalised))
    ]
    return max(related, key=len) if related else None


def _format_bound(bound: object) -> str:
    """Show a bound as the user would write it: 0 rather than 0.0, 100000000000 rather than 1e11."""
    if isinstance(bound, float) and bound.is_integer() and abs(bound) < 1e16:
        return str(int(bound))
    return str(bound)


def _sorted_unique(problems: list[Problem]) -> list[Problem]:
    """Problems in file order (unlocated ones last), each reported once."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line is None, p.line or 0, p.column or 0))
