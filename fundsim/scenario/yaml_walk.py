"""Step 3 of loading: one walk of the YAML node tree.

It records where every value starts and refuses duplicate keys, foreign tags, huge strings and
non-finite numbers, with messages that say what was meant.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fundsim.errors import Problem, ScenarioError
from fundsim.scenario.yaml_safe import (
    _BOOL,
    _FLOAT,
    _INT,
    _MAP,
    _MERGE,
    _SCALAR_TAGS,
    _SEQ,
    _TAG,
    _TIMESTAMP,
    _VALUE,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_NODES,
    MAX_STRING_CHARS,
    FundsimLoader,
    Path,
    Position,
    _located,
    _position,
    _short_repr,
    format_path,
)


def _check_size(root: Node, alias_count: int, filename: str) -> None:
    """Refuse documents that are recursive, too large or too deep once aliases are expanded.

    Counts over the node graph with memoisation, so a billion-laughs document costs time in
    proportion to its (small) text, not to its expansion.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded node count, depth)
    expanding: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children_done:
            count = 1 + sum(sizes[id(c)][0] for c in children)
            depth = 1 + max((sizes[id(c)][1] for c in children), default=0)
            sizes[id(node)] = (count, depth)
            expanding.discard(id(node))
            continue
        if id(node) in sizes:
            continue
        expanding.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in expanding:
                raise _located(filename, child.start_mark, "a YAML alias refers to a mapping or list that contains it")
            if id(child) not in sizes:
                stack.append((child, False))
    count, depth = sizes[id(root)]
    if count > MAX_NODES:
        if alias_count:
            raise ScenarioError.single(
                filename,
                f"too many YAML aliases: expanding them gives {count} values (the limit is {MAX_NODES})",
            )
        raise ScenarioError.single(filename, f"the document has {count} values; the limit is {MAX_NODES}")
    if depth > MAX_DEPTH:
        raise ScenarioError.single(
            filename, f"mappings and lists are nested {depth} levels deep once aliases are expanded (limit {MAX_DEPTH})"
        )


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class _Walker:
    """Walks the composed node tree, recording positions and collecting structural problems."""

    def __init__(self, loader: FundsimLoader, filename: str) -> None:
        self.loader = loader
        self.filename = filename
        self.problems: list[Problem] = []
        self.positions: dict[Path, Position] = {}
        self.key_positions: dict[Path, Position] = {}
        self.plain_scalars: dict[Path, str] = {}
        self.plain_keys: dict[Path, str] = {}

    def problem(self, node: Node, path: Path, message: str) -> None:
        line, column = _position(node.start_mark)
        self.problems.append(Problem(self.filename, line, column, format_path(path), message))

    def walk(self, node: Node, path: Path) -> None:
        """Record ``node`` at ``path`` and check it and everything below it."""
        self.positions[path] = _position(node.start_mark)
        if isinstance(node, MappingNode):
            if node.tag != _MAP:
                self.problem(node, path, _tag_message(node.tag))
                return
            for key, (key_node, value_node) in self.entries(node, path).items():
                self.key_positions[(*path, key)] = _position(key_node.start_mark)
                if not key_node.style:  # plain: None from PyYAML, "" from libyaml
                    self.plain_keys[(*path, key)] = key_node.value
                self.walk(value_node, (*path, key))
        elif isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                self.problem(node, path, _tag_message(node.tag))
                return
            for index, item in enumerate(node.value):
                self.walk(item, (*path, index))
        elif isinstance(node, ScalarNode):
            if self.check_scalar(node, path) and not node.style:  # plain (None or "")
                self.plain_scalars[path] = node.value

    def entries(self, node: MappingNode, path: Path) -> dict[Any, tuple[ScalarNode, Node]]:
        """The mapping's effective entries, key -> (key node, value node), after YAML merge keys.

        Follows PyYAML's merge semantics: keys written in the mapping override merged ones, and
        in ``<<: [*a, *b]`` the earlier source wins. Duplicate written keys are problems.
        """
        merged: dict[Any, tuple[ScalarNode, Node]] = {}
        written: dict[Any, tuple[ScalarNode, Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                if isinstance(value_node, MappingNode):
                    sources = [value_node]
                elif isinstance(value_node, SequenceNode):
                    sources = list(value_node.value)
                else:
                    sources = [value_node]
                for source in reversed(sources):
                    if isinstance(source, MappingNode) and source.tag == _MAP:
                        merged.update(self.entries(source, path))
                    else:
                        self.problem(source, path, "a '<<' merge needs a mapping (or a list of mappings) to merge in")
                continue
            if not isinstance(key_node, ScalarNode):
                self.problem(
                    key_node, path, "a mapping key must be a single value (text or a number), not a list or mapping"
                )
                continue
            if key_node.tag == _VALUE:
                key: Any = key_node.value  # PyYAML reads a bare '=' key as text too
            elif not self.check_scalar(key_node, path):
                continue
            else:
                key = self.loader.construct_object(key_node)
            if key in written:
                first_line = written[key][0].start_mark.line + 1
                self.problem(
                    key_node,
                    (*path, key),
                    f"duplicate key {key!r} (first at line {first_line}, again at line {key_node.start_mark.line + 1})",
                )
                continue
            written[key] = (key_node, value_node)
        merged.update(written)
        return merged

    def check_scalar(self, node: ScalarNode, path: Path) -> bool:
        """Check one scalar; return False (having recorded a problem) if it cannot be used."""
        if node.tag not in _SCALAR_TAGS:
            self.problem(node, path, _tag_message(node.tag))
            return False
        if len(node.value) > MAX_STRING_CHARS:
            self.problem(
                node, path, f"a value of {len(node.value)} characters is too long (the limit is {MAX_STRING_CHARS})"
            )
            return False
        if node.tag == _INT and len(node.value) > MAX_INT_DIGITS:
            self.problem(node, path, f"a number with {len(node.value)} digits is too long")
            return False
        if node.tag in _TYPED_TAGS:
            explicit = node.tag != self.loader.resolve(ScalarNode, node.value, (not node.style, bool(node.style)))
            try:
                value = self.loader.construct_object(node)
            except Exception as exc:  # PyYAML's constructors raise KeyError, AttributeError, ValueError, …
                self.problem(node, path, _bad_scalar_message(node, exc, explicit))
                return False
            if isinstance(value, float) and not math.isfinite(value):
                self.problem(node, path, f"must be a finite number, got {node.value}")
                return False
            surprise = _yaml11_surprise(node, value)
            if surprise is not None:
                self.problem(node, path, surprise)
                return False
        return True


#: Tags whose scalars are constructed (and so checked) while walking: every one that is not text.
_TYPED_TAGS = frozenset({_BOOL, _INT, _FLOAT, _TIMESTAMP})
_WHAT_TAG_WANTS = {
    _BOOL: "a boolean: write true or false",
    _INT: "a whole number",
    _FLOAT: "a number",
    _TIMESTAMP: "a valid date or time (write a date as YYYY-MM-DD)",
}


def _bad_scalar_message(node: ScalarNode, exc: Exception, explicit: bool) -> str:
    """Why a scalar cannot be read as its tag says (an explicit ``!!bool 5``, a date ``2025-02-30``)."""
    tag = "!!" + node.tag.removeprefix(_TAG)
    message = f"{_short_repr(node.value)} is not {_WHAT_TAG_WANTS[node.tag]}"
    if explicit:
        message += f" (it is tagged {tag})"
    if isinstance(exc, (ValueError, OverflowError)) and str(exc) and node.tag == _TIMESTAMP:
        message += f": {exc}"
    return message


_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_BINARY = re.compile(r"[-+]?0b[01_]+")


def _yaml11_surprise(node: ScalarNode, value: object) -> str | None:
    """A message when YAML 1.1 reads a number differently from what it looks like, else None.

    PyYAML follows YAML 1.1: ``05000`` is octal (2560), ``1:30`` is base 60 (90) and ``0b101`` is
    binary (5). YAML 1.2 and every reader's eye disagree, so such values are refused rather than
    silently changed; the message gives the value YAML 1.1 would have read.
    """
    if node.tag not in (_INT, _FLOAT) or isinstance(value, bool):
        return None
    text = node.value.strip()
    if ":" in text:
        return (
            f"{text} is read by YAML 1.1 as a base-60 (sexagesimal) number, {value:g}; write the number you mean "
            f"(for example {value:g}), or put it in quotes if it is text"
        )
    if node.tag == _INT and _BINARY.fullmatch(text):
        return f"{text} is read by YAML 1.1 as the binary number {value}; write the number in decimal"
    if node.tag == _INT and _OCTAL.fullmatch(text):
        decimal = int(text.replace("_", ""), 10)
        if decimal != value:
            return (
                f"{text} is read by YAML 1.1 as the octal number {value} (a leading 0 means octal); write {decimal} "
                "without the leading zero, or put it in quotes if it is text"
            )
    return None


def _tag_message(tag: str) -> str:
    short = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    message = (
        f"the YAML tag '{short}' is not allowed; only plain data (mappings, lists, text, numbers, true/false, dates) is"
    )
    if "python/" in tag:
        message += " (Python object tags are never loaded, for safety)"
    return message


@dataclass
class _Document:
    """Constructed data plus where each value (and each mapping key) starts in the file."""

    data: Any
    positions: dict[Path, Position] = field(default_factory=dict)
    key_positions: dict[Path, Position] = field(default_factory=dict)
    #: Paths whose value was written as a plain (unquoted) scalar, mapped to the text written.
    plain_scalars: dict[Path, str] = field(default_factory=dict)
    #: The same for mapping keys, by the path of the value they introduce.
    plain_keys: dict[Path, str] = field(default_factory=dict)
