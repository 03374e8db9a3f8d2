"""Fuzz suite settings: a hypothesis profile small enough for CI (the whole suite in about a minute).

ECHOSR_FUZZ_EXAMPLES raises the examples per reader for a longer local run; the long,
coverage-guided run is benchmarks/fuzz_readers.py.
"""

from __future__ import annotations

import os

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="fuzz tests need the 'dev' extra (hypothesis)")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "echosr-fuzz",
    max_examples=int(os.environ.get("ECHOSR_FUZZ_EXAMPLES", "100")),
    deadline=None,  # hangs are caught by the alarm in the test itself, which also interrupts them
    database=None,  # no .hypothesis/ folder in the worktree; failures print their reproducing input
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    derandomize=os.environ.get("ECHOSR_FUZZ_RANDOM") is None,  # CI is repeatable; set it to explore
    print_blob=True,
)


@pytest.fixture(autouse=True)
def _quiet_pydicom():
    """Damaged DICOM makes pydicom log and warn on every element; the tests judge outcomes, not logs."""
    import logging
    import warnings

    logger = logging.getLogger("pydicom")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
    logger.setLevel(level)
