"""Finding a clinic's scan files and reading each kind, DICOM identifiers kept out by default."""

import cv2
import numpy as np
import pytest

from echosr_edge.batch.inputs import discover_inputs, matches, read_input
from echosr_edge.data.synth_clinic import PLANTED_PHI, synth_cine, write_clinic_folder, write_dicom
from echosr_edge.errors import DataError, EchoSRError
from echosr_edge.runtime.readers import read_dicom_frames


def _cine(frames=5, seed=0):
    return synth_cine(np.random.default_rng(seed), frames, (64, 48))


def test_discovery_walks_the_tree_and_knows_every_kind(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM inputs need the 'dicom' extra (pydicom)")
    written = write_clinic_folder(tmp_path / "in", files=7, size=(48, 40), cine_frames=3)
    (tmp_path / "in" / "day1" / "notes.txt").write_text("not a scan")
    (tmp_path / "in" / ".hidden").mkdir()
    cv2.imwrite(str(tmp_path / "in" / ".hidden" / "x.png"), np.zeros((20, 20), np.uint8))
    found = discover_inputs(tmp_path / "in")
    assert [f.relative for f in found.files] == [w.relative for w in written]
    assert sorted({f.kind for f in found.files}) == ["dicom", "image", "nifti", "video"]
    assert found.unsupported == 1 and found.filtered == 0


def test_include_and_exclude_match_the_path_or_the_name():
    assert matches("day1/scan0001.png", ["*.png"])
    assert matches("day1/scan0001.png", ["day1/*"])
    assert not matches("day2/scan0001.png", ["day1/*"])
    assert matches("a/b/c.dcm", ["a/*.dcm"])  # * crosses folders, as documented


def test_filters_leave_out_files_and_count_them(tmp_path):
    for name in ("a.png", "b.png", "c.jpg"):
        cv2.imwrite(str(tmp_path / name), np.zeros((20, 20), np.uint8))
    found = discover_inputs(tmp_path, include=("*.png",), exclude=("b.*",))
    assert [f.relative for f in found.files] == ["a.png"] and found.filtered == 2


def test_masks_and_clean_twins_of_a_camus_tree_are_passed_over_and_counted_unless_asked_for(tmp_path):
    pytest.importorskip("nibabel", reason="NIfTI inputs need nibabel")
    from echosr_edge.data.synth_tree import write_synthetic_camus

    write_synthetic_camus(tmp_path / "camus", patients=1, seed=0, style="sim", workers=1)
    found = discover_inputs(tmp_path / "camus")
    names = [f.relative.rsplit("/", 1)[-1] for f in found.files]
    assert names == ["patient0001_2CH_ED.nii.gz", "patient0001_2CH_ES.nii.gz", "patient0001_4CH_ED.nii.gz", "patient0001_4CH_ES.nii.gz"]
    assert found.ground_truth == 8  # four _gt masks and four _clean twins
    every = discover_inputs(tmp_path / "camus", ground_truth=True)
    assert len(every.files) == 12 and every.ground_truth == 0


def test_output_folder_inside_the_input_folder_is_never_read(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((20, 20), np.uint8))
    (tmp_path / "out" / "enhanced").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "out" / "enhanced" / "frame_00000.png"), np.zeros((20, 20), np.uint8))
    assert [f.relative for f in discover_inputs(tmp_path, skip_under=tmp_path / "out").files] == ["a.png"]


def test_missing_input_folder_is_refused(tmp_path):
    with pytest.raises(EchoSRError, match="input folder not found"):
        discover_inputs(tmp_path / "nope")


def test_multi_frame_dicom_reads_as_its_frames(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM inputs need the 'dicom' extra (pydicom)")
    cine = _cine(5)
    frames, info = read_dicom_frames(write_dicom(tmp_path / "cine.dcm", cine))
    assert frames.shape == (5, 64, 48) and frames.dtype == np.uint8
    assert np.array_equal(frames, cine)
    assert info["NumberOfFrames"] == 5 and info["Modality"] == "US"


def test_single_frame_dicom_without_a_suffix_is_found_by_its_preamble(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM inputs need the 'dicom' extra (pydicom)")
    cine = _cine(1)
    write_dicom(tmp_path / "IM0001", cine)
    (found,) = discover_inputs(tmp_path).files
    assert found.kind == "dicom"
    frames, meta = read_input(found)
    assert np.array_equal(np.stack(list(frames)), cine) and meta["frames"] == 1


def test_dicom_identifiers_are_dropped_unless_kept(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM inputs need the 'dicom' extra (pydicom)")
    path = write_dicom(tmp_path / "a.dcm", _cine(2))
    _, info = read_dicom_frames(path)
    assert not set(info) & {"PatientName", "PatientID", "PatientBirthDate", "StudyInstanceUID"}
    assert PLANTED_PHI["PatientName"] not in repr(info)
    _, kept = read_dicom_frames(path, keep_phi=True)
    assert kept["PatientName"] == PLANTED_PHI["PatientName"] and kept["PatientID"] == PLANTED_PHI["PatientID"]


def test_sixteen_bit_monochrome1_dicom_is_scaled_and_inverted(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM inputs need the 'dicom' extra (pydicom)")
    import pydicom

    path = write_dicom(tmp_path / "a.dcm", _cine(1))
    ds = pydicom.dcmread(path)
    ramp = np.tile(np.linspace(0, 4095, 48).astype(np.uint16), (64, 1))
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.PixelData = ramp.tobytes()
    ds.save_as(path)
    frames, _ = read_dicom_frames(path)
    assert frames.dtype == np.uint8 and frames[0, 0, 0] == 255 and frames[0, 0, -1] == 0


def test_truncated_dicom_is_a_data_error_naming_the_file_without_identifiers(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM inputs need the 'dicom' extra (pydicom)")
    path = write_dicom(tmp_path / "bad.dcm", _cine(3), truncate=True)
    with pytest.raises(DataError, match="bad.dcm: cannot decode the DICOM pixel data") as err:
        read_dicom_frames(path)
    assert PLANTED_PHI["PatientName"] not in str(err.value)


def test_a_text_file_named_dcm_is_a_data_error(tmp_path):
    pytest.importorskip("pydicom", reason="DICOM inputs need the 'dicom' extra (pydicom)")
    (tmp_path / "x.dcm").write_text("hello")
    with pytest.raises(DataError, match="not a readable DICOM file"):
        read_dicom_frames(tmp_path / "x.dcm")


def test_sixteen_bit_png_is_scaled_to_eight_bits(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((20, 30), 65535, np.uint16))
    (found,) = discover_inputs(tmp_path).files
    frames, _ = read_input(found)
    (frame,) = list(frames)
    assert frame.dtype == np.uint8 and frame.shape == (20, 30) and frame.max() == 255


def test_the_batch_modules_import_neither_torch_nor_pydicom_up_front():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import echosr_edge.batch.runner, echosr_edge.data.synth_clinic, echosr_edge.cli.batch\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'nncf', 'pydicom')\n"
        "      or m.startswith(('echosr_edge.train', 'echosr_edge.models', 'echosr_edge.export'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_pydicom_a_dicom_file_fails_naming_the_extra(tmp_path, monkeypatch):
    import sys

    from echosr_edge.errors import MissingExtra

    (tmp_path / "a.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)
    monkeypatch.setitem(sys.modules, "pydicom", None)
    (found,) = discover_inputs(tmp_path).files
    with pytest.raises(MissingExtra, match=r"echosr-edge\[dicom\]"):
        read_input(found)
