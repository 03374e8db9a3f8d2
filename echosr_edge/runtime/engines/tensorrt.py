"""TensorRT adapter: a serialized engine (.engine/.plan) run on an NVIDIA GPU or a Jetson DLA core.

TensorRT's Python API has no memory management of its own, so device buffers come from
cuda-python (``cuda.bindings.runtime``, or the older ``cuda.cudart``) or, failing that, pycuda.
An engine is tied to the GPU and TensorRT version that built it; a mismatch is reported as such.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import numpy as np

from echosr_edge.bundle.manifest import TensorSpec
from echosr_edge.errors import BundleError, EchoSRError, MissingExtra, import_optional

log = logging.getLogger(__name__)


class _CudaPython:
    """Buffers and a stream through cuda-python's runtime API."""

    name = "cuda-python"

    def __init__(self, cudart):
        self.rt = cudart
        self.stream = self._check(cudart.cudaStreamCreate())

    def _check(self, result):
        err, *values = result if isinstance(result, tuple) else (result,)
        if err != self.rt.cudaError_t.cudaSuccess:
            raise EchoSRError(f"CUDA call failed: {err}")
        return values[0] if len(values) == 1 else None

    @property
    def stream_handle(self) -> int:
        return int(self.stream)

    def alloc(self, nbytes: int) -> int:
        return int(self._check(self.rt.cudaMalloc(nbytes)))

    def free(self, ptr: int) -> None:
        self._check(self.rt.cudaFree(ptr))

    def to_device(self, ptr: int, host: np.ndarray) -> None:
        kind = self.rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._check(self.rt.cudaMemcpyAsync(ptr, host.ctypes.data, host.nbytes, kind, self.stream))

    def to_host(self, host: np.ndarray, ptr: int) -> None:
        kind = self.rt.cudaMemcpyKind.cudaMemcpyDeviceToHost
        self._check(self.rt.cudaMemcpyAsync(host.ctypes.data, ptr, host.nbytes, kind, self.stream))

    def synchronize(self) -> None:
        self._check(self.rt.cudaStreamSynchronize(self.stream))


class _PyCuda:
    """Buffers and a stream through pycuda (its autoinit makes the context)."""

    name = "pycuda"

    def __init__(self, driver):
        import pycuda.autoinit  # noqa: F401  (creates and pushes a context on the first GPU)

        self.driver = driver
        self.stream = driver.Stream()
        self._allocations: dict[int, object] = {}

    @property
    def stream_handle(self) -> int:
        return int(self.stream.handle)

    def alloc(self, nbytes: int) -> int:
        allocation = self.driver.mem_alloc(nbytes)
        self._allocations[int(allocation)] = allocation
        return int(allocation)

    def free(self, ptr: int) -> None:
        self._allocations.pop(ptr).free()

    def to_device(self, ptr: int, host: np.ndarray) -> None:
        self.driver.memcpy_htod_async(ptr, host, self.stream)

    def to_host(self, host: np.ndarray, ptr: int) -> None:
        self.driver.memcpy_dtoh_async(host, ptr, self.stream)

    def synchronize(self) -> None:
        self.stream.synchronize()


def cuda_api():
    """A CUDA buffer/stream helper from cuda-python, else pycuda; MissingExtra when neither is installed."""
    for module in ("cuda.bindings.runtime", "cuda.cudart"):
        try:
            cudart = importlib.import_module(module)
        except ImportError:
            continue
        return _CudaPython(cudart)
    try:
        import pycuda.driver
    except ImportError as exc:
        raise MissingExtra("cuda-python", "jetson") from exc
    return _PyCuda(pycuda.driver)


class TensorRTEngine:
    """A deserialized TensorRT engine with device buffers sized on demand."""

    def __init__(self, path: Path, threads: int | None = None, dla_core: int | None = None):
        trt = import_optional("tensorrt", "jetson")
        path = Path(path)
        self.cuda = cuda_api()
        self._trt_logger = trt.Logger(trt.Logger.WARNING)
        runtime = trt.Runtime(self._trt_logger)
        if dla_core is not None:
            runtime.DLA_core = int(dla_core)
        engine = runtime.deserialize_cuda_engine(path.read_bytes())
        if engine is None:
            raise BundleError(
                f"{path.name}: TensorRT {trt.__version__} cannot deserialize it (an engine only runs on the "
                "GPU model and TensorRT version that built it; rebuild it on this device)"
            )
        self._runtime, self.engine = runtime, engine
        self.context = engine.create_execution_context()
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        self._dtypes = {n: np.dtype(trt.nptype(engine.get_tensor_dtype(n))) for n in names}
        is_input = {n: engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names}
        self.inputs = [self._spec(n) for n in names if is_input[n]]
        self.outputs = [self._spec(n) for n in names if not is_input[n]]
        self._buffers: dict[str, tuple[int, int]] = {}  # name → (device pointer, bytes)

    def _spec(self, name: str) -> TensorSpec:
        shape = tuple(None if d < 0 else int(d) for d in self.engine.get_tensor_shape(name))
        return TensorSpec(name=name, shape=shape, dtype=self._dtypes[name].name)

    def _device_buffer(self, name: str, nbytes: int) -> int:
        ptr, size = self._buffers.get(name, (0, 0))
        if size < nbytes:
            if ptr:
                self.cuda.free(ptr)
            ptr, size = self.cuda.alloc(nbytes), nbytes
            self._buffers[name] = (ptr, size)
        return ptr

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        staged = []  # host arrays must live until the stream is synchronised
        for spec in self.inputs:
            x = np.ascontiguousarray(feeds[spec.name], dtype=self._dtypes[spec.name])
            if not self.context.set_input_shape(spec.name, tuple(x.shape)):
                raise EchoSRError(f"TensorRT engine refuses input {spec.name!r} of shape {x.shape}")
            ptr = self._device_buffer(spec.name, x.nbytes)
            self.cuda.to_device(ptr, x)
            self.context.set_tensor_address(spec.name, ptr)
            staged.append(x)
        outputs: dict[str, np.ndarray] = {}
        for spec in self.outputs:
            host = np.empty(tuple(self.context.get_tensor_shape(spec.name)), dtype=self._dtypes[spec.name])
            self.context.set_tensor_address(spec.name, self._device_buffer(spec.name, max(host.nbytes, 1)))
            outputs[spec.name] = host
        if not self.context.execute_async_v3(self.cuda.stream_handle):
            raise EchoSRError("TensorRT failed to run the engine")
        for name, host in outputs.items():
            self.cuda.to_host(host, self._buffers[name][0])
        self.cuda.synchronize()
        return {name: host.astype(np.float32, copy=False) for name, host in outputs.items()}

    def close(self) -> None:
        """Free the device buffers (also done when the engine is garbage-collected)."""
        for ptr, _ in self._buffers.values():
            try:
                self.cuda.free(ptr)
            except EchoSRError as exc:  # a context already torn down at interpreter exit
                log.debug("freeing a TensorRT buffer failed: %s", exc)
        self._buffers.clear()

    def __del__(self):
        if getattr(self, "_buffers", None):
            self.close()
