"""A binary file whose ``read(n)`` never asks for more bytes than the file has left.

Python's file objects allocate the whole ``n`` before reading, so a reader that trusts a length
field (pydicom reading an element that declares 4 GB, nibabel reading a NIfTI extension) would
allocate gigabytes for a 1 kB file. Handing those libraries a CappedFile bounds every read by
the file's size without reading the file whole (large cines stay on disk).
"""

from __future__ import annotations

import os
from pathlib import Path


class CappedFile:
    """Read-only binary file; ``read(n)`` is capped at the bytes left. Other methods pass through."""

    def __init__(self, path: Path | str):
        self._fh = open(path, "rb")
        self.name = str(path)
        self._size = os.fstat(self._fh.fileno()).st_size

    def read(self, n: int | None = -1) -> bytes:
        left = max(0, self._size - self._fh.tell())
        return self._fh.read(left if n is None or n < 0 or n > left else n)

    def readinto(self, buffer) -> int:
        return self._fh.readinto(buffer)  # bounded by the caller's own buffer

    def __getattr__(self, name: str):
        return getattr(self._fh, name)

    def __enter__(self) -> "CappedFile":
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()
