"""A few ONNX graphs written straight as protobuf bytes, so the runtime needs no ``onnx`` package.

Only what the roofline's ceiling models need: a chain of 3×3 convolutions, FP32 or INT8 in the
QDQ form (QuantizeLinear/DequantizeLinear around each Conv) that ONNX Runtime fuses into integer
kernels and OpenVINO turns into INT8 convolutions. Field numbers follow onnx.proto (IR version 8).
"""

from __future__ import annotations



import numpy as np

FLOAT, UINT8, INT8 = 1, 2, 3  # TensorProto.DataType
_ATTR_INTS = 7  # AttributeProto.AttributeType.INTS


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | str | int) -> bytes:
    """One protobuf field: varint for ints, length-delimited for bytes, str and messages."""
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def _tensor(name: str, array: np.ndarray, data_type: int) -> bytes:
    dims = b"".join(_field(1, int(d)) for d in array.shape)
    return dims + _field(2, data_type) + _field(8, name) + _field(9, np.ascontiguousarray(array).tobytes())


def _value_info(name: str, shape: tuple[int, ...], elem_type: int = FLOAT) -> bytes:
    dims = b"".join(_field(1, _field(1, int(d))) for d in shape)
    tensor_type = _field(1, elem_type) + _field(2, dims)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _node(op: str, inputs: list[str], outputs: list[str], ints: dict[str, list[int]] | None = None) -> bytes:
    body = b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs) + _field(4, op)
    for key, values in (ints or {}).items():
        body += _field(5, _field(1, key) + b"".join(_field(8, v) for v in values) + _field(20, _ATTR_INTS))
    return body


def conv_chain(channels: int = 64, size: int = 64, layers: int = 4, int8: bool = False, seed: int = 0) -> bytes:
    """ONNX model bytes: 1×C×S×S float32 in → ``layers`` 3×3 convs (C→C, padding 1) → out.

    ``int8`` wraps every Conv in QDQ (uint8 activations, int8 per-tensor weights). MACs per call:
    ``layers × C² × 9 × S²`` (see ``conv_chain_macs``).
    """
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    scale = np.array(0.05, dtype=np.float32)
    inits.append(_tensor("s", scale, FLOAT))
    inits.append(_tensor("zp_u8", np.array(128, dtype=np.uint8), UINT8))
    inits.append(_tensor("zp_i8", np.array(0, dtype=np.int8), INT8))
    current = "x"
    for i in range(layers):
        weight = rng.standard_normal((channels, channels, 3, 3)).astype(np.float32) * 0.05
        bias = np.zeros(channels, dtype=np.float32)
        inits.append(_tensor(f"b{i}", bias, FLOAT))
        if int8:
            inits.append(_tensor(f"wq{i}", np.clip(np.round(weight / 0.002), -127, 127).astype(np.int8), INT8))
            inits.append(_tensor(f"ws{i}", np.array(0.002, dtype=np.float32), FLOAT))
            nodes.append(_node("QuantizeLinear", [current, "s", "zp_u8"], [f"q{i}"]))
            nodes.append(_node("DequantizeLinear", [f"q{i}", "s", "zp_u8"], [f"dq{i}"]))
            nodes.append(_node("DequantizeLinear", [f"wq{i}", f"ws{i}", "zp_i8"], [f"w{i}"]))
            conv_in = f"dq{i}"
        else:
            inits.append(_tensor(f"w{i}", weight, FLOAT))
            conv_in = current
        out = "y" if i == layers - 1 and not int8 else f"c{i}"
        nodes.append(_node("Conv", [conv_in, f"w{i}", f"b{i}"], [out], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}))
        current = out
    if int8:  # the last output quantised too, as an INT8 model's activations are
        nodes.append(_node("QuantizeLinear", [current, "s", "zp_u8"], ["yq"]))
        nodes.append(_node("DequantizeLinear", ["yq", "s", "zp_u8"], ["y"]))
    shape = (1, channels, size, size)
    graph = (
        b"".join(_field(1, n) for n in nodes)
        + _field(2, "ceiling")
        + b"".join(_field(5, t) for t in inits)
        + _field(11, _value_info("x", shape))
        + _field(12, _value_info("y", shape))
    )
    opset = _field(1, "") + _field(2, 17)
    return _field(1, 8) + _field(2, "echosr-edge") + _field(7, graph) + _field(8, opset)


def conv_chain_macs(channels: int = 64, size: int = 64, layers: int = 4) -> int:
    """Multiply-accumulates of one ``conv_chain`` call."""
    return layers * channels * channels * 9 * size * size



