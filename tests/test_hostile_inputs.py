"""Hostile suite, the input side (issue 15, item 4): inputs read once, as what they are.

Categories: ``inputs`` (FIFOs, devices, sockets, folders, links, standard input: refused before a
byte is read, or read once and hashed from the bytes read), ``yaml`` (explicit type tags with odd
values, YAML 1.1 readings that surprise, dates at the ends of the calendar, size limits enforced
while parsing). Every refusal must be located (``FILE:LINE:COL``) when the file was YAML.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_kit import TINY, TINY_TEXT, Guard, invoke, judge, long_mode, tiny_text, write_sweep, write_tiny

from fundsim.scenario.loader import MAX_FILE_BYTES, load_scenario_text
from fundsim.sim.calendar import build_calendar

LOCATED = re.compile(r":\d+:\d+: ")


# --------------------------------------------------------------------------- what the input is


def _make_input(kind: str, work: Path) -> Path:
    path = work / "scenario.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind in ("dev-zero", "dev-urandom", "dev-full", "dev-tty-like"):
        target = {"dev-zero": "/dev/zero", "dev-urandom": "/dev/urandom", "dev-full": "/dev/full"}.get(
            kind, "/dev/zero"
        )
        path.symlink_to(target)
    elif kind == "folder":
        path.mkdir()
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "link-to-fifo":
        os.mkfifo(work / "pipe")
        path.symlink_to(work / "pipe")
    elif kind == "link-loop":
        path.symlink_to(path)
    elif kind == "dangling-link":
        path.symlink_to(work / "nowhere.yaml")
    elif kind == "too-big":
        with open(path, "wb") as handle:
            handle.truncate(MAX_FILE_BYTES + 1)
    elif kind == "missing":
        pass
    elif kind == "not-utf8":
        path.write_bytes(TINY_TEXT.encode("utf-8").replace(b"Village", b"Vill\xe9ge"))
    elif kind == "utf16":
        path.write_bytes(TINY_TEXT.encode("utf-16"))
    elif kind == "nul-bytes":
        path.write_bytes(b"name: x\0\n")
    return path


INPUT_KINDS = [
    "fifo",
    "dev-zero",
    "dev-urandom",
    "dev-full",
    "folder",
    "socket",
    "link-to-fifo",
    "link-loop",
    "dangling-link",
    "too-big",
    "missing",
    "not-utf8",
    "utf16",
    "nul-bytes",
]


@pytest.mark.hostile("inputs")
@pytest.mark.parametrize(
    ("cmd", "kind"),
    [(c, k) for c in ("validate", "run") for k in INPUT_KINDS]
    + [("compare", k) for k in ("fifo", "dev-zero", "folder", "link-to-fifo", "too-big")],
)
def test_inputs_that_are_not_scenario_files_are_refused_at_once(request, tmp_path, cmd, kind) -> None:
    path = _make_input(kind, tmp_path)
    guard = Guard([tmp_path])
    args: list[object] = [cmd, path]
    if cmd != "validate":
        args += ["-q", "-r", "1", "-o", tmp_path / "out"]
    outcome = invoke(args, timeout=20)
    judge(request, outcome, [2], guard=guard, workdir=tmp_path)
    assert outcome.seconds < 10, "took too long to refuse"
    assert not (tmp_path / "out").exists()


@pytest.mark.hostile("inputs")
@pytest.mark.parametrize("where", ["sweep-file", "base-scenario"])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "link-to-fifo"])
def test_sweep_inputs_that_are_not_files_are_refused(request, tmp_path, where, kind) -> None:
    sweep = write_sweep(tmp_path / "in")
    if where == "sweep-file":
        sweep = _make_input(kind, tmp_path)
    else:
        (tmp_path / "in" / "base.yaml").unlink()
        made = _make_input(kind, tmp_path)
        (tmp_path / "in" / "base.yaml").symlink_to(made)
    guard = Guard([tmp_path])
    outcome = invoke(["sweep", sweep, "-q", "-j", "1", "-o", tmp_path / "out"], timeout=20)
    judge(request, outcome, [2], guard=guard, workdir=tmp_path)


@pytest.mark.hostile("inputs")
@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
@pytest.mark.parametrize("cmd", ["validate", "run"])
def test_standard_input_is_read_once_and_hashed_from_the_bytes_read(request, tmp_path, name, cmd) -> None:
    data = TINY_TEXT.encode("utf-8")
    args: list[object] = [cmd, name] + (["-q", "-r", "1", "-o", tmp_path / "out"] if cmd == "run" else [])
    outcome = invoke(args, stdin=data)
    judge(request, outcome, [0], workdir=tmp_path)
    if cmd == "run":
        manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
        assert manifest["scenario_sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest["scenario_sha256"] != hashlib.sha256(b"").hexdigest()


@pytest.mark.hostile("inputs")
@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00x", "UTF-8"),
        (b"x" * (MAX_FILE_BYTES + 10), "limit"),
        (b"name: [unclosed", "YAML syntax error"),
    ],
    ids=["empty", "not-utf8", "too-big", "bad-yaml"],
)
def test_bad_standard_input_is_refused(request, tmp_path, content, says) -> None:
    outcome = invoke(["run", "-", "-q", "-r", "1", "-o", tmp_path / "out"], stdin=content)
    judge(request, outcome, [2], workdir=tmp_path, says=[says])
    assert not (tmp_path / "out").exists()


@pytest.mark.hostile("inputs")
def test_a_sweep_read_from_standard_input(request, tmp_path, monkeypatch) -> None:
    write_sweep(tmp_path)  # base.yaml beside, in the current folder
    monkeypatch.chdir(tmp_path)
    text = (tmp_path / "sweep.yaml").read_text()
    outcome = invoke(["sweep", "-", "-q", "-j", "1", "-o", "out"], stdin=text)
    judge(request, outcome, [0], workdir=tmp_path)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    base = (tmp_path / "base.yaml").read_bytes()
    assert manifest["sweep_sha256"] == hashlib.sha256(text.encode() + b"\0" + base).hexdigest()


@pytest.mark.hostile("inputs")
def test_a_pipe_into_dev_stdin_in_a_real_process(request, tmp_path) -> None:
    """The issue's example: `cat tiny.yaml | fundsim run /dev/stdin` recorded the hash of empty input."""
    started = time.perf_counter()
    done = subprocess.run(
        f"cat {TINY} | {sys.executable} -m fundsim.cli run /dev/stdin -q -r 1 -o out",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        check=False,
    )
    from hostile_kit import Outcome

    outcome = Outcome(done.returncode, done.stdout.decode(), done.stderr.decode(), None, time.perf_counter() - started)
    judge(request, outcome, [0], workdir=tmp_path)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["scenario_sha256"] == hashlib.sha256(TINY.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- YAML type tags

#: (field as written in tiny.yaml, its line) -> the value's replacement
FIELDS = {
    "seed": "  seed: 20251 ",
    "fte": "      fte: 1.16 ",
    "population": "    population: 5000 ",
    "start_date": "  start_date: 2025-04-01 ",
    "name": "name: tiny\n",
}

TAG_VALUES = {
    "!!bool": ["5", "''", "maybe", "2", "yes", "true", "[1]"],
    "!!int": ["abc", "1.5", "''", "0x", "1e3", "9" * 30, "0o17", "-", "1:2:3", "12"],
    "!!float": ["x", "''", "1,5", ".nan", ".inf", "1e999", "--1", "2.5"],
    "!!timestamp": ["hello", "2025-13-45", "2025-02-30", "0000-01-01", "99999-01-01", "''", "2025-01-01 25:00:00"],
    "!!null": ["abc"],
    "!!str": ["5"],
    "!!binary": ["aGVsbG8="],
    "!!set": ["{a, b}"],
    "!!python/object/apply:os.system": ["['true']"],
    "!!omap": ["[a: 1]"],
}


def _tag_cases(long: bool) -> list[tuple[str, str, str]]:
    fields = ["seed", "fte", "start_date", "name"] if long else ["seed", "fte"]
    cases = [(f, tag, v) for f in fields for tag, values in TAG_VALUES.items() for v in values]
    cases += [("population", "!!int", "05000"), ("population", "!!int", "5000"), ("start_date", "!!str", "x")]
    return cases


def _with(field: str, value: str) -> str:
    old = FIELDS[field]
    new = old.split(":", 1)[0] + ": " + value + (" " if old.endswith(" ") else "\n")
    return tiny_text(**{old: new})


@pytest.mark.hostile("yaml")
@pytest.mark.parametrize(("field", "tag", "value"), _tag_cases(long=False))
def test_explicit_yaml_tags_give_a_located_message(request, tmp_path, field, tag, value) -> None:
    path = write_tiny(tmp_path / "tagged.yaml", _with(field, f"{tag} {value}"))
    outcome = invoke(["validate", path])
    judge(request, outcome, [0, 2], workdir=tmp_path)
    if outcome.code == 2:
        assert LOCATED.search(outcome.stderr), outcome.stderr
        assert str(path) in outcome.stderr


DATE_AND_NAME_TAGS = [
    c if c[1] in ("!!timestamp", "!!bool", "!!int") else long_mode(*c)
    for c in _tag_cases(long=True)
    if c[0] in ("start_date", "name")
]


@pytest.mark.hostile("yaml")
@pytest.mark.parametrize(("field", "tag", "value"), DATE_AND_NAME_TAGS)
def test_explicit_yaml_tags_on_dates_and_names(request, tmp_path, field, tag, value) -> None:
    path = write_tiny(tmp_path / "tagged.yaml", _with(field, f"{tag} {value}"))
    outcome = invoke(["validate", path])
    judge(request, outcome, [0, 2], workdir=tmp_path)
    if outcome.code == 2:
        assert LOCATED.search(outcome.stderr), outcome.stderr


@pytest.mark.hostile("yaml")
@pytest.mark.parametrize("tag", ["!!bool 5", "!!timestamp hello", "!!int abc", "!!float x"])
def test_run_agrees_with_validate_on_tagged_values(request, tmp_path, tag) -> None:
    path = write_tiny(tmp_path / "tagged.yaml", _with("seed", tag))
    checked = invoke(["validate", path])
    outcome = invoke(["run", path, "-q", "-r", "1", "-o", tmp_path / "out"])
    judge(request, outcome, [2], workdir=tmp_path)
    assert outcome.stderr == checked.stderr


# --------------------------------------------------------------------------- YAML 1.1 surprises

SURPRISES = [
    # (field, written, exit status, what the message must say)
    ("population", "05000", 2, "octal number 2560"),
    ("population", "010", 2, "octal number 8"),
    ("seed", "-010", 2, "octal"),
    ("seed", "+0777", 2, "octal number 511"),
    ("seed", "0_10", 2, "octal"),
    ("fte", "1:30", 2, "base-60"),
    ("seed", "190:20:30", 2, "base-60"),
    ("seed", "-1:30", 2, "base-60"),
    ("fte", "1:30.5", 2, "base-60"),
    ("seed", "0b101", 2, "binary"),
    ("fte", "true", 2, "boolean"),
    ("fte", "false", 2, "boolean"),
    ("fte", "True", 2, "boolean"),
    ("population", "TRUE", 2, "boolean"),
    ("fte", "yes", 2, "'yes'"),
    ("fte", "no", 2, "'no'"),
    ("fte", "on", 2, "'on'"),
    ("fte", "off", 2, "'off'"),
    ("population", "y", 2, "'y'"),
    ("seed", "07", 0, ""),  # octal 7 is 7: no surprise
    ("seed", "00", 0, ""),
    ("seed", "0x1F", 0, ""),  # hexadecimal is read the same by YAML 1.2
    ("seed", "1_000", 0, ""),
    ("population", "'05000'", 0, ""),  # quoted: text, read as the decimal 5000
    ("name", "on", 0, ""),  # a name that YAML 1.1 would make a boolean stays text
    ("name", "'0755'", 0, ""),
]


@pytest.mark.hostile("yaml")
@pytest.mark.parametrize(("field", "written", "expected", "says"), SURPRISES)
def test_yaml_11_readings_that_surprise_are_refused_with_the_value_read(
    request, tmp_path, field, written, expected, says
) -> None:
    path = write_tiny(tmp_path / "surprise.yaml", _with(field, written))
    outcome = invoke(["validate", path])
    judge(request, outcome, [expected], workdir=tmp_path, says=[says] if says else [])
    if expected == 2:
        assert LOCATED.search(outcome.stderr), outcome.stderr


@pytest.mark.hostile("yaml")
def test_yes_in_a_boolean_field_is_accepted(request, tmp_path) -> None:
    text = tiny_text(**{"only_above_funded_activity: true": "only_above_funded_activity: yes"})
    outcome = invoke(["validate", write_tiny(tmp_path / "yes.yaml", text)])
    judge(request, outcome, [0], workdir=tmp_path)


# --------------------------------------------------------------------------- dates

DATES = [
    ("9999-04-01", 2),
    ("0001-04-01", 2),
    ("0001-01-01", 2),
    ("9999-12-31", 2),
    ("1899-12-31", 2),
    ("2201-01-01", 2),
    ("1900-01-01", 0),
    ("2200-12-31", 0),
    ("2024-02-29", 0),
    ("2025-02-29", 2),
]


@pytest.mark.hostile("yaml")
@pytest.mark.parametrize(("date", "expected"), DATES)
@pytest.mark.parametrize("cmd", ["validate", "run"])
def test_start_dates_run_would_crash_on_are_refused_by_validate(request, tmp_path, date, expected, cmd) -> None:
    path = write_tiny(tmp_path / "dated.yaml", _with("start_date", date))
    args: list[object] = [cmd, path] + (["-q", "-r", "1", "-o", tmp_path / "out"] if cmd == "run" else [])
    outcome = invoke(args)
    judge(request, outcome, [expected], workdir=tmp_path, says=["start_date"] if expected == 2 else [])
    if expected == 2:
        assert LOCATED.search(outcome.stderr), outcome.stderr


@pytest.mark.hostile("yaml")
@pytest.mark.parametrize("date", ["1900-01-01", "2200-12-31"])
def test_the_calendar_holds_at_the_bounds_with_the_longest_warmup_and_horizon(request, date) -> None:
    text = (
        _with("start_date", date)
        .replace("horizon_years: 0.25", "horizon_years: 20")
        .replace("warmup_days: 30", "warmup_days: 3650")
    )
    scenario = load_scenario_text(text, "bounds.yaml")
    calendar = build_calendar(scenario.simulation)
    assert calendar.n_days > 20 * 365
    request.node.user_properties.append(("hostile_exit", 0))


# --------------------------------------------------------------------------- size limits while parsing


def _big_list(n: int) -> str:
    return TINY_TEXT + "extra: [" + ",".join(["0"] * n) + "]\n"


def _alias_bomb() -> str:
    """Nine levels of ten aliases each: a billion values once expanded, a few hundred bytes written."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(8):
        name, prev = chr(98 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\n"


SIZE_CASES = {
    "300k-values": _big_list(300_000),
    "deep-nesting": TINY_TEXT + "extra: " + "[" * 100 + "]" * 100 + "\n",
    "alias-bomb": _alias_bomb(),
    "long-string": TINY_TEXT.replace("name: tiny", "name: " + "x" * 200_000),
    "long-integer": TINY_TEXT.replace("seed: 20251", "seed: " + "9" * 5000),
}


@pytest.mark.hostile("yaml")
@pytest.mark.parametrize("case", sorted(SIZE_CASES))
def test_size_limits_are_enforced_while_parsing(request, tmp_path, case) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(SIZE_CASES[case], encoding="utf-8")
    outcome = invoke(["validate", path], timeout=30)
    judge(request, outcome, [2], workdir=tmp_path)
    assert outcome.seconds < 15
