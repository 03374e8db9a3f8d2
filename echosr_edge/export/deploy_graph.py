"""An exact rewrite of the exported FP32 ONNX graph for CPU kernels (every artifact is built from it).

A convolution with few output channels on a large map wastes most of each SIMD vector: oneDNN
(OpenVINO, PyTorch) and MLAS (ONNX Runtime) block output channels by 8 or 16, so SRResNet's last
9×9 conv, one grey channel at 256², runs at about 1/16 of the machine's rate. Measured on a
2-core AVX-512 EPYC, HR 256 (per-layer profiles, docs/runtime.md): that one conv was 32 % of SR
on ONNX Runtime FP32 and about half of OpenVINO INT8 SR (it is a layer kept in float).

It is computed instead as SpaceToDepth(r) → a conv with C_out·r² outputs and C_in·r² inputs on
the r-times coarser grid → DepthToSpace(r), with r such that C_out·r² fills a vector (r = 4 for
one channel, kernel 9 → 3). That is 1.8× the multiply-adds, all on full vectors; outputs
change only by floating-point summation order (3e-6 at most on the HR 256 SRResNet), and
export verification checks every artifact against the PyTorch model as before. The layer keeps the conv's node name,
so ignored scopes and float-layer reports still name it.

Rejected, measured: PRelu with one slope as LeakyRelu (ONNX Runtime then fuses it into the
conv) made FP32 SR about 12 % faster but cost the ONNX Runtime INT8 SR 7.5 dB of PSNR against
FP32 (48.9 → 41.4 dB in export verification, budget 40): its quantiser then quantises
every activation.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

SIMD_CHANNELS = 16  # output channels a vector holds (AVX-512 FP32); fewer than this is "narrow"
MIN_PIXELS = 64 * 64  # below this a narrow conv costs too little to matter
MIN_GAIN = 2.0  # rewrite only where vector lanes gained ÷ extra multiply-adds is at least this


def optimise_for_cpu(proto) -> list[str]:
    """Rewrite ``proto`` (an onnx ModelProto, in place); returns one line per conv rewritten."""
    import onnx

    inferred = onnx.shape_inference.infer_shapes(proto)
    shapes = {v.name: [d.dim_value or None for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)}
    done = _narrow_convs_on_coarse_grid(proto, shapes)
    if done:
        _drop_unused_initializers(proto.graph)
        onnx.checker.check_model(proto)
    return done


def _initializers(graph) -> dict:
    return {init.name: init for init in graph.initializer}


def _drop_unused_initializers(graph) -> None:
    used = {name for node in graph.node for name in node.input}
    keep = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


def _narrow_convs_on_coarse_grid(proto, shapes: dict[str, list]) -> list[str]:
    from onnx import helper, numpy_helper

    graph, inits = proto.graph, _initializers(proto.graph)
    done = []
    for node in list(graph.node):
        if node.op_type != "Conv" or node.input[1] not in inits:
            continue
        w = numpy_helper.to_array(inits[node.input[1]])
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        shape = shapes.get(node.input[0])
        if w.ndim != 4 or not shape or len(shape) != 4 or shape[2] is None or shape[3] is None:
            continue
        c_out, c_in, kh, kw = w.shape
        if c_out >= SIMD_CHANNELS or kh != kw or kh % 2 == 0 or shape[2] * shape[3] < MIN_PIXELS:
            continue
        if attrs.get("group", 1) != 1 or any(s != 1 for s in attrs.get("strides", [1, 1])) \
                or any(d != 1 for d in attrs.get("dilations", [1, 1])) or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") \
                or list(attrs.get("pads", [0] * 4)) != [kh // 2] * 4:
            continue
        r = int(np.ceil(np.sqrt(SIMD_CHANNELS / c_out)))
        if shape[2] % r or shape[3] % r or _gain(c_out, kh, r) < MIN_GAIN:
            continue
        coarse = _coarse_weights(w, r)
        bias = numpy_helper.to_array(inits[node.input[2]]) if len(node.input) > 2 and node.input[2] else None
        name = node.name or node.output[0]
        w_name, b_name = f"{name}.coarse_weight", f"{name}.coarse_bias"
        graph.initializer.append(numpy_helper.from_array(coarse, w_name))
        conv_inputs = [f"{name}.space_to_depth", w_name]
        if bias is not None:
            graph.initializer.append(numpy_helper.from_array(np.tile(bias, r * r).astype(np.float32), b_name))
            conv_inputs.append(b_name)
        half = coarse.shape[2] // 2
        new = [
            helper.make_node("SpaceToDepth", [node.input[0]], [conv_inputs[0]], name=f"{name}/SpaceToDepth", blocksize=r),
            helper.make_node("Conv", conv_inputs, [f"{name}.coarse"], name=name, kernel_shape=[coarse.shape[2]] * 2,
                             pads=[half] * 4),
            helper.make_node("DepthToSpace", [f"{name}.coarse"], list(node.output), name=f"{name}/DepthToSpace",
                             blocksize=r, mode="DCR"),
        ]
        idx = list(graph.node).index(node)
        del graph.node[idx]
        for k, n in enumerate(new):
            graph.node.insert(idx + k, n)
        done.append(f"{name}: {c_out}-channel {kh}×{kw} conv on a {r}× coarser grid ({c_out * r * r} channels)")
    return done


def _gain(c_out: int, k: int, r: int) -> float:
    """Lanes filled after ÷ before, over the coarse conv's multiply-adds ÷ the original's."""
    coarse_k = 2 * ((k // 2 + r - 1) // r) + 1
    lanes = min(SIMD_CHANNELS, c_out * r * r) / c_out
    return lanes / (r * r * coarse_k * coarse_k / (k * k))


def _coarse_weights(w: np.ndarray, r: int) -> np.ndarray:
    """Weights of the conv that, between SpaceToDepth(r) and DepthToSpace(r, DCR), equals ``w`` (same padding)."""
    c_out, c_in, k, _ = w.shape
    p = k // 2
    j = (p + r - 1) // r  # coarse reach on each side
    out = np.zeros((r * r * c_out, r * r * c_in, 2 * j + 1, 2 * j + 1), dtype=w.dtype)
    for ah in range(r):
        for aw in range(r):
            for bh in range(r):
                for bw in range(r):
                    for jh in range(-j, j + 1):
                        dy = r * jh + bh - ah + p
                        if not 0 <= dy < k:
                            continue
                        for jw in range(-j, j + 1):
                            dx = r * jw + bw - aw + p
                            if not 0 <= dx < k:
                                continue
                            o = (ah * r + aw) * c_out
                            c = (bh * r + bw) * c_in
                            out[o:o + c_out, c:c + c_in, jh + j, jw + j] = w[:, :, dy, dx]
    return out


def optimise_onnx_file(path) -> list[str]:
    """``optimise_for_cpu`` on the ONNX file at ``path``, saved in place; returns what was rewritten."""
    import onnx

    proto = onnx.load(str(path))
    done = optimise_for_cpu(proto)
    if done:
        onnx.save(proto, str(path))
        log.info("%s: %s", path, "; ".join(done))
    return done
