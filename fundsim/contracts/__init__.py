"""Funding models. Each is one module with a config model and a pure payment function.

To add a contract: write ``fundsim/contracts/<name>.py`` defining ``CONTRACT`` and add one line
to :data:`REGISTRY`. The scenario schema picks it up from here.
"""

from __future__ import annotations

from fundsim.contracts import block
from fundsim.contracts.base import ContractConfig, ContractContext, ContractType

REGISTRY: dict[str, ContractType] = {
    block.CONTRACT.name: block.CONTRACT,
}

__all__ = ["REGISTRY", "ContractConfig", "ContractContext", "ContractType"]
