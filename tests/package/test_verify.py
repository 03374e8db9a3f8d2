"""`verify_kit`: checksums of every file, nothing unlisted, a bundle and wheels that suit the target."""

import json

import pytest

from echosr_edge.bundle.integrity import sha256_file
from echosr_edge.package.kit import KitError, write_sums
from echosr_edge.package.verify import verify_kit
from tests.package.conftest import flip_a_byte


def test_a_freshly_built_kit_passes(cpu_kit):
    check = verify_kit(cpu_kit)
    assert check.ok, check.problems
    assert check.target == "cpu" and check.files_checked == len((cpu_kit / "SHA256SUMS").read_text().splitlines())


@pytest.mark.parametrize("rel", ["bundle/models/view.int8.onnx", "bundle/manifest.json", "install.sh", "wheels/echosr_edge-0.1.0-py3-none-any.whl"])
def test_one_altered_file_fails_naming_the_file(kit_copy, rel):
    flip_a_byte(kit_copy / rel)
    check = verify_kit(kit_copy)
    assert not check.ok
    assert f"kit file {rel} does not match SHA256SUMS (altered or damaged)" in check.problems


def test_a_missing_file_fails_naming_it(kit_copy):
    (kit_copy / "launch.sh").unlink()
    assert "kit file launch.sh is missing" in verify_kit(kit_copy).problems


def test_a_file_added_after_packaging_fails_naming_it(kit_copy):
    (kit_copy / "wheels" / "extra-1.0-py3-none-any.whl").write_bytes(b"PK")
    assert "kit file wheels/extra-1.0-py3-none-any.whl is not listed in SHA256SUMS" in verify_kit(kit_copy).problems


def test_a_folder_without_sha256sums_is_not_a_kit(tmp_path):
    with pytest.raises(KitError, match="is not a kit: no SHA256SUMS"):
        verify_kit(tmp_path)


def test_a_malformed_sums_line_is_refused_naming_the_line(kit_copy):
    with open(kit_copy / "SHA256SUMS", "a") as fh:
        fh.write("nonsense\n")
    n = len((kit_copy / "SHA256SUMS").read_text().splitlines())
    with pytest.raises(KitError, match=f"line {n} is not"):
        verify_kit(kit_copy)


def test_a_kit_relabelled_for_jetson_fails_even_with_fresh_sums(kit_copy):
    info = json.loads((kit_copy / "kit.json").read_text())
    info["target"] = "jetson"
    (kit_copy / "kit.json").write_text(json.dumps(info))
    write_sums(kit_copy)
    problems = verify_kit(kit_copy).problems
    assert "bundle/: the bundle was cut for 'cpu', but the kit is for 'jetson'" in problems
    assert any("platforms" in p and "not all for aarch64" in p for p in problems)


def test_an_artifact_of_another_target_in_the_bundle_fails_naming_the_model(kit_copy):
    bundle = kit_copy / "bundle"
    engine = bundle / "models" / "view.fp16.engine"
    engine.write_bytes(b"a jetson engine")
    data = json.loads((bundle / "manifest.json").read_text())
    view = next(m for m in data["models"] if m["name"] == "view")
    view["artifacts"].append({**view["artifacts"][0], "format": "tensorrt", "precision": "fp16", "file": "models/view.fp16.engine", "sha256": sha256_file(engine), "size": engine.stat().st_size})
    (bundle / "manifest.json").write_text(json.dumps(data))
    write_sums(kit_copy)
    assert "bundle/: model 'view' carries tensorrt/fp16, which a cpu kit does not ship" in verify_kit(kit_copy).problems


def test_a_wheel_for_another_cpu_fails_naming_it(kit_copy):
    # Only the name matters to this check; the content is a placeholder.
    name = "numpy-2.2.6-cp310-cp310-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    (kit_copy / "wheels" / name).write_bytes(b"PK")
    write_sums(kit_copy)
    assert f"kit file wheels/{name} does not install on cpu (CPython 3.10, x86_64)" in verify_kit(kit_copy).problems


def test_a_kit_claiming_its_dependencies_but_lacking_them_fails_naming_them(kit_copy):
    info = json.loads((kit_copy / "kit.json").read_text())
    info["dependencies"] = "downloaded"
    (kit_copy / "kit.json").write_text(json.dumps(info))
    write_sums(kit_copy)
    problems = [p for p in verify_kit(kit_copy).problems if p.startswith("wheels/ lacks")]
    assert len(problems) == 1
    assert "click, cryptography, nibabel, numpy, onnxruntime, opencv-python-headless, pip" in problems[0]
