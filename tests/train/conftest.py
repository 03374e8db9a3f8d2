"""Fixtures for the trainer tests: the session's synthetic frames and tiny configs."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def frames(camus_root):
    """The 32 frames of the session's 8 synthetic patients (96×80)."""
    from echosr_edge.data.camus import read_camus

    return read_camus(camus_root).frames


@pytest.fixture()
def tiny_sr():
    """A 1-block, 8-channel SRResNet on 32×32 HR frames: a CPU epoch takes a fraction of a second."""
    pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")
    from echosr_edge.train.sr import SRTrainConfig

    return SRTrainConfig(hr_size=32, features=8, blocks=1, epochs=3, patch_lr=4, lr=1e-3, device="cpu")
