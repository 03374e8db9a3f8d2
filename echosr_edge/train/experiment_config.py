"""Settings of the study's experiment grid: a training schedule (train/configs.py) plus the protocol."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

from echosr_edge.train.configs import TrainingSchedule, get_schedule


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment grid: the trainers' schedule and the data protocol.

    Defaults follow shared/PAPER.md's reading of the protocol: patient-level 80/20 split, task
    sets sized by the poor tier, SR fine-tuned on good frames of patients that are in no test
    split, enhanced(x) = SR(bicubic ↓4(x)) at the HR size.
    """

    schedule: TrainingSchedule
    seeds: tuple[int, ...]
    unit: str = "patient"  # or "frame" (the paper's)
    test_fraction: float = 0.2
    sr_data: str = "held-out"  # or "all" (the paper's: every good frame)
    sr_models: tuple[str, ...] = ("srresnet", "srgan")
    imagenet_weights: Path | None = None
    device: str = "auto"

    @property
    def name(self) -> str:
        return self.schedule.name

    @property
    def hr_size(self) -> int:
        return self.schedule.sr.hr_size

    @property
    def scale(self) -> int:
        return self.schedule.sr.scale

    @property
    def classifier_size(self) -> int:
        return self.schedule.classifier.input_size

    def to_dict(self) -> dict:
        d = asdict(self)
        d["name"] = self.name
        d["hr_size"], d["scale"], d["classifier_size"] = self.hr_size, self.scale, self.classifier_size
        d["imagenet_weights"] = str(self.imagenet_weights) if self.imagenet_weights else None
        return _plain(d)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


# Overrides that reach inside the schedule (tests and quick runs shrink the grid with them).
_SCHEDULE_OVERRIDES = {
    "hr_size": ("sr", "srgan"),
    "sr_epochs": ("sr",),
    "gan_epochs": ("srgan",),
    "sr_blocks": ("sr", "srgan"),
    "sr_features": ("sr", "srgan"),
    "sr_patch_lr": ("sr", "srgan"),
    "sr_patches_per_frame": ("sr", "srgan"),
    "classifier_size": ("classifier",),
    "classifier_epochs": ("classifier",),
}
_FIELD = {
    "hr_size": "hr_size",
    "sr_epochs": "epochs",
    "gan_epochs": "epochs",
    "sr_blocks": "blocks",
    "sr_features": "features",
    "sr_patch_lr": "patch_lr",
    "sr_patches_per_frame": "patches_per_frame",
    "classifier_size": "input_size",
    "classifier_epochs": "epochs",
}


def get_config(name: str, seeds: tuple[int, ...] | None = None, **overrides) -> ExperimentConfig:
    """The grid for the named schedule ('paper' or 'smoke'), with protocol and schedule overrides."""
    schedule = get_schedule(name)
    for key in [k for k in overrides if k in _SCHEDULE_OVERRIDES]:
        value = overrides.pop(key)
        if value is None:
            continue
        for part in _SCHEDULE_OVERRIDES[key]:
            schedule = replace(schedule, **{part: replace(getattr(schedule, part), **{_FIELD[key]: value})})
        if key == "hr_size":
            schedule = replace(schedule, hr_size=value)
    protocol = {k: v for k, v in overrides.items() if v is not None}
    return ExperimentConfig(schedule=schedule, seeds=tuple(seeds or range(schedule.seeds)), **protocol)
