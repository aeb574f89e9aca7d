"""The terminal's tables: what ``fundsim run``, ``compare``, ``advise`` and ``sweep`` print.

Drawn with the report's number formats (``fundsim.report.style``: one set of £, thousands and
percent rules), so the terminal and the HTML report show the same number the same way. Every table
fits 80 columns: number cells never wrap, label columns give way (``tests/test_cli_width.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fundsim.safeio import printable


def new_console(stderr: bool = False) -> Console:
    """A Rich console for fundsim's own tables; text from files is escaped or printed with markup off."""
    return Console(stderr=stderr, highlight=False)


#: Measures of the comparison table, in the order analysts read them.
COMPARE_ROWS = (
    "income_gbp_per_year",
    "cost_gbp_per_year",
    "surplus_gbp_per_year",
    "absorbed_gbp_per_year",
    "over_performance_activity_per_year",
    "over_performance_cost_gbp_per_year",
    "delivered_activity_per_year",
    "paid_hours_per_year",
    "unpaid_overtime_hours_per_year",
    "wait_mean_days",
    "wait_p90_days",
    "visits_missed_per_year",
    "referrals_declined_per_year",
    "admissions_per_year",
    "admissions_avoided_per_year",
    "hospital_cost_gbp_per_year",
    "commissioner_spend_gbp_per_year",
)

#: The "who bears the risk" view in three small tables: (title, [(measure, column header)]).
#: Every measure of fundsim.experiment.compare.RISK_MEASURES is in one of them.
RISK_TABLES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "provider and commissioner, £ a year",
        (
            ("income_gbp_per_year", "income"),
            ("surplus_gbp_per_year", "surplus"),
            ("absorbed_gbp_per_year", "absorbed"),
            ("commissioner_spend_gbp_per_year", "spend"),
        ),
    ),
    (
        "activity and staff, a year",
        (("delivered_activity_per_year", "delivered"), ("unpaid_overtime_hours_per_year", "unpaid hours")),
    ),
    (
        "patients",
        (
            ("referrals_declined_per_year", "declined"),
            ("wait_mean_days", "wait days"),
            ("visits_missed_per_year", "missed"),
            ("visit_deferrals_per_year", "deferred"),
            ("visit_minutes_cut_per_year", "minutes cut"),
        ),
    ),
)

#: What the short column headers of the risk tables mean.
RISK_CAPTIONS = (
    "income, surplus (deficit < 0), absorbed (cost its income does not cover): the provider's; "
    "spend: the commissioner's (contract payments plus hospital cost)",
    "delivered: activity delivered a year; unpaid hours: staff overtime not paid for, hours a year",
    "a year: referrals declined, visits missed, visits deferred, visit minutes cut by rationing; "
    "wait days: mean wait for assessment",
)


def _table(title: str, caption: str | None = None, **options: Any) -> Table:
    """A table of fundsim's: title and caption on the left, wrapped at word boundaries."""
    return Table(title=title, title_justify="left", caption=caption, caption_justify="left", **options)


def _label_column(table: Table, header: str) -> None:
    """A text column: wraps at word boundaries (a word too long for it is folded, never cut)."""
    table.add_column(header, overflow="fold")


def _number_column(table: Table, header: str) -> None:
    """A number column: never wrapped (the label columns give way instead)."""
    table.add_column(header, justify="right", no_wrap=True)


def _fits(console: Console, table: Table) -> bool:
    """Whether ``table`` fits ``console`` at its natural width (without wrapping any cell)."""
    from rich.measure import Measurement

    unbounded = console.options.update(width=10_000, max_width=10_000)
    return Measurement.get(console, unbounded, table).maximum <= console.width


def _value(value: float, unit: str) -> str:
    """``value`` in ``unit``, formatted as the HTML report formats it (£1.2m, 12,041, 9.3%, 1.8)."""
    from fundsim.report.style import by_unit

    return by_unit(value, unit)


def _pm(mean: float, lo: float, hi: float, unit: str, signed: bool = False) -> str:
    """``mean ± half-width`` of a 95% CI, in the report's number formats; the mean alone without a CI."""
    text = _value(mean, unit)
    if signed and text[0] not in "−–" and any(ch in "123456789" for ch in text):
        text = "+" + text
    if lo != lo:  # NaN: a single replication has no interval
        return text
    return f"{text} ± {_value((hi - lo) / 2.0, unit)}"


def _ci(lo: float, hi: float, unit: str) -> str:
    """A 95% CI as ``low – high`` (``–`` when there is none)."""
    return "–" if lo != lo else f"{_value(lo, unit)} – {_value(hi, unit)}"


def _unit(unit: str) -> str:
    from fundsim.report.style import unit_text

    return unit_text(unit)


def _contract(name: str) -> str:
    from fundsim.report.style import contract_label

    return escape(contract_label(name))


def print_comparison(result: Any, console: Console | None = None) -> None:
    """The contracts compared: one group of rows per measure, one row per contract (fits 80 columns)."""
    console = console or new_console()
    summary = result.summary.set_index(["measure", "contract"])
    contracts = list(result.contracts)
    paired = len(contracts) > 1
    baseline = _contract(result.baseline)
    table = _table(
        escape(
            f"{result.scenario.name}: {len(contracts)} contract(s) × {result.replications} replication(s), "
            f"provider policy {result.scenario.provider_policy.mode}"
        ),
        "mean ± the half-width of its 95% CI"
        + (f"; Δ: paired difference from {baseline} ± the half-width of its 95% CI" if paired else ""),
    )
    _label_column(table, "measure / contract")
    _number_column(table, "mean ± 95% CI")
    if paired:
        _number_column(table, f"Δ {baseline} ± 95% CI")
    for measure in COMPARE_ROWS:
        first = summary.loc[(measure, contracts[0])]
        unit = str(first["unit"])
        table.add_row(f"[bold]{escape(str(first['label']))}[/bold] [dim]({escape(_unit(unit))})[/dim]")
        for i, contract in enumerate(contracts):
            row = summary.loc[(measure, contract)]
            cells = [f"  {_contract(contract)}", _pm(row["mean"], row["ci_low"], row["ci_high"], unit)]
            if paired:
                diff = (
                    ""
                    if contract == result.baseline
                    else _pm(row["diff_mean"], row["diff_ci_low"], row["diff_ci_high"], unit, signed=True)
                )
                cells.append(diff)
            table.add_row(*cells, end_section=i == len(contracts) - 1)
    console.print(table)
    if result.risk is not None:
        print_risk(console, result.risk, contracts, result.scenario.risk_view)
    if result.outcomes is not None:
        print_observability(console, result.outcomes, result.wrong_way)


def print_risk(console: Console, risk: Any, contracts: Sequence[str], risk_view: Any) -> None:
    """Who bears the risk of demand growth: a small table per bearer, a group of rows per growth rate."""
    from fundsim.experiment.runner import MEASURES
    from fundsim.report.style import percent

    units = {col: unit for col, _label, unit in MEASURES}
    means = risk.set_index(["demand_growth_per_year", "contract", "measure"])["mean"]
    growths = list(dict.fromkeys(risk["demand_growth_per_year"]))
    n = getattr(risk_view, "replications", None)
    reps = f", mean of {n} replication(s)" if n else ", means"
    for (part, columns), caption in zip(RISK_TABLES, RISK_CAPTIONS, strict=True):
        table = _table(f"Who bears the risk of demand growth: {part}{reps}", caption)
        _label_column(table, "growth / contract")
        for _col, header in columns:
            _number_column(table, header)
        for growth in growths:
            table.add_row(f"[bold]{percent(100.0 * float(growth))} a year[/bold]")
            for i, contract in enumerate(contracts):
                cells = [
                    _value(means.get((growth, contract, col), float("nan")), units.get(col, "")) for col, _ in columns
                ]
                table.add_row(f"  {_contract(contract)}", *cells, end_section=i == len(contracts) - 1)
        console.print(table)


def print_observability(console: Console, years: Any, wrong_way: Any) -> None:
    """What the outcomes contract can see (O, E, O/E) against the true admissions avoided, and wrong-way odds."""
    from fundsim.experiment.stats import mean_ci
    from fundsim.report.style import count, percent

    table = _table(
        "Outcomes contract: what it can observe vs what the simulation knows (per contract year)",
        "95% CI over replication-years",
    )
    _label_column(table, "quantity")
    _number_column(table, "mean")
    _number_column(table, "95% CI")
    for col, label in (
        ("expected", "Expected admissions (risk model, E)"),
        ("observed", "Observed admissions (O)"),
        ("oe_ratio", "O/E"),
        ("true_avoided", "True admissions avoided (vs no care)"),
    ):
        m, lo, hi = mean_ci(years[col].to_numpy())

        def fmt(value: float, ratio: bool = col == "oe_ratio") -> str:
            return f"{value:,.3f}" if ratio else count(value)

        table.add_row(label, fmt(m), "" if lo != lo else f"{fmt(lo)} – {fmt(hi)}")
    table.add_row("Years rewarded", percent(100.0 * float(years["rewarded"].mean()), 0), "")
    console.print(table)
    ww = _table("Probability the outcomes contract pays the wrong way round, by population")
    for col in ("population", "E per year", "P(wrong way)", "seen in runs"):
        _number_column(ww, col)
    for row in wrong_way.itertuples():
        seen = (
            ""
            if row.observed_wrong_way_share != row.observed_wrong_way_share
            else percent(100.0 * row.observed_wrong_way_share, 0)
        )
        ww.add_row(count(row.population), count(row.expected_per_year), percent(100.0 * row.p_wrong_way, 0), seen)
    console.print(ww)


def print_summary(results: Any, out_dir: Path, wall_s: float, console: Console | None = None) -> None:
    """The run's headline measures: a unit column when the terminal is wide enough, else under the label."""
    console = console or new_console()
    n = int(results.per_replication.shape[0])
    title = escape(f"{results.scenario.name} under a {results.contract} contract — {n} replication(s)")
    rows = [
        (escape(str(r.label)), escape(_unit(str(r.unit))), _value(r.mean, r.unit), _ci(r.ci_low, r.ci_high, r.unit))
        for r in results.summary.itertuples()
    ]
    table = _table(title)
    _label_column(table, "measure")
    _label_column(table, "unit")
    _number_column(table, "mean")
    _number_column(table, "95% CI")
    for row in rows:
        table.add_row(*row)
    if not _fits(console, table):
        table = _table(title)
        _label_column(table, "measure (unit)")
        _number_column(table, "mean")
        _number_column(table, "95% CI")
        for label, unit, mean, ci in rows:
            table.add_row(f"{label} [dim]({unit})[/dim]", mean, ci)
    console.print(table)
    if results.incidence is not None:
        print_incidence(console, results.incidence, [results.contract], results.scenario.provider_policy.mode)
    files = "ledger.parquet, provider.parquet, replications.csv, summary.csv"
    files += ", incidence.csv" if results.incidence is not None else ""
    files += ", decisions.csv" if results.decisions is not None else ""
    files += ", reserves.csv, reserve_outcomes.csv" if results.reserve_outcomes is not None else ""
    if results.reserve_outcomes is not None:
        print_failures(console, results.reserve_outcomes)
    console.print(f"Wrote {printable(out_dir)}/ ({files}, manifest.json) in {wall_s:.1f} s.", markup=False)


def print_incidence(console: Console, incidence: Any, contracts: Sequence[str], policy: str) -> None:
    """Who absorbs the unfunded activity: a group of rows per measure, a row per contract (run: per policy)."""
    from fundsim.experiment.incidence import MEASURES as INCIDENCE_MEASURES
    from fundsim.report.incidence_text import incidence_sentences, policy_bracket_sentence

    frame = incidence.set_index(["policy", "contract", "measure"])
    one = len(contracts) == 1
    keys = [(p, contracts[0]) for p in incidence["policy"].unique()] if one else [(policy, c) for c in contracts]
    table = _table(
        "Who absorbs the activity the contract does not pay for",
        "mean ± the half-width of its 95% CI; 'extra' = beyond the same service funded to meet its demand"
        + ("" if one else f"; provider policy {policy}"),
    )
    _label_column(table, "bearer: measure / " + ("provider policy" if one else "contract"))
    _number_column(table, "mean ± 95% CI")
    for m in INCIDENCE_MEASURES:
        table.add_row(f"[bold]{escape(f'{m.bearer}: {m.label}')}[/bold] [dim]({escape(_unit(m.unit))})[/dim]")
        for i, (p, c) in enumerate(keys):
            row = frame.loc[(p, c, m.column)]
            name = escape(f"{p} provider") if one else _contract(c)
            table.add_row(
                f"  {name}", _pm(row["mean"], row["ci_low"], row["ci_high"], m.unit), end_section=i == len(keys) - 1
            )
    console.print(table)
    for contract in contracts[:1]:
        for sentence in incidence_sentences(incidence[incidence["policy"] == policy], contract, policy):
            console.print(sentence, markup=False)
        if policy != "passive" and "passive" in set(incidence["policy"]):
            bracket = policy_bracket_sentence(
                incidence[incidence["policy"] == policy], incidence[incidence["policy"] == "passive"], contract
            )
            if bracket:
                console.print(bracket, markup=False)


def print_addon_effect(console: Console, effect: Any) -> None:
    """The add-ons' effect: net admissions avoided and its parts, and the core with − without, per staffing choice."""
    from fundsim.report.addons import CORE_MEASURES, NET_MEASURES, words
    from fundsim.report.style import share

    def value(v: float, unit: str) -> str:
        return share(v, 1) if unit == "share" else _value(v, unit)

    table = _table(
        "Add-on services: net admissions avoided and the core service with − without them",
        "mean ± the half-width of its 95% CI, paired by replication (common random numbers); "
        "net = avoided by the add-ons − extra in the core caseload",
    )
    _label_column(table, "measure / staffing")
    _number_column(table, "mean ± 95% CI")
    for measure in (*NET_MEASURES, *CORE_MEASURES, "ucr_reached_share", "vw_occupancy_share"):
        rows = effect[effect["measure"] == measure]
        if rows.empty:
            continue
        label, unit = words(measure)
        suffix = " (with − without)" if measure in CORE_MEASURES else ""
        table.add_row(f"[bold]{escape(label + suffix)}[/bold] [dim]({escape(_unit(unit))})[/dim]")
        for i, row in enumerate(rows.itertuples()):
            lo, hi = float(row.ci_low), float(row.ci_high)
            text = value(float(row.mean), unit) + ("" if lo != lo else f" ± {value((hi - lo) / 2.0, unit)}")
            name = f"  {row.staffing}" + (" (as configured)" if str(row.configured).lower() == "true" else "")
            table.add_row(escape(name), text, end_section=i == len(rows) - 1)
    console.print(table)


def print_advice(console: Console, result: Any, precision: float, max_replications: int, warmup_days: int) -> None:
    """How many replications each headline measure needs, and the warm-up."""
    from fundsim.experiment.runner import MEASURES

    labels = {col: (label, unit) for col, label, unit in MEASURES}
    table = _table(
        f"Replications for ±{100 * precision:.0f}% (95% CI half-width ÷ mean), "
        f"{result.replications.replications_run} run"
    )
    _label_column(table, "measure")
    for col in ("mean", "± % now", "replications needed"):
        _number_column(table, col)
    for row in result.replications.table.itertuples():
        label, unit = labels.get(str(row.measure), (str(row.measure), ""))
        needed = (
            "more than run" if row.replications_needed != row.replications_needed else f"{row.replications_needed:,.0f}"
        )
        table.add_row(escape(label), _value(row.mean, unit), f"{100 * row.relative_half_width:.1f}%", needed)
    console.print(table)
    recommended = result.replications.recommended
    console.print(
        f"Set simulation.replications to {recommended}."
        if recommended is not None
        else f"Some measures were not precise enough in {max_replications} replications: raise --max-replications "
        "or accept a wider interval.",
        markup=False,
    )
    months = result.warmup.truncation_months
    console.print(
        f"Warm-up (MSER on runs started empty): caseload settles after {months['caseload']} month(s), waiting "
        f"list after {months['waiting_list']}; set simulation.warmup_days to at least {result.warmup.recommended_days} "
        f"(now {warmup_days}).",
        markup=False,
    )


def print_sweep(outcome: Any, executor: str | None, console: Console | None = None) -> None:
    """A sweep's sensitivity indices (one table per output, largest first), its notes and failures.

    Outputs and parameters are shown in words with their units, as the sweep report labels them.
    """
    from fundsim.report.sweep_labels import INDEX_LABELS, output_label, parameter_label

    console = console or new_console()
    sens = outcome.sensitivity
    if not sens.empty:
        main_index = sens[sens["index"].isin(["ST", "mu_star", "PRCC"])]
        for output, rows in main_index.groupby("output", sort=False):
            index_name = INDEX_LABELS.get(str(rows["index"].iloc[0]), str(rows["index"].iloc[0]))
            table = _table(escape(f"{output_label(str(output)).text}: {index_name} (95% CI)"))
            _label_column(table, "parameter")
            _number_column(table, "index")
            _number_column(table, "95% CI")
            order = rows.reindex(rows["value"].abs().sort_values(ascending=False).index)
            for row in order.itertuples():
                ci = "–" if row.ci_low != row.ci_low else f"{row.ci_low:.2f} – {row.ci_high:.2f}"
                table.add_row(escape(parameter_label(str(row.parameter)).text), f"{row.value:.3f}", ci)
            console.print(table)
    for note in outcome.notes:
        console.print(f"[yellow]note:[/yellow] {escape(printable(note))}")
    if len(outcome.failed):
        console.print(f"[red]{len(outcome.failed)} run(s) failed[/red] (see failures.csv):")
        for row in outcome.failed.head(10).itertuples():
            line = f"  point {row.point}, replication {row.replication}, {row.contract}: {row.error}"
            console.print(escape(printable(line)))
    ran = f", ran {outcome.ran} and reused {outcome.reused} of {outcome.total_tasks} runs" if executor else ""
    where = f" on {executor}" if executor else ""
    console.print(escape(f"Wrote {printable(outcome.out_dir)}/ (results, outputs.csv, sensitivity.csv){where}{ran}."))


def print_failures(console: Console, outcomes: Any) -> None:
    """With provider reserves: how often the provider handed the contract back, with a Wilson 95% CI."""
    from fundsim.experiment.reserves import failure_rates
    from fundsim.report.style import contract_label, percent

    rates = failure_rates(outcomes)
    for contract, failures, runs, rate, low, high in zip(
        rates["contract"].astype(str),
        rates["failures"].astype(int),
        rates["replications"].astype(int),
        rates["failure_rate"].to_numpy(float),
        rates["ci_low"].to_numpy(float),
        rates["ci_high"].to_numpy(float),
        strict=True,
    ):
        who = f"Under {contract_label(contract)} the provider" if contract else "The provider"
        console.print(
            f"{who} failed (handed the contract back) in {failures} of {runs} replication(s): "
            f"{percent(100.0 * rate, 0)} (95% CI {percent(100.0 * low, 0)} to {percent(100.0 * high, 0)}, Wilson).",
            markup=False,
        )
