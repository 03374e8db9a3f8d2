"""The B-mode simulator: CAMUS trees with ground truth, one acquisition per view, tiers from hidden scores, controls."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from echosr_edge.data.camus import read_camus
from echosr_edge.data.layout import RELEASES, SIMULATION_FILE, stray_files
from echosr_edge.data.simulator.formation import PSF, Acquisition, BeamGrid, convolve_psf
from echosr_edge.data.simulator.quality import POSITIVE_PSF, tiers_from_scores
from echosr_edge.data.simulator.tree import clean_path, plan_patients
from echosr_edge.data.synth import quality_counts
from echosr_edge.data.synth_tree import write_synthetic_camus

SIM_PATIENTS = 3


@pytest.fixture(scope="session")
def sim_tree(tmp_path_factory):
    """Three simulated patients, 2023 full release with cines, formed in this process."""
    out = tmp_path_factory.mktemp("sim") / "camus"
    return write_synthetic_camus(out, patients=SIM_PATIENTS, seed=3, style="sim", full_release=True, cines=True, workers=1)


def test_sim_tree_reads_whole_with_masks_and_no_stray_files(sim_tree):
    tree = read_camus(sim_tree, strict=True, masks=True, cines=True)
    assert len(tree.frames) == 4 * SIM_PATIENTS and not tree.skipped and not tree.stray
    assert all(f.mask is not None and set(np.unique(f.mask)) == {0, 1, 2, 3} for f in tree.frames)
    assert all(f.image.shape == (556, 678) and f.spacing == pytest.approx((0.27, 0.27)) for f in tree.frames)


def test_clean_twins_and_the_hidden_truth_sit_beside_every_frame(sim_tree):
    tree = read_camus(sim_tree, masks=True)
    for frame in tree.frames:
        clean = RELEASES["2023"].read_image(clean_path(frame.source))[0][0]
        assert clean.shape == frame.image.shape
        truth = json.loads((frame.source.parent / SIMULATION_FILE).read_text())
        view = truth["views"][frame.view]
        assert view["quality"] == frame.quality and 0.0 <= view["score"] <= 1.0
        assert view["acquisition"]["psf"]["lateral_fwhm_mm"] >= PSF().lateral_fwhm_mm - 1e-9 or truth["control"]


def test_lv_cavity_is_darker_than_its_myocardium(sim_tree):
    for frame in read_camus(sim_tree, masks=True).frames:
        assert frame.image[frame.mask == 1].mean() + 40 < frame.image[frame.mask == 2].mean()


def test_ed_and_es_come_from_one_acquisition_so_still_tissue_keeps_its_speckle(sim_tree):
    frames = {(f.patient, f.view, f.phase): f for f in read_camus(sim_tree).frames}
    for patient in ("patient0001", "patient0002"):
        ed, es = (frames[(patient, "2CH", p)] for p in ("ED", "ES"))
        # tissue beside the left atrium (≈110-125 mm deep, 45-60 mm left of the axis) does not move
        still = (slice(410, 465), slice(117, 172))
        twins = [RELEASES["2023"].read_image(clean_path(f.source))[0][0][still].astype(float) for f in (ed, es)]
        assert np.corrcoef(twins[0].ravel(), twins[1].ravel())[0, 1] > 0.9


def test_cine_ends_are_the_ed_and_es_frames(sim_tree):
    tree = read_camus(sim_tree, cines=True)
    frames = {(f.patient, f.view, f.phase): f.image for f in tree.frames}
    for cine in tree.cines:
        assert np.array_equal(cine.frames[cine.ed_index], frames[(cine.patient, cine.view, "ED")])
        assert np.array_equal(cine.frames[cine.es_index], frames[(cine.patient, cine.view, "ES")])


def test_simulation_file_is_a_known_name_not_a_stray_file(sim_tree):
    patient = next(p for p in (sim_tree / "database_nifti").iterdir())
    assert stray_files(patient, RELEASES["2023"]) == []


def test_worker_processes_write_the_same_pixels_as_one_process(tmp_path):
    one = write_synthetic_camus(tmp_path / "one", patients=2, seed=4, style="sim", workers=1)
    two = write_synthetic_camus(tmp_path / "two", patients=2, seed=4, style="sim", workers=2)
    a, b = read_camus(one).frames, read_camus(two).frames
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b))


def test_tiers_keep_table1_counts_and_overlap_in_hidden_score():
    plans = plan_patients(300, seed=0)
    for index, view in enumerate(("2CH", "4CH")):
        tiers = [p.views[index].quality for p in plans]
        assert tuple(tiers.count(q) for q in ("good", "medium", "poor")) == quality_counts(300, view)
        scores = {q: [p.views[index].score for p in plans if p.views[index].quality == q] for q in ("good", "medium", "poor")}
        assert np.median(scores["good"]) > np.median(scores["medium"]) > np.median(scores["poor"])
        assert min(scores["good"]) < max(scores["medium"]) and min(scores["medium"]) < max(scores["poor"])


def test_label_noise_is_what_lets_tiers_overlap():
    scores = list(np.linspace(0, 1, 100))
    tiers = tiers_from_scores(scores, (50, 30, 20), np.random.default_rng(0))
    assert tiers.count("good") == 50 and tiers[-1] == "good" and tiers[0] == "poor"


def test_positive_control_degrades_only_the_resolution_and_negative_only_the_display():
    for plan in plan_patients(30, seed=1, control="positive"):
        for view in plan.views:
            acq = view.acquisition
            assert (acq.noise_db, acq.clutter, acq.shadows, acq.dropout, acq.contrast, acq.haze, acq.gain_db) == (
                Acquisition().noise_db, 0.0, (), None, 1.0, 0.0, 0.0)
            lateral = acq.psf.lateral_fwhm_mm / PSF().lateral_fwhm_mm
            assert lateral == pytest.approx(POSITIVE_PSF[view.quality][0], rel=0.1)
            assert acq.capture_px == {"good": None, "medium": 64, "poor": 32}[view.quality]
    for plan in plan_patients(30, seed=1, control="negative"):
        for view in plan.views:
            acq = view.acquisition
            assert acq.psf == PSF() and acq.clutter == 0.0 and acq.shadows == () and acq.capture_px is None
            assert (acq.contrast < 1.0) == (view.quality != "good")


def test_a_coarse_capture_removes_detail_finer_than_its_pixels_and_keeps_the_frame_size():
    from echosr_edge.data.simulator.simulate import capture

    x = np.arange(256, dtype=np.float32)
    fine = np.tile(0.5 + 0.4 * np.sin(2 * np.pi * x / 5.0), (200, 1))  # 5-px stripes: below a 32-px capture's resolution
    coarse = np.tile(0.5 + 0.4 * np.sin(2 * np.pi * x / 64.0), (200, 1))  # 64-px stripes: above it
    assert capture(fine, 32).shape == (200, 256) and capture(fine, 32).std() < 0.05
    assert capture(coarse, 32)[:, 16:-16].std() > 0.25
    assert capture(fine, None) is fine


def test_psf_kernels_keep_the_power_of_dense_scatterers():
    grid = BeamGrid()
    rng = np.random.default_rng(0)
    field = (rng.standard_normal((grid.samples, grid.beams)) + 1j * rng.standard_normal((grid.samples, grid.beams))) / np.sqrt(2)
    for psf in (PSF(), PSF().widened(2.5, 2.0)):
        power = np.mean(np.abs(convolve_psf(field.astype(np.complex64), grid, psf)[100:500, 20:140]) ** 2)
        assert power == pytest.approx(1.0, rel=0.1)


def test_fully_developed_speckle_has_a_rayleigh_envelope():
    grid = BeamGrid()
    rng = np.random.default_rng(1)
    field = (rng.standard_normal((grid.samples, grid.beams)) + 1j * rng.standard_normal((grid.samples, grid.beams))) / np.sqrt(2)
    env = np.abs(convolve_psf(field.astype(np.complex64), grid, PSF()))[100:500, 20:140]
    assert env.std() / env.mean() == pytest.approx(np.sqrt(4 / np.pi - 1), rel=0.08)  # Rayleigh: 0.523


def test_controls_need_the_simulator(tmp_path):
    from echosr_edge.cli import main

    result = CliRunner().invoke(main, ["data", "synth", str(tmp_path / "x"), "--style", "simple", "--control", "positive"])
    assert result.exit_code == 2 and "--style sim" in result.output
    with pytest.raises(ValueError, match="style='sim'"):
        write_synthetic_camus(tmp_path / "y", patients=1, control="positive")


def test_2019_layout_keeps_clean_twins_as_mhd_raw_pairs_and_reads_strictly(tmp_path):
    root = write_synthetic_camus(tmp_path / "c19", patients=1, seed=2, style="sim", release="2019", workers=1)
    names = {p.name for p in (root / "patient0001").iterdir()}
    assert {"patient0001_2CH_ED_clean.mhd", "patient0001_2CH_ED_clean.raw", SIMULATION_FILE} <= names
    tree = read_camus(root, strict=True, masks=True)
    assert len(tree.frames) == 4 and not tree.stray
