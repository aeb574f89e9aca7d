"""Rebased block: the block contract whose annual value is re-agreed each contract year.

The same config (:class:`~fundsim.contracts.block.BlockContract`) and the same payment rule
(:func:`fundsim.contracts.block.pay`) as ``block``, registered under its own name so that one
scenario can carry a block rolled forward (``contracts.block`` with ``rebasing.rule: none``, today's
block) *and* a block rebased on outturn or need (``contracts.block_rebased``) and ``fundsim compare``
can set them side by side with common random numbers. Its ``rebasing`` section is required and its
rule must not be ``none``: a "rebased" block that is never rebased would be the block contract under
another name, so it is refused with a located error rather than silently equal to it.

Income per month = V_y / 12, with V_y the year's value under the rebasing rule
(:mod:`fundsim.contracts.rebasing`); the contracted (and funded) activity moves with the value at
the block's implied unit price.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from fundsim.contracts import block
from fundsim.contracts.base import ContractContext, ContractType
from fundsim.contracts.rebasing import Rebasing, check_rebasing


class RebasedBlockContract(block.BlockContract):
    """A block contract whose annual value is rebased each year (``rebasing.rule`` outturn or needs)."""

    rebasing: Rebasing = Field(
        description=(
            "How the annual value is re-agreed each contract year: rule outturn or needs (required; "
            "rule none is the block contract and is refused here)."
        ),
    )

    @model_validator(mode="after")
    def _rebased(self) -> RebasedBlockContract:
        if self.rebasing.rule == "none":
            raise ValueError(
                "block_rebased needs rebasing.rule outturn or needs; a block rolled forward without "
                "rebasing (rule none) is the block contract: configure it under contracts.block"
            )
        return self


def _check(config: RebasedBlockContract, context: ContractContext, where: str) -> None:
    check_rebasing(config.rebasing, context, where)


CONTRACT = ContractType(
    name="block_rebased",
    config=RebasedBlockContract,
    pay=block.pay,
    reads_column_tables=True,
    summary="fixed annual sum, re-agreed each year on outturn activity or need (rebasing)",
    label="block, rebased",
    colour="#88CCEE",
    scaled_fields=("annual_value_gbp", "contracted_activity_per_year"),
    planned_activity_field="contracted_activity_per_year",
    # Income does not move with this year's activity (a rebased value reads only completed years).
    check=_check,
)
