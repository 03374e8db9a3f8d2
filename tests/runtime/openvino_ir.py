"""Test helper: add OpenVINO IR artifacts converted from a bundle's ONNX models to its manifest.

The exporter writes IR for real bundles; the runtime's tests (and benchmarks/runtime_must_show.py)
use this stand-in so they do not depend on the export stage.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from echosr_edge.bundle.integrity import file_pin
from echosr_edge.bundle.manifest import Artifact, Manifest


def add_openvino_artifacts(bundle_dir: Path, precisions: tuple[str, ...] = ("fp32", "int8")) -> Manifest:
    """Convert each model's ONNX artifact at each of ``precisions`` to IR (models/<name>.<precision>.xml + .bin)."""
    import openvino as ov

    bundle_dir = Path(bundle_dir)
    manifest = Manifest.load(bundle_dir)
    entries = []
    for entry in manifest.models:
        added = []
        for precision in precisions:
            onnx = entry.artifact("onnx", "fp32" if precision == "fp16" else precision)
            if onnx is None or entry.artifact("openvino", precision):
                continue
            rel = f"models/{entry.name}.{precision}.xml"
            model = ov.convert_model(str(bundle_dir / onnx.file))
            ov.save_model(model, str(bundle_dir / rel), compress_to_fp16=precision == "fp16")
            pin = file_pin(bundle_dir, rel)
            added.append(
                Artifact(
                    format="openvino",
                    precision=precision,
                    file=rel,
                    sha256=pin["sha256"],
                    size=pin["size"],
                    inputs=onnx.inputs,
                    outputs=onnx.outputs,
                    verification={"converted_from": onnx.file},
                    companions=(file_pin(bundle_dir, rel[: -len(".xml")] + ".bin"),),
                )
            )
        entries.append(replace(entry, artifacts=entry.artifacts + tuple(added)))
    manifest = replace(manifest, models=tuple(entries))
    manifest.save(bundle_dir)
    return manifest
