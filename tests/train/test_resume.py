"""A run killed mid-way and resumed ends with the same weights as one never interrupted (CPU)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")

from echosr_edge.errors import DataError  # noqa: E402
from echosr_edge.train.loop import Checkpointing  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


class Killed(Exception):
    """Stands for the process dying right after an epoch's state was written."""


def _kill_after(epoch: int):
    def on_epoch(record: dict) -> None:
        if record["epoch"] == epoch:
            raise Killed

    return on_epoch


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_sr_run_killed_after_an_epoch_and_resumed_matches_the_uninterrupted_run(tmp_path, frames, tiny_sr):
    from echosr_edge.train.sr import train_sr

    whole, _ = train_sr(frames, tiny_sr, checkpointing=Checkpointing.beside(tmp_path / "whole.pt"))
    with pytest.raises(Killed):
        train_sr(frames, tiny_sr, _kill_after(1), checkpointing=Checkpointing.beside(tmp_path / "cut.pt"))
    resumed, history = train_sr(frames, tiny_sr, checkpointing=Checkpointing.beside(tmp_path / "cut.pt", resume=True))
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert _same_weights(whole, resumed)
    assert (tmp_path / "cut.metrics.jsonl").read_text().count("\n") == 3


def test_without_the_saved_random_state_a_resumed_run_would_differ(tmp_path, frames, tiny_sr, monkeypatch):
    """The check above can fail: resuming from epoch 1's weights with a fresh sampler diverges."""
    from echosr_edge.train import loop
    from echosr_edge.train.sr import train_sr

    whole, _ = train_sr(frames, tiny_sr)
    with pytest.raises(Killed):
        train_sr(frames, tiny_sr, _kill_after(1), checkpointing=Checkpointing.beside(tmp_path / "cut.pt"))
    monkeypatch.setattr(loop, "restore_rng", lambda state, generator: None)
    resumed, _ = train_sr(frames, tiny_sr, checkpointing=Checkpointing.beside(tmp_path / "cut.pt", resume=True))
    assert not _same_weights(whole, resumed)


def test_srgan_resume_restores_both_networks_and_optimisers(tmp_path, frames, tiny_sr):
    from echosr_edge.train.gan import SRGANTrainConfig, train_srgan

    config = SRGANTrainConfig(**{**tiny_sr.__dict__, "epochs": 2}, discriminator_features=4)
    whole, _, _ = train_srgan(frames, config)
    with pytest.raises(Killed):
        train_srgan(frames, config, _kill_after(1), checkpointing=Checkpointing.beside(tmp_path / "g.pt"))
    resumed, history, _ = train_srgan(frames, config, checkpointing=Checkpointing.beside(tmp_path / "g.pt", resume=True))
    assert [r["epoch"] for r in history] == [1, 2]
    assert _same_weights(whole, resumed)


def test_classifier_resume_matches_the_uninterrupted_run(tmp_path, frames):
    from echosr_edge.train.classifier import ClassifierTrainConfig, train_classifier

    config = ClassifierTrainConfig(task="phase", input_size=32, epochs=2, device="cpu")
    subset = frames[:12]
    whole, _ = train_classifier(subset, config)
    with pytest.raises(Killed):
        train_classifier(subset, config, _kill_after(1), checkpointing=Checkpointing.beside(tmp_path / "c.pt"))
    resumed, _ = train_classifier(subset, config, checkpointing=Checkpointing.beside(tmp_path / "c.pt", resume=True))
    assert _same_weights(whole, resumed)


def test_resuming_with_more_epochs_continues_the_same_run(tmp_path, frames, tiny_sr):
    from echosr_edge.train.sr import train_sr

    whole, _ = train_sr(frames, tiny_sr)
    files = Checkpointing.beside(tmp_path / "sr.pt")
    train_sr(frames, replace(tiny_sr, epochs=2), checkpointing=files)
    extended, history = train_sr(frames, tiny_sr, checkpointing=replace(files, resume=True))
    assert len(history) == 3 and _same_weights(whole, extended)


def test_resuming_with_another_learning_rate_is_refused_naming_it(tmp_path, frames, tiny_sr):
    from echosr_edge.train.sr import train_sr

    files = Checkpointing.beside(tmp_path / "sr.pt")
    train_sr(frames, replace(tiny_sr, epochs=1), checkpointing=files)
    with pytest.raises(DataError, match=r"sr\.state\.pt: was written by a run with another config \(lr: 0\.001 then, 0\.01 now\)"):
        train_sr(frames, replace(tiny_sr, lr=1e-2), checkpointing=replace(files, resume=True))


def _cli_sr(root: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "sr", str(root), "--out", str(out), "--hr-size", "64", "--blocks", "1", "--features", "8",
            "--patch", "8", "--lr", "1e-3", "--device", "cpu", *extra]


def test_cli_run_killed_with_sigkill_and_resumed_ends_with_the_same_weights(tmp_path, camus_root):
    """Must show 3, end to end: a real process is killed mid-run; ``--resume`` finishes the job."""
    from click.testing import CliRunner

    from echosr_edge.cli import main
    from echosr_edge.models.checkpoint import load_checkpoint

    epochs = "16"
    whole = CliRunner().invoke(main, _cli_sr(camus_root, tmp_path / "whole.pt", "--epochs", epochs))
    assert whole.exit_code == 0, whole.output

    cut = tmp_path / "cut.pt"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "echosr_edge", *_cli_sr(camus_root, cut, "--epochs", epochs)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = cut.with_suffix(".metrics.jsonl")
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if metrics.is_file() and metrics.read_text().count("\n") >= 2:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not cut.exists() and cut.with_suffix(".state.pt").is_file()
    done = torch.load(cut.with_suffix(".state.pt"), weights_only=True)["epoch"]
    assert 2 <= done < int(epochs)

    resumed = CliRunner().invoke(main, _cli_sr(camus_root, cut, "--epochs", epochs, "--resume"))
    assert resumed.exit_code == 0, resumed.output
    assert _same_weights(load_checkpoint(tmp_path / "whole.pt")[0], load_checkpoint(cut)[0])
    assert metrics.read_text().count("\n") == int(epochs)
