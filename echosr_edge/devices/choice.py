"""Which CPU backend ``--device auto`` tries first, and why: by what is installed and the CPU's features.

The vendor's name decides nothing. On x86-64, OpenVINO's CPU plugin has JIT kernels for each SIMD
level (AVX2, AVX-512, VNNI, AMX) and ran the pipeline faster than ONNX Runtime at INT8 on the x86
CPUs measured, AMD included (docs/runtime.md), so it goes first wherever its CPU plugin loads. On
ARM64 boards ONNX Runtime goes first: its aarch64 kernels are the path measured and packaged for
them (docs/packaging.md); OpenVINO's ARM plugin stays a fallback.
"""

from __future__ import annotations

# Best first: the first flag present names the kernels OpenVINO will use.
X86_KERNEL_FLAGS: tuple[tuple[str, str], ...] = (
    ("amx_int8", "AMX"),
    ("avx512_vnni", "AVX-512 VNNI"),
    ("avx_vnni", "AVX-VNNI"),
    ("avx512f", "AVX-512"),
    ("avx2", "AVX2"),
    ("sse4_2", "SSE4.2"),
)

# Board model (from the device tree) → its big core class, for the speed projection.
ARM_BOARDS: tuple[tuple[str, str], ...] = (
    ("raspberry pi 5", "cortex-a76"),
    ("raspberry pi 4", "cortex-a72"),
    ("rk3588", "cortex-a76"),
    ("orange pi 5", "cortex-a76"),
    ("rock 5", "cortex-a76"),
    ("orin", "cortex-a78ae"),
    ("orange pi 3b", "cortex-a55"),
    ("rk3566", "cortex-a55"),
)


def is_arm64(facts) -> bool:
    """True on a 64-bit ARM CPU (an aarch64 board or an ARM server)."""
    return str(getattr(facts, "cpu_arch", "")).lower() in ("aarch64", "arm64")


def arm_core_class(facts) -> str:
    """The ARM core class of the machine's board ('cortex-a76', ...), 'unknown' when not known."""
    text = f"{getattr(facts, 'board_model', None) or ''} {facts.cpu_model}".lower()
    return next((core for key, core in ARM_BOARDS if key in text), "unknown")


def simd_level(facts) -> str:
    """The best x86 SIMD level the CPU reports (e.g. 'AVX-512 VNNI'), '' when none is known."""
    flags = getattr(facts, "cpu_flags", frozenset())
    return next((name for flag, name in X86_KERNEL_FLAGS if flag in flags), "")


def cpu_backend_order(facts) -> tuple[tuple[str, ...], str]:
    """The CPU device profiles to try, best first, and the reason for that order."""
    openvino_cpu = bool(facts.openvino) and "CPU" in facts.openvino_devices
    cpu = facts.cpu_model or "this CPU"
    if not openvino_cpu:
        why = "OpenVINO is not installed" if not facts.openvino else "OpenVINO's CPU plugin found no usable CPU"
        return ("cpu",), f"{why}, so ONNX Runtime runs on {cpu}"
    if is_arm64(facts):
        return ("cpu", "intel-cpu"), (
            f"ARM64 ({arm_core_class(facts)}): ONNX Runtime's aarch64 kernels first, OpenVINO as the fallback"
        )
    level = simd_level(facts)
    return ("intel-cpu", "cpu"), (
        f"OpenVINO is installed and its CPU plugin has {level or 'x86'} kernels for {cpu}; "
        "it ran the pipeline faster than ONNX Runtime at INT8 on the x86 CPUs measured, AMD included (docs/runtime.md)"
    )
