"""Replications, confidence intervals and result storage."""

from fundsim.experiment.runner import Results, run_replications

__all__ = ["Results", "run_replications"]
