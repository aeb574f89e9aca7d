"""The sweep report people can read: labels in words, a heat map, a smoother, the workbook."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import small_dict
from click.testing import CliRunner

from fundsim.cli import main
from fundsim.report.sweep_figures import binned_means, heatmap_figure, response_figure
from fundsim.report.sweep_labels import output_label, parameter_label
from fundsim.sweep.smooth import smooth

GRID = """\
name: grid-report
base: base.yaml
design: grid
points: 3
replications: 2
seed: 5
contracts: [block, cost_and_volume]
parameters:
  - path: contracts.block.annual_value_gbp
    uniform: [900000, 1300000]
  - path: demand.growth_per_year
    uniform: [0.0, 0.09]
outputs:
  - measure: absorbed_gbp_per_year
    contract: block
  - measure: commissioner_spend_gbp_per_year
    contract: cost_and_volume
    minus: block
"""

RAW = ("absorbed_gbp_per_year", "commissioner_spend_gbp_per_year", "annual_value_gbp", "growth_per_year")


@pytest.fixture(scope="module")
def grid_folder(tmp_path_factory) -> Path:
    """A 3 × 3 grid over the block value and demand growth, passive policy (9 × 2 short simulations)."""
    folder = tmp_path_factory.mktemp("grid")
    base = small_dict(population=8_000, years=0.5, warmup_days=30)
    base["provider_policy"] = {"mode": "passive"}
    (folder / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    (folder / "sweep.yaml").write_text(GRID, encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(main, ["sweep", str(folder / "sweep.yaml"), "-o", str(out), "-q", "-j", "1"])
    assert result.exit_code == 0, result.output
    return out


def _svg_texts(svg: str) -> list[str]:
    """Every text drawn in an SVG figure (the report keeps SVG text as text)."""
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)]


def test_grid_levels_in_the_folder_include_both_ends(grid_folder) -> None:
    design = pd.read_parquet(grid_folder / "design.parquet")
    assert sorted(design["demand.growth_per_year"].unique()) == [0.0, 0.045, 0.09]
    assert sorted(design["contracts.block.annual_value_gbp"].unique()) == [900_000.0, 1_100_000.0, 1_300_000.0]


def test_two_parameter_grid_has_a_heat_map_per_output(grid_folder) -> None:
    html = (grid_folder / "report.html").read_text(encoding="utf-8")
    for k in (1, 2):
        assert f'<figure id="heatmap-{k}">' in html
        assert (grid_folder / "figures" / f"heatmap-{k}.svg").is_file()


def test_sweep_report_labels_never_show_raw_column_names(grid_folder) -> None:
    """No figure's text holds a raw column name or a scientific offset (``1e7``, ``×10``)."""
    svgs = sorted((grid_folder / "figures").glob("*.svg"))
    assert {p.stem.split("-")[0] for p in svgs} >= {"heatmap", "scatter", "tornado"}
    for path in svgs:
        texts = _svg_texts(path.read_text(encoding="utf-8"))
        assert texts, path.name
        joined = " | ".join(texts)
        for raw in RAW:
            assert raw not in joined, (path.name, raw)
        assert not re.search(r"\d[eE][+-−]?\d", joined), (path.name, joined)
        assert "×10" not in joined, path.name
        assert "1e" not in joined, path.name
    # Money in pounds with a unit: the block value's ticks read £0.9m … £1.3m.
    heat = _svg_texts((grid_folder / "figures" / "heatmap-1.svg").read_text(encoding="utf-8"))
    assert {"£900k", "£1.1m", "£1.3m"} <= set(heat)
    assert {"0%", "4.5%", "9%"} <= set(heat)
    assert any("Cost absorbed by provider, £ a year" in t for t in heat)


def test_labels_in_words_with_units() -> None:
    assert output_label("absorbed_gbp_per_year[block]").text == "Cost absorbed by provider, £ a year — block"
    diff = output_label("commissioner_spend_gbp_per_year[cost_and_volume-block]").text
    assert diff == "Commissioner spend, £ a year — cost and volume minus block"
    assert parameter_label("contracts.block.annual_value_gbp").text == "block contract: contract value in year 1, £"
    assert parameter_label("workforce.grades[1].fte").text == "grade 2: staff in post, FTE"
    # Not in the catalogue: the scenario schema's description of the field, its unit from the name.
    assert parameter_label("demand.urgent_share").text == "share of referrals that are urgent, %"


def test_no_axis_offsets_for_large_money_values() -> None:
    """Values around £18m on both axes: matplotlib's default would show a 1e7 offset; ours never does."""
    rng = np.random.default_rng(3)
    outputs = pd.DataFrame(
        {
            "point": range(40),
            "contracts.block.annual_value_gbp": rng.uniform(16.7e6, 19.3e6, 40),
            "absorbed_gbp_per_year[block]": rng.uniform(18_000_000, 18_000_500, 40),
        }
    )
    fig = response_figure(outputs, ["contracts.block.annual_value_gbp"], "absorbed_gbp_per_year[block]")
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.xaxis.get_offset_text().get_text() == ""
    assert ax.yaxis.get_offset_text().get_text() == ""
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks
    assert all(t.startswith("£") and t.endswith("m") for t in ticks), ticks


def test_smoother_recovers_a_u_shape() -> None:
    """y = 4 (x − ½)² + N(0, 0.05²), 200 points: the local-linear fit is within 0.045 inside [0.1, 0.9].

    Tolerance from theory: the bias of a local-linear fit is about ½ m''(x) h² μ₂ with m'' = 8,
    tricube μ₂ = 0.144 and half-width h ≈ 0.2 (40% of the points): 0.023; its noise SD is about
    0.05 / √(0.4 × 200 × 0.7) ≈ 0.007; bias + 3 SD ≈ 0.045.
    """
    rng = np.random.default_rng(1)
    x = rng.uniform(size=200)
    y = 4 * (x - 0.5) ** 2 + rng.normal(0, 0.05, 200)
    fit = smooth(x, y)
    assert fit.method == "local linear"
    inside = (fit.x > 0.1) & (fit.x < 0.9)
    assert np.abs(fit.y - 4 * (fit.x - 0.5) ** 2)[inside].max() < 0.045
    assert abs(fit.x[np.argmin(fit.y)] - 0.5) < 0.05  # the bottom of the U where it is
    assert fit.y[0] > 0.7  # both arms rise (true value 1 at the ends)
    assert fit.y[-1] > 0.7


def test_smoother_on_a_grid_is_the_mean_at_each_level() -> None:
    x = np.repeat([0.0, 0.5, 1.0], 4)
    y = np.array([3, 5, 4, 4, 0, 1, -1, 0, 2, 2, 2, 2], dtype=float)
    fit = smooth(x, y)
    assert fit.method == "level means"
    np.testing.assert_allclose(fit.y, [4.0, 0.0, 2.0])
    # Student t, 3 degrees of freedom, SD of (3, 5, 4, 4) = sqrt(2/3): half-width 3.182 × 0.8165 / 2.
    assert fit.high[0] - fit.y[0] == pytest.approx(3.1824 * np.sqrt(2 / 3) / 2, rel=1e-3)
    assert fit.high[2] == fit.low[2] == 2.0


def test_binned_means_of_a_grid_are_the_cell_means() -> None:
    x1 = np.array([0, 0, 1, 1, 0, 1], dtype=float)
    x2 = np.array([5, 6, 5, 6, 5, 6], dtype=float)
    y = np.array([1, 2, 3, 4, 5, 6], dtype=float)
    c1, c2, means = binned_means(x1, x2, y)
    np.testing.assert_array_equal(c1, [0, 1])
    np.testing.assert_array_equal(c2, [5, 6])
    np.testing.assert_array_equal(means, [[3, 3], [2, 5]])  # rows: x2; columns: x1


def test_heat_map_of_a_sampled_design_uses_quantile_bins() -> None:
    rng = np.random.default_rng(0)
    outputs = pd.DataFrame({"point": range(300), "a_gbp": rng.uniform(0, 1, 300), "b_share": rng.uniform(0, 1, 300)})
    outputs["absorbed_gbp_per_year[block]"] = 1e6 * (outputs["a_gbp"] - 0.5) ** 2
    fig = heatmap_figure(outputs, ("a_gbp", "b_share"), "absorbed_gbp_per_year[block]")
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (6, 6)  # √(300 / 3) = 10, capped at 6 bins a side
    column_means = np.asarray(image).mean(axis=0)
    assert column_means[0] > column_means[2] < column_means[-1]  # the U across the first parameter


def test_sweep_workbook_holds_numbers_as_numbers(grid_folder) -> None:
    from openpyxl import load_workbook

    path = grid_folder / "sweep.xlsx"
    book = load_workbook(path)
    assert {"columns", "design", "outputs", "indices", "failures"} <= set(book.sheetnames)
    outputs = pd.read_csv(grid_folder / "outputs.csv")
    sheet = book["outputs"]
    header = [c.value for c in sheet[1]]
    column = next(i for i, h in enumerate(header) if str(h).startswith("absorbed_gbp_per_year[block]"))
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert len(cells) == len(outputs) == 9
    for cell, expected in zip(cells, outputs["absorbed_gbp_per_year[block]"], strict=True):
        assert isinstance(cell.value, int | float)
        assert cell.value == pytest.approx(expected, rel=1e-9, abs=1e-6)
        assert "£" in cell.number_format
    design = book["design"]
    growth = next(i for i, c in enumerate(design[1]) if str(c.value).startswith("demand.growth_per_year"))
    values = sorted({row[growth].value for row in design.iter_rows(min_row=2)})
    assert values == [0.0, 0.045, 0.09]
    assert "%" in design.cell(row=2, column=growth + 1).number_format
    # The manifest lists the workbook, so --overwrite knows it as the sweep's own file.
    import json

    manifest = json.loads((grid_folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"]["sweep.xlsx"]["bytes"] == path.stat().st_size


def test_terminal_sweep_tables_show_words_not_column_names(grid_folder) -> None:
    """What ``fundsim sweep`` prints names outputs and parameters as the report does, never by column."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from fundsim.report import terminal

    sens = pd.read_csv(grid_folder / "sensitivity.csv")
    assert not sens.empty
    outcome = SimpleNamespace(
        sensitivity=sens, notes=[], failed=sens.iloc[:0], out_dir=grid_folder, ran=0, reused=0, total_tasks=0
    )
    buffer = io.StringIO()
    terminal.print_sweep(outcome, None, Console(file=buffer, width=200, color_system=None))
    text = buffer.getvalue().replace(str(grid_folder), "")
    for raw in RAW:
        assert raw not in text, raw
    assert output_label("absorbed_gbp_per_year[block]").text in text
    assert parameter_label("demand.growth_per_year").text in text
