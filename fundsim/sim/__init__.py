"""The discrete-event model of a community nursing service."""

from fundsim.sim.engine import RunResult, simulate

__all__ = ["RunResult", "simulate"]
