"""The PyTorch FP32 model behind the runtime's engine interface: the baseline of every bench."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from echosr_edge.bundle.manifest import Manifest, TensorSpec
from echosr_edge.errors import BundleError
from echosr_edge.runtime.bench import BenchTarget
from echosr_edge.runtime.pipeline import Classifier, Pipeline


class TorchEngine:
    """A torch module in eval mode, called with numpy feeds like every runtime engine."""

    def __init__(self, model, threads: int | None = None):
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        self.model = model.eval()
        self.inputs = [TensorSpec("input", ("batch", 1, None, None))]
        self.outputs = [TensorSpec("output", ("batch", None))]

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with self.torch.inference_mode():
            out = self.model(self.torch.from_numpy(np.ascontiguousarray(feeds["input"])))
        return {"output": out.numpy()}


def torch_target(manifest: Manifest, checkpoints: dict[str, Path], threads: int | None = None) -> BenchTarget:
    """A bench target running the bundle's models from their PyTorch checkpoints (name → path)."""
    from echosr_edge.models.checkpoint import load_checkpoint

    models = [m for m in manifest.models if m.task != "quality"]
    missing = [m.name for m in models if m.name not in checkpoints]
    if missing:
        raise BundleError(f"no PyTorch checkpoint for model(s) {', '.join(missing)} (expected NAME.pt beside the others)")
    size = sum(Path(checkpoints[m.name]).stat().st_size for m in models)

    def build() -> Pipeline:
        sr, classifiers = None, []
        for entry in models:
            model, _ = load_checkpoint(checkpoints[entry.name])
            engine = TorchEngine(model, threads)
            if entry.role == "sr":
                sr = engine
            else:
                classifiers.append(Classifier(entry.name, engine, entry.labels, int(entry.preprocessing["input_size"])))
        prep = (manifest.sr_model() or models[0]).preprocessing
        scale = manifest.sr_model().scale if manifest.sr_model() else 4
        return Pipeline(int(prep["hr_size"]), int(scale), sr, classifiers, "always" if sr else "never")

    return BenchTarget("pytorch", "fp32", build, size, "torch", macs=manifest.notes.get("macs", {}))


def find_checkpoints(folder: Path, manifest: Manifest) -> dict[str, Path]:
    """``folder/NAME.pt`` for each model of the bundle that has one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"checkpoint folder not found: {folder}")
    return {m.name: folder / f"{m.name}.pt" for m in manifest.models if (folder / f"{m.name}.pt").is_file()}
