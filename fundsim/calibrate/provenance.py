"""Where a fitted value came from: the comment each value of a calibrated scenario carries, and shared constants.

A comment reads "fitted from FILE (n = …, 95% CI …); what" (counts pass the small-number rule) or
"assumption: …".
"""

from __future__ import annotations

import re

import numpy as np

from fundsim.calibrate.referral_model import Interval
from fundsim.calibrate.suppress import count_text
from fundsim.calibrate.writer import number
from fundsim.scenario.sizing import NATIONAL_COST_PER_CONTACT_GBP as PRICE_PER_CONTACT_GBP

#: Hourly cost by Agenda for Change band (assumption: the shipped scenarios' figures for bands 3, 5
#: and 6 — PSSRU for band 6 — and steps of about £7 an hour between bands for the others).
HOURLY_COST_GBP = {
    "band2": 22.0,
    "band3": 25.0,
    "band4": 29.0,
    "band5": 35.0,
    "band6": 43.0,
    "band7": 50.0,
    "band8a": 58.0,
    "band8b": 66.0,
}
#: Hourly cost of a grade whose band is not known (assumption: band 6).
DEFAULT_HOURLY_COST_GBP = 43.0
#: A grade making fewer than this share of a tier's visits is not counted as allowed for it.
MIN_GRADE_SHARE = 0.02
#: Months of history needed before seasonality is fitted (a whole year of it).
MIN_MONTHS_FOR_SEASON = 12
#: Months of history needed before growth is fitted: within one year a trend and a season are confounded.
MIN_MONTHS_FOR_GROWTH = 24
#: Follow-up days after discharge over which admissions are attributed (the scenario default).
FOLLOW_UP_DAYS = 60.0


def ci_text(x: Interval, digits: int = 3) -> str:
    """``95% CI low–high`` of an interval, rounded as the scenario's values are."""
    return f"95% CI {number(x.low, digits)}–{number(x.high, digits)}"


def fitted(file: str, n: float, x: Interval | None = None, what: str = "", digits: int = 3) -> str:
    """The provenance comment of a value fitted from ``file`` on ``n`` records (with its interval when known)."""
    ci = f", {ci_text(x, digits)}" if x is not None and np.isfinite(x.low) else ""
    extra = f"; {what}" if what else ""
    return f"fitted from {file} (n = {count_text(n)}{ci}){extra}"


def scenario_name(text: str) -> str:
    """A scenario name from a team or locality label (letters, digits, space, _ . -)."""
    cleaned = re.sub(r"[^A-Za-z0-9 _.\-]", "_", str(text)).strip()
    if not cleaned or not cleaned[0].isalnum():
        cleaned = "L" + cleaned
    return cleaned[:80]


__all__ = [
    "DEFAULT_HOURLY_COST_GBP",
    "FOLLOW_UP_DAYS",
    "HOURLY_COST_GBP",
    "MIN_GRADE_SHARE",
    "MIN_MONTHS_FOR_GROWTH",
    "MIN_MONTHS_FOR_SEASON",
    "PRICE_PER_CONTACT_GBP",
    "ci_text",
    "fitted",
    "scenario_name",
]
