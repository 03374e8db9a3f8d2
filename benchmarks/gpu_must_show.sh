#!/usr/bin/env bash
# Issue 23's GPU must-show in one call (≤ 8 min on one H100):
#   1. train SRResNet, SRGAN and a view ResNet-18 a few epochs at the paper's settings with AMP;
#      per-epoch seconds → the projected wall time of the paper's schedule (4,000 / 8,000 / 10 epochs);
#   2. DDP on NCCL: `torchrun --nproc_per_node N` (N = visible GPUs) trains SRResNet 2 epochs, and the
#      NCCL test of tests/train/test_ddp.py when pytest is installed;
#   3. export a bundle (ONNX FP32 + symmetric INT8 QDQ), then `engines build` FP16 and INT8 on this GPU;
#   4. `run --device cuda` on a demo video with each engine: per-stage latency, start-up agreement with FP32;
#      `bench --device cuda` for the FP32-fidelity table.
#
# usage: benchmarks/gpu_must_show.sh [OUT]        (default: ./gpu-must-show)
#   env: PYTHON (default python3), VGG_WEIGHTS (torchvision vgg19-*.pth: SRGAN's VGG content loss;
#        without it SRGAN trains SRGAN-MSE and its epoch time leaves out the VGG19 forward),
#        PATIENTS (default 60), FAST=1 (fewer epochs, for a quick look)
#
# Needs on the GPU machine (it has no network): torch with CUDA, onnx, onnxruntime, opencv, click,
# nibabel, scikit-image (the 'export' extra), and for the engine stages tensorrt plus cuda-python or
# pycuda. Nothing is downloaded: the worktree is imported through PYTHONPATH; a missing package is
# named and its stages are skipped (pip install -e ".[export,jetson]" where an index is reachable).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-gpu-must-show}" && cd "${1:-gpu-must-show}" && pwd)
PY=${PYTHON:-python3}
PATIENTS=${PATIENTS:-60}
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export ECHOSR_ENGINE_CACHE="$OUT/engines"
E() { "$PY" -m echosr_edge "$@"; }
T0=$(date +%s)
stage() { echo; echo "=== [$(( $(date +%s) - T0 )) s] $*"; }
FAILED=()
fail() { echo "!!! $*"; FAILED+=("$*"); }
if [ "${FAST:-0}" = 1 ]; then SR_EPOCHS=2; GAN_EPOCHS=1; CLF_EPOCHS=1; else SR_EPOCHS=3; GAN_EPOCHS=2; CLF_EPOCHS=2; fi

stage "0/5 this machine"
"$PY" - <<'EOF' || { echo "torch with a CUDA GPU is needed: stopping"; exit 1; }
import importlib, torch
assert torch.cuda.is_available(), "no CUDA GPU visible to torch"
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}")
for name in ("onnx", "onnxruntime", "cv2", "click", "nibabel", "skimage", "tensorrt", "cuda.bindings.runtime", "cuda.cudart", "pycuda.driver"):
    try:
        mod = importlib.import_module(name)
        print(f"  {name:22s} {getattr(mod, '__version__', 'ok')}")
    except Exception as exc:  # noqa: BLE001
        print(f"  {name:22s} MISSING ({type(exc).__name__})")
import onnxruntime
print("  onnxruntime providers:", onnxruntime.get_available_providers())
EOF
HAVE_TRT=$("$PY" -c "import tensorrt" >/dev/null 2>&1 && echo yes || echo no)
NGPU=$("$PY" -c "import torch; print(torch.cuda.device_count())")
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true

stage "1/5 data: $PATIENTS synthetic CAMUS patients"
E data synth "$OUT/data" --patients "$PATIENTS" --seed 0 >/dev/null || { echo "data synth failed: stopping"; exit 1; }

stage "2/5 training at the paper's settings with AMP (per-epoch times → the paper's schedule)"
VGG=()
if [ -n "${VGG_WEIGHTS:-}" ]; then VGG=(--vgg-weights "$VGG_WEIGHTS"); fi
mkdir -p "$OUT/ckpt"
timeout 150 "$PY" -m echosr_edge train sr "$OUT/data" --out "$OUT/ckpt/sr.pt" --schedule paper --epochs "$SR_EPOCHS" --device cuda --amp >"$OUT/train-sr.log" 2>&1 || fail "train sr (see $OUT/train-sr.log)"
timeout 120 "$PY" -m echosr_edge train srgan "$OUT/data" --out "$OUT/ckpt/srgan.pt" --schedule paper --epochs "$GAN_EPOCHS" --device cuda --amp "${VGG[@]}" >"$OUT/train-srgan.log" 2>&1 || fail "train srgan (see $OUT/train-srgan.log)"
timeout 120 "$PY" -m echosr_edge train classifier "$OUT/data" --task view --out "$OUT/ckpt/view.pt" --schedule paper --epochs "$CLF_EPOCHS" --device cuda --amp >"$OUT/train-view.log" 2>&1 || fail "train classifier (see $OUT/train-view.log)"
"$PY" - "$OUT/ckpt" "$PATIENTS" <<'EOF'
import json, statistics, sys
from pathlib import Path
paper = {"sr": 4000, "srgan": 8000, "view": 10}
camus = 500 / int(sys.argv[2])  # CAMUS has 500 patients; epoch time taken as proportional to frames
for name, epochs in paper.items():
    path = Path(sys.argv[1]) / f"{name}.metrics.jsonl"
    if not path.is_file():
        print(f"  {name}: no metrics ({path} missing)"); continue
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    secs = [r["seconds"] for r in rows]
    steady = statistics.median(secs[1:]) if len(secs) > 1 else secs[0]  # epoch 1 includes CUDA warm-up
    print(f"  {name}: epochs {[round(s, 2) for s in secs]} s; steady {steady:.2f} s/epoch → paper schedule "
          f"({epochs} epochs) ≈ {steady * epochs / 3600:.2f} h on these {sys.argv[2]} patients, "
          f"≈ {steady * epochs * camus / 3600:.1f} h on CAMUS's 500")
EOF
grep -h "frames\|content loss" "$OUT"/train-*.log | head -6

stage "3/5 DDP on NCCL: torchrun --nproc_per_node $NGPU (SRResNet, 2 epochs)"
timeout 120 "$PY" -m torch.distributed.run --standalone --nproc_per_node "$NGPU" -m echosr_edge train sr "$OUT/data" \
    --out "$OUT/ckpt/sr-ddp.pt" --schedule paper --epochs 2 --device cuda --amp >"$OUT/ddp.log" 2>&1 \
    && "$PY" -c "import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; print('  NCCL DDP finished', len(rows), 'epochs:', [(r['epoch'], round(r['seconds'], 2), 'world', r['world_size']) for r in rows])" "$OUT/ckpt/sr-ddp.metrics.jsonl" \
    || fail "torchrun NCCL (see $OUT/ddp.log)"
if "$PY" -c "import pytest" >/dev/null 2>&1; then
    (cd "$ROOT" && timeout 150 "$PY" -m pytest -q -p no:cacheprovider tests/train/test_ddp.py -k "nccl or groups_device" 2>&1 | tail -3) || fail "NCCL pytest"
else
    echo "  (pytest is not installed: the NCCL test of tests/train/test_ddp.py was not run)"
fi

stage "4/5 bundle (ONNX FP32 + symmetric INT8) and TensorRT engines built on this GPU"
timeout 150 "$PY" -m echosr_edge export "$OUT/ckpt/sr.pt" "$OUT/ckpt/view.pt" --calibration "$OUT/data" --out "$OUT/bundle" \
    --targets onnx --precision fp32,int8 --onnx-int8 symmetric --allow-degraded >"$OUT/export.log" 2>&1 \
    || { fail "export (see $OUT/export.log)"; }
tail -8 "$OUT/export.log"
"$PY" - "$OUT" <<'EOF'
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, ".")
from echosr_edge.data.camus import read_camus
from echosr_edge.runtime.batch_synth import write_video
frames = [f.image for f in read_camus(Path(sys.argv[1]) / "data").frames[:60]]
print("  demo video:", write_video(Path(sys.argv[1]) / "demo.mp4", np.stack(frames), "mp4v", fps=10.0))
EOF
if [ "$HAVE_TRT" = yes ] && [ -f "$OUT/bundle/manifest.json" ]; then
    for precision in fp16 int8; do
        timeout 240 "$PY" -m echosr_edge engines build --bundle "$OUT/bundle" --device cuda --precision "$precision" --force 2>&1 \
            | tee "$OUT/engines-$precision.log" || fail "engines build $precision"
    done
else
    echo "  skipped: tensorrt is not importable here (or the export failed)"
fi

stage "5/5 run --device cuda on the demo video, per precision; bench for fidelity against FP32"
for precision in fp16 int8; do
    [ "$HAVE_TRT" = yes ] || precision=fp32
    timeout 120 "$PY" -m echosr_edge run --bundle "$OUT/bundle" --device cuda --precision "$precision" --no-build \
        --source "$OUT/demo.mp4" --headless --enhance always --log "$OUT/run-$precision.jsonl" 2>&1 | tee "$OUT/run-$precision.log" \
        || fail "run $precision"
    "$PY" - "$OUT/run-$precision.jsonl" "$precision" <<'EOF'
import json, sys
import numpy as np
rows = [json.loads(l) for l in open(sys.argv[1]) if '"frame"' in l]
rows = rows[5:] or rows  # the first frames warm the engines
stages = sorted({k for r in rows for k in r["ms"]})
print(f"  {sys.argv[2]} per-stage latency over {len(rows)} frames (p50 / p95 ms): "
      + ", ".join(f"{s} {np.percentile([r['ms'][s] for r in rows if s in r['ms']], 50):.2f}/"
                  f"{np.percentile([r['ms'][s] for r in rows if s in r['ms']], 95):.2f}" for s in stages))
EOF
    [ "$HAVE_TRT" = yes ] || break
done
timeout 150 "$PY" -m echosr_edge bench --bundle "$OUT/bundle" --device cuda --runs 50 --no-build --out "$OUT/report" 2>&1 | tail -12 \
    || fail "bench"

stage "done in $(( $(date +%s) - T0 )) s; everything is in $OUT"
if [ ${#FAILED[@]} -gt 0 ]; then printf 'failed: %s\n' "${FAILED[@]}"; exit 1; fi
