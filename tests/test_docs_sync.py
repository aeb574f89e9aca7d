"""The docs quote no number a fresh run contradicts.

Every run-derived number in README.md and docs/ sits in a marked region that
``docs/make_examples.py`` fills from real runs; this test reruns them and compares number by
number. When it fails, regenerate with ``python docs/make_examples.py`` and read the diff: the
prose around a number may need rewording too.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _make_examples():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "docs" / "make_examples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_examples"] = module
    spec.loader.exec_module(module)
    return module


mk = _make_examples()


def test_number_comparison_sees_a_changed_digit_and_ignores_layout_and_wall_time() -> None:
    a = "│ Delivered │ 143,079 │ 136,460 – 149,697 │\nWrote x/ in 6.7 s."
    assert mk.numbers(a) == mk.numbers("Delivered 143,079   136,460 – 149,697\nWrote x/ in 58.2 s.")
    assert mk.numbers(a) != mk.numbers(a.replace("143,079", "143,078"))
    assert mk.numbers("-99 ± 15") == ["-99", "15"]
    # A terminal may wrap the line inside the wall time; it is still a wall time.
    assert mk.numbers("manifest.json) in \n10.8 s.") == mk.numbers("manifest.json) in 19.6 s.") == []
    assert mk.numbers("−£58k") == ["−£58"]
    assert mk.numbers("−£58k") != mk.numbers("£58k")


def test_every_region_names_a_known_value_and_every_value_is_used() -> None:
    texts = "".join(p.read_text(encoding="utf-8") for p in mk.DOC_FILES)
    used = {m["name"] for m in mk.VALUE_RE.finditer(texts)}
    assert used <= set(mk.VALUES), sorted(used - set(mk.VALUES))
    assert set(mk.VALUES) <= used, f"values computed but quoted nowhere: {sorted(set(mk.VALUES) - used)}"
    assert {m["name"] for m in mk.BLOCK_RE.finditer(texts)} == set(mk.BLOCKS)
    assert len(list(mk.EXAMPLE_RE.finditer(texts))) >= 3


@pytest.mark.slow
def test_docs_agree_with_a_fresh_run(tmp_path: Path) -> None:
    found = mk.regions(mk.Runs(tmp_path))
    bad = mk.stale(found)
    report = "\n".join(f"{r.file.name}: {r.kind} {r.name}: doc {r.current!r} != fresh {r.fresh!r}" for r in bad)
    assert not bad, f"{len(bad)} stale region(s); run `python docs/make_examples.py`:\n{report}"
