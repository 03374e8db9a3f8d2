"""Settings of the study's experiment grid: a training schedule (train/configs.py) plus the protocol.

``paper_checks`` enforces what "the paper's config" means before a GPU day is spent: the DIV2K,
VGG19 and ImageNet files present, and the tree's counts as in the paper's Table 1 (500 patients,
2,000 frames); ``--allow-deviation`` runs anyway. ``deviations`` lists every way a run departs
from the paper; it goes into results.json and the top of report.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from echosr_edge.data.preprocess import DOWNSAMPLERS
from echosr_edge.errors import ConfigError, EchoSRError
from echosr_edge.train.arms import CLASSICAL_ARMS, check_mode
from echosr_edge.train.configs import TrainingSchedule, get_schedule

SR_KINDS: tuple[str, ...] = ("srresnet", "srgan")
# What the paper's data are (Table 1): 500 patients, 4 labelled frames each.
PAPER_COUNTS = {"patients": 500, "frames": 2000}
# The gated experiment's classifier: trained on every tier (the product's), or on good (the paper's Fig. 4 b/d).
GATED_CLASSIFIERS: tuple[str, ...] = ("all", "good")
# A difference between two differently trained classifiers is read as evidence from this many repeats on:
# between them the training runs' spread is the larger part of the variance (train/grid_summary.evidence).
MIN_REPEATS_DIFFERENT = 3


class DeviationError(EchoSRError):
    """A run that would silently depart from the paper's protocol."""


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment grid: the trainers' schedule and the protocol.

    Protocol: repeated patient-grouped k-fold cross-validation (``folds`` × ``repeats``); task
    sets sized by the poor tier; SR models fine-tuned per fold on that fold's training-side good
    frames (``sr_data='all'``: every good frame, the paper's choice — then no SR frame is held
    out); arms ``none``, ``bicubic``, ``nlmeans``, each SR model, each ``sr_checkpoints`` file;
    the degradation-augmented classifier as the competitor (``augmented``).
    """

    schedule: TrainingSchedule
    folds: int = 2
    repeats: int = 1
    sr_data: str = "held-out"  # or "all" (the paper's: every good frame)
    sr_models: tuple[str, ...] = SR_KINDS
    sr_checkpoints: tuple[tuple[str, Path], ...] = ()
    sr_pretrained: tuple[tuple[str, Path], ...] = ()  # (kind, DIV2K weights file)
    vgg_weights: Path | None = None
    srgan_from_srresnet: bool = True
    enhance_mode: str = "down-up"
    downsample: str = "bicubic"  # the down-up chain's ↓ (and the SR pairs'): "bicubic" or "area" (anti-aliased)
    augmented: bool = True
    gated: bool = True  # the gated pipeline experiment (train/gated.py): never / always / auto per SR arm
    gated_classifier: str = "all"  # its classifier: trained on every tier ("all", the product's) or on good ("good")
    imagenet_weights: Path | None = None
    device: str = "auto"
    allow_deviation: bool = False
    bootstrap: int = 2000

    def __post_init__(self) -> None:
        check_mode(self.enhance_mode)
        if self.downsample not in DOWNSAMPLERS:
            raise ConfigError(f"unknown downsample {self.downsample!r}; known: {', '.join(DOWNSAMPLERS)}")
        unknown = [k for k in self.sr_models if k not in SR_KINDS]
        if unknown:
            raise ConfigError(f"unknown SR model(s) {unknown}; known: {', '.join(SR_KINDS)}")
        clash = [n for n, _ in self.sr_checkpoints if n in (*CLASSICAL_ARMS, *SR_KINDS, "augmented")]
        if clash:
            raise ConfigError(f"--sr-checkpoint name(s) {clash} clash with built-in arms; pick other names")
        if self.gated_classifier not in GATED_CLASSIFIERS:
            raise ConfigError(f"unknown gated classifier {self.gated_classifier!r}; known: {', '.join(GATED_CLASSIFIERS)}")
        if self.folds < 2 or self.repeats < 1:
            raise ConfigError("the grid needs at least 2 folds and 1 repeat")

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

    @property
    def arms(self) -> tuple[str, ...]:
        """Every enhancement arm, ``none`` first."""
        return (*CLASSICAL_ARMS, *self.sr_models, *(n for n, _ in self.sr_checkpoints))

    def pretrained_for(self, kind: str) -> Path | None:
        return dict(self.sr_pretrained).get(kind)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["name"] = self.name
        d["hr_size"], d["scale"], d["classifier_size"] = self.hr_size, self.scale, self.classifier_size
        d["arms"] = list(self.arms)
        d["sr_checkpoints"] = {n: str(p) for n, p in self.sr_checkpoints}
        d["sr_pretrained"] = {n: str(p) for n, p in self.sr_pretrained}
        return _plain(d)


def _typed(current, stored: dict):
    """``current`` (a trainer's config dataclass) with the fields ``stored`` names; Paths made Paths again."""
    kinds = {f.name: str(f.type) for f in fields(current)}
    given = {k: (Path(v) if v is not None and "Path" in kinds[k] else tuple(v) if isinstance(v, list) else v)
             for k, v in stored.items() if k in kinds}
    return replace(current, **given)


def config_from_dict(d: dict) -> ExperimentConfig:
    """``ExperimentConfig.to_dict``'s output (results.json's ``config``) back as the config it was made from."""
    base = get_schedule(d["name"])
    parts = {part: _typed(getattr(base, part), d["schedule"][part]) for part in ("sr", "srgan", "classifier", "quality")
             if part in d.get("schedule", {})}
    schedule = replace(base, hr_size=d.get("schedule", {}).get("hr_size", base.hr_size), **parts)
    protocol = {f.name: d[f.name] for f in fields(ExperimentConfig) if f.name in d and f.name != "schedule"}
    protocol.update({k: tuple((n, Path(p)) for n, p in (d.get(k) or {}).items()) for k in ("sr_checkpoints", "sr_pretrained")})
    protocol.update({k: None if d.get(k) is None else Path(d[k]) for k in ("vgg_weights", "imagenet_weights")})
    protocol["sr_models"] = tuple(d.get("sr_models", SR_KINDS))
    return ExperimentConfig(schedule=schedule, **protocol)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def missing_paper_files(config: ExperimentConfig) -> list[str]:
    """The paper's starting weights this config lacks (DIV2K per SR model, VGG19, ImageNet)."""
    missing = [f"DIV2K {kind} weights (--sr-pretrained {kind}=FILE)" for kind in config.sr_models
               if config.pretrained_for(kind) is None and not (kind == "srgan" and config.srgan_from_srresnet
                                                               and "srresnet" in config.sr_models)]
    if "srgan" in config.sr_models and config.vgg_weights is None:
        missing.append("VGG19 weights (--vgg-weights)")
    if config.imagenet_weights is None:
        missing.append("ImageNet ResNet-18 weights (--imagenet-weights)")
    return missing


def count_shortfall(patients: int, frames: int, expected: dict = PAPER_COUNTS) -> str | None:
    """One line naming how the tree's counts differ from ``expected``, or None when they match."""
    parts = []
    if patients != expected["patients"]:
        parts.append(f"{patients} patients where the paper has {expected['patients']} ({patients - expected['patients']:+d})")
    if frames != expected["frames"]:
        parts.append(f"{frames} frames where the paper has {expected['frames']} ({frames - expected['frames']:+d})")
    return "; ".join(parts) or None


def paper_checks(config: ExperimentConfig, patients: int | None = None, frames: int | None = None) -> None:
    """Refuse a 'paper' run that would depart from the paper, unless ``allow_deviation``."""
    if config.name != "paper" or config.allow_deviation:
        return
    missing = missing_paper_files(config)
    if missing:
        raise DeviationError(f"--config paper needs {', '.join(missing)}; pass --allow-deviation to run without them")
    if patients is not None:
        short = count_shortfall(patients, frames if frames is not None else 4 * patients)
        if short:
            raise DeviationError(f"--config paper expects CAMUS's 500 patients and 2,000 frames: this tree has {short}; "
                                 "pass --allow-deviation to run on it")


def deviations(config: ExperimentConfig, patients: int, frames: int, srgan_content_loss: str | None) -> list[str]:
    """Every way this run departs from the paper's protocol, one sentence each."""
    out = []
    if config.name != "paper":
        out.append(f"schedule '{config.name}' (shorter training than the paper's 4,000/8,000 SR epochs and 10 classifier epochs)")
    if config.imagenet_weights is None:
        out.append("classifiers start from random weights (the paper: ImageNet ResNet-18)")
    for kind in config.sr_models:
        if config.pretrained_for(kind) is None and not (kind == "srgan" and config.srgan_from_srresnet and "srresnet" in config.sr_models):
            init = getattr(config.schedule, "sr" if kind == "srresnet" else "srgan").init
            out.append(f"{kind} starts from its '{init}' init, not DIV2K weights")
    if "srgan" in config.sr_models and srgan_content_loss not in (None, "vgg"):
        out.append(f"SRGAN content loss is {srgan_content_loss} (no VGG19 weights), not the VGG19 φ5,4 loss")
    if "srgan" in config.sr_models and not config.srgan_from_srresnet:
        out.append("SRGAN is not started from the fine-tuned SRResNet (Ledig et al.'s protocol)")
    short = count_shortfall(patients, frames)
    if short:
        out.append(f"data: {short}")
    out.append(f"split unit: patient-grouped {config.folds}-fold cross-validation × {config.repeats} repeat(s) "
               "(the paper: one frame-level 80/20 split)")
    if config.sr_data != "all":
        out.append("SR fine-tuned on each fold's training-side good frames only (the paper: every good frame)")
    return out


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
    "classifier_steps": ("classifier", "quality"),
    "quality_size": ("quality",),
    "quality_epochs": ("quality",),
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
    "classifier_steps": "min_steps",
    "quality_size": "input_size",
    "quality_epochs": "epochs",
}
# Grid defaults per schedule. Paper: 5 folds × 3 repeats, the fewest with which a difference between
# two differently trained classifiers (Fig. 4 a/c, the paper's own setting) is read as evidence
# (MIN_REPEATS_DIFFERENT). Smoke: the fewest that still cross-validate.
_GRID_DEFAULTS = {"paper": {"folds": 5, "repeats": MIN_REPEATS_DIFFERENT}, "smoke": {"folds": 2, "repeats": 1}}
# The smoke grid's quality model (train/gated.py) at 64 px: at the schedule's 128 px it would add about half the
# classifiers' training time per fold (it trains on every training-side frame). `train quality --schedule smoke` keeps 128 px.
_GRID_SCHEDULE_DEFAULTS = {"smoke": {"quality_size": 64}}


def get_config(name: str, **overrides) -> ExperimentConfig:
    """The grid for the named schedule ('paper' or 'smoke'), with protocol and schedule overrides."""
    schedule = get_schedule(name)
    overrides = {**_GRID_SCHEDULE_DEFAULTS.get(name, {}), **{k: v for k, v in overrides.items() if v is not None}}
    for key in [k for k in overrides if k in _SCHEDULE_OVERRIDES]:
        value = overrides.pop(key)
        if value is None:
            continue
        for part in _SCHEDULE_OVERRIDES[key]:
            schedule = replace(schedule, **{part: replace(getattr(schedule, part), **{_FIELD[key]: value})})
        if key == "hr_size":
            schedule = replace(schedule, hr_size=value)
    protocol = {**_GRID_DEFAULTS.get(name, {}), **{k: v for k, v in overrides.items() if v is not None}}
    return ExperimentConfig(schedule=schedule, **protocol)
