"""Funding models. Each is one module with a config model, a pure payment function and a ``CONTRACT``.

To add a contract: write ``fundsim/contracts/<name>.py`` defining ``CONTRACT`` (a
:class:`~fundsim.contracts.base.ContractType`) and add one ``register`` line below. The scenario
schema, scaling, the provider's pricing and the report pick it up from the registry
(``docs/contracts.md``, "Adding a contract").
"""

from __future__ import annotations

from fundsim.contracts import (
    aligned_payment,
    blended,
    block,
    block_rebased,
    capitation,
    cost_and_volume,
    low_volume_block,
    outcomes,
    year_of_care,
)
from fundsim.contracts.base import ContractConfig, ContractContext, ContractType
from fundsim.contracts.registry import REGISTRY, on_change, register, registered, unregister

register(block.CONTRACT)
register(block_rebased.CONTRACT)
register(cost_and_volume.CONTRACT)
register(capitation.CONTRACT)
register(outcomes.CONTRACT)
register(blended.CONTRACT)
register(aligned_payment.CONTRACT)
register(low_volume_block.CONTRACT)
register(year_of_care.CONTRACT)

__all__ = [
    "REGISTRY",
    "ContractConfig",
    "ContractContext",
    "ContractType",
    "on_change",
    "register",
    "registered",
    "unregister",
]
