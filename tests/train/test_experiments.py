"""`train experiments`: control arms, cross-validated per-frame predictions, paired tests, resume, paper checks."""

import csv
import json
import shutil
from collections import Counter

import pytest

pytest.importorskip("torch", reason="experiments need the 'train' extra (torch)")
pytest.importorskip("matplotlib", reason="experiment figures need matplotlib (the 'train' extra)")
pytest.importorskip("scipy", reason="experiment statistics need scipy (the 'train' extra)")

from echosr_edge.train.experiment_config import DeviationError, get_config
from echosr_edge.train.experiment_report import write_report
from echosr_edge.train.experiments import _mean_fidelity, run_experiments

TINY = {"hr_size": 32, "classifier_size": 32, "classifier_epochs": 1, "sr_epochs": 1, "gan_epochs": 1, "sr_blocks": 1,
        "sr_features": 8, "sr_patch_lr": 8, "sr_patches_per_frame": 1, "quality_size": 32, "quality_epochs": 1,
        "classifier_steps": 0, "bootstrap": 200}
VOLATILE = {"seconds", "cells"}  # wall time, and how many cells were computed rather than reused


class Crash(RuntimeError):
    pass


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    from echosr_edge.data.synth import write_synthetic_camus

    return write_synthetic_camus(tmp_path_factory.mktemp("experiments") / "data", patients=60, seed=5, size=(64, 48))


@pytest.fixture(scope="module")
def grid(tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    order = []
    results = run_experiments(tree, out, get_config("smoke", **TINY), on_cell=lambda label, skipped: order.append(label))
    return out, results, order


def test_results_hold_every_arm_and_the_competitor(grid):
    _, results, _ = grid
    assert {"none", "bicubic", "nlmeans", "srresnet", "srgan", "augmented"} <= set(results["arms"])
    assert set(results["fig4"]["phase"]["test_time"]) == set(results["arms"])


def test_deviations_name_random_init_mse_fallback_counts_and_split(grid):
    _, results, _ = grid
    text = " ".join(results["deviations"])
    for expected in ("random weights", "content loss is mse", "60 patients where the paper has 500", "cross-validation"):
        assert expected in text


def test_every_poor_task_frame_is_tested_once_per_repeat_and_arm(grid):
    out, _, _ = grid
    with open(out / "predictions.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert set(rows[0]) == {"repeat", "fold", "task", "setting", "arm", "train_tier", "patient", "view", "phase", "tier",
                            "label", "predicted", "p"}
    seen = Counter((r["patient"], r["view"], r["phase"]) for r in rows
                   if r["setting"] == "test_time" and r["arm"] == "srresnet" and r["train_tier"] == "good" and r["task"] == "view")
    assert seen and set(seen.values()) == {1}
    assert all(r["tier"] == "poor" for r in rows if r["setting"] == "test_time")
    assert len({r["fold"] for r in rows}) == 2


def test_paired_differences_cover_each_arm_vs_none_sr_vs_bicubic_and_vs_augmented(grid):
    _, results, _ = grid
    pairs = {(c["a"], c["b"]) for c in results["paired"]["view"]["test_time"]}
    assert {("bicubic", "none"), ("nlmeans", "none"), ("srresnet", "none"), ("srresnet", "bicubic"), ("srgan", "bicubic"),
            ("srresnet", "augmented")} <= pairs
    for c in results["paired"]["phase"]["train_on_enhanced"]:
        assert c["ci_low"] <= c["ci_high"] and 0 <= c["mcnemar"]["p"] <= 1 and 0 <= c["p_bootstrap"] <= 1 and c["mdd_points"] >= 0


def test_each_table_of_paired_differences_is_one_family_with_holm_p_and_bonferroni_intervals(grid):
    _, results, _ = grid
    family = results["paired"]["view"]["test_time"]
    for c in family:
        assert c["family"] == len(family)
        assert c["mcnemar"]["p"] <= c["mcnemar"]["p_holm"] <= 1
        assert c["ci_family_low"] <= c["ci_low"] and c["ci_high"] <= c["ci_family_high"]


def test_cells_hold_balanced_accuracy_and_confusion(grid):
    _, results, _ = grid
    cell = results["fig4"]["view"]["test_time"]["srresnet"]["good"]
    assert sum(map(sum, cell["confusion"])) == cell["n"] and 0 <= cell["balanced_accuracy"] <= 1


def test_report_says_its_intervals_leave_out_training_seed_variance(grid):
    out, results, _ = grid
    report = write_report(results, out).read_text()
    assert "the intervals resample test patients, not training runs" in report and "1 repeat here" in report
    assert results["intervals"]["resampled"] == "patients" and "--repeats 3" in report


def test_with_one_repeat_a_difference_between_two_classifiers_is_not_evidence(grid):
    out, results, _ = grid
    by = {(c["a"], c["b"], c["tier"]): c for c in results["paired"]["view"]["test_time"]}
    one_classifier, two_classifiers = by[("srresnet", "none", "poor")], by[("srresnet", "augmented", "poor")]
    assert one_classifier["classifiers"] == "same" and one_classifier["evidence"]
    assert two_classifiers["classifiers"] == "different" and not two_classifiers["evidence"]
    assert "--repeats 3" in two_classifiers["why"]
    assert not any(c["evidence"] for c in results["paired"]["phase"]["train_on_enhanced"])
    assert all(c["evidence"] and c["classifiers"] == "same" for c in results["gated"]["view"]["paired"])
    report = write_report(results, out).read_text()
    assert "| srresnet − augmented | poor | " in report and " † |" in report.split("| srresnet − augmented | poor | ")[1].split("\n")[0]


def _copy_outputs(out, to):
    to.mkdir()
    for name in ("results.json", "predictions.csv", "gated.csv"):
        shutil.copy(out / name, to / name)
    return to


def test_reanalysing_a_finished_grid_reproduces_its_statistics(grid, tmp_path):
    from echosr_edge.train.experiments import reanalyse

    out, results, _ = grid
    again = reanalyse(_copy_outputs(out, tmp_path / "again"))
    for section in ("table2", "fig4", "paired", "gated", "power", "learning", "intervals"):
        assert json.dumps(again[section], sort_keys=True, default=float) == json.dumps(results[section], sort_keys=True, default=float)
    assert again["reanalysed"]["from"] == ["predictions.csv", "gated.csv"]
    assert json.loads((tmp_path / "again" / "results.json").read_text())["reanalysed"]["bootstrap"] == 200


WRONG = {"2CH": "4CH", "4CH": "2CH", "ED": "ES", "ES": "ED"}


def test_a_second_repeat_puts_the_training_runs_into_every_interval(grid, tmp_path):
    from echosr_edge.train.experiments import reanalyse

    out, results, _ = grid
    to = _copy_outputs(out, tmp_path / "two")
    with open(to / "predictions.csv") as fh:
        rows = list(csv.reader(fh))
    # A second training run that answers every test-time SRResNet frame wrongly: the runs now disagree.
    second = [[("1" if i == 0 else v) for i, v in enumerate(r)] for r in rows[1:]]
    for r in second:
        if r[3] == "test_time" and r[4] == "srresnet":
            r[11] = WRONG[r[10]]
    with open(to / "predictions.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows + second)
    saved = json.loads((to / "results.json").read_text())
    saved["config"]["repeats"] = 2
    (to / "results.json").write_text(json.dumps(saved))
    two = reanalyse(to)
    c = next(c for c in two["paired"]["view"]["test_time"] if (c["a"], c["b"], c["tier"]) == ("srresnet", "none", "good"))
    one = next(c for c in results["paired"]["view"]["test_time"] if (c["a"], c["b"], c["tier"]) == ("srresnet", "none", "good"))
    assert c["repeats"] == 2 and c["resampled"] == "patients and repeats" and len(c["per_repeat"]) == 2
    assert c["per_repeat"][0] == pytest.approx(one["points"]) and c["per_repeat"][1] < c["per_repeat"][0]
    assert c["ci_high"] - c["ci_low"] > one["ci_high"] - one["ci_low"]
    assert "resample test patients and the 2 repeats" in write_report(two, to).read_text()


def test_reanalyse_refuses_a_folder_that_is_not_a_finished_grid(grid, tmp_path):
    from echosr_edge.errors import ConfigError
    from echosr_edge.train.experiments import reanalyse

    out, _, _ = grid
    with pytest.raises(ConfigError, match="results.json: not found"):
        reanalyse(tmp_path)
    to = _copy_outputs(out, tmp_path / "cut")
    lines = (to / "predictions.csv").read_text().splitlines()
    (to / "predictions.csv").write_text("\n".join(lines[:5] + [lines[5].rsplit(",", 2)[0]]) + "\n")
    with pytest.raises(ConfigError, match="predictions.csv, line 6: 11 fields where the header has 13"):
        reanalyse(to)


def test_the_report_command_rewrites_the_report_from_the_predictions(grid, tmp_path):
    from click.testing import CliRunner

    from echosr_edge.cli import main

    out, _, _ = grid
    to = _copy_outputs(out, tmp_path / "cli")
    result = CliRunner().invoke(main, ["train", "report", str(to), "--bootstrap", "150"])
    assert result.exit_code == 0, result.output
    assert (to / "report.md").is_file() and (to / "forest.png").stat().st_size > 1000
    assert json.loads((to / "results.json").read_text())["config"]["bootstrap"] == 150


def test_report_starts_with_the_deviations_and_shows_paired_differences(grid):
    out, results, _ = grid
    report = write_report(results, out).read_text()
    assert report.index("## Deviations from the paper") < report.index("## Table 1")
    assert "| srresnet − bicubic |" in report and "p McNemar" in report and "80 % power" in report
    assert "family-wise CI" in report and "p Holm" in report
    assert "## Did the classifiers learn?" in report and set(results["learning"]) == {"view", "phase"}
    assert "trained on poor frames through an arm" in report and set(results["learning_enhanced"]["view"]) >= {"none", "srresnet"}
    for png in ("fig4.png", "forest.png"):
        assert (out / png).stat().st_size > 1000


def test_gated_pipeline_compares_never_always_and_auto_on_mixed_quality_frames(grid):
    out, results, _ = grid
    gated = results["gated"]
    assert gated["policies"] == ["never", "always-srresnet", "auto-srresnet", "always-srgan", "auto-srgan"]
    pairs = {(c["a"], c["b"]) for c in gated["phase"]["paired"]}
    assert {("auto-srresnet", "never"), ("always-srresnet", "never"), ("auto-srresnet", "always-srresnet")} <= pairs
    for c in gated["view"]["paired"]:
        assert c["ci_low"] <= c["points"] <= c["ci_high"] and 0 <= c["mcnemar"]["p"] <= 1
    never = gated["view"]["accuracy"]["never"]
    assert never["n"] == sum(gated["view"]["by_tier"]["never"][t]["n"] for t in ("good", "medium", "poor"))
    assert 0 <= gated["enhanced_share"]["all"] <= 1 and 0 <= gated["quality_model"]["accuracy"] <= 1


def test_the_gated_classifier_is_trained_on_every_tier_as_the_products(grid):
    out, results, _ = grid
    assert "every tier" in results["gated"]["classifier"]
    for fold in range(2):
        for task in ("view", "phase"):
            folder = out / "cells" / f"r0_f{fold}" / task
            cells = {n: json.loads((folder / f"{n}.json").read_text()) for n in ("plain_all", "plain_good", "plain_medium", "plain_poor")}
            assert cells["plain_all"]["train_frames"] == sum(cells[f"plain_{t}"]["train_frames"] for t in ("good", "medium", "poor"))
            assert {"srresnet|good", "srgan|medium", "srgan|poor", "none|good"} <= set(cells["plain_all"]["tests"])
    with open(out / "predictions.csv") as fh:
        assert {r["train_tier"] for r in csv.DictReader(fh) if r["setting"] == "gated"} == {"all"}


def test_an_unknown_gated_classifier_is_refused():
    from echosr_edge.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown gated classifier 'bad'"):
        get_config("smoke", gated_classifier="bad")


def test_gated_rows_and_decisions_are_written_per_frame(grid):
    out, results, _ = grid
    with open(out / "predictions.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["setting"] == "gated"]
    with open(out / "gated.csv") as fh:
        decisions = list(csv.DictReader(fh))
    assert {r["tier"] for r in rows} == {"good", "medium", "poor"}
    per_policy = Counter(r["arm"] for r in rows if r["task"] == "view")
    assert set(per_policy.values()) == {len(decisions)}
    enhanced = {(d["fold"], d["patient"], d["view"], d["phase"]) for d in decisions if d["enhanced"] == "1"}
    assert all((d["quality_predicted"] != "good") == (d["enhanced"] == "1") for d in decisions)
    by_frame = {(r["fold"], r["patient"], r["view"], r["phase"], r["task"], r["arm"]): r["predicted"] for r in rows}
    for (fold, patient, view, phase, task, arm), predicted in by_frame.items():
        if arm == "auto-srgan":
            source = "always-srgan" if (fold, patient, view, phase) in enhanced else "never"
            assert predicted == by_frame[(fold, patient, view, phase, task, source)]


def _gated_with_quality_saying(out, results, label: str):
    """The gated section recomputed from the grid's cells with a quality model that says ``label`` for every frame."""
    from echosr_edge.data.camus import read_camus
    from echosr_edge.train.gated import gated_rows, summarise_gated

    config = get_config("smoke", **TINY)
    by_key = {f.key: f for f in read_camus(results["data"]["root"]).frames}
    all_cells, quality_cells = [], []
    for fold in range(2):
        folder = out / "cells" / f"r0_f{fold}"
        cells = {task: {"plain_all": json.loads((folder / task / "plain_all.json").read_text())} for task in ("view", "phase")}
        quality = json.loads((folder / "gated" / "quality.json").read_text())
        test = quality["tests"]["none|mixed"]
        test["pred"] = [("good", "medium", "poor").index(label)] * len(test["keys"])
        all_cells.append((0, fold, cells))
        quality_cells.append(quality)
    return summarise_gated(*gated_rows(all_cells, quality_cells, by_key, config), config)


def test_auto_with_a_quality_model_that_says_poor_everywhere_equals_always(grid):
    gated = _gated_with_quality_saying(*grid[:2], "poor")
    assert gated["enhanced_share"]["all"] == 1
    for task in ("view", "phase"):
        auto_vs_always = next(c for c in gated[task]["paired"] if (c["a"], c["b"]) == ("auto-srresnet", "always-srresnet"))
        assert auto_vs_always["points"] == 0 and auto_vs_always["mcnemar"]["a_only"] + auto_vs_always["mcnemar"]["b_only"] == 0
        assert gated[task]["accuracy"]["auto-srgan"]["accuracy"] == gated[task]["accuracy"]["always-srgan"]["accuracy"]


def test_auto_with_a_quality_model_that_says_good_everywhere_equals_never(grid):
    gated = _gated_with_quality_saying(*grid[:2], "good")
    assert gated["enhanced_share"]["all"] == 0
    auto_vs_never = next(c for c in gated["phase"]["paired"] if (c["a"], c["b"]) == ("auto-srgan", "never"))
    assert auto_vs_never["points"] == 0 and auto_vs_never["mcnemar"]["p"] == 1


def test_report_has_the_gated_section(grid):
    out, results, _ = grid
    report = write_report(results, out).read_text()
    assert "## The gated pipeline" in report and "| auto-srresnet − never |" in report


def test_no_gated_trains_no_quality_model_and_reports_no_gated_section(tree, tmp_path):
    order = []
    config = get_config("smoke", **TINY, sr_models=("srresnet",), augmented=False, gated=False)
    results = run_experiments(tree, tmp_path, config, on_cell=lambda label, skipped: order.append(label))
    assert results["gated"] is None and results["gated_decisions"] is None and not (tmp_path / "gated.csv").exists()
    assert order and not any("quality" in label for label in order)
    assert "srresnet" in results["arms"] and results["config"]["gated"] is False
    assert "## The gated pipeline" not in write_report(results, tmp_path).read_text()


def _cell_file(cells, label):
    """A cell's file from its progress label ('r0 f1 srgan', 'r0 f1 phase plain_good')."""
    repeat, fold, *rest = label.split()
    folder = cells / f"{repeat}_{fold}"
    return folder / f"sr_{rest[0]}.pt" if len(rest) == 1 else folder / rest[0] / f"{rest[1]}.json"


def test_a_run_killed_after_some_cells_resumes_to_the_same_numbers(grid, tree, tmp_path):
    out, uninterrupted, order = grid
    config = get_config("smoke", **TINY)
    # The files a run killed in its last fold leaves: every cell before the last fold's SRGAN.
    shutil.copytree(out / "cells", tmp_path / "cells")
    unfinished = order[order.index("r0 f1 srgan"):]
    for label in unfinished[:1] + unfinished[-3:]:  # SRGAN and the last three cells (the rest are reused)
        _cell_file(tmp_path / "cells", label).unlink()
    done = []

    def crash_after_two(label, skipped):
        if not skipped:
            done.append(label)
            if len(done) == 2:
                raise Crash(label)

    with pytest.raises(Crash):
        run_experiments(tree, tmp_path, config, resume=True, on_cell=crash_after_two)
    heard = []
    resumed = run_experiments(tree, tmp_path, config, resume=True, on_cell=lambda label, skipped: heard.append((label, skipped)))
    assert resumed["cells"]["computed"] == 2 and resumed["cells"]["skipped"] == len(order) - 2
    assert order[-1] == "r0 f1 gated quality"  # the quality models are cells too: reused, or recomputed to the same numbers
    assert ("r0 f0 gated quality", True) in heard and ("r0 f1 gated quality", False) in heard
    assert strip(resumed) == strip(uninterrupted)


def strip(results: dict) -> str:
    return json.dumps({k: v for k, v in results.items() if k not in VOLATILE}, sort_keys=True, default=float)


def test_resume_refuses_cells_made_with_other_settings(grid, tree):
    from echosr_edge.train.grid_cells import ResumeError

    out, _, _ = grid
    with pytest.raises(ResumeError, match="other settings"):
        run_experiments(tree, out, get_config("smoke", **{**TINY, "classifier_epochs": 2}), resume=True)


def _weights(tmp_path):
    files = {}
    for name in ("div2k_srresnet.pth", "vgg19.pth", "resnet18.pth"):
        files[name] = tmp_path / name
        files[name].write_bytes(b"not read before the checks")
    return files


def test_paper_config_refuses_a_499_patient_tree_naming_the_shortfall(tmp_path):
    root = tmp_path / "camus"
    for i in range(499):  # folders only (2023 layout): the count is read from the listing, before any image
        (root / "database_nifti" / f"patient{i + 1:04d}").mkdir(parents=True)
    w = _weights(tmp_path)
    config = get_config("paper", sr_pretrained=(("srresnet", w["div2k_srresnet.pth"]),), vgg_weights=w["vgg19.pth"],
                        imagenet_weights=w["resnet18.pth"])
    with pytest.raises(DeviationError) as info:
        run_experiments(root, tmp_path / "out", config)
    message = str(info.value)
    assert "499 patients where the paper has 500 (-1)" in message and "\n" not in message


def test_paper_config_without_weight_files_names_allow_deviation(tmp_path):
    root = tmp_path / "camus"
    (root / "database_nifti" / "patient0001").mkdir(parents=True)
    with pytest.raises(DeviationError, match="--allow-deviation") as info:
        run_experiments(root, tmp_path / "out", get_config("paper"))
    assert "DIV2K srresnet" in str(info.value) and "VGG19" in str(info.value) and "ImageNet" in str(info.value)


def test_sr_fidelity_under_sr_data_all_is_not_called_held_out():
    fold = {"frames": 3, "psnr": 30.0, "reference": "HR"}
    config_all = get_config("smoke", sr_data="all")
    assert "not held out" in _mean_fidelity({"srresnet": [fold]}, config_all)["srresnet"]["frames_are"]
    assert "held-out" in _mean_fidelity({"srresnet": [fold]}, get_config("smoke"))["srresnet"]["frames_are"]


def test_cli_refuses_the_paper_config_in_one_line_naming_allow_deviation(tmp_path):
    from click.testing import CliRunner

    from echosr_edge.cli import main

    root = tmp_path / "camus"
    (root / "database_nifti" / "patient0001").mkdir(parents=True)
    result = CliRunner().invoke(main, ["train", "experiments", str(root), "--config", "paper", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "--allow-deviation" in result.output and "Traceback" not in result.output


def test_a_results_files_config_reads_back_as_the_config_it_was_made_from(tmp_path):
    from echosr_edge.train.experiment_config import config_from_dict

    paper = get_config("paper", repeats=3, sr_checkpoints=(("student", tmp_path / "s.pt"),), vgg_weights=tmp_path / "v.pth",
                       sr_pretrained=(("srresnet", tmp_path / "d.pt"),), classifier_steps=7, gated=False, enhance_mode="direct")
    for config in (get_config("smoke"), get_config("smoke", **TINY), paper):
        assert config_from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_the_plan_lists_every_cell_the_grid_trains_with_its_frames_and_steps(grid, tree):
    from echosr_edge.data.camus import read_camus
    from echosr_edge.train.grid_plan import plan_cells

    out, _, order = grid
    cells = plan_cells(read_camus(tree).frames, get_config("smoke", **TINY))
    assert [c.label for c in cells] == order
    for c in cells:
        if c.trainer == "classifier":
            saved = json.loads(_cell_file(out / "cells", c.label).read_text())
            assert (c.frames, c.epochs) == (saved["train_frames"], saved["epochs"])
            assert c.steps == c.epochs * -(-c.frames // 16)


def test_a_projection_adds_each_trainers_steps_times_its_rate_and_names_what_was_not_measured():
    from echosr_edge.train.grid_plan import PlannedCell, project

    cells = [PlannedCell("r0 f0 srresnet", "srresnet", 10, 2, 4), PlannedCell("r0 f0 view plain_good", "classifier", 5, 3, 3),
             PlannedCell("r0 f1 view plain_good", "classifier", 5, 3, 3)]
    done = project(cells, {"srresnet": 2.0, "classifier": 0.5})
    assert done["seconds"] == 4 * 2.0 + 6 * 0.5 and done["trainers"]["classifier"]["cells"] == 2 and done["unmeasured"] == []
    partial = project(cells, {"classifier": 0.5})
    assert partial["unmeasured"] == ["srresnet"] and partial["seconds"] != partial["seconds"]  # NaN: not a number to quote


def test_plan_prints_the_cells_and_trains_nothing(tree, tmp_path):
    from click.testing import CliRunner

    from echosr_edge.cli import main

    result = CliRunner().invoke(main, ["train", "experiments", str(tree), "--out", str(tmp_path / "o"), "--repeats", "3", "--plan"])
    assert result.exit_code == 0, result.output
    assert "r2 f1 phase enhanced_srgan" in result.output and "2 folds × 3 repeat(s)" in result.output
    assert "srresnet: 6 cells" in result.output and not (tmp_path / "o").exists()
