"""Frame sources behind one interface: video file, image folder, NIfTI file or folder.

A source yields (index, timestamp_s, frame) where frame is H×W uint8 or H×W×3 BGR uint8.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator, Protocol

import cv2
import numpy as np

from echosr_edge.errors import DataError, SourceError

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
NIFTI_SUFFIXES = (".nii", ".nii.gz")


class FrameSource(Protocol):
    """Something that yields frames in order."""

    description: str

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]: ...


def _is_nifti(path: Path) -> bool:
    return path.name.endswith(NIFTI_SUFFIXES)


class VideoFileSource:
    """Frames of a video file, decoded by OpenCV; timestamps from the container."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.description = f"video {self.path.name}"

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise SourceError(f"cannot open video {self.path} (unsupported or damaged)")
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        index = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                yield index, index / fps, frame
                index += 1
        finally:
            cap.release()
        if index == 0:
            raise SourceError(f"video {self.path} has no readable frames")


class ImageFolderSource:
    """Image files of a folder in name order (PNG, JPEG, BMP, TIFF)."""

    def __init__(self, folder: Path, fps: float = 25.0):
        self.folder = Path(folder)
        self.fps = fps
        self.paths = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise SourceError(f"no images (png, jpg, bmp, tif) in {self.folder}")
        self.description = f"{len(self.paths)} images in {self.folder.name}"

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        for index, path in enumerate(self.paths):
            frame = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if frame is None:
                log.warning("skipping unreadable image %s", path)
                continue
            yield index, index / self.fps, frame


class NiftiSource:
    """Frames of one NIfTI file (a frame or a cine) or of every NIfTI file in a folder."""

    def __init__(self, path: Path, fps: float = 25.0):
        self.path = Path(path)
        self.fps = fps
        if self.path.is_dir():
            self.files = sorted(p for p in self.path.rglob("*") if _is_nifti(p))
            if not self.files:
                raise SourceError(f"no NIfTI files in {self.path}")
        else:
            self.files = [self.path]
        self.description = f"NIfTI {self.path.name} ({len(self.files)} file(s))"

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        from echosr_edge.data.nifti import read_nifti

        index = 0
        for path in self.files:
            try:
                stack, _ = read_nifti(path)
            except DataError as exc:
                if len(self.files) == 1:
                    raise SourceError(str(exc)) from exc
                log.warning("skipping %s", exc)
                continue
            for frame in stack:
                yield index, index / self.fps, frame
                index += 1


def open_source(spec: str | Path) -> FrameSource:
    """A source for a path: a video file, an image folder, a NIfTI file or a folder of them."""
    path = Path(spec)
    if not path.exists():
        raise SourceError(f"source not found: {path}")
    if path.is_dir():
        if any(_is_nifti(p) for p in path.rglob("*")):
            return NiftiSource(path)
        return ImageFolderSource(path)
    if _is_nifti(path):
        return NiftiSource(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return VideoFileSource(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise SourceError(f"{path} is a single image: pass the folder that holds it")
    raise SourceError(f"unsupported source {path} (a video, an image folder or NIfTI)")
