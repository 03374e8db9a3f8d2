"""Table 1 from any tree, and `echosr-edge data summary` on good and damaged trees."""

from __future__ import annotations

import json
import shutil
from collections import Counter

from click.testing import CliRunner

from echosr_edge.cli import main
from echosr_edge.data.camus import read_camus
from echosr_edge.data.summary import summarise, table1
from tests.data.conftest import label_only_frames


def test_table1_counts_frames_by_view_phase_and_quality(camus_root):
    frames = read_camus(camus_root).frames
    rows = {(r["view"], r["phase"]): r for r in table1(frames)}
    counts = Counter((f.view, f.phase, f.quality) for f in frames)
    for (view, phase, quality), n in counts.items():
        assert rows[(view, phase)][quality] == n
    assert rows[("all", "")]["total"] == len(frames) == sum(r["total"] for k, r in rows.items() if k[0] != "all")


def test_table1_of_camus_proportions_is_the_papers(camus_500):
    rows = [(r["view"], r["phase"], r["good"], r["medium"], r["poor"], r["total"]) for r in table1(camus_500)]
    assert rows == [
        ("2CH", "ED", 217, 214, 69, 500),
        ("2CH", "ES", 217, 214, 69, 500),
        ("4CH", "ED", 288, 165, 47, 500),
        ("4CH", "ES", 288, 165, 47, 500),
        ("all", "", 1010, 758, 232, 2000),
    ]


def test_summary_reports_the_task_set_sizes_computed_from_the_data():
    summary = summarise_frames(label_only_frames(500))
    assert summary["task_sets"]["view"] == {"2CH": 138, "4CH": 94}
    assert summary["task_sets"]["phase"] == {"ED": 116, "ES": 116}
    other = summarise_frames(label_only_frames(90, mix="even"))
    assert other["task_sets"]["view"] == {"2CH": 60, "4CH": 60}


def summarise_frames(frames):
    from echosr_edge.data.camus import CamusTree

    return summarise(CamusTree(frames=frames, release="2023", patients_found=len({f.patient for f in frames})))


def test_summary_on_a_corrupted_tree_lists_the_file_and_still_prints_the_table(tmp_path, twin_trees):
    root = shutil.copytree(twin_trees["2019"], tmp_path / "camus")
    raw = root / "training" / "patient0003" / "patient0003_2CH_ED.raw"
    raw.write_bytes(raw.read_bytes()[:10])
    (root / "training" / "patient0001" / "readme.txt").write_text("x")
    out_json = tmp_path / "summary.json"
    result = CliRunner().invoke(main, ["data", "summary", str(root), "--json", str(out_json)])
    assert result.exit_code == 0, result.output
    assert "view  phase  good  medium  poor  total" in result.output
    assert "5 of 6 patients read (1 skipped), 20 frames" in result.output
    assert f"{raw}: truncated" in result.output and "readme.txt: stray file" in result.output
    doc = json.loads(out_json.read_text())
    assert doc["skipped"] == [{"patient": "patient0003", "path": str(raw), "problem": doc["skipped"][0]["problem"]}]
    assert doc["table1"][-1]["total"] == 20 and doc["release"] == "2019"
    assert [s["path"] for s in doc["stray"]] == [str(root / "training" / "patient0001" / "readme.txt")]


def test_summary_strict_makes_a_corrupted_file_fatal_naming_it(tmp_path, twin_trees):
    root = shutil.copytree(twin_trees["2023"], tmp_path / "camus")
    path = root / "database_nifti" / "patient0002" / "patient0002_4CH_ES.nii.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    result = CliRunner().invoke(main, ["data", "summary", str(root), "--strict"])
    assert result.exit_code == 1
    assert "patient0002_4CH_ES.nii.gz: not a readable NIfTI" in result.output
    assert "Traceback" not in result.output


def test_summary_help_documents_the_exit_codes():
    result = CliRunner().invoke(main, ["data", "summary", "--help"])
    assert result.exit_code == 0
    assert "Exit codes:" in result.output
    for code in ("0  the table was printed", "1  ROOT is not a CAMUS tree", "2  usage error"):
        assert code in result.output


def test_summary_of_a_folder_that_is_not_camus_exits_1(tmp_path):
    result = CliRunner().invoke(main, ["data", "summary", str(tmp_path)])
    assert result.exit_code == 1 and "no patientXXXX folders" in result.output
