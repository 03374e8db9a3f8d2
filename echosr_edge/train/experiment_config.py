"""Settings of the study's experiment grid: the paper's schedule and a CPU smoke schedule."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment grid: data protocol, SR schedule, classifier schedule, seeds.

    Defaults follow shared/PAPER.md's reading of the protocol: patient-level 80/20 split, task
    sets sized by the poor tier, SR fine-tuned on good frames of patients that are in no test
    split, enhanced(x) = SR(bicubic ↓4(x)) at the HR size.
    """

    name: str
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    unit: str = "patient"  # or "frame" (the paper's)
    test_fraction: float = 0.2
    sr_data: str = "held-out"  # or "all" (the paper's: every good frame)
    sr_models: tuple[str, ...] = ("srresnet", "srgan")
    hr_size: int = 256
    scale: int = 4
    classifier_size: int = 224
    classifier_epochs: int = 10
    classifier_batch: int = 16
    classifier_lr: float = 1e-4
    sr_epochs: int = 4000
    sr_lr: float = 1e-4
    sr_batch: int = 16
    sr_patch_lr: int = 24
    sr_patches_per_frame: int = 1
    gan_epochs: int = 8000
    sr_blocks: int = 16
    sr_features: int = 64
    imagenet_weights: Path | None = None
    device: str = "auto"
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["imagenet_weights"] = str(self.imagenet_weights) if self.imagenet_weights else None
        return d


PAPER = ExperimentConfig(name="paper")

# Whole grid (Table 2 for both tasks, Fig. 4 a–d, both SR models, 5 seeds) in minutes on 2 CPU
# cores: small frames, few epochs, higher learning rates. The architectures stay the study's.
SMOKE = ExperimentConfig(
    name="smoke",
    hr_size=64,
    classifier_size=64,
    classifier_epochs=6,
    classifier_lr=1e-3,
    sr_epochs=6,
    sr_lr=1e-3,
    sr_patch_lr=16,
    sr_patches_per_frame=4,
    gan_epochs=4,
)

CONFIGS = {"paper": PAPER, "smoke": SMOKE}


def get_config(name: str, **overrides) -> ExperimentConfig:
    """A named config ('paper' or 'smoke') with field overrides."""
    if name not in CONFIGS:
        raise ValueError(f"unknown experiment config {name!r}; known: {', '.join(CONFIGS)}")
    clean = {k: v for k, v in overrides.items() if v is not None}
    return replace(CONFIGS[name], **clean)
