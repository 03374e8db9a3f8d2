"""Property test: whatever a manifest's fields are changed to, loading gives a Manifest or a BundleError."""

import json

import pytest

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.errors import BundleError
from tests.bundle.conftest import make_bundle

hypothesis = pytest.importorskip("hypothesis", reason="property tests need the 'dev' extra (hypothesis)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**40) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _leaf_paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield prefix + (k,)
            yield from _leaf_paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield prefix + (i,)
            yield from _leaf_paths(v, prefix + (i,))


@pytest.fixture(scope="module")
def valid_manifest_text(tmp_path_factory) -> str:
    return (make_bundle(tmp_path_factory.mktemp("valid") / "b") / "manifest.json").read_text()


def test_the_unmutated_manifest_loads(valid_manifest_text):
    assert Manifest.from_bytes(valid_manifest_text.encode()).model_names == ["sr", "view"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mutation_of_a_valid_manifest_loads_or_raises_bundle_error(valid_manifest_text, data):
    manifest = json.loads(valid_manifest_text)
    paths = list(_leaf_paths(manifest))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = manifest
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            try:
                parent[path[-1]] = data.draw(_json)
            except (IndexError, KeyError, TypeError):
                pass
        paths = list(_leaf_paths(manifest))
        if not paths:
            break
    try:
        loaded = Manifest.from_bytes(json.dumps(manifest).encode())
    except BundleError as exc:
        assert str(exc)  # refused, with a message
    else:
        assert isinstance(loaded, Manifest) and loaded.models
