"""Fixtures for bundle trust tests: a tiny hand-made bundle (no torch needed) and key pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from echosr_edge.bundle.integrity import file_pin
from echosr_edge.bundle.manifest import SCHEMA_VERSION, Artifact, Manifest, ModelEntry, TensorSpec

pytest.importorskip("cryptography", reason="signing needs the 'sign' extra (cryptography)")


def _artifact(bundle: Path, rel: str, precision: str, payload: bytes) -> Artifact:
    (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
    (bundle / rel).write_bytes(payload)
    pin = file_pin(bundle, rel)
    return Artifact(
        format="onnx",
        precision=precision,
        file=rel,
        sha256=pin["sha256"],
        size=pin["size"],
        inputs=(TensorSpec("input", ("batch", 1, 8, 8)),),
        outputs=(TensorSpec("output", ("batch", 1, 32, 32)),),
        verification={"passed": True},
    )


def make_bundle(bundle: Path) -> Path:
    """A bundle whose model files are placeholder bytes: enough for schema, checksums and signatures."""
    bundle.mkdir(parents=True)
    sr = ModelEntry(
        name="sr",
        role="sr",
        arch="srresnet",
        preprocessing={"hr_size": 32, "input_size": 8},
        artifacts=(_artifact(bundle, "models/sr.fp32.onnx", "fp32", b"sr fp32 weights " * 64),),
        scale=4,
    )
    view = ModelEntry(
        name="view",
        role="classifier",
        arch="resnet18",
        preprocessing={"hr_size": 32, "input_size": 32},
        artifacts=(
            _artifact(bundle, "models/view.fp32.onnx", "fp32", b"view fp32 weights " * 64),
            _artifact(bundle, "models/view.int8.onnx", "int8", b"view int8 weights " * 16),
        ),
        labels=("2CH", "4CH"),
        task="view",
    )
    (bundle / "verification").mkdir()
    (bundle / "verification" / "frames.npy").write_bytes(b"\x93NUMPY frames")
    Manifest(
        schema_version=SCHEMA_VERSION,
        created="2026-01-01T00:00:00+00:00",
        tool_version="test",
        models=(sr, view),
        verification_frames=file_pin(bundle, "verification/frames.npy"),
    ).save(bundle)
    return bundle


def edit_manifest(bundle: Path, change) -> None:
    """Apply ``change(data)`` to the bundle's manifest.json."""
    path = bundle / "manifest.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


@pytest.fixture()
def mini_bundle(tmp_path) -> Path:
    return make_bundle(tmp_path / "bundle")


@pytest.fixture(scope="session")
def keypair(tmp_path_factory):
    """The vendor's key: the one devices trust."""
    from echosr_edge.bundle.keys import new_keypair

    return new_keypair(tmp_path_factory.mktemp("keys"), name="vendor")


@pytest.fixture(scope="session")
def other_keypair(tmp_path_factory):
    """Someone else's key: not in any trust store."""
    from echosr_edge.bundle.keys import new_keypair

    return new_keypair(tmp_path_factory.mktemp("other-keys"), name="mallory")


@pytest.fixture(scope="session")
def trust(keypair):
    from echosr_edge.bundle.trust import TrustStore

    return TrustStore.from_paths([keypair.public_key])
