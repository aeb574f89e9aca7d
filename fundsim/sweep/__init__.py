"""Batch sensitivity sweeps: designs, executors, a resumable store and the analysis."""
