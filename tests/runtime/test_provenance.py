"""Every output is traceable: bundle sha256, artifacts, device, version, enhancement on every line and report."""

import hashlib
import json
import shutil

from click.testing import CliRunner

from echosr_edge import __version__
from echosr_edge.cli import main
from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.pipeline import load_pipeline
from echosr_edge.runtime.provenance import check_block, bundle_reference, provenance_id
from echosr_edge.runtime.run import run_source
from echosr_edge.runtime.sources import open_source
from tests.runtime.helpers import frames_of, read_log


def test_the_block_names_the_bundle_each_artifact_the_device_and_the_version(bundle_dir):
    block = load_pipeline(bundle_dir, get_profile("cpu")).provenance
    assert block["bundle"]["manifest_sha256"] == hashlib.sha256((bundle_dir / "manifest.json").read_bytes()).hexdigest()
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    pinned = {(a["file"], a["sha256"], a["format"], a["precision"]) for m in manifest["models"] for a in m["artifacts"]}
    assert block["models"] and all((a["file"], a["sha256"], a["format"], a["precision"]) in pinned for a in block["models"].values())
    assert block["device"] == "cpu" and block["echosr_edge"] == __version__ and block["id"] == provenance_id(block)


def test_every_run_log_line_carries_the_id_and_the_first_the_whole_block(tmp_path, bundle_dir, clip):
    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    run_source(pipeline, open_source(clip[0]), log_path=tmp_path / "run.jsonl", max_frames=4)
    frames = frames_of(read_log(tmp_path / "run.jsonl"))
    block = frames[0]["provenance_block"]
    assert block == pipeline.provenance and all("provenance_block" not in f for f in frames[1:])
    assert [f["provenance"] for f in frames] == [{"id": block["id"], "enhance": "always", "enhanced": True}] * 4


def test_a_signed_bundle_names_its_signer(tmp_path, bundle_dir):
    from echosr_edge.bundle.keys import new_keypair
    from echosr_edge.bundle.signing import sign_bundle

    bundle = shutil.copytree(bundle_dir, tmp_path / "b")
    info = sign_bundle(bundle, new_keypair(tmp_path / "keys", "site").private_key)
    assert load_pipeline(bundle, get_profile("cpu")).provenance["bundle"]["signed_by"] == [info.key_id]


def test_a_block_from_another_bundle_or_version_is_named(bundle_dir):
    block = load_pipeline(bundle_dir, get_profile("cpu")).provenance
    sha, models = bundle_reference(bundle_dir)
    assert check_block(block, sha, models) == []
    assert check_block(block, "0" * 64, models)[0].startswith("bundle ")
    assert check_block(block, sha, models, version="9.9")[-1] == f"echosr-edge {__version__} is not 9.9"
    altered = {**block, "device": "jetson"}
    assert "altered" in check_block(altered, sha, models)[0]


def _batch(tmp_path, bundle_dir, camus_root):
    inputs = tmp_path / "in"
    for i, path in enumerate(sorted(camus_root.rglob("*_ED.nii.gz"))[:2]):
        (inputs / str(i)).mkdir(parents=True)
        shutil.copy(path, inputs / str(i) / path.name)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(inputs), str(out), "--bundle", str(bundle_dir), "--quiet", "--no-images"])
    assert result.exit_code == 0, result.output
    return out


def test_batch_rows_carry_the_block_and_verify_against_their_own_bundle(tmp_path, bundle_dir, camus_root):
    out = _batch(tmp_path, bundle_dir, camus_root)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert rows and all(r["provenance"]["bundle"]["manifest_sha256"] == bundle_reference(bundle_dir)[0] for r in rows)
    assert all(f["provenance"]["id"] == r["provenance"]["id"] for r in rows for f in r["frames"])
    assert set(json.loads((out / "provenance.json").read_text())) == {rows[0]["provenance"]["id"]}
    result = CliRunner().invoke(main, ["batch", "--verify-provenance", str(out), "--bundle", str(bundle_dir)])
    assert result.exit_code == 0 and f"all {2 * len(rows)} rows match" in result.output


def test_verify_provenance_against_another_bundle_lists_every_row(tmp_path, bundle_dir, camus_root):
    out = _batch(tmp_path, bundle_dir, camus_root)
    other = shutil.copytree(bundle_dir, tmp_path / "other")
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["notes"] = {**manifest.get("notes", {}), "rebuilt": True}
    (other / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(main, ["batch", "--verify-provenance", str(out), "--bundle", str(other)])
    lines = [line for line in result.output.splitlines() if line.startswith("results.")]
    assert result.exit_code == 5 and len(lines) == 4  # 2 rows in results.jsonl, 2 in results.csv
    assert all(": bundle " in line for line in lines) and "4 of 4 rows name another bundle" in result.output


def test_bench_rows_carry_the_block(bundle_dir, clip):
    from echosr_edge.runtime.bench import bench_targets, bundle_targets, load_frames
    from echosr_edge.bundle.integrity import open_bundle

    manifest = open_bundle(bundle_dir)
    frames, labels = load_frames(bundle_dir, manifest)
    targets = [t for t in bundle_targets(bundle_dir, manifest, [get_profile("cpu")]) if t.precision == "fp32"]
    report = bench_targets(targets, frames[:2], labels and {k: v[:2] for k, v in labels.items()}, runs=2, warmup=0)
    blocks = [r["provenance"] for r in report.to_dict()["rows"]]
    assert blocks and all(b["models"] and b["bundle"]["manifest_sha256"] == bundle_reference(bundle_dir)[0] for b in blocks)
