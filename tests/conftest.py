"""Shared test options: the size of the loader fuzz, and a summary of the robustness figures.

``pytest --fuzz-long`` runs the loader fuzz (tests/test_fuzz.py) with 10,000 cases instead of
1,000; ``--fuzz-cases N`` runs exactly N. The fuzz and kill tests (tests/test_atomic.py) record
their figures (cases run, exit statuses seen, kill points) and they are printed at the end of the
session, under "fundsim robustness figures".
"""

from __future__ import annotations

import pytest

#: Cases of the loader fuzz in the normal suite and with --fuzz-long.
FUZZ_CASES_NORMAL = 1_000
FUZZ_CASES_LONG = 10_000

_FIGURES = pytest.StashKey[dict[str, str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fundsim")
    group.addoption(
        "--fuzz-long",
        action="store_true",
        default=False,
        help=f"run the scenario-file fuzz with {FUZZ_CASES_LONG:,} cases (default {FUZZ_CASES_NORMAL:,})",
    )
    group.addoption("--fuzz-cases", type=int, default=None, help="run the scenario-file fuzz with exactly N cases")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: property-based fuzzing of the scenario loader and the CLI")
    config.stash[_FIGURES] = {}


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
