"""The sweep file: a base scenario, parameters to vary, a design, and the outputs to analyse.

```yaml
name: example-sensitivity
base: ../example.yaml              # the scenario every point starts from (relative to this file)
design: lhs                        # grid | lhs | sobol | morris
points: 64                         # lhs: points; grid: levels per parameter (both ends included);
                                   # sobol: base samples N (N x (D + 2) points);
                                   # morris: trajectories (r x (D + 1) points)
replications: 2
seed: 2026                         # seed of the design (the simulations use the scenario's seed)
contracts: [block, cost_and_volume]

Parameters
----------
  - path: demand.growth_per_year
    uniform: [0.0, 0.08]
  - path: workforce.grades[0].fte
    triangular: [20, 24, 30]       # low, mode, high
  - path: contracts.block.annual_value_gbp
    levels: [16.7e6, 18e6, 19.3e6]  # grid only: exactly these levels
outputs:
  - measure: absorbed_gbp_per_year
    contract: block
  - measure: commissioner_spend_gbp_per_year
    contract: cost_and_volume
    minus: block                   # the paired difference between two contracts
```

"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fundsim.experiment.runner import MEASURES

Design = Literal["grid", "lhs", "sobol", "morris"]
#: How a grid places its levels on a range (see :func:`fundsim.sweep.design.grid_levels`).
GridPlacement = Literal["endpoints", "midpoints"]
#: The distributions a parameter may give, in the order :attr:`Parameter.kind` reports them.
_KINDS = ("uniform", "range", "triangular", "normal", "lognormal", "values", "levels")

#: Most points a design may have (a Sobol or Morris design grows with the number of parameters).
MAX_DESIGN_POINTS = 1_000_000
#: Most values (points × parameters) a design table may hold: 160 MB of numbers.
MAX_DESIGN_CELLS = 20_000_000

#: The headline measures a sweep can analyse (per replication, see ``fundsim.experiment.runner``).
MEASURE_NAMES = tuple(col for col, _, _ in MEASURES)

Finite = Annotated[float, Field(allow_inf_nan=False)]
#: A dotted path into the scenario, with list indices: ``workforce.grades[0].fte``.
DottedPath = Annotated[
    str,
    Field(
        min_length=1, max_length=300, pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$"
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Model):
    """One parameter to vary: where it is in the scenario, and its range or distribution.

    Exactly one of ``uniform`` (low, high), ``range`` (the same as uniform), ``triangular``
    (low, mode, high), ``normal`` (mean, sd), ``lognormal`` (median, sigma of the log) or
    ``values`` (a discrete list, equally likely) is given; or, in a grid design only, ``levels``
    (exactly the levels to run, in order).
    """

    path: DottedPath
    uniform: tuple[Finite, Finite] | None = None
    range: tuple[Finite, Finite] | None = None
    triangular: tuple[Finite, Finite, Finite] | None = None
    normal: tuple[Finite, Annotated[float, Field(gt=0, allow_inf_nan=False)]] | None = None
    lognormal: (
        tuple[Annotated[float, Field(gt=0, allow_inf_nan=False)], Annotated[float, Field(gt=0, allow_inf_nan=False)]]
        | None
    ) = None
    values: list[Finite | int | str | bool] | None = Field(None, min_length=1, max_length=1000)
    levels: list[Finite | int | str | bool] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="Grid designs only: exactly these levels, in this order (no distribution, no placement rule).",
    )

    @model_validator(mode="after")
    def _one_distribution(self) -> Parameter:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of uniform, range, triangular, normal, lognormal, values or (grid only) levels"
                + (f"; got {given}" if given else "")
            )
        if self.levels is not None and len({repr(v) for v in self.levels}) != len(self.levels):
            raise ValueError(f"levels repeat a value: {self.levels}")
        lo_hi = self.uniform or self.range
        if lo_hi is not None and not lo_hi[0] < lo_hi[1]:
            raise ValueError(f"empty range: low {lo_hi[0]} must be below high {lo_hi[1]}")
        if self.triangular is not None:
            low, mode, high = self.triangular
            if not (low <= mode <= high and low < high):
                raise ValueError(f"triangular needs low <= mode <= high and low < high, got {list(self.triangular)}")
        return self

    @property
    def kind(self) -> str:
        """The distribution's name (``range`` is reported as ``uniform``)."""
        for k in _KINDS:
            if getattr(self, k) is not None:
                return "uniform" if k == "range" else k
        raise AssertionError("validated parameters have a distribution")

    @property
    def bounded(self) -> bool:
        """Whether the distribution has two finite ends (a grid can then include them)."""
        return self.normal is None and self.lognormal is None

    def grid_count(self, points: int, placement: str = "endpoints") -> int:
        """How many levels this parameter has in a grid of ``points`` levels per parameter.

        Explicit ``levels`` give each entry once; so does a discrete ``values`` list when the grid
        includes its ends (under ``midpoints`` it takes ``points`` cell midpoints, as it always did).
        """
        if self.levels is not None:
            return len(self.levels)
        if self.values is not None and placement == "endpoints":
            return len(self.values)
        return points


class Output(_Model):
    """An output to analyse: a headline measure under a contract, or the difference between two."""

    measure: str
    contract: str
    minus: str | None = Field(None, description="Subtract this contract's value (paired by replication).")

    @model_validator(mode="after")
    def _known_measure(self) -> Output:
        if self.measure not in MEASURE_NAMES:
            raise ValueError(f"unknown measure {self.measure!r}; known: {', '.join(MEASURE_NAMES)}")
        return self

    @property
    def label(self) -> str:
        """A column name for this output: ``absorbed_gbp_per_year[block]``."""
        if self.minus:
            return f"{self.measure}[{self.contract}-{self.minus}]"
        return f"{self.measure}[{self.contract}]"


class SweepSpec(_Model):
    """A whole sweep file."""

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    description: str = Field("", max_length=10_000)
    base: str = Field(min_length=1, max_length=1000, description="Base scenario file, relative to the sweep file.")
    design: Design = Field(description="grid, lhs (Latin hypercube), sobol (Saltelli) or morris (trajectories).")
    points: int = Field(
        ge=1,
        le=100_000,
        description=(
            "lhs: points; grid: levels of each parameter given as a range, placed by `grid_placement` "
            "(both ends included by default); sobol: base samples N, a power of 2 (N × (D + 2) points); "
            "morris: trajectories r (r × (D + 1) points)."
        ),
    )
    replications: int = Field(1, ge=1, le=1000)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    contracts: list[str] | None = Field(None, min_length=1, description="Default: every contract in the base.")
    morris_levels: int = Field(4, ge=2, le=20, description="Grid levels of the Morris design.")
    grid_placement: GridPlacement = Field(
        "endpoints",
        description=(
            "Grid designs: where the `points` levels of a bounded range go. `endpoints` (the default): evenly "
            "spaced quantiles from the lowest to the highest, both included (uniform [0, 0.09] with 3 levels: 0, "
            "0.045, 0.09); `midpoints`: the centres of `points` equal cells (0.015, 0.045, 0.075; the placement "
            "of earlier fundsim versions, kept to reproduce their sweeps). Unbounded distributions (normal, "
            "lognormal) always use midpoints; `levels:` and `values:` give their entries exactly."
        ),
    )
    parameters: list[Parameter] = Field(min_length=1, max_length=100)
    outputs: list[Output] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        paths = [p.path for p in self.parameters]
        dupes = sorted({p for p in paths if paths.count(p) > 1})
        if dupes:
            raise ValueError(f"parameters vary the same path twice: {dupes}")
        if self.design == "sobol" and self.points & (self.points - 1):
            raise ValueError(f"a sobol design needs points (base samples N) to be a power of 2, got {self.points}")
        if self.design == "sobol" and self.points < 2:
            raise ValueError("a sobol design needs at least 2 base samples")
        if self.design != "grid":
            fixed = [p.path for p in self.parameters if p.levels is not None]
            if fixed:
                raise ValueError(
                    f"`levels:` is for grid designs only (given for {', '.join(fixed)}); a {self.design} design "
                    "samples each parameter from a distribution: give uniform, triangular, … or values"
                )
        if self.design == "grid" and self.points < 2:
            raise ValueError("a grid design needs at least 2 levels per parameter (points)")
        if self.design == "grid" and self.design_points > 100_000:
            counts = " × ".join(str(p.grid_count(self.points, self.grid_placement)) for p in self.parameters)
            raise ValueError(
                f"a grid of {counts} levels over {len(self.parameters)} parameters is "
                f"{self.design_points:,} points; the limit is 100,000 (use lhs)"
            )
        if self.design == "morris" and len(self.parameters) < 2:
            raise ValueError("a morris design needs at least 2 parameters")
        if self.design_points > MAX_DESIGN_POINTS or self.design_points * len(self.parameters) > MAX_DESIGN_CELLS:
            raise ValueError(
                f"a {self.design} design of {self.points:,} over {len(self.parameters)} parameters is "
                f"{self.design_points:,} points; the limit is {MAX_DESIGN_POINTS:,} points and "
                f"{MAX_DESIGN_CELLS:,} values (its table alone would need "
                f"about {self.design_points * len(self.parameters) * 8 / 1e9:,.1f} GB before a single run)"
            )
        return self

    @property
    def design_points(self) -> int:
        """How many points the design has: N × (D + 2) for sobol, r × (D + 1) for morris."""
        d = len(self.parameters)
        if self.design == "sobol":
            return self.points * (d + 2)
        if self.design == "morris":
            return self.points * (d + 1)
        if self.design == "grid":
            return math.prod(p.grid_count(self.points, self.grid_placement) for p in self.parameters)
        return self.points

    def base_path(self, sweep_file: Path) -> Path:
        """The base scenario's path, resolved against the sweep file's folder."""
        base = Path(self.base)
        return base if base.is_absolute() else (sweep_file.parent / base)
