"""Signing keys: Ed25519 PEM files, a private key only its owner can read, key ids."""

import hashlib
import os
import stat

import pytest

from echosr_edge.bundle.keys import key_id, load_private_key, load_public_key, new_keypair, private_key_is_encrypted
from echosr_edge.errors import BundleError


def test_new_keypair_writes_a_private_key_only_its_owner_can_read(tmp_path):
    pair = new_keypair(tmp_path / "keys")
    assert stat.S_IMODE(pair.private_key.stat().st_mode) == 0o600
    assert pair.private_key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pair.public_key.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


def test_key_id_is_the_shortened_sha256_of_the_raw_public_key(tmp_path):
    pair = new_keypair(tmp_path)
    raw = load_public_key(pair.public_key)
    assert len(raw) == 32
    assert pair.key_id == key_id(raw) == hashlib.sha256(raw).hexdigest()[:16]


def test_existing_key_pair_is_not_overwritten_without_force(tmp_path):
    first = new_keypair(tmp_path)
    with pytest.raises(BundleError, match="already exists"):
        new_keypair(tmp_path)
    second = new_keypair(tmp_path, overwrite=True)
    assert second.key_id != first.key_id


def test_encrypted_private_key_needs_its_passphrase(tmp_path):
    pair = new_keypair(tmp_path, passphrase=b"correct horse")
    assert private_key_is_encrypted(pair.private_key)
    with pytest.raises(BundleError, match="encrypted and no passphrase"):
        load_private_key(pair.private_key)
    with pytest.raises(BundleError, match="wrong passphrase"):
        load_private_key(pair.private_key, b"wrong")
    assert load_private_key(pair.private_key, b"correct horse") is not None


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_private_key_readable_by_others_is_refused(tmp_path):
    pair = new_keypair(tmp_path)
    pair.private_key.chmod(0o644)
    with pytest.raises(BundleError, match="can be read by other users .*chmod 600"):
        load_private_key(pair.private_key)


def test_public_key_of_another_algorithm_is_refused_naming_the_file(tmp_path):
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "p256.pub"
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    path.write_bytes(key.public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(BundleError, match="p256.pub: a .*key, but bundles are signed with Ed25519"):
        load_public_key(path)


def test_private_key_given_as_public_key_is_refused_with_a_hint(tmp_path):
    pair = new_keypair(tmp_path)
    with pytest.raises(BundleError, match="that is a private key"):
        load_public_key(pair.private_key)


def test_garbage_key_file_is_refused(tmp_path):
    path = tmp_path / "x.pub"
    path.write_bytes(os.urandom(200))
    with pytest.raises(BundleError, match="not a PEM public key"):
        load_public_key(path)


def test_key_name_with_a_path_is_refused(tmp_path):
    with pytest.raises(BundleError, match="key name"):
        new_keypair(tmp_path, name="../escape")
