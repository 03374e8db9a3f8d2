"""Write synthetic patients as a CAMUS tree in either release's layout.

The same ``seed`` gives the same patients (pixels, masks, labels, cines) whatever the
release: only the file format, folder layout and release-specific cfg keys differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from echosr_edge.data.camus_cfg import format_info_cfg
from echosr_edge.data.layout import RELEASES, Release
from echosr_edge.data.records import PHASES, VIEWS
from echosr_edge.data.synth import allocate_qualities, patient_anatomy, render, systole_at
from echosr_edge.errors import ConfigError

STYLES = ("sim", "simple")
HELD_OUT_FRACTION = 0.1  # the 2019 testing folder's and each 2023 held-out subgroup's share


def cfg_info(release: Release, ef: int, edv: float, n_frames: int, sex: str, age: int, quality: str, labelled: bool) -> dict:
    """The Info_<view>.cfg keys of one view in ``release``'s convention (EF in %, EDV in mL)."""
    info: dict[str, object] = {"ED": 1, "ES": n_frames, "NbFrame": n_frames, "Sex": sex, "Age": age, "ImageQuality": quality}
    if release.name == "2023":
        info.update(EF=ef, FrameRate=50)
    elif labelled:  # the 2019 testing patients come without LV volumes
        edv = round(edv, 1)
        info.update(LVedv=edv, LVesv=round(edv * (1 - ef / 100), 1), LVef=ef)
    return info


def patient_folder(out: Path, release: Release, full_release: bool, index: int, patients: int) -> tuple[Path, bool]:
    """Where patient ``index`` goes, and whether it carries labels beyond quality (masks)."""
    name = f"patient{index + 1:04d}"
    if not full_release:
        return out / name, True
    held_out = int(round(HELD_OUT_FRACTION * patients))
    if release.name == "2019":
        testing = index >= patients - held_out
        return out / ("testing" if testing else "training") / name, not testing
    return out / "database_nifti" / name, True


def write_subgroups(out: Path, patients: int) -> None:
    held_out = int(round(HELD_OUT_FRACTION * patients))
    names = [f"patient{i + 1:04d}" for i in range(patients)]
    groups = {
        "training": names[: patients - 2 * held_out],
        "validation": names[patients - 2 * held_out : patients - held_out],
        "testing": names[patients - held_out :],
    }
    split_dir = out / "database_split"
    split_dir.mkdir(parents=True, exist_ok=True)
    for group, members in groups.items():
        (split_dir / f"subgroup_{group}.txt").write_text("".join(f"{m}\n" for m in members))


def write_synthetic_camus(
    out: Path,
    patients: int = 50,
    seed: int = 0,
    size: tuple[int, int] = (320, 256),
    spacing: tuple[float, float] = (0.3, 0.3),
    progress: Callable[[int, int], None] | None = None,
    *,
    release: str = "2023",
    full_release: bool = False,
    cines: bool = False,
    masks: bool | None = None,
    quality_mix: str = "table1",
    style: str = "simple",
    control: str | None = None,
    workers: int = 2,
) -> Path:
    """Write ``patients`` synthetic patients as a CAMUS tree under ``out``; returns ``out``.

    ``release``: '2023' (NIfTI) or '2019' (MetaImage .mhd + .raw). By default the patient
    folders go straight under ``out``; ``full_release`` writes the release's whole tree
    (2023: ``database_nifti/`` and ``database_split/`` subgroup lists; 2019: ``training/``
    and ``testing/``, the testing patients without masks or LV volumes, as CAMUS ships them).
    ``cines`` adds each view's ED→ES sequence (its first and last frames are the ED and ES
    frames); ``masks`` adds the ``_gt`` segmentations (default: with the simulator only).
    ``quality_mix``: 'table1' keeps CAMUS's Table 1 quality proportions per view, 'even' gives
    equal thirds.

    ``style``: 'simple' draws ellipses with speckle at ``size`` (fast unit fixtures); 'sim'
    forms B-mode images with the ultrasound simulator (``data/simulator``) at its native size
    (``size`` and ``spacing`` do not apply), writes each frame's clean twin and the hidden
    ground truth too, in ``workers`` processes; ``control`` ('positive' or 'negative', sim
    only) writes a planted control data set.
    """
    if patients < 1:
        raise ConfigError("patients must be at least 1")
    if release not in RELEASES:
        raise ConfigError(f"unknown CAMUS release {release!r}; releases: {', '.join(RELEASES)}")
    if style not in STYLES:
        raise ConfigError(f"unknown synthetic style {style!r}; styles: {', '.join(STYLES)}")
    if control is not None and style != "sim":
        raise ConfigError("planted controls need the simulator (style='sim')")
    layout = RELEASES[release]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if style == "sim":
        from echosr_edge.data.simulator.tree import write_simulated_camus

        return write_simulated_camus(
            out, patients, seed, progress, release=release, full_release=full_release, cines=cines,
            masks=True if masks is None else masks, quality_mix=quality_mix, control=control, workers=workers,
        )
    label_rng = np.random.default_rng([seed, 10_000_019])
    qualities = {view: allocate_qualities(patients, view, label_rng, quality_mix) for view in VIEWS}
    if full_release and release == "2023":
        write_subgroups(out, patients)
    for index in range(patients):
        rng = np.random.default_rng([seed, index])
        pdir, labelled = patient_folder(out, layout, full_release, index, patients)
        pdir.mkdir(parents=True, exist_ok=True)
        anatomy = patient_anatomy(rng)
        for view_index, view in enumerate(VIEWS):
            quality = qualities[view][index]
            n_frames = int(rng.integers(12, 22))
            sex = "F" if rng.random() < 0.5 else "M"
            age = int(rng.integers(20, 90))
            ef = int(round(100 * (1 - anatomy["ef_shrink"] ** 2)))
            info = cfg_info(layout, ef, 110.0 * anatomy["lv"] ** 3, n_frames, sex, age, quality, labelled)
            (pdir / f"Info_{view}.cfg").write_text(format_info_cfg(info))
            rendered = {}
            for phase in PHASES:
                rendered[phase] = render(view, 0.0 if phase == "ED" else 1.0, quality, anatomy, rng, size)
                image, mask, _ = rendered[phase]
                layout.write_image(layout.frame_path(pdir, view, phase), image, spacing)
                if masks and labelled:
                    layout.write_image(layout.mask_path(pdir, view, phase), mask, spacing)
            if cines:
                cine = _render_cine(view, quality, anatomy, n_frames, rendered, size, np.random.default_rng([seed, index, view_index, 1]))
                layout.write_image(layout.cine_path(pdir, view), cine, spacing)
        if progress:
            progress(index + 1, patients)
    return out


def _render_cine(view, quality, anatomy, n_frames, rendered, size, rng) -> np.ndarray:
    """T×H×W uint8 ED→ES sequence whose first and last frames are the ED and ES frames."""
    (ed, _, ed_acq), (es, _, es_acq) = rendered["ED"], rendered["ES"]
    frames = [ed]
    for t in range(1, n_frames - 1):
        s = systole_at(t, n_frames)
        frames.append(render(view, s, quality, anatomy, rng, size, ed_acq.blend(es_acq, s))[0])
    frames.append(es)
    return np.stack(frames)
