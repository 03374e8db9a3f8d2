"""The per-user cache folder: compiled OpenVINO models, start-up checks that passed on this machine.

``$ECHOSR_CACHE_DIR``, else ``$XDG_CACHE_HOME/echosr-edge``, else ``~/.cache/echosr-edge``. Every
entry is keyed on what produced it, so a stale one is never read; an unwritable folder only
costs the time the cache would have saved.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def user_cache_root() -> Path:
    """``$ECHOSR_CACHE_DIR``, else ``$XDG_CACHE_HOME/echosr-edge``, else ``~/.cache/echosr-edge``."""
    if os.environ.get("ECHOSR_CACHE_DIR"):
        return Path(os.environ["ECHOSR_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "echosr-edge"


def cache_folder(name: str) -> Path | None:
    """``user_cache_root()/name``, created on first use; None when it cannot be written."""
    folder = user_cache_root() / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.info("no %s cache (%s)", name, exc)
        return None
    return folder if os.access(folder, os.W_OK) else None
