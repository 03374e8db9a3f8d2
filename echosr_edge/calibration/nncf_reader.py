"""NNCF's ``nncf.Dataset`` over in-memory calibration and validation arrays."""

from __future__ import annotations

import numpy as np

from echosr_edge.calibration.sets import check_model_inputs
from echosr_edge.errors import import_optional


def make_nncf_dataset(inputs: np.ndarray, spatial: tuple[int, int] | None = None, source: str = "calibration inputs"):
    """An ``nncf.Dataset`` of single 1×1×H×W float32 frames from N×1×H×W ``inputs``.

    Raises DataError for an empty or wrongly shaped array (H×W checked against ``spatial``).
    """
    nncf = import_optional("nncf", "export")
    inputs = check_model_inputs(inputs, spatial, source)
    return nncf.Dataset([x[None] for x in inputs])


def make_nncf_validation_dataset(inputs: np.ndarray, targets: np.ndarray, spatial: tuple[int, int] | None = None):
    """An ``nncf.Dataset`` of (1×1×H×W input, target) pairs; the transform feeds the input only.

    ``targets`` are per-frame: HR images (SR) or class indices (classifiers).
    """
    nncf = import_optional("nncf", "export")
    inputs = check_model_inputs(inputs, spatial, "validation inputs")
    if len(targets) != len(inputs):
        raise ValueError(f"validation set: {len(inputs)} inputs but {len(targets)} targets")
    return nncf.Dataset(list(zip((x[None] for x in inputs), targets)), lambda item: item[0])
