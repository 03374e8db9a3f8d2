"""`train experiments` runs the whole grid and reports Table 2 and Fig. 4 with CIs over seeds."""

import json

import pytest

pytest.importorskip("torch", reason="experiments need the 'train' extra (torch)")
pytest.importorskip("matplotlib", reason="experiment figures need matplotlib (the 'train' extra)")

from echosr_edge.data.records import QUALITIES  # noqa: E402
from echosr_edge.train.experiment_config import get_config  # noqa: E402
from echosr_edge.train.experiment_report import write_report  # noqa: E402
from echosr_edge.train.experiments import run_experiments  # noqa: E402
from echosr_edge.train.stats import improvement, mean_ci  # noqa: E402


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    from echosr_edge.data.synth import write_synthetic_camus

    base = tmp_path_factory.mktemp("experiments")
    root = write_synthetic_camus(base / "data", patients=60, seed=5, size=(64, 48))
    config = get_config(
        "smoke",
        seeds=(0, 1),
        hr_size=32,
        classifier_size=32,
        classifier_epochs=1,
        sr_epochs=1,
        sr_blocks=1,
        sr_features=8,
        sr_patch_lr=8,
        sr_patches_per_frame=1,
        sr_models=("srresnet",),
    )
    results = run_experiments(root, base / "out", config)
    return base / "out", results


def test_table2_has_every_train_test_pair_for_both_tasks(grid):
    _, results = grid
    for task in ("view", "phase"):
        for a in QUALITIES:
            for b in QUALITIES:
                cell = results["table2"][task][a][b]
                assert cell["n"] == 2 and 0.0 <= cell["mean"] <= 1.0


def test_fig4_has_all_four_panels_with_both_kinds_of_improvement(grid):
    _, results = grid
    for task in ("view", "phase"):
        panels = results["fig4"][task]["srresnet"]
        for setting in ("train_on_sr_poor", "test_on_sr_poor"):
            for tier in QUALITIES:
                cell = panels[setting][tier]
                assert {"before", "after", "improvement_points", "improvement_relative_percent"} <= set(cell)
                expected = (cell["after"]["mean"] - cell["before"]["mean"]) * 100
                assert cell["improvement_points"]["mean"] == pytest.approx(expected)


def test_results_record_the_split_and_the_splits_file_is_written(grid):
    out, results = grid
    assert results["split"]["unit"] == "patient"
    assert json.loads((out / "splits.json").read_text())["unit"] == "patient"
    assert (out / "results.json").is_file()


def test_report_places_our_numbers_beside_the_papers(grid):
    out, results = grid
    report = write_report(results, out).read_text()
    assert "## Table 2 — view accuracy" in report and "## Fig. 4 (d)" in report
    assert "\\| 82 |" in report  # the paper's good→poor view accuracy sits beside ours
    for png in ("table2_view.png", "table2_phase.png", "fig4.png"):
        assert (out / png).stat().st_size > 1000


def test_mean_ci_uses_students_t():
    ci = mean_ci([0.8, 0.9, 1.0])
    assert ci["mean"] == pytest.approx(0.9)
    assert ci["half_width"] == pytest.approx(4.303 * 0.1 / 3**0.5, rel=1e-3)


def test_improvement_in_points_and_relative_percent():
    assert improvement(0.5, 0.6) == pytest.approx({"points": 10.0, "relative_percent": 20.0})
