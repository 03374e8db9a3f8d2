"""Keep third-party progress bars and prints (NNCF, ONNX Runtime's calibrators) off stdout.

The library never prints (only the CLI does); what these tools print goes to the log at DEBUG.
"""

from __future__ import annotations

import contextlib
import io
import logging
from typing import Iterator

log = logging.getLogger(__name__)


@contextlib.contextmanager
def quiet_stdout(tool: str) -> Iterator[None]:
    """Capture stdout while ``tool`` runs; NNCF's own logger is held at WARNING meanwhile."""
    nncf_logger, previous = None, None
    try:
        from nncf.common.logging import nncf_logger

        previous = nncf_logger.level
        nncf_logger.setLevel(logging.WARNING)
    except ImportError:
        pass
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        if nncf_logger is not None:
            nncf_logger.setLevel(previous)
        if buffer.getvalue().strip():
            log.debug("%s printed:\n%s", tool, buffer.getvalue().rstrip())
