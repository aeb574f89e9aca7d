"""Fuzzing the scenario loader and the command line with mutated copies of the shipped scenarios.

Each case takes one of ``scenarios/*.yaml`` and applies one to three mutations, either to the
loaded data (which is then written back as YAML) or to the file's text and bytes:

- data: delete a key; change a value's type; insert an unknown key; a negative, zero, NaN,
  infinite, huge or tiny number; a number scaled by up to a million (valid but large); an empty
  list or mapping; a value wrapped in, or lifted out of, another level of nesting; a string of
  100 KB + 1, 1 MB or 10 MB;
- text: a duplicated line (a duplicate key), a tab in the indentation, a byte that is not UTF-8,
  a control character, random bytes, a file cut short.

Every case is run in-process through click's test runner as ``fundsim validate FILE`` and
``fundsim run FILE --replications 1 -o DIR -q``, and must end with exit status 0 or 2, without an
exception escaping the command; on status 2 every problem is printed as
``FILE[:LINE[:COL]]: [field: ]message`` naming the file, with a line wherever the text parsed as
YAML (only whole-file problems such as a file over the size limit have none). ``run`` must agree
with ``validate``: the same status and, on failure, the same messages; on success the results
folder is complete (its manifest lists files that exist with the recorded size).

What is exercised, honestly: ``validate`` runs exactly as a user would. ``run`` runs the whole
command (loading, validation, output-folder checks, simulation, pricing, summary, atomic writing
of the results folder) with one change: the simulation is given a *cost-capped copy* of the
validated scenario, at most 0.1 years of horizon, 14 days of warm-up and 2,000 people (every
locality and every grade's FTE scaled down together). Without it one valid mutation of
``large.yaml`` would take a minute. The capped copy keeps every other parameter of the mutated
file, so the simulation still sees fuzzed distributions, hazards, rosters, policies and contracts.

The normal suite runs 1,000 cases (derandomized: the same cases every time); ``pytest
--fuzz-long`` runs 10,000 and ``--fuzz-cases N`` any number. The count and the exit statuses
seen are printed in the "fundsim robustness figures" summary at the end of the session.
"""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import fundsim.api
from fundsim.cli import main
from fundsim.scenario.loader import MAX_FILE_BYTES, MAX_STRING_CHARS
from fundsim.scenario.models import Scenario

ROOT = Path(__file__).resolve().parents[1]
SEED_FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
SEED_TEXT = {p.name: p.read_bytes() for p in SEED_FILES}
SEED_DATA = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in SEED_FILES}

#: Limits of the simulation's cost-capped copy of a valid fuzzed scenario (see the module docstring).
CAP_HORIZON_YEARS = 0.1
CAP_WARMUP_DAYS = 14
CAP_POPULATION = 2_000

#: Messages about a whole file, which has no line to point at.
WHOLE_FILE = re.compile(r"the file is .* the limit is|the file is larger than|the file is empty|the text is .* limit")
#: What follows the file name in a problem: ``[:LINE[:COL]]: [field: ]message``.
AFTER_FILE = re.compile(r"^(?::(?P<line>\d+)(?::(?P<col>\d+))?)?: (?P<rest>.+)$")

HUGE = "FUZZ-HUGE-STRING-PLACEHOLDER"
_BAD_NUMBERS: tuple[Any, ...] = (
    -1,
    -0.5,
    0,
    0.0,
    1e-300,
    math.nan,
    math.inf,
    -math.inf,
    1e12,
    1e300,
    -1e300,
    2**64,
    10**500,
)
_OTHER_TYPES: tuple[Any, ...] = ("text", "", "1.5", True, False, None, [], {}, [1, 2], {"a": 1}, 3, 2.5, "2025-13-45")
_UNKNOWN_KEYS = ("extra", "Name", "fte_count", "urgnet_share", "", "123", "contracts", "x y", "<script>", "ñ")
_SCALES = (0.0, 0.5, 2.0, 10.0, 1000.0, 1e6, -1.0)
_HUGE_SIZES = (MAX_STRING_CHARS + 1, 1024 * 1024, 10 * 1024 * 1024)


# --------------------------------------------------------------------------- mutating data


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    node = data
    for key in path[:-1]:
        node = node[key]
    return node


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    _parent(data, path)[path[-1]] = value


def _pick(draw: st.DrawFn, items: list[Any]) -> Any:
    """One of ``items``, or None when there are none (the mutation is then skipped)."""
    return draw(st.sampled_from(items)) if items else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@st.composite
def _data_mutation(draw: st.DrawFn, data: Any) -> str:
    """Mutate ``data`` in place; return a short description."""
    nodes = [(p, v) for p, v in _walk(data) if p]
    kind = draw(
        st.sampled_from(
            ["delete", "type", "unknown_key", "bad_number", "scale", "empty", "wrap", "lift", "huge_string"]
        )
    )
    if kind == "delete":
        candidates = [p for p, _ in nodes if isinstance(_parent(data, p), dict)]
        path = _pick(draw, candidates)
        if path is None:
            return f"{kind}: nothing to mutate"
        del _parent(data, path)[path[-1]]
    elif kind == "type":
        path = _pick(draw, [p for p, _ in nodes])
        if path is None:
            return f"{kind}: nothing to mutate"
        _set(data, path, copy.deepcopy(draw(st.sampled_from(_OTHER_TYPES))))
    elif kind == "unknown_key":
        mappings = [p for p, v in _walk(data) if isinstance(v, dict)]
        path = _pick(draw, mappings)
        if path is None:
            return f"{kind}: nothing to mutate"
        key = draw(st.sampled_from(_UNKNOWN_KEYS) | st.text(max_size=12))
        target = data
        for k in path:
            target = target[k]
        target[key] = draw(st.sampled_from(_OTHER_TYPES[:4]))
    elif kind in ("bad_number", "scale"):
        numbers = [p for p, v in nodes if _is_number(v)]
        path = _pick(draw, numbers)
        if path is None:
            return f"{kind}: nothing to mutate"
        if kind == "bad_number":
            _set(data, path, draw(st.sampled_from(_BAD_NUMBERS)))
        else:
            value = _parent(data, path)[path[-1]]
            scale = draw(st.sampled_from(_SCALES))
            try:
                scaled = value * scale
            except OverflowError:  # an earlier mutation left an integer too large for a float
                scaled = 0 if scale == 0 else (math.inf if (value > 0) == (scale > 0) else -math.inf)
            _set(data, path, int(scaled) if isinstance(value, int) and abs(scaled) < 1e18 else scaled)
    elif kind == "empty":
        containers = [p for p, v in nodes if isinstance(v, list | dict)]
        path = _pick(draw, containers)
        if path is None:
            return f"{kind}: nothing to mutate"
        _set(data, path, [] if draw(st.booleans()) else {})
    elif kind == "wrap":
        path = _pick(draw, [p for p, _ in nodes])
        if path is None:
            return f"{kind}: nothing to mutate"
        value = _parent(data, path)[path[-1]]
        _set(data, path, [value] if draw(st.booleans()) else {"value": value})
    elif kind == "lift":
        containers = [p for p, v in nodes if isinstance(v, list | dict) and v]
        path = _pick(draw, containers)
        if path is None:
            return f"{kind}: nothing to mutate"
        value = _parent(data, path)[path[-1]]
        _set(data, path, next(iter(value.values())) if isinstance(value, dict) else value[0])
    else:
        strings = [p for p, v in nodes if isinstance(v, str)]
        path = _pick(draw, strings)
        if path is None:
            return f"{kind}: nothing to mutate"
        _set(data, path, HUGE)
    return f"{kind} at {'.'.join(map(str, path))}"


def _dump(data: Any, huge_size: int) -> bytes:
    text = yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)
    raw = text.encode("utf-8")
    return raw.replace(HUGE.encode(), b"x" * huge_size) if HUGE.encode() in raw else raw


# --------------------------------------------------------------------------- mutating text


@st.composite
def _text_mutation(draw: st.DrawFn, raw: bytes) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["duplicate_line", "tab", "non_utf8", "control", "random_bytes", "truncate"]))
    lines = raw.split(b"\n")
    keyed = [i for i, line in enumerate(lines) if re.match(rb"^\s*(- )?[A-Za-z_]\w*:", line)]
    if kind == "duplicate_line" and keyed:
        i = draw(st.sampled_from(keyed))
        lines.insert(i + 1, lines[i].lstrip(b" -").rjust(len(lines[i]), b" ") if b"- " in lines[i] else lines[i])
        return b"\n".join(lines), f"{kind} {i + 1}"
    if kind == "tab":
        i = draw(st.integers(0, len(lines) - 1))
        stripped = lines[i].lstrip(b" ")
        lines[i] = b"\t" + stripped if draw(st.booleans()) else lines[i].replace(b": ", b":\t", 1)
        return b"\n".join(lines), f"{kind} {i + 1}"
    at = draw(st.integers(0, len(raw)))
    if kind == "non_utf8":
        byte = bytes([draw(st.integers(0x80, 0xFF))])
        return raw[:at] + byte + raw[at:], f"{kind} 0x{byte.hex()} at {at}"
    if kind == "control":
        char = draw(st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\u0085", "\ufffe", "\u2028"]))
        return raw[:at] + char.encode("utf-8", "surrogatepass") + raw[at:], f"{kind} {char!r} at {at}"
    if kind == "random_bytes":
        junk = draw(st.binary(min_size=1, max_size=16))
        return raw[:at] + junk + raw[at:], f"{kind} {junk!r} at {at}"
    return raw[:at], f"{kind} at {at}"


@dataclass
class Case:
    """One fuzzed file."""

    seed: str
    content: bytes
    mutations: list[str] = field(default_factory=list)
    from_data: bool = False


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A shipped scenario with one to three mutations of its data or of its text."""
    seed = draw(st.sampled_from(sorted(SEED_TEXT)))
    if draw(st.integers(0, 9)) < 6:
        data = copy.deepcopy(SEED_DATA[seed])
        described = [draw(_data_mutation(data)) for _ in range(draw(st.integers(1, 3)))]
        return Case(seed, _dump(data, draw(st.sampled_from(_HUGE_SIZES))), described, from_data=True)
    raw = SEED_TEXT[seed]
    described = []
    for _ in range(draw(st.integers(1, 3))):
        raw, what = draw(_text_mutation(raw))
        described.append(what)
    return Case(seed, raw, described)


# --------------------------------------------------------------------------- checking one case


def _capped(scenario: Scenario) -> Scenario:
    """A copy of ``scenario`` at most CAP_* in horizon, warm-up and population (FTE scaled alike)."""
    sim = scenario.simulation
    scale = min(1.0, CAP_POPULATION / scenario.total_population)
    localities = [
        loc.model_copy(update={"population": max(1, int(loc.population * scale))}) for loc in scenario.localities
    ]
    grades = [g.model_copy(update={"fte": g.fte * scale}) for g in scenario.workforce.grades]
    return scenario.model_copy(
        update={
            "simulation": sim.model_copy(
                update={
                    "horizon_years": min(sim.horizon_years, CAP_HORIZON_YEARS),
                    "warmup_days": min(sim.warmup_days, CAP_WARMUP_DAYS),
                }
            ),
            "localities": localities,
            "workforce": scenario.workforce.model_copy(update={"grades": grades}),
        }
    )


def _problems(stderr: str) -> list[str]:
    assert stderr.startswith("error:"), stderr[:500]
    first, _, rest = stderr.partition("\n")
    lines = [first.removeprefix("error:").strip()] if first.strip() != "error:" else []
    return lines + [line for line in rest.splitlines() if line.strip()]


def _check_located(stderr: str, path: Path, parsed_as_yaml: bool) -> None:
    """Every problem names the file, and has a line unless it is about the whole file."""
    problems = _problems(stderr)
    assert problems, stderr
    for problem in problems:
        assert problem.startswith(str(path)), problem[:300]
        match = AFTER_FILE.match(problem[len(str(path)) :])
        assert match is not None, problem[:300]
        if match["line"] is None:
            assert WHOLE_FILE.search(match["rest"]) or not parsed_as_yaml, problem[:300]
    assert "Traceback" not in stderr


def _check_results_folder(out: Path) -> None:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = manifest["files"]
    assert sorted([*listed, "manifest.json"]) == sorted(p.name for p in out.iterdir())
    for name, record in listed.items():
        assert (out / name).stat().st_size == record["bytes"], name
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")], "temporary folder left"


def _invoke(runner: CliRunner, args: list[str]) -> tuple[int, str]:
    result = runner.invoke(main, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"exception escaped `fundsim {' '.join(args)}`") from result.exception
    return result.exit_code, result.stderr


@dataclass
class Tally:
    """What the fuzz saw."""

    cases: int = 0
    validate: Counter[int] = field(default_factory=Counter)
    run: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)


def check_case(case: Case, workdir: Path, runner: CliRunner, tally: Tally) -> None:
    """Run validate and run on one fuzzed file and check the contract of the command line."""
    tally.cases += 1
    for what in case.mutations:
        tally.kinds[what.split(" ", 1)[0]] += 1
    path = workdir / f"case-{tally.cases}.yaml"
    out = workdir / f"out-{tally.cases}"
    path.write_bytes(case.content)
    try:
        code, stderr = _invoke(runner, ["validate", str(path)])
        tally.validate[code] += 1
        assert code in (0, 2), (code, case.mutations)
        if code == 2:
            _check_located(stderr, path, parsed_as_yaml=case.from_data and len(case.content) <= MAX_FILE_BYTES)
        run_code, run_stderr = _invoke(runner, ["run", str(path), "--replications", "1", "-o", str(out), "-q"])
        tally.run[run_code] += 1
        assert run_code == code, (code, run_code, run_stderr[:2000], case.mutations)
        if run_code == 2:
            assert run_stderr == stderr, case.mutations
            assert not out.exists()
        else:
            _check_results_folder(out)
    finally:
        path.unlink(missing_ok=True)
        shutil.rmtree(out, ignore_errors=True)


def _summary(tally: Tally) -> str:
    def exits(counter: Counter[int]) -> str:
        other = sum(n for code, n in counter.items() if code not in (0, 2))
        return f"0: {counter[0]:,}, 2: {counter[2]:,}, other: {other:,}"

    kinds = ", ".join(f"{k} {n}" for k, n in sorted(tally.kinds.items()))
    return (
        f"{tally.cases:,} cases; validate exits {exits(tally.validate)}; run exits {exits(tally.run)}; "
        f"mutations: {kinds}"
    )


# --------------------------------------------------------------------------- the tests


@pytest.mark.fuzz
def test_fuzzed_scenarios_end_in_exit_0_or_2_with_located_messages(
    fuzz_cases: int, robustness_figures: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run_replications = fundsim.api.run_replications
    monkeypatch.setattr(
        fundsim.api, "run_replications", lambda scenario, *a, **k: real_run_replications(_capped(scenario), *a, **k)
    )
    runner = CliRunner()
    tally = Tally()
    workdir = Path(tempfile.mkdtemp(prefix="fundsim-fuzz-"))

    @settings(
        max_examples=fuzz_cases,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(cases())
    def fuzz(case: Case) -> None:
        check_case(case, workdir, runner, tally)

    try:
        fuzz()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        robustness_figures["loader fuzz"] = _summary(tally)
    assert tally.cases >= fuzz_cases
    # The fuzz reaches both outcomes, so it is not only testing the parser's first line of defence.
    assert tally.validate[0] >= fuzz_cases // 20
    assert tally.validate[2] >= fuzz_cases // 2


def test_fuzz_checks_can_fail(tmp_path: Path) -> None:
    """The checks above reject what they exist to reject: an unlocated message, a stray folder."""
    path = tmp_path / "x.yaml"
    with pytest.raises(AssertionError):
        _check_located(f"error: {path}: demand: wrong\n", path, parsed_as_yaml=True)
    with pytest.raises(AssertionError):
        _check_located("error: somewhere-else.yaml:3:1: demand: wrong\n", path, parsed_as_yaml=True)
    _check_located(f"error: {path}:3:1: demand: wrong\n", path, parsed_as_yaml=True)
    _check_located(f"error: {path}: the file is 10.0 MB; the limit is 5.0 MB\n", path, parsed_as_yaml=True)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("x\n1\n")
    (out / "manifest.json").write_text(json.dumps({"files": {"a.csv": {"bytes": 4}}}))
    _check_results_folder(out)
    (tmp_path / ".out.tmp-1-x").mkdir()
    with pytest.raises(AssertionError, match="temporary folder"):
        _check_results_folder(out)


def test_capped_copy_is_small_and_keeps_the_rest() -> None:
    scenario = Scenario.model_validate(SEED_DATA["large.yaml"])
    capped = _capped(scenario)
    assert capped.total_population <= CAP_POPULATION
    assert capped.simulation.horizon_years == CAP_HORIZON_YEARS
    assert capped.simulation.warmup_days == CAP_WARMUP_DAYS
    assert capped.tiers == scenario.tiers
    assert capped.contracts == scenario.contracts
    ratio = capped.workforce.grades[0].fte / scenario.workforce.grades[0].fte
    assert ratio == pytest.approx(CAP_POPULATION / scenario.total_population)
