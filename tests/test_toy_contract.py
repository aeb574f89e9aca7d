"""A sixth contract, defined and registered here, works end to end with nothing else edited.

"One module and one registry line": the toy contract below is what such a module would hold, and
``registered(...)`` is the registry line (for the length of the test module only, so other tests
see the five shipped contracts). It is loaded from a scenario file, checked against the scenario,
scaled, run, compared with the block contract, stored and reported, and its payments are checked
against its rule worked out by hand from the stored ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import small_dict
from pydantic import Field

import fundsim
from fundsim.contracts import REGISTRY, ContractConfig, ContractContext, ContractType, registered
from fundsim.errors import ScenarioError
from fundsim.report.build import build_report
from fundsim.scenario.models import Scenario
from fundsim.scenario.scaling import scale_size

# --------------------------------------------------------------------------- the toy contract's module

NAME = "per_visit_with_floor"
LABEL = "per-visit with floor"
COLOUR = "#882255"
#: Most the floor may be, per head of the population a year (the toy's own check against the scenario).
MAX_FLOOR_PER_HEAD_GBP = 1000.0


class PerVisitWithFloor(ContractConfig):
    """A price per contact, topped up to an annual floor at the end of each contract year."""

    price_per_contact_gbp: float = Field(gt=0, le=10_000, allow_inf_nan=False, description="£ per contact.")
    floor_gbp_per_year: float = Field(ge=0, le=1e11, allow_inf_nan=False, description="Least paid a year (£).")
    planned_contacts_per_year: float | None = Field(
        None, ge=0, le=1e9, allow_inf_nan=False, description="Contacts a year the parties expect (for sizing only)."
    )


def pay(periods: pd.DataFrame, config: PerVisitWithFloor, context: ContractContext) -> pd.DataFrame:
    """price × contacts each month, plus (per replication and contract year with n months) the top-up
    max(0, floor × n / 12 − price × the year's contacts) spread evenly over the year's months."""
    contacts = periods["contacts"].to_numpy(dtype=float)
    earned = config.price_per_contact_gbp * contacts
    keys = [periods["replication"].to_numpy(), periods["contract_year"].to_numpy()]
    by_year = pd.Series(earned).groupby(keys)
    year_earned = by_year.transform("sum").to_numpy()
    n = by_year.transform("size").to_numpy(dtype=float)
    top_up = np.maximum(0.0, config.floor_gbp_per_year * n / context.months_per_year - year_earned) / n
    income = earned + top_up
    return pd.DataFrame(
        {
            "income_gbp": income,
            "contracted_activity": config.floor_gbp_per_year / config.price_per_contact_gbp / context.months_per_year,
            "delivered_activity": contacts,
            "funded_activity": income / config.price_per_contact_gbp,  # every contact is paid for
            "top_up_gbp": top_up,
        },
        index=periods.index,
    )


def check(config: PerVisitWithFloor, context: ContractContext, where: str) -> None:
    """The floor must be a plausible sum for the population served."""
    if config.floor_gbp_per_year > MAX_FLOOR_PER_HEAD_GBP * context.population:
        raise ValueError(f"{where}.floor_gbp_per_year is more than £{MAX_FLOOR_PER_HEAD_GBP:,.0f} a head")


CONTRACT = ContractType(
    name=NAME,
    config=PerVisitWithFloor,
    pay=pay,
    summary="a price per contact, topped up to an annual floor",
    label=LABEL,
    colour=COLOUR,
    scaled_fields=("floor_gbp_per_year", "planned_contacts_per_year"),
    planned_activity_field="planned_contacts_per_year",
    activity_columns=("contacts",),
    check=check,
)

# --------------------------------------------------------------------------- the tests

POPULATION = 20_000
PRICE_GBP = 70.0


@pytest.fixture(scope="module")
def toy() -> Iterator[ContractType]:
    """The registry line, for this module only."""
    with registered(CONTRACT) as contract:
        yield contract


def _scenario_data(floor_gbp_per_year: float) -> dict:
    d = small_dict(population=POPULATION, years=1.0, warmup_days=30)
    d["name"] = "toy"
    d["simulation"]["replications"] = 2
    d["contracts"] = {
        "block": d["contracts"]["block"],
        NAME: {"price_per_contact_gbp": PRICE_GBP, "floor_gbp_per_year": floor_gbp_per_year},
    }
    d["contract"] = NAME
    return d


def _floor(d: dict) -> float:
    """A floor above what the block's contracted activity earns at the toy price, so the top-up is paid."""
    return 1.4 * PRICE_GBP * d["contracts"]["block"]["contracted_activity_per_year"]


def _by_hand(provider: pd.DataFrame, floor_gbp_per_year: float) -> pd.Series:
    """The toy rule worked out from the stored ledger, one replication and contract year at a time."""
    income = pd.Series(np.nan, index=provider.index)
    for _, year in provider.groupby(["replication", "contract_year"]):
        earned = PRICE_GBP * year["contacts"]
        top_up = max(0.0, floor_gbp_per_year * len(year) / 12 - earned.sum())
        income[year.index] = earned + top_up / len(year)
    return income


def test_registering_adds_the_contract_everywhere_and_leaving_removes_it() -> None:
    shipped = list(REGISTRY)
    with registered(CONTRACT):
        assert list(REGISTRY) == [*shipped, NAME]
        schema = Scenario.model_json_schema()
        assert NAME in schema["$defs"]["Contracts"]["properties"]
        assert "PerVisitWithFloor" in schema["$defs"]
        with pytest.raises(ValueError, match="already registered"):
            with registered(CONTRACT):
                pass
    assert list(REGISTRY) == shipped
    assert NAME not in Scenario.model_json_schema()["$defs"]["Contracts"]["properties"]
    with pytest.raises(ValueError, match=NAME):  # an unknown key again
        Scenario.model_validate(_scenario_data(1e6))


def test_load_check_and_scale(toy: ContractType, tmp_path: Path) -> None:
    d = _scenario_data(1e6)
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    scenario = fundsim.load_scenario(path)
    assert isinstance(getattr(scenario.contracts, NAME), PerVisitWithFloor)
    # Its own check against the scenario, located like any other problem of the file.
    d["contracts"][NAME]["floor_gbp_per_year"] = 2 * MAX_FLOOR_PER_HEAD_GBP * POPULATION
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"contracts\.{NAME}\.floor_gbp_per_year is more than"):
        fundsim.load_scenario(path)
    # Its bounds, from its config model.
    d["contracts"][NAME]["price_per_contact_gbp"] = -1
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"contracts\.{NAME}\.price_per_contact_gbp"):
        fundsim.load_scenario(path)
    # Scaling a scenario scales its declared totals, and only those.
    scaled = scale_size(_scenario_data(1e6), 2.0)
    assert scaled["contracts"][NAME] == {"price_per_contact_gbp": PRICE_GBP, "floor_gbp_per_year": 2e6}


def test_run_compare_and_report_end_to_end(toy: ContractType, tmp_path: Path) -> None:
    d = _scenario_data(0.0)
    floor = _floor(d)
    d["contracts"][NAME]["floor_gbp_per_year"] = floor
    scenario = Scenario.model_validate(d)

    # Run: the provider manages to the toy contract (responsive), priced by its rule.
    run = fundsim.run_scenario(scenario, 2)
    assert run.contract == NAME
    provider = run.provider.reset_index(drop=True)
    np.testing.assert_allclose(provider["income_gbp"], _by_hand(provider, floor), rtol=1e-12)
    assert (provider["pay_top_up_gbp"] > 0).all()  # the floor binds: both parts of the rule are used

    # Compare with the block contract (common random numbers), store, report.
    comparison = fundsim.compare_scenario(scenario, ["block", NAME], 2, risk=False)
    assert comparison.contracts == ("block", NAME)
    toy_rows = comparison.provider[comparison.provider["contract"] == NAME].reset_index(drop=True)
    np.testing.assert_allclose(toy_rows["income_gbp"], _by_hand(toy_rows, floor), rtol=1e-12)
    # The same simulation under the same contract: the run's numbers again.
    pd.testing.assert_series_equal(toy_rows["income_gbp"], provider["income_gbp"], check_names=False)

    out = tmp_path / "compare"
    fundsim.write_comparison(comparison, out, scenario_file=None, wall_time_s=0.0, jobs=1)
    stored = pd.read_parquet(out / "provider.parquet")
    stored = stored[stored["contract"] == NAME].reset_index(drop=True)
    np.testing.assert_allclose(stored["income_gbp"], _by_hand(stored, floor), rtol=1e-12)

    report = build_report(out)
    html = report.html.read_text(encoding="utf-8")
    assert LABEL in html
    assert COLOUR.lower() in html.lower()
    activity = pd.read_csv(out / "tables" / "activity.csv")
    assert set(activity["contract"]) == {"block", NAME}


def test_sizing_reads_the_planned_activity_the_contract_declares(toy: ContractType) -> None:
    """The pre-run sizing check finds a contract's planned contacts by its declaration, not by a field name."""
    from fundsim.scenario.sizing import size_scenario

    d = _scenario_data(1e6)
    assert size_scenario(Scenario.model_validate(d)).contracted_activity_per_year is None  # none planned
    d["contracts"][NAME]["planned_contacts_per_year"] = 12_345.0
    assert size_scenario(Scenario.model_validate(d)).contracted_activity_per_year == 12_345.0
    d["contract"] = "block"  # the block's own declaration
    planned = d["contracts"]["block"]["contracted_activity_per_year"]
    assert size_scenario(Scenario.model_validate(d)).contracted_activity_per_year == float(planned)


def test_a_contract_type_refuses_declarations_its_config_does_not_have() -> None:
    """Nothing is guessed from field names, so a typo in a declaration fails when the module is imported."""
    base = {"config": PerVisitWithFloor, "pay": pay, "summary": "s", "label": "l"}
    with pytest.raises(ValueError, match=r"scaled_fields names no field of PerVisitWithFloor: \['floor_gbp'\]"):
        ContractType(name=NAME, scaled_fields=("floor_gbp",), **base)
    with pytest.raises(ValueError, match="tier_keyed_fields names no field"):
        ContractType(name=NAME, tier_keyed_fields=("tier_prices",), **base)
    with pytest.raises(ValueError, match="every_tier_fields must also be tier_keyed_fields"):
        ContractType(name=NAME, tier_keyed_fields=(), every_tier_fields=("floor_gbp_per_year",), **base)
    with pytest.raises(ValueError, match="planned_activity_field names no field"):
        ContractType(name=NAME, planned_activity_field="contacts_per_year", **base)
    with pytest.raises(ValueError, match="lower case"):
        ContractType(name="Per Visit", **base)
    with pytest.raises(ValueError, match="#RRGGBB"):
        ContractType(name=NAME, colour="wine", **base)


def test_report_style_reads_label_and_colour_from_the_registry(toy: ContractType) -> None:
    from fundsim.report import style

    assert style.contract_label(NAME) == LABEL
    assert style.contract_colour(NAME, ("block", NAME)) == COLOUR
    assert style.CONTRACT_COLOURS[NAME] == COLOUR
    assert style.contract_label("cost_and_volume") == "cost and volume"
    assert style.contract_colour("unregistered", ("unregistered",)) == style.SPARE_COLOURS[0]
