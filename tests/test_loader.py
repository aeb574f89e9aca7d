"""Tests for the scenario loader: valid files load, and every way a file can be wrong is reported
as a ScenarioError located by file, line, column and field path."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from fundsim.errors import FundsimError, Problem, ScenarioError
from fundsim.scenario import Scenario, load_model, load_model_text, load_scenario, load_scenario_text, scenario_sha256
from fundsim.scenario.loader import MAX_FILE_BYTES, format_path

# Line numbers are referred to by the tests below; keep the layout (line 1 is the comment).
VALID = """\
# A small but complete scenario.
name: Test service
demand:
  complexity_mix:
    low: 0.7
    high: 0.3
localities:
  - name: North
    population: 100000
    referral_rate_per_1000_per_year: 12.5
tiers:
  - name: low
    visits: {mean: 4}
    interval_days: 7
    face_to_face_minutes: {mean: 30, cv: 0.3}
    allowed_grades: [band5]
    daily_admission_hazard: 0.001
  - name: high
    visits: {mean: 12}
    interval_days: 2
    face_to_face_minutes: {mean: 45}
    allowed_grades: [band5, band6]
    daily_admission_hazard: 0.004
workforce:
  grades:
    - name: band5
      fte: 20
      hourly_cost_gbp: 22.5
    - name: band6
      fte: 8
      hourly_cost_gbp: 28
contracts:
  block:
    annual_value_gbp: 3000000
    contracted_activity_per_year: 60000
"""

REQUIRED_KEYS = "name, demand, localities, tiers, workforce, contracts"


def edit(old: str, new: str, text: str = VALID) -> str:
    """Replace exactly one occurrence of ``old``, so a typo in a test cannot silently do nothing."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def problems_of(text: str, filename: str = "example.yaml") -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, filename)
    return info.value.problems


def only_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def file_problem(path: Path) -> Problem:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.problems) == 1, info.value.problems
    return info.value.problems[0]


# --------------------------------------------------------------------------- valid input


def test_valid_file_loads_and_defaults_are_filled(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(VALID, encoding="utf-8")
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name == "Test service"
    assert [g.fte for g in scenario.workforce.grades] == [20.0, 8.0]
    assert scenario.demand.complexity_mix == {"low": 0.7, "high": 0.3}
    # Defaults from the models.
    assert scenario.simulation.horizon_years == 3.0
    assert scenario.simulation.scheduling == "daily"
    assert scenario.demand.sources == {"gp": 0.45, "hospital_discharge": 0.40, "other": 0.15}
    assert scenario.tiers[0].travel_minutes.mean == 20
    assert scenario.tiers[1].face_to_face_minutes.distribution == "lognormal"
    assert scenario.workforce.grades[0].contract_hours_per_week == 37.5
    assert scenario.contract == "block"
    assert scenario.contracts.block.activity_unit == "contacts"
    with pytest.raises(ValidationError):
        scenario.name = "changed"  # frozen


def test_text_and_str_path_load_the_same(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_scenario(str(path)) == load_scenario_text(VALID) == load_model(path, Scenario)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert load_scenario(path).name == "Test service"


def test_yaml_merge_keys_work_and_errors_point_into_the_anchor() -> None:
    text = "x-grade: &grade {fte: -3, hourly_cost_gbp: 20}\n" + VALID
    text = edit("    - name: band6\n      fte: 8\n", "    - <<: *grade\n      name: band6\n      fte: 8\n", text)
    scenario_problems = problems_of(text)
    # The merged grade itself is fine (its own fte overrides the anchor's); the anchor holder is unknown.
    assert [(p.line, p.column, p.field) for p in scenario_problems] == [(1, 1, "['x-grade']")]
    text = edit("      name: band6\n      fte: 8\n", "      name: band6\n", text)
    located = {p.field: (p.line, p.column, p.message) for p in problems_of(text)}
    assert located["workforce.grades[1].fte"] == (1, 23, "must be >= 0, got -3")


def test_unquoted_yes_no_stay_text_but_still_work_as_booleans() -> None:
    text = edit("  - name: North", "  - name: No") + "care: {urgent_assessment_first: no}\n"
    scenario = load_scenario_text(text)
    assert scenario.localities[0].name == "No"
    assert scenario.care.urgent_assessment_first is False


# --------------------------------------------------------------------------- error formatting


def test_problem_and_error_formatting() -> None:
    assert str(Problem("a.yaml", 14, 7, "workforce.grades[1].fte", "must be >= 0, got -2")) == (
        "a.yaml:14:7: workforce.grades[1].fte: must be >= 0, got -2"
    )
    assert str(Problem("a.yaml", None, None, "", "no such file")) == "a.yaml: no such file"
    assert str(Problem("a.yaml", 3, None, "", "m")) == "a.yaml:3: m"
    error = ScenarioError([Problem("a.yaml", 1, 2, "x", "one"), Problem("a.yaml", None, None, "", "two")])
    assert str(error) == "a.yaml:1:2: x: one\na.yaml: two"
    assert isinstance(error, FundsimError)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems
    assert str(copy) == str(error)
    with pytest.raises(ValueError, match="at least one problem"):
        ScenarioError([])


def test_format_path() -> None:
    assert format_path(("workforce", "grades", 1, "fte")) == "workforce.grades[1].fte"
    assert format_path(("demand", "complexity_mix", "very high")) == "demand.complexity_mix['very high']"
    assert format_path(()) == ""


# --------------------------------------------------------------------------- validation errors


def test_negative_number_is_located_with_bound_and_value() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(edit("fte: 8", "fte: -2"), "example.yaml")
    assert str(info.value) == "example.yaml:30:12: workforce.grades[1].fte: must be >= 0, got -2"


def test_error_names_the_file_path_it_was_given(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(edit("fte: 8", "fte: -2"), encoding="utf-8")
    problem = file_problem(path)
    assert (problem.file, problem.line, problem.column) == (str(path), 30, 12)


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "daily_admission_hazard: 0.004",
            "daily_admission_hazard: 1.5",
            "tiers[1].daily_admission_hazard",
            "must be <= 1, got 1.5",
        ),
        ("population: 100000", "population: 0", "localities[0].population", "must be > 0, got 0"),
        ("tiers:", "simulation: {horizon_years: 25}\ntiers:", "simulation.horizon_years", "must be <= 20, got 25"),
        ("tiers:", "demand2: 1\ntiers:", "demand2", "unknown key 'demand2'; did you mean 'demand'?"),
    ],
)
def test_bound_and_key_messages(old: str, new: str, field: str, message: str) -> None:
    problem = only_problem(edit(old, new))
    assert (problem.field, problem.message) == (field, message)


def test_unknown_key_suggests_the_close_field_and_points_at_the_key() -> None:
    problems = problems_of(edit("      fte: 8\n", "      fte_count: 8\n"))
    by_field = {p.field: p for p in problems}
    unknown = by_field["workforce.grades[1].fte_count"]
    assert unknown.message == "unknown key 'fte_count'; did you mean 'fte'?"
    assert (unknown.line, unknown.column) == (30, 7)
    # fte itself is then missing, reported at the grade's mapping.
    missing = by_field["workforce.grades[1].fte"]
    assert (missing.line, missing.column, missing.message) == (29, 7, "required field missing")


def test_unknown_key_with_nothing_close_lists_the_allowed_keys() -> None:
    problem = only_problem(edit("    visits: {mean: 12}", "    visits: {mean: 12, zzzz: 1}"))
    assert problem.field == "tiers[1].visits.zzzz"
    assert problem.message == "unknown key 'zzzz'; allowed keys: mean, distribution, maximum"
    assert (problem.line, problem.column) == (19, 24)


def test_missing_required_field_points_at_the_parent_mapping() -> None:
    problem = only_problem(edit("      hourly_cost_gbp: 28\n", ""))
    assert (problem.line, problem.column) == (29, 7)
    assert problem.field == "workforce.grades[1].hourly_cost_gbp"
    assert problem.message == "required field missing"


def test_missing_top_level_field_points_at_the_document() -> None:
    problem = only_problem(edit("name: Test service\n", ""))
    assert (problem.line, problem.column, problem.field) == (2, 1, "name")


def test_mix_not_summing_to_one_shows_the_sum() -> None:
    problem = only_problem(edit("high: 0.3", "high: 0.2"))
    assert problem.field == "demand.complexity_mix"
    assert problem.message == "complexity_mix must sum to 1, got 0.9"
    assert (problem.line, problem.column) == (5, 5)


def test_model_validator_error_is_located_at_the_field_it_names() -> None:
    problem = only_problem(edit("allowed_grades: [band5]", "allowed_grades: [band9]"))
    assert problem.message.startswith("tiers[0].allowed_grades names unknown grade(s) ['band9']")
    assert (problem.line, problem.column) == (16, 21)


def test_model_validator_error_naming_a_top_level_field() -> None:
    problem = only_problem(edit("  - name: North\n", "  - name: North\n    staff_share: 0.5\n"))
    assert problem.message == "localities staff_share must sum to 1, got 0.5"
    assert (problem.line, problem.column, problem.field) == (8, 3, "")


def test_model_validator_error_without_a_field_points_at_the_model() -> None:
    text = edit("  - name: high", "  - name: low", edit("    low: 0.7\n    high: 0.3\n", "    low: 1.0\n"))
    problem = only_problem(text)
    assert problem.message == "tier names must be unique"
    # The scenario's mapping starts at its first key, after the comment line.
    assert (problem.line, problem.column, problem.field) == (2, 1, "")


def test_wrong_type_shows_the_input_truncated() -> None:
    problem = only_problem(edit("interval_days: 7", "interval_days: " + "x" * 200))
    assert problem.field == "tiers[0].interval_days"
    assert problem.message.startswith("Input should be a valid number, unable to parse string as a number, got 'xxx")
    assert problem.message.endswith("...")
    assert len(problem.message.split(", got ")[1]) == 60


def test_number_where_text_is_needed_suggests_quotes() -> None:
    problem = only_problem(edit("  - name: North", "  - name: 123"))
    assert problem.field == "localities[0].name"
    assert problem.message == "Input should be a valid string, got 123; put it in quotes to make it text: '123'"
    assert (problem.line, problem.column) == (8, 11)


def test_wrong_type_for_a_nested_model() -> None:
    problem = only_problem(edit("face_to_face_minutes: {mean: 45}", "face_to_face_minutes: 45"))
    assert problem.field == "tiers[1].face_to_face_minutes"
    assert problem.message == "must be a mapping with the keys mean, cv, distribution, got 45"
    assert (problem.line, problem.column) == (21, 27)


def test_problems_are_reported_together_in_file_order() -> None:
    text = edit("fte: 8", "fte: -2", edit("population: 100000", "population: -1"))
    assert [(p.line, p.field) for p in problems_of(text)] == [
        (9, "localities[0].population"),
        (30, "workforce.grades[1].fte"),
    ]


@pytest.mark.parametrize("literal", [".nan", ".inf", "-.inf", ".NaN"])
def test_non_finite_numbers_are_rejected_where_they_are(literal: str) -> None:
    problem = only_problem(edit("interval_days: 2", f"interval_days: {literal}"))
    assert problem.field == "tiers[1].interval_days"
    assert problem.message == f"must be a finite number, got {literal}"
    assert (problem.line, problem.column) == (20, 20)


def test_union_errors_report_the_branch_that_was_meant() -> None:
    class Fixed(BaseModel):
        model_config = ConfigDict(extra="forbid")
        amount: int

    class Rate(BaseModel):
        model_config = ConfigDict(extra="forbid")
        per_unit: float

    class Tariff(BaseModel):
        model_config = ConfigDict(extra="forbid")
        price: Fixed | Rate
        cap: int | list[int] | None = None

    with pytest.raises(ScenarioError) as info:
        load_model_text("price: {amount: lots}\n", Tariff, "t.yaml")
    assert str(info.value) == (
        "t.yaml:1:17: price.amount: Input should be a valid integer, unable to parse string as an integer, got 'lots'"
    )
    with pytest.raises(ScenarioError) as info:
        load_model_text("price: {per_unit: 2}\ncap: {}\n", Tariff, "t.yaml")
    assert str(info.value) == (
        "t.yaml:2:6: cap: does not match any allowed form "
        "(Input should be a valid integer; or Input should be a valid list), got {}"
    )


# --------------------------------------------------------------------------- YAML-level errors


def test_duplicate_key_names_both_lines() -> None:
    problem = only_problem(edit("      fte: 8\n", "      fte: 8\n      fte: 9\n"))
    assert problem.message == "duplicate key 'fte' (first at line 30, again at line 31)"
    assert (problem.line, problem.column, problem.field) == (31, 7, "workforce.grades[1].fte")


def test_duplicate_top_level_key() -> None:
    problem = only_problem(VALID + "name: Other\n")
    assert problem.message == "duplicate key 'name' (first at line 2, again at line 36)"
    assert (problem.line, problem.column, problem.field) == (36, 1, "name")


def test_yaml_syntax_error_is_located() -> None:
    problem = only_problem(edit("    population: 100000", "   population: 100000"))
    assert (problem.line, problem.column, problem.field) == (9, 4, "")
    assert problem.message.startswith("YAML syntax error: expected <block end>")


def test_tab_indentation_hint() -> None:
    problem = only_problem(edit("    population: 100000", "\tpopulation: 100000"))
    assert (problem.line, problem.column) == (9, 1)
    assert "indent with spaces, not tabs" in problem.message


def test_more_than_one_document() -> None:
    problem = only_problem(VALID + "---\nname: again\n")
    assert (problem.line, problem.column) == (36, 1)
    assert "more than one YAML document" in problem.message


def test_top_level_must_be_a_mapping() -> None:
    problem = only_problem("- name: a\n- name: b\n")
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message.startswith("the top level must be a mapping")
    assert problem.message.endswith("got a list")


@pytest.mark.parametrize("text", ["", "\n\n", "# only\n   # comments\n", "---\n"])
def test_empty_file_names_the_required_keys(text: str) -> None:
    problem = only_problem(text)
    assert problem.message == f"the file is empty; a scenario needs at least the top-level keys {REQUIRED_KEYS}"
    assert problem.line is None


def test_python_tags_are_rejected_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = edit("name: Test service", f'name: !!python/object/apply:os.system ["touch {marker}"]')
    problem = only_problem(text)
    assert (problem.line, problem.column, problem.field) == (2, 7, "name")
    assert "'!!python/object/apply:os.system' is not allowed" in problem.message
    assert not marker.exists()


def test_other_tags_are_rejected() -> None:
    problem = only_problem(edit("fte: 8", "fte: !!binary aGVsbG8="))
    assert problem.field == "workforce.grades[1].fte"
    assert "'!!binary' is not allowed" in problem.message


def test_billion_laughs_is_rejected() -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    problem = only_problem("\n".join(lines) + "\n")
    assert problem.message.startswith("too many YAML aliases")


def test_too_many_alias_uses() -> None:
    text = "x: &x 1\ny: [" + ", ".join(["*x"] * 101) + "]\n"
    problem = only_problem(text)
    assert problem.message == "too many YAML aliases: more than 100 uses of '*name'"
    assert problem.line == 2


def test_recursive_alias_is_rejected() -> None:
    problem = only_problem("a: &a [1, *a]\n")
    assert "alias refers to a mapping or list that contains it" in problem.message


def test_deep_nesting_is_rejected() -> None:
    problem = only_problem("a: " + "[" * 500 + "]" * 500 + "\n")
    assert "nested more than" in problem.message


def test_huge_string_is_rejected() -> None:
    problem = only_problem(edit("name: Test service", "name: " + "x" * 200_000))
    assert (problem.line, problem.column, problem.field) == (2, 7, "name")
    assert "200000 characters is too long" in problem.message


def test_invalid_date_is_located() -> None:
    problem = only_problem(VALID + "simulation: {start_date: 2025-02-30}\n")
    assert (problem.line, problem.field) == (36, "simulation.start_date")
    assert "not a valid date" in problem.message


def test_control_character_is_located() -> None:
    problem = only_problem(edit("name: Test service", "name: Test\x00service"))
    assert (problem.line, problem.column) == (2, 11)
    assert "U+0000" in problem.message


# --------------------------------------------------------------------------- file-level errors


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    problem = file_problem(path)
    assert str(ScenarioError([problem])) == f"{path}: no such file"


def test_directory(tmp_path: Path) -> None:
    problem = file_problem(tmp_path)
    assert problem.message == "is a directory, not a file"
    assert problem.file == str(tmp_path)


def test_non_utf8_bytes_name_the_offset(tmp_path: Path) -> None:
    data = VALID.encode()
    offset = data.index(b"North") + 2
    path = tmp_path / "latin1.yaml"
    path.write_bytes(data[:offset] + b"\xe9" + data[offset + 1 :])
    problem = file_problem(path)
    assert f"byte 0xe9 at byte offset {offset}" in problem.message
    assert (problem.line, problem.column) == (8, 13)


def test_utf16_file_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "utf16.yaml"
    path.write_bytes(VALID.encode("utf-16"))
    problem = file_problem(path)
    assert "byte offset 0" in problem.message
    assert "UTF-16" in problem.message


def test_file_larger_than_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    # Not valid YAML at all: a parse attempt would report a syntax error instead.
    path.write_bytes(b"[" * (MAX_FILE_BYTES + 1))
    problem = file_problem(path)
    assert "the limit is 5.0 MB" in problem.message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(VALID, encoding="utf-8")
    path.chmod(0)
    assert file_problem(path).message == "cannot read the file: permission denied"


def test_scenario_sha256(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_bytes(VALID.encode())
    assert scenario_sha256(path) == hashlib.sha256(VALID.encode()).hexdigest()
    with pytest.raises(ScenarioError, match="no such file"):
        scenario_sha256(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------- semantic checks before simulating


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "contracts:\n",
            "contract: capitation\ncontracts:\n",
            "contract 'capitation' is not configured under contracts; configured: ['block']",
            id="contract-referenced-not-configured",
        ),
        pytest.param(
            "      hourly_cost_gbp: 28\n",
            "      hourly_cost_gbp: 28\n    - name: band3\n      fte: 4\n      hourly_cost_gbp: 20\n",
            "workforce.grades[2] ('band3') is in no tier's allowed_grades, so it can make no visits; "
            "add it to a tier's allowed_grades or remove the grade",
            id="grade-that-can-make-no-visits",
        ),
        pytest.param(
            "tiers:\n",
            "simulation: {horizon_years: 0.25, warmup_days: 120}\ntiers:\n",
            "simulation.warmup_days (120 days) is longer than the measured horizon (horizon_years 0.25 = 91 days); "
            "shorten the warm-up or lengthen the horizon",
            id="horizon-shorter-than-warmup",
        ),
        pytest.param(
            "      fte: 20\n",
            "      fte: 20\n      annual_leave_share: 0.5\n      sickness_share: 0.5\n",
            "workforce.grades[0] ('band5'): annual_leave_share + sickness_share is 1, so its staff are never on "
            "duty; the two must add up to less than 1",
            id="grade-never-on-duty",
        ),
        pytest.param(
            "      fte: 20\n",
            "      fte: 0\n",
            "tiers[0].allowed_grades: no staff can make the visits of tier 'low': every allowed grade (band5) "
            "has fte 0 or patient_facing_share 0",
            id="tier-nobody-can-visit",
        ),
    ],
)
def test_semantic_checks_have_their_own_message(old: str, new: str, expected: str) -> None:
    problem = only_problem(edit(old, new))
    assert problem.message == expected
    assert problem.line is not None


def test_grade_dropped_from_every_tier() -> None:
    text = edit("allowed_grades: [band5]\n", "allowed_grades: [band6]\n")
    text = edit("allowed_grades: [band5, band6]", "allowed_grades: [band6]", text)
    problem = only_problem(text)
    assert problem.message.startswith("workforce.grades[0] ('band5') is in no tier's allowed_grades")
    assert (problem.line, problem.column) == (26, 7)  # the grade's mapping


def test_roster_with_zero_hours_in_every_shift() -> None:
    text = edit("      fte: 20\n", "      fte: 20\n      patient_facing_share: 0\n")
    text = edit("      fte: 8\n", "      fte: 0\n", text)
    problem = only_problem(text)
    assert problem.message == (
        "workforce: the roster has zero visit hours in every shift (every grade has fte 0 or "
        "patient_facing_share 0), so no visit could ever be made"
    )


def test_a_declined_tier_needs_no_staff() -> None:
    """The check for a tier nobody can visit skips tiers declined by care.min_accepted_tier."""
    text = edit("      fte: 20\n", "      fte: 0\n") + "care: {min_accepted_tier: 1}\n"
    assert load_scenario_text(text).care.min_accepted_tier == 1


def test_horizon_equal_to_warmup_is_allowed() -> None:
    scenario = load_scenario_text(edit("tiers:\n", "simulation: {horizon_years: 1, warmup_days: 365}\ntiers:\n"))
    assert scenario.simulation.warmup_days == 365


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("population: 100000", "population: 0", "localities[0].population", "must be > 0, got 0"),
        (
            "daily_admission_hazard: 0.001",
            "daily_admission_hazard: -0.1",
            "tiers[0].daily_admission_hazard",
            "must be >= 0, got -0.1",
        ),
        (
            "tiers:",
            "care: {assessment_capacity_share: 1.2}\ntiers:",
            "care.assessment_capacity_share",
            "must be <= 1, got 1.2",
        ),
        (
            "      fte: 8\n",
            "      fte: 8\n      sickness_share: 1.5\n",
            "workforce.grades[1].sickness_share",
            "must be <= 1, got 1.5",
        ),
        ("    high: 0.3\n", "    high: 0.3\n  urgent_share: -0.01\n", "demand.urgent_share", "must be >= 0, got -0.01"),
    ],
)
def test_probabilities_outside_0_1_and_zero_population(old: str, new: str, field: str, message: str) -> None:
    problem = only_problem(edit(old, new))
    assert (problem.field, problem.message) == (field, message)


def test_mix_sum_is_shown_for_every_mix() -> None:
    text = edit("    high: 0.3\n", "    high: 0.3\n  sources: {gp: 0.5, other: 0.6}\n")
    problem = only_problem(text)
    assert (problem.field, problem.message) == ("demand.sources", "sources must sum to 1, got 1.1")


# --------------------------------------------------------------------------- bounds on valid-looking but huge numbers


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "population: 100000",
            "population: 1000000000000",
            "localities[0].population",
            "must be <= 20000000, got 1000000000000",
        ),
        (
            "tiers:",
            "simulation: {horizon_years: 1000000}\ntiers:",
            "simulation.horizon_years",
            "must be <= 20, got 1000000",
        ),
        (
            "face_to_face_minutes: {mean: 45}",
            "face_to_face_minutes: {mean: 100000}",
            "tiers[1].face_to_face_minutes.mean",
            "must be <= 1440, got 100000",
        ),
        (
            "tiers:",
            "hospital: {length_of_stay_days: {mean: 5000}}\ntiers:",
            "hospital.length_of_stay_days.mean",
            "must be <= 365, got 5000",
        ),
        (
            "    high: 0.3\n",
            "    high: 0.3\n  weekday_profile: [1, 1, 1, 1, 1, 1, 1.0e+300]\n",
            "demand.weekday_profile[6]",
            "must be <= 100, got 1e+300",
        ),
        ("interval_days: 7", "interval_days: 1.0e+300", "tiers[0].interval_days", "must be <= 365, got 1e+300"),
        ("fte: 8", "fte: 1.0e+9", "workforce.grades[1].fte", "must be <= 100000, got 1000000000.0"),
    ],
)
def test_huge_numbers_are_refused_by_documented_bounds(old: str, new: str, field: str, message: str) -> None:
    problem = only_problem(edit(old, new))
    assert (problem.field, problem.message) == (field, message)


def test_total_population_is_bounded() -> None:
    localities = "".join(
        f"  - name: L{i}\n    population: 20000000\n    referral_rate_per_1000_per_year: 10\n" for i in range(4)
    )
    text = edit("  - name: North\n    population: 100000\n    referral_rate_per_1000_per_year: 12.5\n", localities)
    problem = only_problem(text)
    assert problem.message == (
        "localities: the total population is 80,000,000; the limit is 70,000,000 (about the population of the "
        "United Kingdom)"
    )


# --------------------------------------------------------------------------- libyaml and pure-Python parsing agree


def _documents(text: str) -> tuple[object, object]:
    from fundsim.scenario import loader

    fast = loader._compose_fast(text)
    assert fast is not None, "libyaml did not parse a valid file"
    quick = loader._checked_document(fast[0], fast[1], "f.yaml", Scenario)
    pure_loader = loader.FundsimLoader(text)
    pure = loader._checked_document(pure_loader, pure_loader.get_single_node(), "f.yaml", Scenario)
    return quick, pure


@pytest.mark.skipif(not __import__("yaml").__with_libyaml__, reason="PyYAML without libyaml")
@pytest.mark.parametrize("name", ["example.yaml", "large.yaml", "tiny.yaml"])
def test_fast_and_pure_python_parsing_give_the_same_data_and_positions(name: str) -> None:
    text = (Path(__file__).resolve().parents[1] / "scenarios" / name).read_text(encoding="utf-8")
    text += "x-anchor: &a {fte: 3}\nx-use: {<<: *a, on: no, quoted: '123', plain: 123, date: 2025-04-01}\n"
    quick, pure = _documents(text)
    assert quick == pure


def test_syntax_errors_get_the_pure_python_message() -> None:
    """libyaml's own wording differs; the file is parsed again so messages do not depend on it."""
    problem = only_problem(edit("    population: 100000", "   population: 100000"))
    assert problem.message.startswith("YAML syntax error: expected <block end>")
