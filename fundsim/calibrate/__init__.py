"""Calibrate a scenario from a provider's CSDS-shaped activity extract, and check it on held-out months.

::

    from fundsim.calibrate import calibrate, read_extract, generate_extract
    result = calibrate("data/example-extract", "scenarios/mine.yaml")

See docs/calibrate.md for the extract's tables, the mapping file, every fitting method and the
small-number rule applied to every output.
"""

from fundsim.calibrate.api import CalibrationOutput, calibrate
from fundsim.calibrate.read import Extract, read_extract
from fundsim.calibrate.schema import Mapping, load_mapping
from fundsim.calibrate.synth import SynthOptions, generate_extract, write_extract

__all__ = [
    "CalibrationOutput",
    "Extract",
    "Mapping",
    "SynthOptions",
    "calibrate",
    "generate_extract",
    "load_mapping",
    "read_extract",
    "write_extract",
]
