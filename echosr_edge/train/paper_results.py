"""The study's published numbers (shared/PAPER.md), for side-by-side reports. Facts, not results."""

from __future__ import annotations

# Table 2 — accuracy (%) before SR: (train tier, test tier) → {"view", "phase"}.
TABLE2: dict[tuple[str, str], dict[str, float]] = {
    ("good", "good"): {"view": 100, "phase": 87},
    ("good", "medium"): {"view": 90, "phase": 83},
    ("good", "poor"): {"view": 82, "phase": 77},
    ("medium", "good"): {"view": 92, "phase": 85},
    ("medium", "medium"): {"view": 100, "phase": 81},
    ("medium", "poor"): {"view": 91, "phase": 81},
    ("poor", "good"): {"view": 77, "phase": 74},
    ("poor", "medium"): {"view": 90, "phase": 77},
    ("poor", "poor"): {"view": 100, "phase": 79},
}

# Table 1 — frames by view, phase and quality in CAMUS.
TABLE1 = {
    ("2CH", "ED"): {"good": 217, "medium": 214, "poor": 69},
    ("2CH", "ES"): {"good": 217, "medium": 214, "poor": 69},
    ("4CH", "ED"): {"good": 288, "medium": 165, "poor": 47},
    ("4CH", "ES"): {"good": 288, "medium": 165, "poor": 47},
}

# SR fidelity on a poor 2CH ED example (dB, SSIM).
SR_EXAMPLE = {"srgan": {"psnr": 32.70, "ssim": 0.7164}, "srresnet": {"psnr": 38.98, "ssim": 0.9214}}

# Fig. 4's stated averages ("percentage improvement"; the paper does not say points or relative).
FIG4_STATED = [
    "train on SR-poor, test on good: view +14.9%, phase +11.5%",
    "SRResNet averages +7.83% across test cases vs +6.6% for SRGAN",
    "test-time-only SR: view +12.2% (classifier trained on good), +6.6% (trained on medium)",
    "test-time-only SR: phase +1.3% (trained on good), +3.7% (trained on medium)",
]
