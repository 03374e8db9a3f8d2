"""The artifact vocabulary, defined once: formats, precisions, and what each format needs.

One table, as Ultralytics' ``export_formats()``: the schema validates against it, the exporter
builds its targets from it, the runtime looks its adapters up in it, and the CLI offers its
names. Adding a backend is a row here plus its adapter module.

"Format" is what an artifact file is (``onnx``, ``openvino``, ``tensorrt``); the exporter's
``--targets`` names formats. A *device profile* (``devices.profiles``: cpu, intel-cpu, jetson,
cuda) is a kind of device and the formats it runs; a *bundle profile* (``default``,
``realtime``) is a set of the bundle's models. The three words are never used for each other.
"""

from __future__ import annotations

from dataclasses import dataclass

PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class Format:
    """One artifact format: its file suffix, the runtime adapter, the package and extra it needs."""

    name: str
    suffix: str
    adapter: str  # "module:factory" of the runtime engine adapter
    package: str  # the Python package the adapter imports
    extra: str  # pip install "echosr-edge[extra]"
    description: str


FORMAT_TABLE: tuple[Format, ...] = (
    Format("onnx", ".onnx", "echosr_edge.runtime.engines.onnxruntime:OnnxRuntimeEngine", "onnxruntime", "core",
           "ONNX, run by ONNX Runtime (any CPU; CUDA with onnxruntime-gpu)"),
    Format("openvino", ".xml", "echosr_edge.runtime.engines.openvino:OpenVINOEngine", "openvino", "openvino",
           "OpenVINO IR (.xml + .bin), x86 CPUs"),
    Format("tensorrt", ".engine", "echosr_edge.runtime.engines.tensorrt:TensorRTEngine", "tensorrt", "jetson",
           "TensorRT engine, built for one GPU and TensorRT version"),
)
FORMATS: tuple[str, ...] = tuple(f.name for f in FORMAT_TABLE)
SUFFIX: dict[str, str] = {f.name: f.suffix for f in FORMAT_TABLE}
ADAPTERS: dict[str, str] = {f.name: f.adapter for f in FORMAT_TABLE}


def format_info(name: str) -> Format:
    """The row of format ``name``; KeyError for an unknown one (callers validate names first)."""
    return next(f for f in FORMAT_TABLE if f.name == name)
