"""Funding models. Each is one module with a config model and a pure payment function.

To add a contract: write ``fundsim/contracts/<name>.py`` defining ``CONTRACT`` and add one line
to :data:`REGISTRY`. The scenario schema picks it up from here.
"""

from __future__ import annotations

from fundsim.contracts import blended, block, capitation, cost_and_volume, outcomes
from fundsim.contracts.base import ContractConfig, ContractContext, ContractType

REGISTRY: dict[str, ContractType] = {
    block.CONTRACT.name: block.CONTRACT,
    cost_and_volume.CONTRACT.name: cost_and_volume.CONTRACT,
    capitation.CONTRACT.name: capitation.CONTRACT,
    outcomes.CONTRACT.name: outcomes.CONTRACT,
    blended.CONTRACT.name: blended.CONTRACT,
}

__all__ = ["REGISTRY", "ContractConfig", "ContractContext", "ContractType"]
