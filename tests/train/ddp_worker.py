"""Run by torchrun in tests/train/test_ddp.py: train tiny SR, SRGAN and classifier models, save each rank's weights.

Every collective is watched (collective_guard): the device of each tensor it was given is saved too.
Usage: ddp_worker.py CAMUS_ROOT OUT [cpu|cuda]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from echosr_edge.data.camus import read_camus
from echosr_edge.train.classifier import ClassifierTrainConfig, train_classifier
from echosr_edge.train.distributed import distributed_from_env
from echosr_edge.train.gan import SRGANTrainConfig, train_srgan
from echosr_edge.train.sr import SRTrainConfig, train_sr
from tests.train.collective_guard import guard_collectives


def main(root: Path, out: Path, device: str) -> None:
    frames = read_camus(root).frames
    calls = guard_collectives()
    with distributed_from_env(device) as info:
        sr_config = SRTrainConfig(hr_size=32, features=8, blocks=1, epochs=2, batch=8, patch_lr=4, lr=1e-3, device=device)
        sr, sr_history = train_sr(frames, sr_config)
        gan_config = SRGANTrainConfig(**{**sr_config.__dict__, "epochs": 1}, discriminator_features=4)
        gan, gan_history, _ = train_srgan(frames, gan_config)
        clf_config = ClassifierTrainConfig(task="view", input_size=32, epochs=1, batch=8, device=device)
        clf, clf_history = train_classifier(frames[:16], clf_config)
        backend = torch.distributed.get_backend() if torch.distributed.is_initialized() else None
        torch.save(
            {
                "rank": info.rank,
                "world_size": info.world_size,
                "backend": backend,
                "collectives": calls,
                "sr": {k: v.cpu() for k, v in sr.state_dict().items()},
                "srgan": {k: v.cpu() for k, v in gan.state_dict().items()},
                "classifier": {k: v.cpu() for k, v in clf.state_dict().items()},
                "history": {"sr": sr_history, "srgan": gan_history, "classifier": clf_history},
            },
            out / f"rank{info.rank}.pt",
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "cpu")
