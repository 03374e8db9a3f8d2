"""The held-out verification frames each model is checked on, with its FP32 outputs.

Classifiers are verified on the raw frames and on their SR-enhanced versions (what they see
with enhancement on); the cardiac gate also on synthetic outliers of every kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from echosr_edge.export.models import ExportModel


@dataclass(frozen=True)
class HeldOut:
    """The verification frames as one model sees them, and what its FP32 version made of them."""

    inputs: np.ndarray  # N×1×h×w model inputs
    reference: np.ndarray  # the PyTorch FP32 outputs
    hr: np.ndarray | None  # SR: the HR frames N×1×H×W
    labels: np.ndarray | None  # classifiers: class indices
    enhanced: int = 0  # classifiers: how many of the inputs (the last ones) are SR-enhanced frames
    tiers: np.ndarray | None = None  # the cardiac gate: each input's quality tier ('none' for an outlier)


def enhanced_frames(models: list[ExportModel], images: list, profiles: dict | None) -> np.ndarray | None:
    """The verification frames as the runtime enhances them, SR_fp32(bicubic ↓scale(frame)), N×H×W in [0, 1].

    With enhancement on (the runtime's default), the classifiers see SR output, not the raw frame,
    so they are verified on both. The SR model is the default profile's (None without an SR model).
    """
    from echosr_edge.models.checkpoint import load_checkpoint
    from echosr_edge.train.common import predict_batches

    default = set((profiles or {}).get("default", {}).values())
    srs = [m for m in models if m.role == "sr"]
    sr = next((m for m in srs if m.name in default), srs[0] if srs else None)
    if sr is None:
        return None
    import torch

    torch_model, _ = load_checkpoint(sr.checkpoint)
    with torch.no_grad():
        out = predict_batches(torch_model, sr.inputs(images), batch=4)
    return np.clip(out[:, 0], 0.0, 1.0).astype(np.float32)


def with_enhanced(held_out: HeldOut, model: ExportModel, torch_model, enhanced: np.ndarray) -> HeldOut:
    """``held_out`` with the SR-enhanced frames appended: inputs, FP32 references and labels."""
    import torch

    from echosr_edge.train.common import predict_batches

    inputs = model.inputs(list(enhanced))
    with torch.no_grad():
        reference = predict_batches(torch_model, inputs, batch=4)
    labels = None if held_out.labels is None else np.concatenate([held_out.labels, held_out.labels])
    return HeldOut(np.concatenate([held_out.inputs, inputs]), np.concatenate([held_out.reference, reference]),
                   None, labels, len(inputs))


OOD_VERIFICATION_OUTLIERS = 32


def with_outliers(held_out: HeldOut, model: ExportModel, torch_model, seed: int) -> HeldOut:
    """``held_out`` with synthetic outliers of every kind appended (label 'other'), held-out kinds included."""
    import torch

    from echosr_edge.data.outliers import KINDS, OUTLIER_LABEL, outlier_frames
    from echosr_edge.train.common import predict_batches

    frames = outlier_frames(OOD_VERIFICATION_OUTLIERS, KINDS, seed=seed + 9103)
    inputs = model.inputs([f.image for f in frames])
    with torch.no_grad():
        reference = predict_batches(torch_model, inputs, batch=4)
    labels = np.full(len(frames), model.labels.index(OUTLIER_LABEL))
    tiers = None if held_out.tiers is None else np.concatenate([held_out.tiers, np.full(len(frames), "none")])
    return HeldOut(np.concatenate([held_out.inputs, inputs]), np.concatenate([held_out.reference, reference]),
                   None, None if held_out.labels is None else np.concatenate([held_out.labels, labels]), tiers=tiers)
