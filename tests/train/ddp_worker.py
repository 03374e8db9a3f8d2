"""Run by torchrun in tests/train/test_ddp.py: train tiny SR, SRGAN and classifier models, save each rank's weights."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from echosr_edge.data.camus import read_camus
from echosr_edge.train.classifier import ClassifierTrainConfig, train_classifier
from echosr_edge.train.distributed import distributed_from_env
from echosr_edge.train.gan import SRGANTrainConfig, train_srgan
from echosr_edge.train.sr import SRTrainConfig, train_sr


def main(root: Path, out: Path) -> None:
    frames = read_camus(root).frames
    with distributed_from_env("cpu") as info:
        sr_config = SRTrainConfig(hr_size=32, features=8, blocks=1, epochs=2, batch=8, patch_lr=4, lr=1e-3, device="cpu")
        sr, sr_history = train_sr(frames, sr_config)
        gan_config = SRGANTrainConfig(**{**sr_config.__dict__, "epochs": 1}, discriminator_features=4)
        gan, gan_history, _ = train_srgan(frames, gan_config)
        clf_config = ClassifierTrainConfig(task="view", input_size=32, epochs=1, batch=8, device="cpu")
        clf, clf_history = train_classifier(frames[:16], clf_config)
        torch.save(
            {
                "rank": info.rank,
                "world_size": info.world_size,
                "sr": sr.state_dict(),
                "srgan": gan.state_dict(),
                "classifier": clf.state_dict(),
                "history": {"sr": sr_history, "srgan": gan_history, "classifier": clf_history},
            },
            out / f"rank{info.rank}.pt",
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
