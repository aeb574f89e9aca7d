"""A synthetic CSDS-shaped extract drawn from a known scenario (data anyone may share).

The generator draws the scenario's *demand and care plans* directly, person by person, with the
simulator's own formulas (the referral curve of :func:`fundsim.sim.referrals.referral_rate_per_day`,
the samplers of :mod:`fundsim.sim.sampling`), but not its capacity: every planned visit happens
on its planned day, so the extract holds the care the plans ask for and the fit of a synthetic
extract can be compared with the generating values (parameter recovery). Draw from a scenario whose
staff meet its demand (``scenarios/extract-source.yaml``, the shipped extract's source): otherwise
the extract holds more care than its own workforce table can give, and a calibration check finds
the fitted service queueing where the extract's did not (docs/calibrate.md). Three things the
scenario does not say are generator assumptions, chosen to exercise the reader and the fit:

* waits for the first contact: the day after referral, as the simulator assesses when its staff meet
  demand (a referral is assessed on the first day after it arrives, :mod:`fundsim.sim.work`); routine
  referrals may wait a further Poisson(``routine_wait_mean_days``) days (default 0: none), a booking
  lead time the simulator does not represent;
* a share of planned follow-up visits are recorded as did-not-attend (code 3, 0 minutes), the
  next visit keeping to the plan; another share is deferred by one day;
* admissions happen at the scenario's daily hazards (× the waiting multiplier before the first
  contact, × the post-discharge multiplier for ``follow_up_days`` after), and end the episode with
  the scenario's probability.

Referrals received before the extract's first day are kept only when still open on it, as a real
monthly extract holds them; their earlier contacts are not in the extract.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fundsim.scenario.models import Scenario
from fundsim.sim.referrals import referral_rate
from fundsim.sim.sampling import sample, sample_visit_count

#: CSDS source-of-referral code written for each scenario source (others: M9, other not listed).
SOURCE_CODES = {"gp": "A1", "hospital_discharge": "H2", "other": "B1"}
#: At most this many admissions are drawn per referral.
MAX_ADMISSIONS_PER_REFERRAL = 4


@dataclass(frozen=True)
class SynthOptions:
    """How much to draw and the generator's own assumptions (module docstring)."""

    months: int = 24
    history_days: int = 240  # referrals drawn this long before the first day (only those still open are kept)
    seed: int = 20251
    routine_wait_mean_days: float = 0.0  # extra days a routine first contact waits (0: the simulator's next day)
    dna_share: float = 0.03
    deferral_share: float = 0.05
    start_date: dt.date | None = None  # default: the scenario's start date
    truth: bool = False  # also return a "truth" table (each referral's tier and planned visits; for tests)


DAYS_PER_YEAR = 365.25


def referral_rate_per_day(scenario: Scenario, dates: pd.DatetimeIndex, locality: int, start: dt.date) -> np.ndarray:
    """Expected referrals of ``locality`` on each of ``dates``: the simulator's curve (docs/model.md, Demand)."""
    years = (dates - pd.Timestamp(start)).days.to_numpy() / DAYS_PER_YEAR
    return referral_rate(scenario, locality, years, dates.day_of_year.to_numpy(), dates.day_of_week.to_numpy())


def _stage_hazard_time(
    t0: np.ndarray, budget: np.ndarray, bounds: list[np.ndarray], rates: list[np.ndarray]
) -> np.ndarray:
    """Time at which the cumulative hazard from ``t0`` reaches ``budget`` (inf if never), piecewise-constant rates.

    ``bounds`` are the stage edges b0 <= b1 <= ... (one array per edge), ``rates`` the rate in each stage.
    """
    remaining = budget.copy()
    out = np.full(len(t0), np.inf)
    for i, rate in enumerate(rates):
        lo = np.maximum(bounds[i], t0)
        hi = bounds[i + 1]
        length = np.maximum(hi - lo, 0.0)
        hazard = rate * length
        hit = np.isinf(out) & (hazard >= remaining) & (rate > 0)
        out[hit] = lo[hit] + remaining[hit] / rate[hit]
        remaining = np.where(np.isinf(out), remaining - hazard, remaining)
    return out


def generate_extract(scenario: Scenario, options: SynthOptions = SynthOptions()) -> dict[str, pd.DataFrame]:
    """Draw the extract's tables (referrals, contacts, workforce, population, admissions) from ``scenario``."""
    rng = np.random.default_rng([options.seed, 18])
    start = options.start_date or scenario.simulation.start_date
    origin = pd.Timestamp(start) - pd.Timedelta(days=options.history_days)
    last = pd.Timestamp(start) + pd.DateOffset(months=options.months)
    dates = pd.date_range(origin, last - pd.Timedelta(days=1), freq="D")
    end_day = len(dates)  # exclusive: days are 0 .. end_day - 1 from origin
    horizon_days = end_day - options.history_days
    tiers = scenario.tiers
    mix0 = np.array([scenario.demand.complexity_mix[t.name] for t in tiers])
    mix1 = np.array([(scenario.demand.complexity_mix_end or scenario.demand.complexity_mix)[t.name] for t in tiers])
    sources = list(scenario.demand.sources)
    source_p = np.array([scenario.demand.sources[s] for s in sources])
    out = scenario.outcomes
    parts = []
    for i in range(len(scenario.localities)):
        rate = referral_rate_per_day(scenario, dates, i, start)
        counts = rng.poisson(rate)
        day = np.repeat(np.arange(end_day), counts)
        n = len(day)
        frac = np.clip((day - options.history_days) / horizon_days, 0.0, 1.0)[:, None]
        cum = np.cumsum((1 - frac) * mix0 + frac * mix1, axis=1)
        tier = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(tiers) - 1)
        urgent = rng.random(n) < scenario.demand.urgent_share
        source = rng.choice(len(sources), size=n, p=source_p / source_p.sum())
        wait = 1 + np.where(urgent, 0, rng.poisson(options.routine_wait_mean_days, n))
        parts.append(
            pd.DataFrame({"day": day, "tier": tier, "urgent": urgent, "source": source, "wait": wait, "loc": i})
        )
    refs = pd.concat(parts, ignore_index=True)
    n = len(refs)
    refs["first_day"] = refs["day"] + refs["wait"]
    n_follow = np.zeros(n, dtype=np.int64)
    first_minutes = np.zeros(n)
    for t, spec in enumerate(tiers):
        who = np.flatnonzero(refs["tier"].to_numpy() == t)
        n_follow[who] = sample_visit_count(spec.visits, rng, len(who))
        first_minutes[who] = sample(spec.assessment_minutes, rng, len(who))
    # Follow-up visits: planned days, each possibly deferred a day or recorded as did-not-attend.
    owner = np.repeat(np.arange(n), n_follow)
    tier_of_visit = refs["tier"].to_numpy()[owner]
    interval = np.array([max(1, round(t.interval_days)) for t in tiers])[tier_of_visit]
    step = interval + (rng.random(len(owner)) < options.deferral_share)
    cum_steps = np.cumsum(step)
    has = n_follow > 0
    first_of_owner = (np.cumsum(n_follow) - n_follow)[has]
    before = np.repeat((cum_steps - step)[first_of_owner], n_follow[has])
    visit_day = refs["first_day"].to_numpy()[owner] + (cum_steps - before)
    minutes = np.zeros(len(owner))
    for t, spec in enumerate(tiers):
        sel = tier_of_visit == t
        minutes[sel] = sample(spec.face_to_face_minutes, rng, int(sel.sum()))
    dna = rng.random(len(owner)) < options.dna_share
    last_day = refs["first_day"].to_numpy().astype(float)
    np.maximum.at(last_day, owner, visit_day.astype(float))
    refs["planned_end"] = last_day
    # Admissions: hazards by stage, each admission possibly ending the episode.
    hazard = np.array([t.daily_admission_hazard for t in tiers])[refs["tier"].to_numpy()]
    ref_t = refs["day"].to_numpy(dtype=float)
    first_t = refs["first_day"].to_numpy(dtype=float)
    end_t = last_day.copy()
    t_now = ref_t.copy()
    adm_rows = []
    ended = np.zeros(n, dtype=bool)
    for _ in range(MAX_ADMISSIONS_PER_REFERRAL):
        bounds = [ref_t, first_t, np.maximum(end_t, first_t), np.maximum(end_t, first_t) + out.follow_up_days]
        rates = [hazard * out.waiting_hazard_multiplier, hazard, hazard * out.post_discharge_hazard_multiplier]
        at = _stage_hazard_time(t_now, rng.exponential(1.0, n), bounds, rates)
        hit = np.isfinite(at) & (at < end_day)
        if not hit.any():
            break
        los = np.rint(sample(scenario.hospital.length_of_stay_days, rng, int(hit.sum())))
        idx = np.flatnonzero(hit)
        adm_rows.append(pd.DataFrame({"ref": idx, "at": np.floor(at[idx]), "los": los}))
        # An admission during care ends the episode with the scenario's probability.
        during = hit & (at >= first_t) & (at < end_t) & ~ended
        ends = during & (rng.random(n) < scenario.hospital.ends_episode_probability)
        end_t = np.where(ends, np.floor(at), end_t)
        ended |= ends
        t_now = np.where(hit, at + 1e-6, np.inf)
    refs["end_day"] = end_t
    refs["ended_by_admission"] = ended
    keep_visit = visit_day <= end_t[owner]
    # The extract: referrals received by the last day and still open on the first day.
    first_extract_day = options.history_days
    discharged = refs["end_day"].to_numpy()
    kept = (refs["day"].to_numpy() < end_day) & (discharged >= first_extract_day)
    ids = _ids(rng, n)
    person = np.array([f"P{x}" for x in ids])
    request = np.array([f"R{x}" for x in _ids(rng, n)])
    loc_names = [loc.name for loc in scenario.localities]

    def date(days: np.ndarray) -> pd.Series:
        return pd.Series(origin + pd.to_timedelta(days, unit="D")).dt.strftime("%Y-%m-%d")

    open_at_end = discharged >= end_day
    referrals = pd.DataFrame(
        {
            "Person_ID": person,
            "ServiceRequestId": request,
            "ReferralRequestReceivedDate": date(refs["day"].to_numpy()),
            "SourceOfReferralCommunity": [SOURCE_CODES.get(sources[s], "M9") for s in refs["source"]],
            "PriorityTypeCode": np.where(refs["urgent"], "2", "1"),
            "ServTypeReferredTo": "district_nursing",
            "TeamIDLocal": [loc_names[i] for i in refs["loc"]],
            "ServDischDate": date(np.floor(discharged)).where(~open_at_end, ""),
            "ReferClosReason": np.where(open_at_end, "", np.where(ended, "07", "02")),
        }
    )[kept]
    # Contacts: the first contact and the follow-ups, within the extract's days.
    band = _band_names(scenario)
    allowed = [[band[g] for g in t.allowed_grades] for t in tiers]
    first = pd.DataFrame(
        {
            "ref": np.arange(n),
            "day": first_t,
            "minutes": first_minutes,
            "dna": False,
            "tier": refs["tier"].to_numpy(),
        }
    )
    first = first[first_t <= end_t]
    follow = pd.DataFrame({"ref": owner, "day": visit_day, "minutes": minutes, "dna": dna, "tier": tier_of_visit})[
        keep_visit
    ]
    contacts = pd.concat([first, follow], ignore_index=True)
    contacts = contacts[(contacts["day"] >= first_extract_day) & (contacts["day"] < end_day) & kept[contacts["ref"]]]
    contacts = contacts.sort_values(["day", "ref"], kind="stable")
    m = len(contacts)
    staff = [allowed[t][rng.integers(len(allowed[t]))] for t in contacts["tier"]]
    time_min = rng.integers(8 * 60, 17 * 60, m)
    contacts_out = pd.DataFrame(
        {
            "Person_ID": person[contacts["ref"]],
            "ServiceRequestId": request[contacts["ref"]],
            "CareContactId": [f"C{x}" for x in _ids(rng, m)],
            "CareContDate": date(contacts["day"].to_numpy()).to_numpy(),
            "CareContTime": [f"{t // 60:02d}:{t % 60:02d}" for t in time_min],
            "ClinContDurOfCareCont": np.where(
                contacts["dna"], 0, np.maximum(1, np.rint(contacts["minutes"].to_numpy()))
            ).astype(int),
            "ConsMechanism": "01",
            "AttendOrDNACode": np.where(contacts["dna"], "3", "5"),
            "ActLocTypeCode": "A01",
            "StaffBand": staff,
        }
    )
    admissions = pd.concat(adm_rows, ignore_index=True) if adm_rows else pd.DataFrame(columns=["ref", "at", "los"])
    admissions = admissions[
        (admissions["at"] >= first_extract_day) & (admissions["at"] < end_day) & kept[admissions["ref"].astype(int)]
    ]
    admissions_out = pd.DataFrame(
        {
            "Person_ID": person[admissions["ref"].astype(int)],
            "StartDateHospitalProviderSpell": date(admissions["at"].to_numpy()).to_numpy(),
            "DischargeDateHospitalProviderSpell": date((admissions["at"] + admissions["los"]).to_numpy()).to_numpy(),
            "AdmissionMethod": "21",
        }
    )
    shares = scenario.staff_shares()
    workforce = pd.DataFrame(
        [
            {"TeamIDLocal": loc.name, "AfCBand": band[g.name], "WTE": round(g.fte * shares[i], 3)}
            for i, loc in enumerate(scenario.localities)
            for g in scenario.workforce.grades
        ]
    )
    population = pd.DataFrame([{"Locality": loc.name, "Population": loc.population} for loc in scenario.localities])
    tables = {
        "referrals": referrals.reset_index(drop=True),
        "contacts": contacts_out.reset_index(drop=True),
        "workforce": workforce,
        "population": population,
        "admissions": admissions_out.reset_index(drop=True),
    }
    if options.truth:
        tables["truth"] = pd.DataFrame(
            {"ServiceRequestId": request, "tier": refs["tier"].to_numpy(), "n_follow": n_follow, "kept": kept}
        )
    return tables


def _ids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct random 10-hex-digit tokens (pseudonymised identifiers)."""
    if n < 1_000_000:
        values = rng.choice(16**10, size=n, replace=False)
    else:
        values = np.unique(rng.integers(0, 16**10, 2 * n))[:n]
    rng.shuffle(values)
    return [f"{v:010x}" for v in values]


def _band_names(scenario: Scenario) -> dict[str, str]:
    """How each grade is written in the extract: 'band6' -> 'Band 6', other names as they are."""
    out = {}
    for g in scenario.workforce.grades:
        name = g.name
        out[name] = f"Band {name[4:]}" if name.lower().startswith("band") and len(name) > 4 else name
    return out


def write_extract(tables: dict[str, pd.DataFrame], folder: Path, compress: bool = False) -> list[Path]:
    """Write the tables as CSV files into ``folder`` (created); return the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = folder / (f"{name}.csv.gz" if compress else f"{name}.csv")
        frame.to_csv(path, index=False, compression="gzip" if compress else None)
        paths.append(path)
    return paths
