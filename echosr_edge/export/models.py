"""What is exported: checkpoints discovered by their metadata (role, task), and their inputs.

A checkpoint says what it is in its ``meta``: ``role`` 'sr' (SRResNet, or the SRGAN generator,
whose arch is also 'srresnet') or 'classifier' with its ``task`` ('view', 'phase', 'quality')
and ``labels``. A model's bundle name is ``meta['name']`` when present, else 'sr' or the task;
a second model with the same name takes its checkpoint's file stem (``srgan.pt`` → 'srgan').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echosr_edge.data.preprocess import as_batch, bicubic_down, resize_unit
from echosr_edge.errors import DataError


@dataclass(frozen=True)
class ExportModel:
    """One checkpoint to export and the shapes its artifacts take."""

    name: str
    role: str  # "sr" or "classifier"
    arch: str
    checkpoint: Path
    hr_size: int
    input_size: int  # spatial size of the model input (LR size for SR)
    scale: int | None = None
    task: str | None = None
    labels: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict, compare=False)

    def inputs(self, images) -> np.ndarray:
        """Model inputs N×1×s×s float32 in [0, 1] from H×W grey images (uint8 or float in [0, 1])."""
        hr = [resize_unit(im, self.hr_size) for im in images]
        if self.role == "sr":
            return as_batch([bicubic_down(x, self.scale) for x in hr])
        return as_batch([resize_unit(im, self.input_size) for im in images])

    def hr(self, images) -> np.ndarray:
        """The HR frames N×1×hr×hr float32 in [0, 1] an SR model's output is compared with."""
        return as_batch([resize_unit(im, self.hr_size) for im in images])

    def onnx_metadata(self, version: str) -> dict[str, str]:
        """Key/values written into the ONNX file's metadata_props and OpenVINO's rt_info."""
        meta = {"echosr_edge.model": self.name, "echosr_edge.role": self.role, "echosr_edge.version": version}
        meta["echosr_edge.hr_size"] = str(self.hr_size)
        if self.role == "sr":
            meta["echosr_edge.scale"] = str(self.scale)
        else:
            meta["echosr_edge.input_size"] = str(self.input_size)
            meta["echosr_edge.task"] = str(self.task)
            meta["echosr_edge.labels"] = ",".join(self.labels)
        return meta


def describe_checkpoint(path: Path, meta: dict, hr_size: int | None = None) -> ExportModel:
    """An ExportModel from a checkpoint's metadata; ``hr_size`` overrides the trained HR size."""
    role = meta.get("role")
    if role not in ("sr", "classifier"):
        raise DataError(path, f"checkpoint meta has role {role!r}; expected 'sr' or 'classifier'")
    hr = int(hr_size or meta.get("hr_size") or 0)
    if hr <= 0:
        raise DataError(path, "checkpoint meta has no hr_size; give --imgsz")
    if role == "sr":
        scale = int(meta.get("scale") or meta.get("config", {}).get("scale", 4))
        if hr % scale:
            raise DataError(path, f"image size {hr} is not divisible by the SR scale {scale}")
        name = str(meta.get("name") or "sr")
        return ExportModel(name, "sr", meta["arch"], Path(path), hr, hr // scale, scale=scale, meta=meta)
    task = meta.get("task")
    labels = tuple(meta.get("labels") or ())
    if not task or not labels:
        raise DataError(path, "classifier checkpoint meta lacks its task or labels")
    name = str(meta.get("name") or task)
    return ExportModel(name, "classifier", meta["arch"], Path(path), hr, int(meta["input_size"]), task=task, labels=labels, meta=meta)


def discover_models(paths: list[Path], names: dict[Path, str] | None = None, hr_size: int | None = None) -> list[ExportModel]:
    """ExportModels for checkpoint files (or folders of ``*.pt``), named uniquely, SR models first."""
    from echosr_edge.models.checkpoint import load_checkpoint

    files: list[Path] = []
    for p in map(Path, paths):
        # A folder's training states (``NAME.state.pt``, for --resume) are not models.
        files += sorted(f for f in p.glob("*.pt") if not f.name.endswith(".state.pt")) if p.is_dir() else [p]
    if not files:
        raise DataError(paths[0] if paths else ".", "no checkpoints (*.pt) found")
    from echosr_edge.models.registry import STUDENT_ARCHITECTURES

    described = []
    for path in files:
        _, meta = load_checkpoint(path)
        described.append((path, describe_checkpoint(path, meta, hr_size)))
    # Teachers are named before students, so the study's SRResNet keeps the name 'sr'.
    described.sort(key=lambda pm: (pm[1].role != "sr", pm[1].arch in STUDENT_ARCHITECTURES))
    models: list[ExportModel] = []
    for path, model in described:
        wanted = (names or {}).get(path)
        taken = {m.name for m in models}
        name = wanted or (model.name if model.name not in taken else path.stem)
        if name in taken:
            raise DataError(path, f"a second model is named {name!r}; name them NAME=PATH")
        models.append(ExportModel(**{**model.__dict__, "name": name}))
    return sorted(models, key=lambda m: m.role != "sr")
