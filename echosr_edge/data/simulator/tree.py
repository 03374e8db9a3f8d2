"""Write simulated patients as a CAMUS tree (either release), process-parallel over patients.

Beside CAMUS's own files each patient folder holds the ground truth: the ``_gt`` masks
(1 LV cavity, 2 LV myocardium, 3 LA), each ED/ES frame's ideal-acquisition twin
(``patientXXXX_<view>_<phase>_clean`` in the release's image format) and ``simulation.json``
(the hidden quality score, the causes, the PSF and the anatomy of each view). The CAMUS
readers know these names and pass over them.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from echosr_edge.data.camus_cfg import format_info_cfg
from echosr_edge.data.layout import RELEASES, SIMULATION_FILE
from echosr_edge.data.records import VIEWS
from echosr_edge.data.simulator.anatomy import Heart, Pose, draw_heart, draw_pose
from echosr_edge.data.simulator.formation import Acquisition
from echosr_edge.data.simulator.quality import CONTROLS, control_acquisition, draw_acquisition, tiers_from_scores
from echosr_edge.data.simulator.simulate import DEFAULT_GRID, DEFAULT_SPACING, render_view
from echosr_edge.data.synth import allocate_qualities, quality_counts, systole_at
from echosr_edge.errors import ConfigError



@dataclass(frozen=True)
class ViewPlan:
    """Everything drawn for one view of one patient before any pixel is formed."""

    view: str
    quality: str
    score: float
    pose: Pose
    acquisition: Acquisition
    n_frames: int
    sex: str
    age: int


@dataclass(frozen=True)
class PatientPlan:
    index: int
    seed: int
    heart: Heart
    views: tuple[ViewPlan, ...]


def plan_patients(patients: int, seed: int, quality_mix: str = "table1", control: str | None = None) -> list[PatientPlan]:
    """Draw every patient's heart, poses and acquisitions, then label the tiers (needs all scores at once)."""
    if control is not None and control not in CONTROLS:
        raise ConfigError(f"unknown control {control!r}; controls: {', '.join(CONTROLS)}")
    label_rng = np.random.default_rng([seed, 10_000_019])
    drawn = []
    for index in range(patients):
        rng = np.random.default_rng([seed, index, 7])
        heart = draw_heart(rng)
        views = {}
        for view in VIEWS:
            pose = draw_pose(rng)
            acq, score = draw_acquisition(rng)
            views[view] = (pose, acq, score, int(rng.integers(12, 22)), "F" if rng.random() < 0.5 else "M", int(rng.integers(20, 90)))
        drawn.append((rng, heart, views))
    tiers = {}
    for view in VIEWS:
        if control is None:
            scores = [views[view][2] for _, _, views in drawn]
            tiers[view] = tiers_from_scores(scores, quality_counts(patients, view, quality_mix), label_rng)
        else:
            tiers[view] = allocate_qualities(patients, view, label_rng, quality_mix)
    plans = []
    for index, (rng, heart, views) in enumerate(drawn):
        view_plans = []
        for view in VIEWS:
            pose, acq, score, n_frames, sex, age = views[view]
            quality = tiers[view][index]
            if control is not None:
                acq, score = control_acquisition(control, quality, rng)
            view_plans.append(ViewPlan(view, quality, score, pose, acq, n_frames, sex, age))
        plans.append(PatientPlan(index, seed, heart, tuple(view_plans)))
    return plans


def clean_path(frame_path: Path) -> Path:
    """Where the ideal-acquisition twin of a frame file goes (``..._ED.nii.gz`` → ``..._ED_clean.nii.gz``)."""
    name = frame_path.name
    for ext in (".nii.gz", ".mhd"):
        if name.endswith(ext):
            return frame_path.with_name(name[: -len(ext)] + "_clean" + ext)
    raise ValueError(f"not a CAMUS frame file: {frame_path}")


def write_patient(plan: PatientPlan, pdir: Path, release: str, labelled: bool, cines: bool, masks: bool, spacing: float, control: str | None) -> dict:
    """Form and write one patient's files into ``pdir``; returns what went into its simulation.json."""
    from echosr_edge.data.synth_tree import cfg_info

    layout = RELEASES[release]
    pdir.mkdir(parents=True, exist_ok=True)
    truth = {"control": control, "heart": asdict(plan.heart), "grid": asdict(DEFAULT_GRID), "spacing_mm": spacing, "views": {}}
    ef = int(round(100 * plan.heart.ejection_fraction))
    for vp in plan.views:
        info = cfg_info(layout, ef, plan.heart.ed_volume_ml, vp.n_frames, vp.sex, vp.age, vp.quality, labelled)
        (pdir / f"Info_{vp.view}.cfg").write_text(format_info_cfg(info))
        systoles = [systole_at(t, vp.n_frames) for t in range(vp.n_frames)] if cines else [0.0, 1.0]
        seed = [plan.seed, plan.index, VIEWS.index(vp.view)]
        # Clean twins and masks are formed for ED and ES only; the cine's ends are those frames.
        ends = render_view(vp.view, plan.heart, vp.pose, vp.acquisition, [0.0, 1.0], seed, spacing=spacing, masks=masks and labelled)
        for k, phase in enumerate(("ED", "ES")):
            path = layout.frame_path(pdir, vp.view, phase)
            layout.write_image(path, ends.frames[k], (spacing, spacing))
            layout.write_image(clean_path(path), ends.clean[k], (spacing, spacing))
            if ends.masks is not None:
                layout.write_image(layout.mask_path(pdir, vp.view, phase), ends.masks[k], (spacing, spacing))
        if cines:
            middle = render_view(vp.view, plan.heart, vp.pose, vp.acquisition, systoles[1:-1], seed, spacing=spacing, clean=False, masks=False)
            cine = np.concatenate([ends.frames[:1], middle.frames, ends.frames[1:]])
            layout.write_image(layout.cine_path(pdir, vp.view), cine, (spacing, spacing))
        truth["views"][vp.view] = {
            "quality": vp.quality, "score": vp.score, "pose": asdict(vp.pose), "acquisition": asdict(vp.acquisition),
        }
    (pdir / SIMULATION_FILE).write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def _write_one(args: tuple) -> int:
    plan = args[0]
    write_patient(*args)
    return plan.index


def write_simulated_camus(
    out: Path,
    patients: int,
    seed: int,
    progress: Callable[[int, int], None] | None,
    *,
    release: str,
    full_release: bool,
    cines: bool,
    masks: bool,
    quality_mix: str,
    control: str | None = None,
    workers: int = 2,
    spacing: float = DEFAULT_SPACING,
) -> Path:
    """The simulator's ``write_synthetic_camus`` (same tree, same arguments); ``workers`` processes form patients."""
    from echosr_edge.data.synth_tree import patient_folder, write_subgroups

    plans = plan_patients(patients, seed, quality_mix, control)
    layout = RELEASES[release]
    if full_release and release == "2023":
        write_subgroups(out, patients)
    jobs = []
    for plan in plans:
        pdir, labelled = patient_folder(out, layout, full_release, plan.index, patients)
        jobs.append((plan, pdir, release, labelled, cines, masks, spacing, control))
    if workers <= 1:
        for done, job in enumerate(jobs, start=1):
            _write_one(job)
            if progress:
                progress(done, patients)
        return out
    # spawn: the parent may hold torch or OpenCV thread pools that a forked child would inherit locked.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_write_one, job) for job in jobs]
        for done, future in enumerate(as_completed(futures), start=1):
            future.result()
            if progress:
                progress(done, patients)
    return out
