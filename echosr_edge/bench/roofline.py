"""How close each stage of a bench target runs to this machine's limit, and to its engine alone.

Two numbers per stage (SR, each classifier):

- the stage's p50 inside the pipeline against the same engine timed alone on the same input
  shape, back to back: a ratio well above 1 means the engines disturb each other (ONNX Runtime's
  spin-waiting thread pools did: 2.5× on the classifiers on 2 cores);
- achieved GMAC/s (the manifest's MAC count of the model over the stage's p50) against an
  **empirical ceiling** measured on the same threads through the same backend and adapter: a chain
  of dense 3×3 convolutions (128 channels at 56×56 and 256 at 28×28, ResNet-18 shapes; the faster
  counts), FP32 or INT8
  (QDQ). The ceiling models are written as ONNX bytes by ``bench.onnx_bytes`` (no ``onnx``
  package needed); OpenVINO converts them with its own ONNX front end.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from echosr_edge.bench.onnx_bytes import conv_chain, conv_chain_macs
from echosr_edge.runtime.engine import Engine, open_engine, run_single

log = logging.getLogger(__name__)

# The faster of two conv shapes is the ceiling: ResNet-18's layer-2 and layer-3 shapes (backends
# differ in which they run closer to peak).
CEILING_SHAPES = ({"channels": 128, "size": 56, "layers": 2}, {"channels": 256, "size": 28, "layers": 2})


@dataclass
class Ceiling:
    """The measured limit of one backend × precision on these threads: GMAC/s, or why none."""

    gmacs: float | None
    workload: str
    note: str = ""


@dataclass
class StageLimit:
    """One stage: its time in the pipeline and alone, achieved GMAC/s and its share of the ceiling."""

    stage: str
    model: str
    macs: int | None
    pipeline_p50_ms: float
    alone_p50_ms: float
    pipeline_over_alone: float
    gmacs: float | None
    pct_of_ceiling: float | None


def p50_ms(call, runs: int, warmup: int = 2) -> float:
    """Median wall time of ``call()`` in milliseconds over ``runs`` calls after ``warmup``."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def stage_engines(pipeline) -> list[tuple[str, str, Engine, tuple[int, ...]]]:
    """(stage key, model name, engine, input shape) for the SR stage and each classifier."""
    names = {id(e): n for n, e in getattr(pipeline, "engines", {}).items()}
    out = []
    if pipeline.sr is not None and pipeline.enhance != "never":
        lr = pipeline.hr_size // pipeline.scale
        out.append(("sr", names.get(id(pipeline.sr), "sr"), pipeline.sr, (1, 1, lr, lr)))
    for clf in pipeline.classifiers:
        size = clf.input_size
        out.append((f"classify_{clf.name}", names.get(id(clf.engine), clf.name), clf.engine, (1, 1, size, size)))
    return out


def stage_limits(pipeline, stage_p50: dict[str, float], macs: dict[str, dict], ceiling: Ceiling | None,
                 runs: int = 20) -> list[StageLimit]:
    """Each stage of ``pipeline`` timed alone and set against its pipeline p50 and the ceiling.

    ``stage_p50``: stage key → p50 ms inside the pipeline; ``macs``: the manifest's
    ``notes["macs"]`` (model name → {"total": MACs, ...}).
    """
    rng = np.random.default_rng(0)
    out = []
    for stage, model, engine, shape in stage_engines(pipeline):
        if stage not in stage_p50:
            continue
        x = rng.random(shape, dtype=np.float32)
        alone = p50_ms(lambda: run_single(engine, x), runs)  # noqa: B023 (called in this iteration)
        inside = stage_p50[stage]
        count = (macs.get(model) or {}).get("total")
        gmacs = count / inside / 1e6 if count and inside > 0 else None
        pct = 100.0 * gmacs / ceiling.gmacs if gmacs and ceiling and ceiling.gmacs else None
        out.append(StageLimit(stage, model, count, inside, alone, inside / alone if alone > 0 else float("nan"), gmacs, pct))
    return out


def measure_ceiling(format: str, precision: str, threads: int | None, options: dict, runs: int = 10) -> Ceiling:
    """GMAC/s of the dense-conv ceiling models through ``format``'s adapter with the target's options (the best shape)."""
    int8 = precision == "int8"
    workload = " or ".join(f"{c['layers']}× 3×3 conv {c['channels']}ch {c['size']}²" for c in CEILING_SHAPES)
    workload += " INT8 (QDQ)" if int8 else " FP32"
    if format not in ("onnx", "openvino"):
        return Ceiling(None, workload, f"no ceiling model for {format}")
    best = 0.0
    try:
        with tempfile.TemporaryDirectory(prefix="echosr-ceiling-") as tmp:
            for i, shape in enumerate(CEILING_SHAPES):
                path = Path(tmp) / f"ceiling{i}.{'int8' if int8 else 'fp32'}.onnx"
                path.write_bytes(conv_chain(**shape, int8=int8))
                kwargs = dict(options)
                if format == "openvino":
                    path = _to_openvino_ir(path)
                    kwargs["cache"] = False
                engine = open_engine(path, format, threads, **kwargs)
                x = np.random.default_rng(0).random((1, shape["channels"], shape["size"], shape["size"]), dtype=np.float32)
                best = max(best, conv_chain_macs(**shape) / p50_ms(lambda: run_single(engine, x), runs) / 1e6)  # noqa: B023 (called in this iteration)
    except Exception as exc:  # a backend without an ONNX front end, an unsupported op: no ceiling, said why
        log.info("ceiling for %s %s not measured: %s", format, precision, exc)
        return Ceiling(None, workload, f"not measured: {exc}")
    note = "FP32 ceiling (no FP16 ceiling model)" if precision == "fp16" else ""
    return Ceiling(best, workload, note)


def target_limits(format: str, precision: str, profile, pipeline, timings: dict[str, list[float]], macs: dict,
                  runs: int) -> tuple[dict | None, list[dict]]:
    """A bench target's ceiling (None without a device profile) and its stages against it, as dicts.

    ``timings``: stage key → the pipeline's per-frame milliseconds; ``profile``: the target's
    DeviceProfile (its threads and adapter options measure the ceiling).
    """
    ceiling = None
    if profile is not None:
        ceiling = measure_ceiling(format, precision, profile.threads, profile.options_for(format))
    p50 = {k: float(np.median(v)) for k, v in timings.items()}
    limits = [asdict(s) for s in stage_limits(pipeline, p50, macs, ceiling, runs=runs)]
    return (asdict(ceiling) if ceiling else None), limits


def _to_openvino_ir(onnx_path: Path) -> Path:
    """The ONNX ceiling model as OpenVINO IR beside it (OpenVINO's own ONNX front end)."""
    from echosr_edge.errors import import_optional

    ov = import_optional("openvino", "openvino")
    xml = onnx_path.with_suffix(".xml")
    ov.save_model(ov.convert_model(str(onnx_path)), str(xml), compress_to_fp16=False)
    return xml


def limits_markdown(rows) -> list[str]:
    """Markdown lines: each target's ceiling and each stage against it and against its engine alone."""
    lines = ["", "## Stages against the machine's limit", "",
             "Ceiling: the same backend, precision and threads on a dense 3×3 convolution chain "
             "(bench/roofline.py). In-pipeline/alone: the stage's p50 inside the pipeline over the "
             "same engine's p50 timed alone.", "",
             "| target | ceiling GMAC/s | stage | model | GMAC | p50 in pipeline ms | p50 alone ms | in-pipeline/alone | GMAC/s | % of ceiling |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ceiling = r.ceiling.get("gmacs") if r.ceiling else None
        for s in r.limits:
            lines.append(
                f"| {r.format} {r.precision} | {_f(ceiling, '.1f')} | {s['stage']} | {s['model']} | "
                f"{_f(s['macs'] / 1e9 if s['macs'] else None, '.2f')} | {s['pipeline_p50_ms']:.2f} | {s['alone_p50_ms']:.2f} | "
                f"{s['pipeline_over_alone']:.2f}× | {_f(s['gmacs'], '.1f')} | {_f(s['pct_of_ceiling'], '.0f')} |"
            )
    return lines


def _f(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)
