"""Shared test options: the size of the loader fuzz, and a summary of the robustness figures.

``pytest --fuzz-long`` runs the loader fuzz (tests/test_fuzz.py) with 10,000 cases instead of
1,000; ``--fuzz-cases N`` runs exactly N. The fuzz and kill tests (tests/test_atomic.py) record
their figures (cases run, exit statuses seen, kill points) and they are printed at the end of the
session, under "fundsim robustness figures".

The hostile suite (tests/test_hostile_*.py, issue 15) marks each case ``@pytest.mark.hostile(category)``;
the number of cases per category, their outcome and the exit statuses seen are printed under
"fundsim hostile suite". ``--hostile-long`` adds its long mode: more values per category, more
signal trials, and the slower cases (a Dask cluster stopped by SIGTERM, larger tampered sweeps).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

#: Cases of the loader fuzz in the normal suite and with --fuzz-long.
FUZZ_CASES_NORMAL = 1_000
FUZZ_CASES_LONG = 10_000

_FIGURES = pytest.StashKey[dict[str, str]]()
_HOSTILE = pytest.StashKey[dict[str, Counter[str]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fundsim")
    group.addoption(
        "--fuzz-long",
        action="store_true",
        default=False,
        help=f"run the scenario-file fuzz with {FUZZ_CASES_LONG:,} cases (default {FUZZ_CASES_NORMAL:,})",
    )
    group.addoption("--fuzz-cases", type=int, default=None, help="run the scenario-file fuzz with exactly N cases")
    group.addoption(
        "--hostile-long",
        action="store_true",
        default=False,
        help="run the hostile suite's long mode (more cases per category, slower signal and Dask cases)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "unit: one module on hand-made inputs (tests/conftest.py KIND_BY_FILE)")
    config.addinivalue_line("markers", "validation: the model against theory, identities, published figures, recovery")
    config.addinivalue_line("markers", "e2e: commands and the API end to end, and the robustness suites")
    config.addinivalue_line("markers", "fuzz: property-based fuzzing of the scenario loader and the CLI")
    config.addinivalue_line("markers", "hostile(category): a case of the hostile suite (tests/test_hostile_*.py)")
    config.addinivalue_line("markers", "hostile_long: a hostile case run only in long mode (--hostile-long)")
    config.stash[_FIGURES] = {}
    config.stash[_HOSTILE] = defaultdict(Counter)


@pytest.fixture(scope="session")
def hostile_saved(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A run, a compare and a sweep folder of scenarios/tiny.yaml, made once for the hostile suite."""
    from hostile_kit import make_saved

    return make_saved(tmp_path_factory.mktemp("hostile-saved"))


@pytest.fixture(autouse=True)
def _hostile_scratch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hostile cases keep crash files and rescued results out of the home folder."""
    if request.node.get_closest_marker("hostile") is None:
        return
    monkeypatch = request.getfixturevalue("monkeypatch")
    scratch = tmp_path_factory.mktemp("hostile-scratch")
    monkeypatch.setenv("FUNDSIM_CRASH_DIR", str(scratch / "crashes"))
    monkeypatch.setenv("FUNDSIM_RESCUE_DIR", str(scratch / "rescued"))


#: Every test file's kind, so ``pytest -m unit`` (or ``validation``, ``e2e``) selects it. A file missing
#: from here stops the collection: a new test file must say what kind of test it is.
#:
#: * ``unit``: one module on hand-made inputs with answers worked out by hand;
#: * ``validation``: the model against something nobody here wrote (queueing theory, accounting
#:   identities, published figures, parameter recovery) or a pinned regression;
#: * ``e2e``: commands and the API end to end, and the robustness suites (hostile input, kills, fuzz).
KIND_BY_FILE: dict[str, str] = {
    **dict.fromkeys(
        (
            "test_addon_funding.py",
            "test_accounts.py", "test_allocation.py", "test_architecture.py", "test_calibrate_read.py",
            "test_calibrate_known.py", "test_event_draws.py", "test_virtual_ward_fast.py", "test_contract_years.py",
            "test_ward_night.py", "test_keyed_draws.py",
            "test_contract_properties.py", "test_contracts.py", "test_contracts_2025.py", "test_diagnostics.py",
            "test_hazard.py",
            "test_incidence_text.py", "test_interrupts.py", "test_loader.py", "test_observability.py",
            "test_pay_award.py",
            "test_policy.py", "test_report_sections.py",
            "test_reserves.py", "test_report_years.py", "test_roster.py", "test_sizing.py", "test_unfunded.py",
            "test_block_rebased.py",
        ),
        "unit",
    ),
    **dict.fromkeys(
        (
            "test_addon_effect.py",
            "test_admissions_window.py", "test_advice.py", "test_backtest.py", "test_calibrate_recovery.py",
            "test_calibrate_check.py",
            "test_checks.py", "test_expected_rates.py", "test_incidence.py", "test_initial_state.py",
            "test_kernels.py", "test_model.py", "test_queueing.py",
            "test_urgent_response.py", "test_urgent_response_service.py",
            "test_virtual_ward.py", "test_virtual_ward_service.py",
            "test_rebasing_run.py",
            "test_management_review.py",
            "test_snapshots.py", "test_visit_minutes_cut.py", "test_reserves_run.py",
        ),
        "validation",
    ),
    **dict.fromkeys(
        (
            "test_addon_report.py",
            "test_atomic_kill.py", "test_atomic_outputs.py", "test_calibrate_outputs.py", "test_calibrate_synth.py",
            "test_cli.py", "test_cli_incidence.py", "test_cli_width.py", "test_compare.py", "test_decisions.py",
            "test_docs_sync.py", "test_fuzz.py", "test_hostile_folders.py", "test_hostile_injection.py",
            "test_hostile_inputs.py", "test_hostile_jobs.py", "test_hostile_model.py", "test_hostile_outputs.py",
            "test_hostile_printing.py", "test_hostile_signals.py", "test_report.py", "test_report_browser.py",
            "test_report_data.py", "test_report_kill.py", "test_report_workbook.py", "test_sweep.py",
            "test_sweep_lost_worker.py", "test_sweep_report.py", "test_toy_contract.py",
        ),
        "e2e",
    ),
}  # fmt: skip

KINDS = ("unit", "validation", "e2e")


def _mark_kinds(items: list[pytest.Item]) -> None:
    """Give every test its file's kind marker; refuse a file with no kind."""
    unknown = sorted({item.path.name for item in items if item.path.name not in KIND_BY_FILE})
    if unknown:
        raise pytest.UsageError(
            f"tests/conftest.py KIND_BY_FILE does not say what kind of test {', '.join(unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'}: add each file as one of {', '.join(KINDS)}"
        )
    for item in items:
        item.add_marker(getattr(pytest.mark, KIND_BY_FILE[item.path.name]))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its kind; without --hostile-long, leave out the hostile suite's long-mode cases."""
    _mark_kinds(items)
    if config.getoption("--hostile-long"):
        return
    long_mode = [item for item in items if item.get_closest_marker("hostile_long") is not None]
    if long_mode:
        config.hook.pytest_deselected(items=long_mode)
        items[:] = [item for item in items if item.get_closest_marker("hostile_long") is None]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Count each hostile case once (at its call, or at a setup that skipped it) by category and outcome."""
    report = yield
    marker = item.get_closest_marker("hostile")
    if marker is not None and (report.when == "call" or (report.when == "setup" and report.outcome != "passed")):
        tally = item.config.stash[_HOSTILE][str(marker.args[0])]
        tally[report.outcome] += 1
        for name, value in item.user_properties:
            if name == "hostile_exit":
                tally[f"exit {value}"] += 1
    return report


@pytest.fixture
def fuzz_cases(request: pytest.FixtureRequest) -> int:
    """How many fuzz cases to run: --fuzz-cases, else 10,000 with --fuzz-long, else 1,000."""
    exact = request.config.getoption("--fuzz-cases")
    if exact is not None:
        return int(exact)
    return FUZZ_CASES_LONG if request.config.getoption("--fuzz-long") else FUZZ_CASES_NORMAL


@pytest.fixture
def robustness_figures(request: pytest.FixtureRequest) -> dict[str, str]:
    """A dict a test fills with ``{label: figures}``; printed in the terminal summary."""
    return request.config.stash[_FIGURES]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    figures = config.stash.get(_FIGURES, {})
    if figures:
        terminalreporter.section("fundsim robustness figures")
        for label, text in figures.items():
            terminalreporter.write_line(f"{label}: {text}")
    hostile = config.stash.get(_HOSTILE, {})
    if hostile:
        terminalreporter.section("fundsim hostile suite")
        totals: Counter[str] = Counter()
        for category in sorted(hostile):
            tally = hostile[category]
            totals.update(tally)
            terminalreporter.write_line(f"{category}: {_hostile_line(tally)}")
        terminalreporter.write_line(f"all categories: {_hostile_line(totals)}")


def _hostile_line(tally: Counter[str]) -> str:
    cases = sum(n for key, n in tally.items() if not key.startswith("exit "))
    outcomes = ", ".join(f"{key} {tally[key]}" for key in ("passed", "failed", "skipped") if tally[key])
    exits = ", ".join(
        f"{key.removeprefix('exit ')}: {n}"
        for key, n in sorted(tally.items(), key=lambda kv: int(kv[0][5:]) if kv[0].startswith("exit ") else -1)
        if key.startswith("exit ")
    )
    return f"{cases} case(s): {outcomes}; exit statuses {exits or 'none recorded'}"
