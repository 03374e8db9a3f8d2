"""Projected frame times on ARM64 boards: MACs per frame × an assumed achieved GMAC/s per core class.

Nothing here is measured on a board: the peaks follow from each core's NEON width (FP32 FMA per
cycle) and its int8 dot-product instructions (SDOT, ARMv8.2), the efficiencies are assumptions
(see docs/packaging.md), and the MACs come from a bundle's manifest (``notes.macs``) or the
study's models at HR 256. Replace the projection with ``echosr-edge bench`` on the board: it
prints each stage's achieved GMAC/s and the ceiling measured there.

    python benchmarks/arm_projection.py [--bundle B] [--realtime-bundle R]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# core class: (FP32 MAC/cycle/core, INT8 MAC/cycle/core). 2×128-bit NEON pipes → 8 FP32 FMA;
# SDOT does 16 int8 MACs per 128-bit instruction. The A72 has no SDOT: widening multiplies, ~2× FP32.
CORES = {"cortex-a76": (8, 32), "cortex-a78ae": (8, 32), "cortex-a72": (8, 16), "cortex-a55": (4, 16)}
BOARDS = [  # name, core class, cores, GHz
    ("Raspberry Pi 5 (BCM2712)", "cortex-a76", 4, 2.4),
    ("Orange Pi 5 / Rock 5 (RK3588, big cores)", "cortex-a76", 4, 2.4),
    ("Raspberry Pi 4 (BCM2711)", "cortex-a72", 4, 1.8),
    ("Orange Pi 3B (RK3566)", "cortex-a55", 4, 1.8),
]
EFFICIENCY = {"fp32": 0.40, "int8": 0.30}  # achieved / peak on the study's convolutions (assumed)
# GMAC per frame at HR 256 (SR 64→256, classifiers at 224; realtime: RFDN 24×2, classifiers at 64).
DEFAULT_GMAC = {"sr": 8.364, "view": 1.735, "phase": 1.735}
REALTIME_GMAC = {"sr": 0.209, "view": 0.142, "phase": 0.142}


def gmac_of(bundle: Path | None, fallback: dict[str, float]) -> float:
    if bundle is None:
        return sum(fallback.values())
    macs = json.loads((Path(bundle) / "manifest.json").read_text())["notes"]["macs"]
    return sum(m["total"] for m in macs.values()) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, help="default-profile bundle whose notes.macs to use")
    parser.add_argument("--realtime-bundle", type=Path)
    args = parser.parse_args()
    default, realtime = gmac_of(args.bundle, DEFAULT_GMAC), gmac_of(args.realtime_bundle, REALTIME_GMAC)
    print(f"| board | cores | achieved GMAC/s FP32 / INT8 (assumed) | default ({default:.2f} GMAC) FP32 | default INT8 | realtime ({realtime:.2f} GMAC) INT8 |")
    print("|---|---|---|---|---|---|")
    for name, core, n, ghz in BOARDS:
        fp32, int8 = (n * ghz * per * EFFICIENCY[p] for per, p in zip(CORES[core], ("fp32", "int8")))
        cell = lambda gmac, rate: f"{1000 * gmac / rate:.0f} ms ({rate / gmac:.1f} fps)"  # noqa: E731
        print(f"| {name} | {n}× {core} @ {ghz} GHz | {fp32:.0f} / {int8:.0f} | {cell(default, fp32)} | {cell(default, int8)} | {cell(realtime, int8)} |")


if __name__ == "__main__":
    main()
