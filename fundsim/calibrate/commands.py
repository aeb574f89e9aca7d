"""The ``fundsim calibrate`` and ``fundsim synth-extract`` commands (on the ``main`` group of ``fundsim.cli``).

Thin, as every fundsim command: parse, call :mod:`fundsim.calibrate`, print. Problems with the
extract are warnings on standard error naming file, line and column (never a value from the file);
``--strict`` makes them errors (exit status 2, through :class:`fundsim.exits.FundsimGroup`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from fundsim.exits import say
from fundsim.safeio import printable

if TYPE_CHECKING:  # the calibration code is imported only when a command runs (fast CLI start-up)
    from fundsim.calibrate.read import Extract

#: Problems printed one by one before the rest are only counted.
SHOWN_PROBLEMS = 20


@click.command()
@click.argument("extract_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_file", type=click.Path(path_type=Path), required=True, help="Scenario YAML to write.")
@click.option("-m", "--mapping", "mapping_file", type=click.Path(path_type=Path), help="YAML mapping of local names.")
@click.option("--tiers", "n_tiers", type=click.IntRange(1, 8), default=3, show_default=True, help="Complexity tiers.")
@click.option("--name", help="Scenario name [default: the output file's stem].")
@click.option("--strict", is_flag=True, help="Stop at the first bad row instead of leaving bad rows out.")
@click.option("--check", "run_check", is_flag=True, help="Also simulate the fit and compare on held-out months.")
@click.option(
    "--holdout-months", type=click.IntRange(1, 60), default=6, show_default=True, help="Months held out by --check."
)
@click.option(
    "-r",
    "--replications",
    type=click.IntRange(2, 1000),
    default=39,  # check.DEFAULT_REPLICATIONS: the extremes of 39 are a 95% predictive interval
    show_default=True,
    help="Simulations in --check.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
def calibrate(
    extract_dir: Path,
    out_file: Path,
    mapping_file: Path | None,
    n_tiers: int,
    name: str | None,
    strict: bool,
    run_check: bool,
    holdout_months: int,
    replications: int,
    overwrite: bool,
) -> None:
    """Fit a scenario to the CSDS-shaped extract in EXTRACT_DIR and write it, commented, to --out."""
    from fundsim.calibrate.api import calibrate as run_calibrate
    from fundsim.calibrate.api import companion, strict_check
    from fundsim.calibrate.read import read_extract
    from fundsim.calibrate.schema import load_mapping
    from fundsim.errors import FundsimError

    if out_file.exists() and not overwrite:
        raise FundsimError(f"{printable(out_file)} exists; pass --overwrite to replace it")
    mapping = load_mapping(mapping_file)
    extract = read_extract(extract_dir, mapping)
    if strict:
        strict_check(extract)
    _print_problems(extract)
    result = run_calibrate(extract_dir, out_file, mapping=mapping, n_tiers=n_tiers, name=name)
    summary = result.calibration.summary
    say(
        f"Wrote {printable(out_file)} ({summary['months_fitted']} months, "
        f"{summary['referrals_fitted'] or '*'} referrals, "
        f"{summary['episodes_fitted'] or '*'} episodes, {n_tiers} tiers) and "
        + ", ".join(printable(p.name) for p in result.files[1:]),
        err=False,
    )
    if run_check:
        from fundsim.calibrate.check import check_fit

        out_dir = companion(out_file, "-check")
        checked = check_fit(
            extract,
            out_dir,
            holdout_months=holdout_months,
            replications=replications,
            n_tiers=n_tiers,
            overwrite=overwrite,
        )
        say(
            f"Check ({holdout_months} months held out, {replications} replications): held-out months inside the "
            "simulation's predictive interval, against the share expected if the model were right:",
            err=False,
        )
        for row in checked.coverage.itertuples():
            say(
                f"  {row.label}: {row.months_within} of {row.months_compared} "
                f"({row.share_within:.0%}, 95% CI {row.share_ci_low:.0%}-{row.share_ci_high:.0%}; "
                f"expected {row.share_expected:.0%}; {row.months_above} above, {row.months_below} below)",
                err=False,
            )
        say(f"Wrote {printable(out_dir)}/ (check.html, check.xlsx, check.csv, coverage.csv, figures)", err=False)


def _print_problems(extract: Extract) -> None:
    problems = extract.problems
    for problem in problems[:SHOWN_PROBLEMS]:
        say(f"warning: {problem}")
    if len(problems) > SHOWN_PROBLEMS:
        say(f"warning: … and {len(problems) - SHOWN_PROBLEMS} more kinds of problem (see the .problems.csv file)")
    for table in extract.tables.values():
        if table.rows_unusable:
            say(
                f"note: {printable(table.file)}: {table.rows_unusable:,} of {table.rows_read:,} rows "
                "left out of the fit"
            )


@click.command("synth-extract")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder to write.")
@click.option("--months", type=click.IntRange(1, 240), default=24, show_default=True, help="Months of activity.")
@click.option("-s", "--seed", type=click.IntRange(0, 2**63 - 1), default=20251, show_default=True, help="Seed.")
@click.option("--gzip", "compress", is_flag=True, help="Write .csv.gz files.")
@click.option("--overwrite", is_flag=True, help="Write into an existing folder.")
def synth_extract(scenario_file: Path, out_dir: Path, months: int, seed: int, compress: bool, overwrite: bool) -> None:
    """Write a synthetic CSDS-shaped extract drawn from SCENARIO_FILE (data anyone may share)."""
    from fundsim.calibrate.synth import SynthOptions, generate_extract, write_extract
    from fundsim.errors import FundsimError
    from fundsim.scenario import load_scenario

    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise FundsimError(f"{printable(out_dir)} exists and is not empty; pass --overwrite to write into it")
    scenario = load_scenario(scenario_file)
    tables = generate_extract(scenario, SynthOptions(months=months, seed=seed))
    paths = write_extract(tables, out_dir, compress=compress)
    say(
        f"Wrote {printable(out_dir)}/ ({', '.join(p.name for p in paths)}): {len(tables['referrals']):,} referrals, "
        f"{len(tables['contacts']):,} contacts over {months} months from '{scenario.name}' (synthetic)",
        err=False,
    )
