"""Where each CAMUS release keeps its files, and how to tell the releases apart.

2019 release (MetaImage)::

    training/patient0001/patient0001_2CH_ED.mhd + .raw, …_2CH_ED_gt.mhd + .raw,
                         …_2CH_sequence.mhd + .raw, Info_2CH.cfg, (same for 4CH)
    testing/patient0451/…  (no ``_gt`` masks; cfg without LV volumes)

2023 release (NIfTI)::

    database_nifti/patient0001/patient0001_2CH_ED.nii.gz, …_ED_gt.nii.gz,
                               …_2CH_half_sequence.nii.gz, Info_2CH.cfg, (same for 4CH)
    database_split/subgroup_training.txt, subgroup_validation.txt, subgroup_testing.txt

A root may be the release folder, one of its image folders, or any folder of
``patientXXXX`` folders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echosr_edge.data.metaimage import read_metaimage, read_metaimage_mask, write_metaimage
from echosr_edge.data.nifti import read_nifti, read_nifti_mask, write_nifti
from echosr_edge.data.records import PHASES, VIEWS
from echosr_edge.errors import ConfigError, DataError

PATIENT_DIR = re.compile(r"^patient\d{4}$")
CINE_TAGS = ("sequence", "half_sequence")
SIMULATION_FILE = "simulation.json"  # the simulator's ground truth beside its frames (data/simulator/tree.py)


@dataclass(frozen=True)
class Release:
    """One CAMUS release's file conventions."""

    name: str
    image_ext: str  # the file a reader opens
    data_exts: tuple[str, ...]  # files that travel with it (MetaImage data)
    cine_tag: str  # the cine file's tag: patientXXXX_2CH_<tag>
    image_folders: tuple[str, ...]  # the release's folders of patient folders

    def frame_path(self, patient_dir: Path, view: str, phase: str) -> Path:
        """The ED/ES frame file of ``view``."""
        return patient_dir / f"{patient_dir.name}_{view}_{phase}{self.image_ext}"

    def mask_path(self, patient_dir: Path, view: str, phase: str) -> Path:
        """The ``_gt`` segmentation file of a frame."""
        return patient_dir / f"{patient_dir.name}_{view}_{phase}_gt{self.image_ext}"

    def cine_path(self, patient_dir: Path, view: str) -> Path:
        """The cine (image sequence) file of ``view``."""
        return patient_dir / f"{patient_dir.name}_{view}_{self.cine_tag}{self.image_ext}"

    def read_image(self, path: Path) -> tuple[np.ndarray, tuple[float, float]]:
        """T×H×W uint8 frames and (row, col) spacing in mm."""
        return read_metaimage(path) if self.name == "2019" else read_nifti(path)

    def read_mask(self, path: Path) -> tuple[np.ndarray, tuple[float, float]]:
        """T×H×W uint8 segmentation labels and (row, col) spacing in mm."""
        return read_metaimage_mask(path) if self.name == "2019" else read_nifti_mask(path)

    def write_image(self, path: Path, frames: np.ndarray, spacing: tuple[float, float]) -> None:
        """Write H×W or T×H×W uint8 frames in this release's format."""
        if self.name == "2019":
            write_metaimage(path, frames, spacing)
        else:
            write_nifti(path, frames, spacing)

    def file_names(self, patient: str) -> set[str]:
        """Every file name a patient folder of this release may hold (with the simulator's ground truth)."""
        stems = [f"{patient}_{v}_{p}{gt}" for v in VIEWS for p in PHASES for gt in ("", "_gt", "_clean")]
        stems += [f"{patient}_{v}_{tag}{gt}" for v in VIEWS for tag in CINE_TAGS for gt in ("", "_gt")]
        names = {f"Info_{v}.cfg" for v in VIEWS} | {SIMULATION_FILE}
        for ext in (self.image_ext, *self.data_exts):
            names.update(stem + ext for stem in stems)
        return names


RELEASES: dict[str, Release] = {
    "2019": Release("2019", ".mhd", (".raw", ".zraw"), "sequence", ("training", "testing")),
    "2023": Release("2023", ".nii.gz", (), "half_sequence", ("database_nifti",)),
}


@dataclass(frozen=True)
class PatientFolder:
    """A patient folder and the release folder it sits in ('training', 'testing' or None)."""

    path: Path
    folder: str | None = None

    @property
    def name(self) -> str:
        """The patient's name, e.g. 'patient0001'."""
        return self.path.name


@dataclass(frozen=True)
class CamusLayout:
    """A located CAMUS tree: its release, patient folders and named patient groups."""

    root: Path
    release: Release
    patients: tuple[PatientFolder, ...]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)


def read_subgroups(split_dir: Path) -> dict[str, tuple[str, ...]]:
    """The 2023 release's ``database_split/subgroup_<name>.txt`` lists: name → patients."""
    groups: dict[str, tuple[str, ...]] = {}
    for path in sorted(Path(split_dir).glob("subgroup_*.txt")):
        patients = []
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            if not PATIENT_DIR.match(line):
                raise DataError(path, f"line {number} is not a patient name (patientXXXX): {line[:40]!r}")
            patients.append(line)
        groups[path.stem.removeprefix("subgroup_")] = tuple(patients)
    return groups


def _release_from_files(dirs: list[PatientFolder], root: Path) -> Release:
    for folder in dirs[:5]:
        names = [p.name for p in folder.path.iterdir()]
        if any(n.endswith(".mhd") for n in names):
            return RELEASES["2019"]
        if any(n.endswith(".nii.gz") for n in names):
            return RELEASES["2023"]
    raise DataError(root, f"cannot tell the CAMUS release: no .mhd or .nii.gz files in {dirs[0].name}")


def locate(root: Path, release: str | None = None) -> CamusLayout:
    """Find the patient folders under ``root`` and which release they follow.

    ``release`` ('2019' or '2023') overrides detection from folder and file names.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "not a folder")
    if release is not None and release not in RELEASES:
        raise ConfigError(f"unknown CAMUS release {release!r}; releases: {', '.join(RELEASES)}")
    split_dir: Path | None = None
    if (root / "database_nifti").is_dir():
        bases, guess, split_dir = [(root / "database_nifti", None)], "2023", root / "database_split"
    elif (root / "training").is_dir() or (root / "testing").is_dir():
        bases, guess = [(root / n, n) for n in ("training", "testing") if (root / n).is_dir()], "2019"
    else:
        folder = root.name if root.name in ("training", "testing") else None
        bases, guess = [(root, folder)], None
        if root.name == "database_nifti":
            split_dir = root.parent / "database_split"
    dirs = sorted(
        (PatientFolder(p, folder) for base, folder in bases for p in base.iterdir() if p.is_dir() and PATIENT_DIR.match(p.name)),
        key=lambda f: f.name,
    )
    if not dirs:
        raise DataError(root, "no patientXXXX folders found (is this a CAMUS root?)")
    if release is not None:
        chosen = RELEASES[release]
    elif guess is not None:
        chosen = RELEASES[guess]
    else:
        chosen = _release_from_files(dirs, root)
    groups: dict[str, tuple[str, ...]] = {}
    if chosen.name == "2019":
        for folder_name in ("training", "testing"):
            members = tuple(d.name for d in dirs if d.folder == folder_name)
            if members:
                groups[folder_name] = members
    elif split_dir is not None and split_dir.is_dir():
        groups = read_subgroups(split_dir)
    return CamusLayout(root, chosen, tuple(dirs), groups)


def stray_files(patient_dir: Path, release: Release) -> list[DataError]:
    """Entries of a patient folder that are no CAMUS file of ``release`` (hidden files are ignored)."""
    expected = release.file_names(patient_dir.name)
    other = {n for r in RELEASES.values() if r is not release for n in r.file_names(patient_dir.name)}
    problems = []
    for entry in sorted(patient_dir.iterdir()):
        if entry.name.startswith(".") or entry.name in expected:
            continue
        if entry.is_dir():
            problems.append(DataError(entry, "unexpected folder inside a CAMUS patient folder (ignored)"))
        elif entry.name in other:
            problems.append(DataError(entry, f"a file of the other CAMUS release in a {release.name} tree (ignored)"))
        else:
            problems.append(
                DataError(
                    entry,
                    f"stray file: not a CAMUS {release.name} image or Info cfg "
                    f"(expected {patient_dir.name}_<2CH|4CH>_<ED|ES>{release.image_ext} and Info_<view>.cfg; ignored)",
                )
            )
    return problems
