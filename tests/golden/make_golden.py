"""Regenerate the seeded back-test table of the example scenario.

Run only when a change is *meant* to move the numbers, and say why in the commit:
    python tests/golden/make_golden.py
"""

from __future__ import annotations

from pathlib import Path

import fundsim

HERE = Path(__file__).resolve().parent
REPLICATIONS = 2


def example_summary():
    """The example's per-replication headline measures (seed from the scenario)."""
    scenario = fundsim.load_scenario(HERE.parents[1] / "scenarios" / "example.yaml")
    return fundsim.run_scenario(scenario, REPLICATIONS).per_replication


if __name__ == "__main__":
    example_summary().to_csv(HERE / "example_per_replication.csv", index=False, float_format="%.10g")
    print(f"wrote {HERE / 'example_per_replication.csv'}")
