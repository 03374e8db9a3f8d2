"""DICOM frames and cines read as grey uint8 frames, with facts that identify no one."""

import numpy as np
import pytest

from echosr_edge.errors import DataError

pydicom = pytest.importorskip("pydicom", reason="DICOM needs the 'dicom' extra (pydicom)")

from echosr_edge.data.dicom import dicom_info, is_dicom_file, iter_dicom_frames, read_dicom  # noqa: E402


def write_dicom(path, frames, photometric="MONOCHROME2", syntax=None, encapsulated=None, bits=None, **extra):
    """A minimal multi-frame ultrasound DICOM with identifying fields set, as scanners write them."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, UltrasoundMultiFrameImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax or ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^Jane", "MRN-0042", "19700101"
    ds.InstitutionName, ds.StudyDate = "Rural Clinic", "20240101"
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.Manufacturer = "US", "Acme"
    ds.NumberOfFrames = len(frames)
    ds.Rows, ds.Columns = frames.shape[1:3]
    ds.PhotometricInterpretation = photometric
    ds.SamplesPerPixel = 3 if frames.ndim == 4 else 1
    if frames.ndim == 4:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8 * frames.itemsize
    ds.BitsStored = bits or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    ds.FrameTime = 33.3333
    for key, value in extra.items():
        setattr(ds, key, value)
    if encapsulated is not None:
        from pydicom.encaps import encapsulate

        ds.PixelData = encapsulate(encapsulated)
        ds["PixelData"].VR = "OB"
    else:
        ds.PixelData = frames.tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return path


@pytest.fixture()
def cine():
    frames = np.stack([np.full((48, 40), 20 * i, np.uint8) for i in range(6)])
    frames[:, 10:20, 10:20] = 250
    return frames


def test_multiframe_cine_reads_as_t_h_w_uint8_with_its_frame_rate(tmp_path, cine):
    frames, info = read_dicom(write_dicom(tmp_path / "cine.dcm", cine))
    assert frames.shape == (6, 48, 40) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames, cine)
    assert info.frames == 6 and info.fps == pytest.approx(30.0, rel=1e-3) and info.modality == "US"


def test_info_holds_nothing_that_identifies_the_patient_or_the_place(tmp_path, cine):
    text = str(dicom_info(write_dicom(tmp_path / "cine.dcm", cine)).to_dict())
    for secret in ("Doe", "MRN-0042", "19700101", "Rural Clinic", "20240101"):
        assert secret not in text


def test_rgb_cine_becomes_grey(tmp_path, cine):
    rgb = np.repeat(cine[..., None], 3, axis=3)
    frames, info = read_dicom(write_dicom(tmp_path / "rgb.dcm", rgb, "RGB"))
    assert info.photometric == "RGB" and frames.shape == (6, 48, 40)
    np.testing.assert_array_equal(frames, cine)


def test_jpeg_baseline_cine_decodes_to_the_frames_within_jpeg_error(tmp_path, cine):
    import cv2
    from pydicom.uid import JPEGBaseline8Bit

    pytest.importorskip("PIL", reason="JPEG Baseline DICOM needs Pillow")
    jpegs = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes() for f in cine]
    frames, info = read_dicom(write_dicom(tmp_path / "jpeg.dcm", cine, syntax=JPEGBaseline8Bit, encapsulated=jpegs))
    assert info.transfer_syntax.startswith("JPEG Baseline")
    assert np.abs(frames.astype(int) - cine).max() <= 8


def test_monochrome1_is_inverted_and_12_bit_data_is_scaled_by_its_depth(tmp_path):
    raw = np.stack([np.full((16, 16), v, np.uint16) for v in (0, 4095)])
    frames, _ = read_dicom(write_dicom(tmp_path / "m1.dcm", raw, "MONOCHROME1", bits=12))
    assert frames[0].max() == 255 and frames[1].max() == 0


def test_iterating_a_cine_yields_one_frame_at_a_time(tmp_path, cine):
    frames = iter_dicom_frames(write_dicom(tmp_path / "cine.dcm", cine))
    first = next(frames)
    assert first.shape == (48, 40) and len(list(frames)) == 5


def test_a_file_that_is_not_dicom_is_a_data_error_naming_it(tmp_path):
    bogus = tmp_path / "scan.dcm"
    bogus.write_bytes(b"this is not dicom")
    with pytest.raises(DataError, match="scan.dcm: not a readable DICOM file"):
        read_dicom(bogus)


def test_dicom_files_are_recognised_by_suffix_or_preamble(tmp_path, cine):
    path = write_dicom(tmp_path / "IM0001", cine)  # scanners often write files without a suffix
    assert is_dicom_file(path) and not is_dicom_file(tmp_path / "missing")


def test_dicom_cine_is_a_runtime_source(tmp_path, cine):
    from echosr_edge.runtime.sources import open_source

    source = open_source(write_dicom(tmp_path / "cine.dcm", cine))
    items = list(source.frames())
    assert [i for i, _, _ in items] == list(range(6)) and source.fps == pytest.approx(30.0, rel=1e-3)
    folder = tmp_path / "folder"
    folder.mkdir()
    write_dicom(folder / "a.dcm", cine)
    write_dicom(folder / "b.dcm", cine[:2])
    assert len(list(open_source(folder).frames())) == 8
