"""Regenerate every number in README.md and docs/ that comes from a run of fundsim.

Numbers that come from a run are never typed by hand. They live in two kinds of marked regions of
the Markdown files, invisible once rendered:

* an **example block**: ``<!-- example: NAME -->`` followed by a fenced ``console`` block whose
  first line is ``$ fundsim ...`` and ending at ``<!-- /example -->``. The command is run as
  written (output folders under ``/tmp/`` are redirected to a private temporary folder) and its
  standard output replaces the block's body;
* a **generated block**: ``<!-- block: NAME -->`` followed by a fenced block and ending at
  ``<!-- /block -->``; its body is made by one of :data:`BLOCKS` (e.g. the example's manifest);
* an **inline value**: ``<!-- v:NAME -->text<!-- /v -->``. ``NAME`` is one of :data:`VALUES`; its
  text is computed from the output folder of one of the example commands.

Usage::

    python docs/make_examples.py           # rewrite the marked regions in place
    python docs/make_examples.py --check   # exit 1 and list the regions that a fresh run contradicts

``tests/test_docs_sync.py`` runs the check: a doc that quotes a number a fresh run does not give
fails the suite. Wall times ("in 9.8 s") are not compared; everything else is, number by number.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

#: Files whose marked regions this script owns.
DOC_FILES: tuple[Path, ...] = (
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
)

#: The terminal width the examples are printed at (rich reads COLUMNS).
COLUMNS = 100

EXAMPLE_RE = re.compile(
    r"(?P<open><!-- example: (?P<name>[\w-]+) -->\n```console\n)(?P<body>.*?)(?P<close>```\n<!-- /example -->)",
    re.DOTALL,
)
BLOCK_RE = re.compile(
    r"(?P<open><!-- block: (?P<name>[\w-]+) -->\n```\w*\n)(?P<body>.*?)(?P<close>```\n<!-- /block -->)", re.DOTALL
)
VALUE_RE = re.compile(r"(?P<open><!-- v:(?P<name>[\w.-]+) -->)(?P<body>.*?)(?P<close><!-- /v -->)", re.DOTALL)

#: "in 9.8 s": wall times differ from run to run and are not compared.
WALL_TIME_RE = re.compile(r"\bin\s+\d+(?:\.\d+)?\s+s\b")  # the line may wrap anywhere in it
NUMBER_RE = re.compile(r"[-−+]?£?\d[\d,]*(?:\.\d+)?")  # sign and £ kept: a flipped sign is a change


# --------------------------------------------------------------------------------------------------
# Running the example commands


def _fundsim_command() -> str:
    """The ``fundsim`` console script of this Python (so the manifest records ``fundsim ...``)."""
    beside = Path(sys.executable).with_name("fundsim")
    found = str(beside) if beside.exists() else shutil.which("fundsim")
    if not found:
        raise SystemExit("the fundsim command is not installed: pip install -e . first")
    return found


class Runs:
    """Runs each example command once, in a private temporary folder, and remembers the outcome."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self._stdout: dict[str, str] = {}
        self._folder: dict[str, Path] = {}

    def _redirect(self, args: list[str]) -> tuple[list[str], dict[str, str]]:
        """Replace output folders under /tmp/ by folders in the scratch area; return the mapping."""
        mapping: dict[str, str] = {}
        out: list[str] = []
        for arg in args:
            if arg.startswith("/tmp/"):
                private = str(self.scratch / arg.removeprefix("/tmp/").strip("/"))
                mapping[arg] = private
                out.append(private)
            else:
                out.append(arg)
        return out, mapping

    def run(self, command: str) -> str:
        """Standard output of ``command`` (``fundsim ...``), with private paths shown as in the doc."""
        if command not in self._stdout:
            args = shlex.split(command)
            if args[0] != "fundsim":
                raise SystemExit(f"example command must start with 'fundsim': {command}")
            real, mapping = self._redirect(args[1:])
            env = {**os.environ, "COLUMNS": str(COLUMNS), "LINES": "50", "NO_COLOR": "1"}
            env.pop("TERM", None)  # rich treats a "dumb" terminal as 80 columns whatever COLUMNS says
            proc = subprocess.run(
                [_fundsim_command(), *real],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                raise SystemExit(f"example command failed ({proc.returncode}): {command}\n{proc.stderr}")
            text = proc.stdout
            for shown, private in mapping.items():
                # rich may wrap a long path; the scratch folder is short, so it is replaced whole.
                text = text.replace(private.rstrip("/") + "/", shown.rstrip("/") + "/").replace(private, shown)
            self._stdout[command] = text
            if mapping:
                self._folder[command] = Path(next(iter(mapping.values())))
        return self._stdout[command]

    def folder(self, command: str) -> Path:
        """The output folder of ``command`` (running it first if needed)."""
        self.run(command)
        return self._folder[command]


# --------------------------------------------------------------------------------------------------
# The example commands and the values taken from them

RUN = "fundsim run scenarios/example.yaml -r 2 -j 2 -o /tmp/docs-run --overwrite"
COMPARE = "fundsim compare scenarios/example.yaml -r 2 --no-risk -j 2 -o /tmp/docs-cmp --overwrite"
CHECK = "fundsim run scenarios/example.yaml -r 1 -j 1 --check -o /tmp/docs-check --overwrite"


def _money(value_gbp: float) -> str:
    """£ as the terminal tables and the report print it (fundsim.report.style.money: £1.2m, £876k)."""
    from fundsim.report.style import money

    return money(value_gbp)


def _count(value: float) -> str:
    from fundsim.report.style import count

    return count(value)


def _pct(value: float) -> str:
    from fundsim.report.style import percent

    return percent(value)


def _summary(runs: Runs) -> pd.DataFrame:
    return pd.read_csv(runs.folder(RUN) / "summary.csv").set_index("measure")


def _comparison(runs: Runs) -> pd.DataFrame:
    return pd.read_csv(runs.folder(COMPARE) / "comparison.csv")


def _cmp(runs: Runs, contract: str, measure: str, column: str) -> float:
    frame = _comparison(runs)
    row = frame[(frame["contract"] == contract) & (frame["measure"] == measure)]
    if row.empty:
        raise SystemExit(f"comparison.csv has no row for {contract} / {measure}")
    return float(row.iloc[0][column])


def _half(runs: Runs, contract: str, measure: str, prefix: str = "") -> float:
    return (_cmp(runs, contract, measure, f"{prefix}ci_high") - _cmp(runs, contract, measure, f"{prefix}ci_low")) / 2


def _run_value(measure: str, fmt: Callable[[float], str], column: str = "mean") -> Callable[[Runs], str]:
    return lambda runs: fmt(float(_summary(runs).loc[measure, column]))


def _cmp_pm(contract: str, measure: str, fmt: Callable[[float], str]) -> Callable[[Runs], str]:
    return lambda runs: f"{fmt(_cmp(runs, contract, measure, 'mean'))} ± {fmt(_half(runs, contract, measure))}"


def _diff_pm(contract: str, measure: str, fmt: Callable[[float], str]) -> Callable[[Runs], str]:
    """A paired difference from block, signed, ± the half-width of its 95% interval."""

    def value(runs: Runs) -> str:
        diff = _cmp(runs, contract, measure, "diff_mean")
        sign = "+" if round(diff) > 0 else ""
        return f"{sign}{fmt(diff)} ± {fmt(_half(runs, contract, measure, 'diff_'))}"

    return value


def _block_unit_cost(runs: Runs) -> str:
    provider = pd.read_parquet(runs.folder(COMPARE) / "provider.parquet")
    block = provider[provider["contract"] == "block"]
    return f"£{block['staff_cost_gbp'].sum() / block['delivered_activity'].sum():.2f}"


def _obs(column: str, fmt: str) -> Callable[[Runs], str]:
    """Mean over replication-years of a column of outcomes.csv, formatted as the terminal does."""

    def value(runs: Runs) -> str:
        years = pd.read_csv(runs.folder(COMPARE) / "outcomes.csv")
        return fmt.format(float(years[column].mean()))

    return value


def _wrong_way(population: int) -> Callable[[Runs], str]:
    def value(runs: Runs) -> str:
        table = pd.read_csv(runs.folder(COMPARE) / "wrong_way.csv")
        row = table[table["population"] == population]
        if row.empty:
            raise SystemExit(f"wrong_way.csv has no row for population {population}")
        return f"{100 * float(row.iloc[0]['p_wrong_way']):.0f}%"

    return value


def _checks_passed(runs: Runs) -> str:
    match = re.search(r"Model invariants: ([\d,]+) checks passed", runs.run(CHECK))
    if not match:
        raise SystemExit(f"no 'Model invariants' line in the output of {CHECK}")
    return match.group(1)


def _headline(runs: Runs) -> str:
    from fundsim.report.build import build_tables, provider_policy
    from fundsim.report.catalogue import frame_of
    from fundsim.report.headline import headline
    from fundsim.report.results import load_results

    folder = load_results(runs.folder(COMPARE))
    tables = build_tables(folder)
    risk = tables.get("risk")
    sentences = headline(
        frame_of(tables, "summary"),
        folder.contracts,
        folder.baseline,
        None if risk is None else risk.frame,
        incidence=folder.incidence,
        policy=provider_policy(folder),
    )
    return " ".join(sentences[:3])


class Passive:
    """The example under the passive provider policy (no management response), two replications.

    Made through the Python API because no CLI flag switches the policy: the same as running a
    copy of ``scenarios/example.yaml`` with ``provider_policy.mode: passive``.
    """

    _results: object | None = None

    @classmethod
    def results(cls) -> object:
        """The run's results (simulated once, then kept)."""
        if cls._results is None:
            import fundsim

            scenario = fundsim.load_scenario(ROOT / "scenarios" / "example.yaml")
            policy = scenario.provider_policy.model_copy(update={"mode": "passive"})
            cls._results = fundsim.run_scenario(scenario.model_copy(update={"provider_policy": policy}), 2, jobs=2)
        return cls._results

    @classmethod
    def summary(cls) -> pd.DataFrame:
        """The headline measures, indexed by measure."""
        return cls.results().summary.set_index("measure")  # type: ignore[attr-defined]

    @classmethod
    def deficit_by_year(cls) -> pd.Series:
        """Cost − income in each contract year, mean of the replications (£)."""
        provider = cls.results().provider  # type: ignore[attr-defined]
        per_rep = provider.groupby(["replication", "contract_year"])[["cost_gbp", "income_gbp"]].sum()
        return (per_rep["cost_gbp"] - per_rep["income_gbp"]).groupby("contract_year").mean()


def _passive(measure: str, fmt: Callable[[float], str]) -> Callable[[Runs], str]:
    return lambda runs: fmt(float(Passive.summary().loc[measure, "mean"]))


def _passive_deficit(year: int) -> Callable[[Runs], str]:
    return lambda runs: _money(float(Passive.deficit_by_year().loc[year]))


def _undersized_shortfalls(runs: Runs) -> str:
    """Year-1 staff shortfall of the example's staff serving 400,000 people in two localities."""
    import yaml

    from fundsim.scenario.models import Scenario
    from fundsim.scenario.sizing import size_scenario

    data = yaml.safe_load((ROOT / "scenarios" / "example.yaml").read_text(encoding="utf-8"))
    first, second = data["localities"][:2]
    data["localities"] = [
        {**first, "population": 200_000, "staff_share": 0.5},
        {**second, "population": 200_000, "staff_share": 0.5},
    ]
    rows = size_scenario(Scenario.model_validate(data)).localities
    return " and ".join(f"{100 * (1 - 1 / row.need_ratio):.0f}%" for row in rows)


def _shape(command: str, file: str, axis: int) -> Callable[[Runs], str]:
    """Rows (``axis=0``) or columns (``axis=1``) of a Parquet file an example command wrote."""

    def value(runs: Runs) -> str:
        import pyarrow.parquet as pq

        meta = pq.read_metadata(runs.folder(command) / file)
        return f"{(meta.num_rows, meta.num_columns)[axis]:,}"

    return value


def _run_headline(runs: Runs) -> str:
    """The first sentence of who absorbs it, as `fundsim run` printed it (block, responsive)."""
    from fundsim.report.incidence_text import incidence_sentences

    incidence = pd.read_csv(runs.folder(RUN) / "incidence.csv")
    policy = "responsive"
    return " ".join(incidence_sentences(incidence[incidence["policy"] == policy], "block", policy)[:2])


@dataclass(frozen=True)
class Value:
    """An inline value: how it is computed and which command's output it reads."""

    compute: Callable[[Runs], str]


VALUES: dict[str, Value] = {
    # fundsim run, two replications (docs/cli.md "Example")
    "run.delivered": Value(_run_value("delivered_activity_per_year", _count)),
    "run.contracted": Value(_run_value("contracted_activity_per_year", _count)),
    "run.over_pct": Value(_run_value("over_performance_pct", _pct)),
    "run.income": Value(_run_value("income_gbp_per_year", _money)),
    "run.surplus": Value(_run_value("surplus_gbp_per_year", _money)),
    "run.absorbed": Value(_run_value("absorbed_gbp_per_year", _money)),
    "run.unfunded": Value(_run_value("unfunded_activity_per_year", _count)),
    "run.over_cost": Value(_run_value("unfunded_cost_gbp_per_year", _money)),
    "version": Value(lambda runs: __import__("fundsim").__version__),
    "run.headline": Value(_run_headline),
    "run.unpaid_ot": Value(_run_value("unpaid_overtime_hours_per_year", _count)),
    "run.declined": Value(_run_value("referrals_declined_per_year", _count)),
    "run.hospital": Value(_run_value("hospital_cost_gbp_per_year", _money)),
    "check.count": Value(_checks_passed),
    "compare.headline": Value(_headline),
    # fundsim compare, two replications, no risk view (docs/cli.md "Reading the comparison")
    "cmp.block.delivered": Value(_cmp_pm("block", "delivered_activity_per_year", _count)),
    "cmp.cv.delivered": Value(_cmp_pm("cost_and_volume", "delivered_activity_per_year", _count)),
    "cmp.cv.d_delivered": Value(_diff_pm("cost_and_volume", "delivered_activity_per_year", _count)),
    "cmp.cv.d_paid_hours": Value(_diff_pm("cost_and_volume", "paid_hours_per_year", _count)),
    "cmp.cv.d_income": Value(_diff_pm("cost_and_volume", "income_gbp_per_year", _money)),
    "cmp.cv.d_admissions": Value(_diff_pm("cost_and_volume", "admissions_per_year", _count)),
    "cmp.cv.d_hospital": Value(_diff_pm("cost_and_volume", "hospital_cost_gbp_per_year", _money)),
    "cmp.cv.d_spend": Value(_diff_pm("cost_and_volume", "commissioner_spend_gbp_per_year", _money)),
    "cmp.cv.declined": Value(lambda runs: _count(_cmp(runs, "cost_and_volume", "referrals_declined_per_year", "mean"))),
    "cmp.block.declined": Value(lambda runs: _count(_cmp(runs, "block", "referrals_declined_per_year", "mean"))),
    "cmp.blended.d_delivered": Value(_diff_pm("blended", "delivered_activity_per_year", _count)),
    "cmp.blended.d_admissions": Value(_diff_pm("blended", "admissions_per_year", _count)),
    "cmp.blended.d_spend": Value(_diff_pm("blended", "commissioner_spend_gbp_per_year", _money)),
    "cmp.cap.d_cost": Value(_diff_pm("capitation", "cost_gbp_per_year", _money)),
    "cmp.cap.d_paid_hours": Value(_diff_pm("capitation", "paid_hours_per_year", _count)),
    "cmp.cap.d_spend": Value(_diff_pm("capitation", "commissioner_spend_gbp_per_year", _money)),
    "cmp.block.unit_cost": Value(_block_unit_cost),
    "obs.expected": Value(_obs("expected", "{:,.0f}")),
    "obs.observed": Value(_obs("observed", "{:,.0f}")),
    "obs.ratio": Value(_obs("oe_ratio", "{:,.3f}")),
    "obs.avoided": Value(_obs("true_avoided", "{:,.0f}")),
    **{f"obs.ww_{n}": Value(_wrong_way(n)) for n in (25_000, 62_500, 125_000, 250_000)},
    "sizing.undersized": Value(_undersized_shortfalls),
    "run.ledger_rows": Value(_shape(RUN, "ledger.parquet", 0)),
    "run.ledger_columns": Value(_shape(RUN, "ledger.parquet", 1)),
    "run.provider_rows": Value(_shape(RUN, "provider.parquet", 0)),
    "run.provider_columns": Value(_shape(RUN, "provider.parquet", 1)),
    "cmp.ledger_rows": Value(_shape(COMPARE, "ledger.parquet", 0)),
    "cmp.ledger_columns": Value(_shape(COMPARE, "ledger.parquet", 1)),
    # The example under the passive policy (docs/contracts.md)
    "passive.over_pct": Value(_passive("over_performance_pct", _pct)),
    "passive.over_cost": Value(_passive("over_performance_cost_gbp_per_year", _money)),
    "passive.absorbed": Value(_passive("absorbed_gbp_per_year", _money)),
    "passive.unpaid_ot": Value(_passive("unpaid_overtime_hours_per_year", _count)),
    "passive.deficit_y1": Value(_passive_deficit(1)),
    "passive.deficit_y2": Value(_passive_deficit(2)),
    "passive.deficit_y3": Value(_passive_deficit(3)),
}


def _compact_json(data: dict[str, object], width: int = 100) -> str:
    """JSON with one top-level key a line; a nested value on one line when it fits, else one key a line."""

    def one(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = []
    for key, value in data.items():
        if isinstance(value, dict) and len(f'  "{key}": {one(value)},') > width:
            inner = [f"    {one(k)}: {one(v)}" for k, v in value.items()]
            lines.append(f"  {one(key)}: {{\n" + ",\n".join(inner) + "\n  }")
        else:
            lines.append(f"  {one(key)}: {one(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def _manifest_block(runs: Runs) -> str:
    """The run example's manifest.json, the embedded scenario shortened to one line."""
    manifest = json.loads((runs.folder(RUN) / "manifest.json").read_text(encoding="utf-8"))
    manifest["scenario"] = {
        "name": manifest["scenario"]["name"],
        "...": "the full validated scenario, defaults filled in",
    }
    manifest.pop("files", None)
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    # The temporary folder the example ran in is shown as the doc's command shows it.
    return text.replace(str(runs.folder(RUN)), "/tmp/docs-run") + "\n"


def _manifest_stable(text: str) -> str:
    """The manifest without what differs from run to run: time, date, installed package versions and kernel."""
    manifest = json.loads(text)
    for key in ("created_utc", "wall_time_s", "packages", "kernel"):
        manifest.pop(key, None)
    return json.dumps(manifest, sort_keys=True)


@dataclass(frozen=True)
class Block:
    """A generated fenced block: how it is made, and the part of it --check compares."""

    compute: Callable[[Runs], str]
    stable: Callable[[str], str] = str


BLOCKS: dict[str, Block] = {"run-manifest": Block(_manifest_block, _manifest_stable)}


# --------------------------------------------------------------------------------------------------
# Rewriting and checking


@dataclass(frozen=True)
class Region:
    """One marked region of a doc file and what a fresh run puts there."""

    file: Path
    kind: str  # "example", "block" or "value"
    name: str
    current: str
    fresh: str


def _example_body(runs: Runs, body: str, where: str) -> str:
    first = body.splitlines()[0] if body else ""
    if not first.startswith("$ "):
        raise SystemExit(f"{where}: an example block must start with '$ fundsim ...'")
    command = first[2:].strip()
    return f"$ {command}\n{runs.run(command)}"


def regions(runs: Runs, files: tuple[Path, ...] = DOC_FILES) -> list[Region]:
    """Every marked region of ``files`` with its current and its freshly computed text."""
    out: list[Region] = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        rel = file.relative_to(ROOT)
        for m in EXAMPLE_RE.finditer(text):
            fresh = _example_body(runs, m["body"], f"{rel}: example {m['name']}")
            out.append(Region(file, "example", m["name"], m["body"], fresh))
        for m in BLOCK_RE.finditer(text):
            if m["name"] not in BLOCKS:
                raise SystemExit(f"{rel}: unknown block '{m['name']}' (known: {', '.join(sorted(BLOCKS))})")
            out.append(Region(file, "block", m["name"], m["body"], BLOCKS[m["name"]].compute(runs)))
        for m in VALUE_RE.finditer(text):
            if m["name"] not in VALUES:
                raise SystemExit(f"{rel}: unknown value '{m['name']}' (known: {', '.join(sorted(VALUES))})")
            out.append(Region(file, "value", m["name"], m["body"], VALUES[m["name"]].compute(runs)))
    return out


def numbers(text: str) -> list[str]:
    """The numbers of ``text`` in order, wall times left out: what the docs-sync check compares."""
    return NUMBER_RE.findall(WALL_TIME_RE.sub("", text))


def _comparable(region: Region, text: str) -> list[str]:
    if region.kind == "block":
        try:
            text = BLOCKS[region.name].stable(text)
        except ValueError:  # a hand-damaged block is stale, not a crash
            return ["<unreadable>"]
    return numbers(text)


def stale(found: list[Region]) -> list[Region]:
    """Regions whose numbers differ from a fresh run's (text layout alone is not staleness)."""
    return [r for r in found if _comparable(r, r.current) != _comparable(r, r.fresh)]


def _fill(pattern: re.Pattern[str], text: str, fresh: dict[str, str]) -> str:
    """``text`` with the body of every region ``pattern`` finds replaced by its fresh text."""
    return pattern.sub(lambda m: m["open"] + fresh[m["name"]] + m["close"], text)


def rewrite(found: list[Region]) -> list[Path]:
    """Write the fresh text into every region; return the files changed."""
    changed: list[Path] = []
    for file in sorted({r.file for r in found}):
        text = file.read_text(encoding="utf-8")
        new = text
        for kind, pattern in (("example", EXAMPLE_RE), ("block", BLOCK_RE), ("value", VALUE_RE)):
            new = _fill(pattern, new, {r.name: r.fresh for r in found if r.file == file and r.kind == kind})
        if new != text:
            tmp = file.with_name(f".{file.name}.tmp")
            tmp.write_text(new, encoding="utf-8")
            tmp.replace(file)
            changed.append(file)
    return changed


def main(argv: list[str] | None = None) -> int:
    """Rewrite the docs' run-derived numbers, or with ``--check`` report the stale ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale regions and exit 1; change nothing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fundsim-docs-") as scratch:
        found = regions(Runs(Path(scratch)))
    if args.check:
        bad = stale(found)
        for r in bad:
            where = f"{r.file.relative_to(ROOT)}: {r.kind} '{r.name}'"
            print(f"{where} is stale:\n  doc:   {r.current!r}\n  fresh: {r.fresh!r}")
        print(f"{len(found)} region(s) checked, {len(bad)} stale")
        return 1 if bad else 0
    changed = rewrite(found)
    print(f"{len(found)} region(s); rewrote {', '.join(str(p.relative_to(ROOT)) for p in changed) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
