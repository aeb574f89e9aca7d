"""Small-number suppression: the rule every count fundsim writes from an extract goes through.

The rule is NHS Digital's disclosure control for secondary-care statistics below national level
(Hospital Episode Statistics and the Emergency Care Data Set from September 2018, since adopted for
other NHS Digital data sets; docs/calibrate.md cites it):

* a count of 0 is shown as 0;
* a count from 1 to 7 is suppressed (shown as ``*``; ``None`` in numeric tables);
* every other count is rounded to the nearest 5;
* a mean, share or rate computed from 1 to 7 individuals is not computed; from 8 or more it is shown.

Fitted quantities (rates, means, intervals) are "complex calculations" under the same rule and need
no control once based on 8 or more individuals; below that fundsim does not fit them and writes an
assumption instead.
"""

from __future__ import annotations

import math

#: Counts from 1 to this are suppressed.
SUPPRESS_MAX = 7
#: Other counts are rounded to a multiple of this.
ROUND_TO = 5
#: Fewest individuals a mean, share or fitted value may rest on.
MIN_INDIVIDUALS = SUPPRESS_MAX + 1
#: The text shown instead of a suppressed count.
SUPPRESSED = "*"


def suppress_count(n: float | None) -> int | None:
    """``n`` after suppression: None for 1–7 (and for a missing value), otherwise rounded to the nearest 5."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return None
    n = float(n)
    if n == 0:
        return 0
    if n <= SUPPRESS_MAX:
        return None
    return int(ROUND_TO * math.floor(n / ROUND_TO + 0.5))


def count_text(n: float | None) -> str:
    """``n`` as text for comments and messages: ``*`` when suppressed, else the rounded count with commas."""
    value = suppress_count(n)
    return SUPPRESSED if value is None else f"{value:,}"


def enough(n: float) -> bool:
    """Whether ``n`` individuals are enough to show a mean, share or fitted value."""
    return n >= MIN_INDIVIDUALS
