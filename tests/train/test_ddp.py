"""Must show 4: ``torchrun --nproc_per_node 2`` trains on CPU with gloo, and the ranks agree; every collective
is handed tensors on the process group's device; NCCL under torchrun where a GPU exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")

from echosr_edge.train.distributed import DistInfo, collective_device, shard  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory, camus_root):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend")
    out = tmp_path_factory.mktemp("ddp")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(Path(__file__).with_name("ddp_worker.py")), str(camus_root), str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1)]


@pytest.mark.parametrize("model", ["sr", "srgan", "classifier"])
def test_two_gloo_ranks_end_with_identical_weights(ddp_run, model):
    rank0, rank1 = ddp_run
    assert (rank0["rank"], rank1["rank"]) == (0, 1) and rank0["world_size"] == rank1["world_size"] == 2
    a, b = rank0[model], rank1[model]
    assert a.keys() == b.keys()
    differing = [k for k in a if not torch.equal(a[k], b[k])]
    assert differing == []


def test_ranks_report_the_same_losses_averaged_over_both(ddp_run):
    rank0, rank1 = ddp_run
    for model in ("sr", "srgan", "classifier"):
        h0, h1 = rank0["history"][model], rank1["history"][model]
        assert [r["world_size"] for r in h0] == [2] * len(h0)
        assert [r["loss"] for r in h0] == [r["loss"] for r in h1]


def test_ddp_training_moved_the_weights_from_their_seeded_start(ddp_run):
    from echosr_edge.models.registry import build_model

    torch.manual_seed(0)
    start = build_model("srresnet", features=8, blocks=1).state_dict()
    trained = ddp_run[0]["sr"]
    assert not torch.equal(start["tail.weight"], trained["tail.weight"])


def test_each_rank_takes_an_equal_disjoint_share_of_a_global_batch():
    batch = np.arange(7)
    shares = [shard(batch, DistInfo(rank=r, world_size=2)) for r in (0, 1)]
    assert [len(s) for s in shares] == [3, 3]
    assert set(shares[0]).isdisjoint(shares[1])
    assert list(shard(batch, DistInfo())) == list(batch)


def test_every_collective_is_given_tensors_on_the_process_groups_device(ddp_run):
    for rank in ddp_run:
        calls = rank["collectives"]
        assert rank["backend"] == "gloo" and len(calls) > 0
        assert {c["collective"] for c in calls} >= {"all_reduce", "broadcast"}  # loss means and buffer sync
        wrong = [c for c in calls if c["device"] != c["group_device"]]
        assert wrong == []


def test_under_nccl_collectives_use_the_ranks_gpu(monkeypatch):
    import torch.distributed as dist

    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_backend", lambda *a, **k: "nccl")
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    assert collective_device() == torch.device("cuda", 3)


def test_one_process_under_torchrun_trains_every_model_on_nccl(tmp_path, camus_root):
    if not torch.cuda.is_available():
        pytest.skip("NCCL needs a CUDA GPU; none is visible here")
    if not torch.distributed.is_available() or not torch.distributed.is_nccl_available():
        pytest.skip("this torch build has no NCCL backend")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1",
           str(Path(__file__).with_name("ddp_worker.py")), str(camus_root), str(tmp_path), "cuda"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    assert rank0["backend"] == "nccl" and rank0["world_size"] == 1
    assert [len(rank0["history"][m]) for m in ("sr", "srgan", "classifier")] == [2, 1, 1]  # every epoch finished
    assert rank0["collectives"] and all(c["device"] == c["group_device"] == "cuda:0" for c in rank0["collectives"])


class _Stop(Exception):
    pass


@pytest.mark.parametrize("collective", ["mean_across", "sync_buffers"])
def test_collectives_follow_the_groups_device_not_the_cpu(monkeypatch, collective):
    """A group on another device than the CPU (NCCL's GPU; here 'meta') gets its tensors there."""
    import torch.distributed as dist

    from echosr_edge.train import distributed

    seen = []

    def record(tensor, *args, **kwargs):
        seen.append(tensor.device)
        raise _Stop

    monkeypatch.setattr(distributed, "collective_device", lambda: torch.device("meta"))
    monkeypatch.setattr(dist, "all_reduce", record)
    monkeypatch.setattr(dist, "broadcast", record)
    info = DistInfo(rank=0, world_size=2)
    with pytest.raises(_Stop):
        if collective == "mean_across":
            distributed.mean_across(1.0, info)
        else:
            distributed.sync_buffers([torch.nn.BatchNorm2d(2)], info)
    assert seen == [torch.device("meta")]
