"""Frame sources behind one interface: camera, network stream, video file, image folder, NIfTI, DICOM.

A source yields (index, timestamp_s, frame) where frame is H×W uint8 or H×W×3 BGR uint8.
File sources yield every frame in order and end at the end of the file. Live sources (a
camera, a stream URL, or a file with ``realtime=True``) deliver only the newest frame, count
the dropped ones in ``dropped``, may yield None while waiting, and report outages through
``drain_events()`` (see ``runtime.live``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator, Protocol

import cv2
import numpy as np

from echosr_edge.errors import DataError, SourceError
from echosr_edge.runtime.readers import IMAGE_SUFFIXES, NIFTI_SUFFIXES, VIDEO_SUFFIXES, open_file, read_image
from echosr_edge.runtime.live import (
    CaptureSource,
    LatestFrameSource,
    PacedSource,
    ReconnectPolicy,
    SourceEvent,
    is_stream_url,
)

log = logging.getLogger(__name__)



class FrameSource(Protocol):
    """Something that yields frames in order (live sources may yield None while they wait)."""

    description: str
    live: bool
    dropped: int
    fps: float | None

    def frames(self) -> Iterator[tuple[int, float, np.ndarray] | None]: ...

    def drain_events(self) -> list[SourceEvent]: ...


class _FileSource:
    """What every file source shares: never live, never drops, no events."""

    live = False
    dropped = 0
    fps: float | None = 25.0
    description = "file"

    def drain_events(self) -> list[SourceEvent]:
        return []


def _is_nifti(path: Path) -> bool:
    return path.name.endswith(NIFTI_SUFFIXES)


class VideoFileSource(_FileSource):
    """Frames of a video file, decoded by OpenCV; timestamps from the container."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.description = f"video {self.path.name}"
        cap = cv2.VideoCapture(str(self.path))
        fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
        cap.release()
        self.fps = fps if 0 < fps < 1000 else 25.0

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        try:
            for index, frame in enumerate(open_file(self.path, "video").frames()):
                yield index, index / self.fps, frame
        except DataError as exc:
            raise SourceError(f"video {self.path}: {exc.problem}") from exc


class ImageFolderSource(_FileSource):
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
            try:
                frame = read_image(path)  # the batch's and inspect's decoding: 16-bit scaled, sizes checked
            except DataError as exc:
                log.warning("skipping %s", exc)
                continue
            yield index, index / self.fps, frame


class NiftiSource(_FileSource):
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
        index = 0
        for path in self.files:
            try:
                stack = list(open_file(path, "nifti").frames())
            except DataError as exc:
                if len(self.files) == 1:
                    raise SourceError(str(exc)) from exc
                log.warning("skipping %s", exc)
                continue
            for frame in stack:
                yield index, index / self.fps, frame
                index += 1


class DicomSource(_FileSource):
    """Frames of a DICOM frame or multi-frame cine, or of every DICOM file in a folder (name order).

    Frames are decoded one at a time, so a long cine never sits in memory whole. The frame
    rate comes from the first file's header (CineRate or FrameTime), else 25.
    """

    def __init__(self, path: Path):
        from echosr_edge.data.dicom import dicom_info, ensure_decodable, is_dicom_file

        self.path = Path(path)
        if self.path.is_dir():
            self.files = sorted(p for p in self.path.rglob("*") if is_dicom_file(p))
            if not self.files:
                raise SourceError(f"no DICOM files in {self.path}")
        else:
            self.files = [self.path]
        try:
            info = dicom_info(self.files[0])
            ensure_decodable(self.files[0])  # a missing decoder plugin is reported before any model loads
        except DataError as exc:
            raise SourceError(str(exc)) from exc
        self.fps = info.fps or 25.0
        self.description = f"DICOM {self.path.name} ({len(self.files)} file(s), {info.frames} frame(s) in the first)"

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        index = 0
        for path in self.files:
            try:
                for frame in open_file(path, "dicom").frames():
                    yield index, index / self.fps, frame
                    index += 1
            except DataError as exc:
                if len(self.files) == 1:
                    raise SourceError(str(exc)) from exc
                log.warning("skipping %s", exc)


def open_file_source(path: Path) -> _FileSource:
    """A source for a path: a video file, an image folder, a NIfTI or DICOM file, or a folder of them."""
    from echosr_edge.data.dicom import is_dicom_file

    path = Path(path)
    if not path.exists():
        raise SourceError(f"source not found: {path}")
    if path.is_dir():
        entries = list(path.rglob("*"))
        if any(_is_nifti(p) for p in entries):
            return NiftiSource(path)
        if any(p.suffix.lower() in (".dcm", ".dicom") for p in entries):
            return DicomSource(path)
        return ImageFolderSource(path)
    if _is_nifti(path):
        return NiftiSource(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return VideoFileSource(path)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise SourceError(f"{path} is a single image: pass the folder that holds it")
    if is_dicom_file(path):
        return DicomSource(path)
    raise SourceError(f"unsupported source {path} (a video, an image folder, NIfTI, DICOM, a camera index or a stream URL)")


def open_source(
    spec: str | Path | int,
    realtime: bool = False,
    policy: ReconnectPolicy = ReconnectPolicy(),
    on_event=None,
) -> FrameSource:
    """A source for ``spec``: a camera index (int or digits), a stream URL, or a path.

    Cameras and streams are live (newest frame only, reconnected with ``policy``); files are
    read frame by frame unless ``realtime``, which plays them at their frame rate and drops
    the frames the pipeline cannot keep up with, as a live source would.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return LatestFrameSource(CaptureSource(int(spec), policy, on_event))
    if isinstance(spec, str) and is_stream_url(spec):
        return LatestFrameSource(CaptureSource(spec, policy, on_event))
    source = open_file_source(Path(spec))
    return LatestFrameSource(PacedSource(source)) if realtime else source
