"""A built kit: the target's bundle, the wheel, the scripts, kit.json, and SHA256SUMS over all of it."""

import json
import shutil
import subprocess

import pytest

from echosr_edge.bundle.integrity import open_bundle
from echosr_edge.errors import BundleError
from echosr_edge.package.kit import KitError, KitOptions, build_kit, kit_files


def test_cpu_kit_holds_bundle_wheel_scripts_service_readme_and_sums(cpu_kit):
    files = set(kit_files(cpu_kit)) | {"SHA256SUMS"}
    for name in ("install.sh", "launch.sh", "echosr-edge.service", "echosr-edge.conf", "README.txt", "kit.json", "SHA256SUMS", "bundle/manifest.json"):
        assert name in files
    assert [f for f in files if f.startswith("wheels/")] == [f"wheels/{p.name}" for p in (cpu_kit / "wheels").iterdir()]
    assert len(list((cpu_kit / "wheels").glob("echosr_edge-*.whl"))) == 1
    assert (cpu_kit / "install.sh").stat().st_mode & 0o111 and (cpu_kit / "launch.sh").stat().st_mode & 0o111


def test_kit_bundle_lists_only_onnx_artifacts_and_opens_with_its_checksums(cpu_kit):
    manifest = open_bundle(cpu_kit / "bundle")  # raises if a pinned file does not match
    assert {(a.format, a.precision) for m in manifest.models for a in m.artifacts} <= {("onnx", "int8"), ("onnx", "fp32")}
    assert manifest.notes["packaged_for"] == "cpu"
    on_disk = {p.relative_to(cpu_kit / "bundle").as_posix() for p in (cpu_kit / "bundle").rglob("*") if p.is_file()}
    assert on_disk == {rel for rel, _, _ in manifest.pinned_files()} | {"manifest.json"}


def test_sha256sums_lists_every_file_and_sha256sum_accepts_it(cpu_kit):
    listed = [line.split("  ", 1)[1] for line in (cpu_kit / "SHA256SUMS").read_text().splitlines()]
    assert listed == kit_files(cpu_kit)
    if shutil.which("sha256sum"):
        done = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=cpu_kit, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_kit_json_records_target_python_platform_and_the_missing_dependencies(cpu_kit):
    info = json.loads((cpu_kit / "kit.json").read_text())
    assert info["target"] == "cpu" and info["device"] == "cpu" and info["python"] == "3.10"
    assert info["platforms"][0] == "manylinux_2_35_x86_64" and info["requirement"] == "echosr-edge==0.1.0"
    assert info["dependencies"] == "not included"
    assert any("install.sh refuses" in n for n in info["notes"])


def test_an_existing_out_folder_is_not_replaced_without_force(tmp_path, bundle_dir, project_wheel):
    out = tmp_path / "kit"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    options = KitOptions(bundle=bundle_dir, target="cpu", out=out, wheel=project_wheel, deps="none")
    with pytest.raises(KitError, match="already exists"):
        build_kit(options)
    assert (out / "keep.txt").read_text() == "mine"


def test_a_failed_build_leaves_no_kit_and_no_partial_folder(tmp_path, bundle_copy, project_wheel):
    victim = bundle_copy / "verification" / "frames.npy"
    victim.write_bytes(victim.read_bytes() + b"x")
    with pytest.raises(BundleError, match="verification/frames.npy"):
        build_kit(KitOptions(bundle=bundle_copy, target="cpu", out=tmp_path / "kit", wheel=project_wheel, deps="none"))
    assert not (tmp_path / "kit").exists() and not (tmp_path / "kit.partial").exists()


def test_a_wheel_of_another_project_is_refused(tmp_path, bundle_dir, project_wheel):
    other = tmp_path / "numpy-2.2.6-py3-none-any.whl"
    shutil.copy(project_wheel, other)
    with pytest.raises(KitError, match="wheel of numpy, not of echosr-edge"):
        build_kit(KitOptions(bundle=bundle_dir, target="cpu", out=tmp_path / "kit", wheel=other, deps="none"))
