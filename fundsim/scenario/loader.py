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

import datetime as dt
import difflib
import hashlib
import math
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import Reader, ReaderError
from yaml.resolver import Resolver

from fundsim.errors import Problem, ScenarioError
from fundsim.safeio import NotAFileError, is_stdin, open_regular, printable, read_stdin, sha256_of
from fundsim.scenario.models import Scenario

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

M = TypeVar("M", bound=BaseModel)

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


def scenario_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file's bytes, to record exactly which scenario a result came from.

    For a file this process has loaded, it is the hash of the bytes that were read and validated
    (standard input is read once, and a file may change while a long run goes on), not of what
    the file holds now.
    """
    filename = os.fspath(path)
    known = _DIGESTS.get(_digest_key(filename))
    if known is not None:
        return known
    try:
        return sha256_of(filename)
    except NotAFileError as exc:
        raise ScenarioError.single(printable(filename), str(exc)) from None
    except OSError as exc:
        raise ScenarioError.single(printable(filename), _os_error_message(exc)) from None


#: SHA-256 of the bytes of each input file read by this process (see :func:`scenario_sha256`).
_DIGESTS: dict[str, str] = {}


def _digest_key(filename: str) -> str:
    return "<stdin>" if is_stdin(filename) else os.path.abspath(filename)


def read_source(path: str | os.PathLike[str]) -> bytes:
    """The bytes of an input file, read once: at most MAX_FILE_BYTES, from a regular file or standard input.

    A FIFO, a device, a socket or a folder is refused before anything is read (a named pipe would
    block forever; ``/dev/zero`` never ends); ``-``, ``/dev/stdin`` and a pipe that is this
    process's standard input are read once. The SHA-256 of the bytes is remembered for
    :func:`scenario_sha256`. Raises :class:`~fundsim.errors.ScenarioError`.
    """
    filename = os.fspath(path)
    shown = printable(filename)
    try:
        if is_stdin(filename):
            data = read_stdin(MAX_FILE_BYTES)
        else:
            fd = open_regular(filename)
            with os.fdopen(fd, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > MAX_FILE_BYTES:
                    raise ScenarioError.single(
                        shown, f"the file is {_megabytes(size)}; the limit is {_megabytes(MAX_FILE_BYTES)}"
                    )
                # Read one byte more than allowed: a file being written may grow after fstat.
                data = handle.read(MAX_FILE_BYTES + 1)
    except NotAFileError as exc:
        message = str(exc)
        if message.startswith("is a folder"):
            message = "is a directory, not a file"
        elif "standard input" not in message:
            message += "; fundsim reads scenario and sweep files only (give - to read standard input)"
        raise ScenarioError.single(shown, message) from None
    except OSError as exc:
        raise ScenarioError.single(shown, _os_error_message(exc)) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError.single(shown, f"the file is larger than the limit of {_megabytes(MAX_FILE_BYTES)}")
    _DIGESTS[_digest_key(filename)] = hashlib.sha256(data).hexdigest()
    return data


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


# --------------------------------------------------------------------------- step 1: bytes -> text


def _read_text(filename: str) -> str:
    """Read an input file once (:func:`read_source`) and decode it (:func:`decode_source`)."""
    return decode_source(read_source(filename), printable(filename))


def decode_source(data: bytes, filename: str) -> str:
    """Decode an input file's bytes as UTF-8 (a leading BOM is allowed); a located error if they are not."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(filename, data, exc) from None
    return text.removeprefix("\ufeff")


def _decode_error(filename: str, data: bytes, exc: UnicodeDecodeError) -> ScenarioError:
    offset = exc.start
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    # Everything before the bad byte decoded, so the column can be counted in characters.
    column = len(data[line_start:offset].decode("utf-8")) + 1
    message = f"the file is not valid UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} cannot be decoded"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        message += " (it looks like UTF-16; save it as UTF-8)"
    else:
        message += "; save the file as UTF-8"
    return ScenarioError.single(filename, message, line=line, column=column)


def _os_error_message(exc: OSError) -> str:
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "cannot read the file: permission denied"
    return f"cannot read the file: {exc.strerror or exc}"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --------------------------------------------------------------------------- steps 2-4: text -> data


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


def _short_repr(value: object, limit: int = 60) -> str:
    text = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _sorted_unique(problems: list[Problem]) -> list[Problem]:
    """Problems in file order (unlocated ones last), each reported once."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line is None, p.line or 0, p.column or 0))
