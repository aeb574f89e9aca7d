"""A YAML loader with limits, and located YAML errors.

Aliases, nodes, nesting and string sizes are counted as the tree is composed, so an alias bomb or
absurd nesting is refused before anything is expanded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import Node
from yaml.resolver import Resolver

from fundsim.errors import ScenarioError

#: Files larger than this are refused before they are parsed.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Any single string (key or value) longer than this is refused.
MAX_STRING_CHARS = 100 * 1024
#: Alias uses (``*name``) allowed in one document; real files need a handful.
MAX_ALIASES = 100
#: Values in the document once aliases are expanded (what pydantic would have to walk).
MAX_NODES = 200_000
#: Nesting depth of mappings and lists (after expanding aliases).
MAX_DEPTH = 64
#: Integers with more digits than this are refused (Python refuses > 4300 with a bare ValueError).
MAX_INT_DIGITS = 400

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT, _STR, _TIMESTAMP = (_TAG + t for t in ("null", "bool", "int", "float", "str", "timestamp"))
_SEQ, _MAP, _MERGE, _VALUE = (_TAG + t for t in ("seq", "map", "merge", "value"))
_SCALAR_TAGS = frozenset({_NULL, _BOOL, _INT, _FLOAT, _STR, _TIMESTAMP})

Path = tuple[Any, ...]
Position = tuple[int, int]  # 1-based (line, column)


# --------------------------------------------------------------------------- the YAML loader


class _LimitExceeded(Exception):
    """Raised from inside the composer when the document is too large or too deep."""

    def __init__(self, message: str, mark: yaml.Mark | None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _TooManyNodes(_LimitExceeded):
    """The document holds more values than MAX_NODES (counted as they are composed)."""


if TYPE_CHECKING:
    # The mixin below runs inside a loader that has a parser and a composer (a SafeLoader, or
    # libyaml's parser with PyYAML's composer); to a type checker it is one.
    _Loader = yaml.SafeLoader
else:
    _Loader = object


class _LimitedComposer(_Loader):
    """Composer mixin: counts alias uses and nesting depth, refusing the document past the limits."""

    alias_count = 0
    depth = 0
    node_count = 0

    def compose_node(self, parent: Node | None, index: int | Node) -> Node | None:
        """Compose one node, refusing the document once it uses too many aliases, nodes or levels.

        ``index`` is the item's position in a sequence, or the key's node for a mapping's value.
        """
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                raise _LimitExceeded(
                    f"too many YAML aliases: more than {MAX_ALIASES} uses of '*name'",
                    self.peek_event().start_mark,
                )
            # PyYAML's stubs type index as int, but its composer passes the key's node for a mapping value.
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        self.depth += 1
        self.node_count += 1
        try:
            if self.node_count > MAX_NODES:
                raise _TooManyNodes(
                    f"the document has more than {MAX_NODES} values; the limit is {MAX_NODES}",
                    self.peek_event().start_mark,
                )
            if self.depth > MAX_DEPTH:
                raise _LimitExceeded(
                    f"mappings and lists are nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,
                )
            # As above: the stubs' int is too narrow for a mapping value's key node.
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self.depth -= 1


class FundsimLoader(_LimitedComposer, yaml.SafeLoader):
    """A safe YAML loader that counts alias uses and nesting depth while composing.

    It also reads only ``true``/``false`` (any case style) as booleans, as YAML 1.2 does, so that
    an unquoted ``no``, ``on`` or ``y`` stays text (a locality called ``No`` is not ``False``);
    pydantic still accepts ``yes``/``no``/``on``/``off`` text for boolean fields.

    The composer is PyYAML's pure-Python one, hooked to count aliases *before* they are expanded
    (libyaml's own composer cannot be hooked). :class:`_LibyamlLoader` pairs the same composer with
    libyaml's parser; this class is the reference, and the one whose error messages are shown.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_count = 0
        self.depth = 0
        self.node_count = 0


FundsimLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
FundsimLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


#: :class:`_LibyamlLoader`, or None when PyYAML was built without libyaml.
_FastLoader: type[_LimitedComposer] | None

if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _LibyamlLoader(_LimitedComposer, Composer, CParser, SafeConstructor, Resolver):
        """:class:`FundsimLoader` with libyaml's C scanner and parser, several times faster.

        The same limits, resolvers and nodes. Only used for documents that parse; anything libyaml
        refuses is parsed again by :class:`FundsimLoader`, so messages do not depend on libyaml.
        """

        yaml_implicit_resolvers = FundsimLoader.yaml_implicit_resolvers

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.alias_count = 0
            self.depth = 0
            self.node_count = 0

    _FastLoader = _LibyamlLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = None


def _yaml_error(filename: str, exc: yaml.MarkedYAMLError) -> ScenarioError:
    """Turn a PyYAML syntax/composition error into a located problem."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.context == "expected a single document in the stream":
        return _located(
            filename, mark, "the file holds more than one YAML document ('---' starts another); it must hold one"
        )
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.problem and exc.context_mark is not None:
        cm = exc.context_mark
        message += f" ({exc.context} that starts at line {cm.line + 1}, column {cm.column + 1})"
    if "'\\t'" in problem:
        message += "; indent with spaces, not tabs"
    elif "<block" in problem:
        message += "; check the indentation"
    return _located(filename, mark, message)


def _located(filename: str, mark: yaml.Mark | None, message: str) -> ScenarioError:
    line, column = _position(mark) if mark is not None else (None, None)
    return ScenarioError.single(filename, message, line=line, column=column)


def _position(mark: yaml.Mark) -> Position:
    return mark.line + 1, mark.column + 1


def _position_of_index(text: str, index: int) -> Position:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def format_path(path: Sequence[Any]) -> str:
    """Format a field path as ``workforce.grades[1].fte``; keys that are not identifiers are quoted."""
    out = ""
    for segment in path:
        if isinstance(segment, int) and not isinstance(segment, bool):
            out += f"[{segment}]"
        elif isinstance(segment, str) and segment.isidentifier():
            out += f".{segment}" if out else segment
        else:
            out += f"[{segment!r}]"
    return out


def _short_repr(value: object, limit: int = 60) -> str:
    text = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
