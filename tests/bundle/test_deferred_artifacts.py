"""A run hashes the model files it loads as it loads them; nothing altered is ever used."""

import pytest

from echosr_edge.bundle.integrity import open_bundle, verify_artifact
from echosr_edge.errors import BundleError


def alter(path):
    path.write_bytes(b"x" * path.stat().st_size)  # same size: only the checksum tells


def test_deferred_opening_leaves_model_files_to_their_load(mini_bundle):
    alter(mini_bundle / "models" / "view.int8.onnx")
    manifest = open_bundle(mini_bundle, defer_artifacts=True)
    with pytest.raises(BundleError, match="models/view.int8.onnx does not match its checksum"):
        open_bundle(mini_bundle)
    view = manifest.model("view")
    verify_artifact(mini_bundle, view.artifacts[0])  # the unaltered FP32 model still loads
    with pytest.raises(BundleError, match="models/view.int8.onnx does not match its checksum"):
        verify_artifact(mini_bundle, view.artifacts[1])


def test_deferred_opening_still_verifies_every_file_that_is_not_a_model(mini_bundle):
    alter(mini_bundle / "verification" / "frames.npy")
    with pytest.raises(BundleError, match="verification/frames.npy does not match its checksum"):
        open_bundle(mini_bundle, defer_artifacts=True)


def test_deferred_opening_still_checks_the_signature_first(mini_bundle, keypair, trust):
    from echosr_edge.bundle.signing import SignatureError

    with pytest.raises(SignatureError):
        open_bundle(mini_bundle, trust=trust, defer_artifacts=True)  # unsigned


def test_an_engine_is_never_opened_from_an_altered_file(bundle_copy):
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.engine import open_artifact

    manifest = open_bundle(bundle_copy, defer_artifacts=True)
    art = manifest.model("sr").artifacts[0]
    alter(bundle_copy / art.file)
    with pytest.raises(BundleError, match=f"{art.file} does not match its checksum"):
        open_artifact(bundle_copy, art, get_profile("cpu"))
