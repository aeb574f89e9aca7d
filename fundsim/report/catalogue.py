"""What the report shows: each figure with the tables it is drawn from and its caption.

A caption says what the figure shows and how to read it. A figure whose tables are missing (a run
folder has no risk view; a comparison without the outcomes contract has no funnel plot) is left out
with a sentence saying why.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from fundsim.report import figures
from fundsim.report.figure_kit import FigureSpec, Tables, frame_of
from fundsim.report.years_figures import YEAR_FIGURES


def _people_per_expected(tables: Tables) -> float | None:
    points = tables.get("funnel")
    if points is None:
        return None
    whole = points.frame[points.frame["unit"] == "whole service"]
    expected = float(whole["expected"].sum())
    return float(whole["population"].sum()) / expected if expected > 0 else None


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        name="activity",
        title="Contracted and delivered activity",
        what=(
            "Contacts a month under each contract: the dashed line is the activity the contract pays for, the "
            "coloured line the activity delivered (mean over replications, with its 95% confidence band)."
        ),
        how_to_read=(
            "The hatched area between the two lines, where delivery is above the contract, is the unfunded gap: "
            "care the provider delivers that the contract does not pay for. A contract that pays for what is "
            "done has its contracted line on the delivered line, and no gap."
        ),
        needs=("activity",),
        missing="no monthly activity in the results",
        draw=lambda t, c: figures.activity_figure(frame_of(t, "activity"), c),
    ),
    FigureSpec(
        name="finance",
        title="Cost absorbed and provider surplus",
        what=(
            "Left: the cost of delivered care that the provider's income does not cover (£ a year). Right: the "
            "provider's surplus, income minus cost (below zero: a deficit). Bars are means over replications, "
            "whiskers 95% confidence intervals."
        ),
        how_to_read=(
            "Where the provider absorbs cost it subsidises the service from reserves, unpaid overtime or cuts "
            "elsewhere; where it makes a surplus the contract pays more than the care costs."
        ),
        needs=("finance",),
        missing="no provider finances in the results",
        draw=lambda t, c: figures.finance_figure(frame_of(t, "finance"), c),
    ),
    FigureSpec(
        name="decisions",
        title="What the provider decided",
        what=(
            "The provider's own decisions each month under each contract: left, the staff in post at the month's "
            "end as a share of the initial establishment (dotted line: 100%); middle, the share of overtime its "
            "staff worked unpaid; right, the rationing level in force (0: none; each level lengthens the intervals "
            "between visits, shortens visits and declines more of the lowest tier). Lines are means over "
            "replications, bands 95% confidence intervals."
        ),
        how_to_read=(
            "This is the behavioural layer at work, not its effects: the other figures show what these choices did. "
            "Under pressure, a provider whose contract pays at least the cost of one more contact (or leaves it a "
            "surplus) hires; one whose contract does not leaves the pressure to unpaid overtime and, above the "
            "activity it is funded for, to rationing. Under a passive provider policy nothing is decided and every "
            "line is flat at the scenario's starting values."
        ),
        needs=("decisions",),
        missing=(
            "the results folder has no decisions.csv (it was written by a fundsim version that did not record the "
            "provider's decisions; run it again to see them)"
        ),
        draw=lambda t, c: figures.decisions_figure(frame_of(t, "decisions"), c),
    ),
    FigureSpec(
        name="waits",
        title="Waits for assessment and the waiting list",
        what=(
            "Left: the mean (solid) and 90th-percentile (dashed) wait from referral to first assessment of the "
            "people assessed each month, in days. Right: the number of people waiting at the end of each month. "
            "Bands are 95% confidence intervals over replications."
        ),
        how_to_read=(
            "Rising lines mean the service is falling behind demand; a gap between contracts shows how the way "
            "the provider is paid changes how fast people are seen."
        ),
        needs=("waits",),
        missing="no waits in the results",
        draw=lambda t, c: figures.waits_figure(frame_of(t, "waits"), c),
    ),
    FigureSpec(
        name="missed_visits",
        title="Missed visits",
        what=(
            "Planned visits not delivered within the deferral tolerance: a year per contract (left, 95% CI "
            "whiskers) and each month (right, 95% CI bands)."
        ),
        how_to_read=(
            "Missed visits are where pressure on the service reaches patients: each one raises that person's "
            "risk of an emergency admission for a week."
        ),
        needs=("missed_visits", "missed_by_month"),
        missing="no missed-visit counts in the results",
        draw=lambda t, c: figures.missed_figure(frame_of(t, "missed_visits"), frame_of(t, "missed_by_month"), c),
    ),
    FigureSpec(
        name="admissions",
        title="Emergency admissions and admissions avoided",
        what=(
            "Left: emergency hospital admissions a year of the people referred to the service. Right: admissions "
            "avoided, the admissions the same people would have had with no community care (the simulation "
            "replays their deterioration without it) minus those they had. 95% CI whiskers."
        ),
        how_to_read=(
            "Admissions avoided is what community nursing is for, and no real contract can observe it: an "
            "outcomes contract sees only observed against expected admissions (see the funnel plot)."
        ),
        needs=("admissions",),
        missing="no admissions in the results",
        draw=lambda t, c: figures.admissions_figure(frame_of(t, "admissions"), c),
    ),
    FigureSpec(
        name="spend",
        title="The commissioner's total spend",
        what=(
            "What the commissioner pays a year under each contract, stacked: payments to the community provider "
            "(coloured) and the hospital costs of emergency admissions it pays directly (grey). The whisker is "
            "the 95% CI of the total."
        ),
        how_to_read=(
            "A cheaper community contract is not cheaper for the system if it shifts cost to hospital: compare "
            "the heights of the whole bars, not only the coloured parts."
        ),
        needs=("spend",),
        missing="no commissioner spend in the results",
        draw=lambda t, c: figures.spend_figure(frame_of(t, "spend"), c),
    ),
    FigureSpec(
        name="risk",
        title="Who bears the risk of rising demand",
        what=(
            "The comparison repeated at several rates of demand growth (the scenario's risk view): the provider's "
            "surplus (left) and the commissioner's total spend (right) under each contract, with 95% CI "
            "whiskers. These are not paired differences: a different growth rate gives different referrals."
        ),
        how_to_read=(
            "Under a contract whose surplus line falls as demand grows the provider bears the risk; under one "
            "whose spend line rises the commissioner does."
        ),
        needs=("risk",),
        missing=(
            "the risk view was not run (it needs `fundsim compare` with a risk_view in the scenario, without --no-risk)"
        ),
        draw=lambda t, c: figures.risk_figure(frame_of(t, "risk"), c),
    ),
    FigureSpec(
        name="funnel",
        title="Outcomes contract: funnel plot of observed against expected admissions",
        what=(
            "Each point is one locality (the whole service: squares) in one contract year of one replication "
            "under the outcomes contract: observed emergency admissions O divided by the expected number E from "
            "the contract's risk model, against E (bottom axis) and the population that has that E at the "
            "service's average rate (top axis). The dashed and dotted lines are the 95% and 99.8% limits of "
            "O/E for a Poisson count when the truth is exactly E."
        ),
        how_to_read=(
            "Points inside the funnel are what chance alone gives; the funnel is wide for small populations "
            "(left), so a contract that pays on O against E rewards or penalises small areas largely for noise."
        ),
        needs=("funnel", "funnel_limits"),
        missing="the outcomes contract was not compared",
        draw=lambda t, c: figures.funnel_figure(
            frame_of(t, "funnel"),
            frame_of(t, "funnel_limits"),
            _people_per_expected(t),
        ),
    ),
    FigureSpec(
        name="localities",
        title="Over-performance by locality",
        what=(
            "Activity delivered in each locality above its share of the contracted activity (shared by "
            "population), as a percentage of that share, for the contracts that set contracted activity; 95% CI "
            "whiskers."
        ),
        how_to_read=(
            "Localities with longer bars receive more care than their population's share of what the contract "
            "buys: over-performance is rarely spread evenly."
        ),
        needs=("localities",),
        missing="no contract sets contracted activity apart from delivered activity",
        draw=lambda t, c: figures.locality_figure(frame_of(t, "localities"), c),
    ),
)

#: Add-on services (issue 17): measures of the add-on effect table (fundsim.experiment.addon_effect)
#: and of their targets, in words with their units.
ADDON_MEASURE_WORDS: dict[str, tuple[str, str]] = {
    "net_admissions_avoided_per_year": (
        "Net admissions avoided (avoided by the add-ons − extra in the core)",
        "per year",
    ),
    "addon_admissions_avoided_per_year": ("Admissions the add-ons avoid (their own patients)", "per year"),
    "extra_core_admissions_per_year": ("Extra admissions in the core caseload", "per year"),
    "total_admissions_per_year": ("All emergency admissions (core and add-on patients)", "per year"),
    "core_admissions_per_year": ("Emergency admissions from the core service", "per year"),
    "wait_mean_days": ("Mean wait for assessment", "days"),
    "visits_missed_per_year": ("Missed visits", "per year"),
    "visit_deferrals_per_year": ("Visit deferrals", "per year"),
    "contacts_per_year": ("Core contacts delivered", "per year"),
    "ucr_calls_per_year": ("Urgent response calls", "per year"),
    "ucr_reached_share": ("Urgent calls reached within 2 hours", "share"),
    "vw_occupancy_share": ("Virtual-ward occupancy of its places", "share"),
    "vw_bed_days_saved_per_year": ("Hospital bed-days saved by the virtual ward", "bed-days per year"),
    "addon_cost_gbp_per_year": ("The add-ons' own staff cost", "GBP per year"),
}
#: The add-ons' targets from the ledger: measure -> (numerator, denominator, the scenario's standard
#: (path under the scenario), the standard when the scenario sets none). UCR: at least 70% of urgent
#: referrals reached within 2 hours (NHS England operational guidance 2022/23). Virtual wards: 80%
#: occupancy (NHS England virtual ward framework).
ADDON_TARGETS: dict[str, tuple[str, str, tuple[str, ...], float]] = {
    "ucr_reached_share": ("ucr_calls_reached", "ucr_calls", ("addons", "urgent_response", "standard_share"), 0.70),
    "vw_occupancy_share": (
        "vw_occupied_place_days",
        "vw_places_days",
        ("addons", "virtual_ward", "target_occupancy_share"),
        0.80,
    ),
}


def _addon_figure(tables: Tables) -> Figure:
    """The add-on figure (imported here, when drawn: fundsim.report.addons reads this module's words)."""
    from fundsim.report.addons import addon_figure

    effect = tables.get("addon_effect")
    return addon_figure(frame_of(tables, "addon_targets"), None if effect is None else effect.frame)


ADDON_FIGURE = FigureSpec(
    name="addons",
    title="Add-on services: targets met and net admissions avoided",
    what=(
        "Left: the add-on services' own targets, the share of urgent calls reached within 2 hours (and a virtual "
        "ward's occupancy of its places), mean over replications with its 95% CI; the dashed line is the standard. "
        "Right: admissions the add-ons avoid among their own patients, the extra admissions they cause in the core "
        "caseload (the core with them minus the same core without them, common random numbers) and the net, under "
        "each staffing choice; 95% CI whiskers of the paired differences."
    ),
    how_to_read=(
        "An add-on can meet its own target while the core service pays for it: with shared staffing its work comes "
        "off the core team's day, visits are deferred or missed and the core caseload's admissions rise. The net bar "
        "is what the add-on is worth to the hospital; compare it between shared and dedicated staffing."
    ),
    needs=("addon_targets",),
    missing="the scenario has no add-on services (addons:)",
    draw=lambda t, c: _addon_figure(t),
)

# The year-by-year figures (fundsim.report.years_figures), shown after the others when the horizon
# has more than one contract year; ALL_FIGURES is what a report draws.
YEAR_FIGURE_SPECS: tuple[FigureSpec, ...] = YEAR_FIGURES
ALL_FIGURES: tuple[FigureSpec, ...] = (*FIGURES, ADDON_FIGURE, *YEAR_FIGURE_SPECS)

#: Sweep parameters in words, by the scenario field's name (without its unit: the unit is read from
#: the name's suffix by :mod:`fundsim.report.sweep_labels`). Fields not listed take the first
#: sentence of their description in the scenario schema.
PARAMETER_NAMES: dict[str, str] = {
    "growth_per_year": "demand growth",
    "referral_rate_per_1000_per_year": "referral rate",
    "fte": "staff in post",
    "unpaid_overtime_share": "share of overtime worked unpaid",
    "annual_value_gbp": "contract value in year 1",
    "price_gbp": "price per contact in year 1",
}
