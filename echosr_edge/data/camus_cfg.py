"""CAMUS ``Info_{2CH,4CH}.cfg`` files: ``Key: value`` lines per view and patient.

Both releases carry ED, ES, NbFrame, Sex, Age and ImageQuality; the 2019 release adds
LVedv/LVesv/LVef (absent for its testing patients), the 2023 release EF and FrameRate.
"""

from __future__ import annotations

import re
from pathlib import Path

from echosr_edge.errors import DataError

REQUIRED_KEYS = ("ED", "ES", "ImageQuality")
_QUALITY_NAMES = {"good": "good", "medium": "medium", "poor": "poor"}
_FRAME_INDEX_KEYS = ("ED", "ES", "NbFrame")
_FRAME_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII digits only: str.isdigit() also takes '²'
MAX_CFG_BYTES = 1 << 20  # a CAMUS cfg is ~150 bytes


def parse_info_cfg(path: Path) -> dict[str, str]:
    """Read one Info cfg file into a dict; raise DataError naming the file and the problem.

    ``ImageQuality`` comes back lower-case ('good', 'medium', 'poor'); ED, ES and NbFrame
    must be positive integers (CAMUS counts frames from 1). Values stay strings.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_CFG_BYTES:
            raise DataError(path, f"{path.stat().st_size} bytes, over the {MAX_CFG_BYTES}-byte limit for a cfg file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(path, "file not found") from exc
    except UnicodeDecodeError as exc:
        raise DataError(path, "not a text cfg file") from exc
    except OSError as exc:
        raise DataError(path, f"cannot read: {exc.strerror}") from exc
    info: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise DataError(path, f"line {number} is not 'Key: value': {line[:60]!r}")
        info[key.strip()] = value.strip()
    missing = [k for k in REQUIRED_KEYS if k not in info]
    if missing:
        raise DataError(path, f"missing key(s): {', '.join(missing)}")
    quality = info["ImageQuality"].lower()
    if quality not in _QUALITY_NAMES:
        raise DataError(
            path, f"unknown ImageQuality {info['ImageQuality']!r} (expected Good, Medium or Poor)"
        )
    info["ImageQuality"] = _QUALITY_NAMES[quality]
    for key in _FRAME_INDEX_KEYS:
        if key in info and not (_FRAME_NUMBER.fullmatch(info[key]) and int(info[key]) >= 1):
            raise DataError(path, f"{key} must be a frame number counted from 1, got {info[key][:20]!r}")
    return info


def format_info_cfg(info: dict[str, object]) -> str:
    """Write a cfg dict in CAMUS's layout (quality capitalised as the dataset does)."""
    lines = []
    for key, value in info.items():
        if key == "ImageQuality":
            value = str(value).capitalize()
        lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"
