"""Artifact verification against the PyTorch FP32 model on held-out frames."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from echosr_edge.metrics import mean_psnr
from echosr_edge.runtime.engine import open_engine, run_single

SR_MIN_PSNR_DB = 40.0
CLASSIFIER_MIN_AGREEMENT = 0.99


def run_artifact(path: Path, format: str, inputs: np.ndarray) -> tuple[np.ndarray, float]:
    """Run an artifact over N×1×H×W inputs one frame at a time; returns (outputs, median ms/frame)."""
    engine = open_engine(path, format)
    run_single(engine, inputs[:1])  # warm-up
    outs, times = [], []
    for x in inputs:
        start = time.perf_counter()
        outs.append(run_single(engine, x[None]))
        times.append((time.perf_counter() - start) * 1000.0)
    return np.concatenate(outs), float(np.median(times))


def verify_sr(reference: np.ndarray, outputs: np.ndarray, min_psnr: float = SR_MIN_PSNR_DB) -> dict:
    """PSNR of an SR artifact's clipped outputs against the FP32 model's, with its budget."""
    value = mean_psnr(np.clip(reference, 0, 1), np.clip(outputs, 0, 1))
    return {"metric": "psnr_vs_fp32_db", "value": value, "budget": min_psnr, "passed": bool(value >= min_psnr)}


def verify_classifier(
    reference_logits: np.ndarray,
    logits: np.ndarray,
    labels: np.ndarray | None = None,
    min_agreement: float = CLASSIFIER_MIN_AGREEMENT,
) -> dict:
    """Top-1 agreement with the FP32 model (and accuracy delta when labels are given)."""
    ref, got = reference_logits.argmax(1), logits.argmax(1)
    result = {
        "metric": "agreement_vs_fp32",
        "value": float((ref == got).mean()),
        "budget": min_agreement,
    }
    if labels is not None:
        result["accuracy_fp32"] = float((ref == labels).mean())
        result["accuracy"] = float((got == labels).mean())
        result["accuracy_delta"] = result["accuracy"] - result["accuracy_fp32"]
    result["passed"] = bool(result["value"] >= min_agreement)
    return result
