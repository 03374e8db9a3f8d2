"""Sensitive layers found by graph position: the convolutions nearest the input and the output.

SR networks lose most to INT8 in their first convolution (one grey channel in, where the
quantisation grid is coarsest against the signal) and their last (it writes the pixels). They
are found by walking the graph from its inputs and back from its outputs, never by layer name,
so the rule holds for any architecture that has convolutions.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Callable, Hashable, Iterable

FLOAT_LAYER_POLICIES: tuple[str, ...] = ("auto", "first-last", "none")


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


def onnx_first_last_convs(model_path: Path) -> list[str]:
    """Names of the Conv nodes nearest the graph input and nearest the graph output (ONNX)."""
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
    return _unique(nodes[i].name for i in first + last)


def openvino_first_last_convs(model) -> list[str]:
    """Friendly names of the Convolution ops nearest the inputs and the outputs of an ``ov.Model``."""
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
    return _unique(first + last)


def wants_float_layers(policy: str, role: str) -> bool:
    """Whether ``policy`` keeps the first and last convolutions in float for a model of ``role``.

    'auto' keeps them for SR models only (their output is pixels; a classifier's is an argmax).
    """
    if policy not in FLOAT_LAYER_POLICIES:
        raise ValueError(f"unknown float-layer policy {policy!r}; known: {', '.join(FLOAT_LAYER_POLICIES)}")
    return policy == "first-last" or (policy == "auto" and role == "sr")


def _unique(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        if n not in out:
            out.append(n)
    return out
