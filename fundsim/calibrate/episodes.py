"""Episodes: each referral with its contacts, as the tier fit and the admission fit see them.

A referral's *visits* are its face-to-face contacts that were attended or attempted (did not
attend: a planned visit that the patient missed still belongs to the care plan); its durations are
those of attended contacts only. Telephone and video contacts are not home visits in the model and
are counted apart. Everything is cut at the end of the fitting window, so held-out months never
inform the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fundsim.calibrate.read import Extract
from fundsim.calibrate.tiers import Episodes


@dataclass(frozen=True)
class EpisodeTable:
    """One row per referral with at least one visit in the window, and the arrays the tier fit needs."""

    frame: pd.DataFrame  # ServiceRequestId, Person_ID, locality, referred, first_visit, end, discharged, censored, …
    episodes: Episodes
    visits: pd.DataFrame  # one row per visit: ServiceRequestId, CareContDate, minutes, attended, grade, episode


def visits_of(extract: Extract, window_end: pd.Timestamp) -> pd.DataFrame:
    """Face-to-face contacts attended or attempted, on or before ``window_end``."""
    c = extract["contacts"]
    face = c["ConsMechanism"].to_numpy() == "face_to_face"
    attendance = c["AttendOrDNACode"].to_numpy()
    planned = np.isin(attendance, ["attended", "not_seen"])
    keep = face & planned & (c["CareContDate"] <= window_end).to_numpy()
    cols = ["ServiceRequestId", "CareContDate", "ClinContDurOfCareCont", "AttendOrDNACode"]
    if "grade" in c:
        cols.append("grade")
    out = c.loc[keep, cols].rename(columns={"ClinContDurOfCareCont": "minutes"})
    out["attended"] = out["AttendOrDNACode"] == "attended"
    return out.sort_values(["ServiceRequestId", "CareContDate"], kind="stable").reset_index(drop=True)


def build_episodes(extract: Extract, window_start: pd.Timestamp, window_end: pd.Timestamp) -> EpisodeTable:
    """Episodes of referrals received in ``[window_start, window_end]`` with a visit by ``window_end``."""
    refs = extract["referrals"]
    received = refs["ReferralRequestReceivedDate"]
    in_window = refs[(received >= window_start) & (received <= window_end)].drop_duplicates("ServiceRequestId")
    visits = visits_of(extract, window_end)
    visits = visits[visits["ServiceRequestId"].isin(in_window["ServiceRequestId"])]
    first = visits.groupby("ServiceRequestId", sort=False)["CareContDate"].min()
    frame = in_window[in_window["ServiceRequestId"].isin(first.index)].copy().reset_index(drop=True)
    frame["first_visit"] = frame["ServiceRequestId"].map(first)
    disch = frame["ServDischDate"] if "ServDischDate" in frame else pd.Series(pd.NaT, index=frame.index)
    reason = frame["ReferClosReason"] if "ReferClosReason" in frame else pd.Series(None, index=frame.index)
    discharged = disch.notna() & (disch <= window_end)
    frame["discharged"] = discharged
    frame["end"] = disch.where(discharged, window_end)
    # A count is complete only when the plan ran its course: discharged in the window, and not by an
    # admission, a death or a transfer (then it is a lower bound: right-censored).
    frame["censored"] = ~discharged | reason.isin(["admitted", "died", "transferred"]).to_numpy()
    index = pd.Series(np.arange(len(frame)), index=frame["ServiceRequestId"])
    visits = visits[visits["ServiceRequestId"].isin(index.index)].copy()
    visits["episode"] = visits["ServiceRequestId"].map(index).to_numpy()
    visits = visits.sort_values(["episode", "CareContDate"], kind="stable").reset_index(drop=True)
    ep = visits["episode"].to_numpy()
    is_first = np.r_[True, ep[1:] != ep[:-1]] if len(ep) else np.zeros(0, dtype=bool)
    n_visits = np.bincount(ep, minlength=len(frame))
    days = visits["CareContDate"].to_numpy().astype("datetime64[D]").astype(np.int64)
    gaps = np.diff(days).astype(float)
    same = ep[1:] == ep[:-1]
    attended = visits["attended"].to_numpy()
    first_minutes = np.full(len(frame), np.nan)
    first_att = is_first & attended
    first_minutes[ep[first_att]] = visits["minutes"].to_numpy()[first_att]
    # An episode whose first visit was missed: its first attended minutes stand in.
    missing = np.isnan(first_minutes)
    if missing.any():
        fallback = visits[attended].groupby("episode")["minutes"].first()
        first_minutes[missing] = fallback.reindex(np.flatnonzero(missing)).to_numpy()
    follow = ~is_first & attended
    episodes = Episodes(
        n_follow=(n_visits - 1).astype(np.int64),
        censored=frame["censored"].to_numpy(dtype=bool),
        first_minutes=np.nan_to_num(first_minutes, nan=float(np.nanmedian(first_minutes)) if len(frame) else 0.0),
        gaps_days=gaps[same],
        gap_owner=ep[1:][same],
        f2f_minutes=visits["minutes"].to_numpy()[follow].astype(float),
        f2f_owner=ep[follow],
    )
    return EpisodeTable(frame, episodes, visits)
