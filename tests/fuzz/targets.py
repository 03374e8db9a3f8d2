"""Fuzz targets: one per reader, each taking raw bytes, plus valid seed files to mutate.

Shared by the time-boxed hypothesis tests (tests/fuzz/) and the long run
(benchmarks/fuzz_readers.py). A target writes the bytes where its reader looks, runs the
reader to the end (every frame decoded) and returns what it read. The invariant every
target must keep: it returns, or raises an ``EchoSRError``; any other exception is an escape.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from echosr_edge.errors import EchoSRError


@dataclass(frozen=True)
class Target:
    """A reader under fuzz: ``run(data, workdir)`` feeds it bytes; ``seeds(workdir)`` gives valid files."""

    name: str
    run: Callable[[bytes, Path], object]
    seeds: Callable[[Path], list[bytes]]
    needs: str | None = None  # an optional module the reader needs (skip when absent)


def _frames(height: int = 16, width: int = 16, count: int = 2) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width]
    return np.stack([((yy * 7 + xx * 3 + 40 * t) % 256).astype(np.uint8) for t in range(count)])


def _fresh(workdir: Path, name: str) -> Path:
    """An empty folder ``workdir/name`` (emptied if it exists)."""
    folder = Path(workdir) / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


# ---- MetaImage ------------------------------------------------------------------------------

_MHD = (
    "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
    "CompressedData = {compressed}\nElementSpacing = 0.3 0.15 1\nDimSize = 16 16 2\n"
    "ElementType = MET_UCHAR\nElementDataFile = {data}\n"
)


def _run_mhd_header(data: bytes, workdir: Path):
    from echosr_edge.data.metaimage import read_metaimage

    folder = _fresh(workdir, "mhd")
    (folder / "image.raw").write_bytes(_frames().tobytes())
    (folder / "image.mhd").write_bytes(data)
    return read_metaimage(folder / "image.mhd")


def _seed_mhd_header(workdir: Path) -> list[bytes]:
    local = _MHD.format(compressed="False", data="LOCAL").encode() + _frames().tobytes()
    return [_MHD.format(compressed="False", data="image.raw").encode(), local]


def _run_mhd_raw(data: bytes, workdir: Path):
    from echosr_edge.data.metaimage import read_metaimage

    folder = _fresh(workdir, "raw")
    (folder / "image.mhd").write_text(_MHD.format(compressed="False", data="image.raw"))
    (folder / "image.raw").write_bytes(data)
    return read_metaimage(folder / "image.mhd")


def _run_mhd_zraw(data: bytes, workdir: Path):
    from echosr_edge.data.metaimage import read_metaimage

    folder = _fresh(workdir, "zraw")
    (folder / "image.mhd").write_text(_MHD.format(compressed="True", data="image.zraw"))
    (folder / "image.zraw").write_bytes(data)
    return read_metaimage(folder / "image.mhd")


# ---- NIfTI ----------------------------------------------------------------------------------


def _nifti_bytes(version: int = 1) -> bytes:
    import nibabel as nib

    data = np.ascontiguousarray(np.transpose(_frames(), (2, 1, 0)))
    image = (nib.Nifti1Image if version == 1 else nib.Nifti2Image)(data, np.diag([0.3, 0.15, 1.0, 1.0]))
    return image.to_bytes()


def _run_nifti(data: bytes, workdir: Path):
    from echosr_edge.data.nifti import read_nifti

    path = _fresh(workdir, "nii") / "image.nii"
    path.write_bytes(data)
    return read_nifti(path)


def _seed_nifti(workdir: Path) -> list[bytes]:
    return [_nifti_bytes(1), _nifti_bytes(2)]


def _run_nifti_gz(data: bytes, workdir: Path):
    """The gzip stream itself is fuzzed (damaged compression, bombs, trailing members)."""
    from echosr_edge.data.nifti import read_nifti

    path = _fresh(workdir, "niigz") / "image.nii.gz"
    path.write_bytes(data)
    return read_nifti(path)


def _seed_nifti_gz(workdir: Path) -> list[bytes]:
    return [gzip.compress(_nifti_bytes(1), mtime=0), gzip.compress(_nifti_bytes(2), mtime=0)]


def _run_nifti_gz_payload(data: bytes, workdir: Path):
    """The NIfTI inside a well-formed gzip stream is fuzzed (the .nii.gz header path)."""
    return _run_nifti_gz(gzip.compress(data, compresslevel=1, mtime=0), workdir)


# ---- DICOM ----------------------------------------------------------------------------------


def _dicom_bytes(frames: np.ndarray, photometric: str = "MONOCHROME2", jpeg: bool = False) -> bytes:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit, UltrasoundMultiFrameImageStorage

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage
    meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    meta.TransferSyntaxUID = JPEGBaseline8Bit if jpeg else ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.NumberOfFrames = len(frames)
    ds.Rows, ds.Columns = frames.shape[1:3]
    ds.PhotometricInterpretation = photometric
    ds.SamplesPerPixel = 3 if frames.ndim == 4 else 1
    if frames.ndim == 4:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.FrameTime = 33.3
    if jpeg:
        from PIL import Image
        from pydicom.encaps import encapsulate

        encoded = []
        for frame in frames:
            buffer = io.BytesIO()
            Image.fromarray(frame).save(buffer, format="JPEG", quality=90)
            encoded.append(buffer.getvalue())
        ds.PixelData = encapsulate(encoded)
        ds["PixelData"].VR = "OB"
    else:
        ds.PixelData = frames.tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _run_dicom(data: bytes, workdir: Path):
    from echosr_edge.data.dicom import dicom_info, read_dicom

    path = _fresh(workdir, "dcm") / "image.dcm"
    path.write_bytes(data)
    dicom_info(path)
    return read_dicom(path)


def _seed_dicom(workdir: Path) -> list[bytes]:
    grey = _frames()
    rgb = np.stack([np.stack([f, 255 - f, f // 2], axis=-1) for f in grey])
    seeds = [_dicom_bytes(grey), _dicom_bytes(rgb, "RGB")]
    try:
        import PIL  # noqa: F401

        seeds.append(_dicom_bytes(grey, jpeg=True))
    except ImportError:
        pass
    return seeds


# ---- CAMUS cfg, split file, manifest --------------------------------------------------------


def _run_cfg(data: bytes, workdir: Path):
    from echosr_edge.data.camus_cfg import parse_info_cfg

    path = _fresh(workdir, "cfg") / "Info_2CH.cfg"
    path.write_bytes(data)
    return parse_info_cfg(path)


def _seed_cfg(workdir: Path) -> list[bytes]:
    return [
        b"ED: 1\nES: 12\nNbFrame: 14\nSex: F\nAge: 61\nImageQuality: Good\nLVedv: 101.5\nLVesv: 45.2\nLVef: 55\n",
        b"ED: 1\r\nES: 9\r\nNbFrame: 10\r\nSex: M\r\nAge: 70\r\nImageQuality: Poor\r\nEF: 40\r\nFrameRate: 50\r\n",
    ]


def _run_split(data: bytes, workdir: Path):
    from echosr_edge.data.split_file import load_split_file

    path = _fresh(workdir, "split") / "splits.json"
    path.write_bytes(data)
    split = load_split_file(path)
    for task_split in split.splits:  # what experiments do with a loaded file
        task_split.patients("train")
        task_split.patients("test")
    split.test_patients()
    return split


def _seed_split(workdir: Path) -> list[bytes]:
    from echosr_edge.data.split_file import SplitFile, TaskSplit

    split = SplitFile(
        unit="patient",
        test_fraction=0.2,
        reference_tier="poor",
        composition={"2CH/ED": 1, "4CH/ES": 1},
        seeds=(0,),
        splits=(TaskSplit("view", "good", 0, ("patient0001_2CH_ED",), ("patient0002_4CH_ES",)),),
        qualities={"patient0001_2CH_ED": "good", "patient0002_4CH_ES": "good"},
        source={"root": "camus"},
    )
    path = split.save(_fresh(workdir, "split-seed") / "splits.json")
    return [path.read_bytes()]


def _manifest_bundle(workdir: Path) -> Path:
    """A hand-made bundle (placeholder model bytes) whose manifest the target replaces."""
    from tests.bundle.conftest import make_bundle

    base = Path(workdir) / "manifest-bundle"
    if not (base / "manifest.json").is_file():
        shutil.rmtree(base, ignore_errors=True)
        make_bundle(base)
        (base / "manifest.json").rename(base / "manifest.valid")
    return base


def _run_manifest(data: bytes, workdir: Path):
    from echosr_edge.bundle.integrity import check_bundle, open_bundle

    bundle = _manifest_bundle(workdir)
    (bundle / "manifest.json").write_bytes(data)
    manifest = open_bundle(bundle)
    check_bundle(bundle)
    return manifest


def _seed_manifest(workdir: Path) -> list[bytes]:
    return [(_manifest_bundle(workdir) / "manifest.valid").read_bytes()]


def _signed_bundle(workdir: Path):
    """A hand-made bundle signed by a fresh key, and a trust store holding that key."""
    from echosr_edge.bundle.keys import new_keypair
    from echosr_edge.bundle.signing import sign_bundle
    from echosr_edge.bundle.trust import TrustStore
    from tests.bundle.conftest import make_bundle

    base = Path(workdir) / "signed-bundle"
    if not (base / "bundle" / "signatures").is_dir():
        shutil.rmtree(base, ignore_errors=True)
        keys = new_keypair(base / "keys", name="vendor")
        make_bundle(base / "bundle")
        info = sign_bundle(base / "bundle", keys.private_key)
        (base / "signature.valid").write_bytes((base / "bundle" / info.file).read_bytes())
    return base / "bundle", TrustStore.from_paths([base / "keys" / "vendor.pub"])


def _run_signature(data: bytes, workdir: Path):
    from echosr_edge.bundle.integrity import check_bundle

    bundle, trust = _signed_bundle(workdir)
    for old in (bundle / "signatures").glob("*.sig"):
        old.unlink()
    (bundle / "signatures" / f"{trust.key_ids[0]}.sig").write_bytes(data)
    return check_bundle(bundle, trust)


def _seed_signature(workdir: Path) -> list[bytes]:
    bundle, _ = _signed_bundle(workdir)
    return [(bundle.parent / "signature.valid").read_bytes()]


def _run_public_key(data: bytes, workdir: Path):
    from echosr_edge.bundle.trust import TrustStore

    path = _fresh(workdir, "pub") / "vendor.pub"
    path.write_bytes(data)
    return TrustStore.from_paths([path])


def _seed_public_key(workdir: Path) -> list[bytes]:
    _signed_bundle(workdir)
    return [(Path(workdir) / "signed-bundle" / "keys" / "vendor.pub").read_bytes()]


# ---- images and video through the runtime's sources -----------------------------------------


def _run_image(data: bytes, workdir: Path):
    from echosr_edge.runtime.sources import ImageFolderSource

    folder = _fresh(workdir, "images")
    (folder / "frame.png").write_bytes(data)
    return [frame.shape for _, _, frame in ImageFolderSource(folder).frames()]


def _seed_image(workdir: Path) -> list[bytes]:
    frame = _frames(24, 20, 1)[0]
    colour = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    return [cv2.imencode(ext, image)[1].tobytes() for ext, image in ((".png", frame), (".jpg", frame), (".png", colour), (".jpg", colour), (".bmp", frame))]


def _run_batch_image(data: bytes, workdir: Path):
    from echosr_edge.runtime.readers import read_image

    path = _fresh(workdir, "batch-image") / "scan.png"
    path.write_bytes(data)
    return read_image(path)


def _run_batch_dicom(data: bytes, workdir: Path):
    from echosr_edge.runtime.readers import read_dicom_frames

    path = _fresh(workdir, "batch-dcm") / "scan.dcm"
    path.write_bytes(data)
    return read_dicom_frames(path, keep_phi=True)


def _video_bytes(workdir: Path, fourcc: str, suffix: str) -> bytes | None:
    path = _fresh(workdir, f"video-seed-{fourcc}") / f"seed{suffix}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (32, 24))
    if not writer.isOpened():
        return None
    for frame in _frames(24, 32, 4):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path.read_bytes() if path.is_file() and path.stat().st_size else None


def _run_video(data: bytes, workdir: Path):
    from echosr_edge.runtime.sources import VideoFileSource

    path = _fresh(workdir, "video") / "clip.avi"
    path.write_bytes(data)
    return [frame.shape for _, _, frame in VideoFileSource(path).frames()]


def _seed_video(workdir: Path) -> list[bytes]:
    seeds = [_video_bytes(workdir, "MJPG", ".avi"), _video_bytes(workdir, "mp4v", ".mp4")]
    return [s for s in seeds if s]


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("metaimage_header", _run_mhd_header, _seed_mhd_header),
        Target("metaimage_raw", _run_mhd_raw, lambda w: [_frames().tobytes()]),
        Target("metaimage_zraw", _run_mhd_zraw, lambda w: [zlib.compress(_frames().tobytes())]),
        Target("nifti", _run_nifti, _seed_nifti, needs="nibabel"),
        Target("nifti_gz", _run_nifti_gz, _seed_nifti_gz, needs="nibabel"),
        Target("nifti_gz_payload", _run_nifti_gz_payload, _seed_nifti, needs="nibabel"),
        Target("dicom", _run_dicom, _seed_dicom, needs="pydicom"),
        Target("camus_cfg", _run_cfg, _seed_cfg),
        Target("split_file", _run_split, _seed_split),
        Target("manifest", _run_manifest, _seed_manifest),
        Target("signature", _run_signature, _seed_signature, needs="cryptography"),
        Target("public_key", _run_public_key, _seed_public_key, needs="cryptography"),
        Target("image", _run_image, _seed_image),
        Target("batch_image", _run_batch_image, _seed_image),
        Target("batch_dicom", _run_batch_dicom, _seed_dicom, needs="pydicom"),
        Target("video", _run_video, _seed_video),
    )
}


def run_contained(target: Target, data: bytes, workdir: Path) -> BaseException | None:
    """Run ``target`` on ``data``; return the escaping exception (not an EchoSRError), or None."""
    try:
        target.run(data, workdir)
    except EchoSRError:
        return None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - anything else is what the fuzzer looks for
        return exc
    return None


def _check_seeds_load() -> None:
    """Sanity: every seed is read without error (a seed that fails would make fuzzing blind)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for target in TARGETS.values():
            for seed in target.seeds(Path(tmp)):
                target.run(seed, Path(tmp))


if __name__ == "__main__":
    _check_seeds_load()
    print(json.dumps({name: "ok" for name in TARGETS}))
