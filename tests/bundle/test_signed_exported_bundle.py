"""A real exported bundle, signed: the trust store lets it run and refuses its altered copies."""

import hashlib
import json

import numpy as np
import pytest

from echosr_edge.bundle.integrity import open_bundle
from echosr_edge.bundle.signing import SignatureError, sign_bundle


def test_signed_exported_bundle_runs_with_a_trust_store(bundle_copy, keypair, trust):
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.pipeline import load_pipeline

    sign_bundle(bundle_copy, keypair.private_key)
    manifest = open_bundle(bundle_copy, trust=trust)
    pipeline = load_pipeline(bundle_copy, get_profile("cpu"), precision="int8", manifest=manifest)
    result = pipeline.process(np.full((96, 80), 128, np.uint8))
    assert result.labels["view"] in ("2CH", "4CH")


def test_exported_bundle_with_swapped_model_and_repinned_manifest_is_refused(bundle_copy, keypair, trust):
    sign_bundle(bundle_copy, keypair.private_key)
    # The attacker puts the FP32 model where the INT8 one was, and re-pins it.
    rel = "models/view.int8.onnx"
    (bundle_copy / rel).write_bytes((bundle_copy / "models" / "view.fp32.onnx").read_bytes())
    data = json.loads((bundle_copy / "manifest.json").read_text())
    art = next(a for m in data["models"] for a in m["artifacts"] if a["file"] == rel)
    art["sha256"] = hashlib.sha256((bundle_copy / rel).read_bytes()).hexdigest()
    art["size"] = (bundle_copy / rel).stat().st_size
    (bundle_copy / "manifest.json").write_text(json.dumps(data, indent=2))
    assert open_bundle(bundle_copy).model_names == ["sr", "view"]  # checksums alone are satisfied
    with pytest.raises(SignatureError, match="changed since it was signed"):
        open_bundle(bundle_copy, trust=trust)
