"""Hypothesis strategies that damage a valid file the ways real files get damaged.

Mutations of a valid file reach far deeper into a reader than random bytes: truncation (a copy
cut short), bit flips (bad media), overwritten or inserted runs, and header-field changes —
a number in a text header replaced by an extreme one, or an integer field of a binary header
overwritten with a boundary value (0, -1, 2**31, …).
"""

from __future__ import annotations

import re
import struct

from hypothesis import strategies as st

_BOUNDARY_INTS = (0, 1, 2, 3, 7, 8, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, 2**64 - 1)
_TEXT_VALUES = (
    b"0", b"-1", b"1", b"65536", b"2147483648", b"99999999999999999999", b"1e308", b"nan", b"inf", b"-0", b"",
    b"x", b"1 2 3 4", b"\x00", "²".encode(), "٣".encode(), b"Infinity", b"-Infinity", b"NaN", b"9" * 5000,
    b"[]", b"{}", b"null", b'"1"', b"true",
)
_NUMBER = re.compile(rb"-?\d+(\.\d+)?")
_HEADER_SPAN = 1024  # binary header fields live near the start of every format here


def _truncate(data: bytes, draw) -> bytes:
    return data[: draw(st.integers(0, max(len(data) - 1, 0)))]


def _flip(data: bytes, draw) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(out) - 1))
        out[i] ^= 1 << draw(st.integers(0, 7))
    return bytes(out)


def _overwrite(data: bytes, draw) -> bytes:
    i = draw(st.integers(0, len(data)))
    run = draw(st.binary(min_size=1, max_size=16))
    return data[:i] + run + data[i + len(run) :]


def _insert(data: bytes, draw) -> bytes:
    i = draw(st.integers(0, len(data)))
    return data[:i] + draw(st.binary(min_size=1, max_size=64)) + data[i:]


def _delete(data: bytes, draw) -> bytes:
    i = draw(st.integers(0, len(data)))
    return data[:i] + data[i + draw(st.integers(1, 64)) :]


def _binary_field(data: bytes, draw) -> bytes:
    """Overwrite a 1/2/4/8-byte integer near the start with a boundary value."""
    width = draw(st.sampled_from((1, 2, 4, 8)))
    limit = min(len(data), _HEADER_SPAN) - width
    if limit < 0:
        return data
    i = draw(st.integers(0, limit))
    value = draw(st.sampled_from(_BOUNDARY_INTS)) % (1 << (8 * width))
    order = draw(st.sampled_from("<>"))
    packed = struct.pack(order + {1: "B", 2: "H", 4: "I", 8: "Q"}[width], value)
    return data[:i] + packed + data[i + width :]


def _text_field(data: bytes, draw) -> bytes:
    """Replace one number of a text header (MetaImage, cfg, JSON) with an extreme or broken value."""
    numbers = list(_NUMBER.finditer(data[:65536]))
    if not numbers:
        return data
    m = draw(st.sampled_from(numbers))
    value = draw(st.sampled_from(_TEXT_VALUES) | st.integers(-(2**70), 2**70).map(lambda n: str(n).encode()))
    return data[: m.start()] + value + data[m.end() :]


def _drop_line(data: bytes, draw) -> bytes:
    lines = data.split(b"\n")
    if len(lines) < 2:
        return data
    del lines[draw(st.integers(0, len(lines) - 1))]
    return b"\n".join(lines)


def _nest(data: bytes, draw) -> bytes:
    """Deep nesting where a value starts (JSON readers recurse)."""
    i = draw(st.integers(0, len(data)))
    return data[:i] + draw(st.sampled_from((b"[", b'{"a":'))) * draw(st.sampled_from((50, 5000, 50000))) + data[i:]


_OPERATIONS = (_nest, _truncate, _flip, _overwrite, _insert, _delete, _binary_field, _text_field, _drop_line)


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A seed damaged by one to four mutations, or (one time in ten) arbitrary bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=2048))
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        data = draw(st.sampled_from(_OPERATIONS))(data, draw)
    return data
