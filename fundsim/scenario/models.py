"""The scenario schema: the whole ``Scenario`` and its contracts section, with every part re-exported.

The parts live by concern: ``fields`` (base model, bounded types), ``service_models`` (calendar,
demand, tiers, staff, hospital), ``policy_models`` (the provider's responses), ``analysis_models``
(risk view, valuation).

Every external input to fundsim passes through these models. They reject unknown keys
(``extra="forbid"``) so that a typo fails loudly, bound every number, and are frozen so a
scenario is never mutated after validation (a sweep derives a new one per point instead).
Units are in the field names (``_gbp``, ``_days``, ``_minutes``, ``_per_1000_per_year``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, create_model, model_validator

from fundsim.contracts import REGISTRY, on_change
from fundsim.contracts.base import ContractConfig, ContractContext
from fundsim.scenario.addon_models import AddOns
from fundsim.scenario.analysis_models import Price, RiskView, Valuation
from fundsim.scenario.fields import (
    MAX_STAY_DAYS,
    MAX_TOTAL_POPULATION,
    MAX_VISIT_MINUTES,
    MAX_WEEKDAY_WEIGHT,
    MIX_TOLERANCE,
    Model,
    Name,
    NonNegative,
    Positive,
    Probability,
    Weight,
    _check_mix,
)
from fundsim.scenario.initial_state_models import InitialState
from fundsim.scenario.policy_models import (
    MAX_VISIT_SHORTENING,
    Hiring,
    OvertimeResponse,
    PolicyMode,
    ProviderPolicy,
    Rationing,
    Shedding,
)
from fundsim.scenario.service_models import (
    Care,
    Demand,
    Distribution,
    DurationMinutes,
    Grade,
    Hospital,
    Locality,
    Outcomes,
    Seasonality,
    Simulation,
    StayDays,
    Tier,
    VisitCount,
    Workforce,
)

#: The whole schema is importable from here; each part lives in the module of its concern.
__all__ = [
    "MAX_STAY_DAYS",
    "MAX_TOTAL_POPULATION",
    "MAX_VISIT_MINUTES",
    "MAX_VISIT_SHORTENING",
    "MAX_WEEKDAY_WEIGHT",
    "MIX_TOLERANCE",
    "Care",
    "Contracts",
    "ContractsModel",
    "Demand",
    "Distribution",
    "DurationMinutes",
    "Grade",
    "Hiring",
    "Hospital",
    "Locality",
    "Model",
    "Name",
    "NonNegative",
    "Outcomes",
    "OvertimeResponse",
    "PolicyMode",
    "Positive",
    "Price",
    "Probability",
    "ProviderPolicy",
    "Rationing",
    "RiskView",
    "Scenario",
    "Seasonality",
    "Shedding",
    "Simulation",
    "StayDays",
    "Tier",
    "Valuation",
    "VisitCount",
    "Weight",
    "Workforce",
]

# --------------------------------------------------------------------------- contracts & policy


class ContractsModel(Model):
    """The base of ``Contracts``, whose fields (one optional config per registered contract) are made at run time."""

    if TYPE_CHECKING:
        # The fields come from the registry when fundsim runs, so a type checker cannot see them: to it,
        # any attribute is a contract's config, or None when the scenario does not configure that contract.
        def __getattr__(self, name: str) -> ContractConfig | None: ...


#: The ``Contracts`` model built for each state of the registry: when a contract registered for a while
#: (a test's) is removed, the model returns to the very class scenarios made before it were validated
#: with, so they still pickle (to a worker process) and compare as before.
_CONTRACTS_MODELS: dict[tuple[object, ...], type[ContractsModel]] = {}


def _contracts_model() -> type[ContractsModel]:
    """One optional field per registered contract, so adding a contract needs no edit here."""
    key = tuple(REGISTRY.items())
    if key not in _CONTRACTS_MODELS:
        # Typed Any: create_model's ``**field_definitions`` shares its keywords with ``__config__`` & co.
        fields: dict[str, Any] = {
            name: (entry.config | None, Field(None, description=entry.summary)) for name, entry in key
        }
        _CONTRACTS_MODELS[key] = create_model(
            "Contracts",
            __base__=ContractsModel,
            __doc__="The funding models a scenario can be run under.",
            __module__=__name__,
            **fields,
        )
    return _CONTRACTS_MODELS[key]


if TYPE_CHECKING:
    #: To a type checker, the contracts section is its static base (see ``ContractsModel``).
    Contracts = ContractsModel
else:
    Contracts = _contracts_model()


class Scenario(Model):
    """A whole scenario: one community nursing service, its demand, staff and contracts."""

    name: Name
    description: str = Field("", max_length=10_000)
    simulation: Simulation = Simulation()
    demand: Demand
    localities: list[Locality] = Field(min_length=1, max_length=200)
    tiers: list[Tier] = Field(min_length=1, max_length=20)
    workforce: Workforce
    care: Care = Care()
    outcomes: Outcomes = Outcomes()
    hospital: Hospital = Hospital()
    contracts: Contracts = Field(description="Configured funding models.")
    contract: str = Field("block", description="The contract `fundsim run` pays the provider under.")
    provider_policy: ProviderPolicy = ProviderPolicy()
    risk_view: RiskView | None = Field(None, description="Demand-growth range for the 'who bears the risk' view.")
    valuation: Valuation | None = Field(
        None, description="Optional prices for what patients carry (waits, declines, deferrals, missed and cut visits)."
    )
    addons: AddOns | None = Field(
        None,
        description="Optional hospital-avoidance services on top of the core (a 2-hour urgent community response).",
    )
    initial_state: InitialState | None = Field(
        None,
        description="Optional caseload and waiting list on the first day (aggregate counts per locality); "
        "without it the lists start empty (docs/calibrate.md, initial state).",
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        tier_names = [t.name for t in self.tiers]
        grade_names = {g.name for g in self.workforce.grades}
        if len(set(tier_names)) != len(tier_names):
            raise ValueError("tier names must be unique")
        for mix_name in ("complexity_mix", "complexity_mix_end"):
            mix = getattr(self.demand, mix_name)
            if mix is not None and set(mix) != set(tier_names):
                raise ValueError(f"demand.{mix_name} must name exactly the tiers {tier_names}, got {sorted(mix)}")
        for i, tier in enumerate(self.tiers):
            unknown = [g for g in tier.allowed_grades if g not in grade_names]
            if unknown:
                raise ValueError(
                    f"tiers[{i}].allowed_grades names unknown grade(s) {unknown}; grades are {sorted(grade_names)}"
                )
        if self.care.min_accepted_tier >= len(self.tiers):
            raise ValueError(
                f"care.min_accepted_tier is {self.care.min_accepted_tier}, which would decline every referral; "
                f"it must be below the number of tiers ({len(self.tiers)})"
            )
        self._check_workforce()
        loc_names = [loc.name for loc in self.localities]
        if len(set(loc_names)) != len(loc_names):
            raise ValueError("locality names must be unique")
        if self.total_population > MAX_TOTAL_POPULATION:
            raise ValueError(
                f"localities: the total population is {self.total_population:,}; the limit is "
                f"{MAX_TOTAL_POPULATION:,} (about the population of the United Kingdom)"
            )
        shares = [loc.staff_share for loc in self.localities]
        given = [s for s in shares if s is not None]
        if given:
            if len(given) < len(shares):
                raise ValueError("localities: give staff_share for every locality or for none")
            names = [loc.name for loc in self.localities]
            _check_mix({name: float(s) for name, s in zip(names, given, strict=True)}, "localities staff_share")
        self._check_contracts()
        self._check_initial_state()
        self._check_addons()
        if getattr(self.contracts, self.contract, None) is None:
            configured = [k for k, v in self.contracts if v is not None]
            raise ValueError(f"contract '{self.contract}' is not configured under contracts; configured: {configured}")
        horizon_days = self.simulation.horizon_years * 365.25
        if horizon_days < 28:
            raise ValueError("simulation.horizon_years must cover at least one month")
        if self.simulation.warmup_days > horizon_days:
            raise ValueError(
                f"simulation.warmup_days ({self.simulation.warmup_days} days) is longer than the measured horizon "
                f"(horizon_years {self.simulation.horizon_years:g} = {horizon_days:.0f} days); "
                "shorten the warm-up or lengthen the horizon"
            )
        return self

    def _check_workforce(self) -> None:
        """Every grade can make some tier's visits, and every accepted tier has someone to visit it.

        A grade is *on duty* unless leave and sickness take all its shifts, and gives *visit time*
        when it is also employed (FTE > 0) and spends some of its shift with patients.
        """
        grades = self.workforce.grades
        used = {name for tier in self.tiers for name in tier.allowed_grades}
        for i, grade in enumerate(grades):
            if grade.name not in used:
                raise ValueError(
                    f"workforce.grades[{i}] ('{grade.name}') is in no tier's allowed_grades, so it can make no "
                    "visits; add it to a tier's allowed_grades or remove the grade"
                )
            absent = grade.annual_leave_share + grade.sickness_share
            if absent >= 1.0:
                raise ValueError(
                    f"workforce.grades[{i}] ('{grade.name}'): annual_leave_share + sickness_share is {absent:.6g}, "
                    "so its staff are never on duty; the two must add up to less than 1"
                )
        visit_time = {g.name: g.fte * g.patient_facing_share > 0 for g in grades}
        if not any(visit_time.values()):
            raise ValueError(
                "workforce: the roster has zero visit hours in every shift (every grade has fte 0 or "
                "patient_facing_share 0), so no visit could ever be made"
            )
        for i, tier in enumerate(self.tiers):
            if i >= self.care.min_accepted_tier and not any(visit_time[g] for g in tier.allowed_grades):
                raise ValueError(
                    f"tiers[{i}].allowed_grades: no staff can make the visits of tier '{tier.name}': every allowed "
                    f"grade ({', '.join(tier.allowed_grades)}) has fte 0 or patient_facing_share 0"
                )

    def _check_initial_state(self) -> None:
        """The initial state names existing localities and tiers, and leaves room in each tier's care plan."""
        if self.initial_state is None:
            return
        if self.simulation.scheduling == "continuous":
            raise ValueError(
                "initial_state: a run cannot start from an initial state under simulation.scheduling "
                "'continuous' (the M/M/c validation path); use 'daily' or remove initial_state"
            )
        loc_names = [loc.name for loc in self.localities]
        tiers = {t.name: t for t in self.tiers}
        for i, state in enumerate(self.initial_state.localities):
            where = f"initial_state.localities[{i}]"
            if state.locality not in loc_names:
                raise ValueError(f"{where}.locality: unknown locality '{state.locality}'; localities are {loc_names}")
            for j, group in enumerate(state.caseload):
                tier = tiers.get(group.tier)
                if tier is None:
                    raise ValueError(
                        f"{where}.caseload[{j}].tier: unknown tier '{group.tier}'; tiers are {list(tiers)}"
                    )
                if group.visits_made_top >= tier.visits.maximum:
                    raise ValueError(
                        f"{where}.caseload[{j}]: up to {group.visits_made_top} visits already made, but tier "
                        f"'{tier.name}' caps an episode at {tier.visits.maximum} (visits.maximum); people on the "
                        "caseload have at least one visit to come"
                    )

    def _check_addons(self) -> None:
        """An add-on's staff (UCR responders, virtual-ward staff) are drawn from grades that exist."""
        if self.addons is None:
            return
        grades = [g.name for g in self.workforce.grades]
        named = (
            ("urgent_response", "responder_grades", self.addons.urgent_response),
            ("virtual_ward", "staff_grades", self.addons.virtual_ward),
        )
        for section, field, addon in named:
            chosen = getattr(addon, field, None) if addon is not None else None
            unknown = [g for g in chosen or () if g not in grades]
            if unknown:
                raise ValueError(f"addons.{section}.{field} names unknown grade(s) {unknown}; grades are {grades}")

    def _check_contracts(self) -> None:
        """Each configured contract's checks against this scenario (``ContractType.check_scenario``).

        Its fields keyed by tier or locality must name tiers or localities that exist, as each
        contract declares them, and any check of its own must pass.
        """
        context = self.contract_context()
        for contract, config in self.contracts:
            if config is not None:
                REGISTRY[contract].check_scenario(config, context, f"contracts.{contract}")

    # -- derived helpers (no state) --------------------------------------------------

    @property
    def total_population(self) -> int:
        """Total population across localities."""
        return sum(loc.population for loc in self.localities)

    def contract_context(self) -> ContractContext:
        """What a payment rule may know about this service besides the ledger."""
        return ContractContext(
            population=self.total_population,
            locality_populations={loc.name: loc.population for loc in self.localities},
            tier_names=tuple(t.name for t in self.tiers),
            expected_tier_mix={t.name: float(self.demand.complexity_mix[t.name]) for t in self.tiers},
        )

    def staff_shares(self) -> list[float]:
        """Share of each grade's FTE working in each locality (population share by default)."""
        # Validation gives staff_share for every locality or for none.
        given = [float(loc.staff_share) for loc in self.localities if loc.staff_share is not None]
        if given:
            return given
        total = self.total_population
        return [loc.population / total for loc in self.localities]


@on_change
def _follow_the_registry() -> None:
    """Rebuild ``Contracts`` and the ``Scenario.contracts`` field after a contract is registered or removed.

    The schema is built from the registry once at import; a contract registered later (a test's toy
    contract, a plug-in) then validates, appears in ``fundsim schema`` and in error messages like the
    shipped ones.
    """
    global Contracts
    model = _contracts_model()
    if not TYPE_CHECKING:  # to a type checker Contracts stays ContractsModel, the base of every model made
        Contracts = model
    Scenario.model_fields["contracts"].annotation = model
    Scenario.model_rebuild(force=True)
