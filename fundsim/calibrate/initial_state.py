"""The fitted scenario's ``initial_state``: open referrals on the extract's last day (no cold start).

What CSDS can honestly give, in aggregate, and what the model needs (:mod:`fundsim.sim.initial_state`):

* **caseload**: referrals open on the last day with a face-to-face visit by then, by locality,
  tier and *follow-up visits made so far* (face-to-face visits attended or attempted, less the
  first, which the model calls the assessment), in bands (:data:`VISIT_BANDS`). A referral fitted
  in the window counts in each tier by its posterior probability (so cells are expected counts);
  one received before the window is shared by the fitted mix. Visits made, not days since the
  first visit, because the model's care plan is a count of visits: the visits still to come are
  drawn from the tier's plan given those made.
* **waiting list**: open referrals not yet visited, by locality, urgency (PriorityTypeCode 2 or 3)
  and wait so far in the SitRep bands of weeks (0–1, 1–2, 2–4, 4–12, 12–18, 18–52, 52+).

Every cell passes the small-number rule (:mod:`fundsim.calibrate.suppress`): 0 stays 0 (and the
group is left out), 8 or more is rounded to the nearest 5, and 1–7 is suppressed. A suppressed
cell cannot seed exactly: the suppressed cells of a locality's caseload (or waiting list) share
out what its published total leaves after the shown cells, each within 1–7 (:func:`seed_cells`; a
suppressed total is taken as :data:`SUPPRESSED_SEED`, 4, the middle of 1–7), so the seeded lists add
up to the published totals and no cell says more than the published numbers; the comments say so.
No patient-level value is kept: the bands are fixed in advance, never taken from the data (the
open-ended bands are closed at stated values).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fundsim.calibrate.episodes import build_episodes, visits_of
from fundsim.calibrate.fit import Calibration
from fundsim.calibrate.provenance import scenario_name as _name
from fundsim.calibrate.read import Extract
from fundsim.calibrate.suppress import SUPPRESS_MAX, suppress_count
from fundsim.columns import WAIT_BANDS_WEEKS

#: Bands of follow-up visits already made: (min, max). More than 99 counts in the last band.
VISIT_BANDS: tuple[tuple[int, int], ...] = ((0, 1), (2, 4), (5, 9), (10, 19), (20, 49), (50, 99))
#: The SitRep wait bands in weeks; the open band (52+) is closed at two years (an assumption).
LONGEST_WAIT_WEEKS = 104.0
WAIT_BANDS: tuple[tuple[float, float], ...] = tuple(
    (float(a), float(b)) for a, b in itertools.pairwise((*WAIT_BANDS_WEEKS, LONGEST_WAIT_WEEKS))
)
#: People seeded for a suppressed cell (1–7 people): the middle of the range.
SUPPRESSED_SEED = (1 + SUPPRESS_MAX) // 2


@dataclass(frozen=True)
class StartState:
    """The ``initial_state`` section, its comments (dotted path -> text) and the totals for the header."""

    section: dict[str, Any]
    comments: dict[str, str]
    as_of: pd.Timestamp
    caseload_open: int  # unsuppressed count, for the caller's own checks only (never written)
    waiting_open: int
    suppressed_cells: int


def seed_cells(expected: list[float], total: int) -> tuple[list[int], list[bool], int]:
    """People to seed per cell, whether each cell was suppressed, and the locality total written.

    ``expected`` are the cells' (expected) counts, ``total`` the people they add up to. Each cell
    shown (8 or more) is rounded to the nearest 5; the suppressed cells (1–7) share out what the
    published total (itself rounded, or 4 if suppressed) leaves after the shown cells, each kept
    within 1–7 (so they carry nothing the published numbers do not already say); with no room
    left, each is seeded at 1.
    """
    shown = [suppress_count(round(float(n))) for n in expected]
    published = suppress_count(total)
    target = SUPPRESSED_SEED if published is None else published
    hidden = [i for i, v in enumerate(shown) if v is None]
    people = [0 if v is None else v for v in shown]
    if hidden:
        rest = target - sum(people)
        base = min(max(rest // len(hidden), 1), SUPPRESS_MAX)
        extra = max(rest - base * len(hidden), 0)
        for i in hidden:
            people[i] = base + (1 if extra > 0 and base < SUPPRESS_MAX else 0)
            extra -= people[i] - base
    return people, [v is None for v in shown], target


def _total_note(total: int, n: int) -> str:
    if suppress_count(n) is None:
        return f"{total} people in all (the total is suppressed, 1–{SUPPRESS_MAX}: taken as {SUPPRESSED_SEED})"
    return f"{total} people in all (the total, rounded to the nearest 5)"


def _note(suppressed: bool) -> str:
    if suppressed:
        return (
            f"suppressed (1–{SUPPRESS_MAX}): seeded with a share of what the locality's published total leaves "
            "after the shown cells"
        )
    return "rounded to the nearest 5"


def _open_referrals(extract: Extract, last: pd.Timestamp) -> pd.DataFrame:
    refs = extract["referrals"].drop_duplicates("ServiceRequestId")
    disch = refs["ServDischDate"] if "ServDischDate" in refs else pd.Series(pd.NaT, index=refs.index)
    return refs[(refs["ReferralRequestReceivedDate"] <= last) & (disch.isna() | (disch > last))]


def start_state(extract: Extract, calibration: Calibration, as_of: pd.Timestamp | None = None) -> StartState:
    """The open caseload and waiting list on ``as_of`` (default: the extract's last day), as an ``initial_state``.

    ``--check`` takes the lists open at the end of the extract's first whole month, so that its
    simulation starts from the extract's own state rather than empty (:mod:`fundsim.calibrate.check`).
    Who is open, visited (and how often) and waiting is read from the rows up to ``as_of`` only; the
    tier weights are the fit's posteriors, which see an episode's contacts to the fitting window's end.
    """
    last = extract.last_day if as_of is None else pd.Timestamp(as_of)
    files = {k: t.file for k, t in extract.tables.items()}
    mixture = calibration.mixture
    tier_names = [t.name for t in mixture.tiers]
    scenario_locs = [loc["name"] for loc in calibration.scenario["localities"]]
    open_ = _open_referrals(extract, last)
    visits = visits_of(extract, last)
    n_seen = visits.groupby("ServiceRequestId").size()
    made = open_["ServiceRequestId"].map(n_seen).fillna(0).to_numpy(dtype=np.int64)
    seen = made > 0
    # Tier weights: the posterior of each episode fitted in the window, the mix for the others.
    w0, w1 = calibration.window
    et = build_episodes(extract, w0, w1)
    post = pd.DataFrame(mixture.posterior, columns=tier_names, index=et.frame["ServiceRequestId"].to_numpy())
    caseload = open_[seen]
    weights = post.reindex(caseload["ServiceRequestId"].to_numpy()).to_numpy(dtype=float, copy=True)
    weights[np.isnan(weights).any(axis=1)] = [t.share.value for t in mixture.tiers]
    follow = np.minimum(made[seen] - 1, VISIT_BANDS[-1][1])
    band_of_visits = np.searchsorted([b[0] for b in VISIT_BANDS], follow, side="right") - 1
    waiting = open_[~seen]
    wait_weeks = np.minimum((last - waiting["ReferralRequestReceivedDate"]).dt.days.to_numpy() / 7.0, 103.9)
    band_of_wait = np.searchsorted([b[0] for b in WAIT_BANDS], wait_weeks, side="right") - 1
    urgent = (waiting["PriorityTypeCode"] == "urgent").to_numpy() if "PriorityTypeCode" in waiting else None

    comments: dict[str, str] = {}
    localities: list[dict[str, Any]] = []
    suppressed = 0
    case_loc = caseload["locality"].map(_name).to_numpy()
    wait_loc = waiting["locality"].map(_name).to_numpy()
    for loc in scenario_locs:
        i = len(localities)
        entry: dict[str, Any] = {"locality": loc, "caseload": [], "waiting": []}
        here = case_loc == loc
        cells = [
            (j, b, float(weights[here & (band_of_visits == b), j].sum()))
            for j in range(len(tier_names))
            for b in range(len(VISIT_BANDS))
        ]
        cells = [c for c in cells if round(c[2]) > 0]
        people, hidden, total = seed_cells([c[2] for c in cells], int(here.sum()))
        suppressed += sum(hidden)
        for k, ((j, b, _), n_seed, hid) in enumerate(zip(cells, people, hidden, strict=True)):
            lo, hi = VISIT_BANDS[b]
            tname = tier_names[j]
            entry["caseload"].append({"tier": tname, "people": n_seed, "visits_made_min": lo, "visits_made_max": hi})
            comments[f"initial_state.localities[{i}].caseload[{k}].people"] = (
                f"open referrals on {last:%Y-%m-%d} visited by then, tier {tname} by the fitted posterior, "
                f"{lo}–{hi} follow-up visits made{' (or more)' if b == len(VISIT_BANDS) - 1 else ''}; "
                f"from {files['referrals']} and {files['contacts']}; {_note(hid)}"
            )
        if entry["caseload"]:
            comments[f"initial_state.localities[{i}].caseload"] = _total_note(total, int(here.sum()))
        here_w = wait_loc == loc
        urgency = urgent if urgent is not None else np.zeros(len(waiting), dtype=bool)
        wcells = [
            (u, b, int(np.count_nonzero(here_w & (urgency == u) & (band_of_wait == b))))
            for u in (False, True)
            for b in range(len(WAIT_BANDS))
        ]
        wcells = [c for c in wcells if c[2] > 0]
        people, hidden, total = seed_cells([c[2] for c in wcells], int(here_w.sum()))
        suppressed += sum(hidden)
        for k, ((u, b, _), n_seed, hid) in enumerate(zip(wcells, people, hidden, strict=True)):
            w_lo, w_hi = WAIT_BANDS[b]
            entry["waiting"].append({"urgent": u, "people": n_seed, "waited_weeks_min": w_lo, "waited_weeks_max": w_hi})
            top = f" (or more: the open band closed at {LONGEST_WAIT_WEEKS:g}, an assumption)" if w_hi == 104 else ""
            comments[f"initial_state.localities[{i}].waiting[{k}].people"] = (
                f"open referrals on {last:%Y-%m-%d} not yet visited, {'urgent' if u else 'routine'}, "
                f"waited {w_lo:g}–{w_hi:g} weeks{top}; from {files['referrals']}; {_note(hid)}"
            )
        if entry["waiting"]:
            comments[f"initial_state.localities[{i}].waiting"] = _total_note(total, int(here_w.sum()))
        for key in ("caseload", "waiting"):
            if not entry[key]:
                del entry[key]
        localities.append(entry)
    section = {"as_of": last.date().isoformat(), "localities": localities}
    comments["initial_state"] = (
        f"the caseload and waiting list open on {last:%Y-%m-%d} (aggregate counts; docs/calibrate.md): "
        "the run starts from them, not empty"
    )
    comments["initial_state.as_of"] = "the extract's last day" if as_of is None else "the day the run starts from"
    return StartState(section, comments, last, int(seen.sum()), int((~seen).sum()), suppressed)


def forecast_scenario(calibration: Calibration, state: StartState) -> tuple[dict[str, Any], dict[str, str]]:
    """The fitted scenario moved to start the day after the extract, from ``state``.

    The start date becomes the first month start after the extract's last day; the referral rates
    (fitted at the window's start) are carried to it by the fitted growth; the warm-up becomes 0
    (the lists are full from the first day).
    """
    sc = {k: v for k, v in calibration.scenario.items()}
    comments = dict(calibration.comments)
    w0 = calibration.window[0]
    start = state.as_of + pd.offsets.MonthBegin(1)
    years = (start - w0).days / 365.25
    growth = float(sc["demand"].get("growth_per_year", 0.0))
    factor = (1.0 + growth) ** years
    sim = dict(sc["simulation"])
    sim["start_date"] = start.date().isoformat()
    sim["warmup_days"] = 0
    sc["simulation"] = sim
    gap = (start - state.as_of).days - 1
    comments["simulation.start_date"] = (
        f"the first month start after the extract's last day ({state.as_of:%Y-%m-%d}): the run is a forecast "
        f"from the lists open then" + (f" ({gap} days between them are not simulated)" if gap else "")
    )
    comments["simulation.warmup_days"] = (
        "0: the run starts from the open caseload and waiting list (initial_state), so no warm-up is needed "
        "to fill the lists"
    )
    locs = []
    for i, loc in enumerate(sc["localities"]):
        loc = dict(loc)
        rate = float(loc["referral_rate_per_1000_per_year"]) * factor
        loc["referral_rate_per_1000_per_year"] = float(f"{rate:.4g}")
        key = f"localities[{i}].referral_rate_per_1000_per_year"
        comments[key] = f"{comments.get(key, '')}; carried to {start:%Y-%m-%d} by the growth (× {factor:.4g})"
        locs.append(loc)
    sc["localities"] = locs
    sc["initial_state"] = state.section
    comments.update(state.comments)
    return sc, comments


__all__ = [
    "LONGEST_WAIT_WEEKS",
    "SUPPRESSED_SEED",
    "VISIT_BANDS",
    "WAIT_BANDS",
    "StartState",
    "forecast_scenario",
    "seed_cells",
    "start_state",
]
