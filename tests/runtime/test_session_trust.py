"""Every entry point that opens a bundle applies the device trust store, without being told to.

The device trusts key A through ``$ECHOSR_TRUST_DIR``; a bundle that is unsigned, or signed
only by key B, is refused by ``run``, ``run --serve``, ``bench``, ``bench --frontier``,
``batch``, ``inspect --bundle`` and the library's ``open_session``, each naming why.
"""

import shutil

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from echosr_edge.bundle.keys import new_keypair
from echosr_edge.bundle.signing import SignatureError, sign_bundle
from echosr_edge.bundle.trust import TRUST_DIR_ENV
from echosr_edge.cli import main
from echosr_edge.runtime.session import open_session

UNSIGNED = "it is unsigned"
FOREIGN = "none of which is trusted"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Key A (the device trusts it) and key B (nobody does)."""
    root = tmp_path_factory.mktemp("session-keys")
    return new_keypair(root / "a", name="a"), new_keypair(root / "b", name="b")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, profile_bundle, keys):
    """An unsigned copy, a copy signed by B and a copy signed by A of a two-profile bundle."""
    root = tmp_path_factory.mktemp("session-bundles")
    made = {}
    for name, key in (("unsigned", None), ("foreign", keys[1]), ("trusted", keys[0])):
        made[name] = shutil.copytree(profile_bundle, root / name)
        if key is not None:
            sign_bundle(made[name], key.private_key)
    return made


@pytest.fixture()
def device_trusts_a(tmp_path, monkeypatch, keys):
    trust_dir = tmp_path / "trust"
    trust_dir.mkdir()
    shutil.copy(keys[0].public_key, trust_dir / "a.pub")
    monkeypatch.setenv(TRUST_DIR_ENV, str(trust_dir))
    return trust_dir


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, frontier_root):
    """A one-image folder (for run, batch and inspect) and a CAMUS tree (for bench --frontier)."""
    folder = tmp_path_factory.mktemp("session-inputs") / "images"
    folder.mkdir()
    cv2.imwrite(str(folder / "frame.png"), np.full((80, 96), 100, np.uint8))
    return folder, frontier_root


ENTRY_POINTS = {
    "run": lambda b, folder, tree, tmp: ["run", "--bundle", b, "--source", folder, "--headless", "--device", "cpu"],
    "run --serve": lambda b, folder, tree, tmp: ["run", "--bundle", b, "--source", folder, "--headless", "--device", "cpu",
                                                 "--serve", "127.0.0.1:0"],
    "bench": lambda b, folder, tree, tmp: ["bench", "--bundle", b, "--device", "cpu", "--runs", "1", "--out", tmp],
    "bench --frontier": lambda b, folder, tree, tmp: ["bench", "--frontier", "--bundle", b, "--data", tree, "--device", "cpu",
                                                      "--runs", "1", "--out", tmp],
    "batch": lambda b, folder, tree, tmp: ["batch", folder, tmp, "--bundle", b, "--quiet"],
    "inspect --bundle": lambda b, folder, tree, tmp: ["inspect", f"{folder}/frame.png", "--bundle", b],
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("kind, why", [("unsigned", UNSIGNED), ("foreign", FOREIGN)])
def test_entry_point_refuses_a_bundle_the_device_does_not_trust(entry, kind, why, bundles, inputs, device_trusts_a, tmp_path):
    folder, tree = inputs
    args = ENTRY_POINTS[entry](str(bundles[kind]), str(folder), str(tree), str(tmp_path / "out"))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "refused" in result.output and why in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("kind, why", [("unsigned", UNSIGNED), ("foreign", FOREIGN)])
def test_open_session_refuses_without_being_given_the_trust_store(kind, why, bundles, device_trusts_a):
    with pytest.raises(SignatureError, match=why):
        open_session(bundles[kind], "cpu")


def test_open_session_runs_a_bundle_signed_by_the_trusted_key(bundles, device_trusts_a):
    session = open_session(bundles["trusted"], "cpu", enhance="always")
    assert session.trust is not None and session.trust.key_ids
    result = session.pipeline.process(np.full((80, 96), 100, np.uint8))
    assert result.labels["view"] in ("2CH", "4CH")


def test_explicit_keys_replace_the_configured_store(bundles, device_trusts_a, keys):
    # Trusting only B on the command line: the bundle B signed runs, A's is refused.
    assert open_session(bundles["foreign"], "cpu", trust=[keys[1].public_key], startup_check=False).trust.key_ids
    with pytest.raises(SignatureError, match=FOREIGN):
        open_session(bundles["trusted"], "cpu", trust=[keys[1].public_key])
