"""Every reader, fed damaged and arbitrary bytes, gives a result or the product's own error.

Never another exception, never a hang (an alarm interrupts a read that takes over
HANG_SECONDS), never an allocation of MEMORY_GROWTH_MB or more: traced by tracemalloc (Python
objects and numpy arrays) and, for native decoders, seen as growth of the process's peak RSS
(the readers check header-declared sizes against the file before allocating).
"""

from __future__ import annotations

import importlib.util
import resource
import signal
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.mutations import mutated
from tests.fuzz.targets import TARGETS, run_contained

HANG_SECONDS = 10
MEMORY_GROWTH_MB = 256


class ReaderHang(Exception):
    """A reader ran past HANG_SECONDS on one input."""


@contextmanager
def _alarm(seconds: float):
    def _raise(signum, frame):
        raise ReaderHang(f"a read took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


_seed_cache: dict[str, list[bytes]] = {}


def _seeds(name: str, workdir: Path) -> list[bytes]:
    if name not in _seed_cache:
        _seed_cache[name] = TARGETS[name].seeds(workdir)
    return _seed_cache[name]


def _skip_if_missing(name: str) -> None:
    needs = TARGETS[name].needs
    if needs and importlib.util.find_spec(needs) is None:
        pytest.skip(f"the {name} reader needs {needs}, which is not installed")


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_seed_file_is_read(name, workdir):
    """The fuzzer's starting points are valid files: a reader that refused them would be fuzzed blind."""
    _skip_if_missing(name)
    seeds = _seeds(name, workdir)
    assert seeds, f"no seed files for {name}"
    for seed in seeds:
        assert TARGETS[name].run(seed, workdir) is not None


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(settings.get_profile("echosr-fuzz"))
@given(data=st.data())
def test_damaged_input_gives_a_result_or_the_products_own_error(name, workdir, data):
    _skip_if_missing(name)
    payload = data.draw(mutated(_seeds(name, workdir)), label="input")
    before = _peak_rss_mb()
    tracemalloc.start()
    try:
        with _alarm(HANG_SECONDS):
            escape = run_contained(TARGETS[name], payload, workdir)
        traced = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert escape is None, f"{name} reader escaped with {type(escape).__name__}: {escape}"
    grown = max(traced, _peak_rss_mb() - before)
    assert grown < MEMORY_GROWTH_MB, f"{name} reader allocated {grown:.0f} MB for a {len(payload)}-byte input"
