"""A model's calibration (softmax temperature) and OOD threshold travel in the manifest, optionally."""

import json

import pytest

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.errors import BundleError
from tests.bundle.conftest import edit_manifest


def test_a_manifest_without_calibration_reads_as_temperature_one_and_saves_without_the_keys(mini_bundle):
    manifest = Manifest.load(mini_bundle)
    assert all(m.temperature == 1.0 and not m.ood for m in manifest.models)
    manifest.save(mini_bundle)
    saved = json.loads((mini_bundle / "manifest.json").read_text())
    assert not any("calibration" in m or "ood" in m for m in saved["models"])


def test_calibration_and_ood_threshold_round_trip(mini_bundle):
    def add(d):
        d["models"][1]["calibration"] = {"method": "temperature", "temperature": 1.7, "ece_before": 0.2, "ece_after": 0.05,
                                         "min_confidence": 0.58}
        d["models"][1]["ood"] = {"score": "logit margin other - cardiac", "threshold": -2.5}

    edit_manifest(mini_bundle, add)
    entry = Manifest.load(mini_bundle).models[1]
    assert entry.temperature == 1.7 and entry.calibration["min_confidence"] == 0.58
    assert entry.ood["threshold"] == -2.5


def test_a_null_minimum_confidence_reads_as_no_low_confidence_threshold(mini_bundle):
    # Training places none where too few held-out frames could promise 99 % answered.
    edit_manifest(mini_bundle, lambda d: d["models"][1].update(calibration={"temperature": 1.2, "min_confidence": None}))
    assert Manifest.load(mini_bundle).models[1].calibration["min_confidence"] is None


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("calibration", {"temperature": 0}, r"models\[1\]\.calibration\.temperature: must be positive"),
        ("calibration", {"temperature": "2"}, r"models\[1\]\.calibration\.temperature: expected a number"),
        ("calibration", {"min_confidence": "0.5"}, r"models\[1\]\.calibration\.min_confidence: expected a number or null"),
        ("ood", {"score": "x"}, r"models\[1\]\.ood\.threshold: is missing"),
    ],
    ids=["zero-temperature", "string-temperature", "string-min-confidence", "no-threshold"],
)
def test_a_bad_calibration_or_threshold_is_refused_naming_the_field(mini_bundle, field, value, match):
    edit_manifest(mini_bundle, lambda d: d["models"][1].update({field: value}))
    with pytest.raises(BundleError, match=match):
        Manifest.load(mini_bundle)
