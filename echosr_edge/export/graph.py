"""Sensitive layers found by graph position: the convolutions INT8 hurts most in an SR network.

SR networks lose most to INT8 in three places: the first convolution (one grey channel in,
where the quantisation grid is coarsest against the signal), the last (it writes the pixels),
and the first upsampling convolution, the one feeding the first pixel shuffle (DepthToSpace): it
takes the sum of the long skip connection, the widest-ranged activation in the network. On the
demo's SRResNet (NNCF MinMax, 48 held-out frames) keeping the first and last in float gave
37.9 dB PSNR against FP32; adding the first upsampling convolution gave 49.8 dB, and NNCF's
accuracy-controlled search, asked for 41 dB, reverted exactly that layer. They are found by
walking the graph (from the inputs, back from the outputs, back from the first DepthToSpace),
never by layer name, so the rule holds for any architecture with convolutions.

Rules: 'sensitive' (first, first upsampling, last), 'first-last', 'none'.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Callable, Hashable, Iterable

from echosr_edge.errors import ConfigError

FLOAT_LAYER_POLICIES: tuple[str, ...] = ("auto", "sensitive", "first-last", "none")
FLOAT_LAYER_RULES: tuple[str, ...] = ("sensitive", "first-last", "none")


def _nearest(starts: Iterable[Hashable], step: Callable[[Hashable], Iterable[Hashable]], is_conv: Callable[[Hashable], bool]) -> list:
    """Breadth-first from ``starts``: the convolutions reached first (not walking past them)."""
    seen, queue, found = set(), deque(starts), []
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        if is_conv(node):
            found.append(node)
            continue
        queue.extend(step(node))
    return found


def _onnx_positions(model_path: Path):
    """(first, first-upsampling, last) Conv node indices of an ONNX graph, and a namer for them."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    nodes = list(graph.node)
    consumers: dict[str, list[int]] = {}
    producer: dict[str, int] = {}
    for i, n in enumerate(nodes):
        for t in n.input:
            consumers.setdefault(t, []).append(i)
        for t in n.output:
            producer[t] = i
    inputs = {i.name for i in graph.input} - {init.name for init in graph.initializer}

    def forward(i):
        return [j for t in nodes[i].output for j in consumers.get(t, [])]

    def backward(i):
        return [producer[t] for t in nodes[i].input if t in producer]

    def is_conv(i):
        return nodes[i].op_type in ("Conv", "ConvTranspose")

    first = _nearest([j for t in inputs for j in consumers.get(t, [])], forward, is_conv)
    last = _nearest([producer[o.name] for o in graph.output if o.name in producer], backward, is_conv)
    shuffles = [i for i, n in enumerate(nodes) if n.op_type == "DepthToSpace"]
    upsampling = _nearest(backward(shuffles[0]), backward, is_conv) if shuffles else []
    return first, upsampling, last, (lambda found: _unique(nodes[i].name for i in found))


def onnx_first_last_convs(model_path: Path) -> list[str]:
    """Names of the Conv nodes nearest the graph input and nearest the graph output (ONNX)."""
    return onnx_float_convs(model_path, "first-last")


def onnx_float_convs(model_path: Path, rule: str) -> list[str]:
    """Names of the ONNX Conv nodes that ``rule`` ('sensitive', 'first-last', 'none') keeps in float."""
    if _check_rule(rule) == "none":
        return []
    first, upsampling, last, names = _onnx_positions(model_path)
    return names(first + (upsampling if rule == "sensitive" else []) + last)


def openvino_first_last_convs(model) -> list[str]:
    """Friendly names of the Convolution ops nearest the inputs and the outputs of an ``ov.Model``."""
    return openvino_float_convs(model, "first-last")


def openvino_float_convs(model, rule: str) -> list[str]:
    """Friendly names of the Convolution ops of an ``ov.Model`` that ``rule`` keeps in float."""
    if _check_rule(rule) == "none":
        return []
    ops = {op.get_friendly_name(): op for op in model.get_ordered_ops()}

    def forward(name):
        op = ops[name]
        return [t.get_node().get_friendly_name() for out in op.outputs() for t in out.get_target_inputs()]

    def backward(name):
        return [i.get_source_output().get_node().get_friendly_name() for i in ops[name].inputs()]

    def is_conv(name):
        return ops[name].get_type_name() in ("Convolution", "GroupConvolution", "ConvolutionBackpropData")

    first = _nearest([p.get_friendly_name() for p in model.get_parameters()], forward, is_conv)
    last = _nearest([r.get_friendly_name() for r in model.get_results()], backward, is_conv)
    upsampling: list[str] = []
    if rule == "sensitive":
        shuffles = [op.get_friendly_name() for op in model.get_ordered_ops() if op.get_type_name() == "DepthToSpace"]
        upsampling = _nearest(backward(shuffles[0]), backward, is_conv) if shuffles else []
    return _unique(first + upsampling + last)


def float_layer_rule(policy: str, role: str) -> str:
    """The rule ('sensitive', 'first-last' or 'none') that ``policy`` applies to a model of ``role``.

    'auto' is 'sensitive' for SR models and 'none' for classifiers (their output is an argmax,
    which INT8 on every layer keeps: 100 % agreement on the demo's held-out frames).
    """
    if policy not in FLOAT_LAYER_POLICIES:
        raise ConfigError(f"unknown float-layer policy {policy!r}; known: {', '.join(FLOAT_LAYER_POLICIES)}")
    if policy == "auto":
        return "sensitive" if role == "sr" else "none"
    return policy


def _check_rule(rule: str) -> str:
    if rule not in FLOAT_LAYER_RULES:
        raise ConfigError(f"unknown float-layer rule {rule!r}; known: {', '.join(FLOAT_LAYER_RULES)}")
    return rule


def _unique(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        if n not in out:
            out.append(n)
    return out
