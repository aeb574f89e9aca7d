"""Write the calibration tables of docs/calibrate.md: the recovery table and the check on the shipped extract.

    python docs/calibration_tables.py                  # both tables (about 3 minutes)
    python docs/calibration_tables.py --only recovery  # the recovery table only
    python docs/calibration_tables.py --only check     # the check's coverage on data/example-extract only

Each table replaces the text between its markers in docs/calibrate.md (``<!-- recovery-table -->`` …
``<!-- /recovery-table -->`` and ``<!-- check-coverage -->`` … ``<!-- /check-coverage -->``); nothing
else in the file changes.

**Recovery.** A synthetic extract is drawn (:func:`fundsim.calibrate.synth.generate_extract`) from
known parameters — scenarios/extract-source.yaml with two localities (Village, 50,000 people at 56
referrals per 1,000 a year, and Town, 30,000 at 70) and its staff scaled to them — over 24 months,
for each of :data:`SEEDS`, and calibrated (:func:`fundsim.calibrate.fit.fit_scenario`, three tiers).
The table gives, per fitted quantity, the true value, the fit of the first seed with its 95%
interval, whether that interval covers the truth, and in how many of the seeds it does. With
independent 95% intervals about 1 in 20 should miss; the quantities of one extract are not
independent, and a few intervals are conditional (tier quantities, on the tier posteriors).

**Check.** ``fundsim calibrate data/example-extract --check`` with its defaults (6 held-out
months, 39 replications): the coverage per measure, and the misses expected by chance.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy import stats

from fundsim.calibrate.fit import Calibration, fit_scenario
from fundsim.calibrate.read import read_extract
from fundsim.calibrate.referral_model import Interval
from fundsim.calibrate.synth import SOURCE_CODES, SynthOptions, generate_extract, write_extract
from fundsim.scenario import load_scenario
from fundsim.scenario.models import Scenario

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "calibrate.md"
SEEDS = (1, 2, 3, 4, 5)
#: The generating localities: name, population, referrals per 1,000 a year.
LOCALITIES = (("Village", 50_000, 56.0), ("Town", 30_000, 70.0))
#: How the generator writes each source, grouped back by the reader (CSDS code -> fundsim group).
SOURCE_GROUP = {"gp": "gp", "hospital_discharge": "hospital_discharge", "other": "other"}


def generating_scenario() -> Scenario:
    """scenarios/extract-source.yaml with two localities and its staff scaled to their population."""
    sc = load_scenario(ROOT / "scenarios" / "extract-source.yaml")
    base = sc.localities[0]
    locs = [
        base.model_copy(update={"name": n, "population": p, "referral_rate_per_1000_per_year": r})
        for n, p, r in LOCALITIES
    ]
    factor = sum(p for _n, p, _r in LOCALITIES) / sc.total_population
    grades = [g.model_copy(update={"fte": g.fte * factor}) for g in sc.workforce.grades]
    return sc.model_copy(update={"localities": locs, "workforce": sc.workforce.model_copy(update={"grades": grades})})


def rows(cal: Calibration, truth: Scenario) -> list[tuple[str, float, Interval | None]]:
    """(quantity, true value, fitted value with its 95% interval; None where the fit has no interval)."""
    rf, mix, af = cal.referral_fit, cal.mixture, cal.admission_fit
    out: list[tuple[str, float, Interval | None]] = [
        (
            f"referral rate /1,000/yr, {loc.name}",
            loc.referral_rate_per_1000_per_year,
            rf.rate_per_1000_per_year[loc.name],
        )
        for loc in truth.localities
    ]
    out += [
        ("growth /yr", truth.demand.growth_per_year, rf.growth_per_year),
        ("winter amplitude", truth.demand.seasonality.winter_amplitude, rf.winter_amplitude),
        ("urgent share", truth.demand.urgent_share, cal.shares["urgent_share"]),
    ]
    total = sum(truth.demand.sources.values())
    for source, share in truth.demand.sources.items():
        key = f"sources.{SOURCE_GROUP.get(source, 'other')}"
        out.append((f"source share, {source} ({SOURCE_CODES.get(source, 'M9')})", share / total, cal.shares[key]))
    for t_true, t_fit in zip(truth.tiers, mix.tiers, strict=True):
        name = t_true.name
        out += [
            (f"tier share, {name}", truth.demand.complexity_mix[name], t_fit.share),
            (f"follow-up visits, {name}", t_true.visits.mean, t_fit.visits_mean),
            (f"days between visits, {name}", t_true.interval_days, t_fit.interval_days),
            (f"face-to-face min, {name}", t_true.face_to_face_minutes.mean, t_fit.face_to_face_minutes),
            (f"assessment min, {name}", t_true.assessment_minutes.mean, t_fit.assessment_minutes),
        ]
    grade_wte = {g["name"]: g["fte"] for g in cal.scenario["workforce"]["grades"]}
    for g in truth.workforce.grades:
        fitted = float(grade_wte[g.name])
        out.append((f"WTE, {g.name}", g.fte, Interval(fitted, float("nan"), float("nan"))))
    if af is not None:
        for t_true in truth.tiers:
            out.append(
                (f"admission hazard /day, {t_true.name}", t_true.daily_admission_hazard, af.hazard_by_tier[t_true.name])
            )
        out.append(("waiting hazard multiplier", truth.outcomes.waiting_hazard_multiplier, af.waiting_multiplier))
        out.append(
            ("post-discharge multiplier", truth.outcomes.post_discharge_hazard_multiplier, af.post_discharge_multiplier)
        )
        out.append(("length of stay, days", truth.hospital.length_of_stay_days.mean, af.length_of_stay_days))
        out.append(("admission ends the episode", truth.hospital.ends_episode_probability, af.ends_episode_share))
    return out


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "–"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.4g}"


def _covers(truth: float, fit: Interval | None) -> bool | None:
    if fit is None or not (np.isfinite(fit.low) and np.isfinite(fit.high)):
        return None
    return bool(fit.low <= truth <= fit.high)


def recovery_table() -> str:
    """The recovery table as markdown (module docstring)."""
    truth = generating_scenario()
    fits = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS:
            folder = Path(tmp) / f"seed{seed}"
            write_extract(generate_extract(truth, SynthOptions(months=24, seed=seed)), folder)
            fits.append(rows(fit_scenario(read_extract(folder), n_tiers=3), truth))
            print(f"recovery: seed {seed} fitted", file=sys.stderr)
    lines = [
        f"Generated from known parameters (docs/calibration_tables.py: scenarios/extract-source.yaml with two "
        f"localities, 80,000 people, 24 months), fitted by `fundsim calibrate` with 3 tiers; seeds "
        f"{', '.join(map(str, SEEDS))}. *Fitted* and *95% CI* are seed {SEEDS[0]}'s; *covers* says whether "
        "that interval holds the true value; the last column counts the seeds whose interval does.",
        "",
        "| quantity | true | fitted | 95% CI | covers | seeds covered |",
        "|---|---|---|---|---|---|",
    ]
    n_ci = n_cover = 0
    for i, (name, true, fit) in enumerate(fits[0]):
        covers = [_covers(true, f[i][2]) for f in fits]
        known = [c for c in covers if c is not None]
        if fit is None:
            fitted, ci, cov, seeds = "not fitted", "", "", ""
        elif not known:
            fitted, ci, cov, seeds = _fmt(fit.value), "read, not estimated", "", ""
        else:
            fitted = _fmt(fit.value)
            ci = f"{_fmt(fit.low)}–{_fmt(fit.high)}"
            cov = "yes" if covers[0] else "**no**"
            seeds = f"{sum(known)} of {len(known)}"
            n_ci += len(known)
            n_cover += sum(known)
        lines.append(f"| {name} | {_fmt(true)} | {fitted} | {ci} | {cov} | {seeds} |")
    expected_miss = 0.05 * n_ci
    hi = int(stats.binom.ppf(0.975, n_ci, 0.05))
    lines += [
        "",
        f"All seeds: {n_cover} of {n_ci} intervals cover the true value ({n_ci - n_cover} miss; "
        f"{expected_miss:.1f} expected by chance of independent 95% intervals, 95% of such counts "
        f"at most {hi}, binomial).",
    ]
    return "\n".join(lines) + "\n"


def check_table() -> str:
    """The check's coverage on the shipped extract (``fundsim calibrate data/example-extract --check``)."""
    from fundsim.calibrate.check import check_fit

    extract = read_extract(ROOT / "data" / "example-extract")
    with tempfile.TemporaryDirectory() as tmp:
        result = check_fit(extract, Path(tmp) / "check")
    cov = result.coverage
    lines = [
        "| measure | held-out months compared | within | above | below | share expected |",
        "|---|---|---|---|---|---|",
    ]
    for r in cov.itertuples():
        lines.append(
            f"| {r.label} | {r.months_compared} | {r.months_within} | {r.months_above} | {r.months_below} | "
            f"{r.share_expected:.0%} |"
        )
    total = cov[cov["measure"] == "all"].iloc[0]
    n, p_miss = int(total["months_compared"]), 1 - float(total["share_expected"])
    misses = n - int(total["months_within"])
    p_at_least = float(stats.binom.sf(misses - 1, n, p_miss)) if misses > 0 else 1.0
    lines += [
        "",
        f"{misses} of {n} held-out comparisons fall outside the band; {n * p_miss:.1f} are expected by chance "
        f"(binomial, {n} × {p_miss:.0%}); the chance of {misses} or more misses is {p_at_least:.2f} "
        f"(the chance of none is {(1 - p_miss) ** n:.2f}).",
    ]
    return "\n".join(lines) + "\n"


def replace_region(text: str, name: str, body: str) -> str:
    """``text`` with the body between ``<!-- name -->`` and ``<!-- /name -->`` replaced by ``body``."""
    pattern = re.compile(rf"(<!-- {name} -->\n)(.*?)(<!-- /{name} -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{DOC}: no <!-- {name} --> … <!-- /{name} --> region")
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text)


def main() -> None:
    """Write the tables asked for into docs/calibrate.md."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["recovery", "check"])
    args = parser.parse_args()
    text = DOC.read_text(encoding="utf-8")
    if args.only in (None, "recovery"):
        text = replace_region(text, "recovery-table", recovery_table())
    if args.only in (None, "check"):
        text = replace_region(text, "check-coverage", check_table())
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
