"""The ``fundsim`` command line: click commands over the public API (``fundsim.api``, ``fundsim.report``).

Each command parses its arguments, calls the API and prints; nothing here computes a result. The
commands live by what they act on (``simulate``: run and compare; ``scenario_cmds``: validate,
schema, advise, expected-rates; ``reports``; ``sweeps``; calibration in ``fundsim.calibrate``) and
join the group here. Exit statuses and the one error handler are in ``fundsim.exits``.
"""

from __future__ import annotations

import click

from fundsim.calibrate.commands import calibrate as calibrate_command
from fundsim.calibrate.commands import synth_extract
from fundsim.cli import reports, scenario_cmds, simulate, sweeps
from fundsim.exits import EXIT_BUG, EXIT_USAGE, FundsimGroup
from fundsim.version import __version__

__all__ = ["EXIT_BUG", "EXIT_USAGE", "main"]


@click.group(cls=FundsimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fundsim")
def main() -> None:
    """fundsim: simulate a community nursing service under different funding contracts."""


for _command in (
    scenario_cmds.validate,
    scenario_cmds.schema,
    simulate.run,
    simulate.compare,
    reports.report,
    scenario_cmds.advise,
    scenario_cmds.expected_rates,
    sweeps.sweep,
    sweeps.analyse,
    calibrate_command,
    synth_extract,
):
    main.add_command(_command)
