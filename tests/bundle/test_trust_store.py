"""The device trust store: explicit keys, $ECHOSR_TRUST_DIR, or the config directory."""

import shutil

import pytest

from echosr_edge.bundle.trust import TrustStore, default_trust_dir, install_trusted_key, resolve_trust_store
from echosr_edge.errors import BundleError


def test_no_trust_store_when_nothing_is_configured(tmp_path):
    assert resolve_trust_store((), env={"HOME": str(tmp_path)}) is None


def test_config_directory_with_keys_is_the_trust_store(tmp_path, keypair):
    trust_dir = tmp_path / "cfg" / "echosr-edge" / "trust"
    trust_dir.mkdir(parents=True)
    shutil.copy(keypair.public_key, trust_dir)
    store = resolve_trust_store((), env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert store.key_ids == [keypair.key_id]


def test_trust_dir_environment_variable_wins_over_the_config_directory(tmp_path, keypair, other_keypair):
    config = tmp_path / "home" / ".config" / "echosr-edge" / "trust"
    config.mkdir(parents=True)
    shutil.copy(other_keypair.public_key, config)
    chosen = tmp_path / "device-trust"
    chosen.mkdir()
    shutil.copy(keypair.public_key, chosen)
    store = resolve_trust_store((), env={"HOME": str(tmp_path / "home"), "ECHOSR_TRUST_DIR": str(chosen)})
    assert store.key_ids == [keypair.key_id]


def test_trust_dir_environment_variable_naming_an_empty_directory_is_an_error(tmp_path):
    with pytest.raises(BundleError, match="no public keys"):
        resolve_trust_store((), env={"ECHOSR_TRUST_DIR": str(tmp_path)})
    with pytest.raises(BundleError, match="not a directory"):
        resolve_trust_store((), env={"ECHOSR_TRUST_DIR": str(tmp_path / "missing")})


def test_explicit_keys_replace_the_configured_ones(tmp_path, keypair, other_keypair):
    shutil.copy(other_keypair.public_key, tmp_path)
    store = resolve_trust_store([keypair.public_key], env={"ECHOSR_TRUST_DIR": str(tmp_path)})
    assert store.key_ids == [keypair.key_id]
    assert "--trust" in store.origin


def test_a_directory_given_as_trust_loads_every_public_key_once(tmp_path, keypair, other_keypair):
    shutil.copy(keypair.public_key, tmp_path / "a.pub")
    shutil.copy(keypair.public_key, tmp_path / "b.pub")
    shutil.copy(other_keypair.public_key, tmp_path / "c.pub")
    store = TrustStore.from_paths([tmp_path])
    assert sorted(store.key_ids) == sorted([keypair.key_id, other_keypair.key_id])


def test_installing_a_key_stores_it_under_its_key_id(tmp_path, keypair):
    key, path = install_trusted_key(keypair.public_key, tmp_path / "trust")
    assert path == tmp_path / "trust" / f"{keypair.key_id}.pub"
    assert TrustStore.from_paths([tmp_path / "trust"]).key_ids == [key.key_id] == [keypair.key_id]


def test_default_trust_dir_follows_xdg(tmp_path):
    assert default_trust_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "echosr-edge" / "trust"
    assert default_trust_dir({"HOME": str(tmp_path)}) == tmp_path / ".config" / "echosr-edge" / "trust"


def test_an_empty_trust_store_cannot_be_made(tmp_path):
    with pytest.raises(BundleError, match="holds no keys"):
        TrustStore(())
