"""Cheap invariants of every simulation's ledger, checked on every run (not only with ``--check``).

``--check`` verifies the model's state at the end of every simulated day, which costs time. The
numbers fundsim publishes come from the monthly ledger, so a few checks of the ledger itself run
after *every* simulation, whatever the options: one vectorised pass over a table of a few hundred
rows, microseconds beside the seconds a simulation takes. A failure is a bug in fundsim (or a
scenario that reaches a state the model should not allow) and stops the run with
:class:`~fundsim.sim.checks.InvariantError` before anything is written:

- every count, hour and cost is finite and not negative (wait statistics may be empty: NaN);
- the breakdowns add up: referrals by tier and by source to referrals, contacts and contact
  hours by tier to their totals, paid plus unpaid overtime to overtime;
- contacts are assessments plus visits delivered; urgent assessments within two days are no more
  than urgent assessments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundsim.sim.checks import InvariantError

#: Columns that may be negative (a difference of two counts) or empty (no assessments that month).
SIGNED = frozenset({"admissions_avoided"})
MAY_BE_EMPTY = frozenset({"wait_mean_days", "wait_p50_days", "wait_p90_days"})
#: Relative tolerance of sums of floating-point hours.
TOLERANCE = 1e-6


def _fail(what: str, ledger: pd.DataFrame, bad: np.ndarray) -> None:
    row = ledger.loc[bad].iloc[0]
    where = ", ".join(f"{k} {row[k]}" for k in ("replication", "locality", "month") if k in ledger.columns)
    raise InvariantError(f"ledger check failed ({where}): {what}")


def _equal(
    ledger: pd.DataFrame, values: np.ndarray, index: dict[str, int], total: str, parts: list[str], what: str
) -> int:
    if total not in index or not parts or any(p not in index for p in parts):
        return 0
    expected = values[:, [index[p] for p in parts]].sum(axis=1)
    actual = values[:, index[total]]
    bad = np.abs(actual - expected) > TOLERANCE * np.maximum(1.0, np.abs(actual))
    if bad.any():
        _fail(f"{what}: {total} is {actual[bad][0]:g} but its parts add up to {expected[bad][0]:g}", ledger, bad)
    return 1


def check_ledger(ledger: pd.DataFrame) -> int:
    """Check one simulation's ledger (see the module docstring); return the number of checks made."""
    numeric = [c for c in ledger.select_dtypes(include="number").columns if c not in ("replication", "contract_year")]
    values = ledger[numeric].to_numpy(dtype=float)
    empty_ok = np.array([c in MAY_BE_EMPTY for c in numeric])
    finite = np.isfinite(values) | (np.isnan(values) & empty_ok)
    if not finite.all():
        col = numeric[int(np.argwhere(~finite)[0][1])]
        _fail(f"{col} is not a finite number", ledger, ~finite.all(axis=1))
    signed = np.array([c in SIGNED for c in numeric])
    negative = (values < -TOLERANCE) & ~signed & ~np.isnan(values)
    if negative.any():
        col = numeric[int(np.argwhere(negative)[0][1])]
        _fail(
            f"{col} is negative ({values[negative][0]:g}): a count, hours or cost below zero",
            ledger,
            negative.any(axis=1),
        )
    index = {c: i for i, c in enumerate(numeric)}

    def parts(prefix: str) -> list[str]:
        return [c for c in numeric if c.startswith(prefix)]

    checks = 2
    for total, split, what in (
        ("referrals", parts("referrals_tier_"), "referrals by tier"),
        ("referrals", parts("referrals_from_"), "referrals by source"),
        ("contacts", parts("contacts_tier_"), "contacts by tier"),
        ("contact_hours", parts("contact_hours_tier_"), "contact hours by tier"),
        ("overtime_hours", ["paid_overtime_hours", "unpaid_overtime_hours"], "overtime"),
        ("contacts", ["assessments", "visits_delivered"], "contacts"),
    ):
        checks += _equal(ledger, values, index, total, split, what)
    if "urgent_assessed_within_2_days" in index and "urgent_assessments" in index:
        bad = values[:, index["urgent_assessed_within_2_days"]] > values[:, index["urgent_assessments"]] + TOLERANCE
        if bad.any():
            _fail("more urgent assessments within 2 days than urgent assessments", ledger, bad)
        checks += 1
    return checks
