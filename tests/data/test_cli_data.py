"""`echosr-edge data synth` in both layouts and `data split` writing a file experiments read back."""

from __future__ import annotations

from click.testing import CliRunner

from echosr_edge.cli import main
from echosr_edge.data.camus import read_camus
from echosr_edge.data.split_file import load_split_file


def test_synth_2019_full_release_writes_training_and_testing_with_mhd_pairs(tmp_path):
    out = tmp_path / "c19"
    result = CliRunner().invoke(
        main, ["data", "synth", str(out), "--style", "simple", "--release", "2019", "--full-release", "--patients", "10", "--masks", "--size", "40x32"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["testing", "training"]
    assert sorted(p.name for p in (out / "testing").iterdir()) == ["patient0010"]
    names = {p.name for p in (out / "training" / "patient0001").iterdir()}
    assert {"patient0001_2CH_ED.mhd", "patient0001_2CH_ED.raw", "patient0001_2CH_ED_gt.mhd", "Info_4CH.cfg"} <= names
    assert not any("_gt" in p.name for p in (out / "testing" / "patient0010").iterdir())


def test_synth_2023_full_release_writes_database_split_lists(tmp_path):
    out = tmp_path / "c23"
    result = CliRunner().invoke(main, ["data", "synth", str(out), "--style", "simple", "--full-release", "--patients", "10", "--cines", "--size", "40x32"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "database_split").iterdir()) == [
        "subgroup_testing.txt", "subgroup_training.txt", "subgroup_validation.txt"
    ]
    assert (out / "database_nifti" / "patient0003" / "patient0003_4CH_half_sequence.nii.gz").is_file()
    assert len(read_camus(out, strict=True, cines=True).cines) == 20


def test_synth_even_quality_mix_gives_equal_thirds(tmp_path):
    out = tmp_path / "even"
    CliRunner().invoke(main, ["data", "synth", str(out), "--style", "simple", "--patients", "6", "--quality-mix", "even", "--size", "32x32"])
    qualities = [f.quality for f in read_camus(out).frames if f.phase == "ED" and f.view == "2CH"]
    assert sorted(qualities) == ["good", "good", "medium", "medium", "poor", "poor"]


def test_bad_size_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["data", "synth", str(tmp_path / "x"), "--style", "simple", "--size", "big"])
    assert result.exit_code == 2 and "is not HxW" in result.output


def test_split_command_writes_a_split_file_experiments_read_back(tmp_path):
    root = tmp_path / "camus"
    CliRunner().invoke(main, ["data", "synth", str(root), "--style", "simple", "--patients", "60", "--size", "32x32", "--quality-mix", "even"])
    out = tmp_path / "splits.json"
    result = CliRunner().invoke(main, ["data", "split", str(root), "--out", str(out), "--seed", "0", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "patient-level split" in result.output and "seed 0 view" in result.output
    split_file = load_split_file(out)
    assert split_file.seeds == (0, 4) and split_file.unit == "patient" and split_file.source["release"] == "2023"
    frames = read_camus(root).frames
    train, test = split_file.resolve(split_file.get("view", "good", 4), frames)
    assert train and test and not {f.patient for f in train} & {f.patient for f in test}
