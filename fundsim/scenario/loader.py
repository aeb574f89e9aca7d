"""Load YAML input files into validated pydantic models, with errors that point at the file.

Loading happens in four steps, each able to stop with a :class:`~fundsim.errors.ScenarioError`:

1. read the bytes (bounded in size) and decode them as UTF-8;
2. *compose* the YAML node tree with a safe loader, counting aliases and nesting as it goes, so
   that alias bombs and absurd nesting are refused before anything is expanded;
3. walk the node tree once, recording where every value starts (``path -> (line, column)``) and
   refusing duplicate keys, foreign tags, huge strings and non-finite numbers;
4. construct plain Python data from the nodes and validate it with the model, translating each
   pydantic error into a located, readable :class:`~fundsim.errors.Problem`.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import Reader, ReaderError

from fundsim.errors import Problem, ScenarioError
from fundsim.safeio import printable
from fundsim.scenario.models import Scenario
from fundsim.scenario.problems import _resolve, _sorted_unique, _translate
from fundsim.scenario.source import _megabytes, _read_text, decode_source, read_source, scenario_sha256
from fundsim.scenario.yaml_safe import (
    _NULL,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    MAX_STRING_CHARS,
    FundsimLoader,
    Path,
    _FastLoader,
    _LimitExceeded,
    _located,
    _position_of_index,
    _short_repr,
    _TooManyNodes,
    _yaml_error,
    format_path,
)
from fundsim.scenario.yaml_walk import _check_size, _Document, _Walker

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_STRING_CHARS",
    "FundsimLoader",
    "decode_source",
    "format_path",
    "load_model",
    "load_model_text",
    "load_scenario",
    "load_scenario_text",
    "read_source",
    "scenario_sha256",
]


# --------------------------------------------------------------------------- public API


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, parse and validate a scenario file.

    Raises :class:`~fundsim.errors.ScenarioError` listing every problem found, each located by
    line, column and field path where the file allows.
    """
    return load_model(path, Scenario)


def load_scenario_text(text: str, filename: str = "<string>") -> Scenario:
    """Parse and validate a scenario given as YAML text; ``filename`` is only used in messages."""
    return load_model_text(text, Scenario, filename)


def load_model(path: str | os.PathLike[str], model_cls: type[M]) -> M:
    """Read a YAML file and validate it as ``model_cls`` (a scenario, a sweep, ...).

    Raises :class:`~fundsim.errors.ScenarioError` when the file is missing, unreadable, too big,
    not UTF-8, not valid YAML, or does not satisfy the model.
    """
    filename = os.fspath(path)
    text = _read_text(filename)
    return load_model_text(text, model_cls, printable(filename))


def load_model_text(text: str, model_cls: type[M], filename: str = "<string>") -> M:
    """Parse YAML ``text`` and validate it as ``model_cls``; ``filename`` is only used in messages."""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError.single(
            filename, f"the text is {_megabytes(len(text))}; the limit is {_megabytes(MAX_FILE_BYTES)}"
        )
    document = _parse(text, filename, model_cls)
    booleans = _booleans_for_numbers(document, model_cls, filename)
    try:
        model = model_cls.model_validate(document.data)
    except ValidationError as exc:
        raise ScenarioError(_sorted_unique(booleans + _translate(exc, model_cls, document, filename))) from None
    if booleans:
        raise ScenarioError(booleans)
    return model


# --------------------------------------------------------------------------- steps 2-4: text -> data


def _compose_fast(text: str, filename: str = "<string>") -> tuple[Any, Node | None] | None:
    """Compose ``text`` with libyaml: (loader, root), or None when it is not a clean, parseable document.

    A document found too large is refused at once: parsing it again with the pure-Python parser
    (several times slower) would only reach the same limit later.
    """
    if _FastLoader is None or Reader.NON_PRINTABLE.search(text):
        return None
    loader = _FastLoader(text)
    try:
        return loader, loader.get_single_node()
    except _TooManyNodes as exc:
        loader.dispose()
        raise _located(filename, exc.mark, exc.message) from None
    except (yaml.YAMLError, _LimitExceeded, RecursionError):
        loader.dispose()
        return None


def _parse(text: str, filename: str, model_cls: type[BaseModel]) -> _Document:
    """Compose, check and construct the YAML document in ``text``."""
    fast = _compose_fast(text, filename)
    if fast is not None:
        return _checked_document(fast[0], fast[1], filename, model_cls)
    try:
        loader = FundsimLoader(text)
    except ReaderError as exc:
        # Raised for control characters before any parsing; it knows only a character index.
        line, column = _position_of_index(text, exc.position)
        raise ScenarioError.single(
            filename, f"character U+{exc.character:04X} is not allowed in a YAML file", line=line, column=column
        ) from None
    try:
        try:
            root = loader.get_single_node()
        except _LimitExceeded as exc:
            raise _located(filename, exc.mark, exc.message) from None
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(filename, exc) from None
        except RecursionError:  # pragma: no cover - MAX_DEPTH stops nesting long before this
            raise ScenarioError.single(filename, "mappings and lists are nested too deeply") from None

        return _checked_document(loader, root, filename, model_cls)
    finally:
        loader.dispose()


def _checked_document(loader: Any, root: Node | None, filename: str, model_cls: type[BaseModel]) -> _Document:
    """Check the composed node tree (size, keys, tags, scalars) and construct plain data from it."""
    try:
        if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL and root.value == ""):
            raise ScenarioError.single(filename, _empty_message(model_cls))
        if not isinstance(root, MappingNode):
            raise _located(
                filename,
                root.start_mark,
                f"the top level must be a mapping of keys to values (like 'name: ...'), got {_describe_node(root)}",
            )

        _check_size(root, loader.alias_count, filename)
        walker = _Walker(loader, filename)
        walker.walk(root, ())
        if walker.problems:
            raise ScenarioError(_sorted_unique(walker.problems))

        try:
            data = loader.construct_document(root)
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(filename, exc) from None
        except (ValueError, OverflowError) as exc:  # pragma: no cover - the walker checks scalars first
            raise ScenarioError.single(filename, f"cannot read a value: {exc}") from None
        return _Document(data, walker.positions, walker.key_positions, walker.plain_scalars, walker.plain_keys)
    finally:
        loader.dispose()


def _value_at(data: Any, path: Path) -> Any:
    for step in path:
        data = data[step]
    return data


def _booleans_for_numbers(document: _Document, model_cls: type[BaseModel], filename: str) -> list[Problem]:
    """A problem for every ``true``/``false`` written where the schema wants a number.

    Pydantic reads ``fte: true`` as 1.0; a boolean in a number field is a slip (or a YAML 1.1
    ``yes``/``on`` from another tool), so it is refused with the value read.
    """
    problems = []
    for path, written in document.plain_scalars.items():
        try:
            value = _value_at(document.data, path)
        except (KeyError, IndexError, TypeError):
            continue
        if not isinstance(value, bool):
            continue
        annotation = _resolve(model_cls, path).annotation
        if annotation in (int, float):
            line, column = document.positions.get(path, (None, None))
            problems.append(
                Problem(
                    filename,
                    line,
                    column,
                    format_path(path),
                    f"{written} is a boolean (true/false), not a number; write the number you mean",
                )
            )
    return problems


def _empty_message(model_cls: type[BaseModel]) -> str:
    noun = model_cls.__name__.lower()
    article = "an" if noun[:1] in "aeiou" else "a"
    required = [name for name, info in model_cls.model_fields.items() if info.is_required()]
    if not required:
        return "the file is empty"
    return f"the file is empty; {article} {noun} needs at least the top-level keys {', '.join(required)}"


def _describe_node(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    return f"the single value {_short_repr(node.value)}"
