"""Artifact verification against the PyTorch FP32 model on held-out frames, with budgets.

SR artifacts: PSNR and SSIM of their clipped output against the FP32 model's output, and both
against the HR frame (next to FP32's own, so the cost of quantisation shows in the study's
metric). Classifiers: top-1 agreement with FP32, and the accuracy delta on the labels.
A result names every budget it misses in ``failures``; ``passed`` is True only when it misses none.
Artifacts run through the runtime's own engine adapters with the options their device profile
uses, so the result is what a device will reproduce; the budgets live in ``bundle.budgets``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from echosr_edge.bundle.budgets import CLASSIFIER_MAX_ACCURACY_DROP, CLASSIFIER_MIN_AGREEMENT, SR_MIN_PSNR_DB, Budgets
from echosr_edge.errors import MissingExtra
from echosr_edge.metrics import mean_psnr, ssim


def runtime_setup(format: str) -> dict:
    """How a device runs ``format``: the device profile that prefers it and the adapter options it gives it.

    Export verifies an artifact with exactly these options (the profile's thread count aside), so
    the check in the manifest is the one the device will reproduce; the bundle records them.
    """
    from echosr_edge.devices.profiles import PROFILES

    profile = next((p for p in PROFILES.values() if p.format == format), None)
    if profile is None:
        raise ValueError(f"no device profile runs {format!r} first")
    return {"device_profile": profile.name, "options": profile.options_for(format)}


def run_verification(path: Path, format: str, inputs: np.ndarray) -> tuple[np.ndarray, float, dict]:
    """Run an artifact over N×1×H×W inputs one frame at a time through the runtime's adapter.

    Returns (outputs, median ms/frame, the runtime setup it ran with). TensorRT is the one
    exception: the runtime's adapter needs cuda-python or pycuda for its buffers, and an export
    machine may hold only torch's CUDA; the export-side runner then stands in, and says so.
    """
    from echosr_edge.runtime.engine import open_engine, run_single

    setup = runtime_setup(format)
    try:
        engine = open_engine(path, format, **setup["options"])
    except MissingExtra:
        if format != "tensorrt":
            raise
        from echosr_edge.export.tensorrt_export import run_engine

        outputs, ms = run_engine(path, inputs)
        return outputs, ms, {**setup, "runner": "export (torch CUDA buffers; cuda-python and pycuda absent)"}
    run_single(engine, inputs[:1])  # warm-up
    outs, times = [], []
    for x in inputs:
        start = time.perf_counter()
        outs.append(run_single(engine, x[None]))
        times.append((time.perf_counter() - start) * 1000.0)
    return np.concatenate(outs).astype(np.float32), float(np.median(times)), {**setup, "runner": "runtime adapter"}


def run_artifact(path: Path, format: str, inputs: np.ndarray) -> tuple[np.ndarray, float]:
    """``run_verification`` without the setup: (outputs, median ms/frame)."""
    outputs, ms, _ = run_verification(path, format, inputs)
    return outputs, ms


def mean_ssim(references: np.ndarray, tests: np.ndarray) -> float:
    """Mean SSIM over N×1×H×W stacks in [0, 1]."""
    return float(np.mean([ssim(r[0], t[0]) for r, t in zip(references, tests)]))


def verify_sr(
    reference: np.ndarray, outputs: np.ndarray, hr: np.ndarray | None = None, min_psnr: float = SR_MIN_PSNR_DB
) -> dict:
    """PSNR/SSIM of an SR artifact's clipped N×1×H×W outputs against FP32's (and against HR)."""
    ref, out = np.clip(reference, 0, 1), np.clip(outputs, 0, 1)
    value = mean_psnr(ref, out)
    result = {
        "metric": "psnr_vs_fp32_db",
        "value": value,
        "budget": min_psnr,
        "ssim_vs_fp32": mean_ssim(ref, out),
    }
    if hr is not None:
        result["psnr_vs_hr_db"] = mean_psnr(hr, out)
        result["psnr_vs_hr_fp32_db"] = mean_psnr(hr, ref)
        result["ssim_vs_hr"] = mean_ssim(hr, out)
        result["ssim_vs_hr_fp32"] = mean_ssim(hr, ref)
    failures = [] if value >= min_psnr else [f"PSNR vs FP32 {value:.2f} dB < {min_psnr:g} dB"]
    result["failures"] = failures
    result["passed"] = not failures
    return result


def verify_classifier(
    reference_logits: np.ndarray,
    logits: np.ndarray,
    labels: np.ndarray | None = None,
    min_agreement: float = CLASSIFIER_MIN_AGREEMENT,
    max_accuracy_drop: float = CLASSIFIER_MAX_ACCURACY_DROP,
) -> dict:
    """Top-1 agreement with the FP32 model, and the accuracy delta when labels are given."""
    ref, got = reference_logits.argmax(1), logits.argmax(1)
    agreement = float((ref == got).mean())
    result = {"metric": "agreement_vs_fp32", "value": agreement, "budget": min_agreement}
    agreed = int((ref == got).sum())
    failures = [] if agreement >= min_agreement else [f"agreement {agreement:.2%} ({agreed}/{len(ref)} frames) < {min_agreement:.0%}"]
    if labels is not None:
        result["accuracy_fp32"] = float((ref == labels).mean())
        result["accuracy"] = float((got == labels).mean())
        result["accuracy_delta"] = result["accuracy"] - result["accuracy_fp32"]
        result["max_accuracy_drop"] = max_accuracy_drop
        if -result["accuracy_delta"] > max_accuracy_drop + 1e-12:
            failures.append(f"accuracy drop {-result['accuracy_delta'] * 100:.1f} points > {max_accuracy_drop * 100:g}")
    result["failures"] = failures
    result["passed"] = not failures
    return result


OOD_MAX_COVERAGE_LOSS = 0.05  # the gate may accept at most 5 points fewer held-out cardiac frames than its target
OOD_MIN_REFUSED = 0.90  # and must refuse at least 90 % of the synthetic outliers


def verify_ood(logits: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...], ood: dict,
               tiers: np.ndarray | None = None) -> dict:
    """Does the stored OOD threshold hold on this artifact? Acceptance of cardiac rows, refusal of the rest.

    ``labels`` index ``class_names`` ('cardiac', 'other'); the score is logit(other) − logit(cardiac).
    ``tiers`` (one quality tier per row): the cardiac rows accepted per tier, reported beside the
    budget (a tier of ten frames moves ten points with one frame: too few to fail an artifact on).
    """
    threshold = float(ood["threshold"])
    margin = logits[:, class_names.index("other")] - logits[:, class_names.index("cardiac")]
    cardiac = labels == class_names.index("cardiac")
    accepted = float((margin[cardiac] <= threshold).mean()) if cardiac.any() else float("nan")
    refused = float((margin[~cardiac] > threshold).mean()) if (~cardiac).any() else float("nan")
    target = float(ood.get("coverage_target", 0.95))
    failures = []
    if cardiac.any() and accepted < target - OOD_MAX_COVERAGE_LOSS:
        failures.append(f"OOD threshold accepts {accepted:.1%} of cardiac frames < {target - OOD_MAX_COVERAGE_LOSS:.0%}")
    if (~cardiac).any() and refused < OOD_MIN_REFUSED:
        failures.append(f"OOD threshold refuses {refused:.1%} of outliers < {OOD_MIN_REFUSED:.0%}")
    result = {"threshold": threshold, "cardiac_frames": int(cardiac.sum()), "cardiac_accepted": accepted,
              "outlier_frames": int((~cardiac).sum()), "outliers_refused": refused, "failures": failures}
    if tiers is not None:
        kept = margin <= threshold
        result["cardiac_accepted_by_tier"] = {str(t): [int(kept[cardiac & (tiers == t)].sum()), int((cardiac & (tiers == t)).sum())]
                                              for t in sorted(set(np.asarray(tiers)[cardiac].tolist()))}
    return result


def verify(role: str, reference: np.ndarray, outputs: np.ndarray, budgets: Budgets, hr=None, labels=None) -> dict:
    """Verify by role ('sr' or 'classifier') against ``budgets``."""
    if role == "sr":
        return verify_sr(reference, outputs, hr, budgets.sr_min_psnr_db)
    return verify_classifier(reference, outputs, labels, budgets.classifier_min_agreement, budgets.classifier_max_accuracy_drop)


def summary(role: str, check: dict) -> str:
    """A short text of a verification result for the export table."""
    if role == "sr":
        text = f"PSNR {check['value']:.1f} dB, SSIM {check['ssim_vs_fp32']:.4f}"
        if "psnr_vs_hr_db" in check:
            text += f"; vs HR {check['psnr_vs_hr_db']:.2f} dB"
        return text
    text = f"agree {check['value']:.1%}"
    if "accuracy_delta" in check:
        text += f", acc Δ {check['accuracy_delta'] * 100:+.1f} pt"
    return text
