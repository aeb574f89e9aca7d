"""The contract registry: every funding model fundsim knows, by name, in the order reports show them.

``fundsim/contracts/__init__.py`` registers the shipped contracts, one line each. Everything that
treats contracts differently (the scenario schema, scaling, the provider's pricing of one more
contact, report labels and colours) reads :data:`REGISTRY` when it needs it, so a contract
registered later, e.g. by a test with :func:`registered`, works end to end too.

Modules that build something from the registry once (the scenario schema builds its ``contracts:``
model) subscribe with :func:`on_change` and rebuild it when the registry changes. The registry
imports nothing but the contract base: it never calls upward except through those subscriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fundsim.contracts.base import ConfigT, ContractType

#: Every registered contract by name, in registration order (the order of scenario files and reports).
#: Each entry has its own config model, so the registry holds them as ``ContractType[Any]``.
REGISTRY: dict[str, ContractType[Any]] = {}

_listeners: list[Callable[[], None]] = []


def register(contract: ContractType[ConfigT]) -> ContractType[ConfigT]:
    """Add ``contract`` to the registry; its name must be new. Returns it (so it can decorate an assignment)."""
    if not isinstance(contract, ContractType):
        raise TypeError(f"register() takes a ContractType, got {type(contract).__name__}")
    if contract.name in REGISTRY:
        raise ValueError(f"a contract named {contract.name!r} is already registered")
    REGISTRY[contract.name] = contract
    _changed()
    return contract


def unregister(name: str) -> None:
    """Remove the contract ``name`` from the registry."""
    if name not in REGISTRY:
        raise KeyError(f"no contract named {name!r} is registered; registered: {list(REGISTRY)}")
    del REGISTRY[name]
    _changed()


@contextmanager
def registered(contract: ContractType[ConfigT]) -> Iterator[ContractType[ConfigT]]:
    """Register ``contract`` for the duration of a ``with`` block (tests, notebooks), then remove it."""
    register(contract)
    try:
        yield contract
    finally:
        unregister(contract.name)


def on_change(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener()`` after every change of the registry (usable as a decorator)."""
    _listeners.append(listener)
    return listener


def _changed() -> None:
    for listener in _listeners:
        listener()
