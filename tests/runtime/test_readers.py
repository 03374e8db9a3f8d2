"""One reader, one record: `run --source`, `batch` and `inspect` see the same frames, and every
output writes the same frame record (``ms`` a per-stage dict everywhere)."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from echosr_edge.cli import main
from echosr_edge.data.nifti import write_nifti
from echosr_edge.data.preprocess import resize_unit, to_grey
from echosr_edge.runtime.batch_inputs import InputFile, input_kind, read_input
from echosr_edge.runtime.inspect import read_for_inspection
from echosr_edge.runtime.readers import open_file, read_image
from echosr_edge.runtime.sources import open_source

HR = 48


def _cine(frames: int = 3, size=(56, 64)) -> np.ndarray:
    rng = np.random.default_rng(4)
    base = rng.integers(0, 256, size, dtype=np.uint8)
    return np.stack([np.roll(base, 3 * i, axis=1) for i in range(frames)])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 16-bit PNG (alone in its folder, as `run --source` takes images), a 3-frame DICOM cine, a NIfTI cine."""
    root = tmp_path_factory.mktemp("readers")
    png_dir = root / "png"
    png_dir.mkdir()
    wide = (np.arange(56 * 64, dtype=np.uint32).reshape(56, 64) * 23 % 65536).astype(np.uint16)
    cv2.imwrite(str(png_dir / "frame.png"), wide)
    made = {"png": png_dir / "frame.png", "nifti": root / "cine.nii.gz"}
    write_nifti(made["nifti"], _cine(), (0.3, 0.3))
    try:
        from echosr_edge.runtime.batch_synth import write_dicom

        made["dicom"] = write_dicom(root / "cine.dcm", _cine())
    except ImportError:
        pass
    return made


def _pixels(frames) -> list[np.ndarray]:
    return [resize_unit(to_grey(f), HR) for f in frames]


def _through_run(path):
    source = path.parent if path.suffix == ".png" else path  # run takes an image folder, not one image
    return _pixels(frame for _, _, frame in open_source(source).frames())


def _through_batch(path):
    frames, _ = read_input(InputFile(path, path.name, input_kind(path)))
    return _pixels(frames)


def _through_inspect(path, count):
    return _pixels(read_for_inspection(path, i)[2] for i in range(count))


@pytest.mark.parametrize("kind", ["png", "dicom", "nifti"])
def test_run_batch_and_inspect_read_the_same_frames(kind, files):
    if kind not in files:
        pytest.skip("DICOM needs the 'dicom' extra (pydicom)")
    path = files[kind]
    run, batch = _through_run(path), _through_batch(path)
    inspect = _through_inspect(path, len(batch))
    assert len(run) == len(batch) == read_for_inspection(path)[1]["frames"] == (1 if kind == "png" else 3)
    for a, b, c in zip(run, batch, inspect):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_a_16_bit_png_is_scaled_not_clipped(files):
    image = read_image(files["png"])
    original = cv2.imread(str(files["png"]), cv2.IMREAD_UNCHANGED)
    assert image.dtype == np.uint8 and image.max() > 200  # clipping 16-bit values would saturate at 255 almost everywhere
    np.testing.assert_array_equal(image, (original // 257).astype(np.uint8))
    np.testing.assert_array_equal(to_grey(original), image)  # a 16-bit frame from elsewhere gets the same scaling


def test_opened_file_says_what_it_is(files):
    opened = open_file(files["nifti"])
    assert (opened.kind, opened.count, opened.spacing_mm) == ("nifti", 3, (0.3, 0.3))
    assert opened.frame(99).shape == (56, 64)  # past the end: the last frame, as inspect --frame does


def test_ms_is_a_per_stage_dict_in_the_run_log_the_web_feed_and_batch(files, bundle_dir, tmp_path):
    from echosr_edge.runtime.run import run_source
    from echosr_edge.runtime.session import open_session
    from echosr_edge.runtime.web.frames import unpack_frame
    from echosr_edge.runtime.web.hub import LiveHub
    from echosr_edge.runtime.web.sink import WebSink

    nifti = files["nifti"]
    log = tmp_path / "run.jsonl"
    assert CliRunner().invoke(main, ["run", "--bundle", str(bundle_dir), "--source", str(nifti), "--headless",
                                     "--device", "cpu", "--log", str(log)]).exit_code == 0
    run_ms = [json.loads(line)["ms"] for line in log.read_text().splitlines() if '"frame"' in line]

    session = open_session(bundle_dir, "cpu", enhance="always", startup_check=False)
    hub = LiveHub(enhance_mode="always", enhance_modes=("always", "never"))
    run_source(session.pipeline, open_source(nifti), sinks=[WebSink(hub, session.pipeline)])
    web_ms = unpack_frame(hub.encoded_frame().payload)[0]["record"]["ms"]

    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / nifti.name).write_bytes(nifti.read_bytes())
    assert CliRunner().invoke(main, ["batch", str(inputs), str(tmp_path / "out"), "--bundle", str(bundle_dir),
                                     "--quiet"]).exit_code == 0
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    batch_ms = [f["ms"] for r in rows for f in r["frames"]]

    assert len(run_ms) == len(batch_ms) == 3
    for ms in run_ms + [web_ms] + batch_ms:
        assert isinstance(ms, dict) and {"preprocess", "sr", "classify", "total"} <= set(ms)
        assert all(isinstance(v, float) for v in ms.values())
