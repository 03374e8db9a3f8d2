"""What the "enhanced" pane may honestly show and say.

The models see the sector crop resized to a square, and (in the study's reading) the SR model
gets that square reduced ×scale: the pane holds SR of a thumbnail, at most the information of
a 64×64 frame. So the pane is

- drawn at the aspect ratio of the region it came from (the crop, or the whole frame), never
  the models' square, so the fan is not stretched beside the original; and
- labelled for what it is, "model input: SR of the ×4-reduced frame", with the SR model's name
  and its PSNR against the original, measured at start-up on the bundle's verification frames
  beside plain bicubic upsampling of the same reduced frames. Where SR scores below bicubic the
  view must not call the frame "enhanced": ``SRCheck.beats_bicubic`` is False and the label says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.data.preprocess import bicubic_down
from echosr_edge.metrics import mean_psnr
from echosr_edge.runtime.engine import run_single

CHECK_FRAMES = 16  # verification frames the start-up comparison uses (SR on a CPU: well under a second)


@dataclass(frozen=True)
class SRCheck:
    """SR against the original and against bicubic upsampling of the same ×scale-reduced frames."""

    model: str
    scale: int
    frames: int
    sr_psnr_db: float
    bicubic_psnr_db: float

    @property
    def beats_bicubic(self) -> bool:
        return self.sr_psnr_db > self.bicubic_psnr_db

    def to_dict(self) -> dict:
        return {"model": self.model, "scale": self.scale, "frames": self.frames, "sr_psnr_db": round(self.sr_psnr_db, 2),
                "bicubic_psnr_db": round(self.bicubic_psnr_db, 2), "beats_bicubic": self.beats_bicubic}


def check_sr_against_bicubic(bundle_dir: Path, manifest, pipeline, frames: int = CHECK_FRAMES) -> SRCheck | None:
    """PSNR vs the original of SR(↓scale(frame)) and of bicubic ↑(↓scale(frame)); None without SR or frames."""
    ver = manifest.verification_frames
    if pipeline.sr is None or not ver:
        return None
    stack = np.load(Path(bundle_dir) / ver["file"], allow_pickle=False)[:frames]
    if len(stack) == 0:
        return None
    hr = np.stack([f.astype(np.float32) / 255.0 for f in stack])
    lr = [bicubic_down(x, pipeline.scale) for x in hr]
    sr = np.stack([np.clip(run_single(pipeline.sr, x[None, None])[0, 0], 0.0, 1.0) for x in lr])
    h, w = hr.shape[1:]
    bicubic = np.stack([np.clip(cv2.resize(x, (w, h), interpolation=cv2.INTER_CUBIC), 0.0, 1.0) for x in lr])
    name = manifest.sr_model().name if manifest.sr_model() is not None else "sr"
    return SRCheck(name, int(pipeline.scale), len(hr), mean_psnr(hr, sr), mean_psnr(hr, bicubic))


def pane_title(check: SRCheck | None, scale: int = 4) -> str:
    """The pane's heading: what the image is, which model made it, and how it scored at start-up."""
    what = f"model input: SR of the ×{scale}-reduced frame"
    if check is None:
        return what
    score = f"PSNR vs original {check.sr_psnr_db:.1f} dB (bicubic {check.bicubic_psnr_db:.1f} dB, {check.frames} frames)"
    if not check.beats_bicubic:
        return f"{what} · {check.model} · below bicubic: {score}; not an enhancement"
    return f"{what} · {check.model} · {score}"


def frame_flag(applied: bool, check: SRCheck | None) -> str:
    """The per-frame word for the pane: never "enhanced" when SR scored below bicubic at start-up."""
    if not applied:
        return "not enhanced"
    if check is not None and not check.beats_bicubic:
        return "SR applied (below bicubic)"
    return "enhanced (SR)"


def display_aspect(original: np.ndarray, crop=None) -> float:
    """Width / height of the region the models' square came from: the crop box, else the whole frame."""
    if crop is not None and crop.bottom > crop.top and crop.right > crop.left:
        return (crop.right - crop.left) / (crop.bottom - crop.top)
    return original.shape[1] / original.shape[0]


def restore_aspect(image: np.ndarray, aspect: float) -> np.ndarray:
    """The models' H×H square back at ``aspect`` (width / height), keeping its height."""
    h = image.shape[0]
    w = max(1, round(h * aspect))
    if w == image.shape[1]:
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if w < image.shape[1] else cv2.INTER_CUBIC)


def cached_sr_check(bundle_dir: Path, manifest, pipeline, device, recheck: bool = False) -> SRCheck | None:
    """``check_sr_against_bicubic``, remembered per machine and engines like the start-up check (checks.check_key).

    It is a pure function of the bundle, the SR engine and the CPU, so a second start reads it
    from the per-user cache instead of running SR on the verification frames again.
    """
    import json
    import os
    from dataclasses import asdict

    from echosr_edge.runtime.checks import check_key
    from echosr_edge.runtime.user_cache import cache_folder

    if pipeline.sr is None:
        return None
    folder = cache_folder("sr_checks")
    path = folder / f"{check_key(bundle_dir, pipeline, device)}.json" if folder else None
    if path is not None and path.is_file() and not recheck:
        try:
            return SRCheck(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            pass  # a damaged entry: measure again
    check = check_sr_against_bicubic(bundle_dir, manifest, pipeline)
    if path is not None and check is not None:
        tmp = path.with_suffix(".partial")
        tmp.write_text(json.dumps(asdict(check)))
        os.replace(tmp, path)
    return check
