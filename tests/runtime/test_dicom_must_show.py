"""Must show 2: `inspect` and `run` on a multi-frame JPEG YBR cine and on a PALETTE COLOR file give
the right grey frames, compared with a reference decode that does not go through pydicom."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("pydicom", reason="DICOM needs the 'dicom' extra (pydicom)")
pytest.importorskip("PIL", reason="JPEG Baseline DICOM needs the 'dicom' extra (Pillow)")

from echosr_edge.cli import main  # noqa: E402
from tests import dicom_files as df  # noqa: E402
from tests.runtime.helpers import frames_of, read_log  # noqa: E402

FRAMES = 4


@pytest.fixture(scope="module")
def cines(tmp_path_factory):
    """{kind: (path, reference grey T×H×W, a plausible wrong decode T×H×W)} for 'jpeg-ybr' and 'palette'."""
    import io

    from PIL import Image

    root = tmp_path_factory.mktemp("dicom")
    grey = df.sector_cine(FRAMES, size=(72, 88))
    rgb = df.colour_cine(grey)
    jpeg_path, jpegs = df.write_jpeg_baseline(root / "ybr_cine.dcm", rgb, subsampling=1)
    # The decode a reader gets wrong when it takes YCbCr for RGB.
    ycbcr_as_rgb = np.stack([df.luma(np.asarray(Image.open(io.BytesIO(j)).convert("YCbCr"))) for j in jpegs])
    table = df.heat_palette(256, 16)
    palette_path = df.write_palette(root / "palette.dcm", grey, table)
    return {
        "jpeg-ybr": (jpeg_path, df.reference_jpeg_grey(jpegs), ycbcr_as_rgb, 2),
        "palette": (palette_path, df.reference_palette_grey(grey, table), grey, 1),  # wrong: the indices as grey
    }


def _off_box(picture: np.ndarray, box) -> np.ndarray:
    """A mask of the pixels the region rectangle does not cover."""
    keep = np.ones(picture.shape[:2], bool)
    top, left, bottom, right = box
    keep[top, left:right] = keep[bottom - 1, left:right] = False
    keep[top:bottom, left] = keep[top:bottom, right - 1] = False
    return keep


@pytest.mark.parametrize("kind", ["jpeg-ybr", "palette"])
@pytest.mark.parametrize("index", [0, FRAMES - 1])
def test_inspect_reports_the_file_and_saves_the_right_grey_frame(tmp_path, cines, kind, index):
    path, reference, wrong, tolerance = cines[kind]
    png = tmp_path / "preview.png"
    result = CliRunner().invoke(main, ["inspect", str(path), "--json", "--frame", str(index), "--save", str(png)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["format"] == "DICOM" and report["frames"] == FRAMES
    assert report["colour"] == ("YBR_FULL_422" if kind == "jpeg-ybr" else "PALETTE COLOR")
    assert report["encoding"].startswith("JPEG Baseline" if kind == "jpeg-ybr" else "Explicit VR Little Endian")
    saved = cv2.imread(str(png), cv2.IMREAD_COLOR)
    keep = _off_box(saved, report["region"])
    grey = saved[..., 2]  # the red channel: the region is drawn in pure green, so red is the frame
    assert np.abs(grey.astype(int) - reference[index])[keep].max() <= tolerance
    assert np.abs(grey.astype(int) - wrong[index])[keep].mean() > 5  # and a wrong decode would show


@pytest.mark.parametrize("kind", ["jpeg-ybr", "palette"])
def test_the_run_loop_hands_the_pipeline_the_reference_grey_frames(cines, bundle_dir, kind):
    from echosr_edge.devices.detect import require_device
    from echosr_edge.runtime.pipeline import load_pipeline
    from echosr_edge.runtime.run import run_source
    from echosr_edge.runtime.sources import open_source

    path, reference, _, tolerance = cines[kind]
    seen = []

    class Keep:
        def frame(self, record, original, result):
            seen.append(original.copy())
            return True

        def event(self, record):
            pass

        def close(self):
            pass

    pipeline = load_pipeline(bundle_dir, require_device("cpu"), "fp32", "never")
    summary = run_source(pipeline, open_source(path), sinks=[Keep()])
    assert summary.frames == FRAMES and len(seen) == FRAMES
    assert np.abs(np.stack(seen).astype(int) - reference).max() <= tolerance


@pytest.mark.parametrize("kind", ["jpeg-ybr", "palette"])
def test_run_cli_on_the_dicom_matches_run_on_the_reference_frames(tmp_path, cines, bundle_dir, kind):
    path, reference, wrong, _ = cines[kind]
    logs = {}
    for name, frames in (("reference", reference), ("wrong", wrong)):
        folder = tmp_path / name
        folder.mkdir()
        for i, frame in enumerate(frames):
            cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
        logs[name] = folder
    logs["dicom"] = path
    probs = {}
    for name, source in logs.items():
        log = tmp_path / f"{name}.jsonl"
        result = CliRunner().invoke(main, [
            "run", "--bundle", str(bundle_dir), "--device", "cpu", "--precision", "fp32", "--enhance", "never",
            "--source", str(source), "--headless", "--log", str(log),
        ])
        assert result.exit_code == 0, result.output
        records = frames_of(read_log(log))
        assert [r["frame"] for r in records] == list(range(FRAMES))
        probs[name] = np.array([[p for clf in r["probabilities"].values() for p in clf.values()] for r in records])
    same = np.abs(probs["dicom"] - probs["reference"]).max()
    off = np.abs(probs["wrong"] - probs["reference"]).max()
    print(f"\n{kind}: max |p_dicom - p_reference| = {same:.2e}, max |p_wrong - p_reference| = {off:.2e}")
    assert off > 0, "the classifier cannot tell these frames apart: this check would prove nothing"
    assert same <= off / 10, f"DICOM run differs from the reference run by {same}, a wrong decode by {off}"
