"""TensorRT INT8 calibrator (implicit quantisation, TensorRT ≤ 10) with a calibration cache file.

TensorRT asks the calibrator for batches in GPU memory; the batches live in a CUDA tensor of
torch (the export stage has torch already, so no pycuda). The cache file keeps the computed
ranges: a second build with the same cache skips calibration, and a cache written for other
inputs is refused by TensorRT itself. TensorRT 11 removed implicit INT8: there, INT8 engines
come from the QDQ ONNX (see export/tensorrt_export.py) and this module says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from echosr_edge.calibration.methods import tensorrt_calibrator_base
from echosr_edge.calibration.sets import check_model_inputs
from echosr_edge.errors import ConfigError, import_optional

log = logging.getLogger(__name__)


def make_tensorrt_calibrator(
    inputs: np.ndarray,
    cache_file: Path,
    method: str = "entropy",
    batch: int = 1,
    spatial: tuple[int, int] | None = None,
):
    """A TensorRT calibrator feeding ``inputs`` (N×1×H×W float32 in [0, 1]) ``batch`` frames at a time.

    ``method`` is 'entropy' (IInt8EntropyCalibrator2) or 'minmax' (IInt8MinMaxCalibrator). The
    ranges are written to, and read back from, ``cache_file``.
    """
    trt = import_optional("tensorrt", "jetson")
    torch = import_optional("torch", "train")
    inputs = check_model_inputs(inputs, spatial, "TensorRT calibration inputs")
    base = tensorrt_calibrator_base(trt, method)
    if not torch.cuda.is_available():
        raise RuntimeError("the TensorRT calibrator needs a CUDA GPU (torch sees none)")
    usable = len(inputs) - len(inputs) % batch
    if usable == 0:
        raise ConfigError(f"TensorRT calibration: {len(inputs)} frames cannot fill one batch of {batch}")
    cache_file = Path(cache_file)

    class Calibrator(base):
        def __init__(self) -> None:
            base.__init__(self)
            self.index = 0
            self.device_batch = torch.empty((batch, *inputs.shape[1:]), dtype=torch.float32, device="cuda")

        def get_batch_size(self) -> int:
            return batch

        def get_batch(self, names, p_str=None):
            if self.index + batch > usable:
                return None
            chunk = torch.from_numpy(inputs[self.index : self.index + batch])
            self.device_batch.copy_(chunk)
            torch.cuda.synchronize()
            self.index += batch
            return [int(self.device_batch.data_ptr())]

        def read_calibration_cache(self):
            if cache_file.is_file():
                log.info("reusing the TensorRT calibration cache %s", cache_file)
                return cache_file.read_bytes()
            return None

        def write_calibration_cache(self, cache) -> None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            cache_file.write_bytes(bytes(cache))

    return Calibrator()
