"""Seeded back test (a regression test, not a validation): the example's headline measures are
pinned. If a change is meant to move them, regenerate with ``python tests/golden/make_golden.py``
and explain the move in the commit."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

GOLDEN = Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))

from make_golden import example_summary  # noqa: E402


def test_example_summary_is_pinned() -> None:
    expected = pd.read_csv(GOLDEN / "example_per_replication.csv")
    actual = example_summary().reset_index(drop=True)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, rtol=1e-8, atol=1e-6)
