"""The add-ons' effect: the same service with and without them, under each staffing choice (issue 17).

Three runs of each replication, with the same seed (common random numbers): **without** the
add-ons (``addons`` removed), **as configured**, and with the **other staffing** choice (every
add-on's ``staffing`` flipped, shared ↔ dedicated). The core's referrals, care plans and
deterioration draws are the same in all three, and so are the add-on's calls, so every difference
is paired by replication and its confidence interval is a Student-t interval of the paired
differences.

The headline, **net admissions avoided** a year, is

    (total admissions without the add-ons) − (total admissions with them)
  = admissions the add-ons avoid − extra admissions in the core caseload they cause,

where the add-ons' own avoided admissions are counted on the same people (an urgent response's
callers: ``ucr_admissions_without − ucr_admissions``; a virtual ward's:
``vw_admissions_avoided_direct``) and the extra core admissions are the core ledger's
``admissions`` with the add-ons minus without. The identity holds exactly, replication by
replication, because both sides are built from the same counts.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from fundsim.columns import mean_wait, provider_totals
from fundsim.experiment.addon_lines import configured_addons
from fundsim.experiment.executor import SimTask, run_tasks
from fundsim.experiment.stats import mean_ci
from fundsim.scenario.models import Scenario
from fundsim.sim import RunResult

DAYS_PER_YEAR = 365.25

#: The three variants, in reading order.
WITHOUT, CONFIGURED, OTHER = "without", "configured", "other"
VARIANTS = (WITHOUT, CONFIGURED, OTHER)

#: The effect table's measures: (column of the per-replication table, unit, kind). ``paired``: the
#: difference with − without (CI of the paired differences); ``effect``: a count computed from both
#: runs (net, avoided, extra); ``level``: a level of the run with the add-ons (its CI over replications).
EFFECT_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("net_admissions_avoided_per_year", "per year", "effect"),
    ("addon_admissions_avoided_per_year", "per year", "effect"),
    ("extra_core_admissions_per_year", "per year", "effect"),
    ("total_admissions_per_year", "per year", "paired"),
    ("core_admissions_per_year", "per year", "paired"),
    ("wait_mean_days", "days", "paired"),
    ("visits_missed_per_year", "per year", "paired"),
    ("visit_deferrals_per_year", "per year", "paired"),
    ("contacts_per_year", "per year", "paired"),
    ("ucr_calls_per_year", "per year", "level"),
    ("ucr_reached_share", "share", "level"),
    ("vw_occupancy_share", "share", "level"),
    ("vw_bed_days_saved_per_year", "bed-days per year", "level"),
    ("addon_cost_gbp_per_year", "GBP per year", "level"),
)


def _flip(staffing: str) -> str:
    return "dedicated" if staffing == "shared" else "shared"


def effect_scenarios(scenario: Scenario) -> dict[str, Scenario]:
    """The scenario without its add-ons, as configured, and with every add-on's staffing flipped."""
    addons = scenario.addons
    if addons is None:
        raise ValueError(f"scenario {scenario.name!r} has no add-on services to measure")
    flipped: dict[str, object] = {}
    for name, spec, _ in configured_addons(scenario):
        staffing = getattr(spec, "staffing", None)
        if staffing in ("shared", "dedicated"):
            flipped[name] = spec.model_copy(update={"staffing": _flip(staffing)})  # type: ignore[attr-defined]
    return {
        WITHOUT: scenario.model_copy(update={"addons": None}),
        CONFIGURED: scenario,
        OTHER: scenario.model_copy(update={"addons": addons.model_copy(update=flipped)}),
    }


def staffing_label(scenario: Scenario) -> str:
    """The add-ons' staffing: ``shared`` or ``dedicated``, or each add-on's (``urgent response shared, …``)."""
    staffing = {name: str(getattr(spec, "staffing", "dedicated")) for name, spec, _ in configured_addons(scenario)}
    if len(set(staffing.values())) == 1:
        return next(iter(staffing.values()))
    return ", ".join(f"{name.replace('_', ' ')} {choice}" for name, choice in staffing.items())


def _sum(tot: pd.Series, column: str) -> float:
    """A ledger total, 0 when the column is absent (an add-on the run does not have)."""
    return float(tot[column]) if column in tot.index else 0.0


def run_measures(ledger: pd.DataFrame) -> dict[str, float]:
    """Totals of one replication's ledger that the effect needs, per year (add-on columns read by name)."""
    months = provider_totals(ledger)
    years = float(months["days"].sum()) / DAYS_PER_YEAR
    tot = months.sum(numeric_only=True)
    calls = _sum(tot, "ucr_calls")
    places = _sum(tot, "vw_places_days")
    ward = "vw_places_days" in tot.index  # a virtual ward's measures are NaN (left out) without one
    core = float(tot["admissions"])
    # A virtual ward's step-ups from the caseload are core patients: their admissions (from the ward)
    # are in the core's ``admissions``, and those it avoids are missing from it. GP step-ups are not.
    # Without the split columns, every step-up is taken as from outside the core.
    ward_avoided = _sum(tot, "vw_admissions_avoided_direct")
    ward_avoided_outside = _sum(tot, "vw_admissions_avoided_gp") if "vw_admissions_avoided_gp" in tot else ward_avoided
    ward_admitted = _sum(tot, "vw_admissions_from_ward")
    ward_admitted_outside = (
        _sum(tot, "vw_admissions_from_ward_gp") if "vw_admissions_from_ward_gp" in tot else ward_admitted
    )
    avoided = _sum(tot, "ucr_admissions_without") - _sum(tot, "ucr_admissions") + ward_avoided
    return {
        "years": years,
        "core_admissions": core,
        "addon_admissions": _sum(tot, "ucr_admissions") + ward_admitted_outside,
        "addon_admissions_avoided": avoided,
        "addon_avoided_in_core": ward_avoided - ward_avoided_outside,
        "wait_mean_days": float(mean_wait(ledger).iloc[0]),
        "visits_missed": float(tot["visits_missed"]),
        "visit_deferrals": float(tot["visit_deferrals"]),
        "contacts": float(tot["assessments"] + tot["visits_delivered"]),
        "ucr_calls": calls if "ucr_calls" in tot.index else np.nan,  # NaN: no urgent response (left out)
        "ucr_reached_share": _sum(tot, "ucr_calls_reached") / calls if calls > 0 else np.nan,
        "vw_occupancy_share": _sum(tot, "vw_occupied_place_days") / places if places > 0 else np.nan,
        "vw_bed_days_saved": _sum(tot, "vw_bed_days_saved") if ward else np.nan,
        "addon_cost_gbp": _sum(tot, "ucr_staff_cost_gbp") + _sum(tot, "vw_cost_gbp"),
    }


def paired_rows(without: Mapping[str, float], with_: Mapping[str, float]) -> dict[str, float]:
    """One replication's effect measures: the run with add-ons against the same replication without.

    ``net = avoided − extra core``, and equally ``total without − total with``. The totals count the
    core's admissions and those of the add-ons' patients from outside the core (urgent callers, GP
    step-ups); without the add-ons those patients have their admissions plus the ones avoided. The
    add-ons' avoided admissions include those of core patients (a virtual ward's caseload
    step-ups), which already lowered the core's count, so the extra core admissions add them back:
    extra core = core with − core without + avoided among core patients.
    """
    years = with_["years"]
    in_core = with_["addon_avoided_in_core"]
    extra_core = with_["core_admissions"] - without["core_admissions"] + in_core
    avoided = with_["addon_admissions_avoided"]
    total_with = with_["core_admissions"] + with_["addon_admissions"]
    total_without = without["core_admissions"] + with_["addon_admissions"] + avoided - in_core
    return {
        "net_admissions_avoided_per_year": (avoided - extra_core) / years,
        "addon_admissions_avoided_per_year": avoided / years,
        "extra_core_admissions_per_year": extra_core / years,
        "total_admissions_with_per_year": total_with / years,
        "total_admissions_without_per_year": total_without / years,
        "core_admissions_with_per_year": with_["core_admissions"] / years,
        "core_admissions_without_per_year": without["core_admissions"] / years,
        **{
            f"{m}_{side}": run[m] / (1.0 if m == "wait_mean_days" else run["years"])
            for m in ("wait_mean_days", "visits_missed", "visit_deferrals", "contacts")
            for side, run in (("with", with_), ("without", without))
        },
        "ucr_calls_per_year": with_["ucr_calls"] / years,
        "ucr_reached_share": with_["ucr_reached_share"],
        "vw_occupancy_share": with_["vw_occupancy_share"],
        "vw_bed_days_saved_per_year": with_["vw_bed_days_saved"] / years,
        "addon_cost_gbp_per_year": with_["addon_cost_gbp"] / years,
    }


def _column_pair(measure: str) -> tuple[str, str]:
    """The per-replication columns (with, without) of a paired measure."""
    base = {"total_admissions_per_year": "total_admissions", "core_admissions_per_year": "core_admissions"}.get(measure)
    if base is not None:
        return f"{base}_with_per_year", f"{base}_without_per_year"
    stem = measure.removesuffix("_per_year")
    return f"{stem}_with", f"{stem}_without"


def effect_table(per_replication: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Staffing × measure: the effect's mean and CI over replications, with the levels with and without.

    Columns: ``staffing`` (shared, dedicated, mixed), ``configured`` (the scenario's own choice),
    ``measure``, ``unit``, ``kind``, ``mean``, ``ci_low``, ``ci_high`` (paired: with − without),
    ``with_mean``, ``without_mean``.
    """
    rows = []
    for (staffing, configured), reps in per_replication.groupby(["staffing", "configured"], sort=False):
        for measure, unit, kind in EFFECT_MEASURES:
            if kind == "paired":
                c_with, c_without = _column_pair(measure)
                diff = reps[c_with].to_numpy(dtype=float) - reps[c_without].to_numpy(dtype=float)
                mean, lo, hi = mean_ci(diff, level)
                with_mean = float(np.nanmean(reps[c_with])) if len(reps) else np.nan
                without_mean = float(np.nanmean(reps[c_without])) if len(reps) else np.nan
            else:
                values = reps[measure].to_numpy(dtype=float)
                if np.isnan(values).all():
                    continue  # an add-on the scenario does not have
                mean, lo, hi = mean_ci(values, level)
                with_mean, without_mean = (mean, np.nan) if kind == "level" else (np.nan, np.nan)
            rows.append(
                {
                    "staffing": staffing,
                    "configured": bool(configured),
                    "measure": measure,
                    "unit": unit,
                    "kind": kind,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "with_mean": with_mean,
                    "without_mean": without_mean,
                }
            )
    return pd.DataFrame(rows)


def effect_per_replication(scenario: Scenario, ledgers: Mapping[tuple[str, int], pd.DataFrame]) -> pd.DataFrame:
    """Per (staffing choice, replication): the paired effect measures, from each variant's ledger.

    ``ledgers`` maps (variant, replication) to that run's ledger; every replication needs all three variants.
    """
    variants = effect_scenarios(scenario)
    reps = sorted({r for v, r in ledgers if v == WITHOUT})
    rows = []
    for variant in (CONFIGURED, OTHER):
        staffing = staffing_label(variants[variant])
        for r in reps:
            without = run_measures(ledgers[(WITHOUT, r)])
            with_ = run_measures(ledgers[(variant, r)])
            rows.append(
                {
                    "staffing": staffing,
                    "configured": variant == CONFIGURED,
                    "replication": r,
                    **paired_rows(without, with_),
                }
            )
    return pd.DataFrame(rows)


def effect_tasks(scenario: Scenario, replications: int, check: bool, reuse_configured: bool) -> list[SimTask]:
    """The simulations the effect needs, keyed ``(None, "addon_<variant>", r)``.

    With ``reuse_configured`` the run as configured is one the caller already has (compare's own).
    """
    variants = effect_scenarios(scenario)
    wanted = (WITHOUT, OTHER) if reuse_configured else VARIANTS
    return [SimTask((None, f"addon_{v}", r), variants[v], r, check) for v in wanted for r in range(replications)]


def addon_effect(
    scenario: Scenario,
    replications: int | None = None,
    *,
    jobs: int = 1,
    check: bool = False,
    progress: Callable[[Hashable, RunResult], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the three variants of ``scenario`` and return (effect table, per-replication rows)."""
    n = replications or scenario.simulation.replications
    runs = run_tasks(effect_tasks(scenario, n, check, reuse_configured=False), jobs, progress)
    ledgers = {(str(key[1]).removeprefix("addon_"), key[2]): run.ledger for key, run in _keyed(runs)}
    per_rep = effect_per_replication(scenario, ledgers)
    return effect_table(per_rep), per_rep


def _keyed(runs: Mapping[Hashable, RunResult]) -> Sequence[tuple[tuple[None, str, int], RunResult]]:
    return [(key, run) for key, run in runs.items() if isinstance(key, tuple) and len(key) == 3]


__all__ = [
    "CONFIGURED",
    "EFFECT_MEASURES",
    "OTHER",
    "VARIANTS",
    "WITHOUT",
    "addon_effect",
    "effect_per_replication",
    "effect_scenarios",
    "effect_table",
    "effect_tasks",
    "paired_rows",
    "run_measures",
    "staffing_label",
]
