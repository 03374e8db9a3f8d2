"""Every pinned path stays inside the bundle; files are regular and within the size limit."""

import os

import pytest

from echosr_edge.bundle.integrity import open_bundle, verify_bundle
from echosr_edge.bundle.manifest import Manifest
from echosr_edge.errors import BundleError
from tests.bundle.conftest import edit_manifest


def _set_first_file(rel):
    def change(d):
        d["models"][0]["artifacts"][0]["file"] = rel
    return change


@pytest.mark.parametrize(
    "rel", ["../outside.onnx", "models/../../outside.onnx", "/etc/passwd", "models\\sr.onnx", "C:evil.onnx", "", "."],
    ids=["dotdot", "nested-dotdot", "absolute", "backslash", "drive", "empty", "dot"],
)
def test_path_leaving_the_bundle_is_refused(mini_bundle, rel):
    edit_manifest(mini_bundle, _set_first_file(rel))
    with pytest.raises(BundleError, match=r"models\[0\]\.artifacts\[0\]\.file: path .* leaves the bundle"):
        Manifest.load(mini_bundle)


@pytest.mark.parametrize("rel", ["manifest.json", "signatures/key.sig"])
def test_path_naming_the_manifest_or_signatures_is_refused(mini_bundle, rel):
    edit_manifest(mini_bundle, _set_first_file(rel))
    with pytest.raises(BundleError, match="reserves for itself"):
        Manifest.load(mini_bundle)


def test_symlink_leading_out_of_the_bundle_is_refused(mini_bundle, tmp_path):
    outside = tmp_path / "outside.onnx"
    target = mini_bundle / "models" / "sr.fp32.onnx"
    outside.write_bytes(target.read_bytes())  # same bytes: only the location is wrong
    target.unlink()
    target.symlink_to(outside)
    with pytest.raises(BundleError, match="models/sr.fp32.onnx resolves outside the bundle"):
        open_bundle(mini_bundle)


def test_symlinked_folder_leading_out_is_refused(mini_bundle, tmp_path):
    (mini_bundle / "models").rename(tmp_path / "models-elsewhere")
    (mini_bundle / "models").symlink_to(tmp_path / "models-elsewhere")
    with pytest.raises(BundleError, match="resolves outside the bundle"):
        open_bundle(mini_bundle)


def test_symlink_inside_the_bundle_is_allowed(mini_bundle):
    target = mini_bundle / "models" / "sr.fp32.onnx"
    (mini_bundle / "store").mkdir()
    target.rename(mini_bundle / "store" / "sr.bin")
    target.symlink_to(mini_bundle / "store" / "sr.bin")
    assert open_bundle(mini_bundle).model_names == ["sr", "view"]


def test_manifest_symlinked_from_outside_is_refused(mini_bundle, tmp_path):
    (mini_bundle / "manifest.json").rename(tmp_path / "manifest.json")
    (mini_bundle / "manifest.json").symlink_to(tmp_path / "manifest.json")
    with pytest.raises(BundleError, match="manifest.json resolves outside the bundle"):
        Manifest.load(mini_bundle)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_pinned_fifo_is_refused_without_blocking(mini_bundle):
    target = mini_bundle / "models" / "sr.fp32.onnx"
    target.unlink()
    os.mkfifo(target)
    with pytest.raises(BundleError, match="models/sr.fp32.onnx is not a regular file"):
        open_bundle(mini_bundle)


def test_missing_file_is_refused_naming_it(mini_bundle):
    (mini_bundle / "models" / "view.int8.onnx").unlink()
    with pytest.raises(BundleError, match="models/view.int8.onnx is missing"):
        open_bundle(mini_bundle)


def test_file_over_the_per_file_limit_is_refused_before_hashing(mini_bundle):
    manifest = Manifest.load(mini_bundle)
    with pytest.raises(BundleError, match=r"models/sr.fp32.onnx declares 1024 bytes, over the per-file limit of 1000"):
        verify_bundle(mini_bundle, manifest, max_file_bytes=1000)
    with pytest.raises(BundleError, match="over the per-file limit"):
        open_bundle(mini_bundle, max_file_bytes=1000)


def test_open_bundle_keeps_its_one_argument_form(mini_bundle):
    assert open_bundle(mini_bundle).model_names == ["sr", "view"]
