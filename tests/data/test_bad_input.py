"""Bad input in a CAMUS tree: each problem names the file, skips the patient, or is fatal with strict."""

from __future__ import annotations

import gzip
import io
import shutil

import nibabel as nib
import pytest

from echosr_edge.data.camus import read_camus, read_patient, read_patient_cines
from echosr_edge.errors import DataError


@pytest.fixture()
def tree_2019(tmp_path, twin_trees):
    return shutil.copytree(twin_trees["2019"], tmp_path / "camus2019")


@pytest.fixture()
def tree_2023(tmp_path, twin_trees):
    return shutil.copytree(twin_trees["2023"], tmp_path / "camus2023")


def test_truncated_raw_skips_its_patient_naming_the_file(tree_2019):
    raw = tree_2019 / "training" / "patient0002" / "patient0002_4CH_ED.raw"
    raw.write_bytes(raw.read_bytes()[:100])
    tree = read_camus(tree_2019)
    assert "patient0002" not in tree.patients and len(tree.patients) == 5
    (problem,) = tree.skipped
    assert problem.path == raw and "truncated" in problem.problem
    with pytest.raises(DataError, match=r"patient0002_4CH_ED\.raw: truncated"):
        read_camus(tree_2019, strict=True)


def test_mhd_header_disagreeing_with_its_raw_is_reported(tree_2019):
    mhd = tree_2019 / "training" / "patient0001" / "patient0001_2CH_ES.mhd"
    mhd.write_text(mhd.read_text().replace("DimSize = 40 48 1", "DimSize = 40 47 1"))
    tree = read_camus(tree_2019)
    assert [e.path.name for e in tree.skipped] == ["patient0001_2CH_ES.raw"]
    assert "header disagrees with data" in tree.skipped[0].problem


def test_nifti_header_disagreeing_with_its_data_is_reported(tree_2023):
    path = tree_2023 / "database_nifti" / "patient0003" / "patient0003_2CH_ED.nii.gz"
    raw = gzip.decompress(path.read_bytes())
    header = nib.Nifti1Header.from_fileobj(io.BytesIO(raw))
    offset = int(header.get_data_offset())
    header.set_data_shape((40, 60))  # the data hold 40x48 pixels
    path.write_bytes(gzip.compress(header.binaryblock + raw[348:]))
    with pytest.raises(DataError, match=r"patient0003_2CH_ED\.nii\.gz: truncated: holds 2272 bytes, the header \(40x60 uint8\) needs 2752"):
        read_patient(path.parent)
    header.set_data_shape((40, 40))
    path.write_bytes(gzip.compress(header.binaryblock + raw[348:]))
    with pytest.raises(DataError, match=r"nii\.gz: header disagrees with data: holds 2272 bytes.*needs 1952"):
        read_patient(path.parent)
    assert offset == 352


def test_truncated_nifti_gz_names_the_file(tree_2023):
    path = tree_2023 / "database_nifti" / "patient0004" / "patient0004_4CH_ES.nii.gz"
    path.write_bytes(path.read_bytes()[:-30])
    tree = read_camus(tree_2023)
    assert [e.path for e in tree.skipped] == [path]
    assert "not a readable NIfTI" in tree.skipped[0].problem


def test_stray_file_is_listed_and_the_patient_still_read(tree_2023):
    stray = tree_2023 / "database_nifti" / "patient0001" / "notes.txt"
    stray.write_text("scanned twice")
    (stray.parent / ".DS_Store").write_bytes(b"\0\1")  # hidden OS files are not data
    tree = read_camus(tree_2023)
    assert not tree.skipped and "patient0001" in tree.patients
    assert [e.path for e in tree.stray] == [stray] and "stray file" in tree.stray[0].problem
    with pytest.raises(DataError, match=r"notes\.txt: stray file"):
        read_camus(tree_2023, strict=True)


def test_other_release_file_in_a_patient_folder_is_called_out(tree_2019):
    folder = tree_2019 / "training" / "patient0001"
    (folder / "patient0001_2CH_ED.nii.gz").write_bytes(b"")
    tree = read_camus(tree_2019)
    assert [e.path.name for e in tree.stray] == ["patient0001_2CH_ED.nii.gz"]
    assert "other CAMUS release" in tree.stray[0].problem


def test_missing_cfg_key_names_the_cfg(tree_2019):
    cfg = tree_2019 / "training" / "patient0001" / "Info_4CH.cfg"
    cfg.write_text("\n".join(line for line in cfg.read_text().splitlines() if not line.startswith("ImageQuality")))
    tree = read_camus(tree_2019)
    assert [str(e) for e in tree.skipped] == [f"{cfg}: missing key(s): ImageQuality"]


def test_non_numeric_frame_index_in_cfg_is_refused(tree_2023):
    cfg = tree_2023 / "database_nifti" / "patient0002" / "Info_2CH.cfg"
    cfg.write_text(cfg.read_text().replace("ED: 1", "ED: first"))
    with pytest.raises(DataError, match=r"Info_2CH\.cfg: ED must be a frame number counted from 1"):
        read_patient(cfg.parent)


def test_cfg_es_beyond_the_cine_names_cfg_and_cine(tree_2023):
    cfg = tree_2023 / "database_nifti" / "patient0002" / "Info_4CH.cfg"
    lines = [("ES: 99" if line.startswith("ES:") else line) for line in cfg.read_text().splitlines()]
    cfg.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"Info_4CH\.cfg: ES = 99 is beyond the \d+ frames of patient0002_4CH_half_sequence"):
        read_patient_cines(cfg.parent)


def test_missing_frame_file_names_it(tree_2023):
    path = tree_2023 / "database_nifti" / "patient0005" / "patient0005_2CH_ES.nii.gz"
    path.unlink()
    with pytest.raises(DataError, match=r"patient0005_2CH_ES\.nii\.gz: file not found"):
        read_camus(tree_2023, strict=True)


def test_mask_of_the_wrong_size_names_the_mask(tree_2019):
    import numpy as np

    from echosr_edge.data.metaimage import write_metaimage

    mask = tree_2019 / "training" / "patient0001" / "patient0001_2CH_ED_gt.mhd"
    write_metaimage(mask, np.zeros((20, 20), np.uint8), (0.3, 0.3))
    with pytest.raises(DataError, match=r"_gt\.mhd: mask is 20x20 but its image is 48x40"):
        read_patient(mask.parent, masks=True)


def test_a_folder_without_patients_is_not_a_camus_root(tmp_path):
    with pytest.raises(DataError, match="no patientXXXX folders"):
        read_camus(tmp_path)
