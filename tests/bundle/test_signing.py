"""Signed bundles: a trust store accepts what a trusted key signed, and nothing else."""

import base64
import hashlib
import json

import pytest

from echosr_edge.bundle.integrity import check_bundle, open_bundle
from echosr_edge.bundle.signing import CONTEXT, SignatureError, read_signatures, sign_bundle, verify_signature
from echosr_edge.errors import BundleError
from tests.bundle.conftest import edit_manifest


def alter_model_and_manifest_consistently(bundle, rel="models/view.int8.onnx"):
    """What an attacker who can write the bundle does: swap a model and re-pin it in the manifest."""
    path = bundle / rel
    path.write_bytes(b"a different model " * 32)
    sha, size = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size

    def repin(data):
        for model in data["models"]:
            for art in model["artifacts"]:
                if art["file"] == rel:
                    art["sha256"], art["size"] = sha, size

    edit_manifest(bundle, repin)


def test_signed_bundle_is_accepted_by_a_trust_store_holding_its_key(mini_bundle, keypair, trust):
    signed = sign_bundle(mini_bundle, keypair.private_key)
    manifest = open_bundle(mini_bundle, trust=trust)
    assert manifest.model_names == ["sr", "view"]
    info = verify_signature(mini_bundle, trust)
    assert info.key_id == keypair.key_id == signed.key_id
    assert info.valid and info.trusted and info.key_source == str(keypair.public_key)


def test_signature_file_is_named_for_the_key(mini_bundle, keypair):
    info = sign_bundle(mini_bundle, keypair.private_key)
    assert info.file == f"signatures/{keypair.key_id}.sig"
    assert (mini_bundle / info.file).is_file()


def test_unsigned_bundle_is_refused_when_a_trust_store_is_set(mini_bundle, trust):
    with pytest.raises(SignatureError, match="it is unsigned"):
        open_bundle(mini_bundle, trust=trust)


def test_bundle_resigned_with_an_untrusted_key_is_refused_naming_the_key(mini_bundle, keypair, other_keypair, trust):
    sign_bundle(mini_bundle, keypair.private_key)
    alter_model_and_manifest_consistently(mini_bundle)
    (mini_bundle / "signatures" / f"{keypair.key_id}.sig").unlink()
    sign_bundle(mini_bundle, other_keypair.private_key)
    with pytest.raises(SignatureError, match=f"signed only by key\\(s\\) {other_keypair.key_id}, none of which is trusted") as err:
        open_bundle(mini_bundle, trust=trust)
    assert keypair.key_id in str(err.value)  # the message says which keys the store holds


def test_model_and_manifest_altered_consistently_are_refused_as_changed_since_signing(mini_bundle, keypair, trust):
    sign_bundle(mini_bundle, keypair.private_key)
    alter_model_and_manifest_consistently(mini_bundle)
    with pytest.raises(SignatureError, match=f"trusted key {keypair.key_id} does not hold: manifest.json changed since it was signed"):
        open_bundle(mini_bundle, trust=trust)


def test_consistent_alteration_passes_checksums_alone(mini_bundle, keypair):
    # Why signatures: a checksum list beside the files it lists proves nothing against this.
    sign_bundle(mini_bundle, keypair.private_key)
    alter_model_and_manifest_consistently(mini_bundle)
    assert open_bundle(mini_bundle).model_names == ["sr", "view"]


def test_altered_model_without_manifest_change_is_refused_naming_the_file(mini_bundle, keypair, trust):
    sign_bundle(mini_bundle, keypair.private_key)
    (mini_bundle / "models" / "sr.fp32.onnx").write_bytes(b"x" * 1024)  # same size as the original
    with pytest.raises(BundleError, match="models/sr.fp32.onnx does not match its checksum"):
        open_bundle(mini_bundle, trust=trust)


def test_a_trusted_signature_is_enough_beside_an_untrusted_one(mini_bundle, keypair, other_keypair, trust):
    sign_bundle(mini_bundle, other_keypair.private_key)
    sign_bundle(mini_bundle, keypair.private_key)
    assert verify_signature(mini_bundle, trust).key_id == keypair.key_id
    states = {s.key_id: s.trusted for s in read_signatures(mini_bundle, trust=trust)}
    assert states == {keypair.key_id: True, other_keypair.key_id: False}


def test_signature_claiming_the_trusted_key_id_with_another_key_is_refused(mini_bundle, keypair, other_keypair, trust):
    sign_bundle(mini_bundle, keypair.private_key)
    alter_model_and_manifest_consistently(mini_bundle)
    info = sign_bundle(mini_bundle, other_keypair.private_key)
    forged = json.loads((mini_bundle / info.file).read_text())
    forged["key_id"] = keypair.key_id
    forged.pop("signed_sha256")
    (mini_bundle / "signatures" / f"{keypair.key_id}.sig").write_text(json.dumps(forged))
    (mini_bundle / info.file).unlink()
    with pytest.raises(SignatureError, match="signed by a different key that claims the trusted key's id"):
        open_bundle(mini_bundle, trust=trust)


def test_signature_covers_the_context_and_the_exact_manifest_bytes(mini_bundle, keypair):
    # Documented format, checked with the library directly rather than through our own verifier.
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    info = sign_bundle(mini_bundle, keypair.private_key)
    record = json.loads((mini_bundle / info.file).read_text())
    public = load_pem_public_key(keypair.public_key.read_bytes())
    manifest_bytes = (mini_bundle / "manifest.json").read_bytes()
    public.verify(base64.b64decode(record["signature"]), CONTEXT + manifest_bytes)  # raises if not
    assert record["signed_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
    assert record["algorithm"] == "ed25519" and record["key_id"] == keypair.key_id


def test_even_a_whitespace_change_to_the_manifest_breaks_the_signature(mini_bundle, keypair, trust):
    sign_bundle(mini_bundle, keypair.private_key)
    path = mini_bundle / "manifest.json"
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(SignatureError, match="changed since it was signed"):
        open_bundle(mini_bundle, trust=trust)


def test_unreadable_signature_file_is_reported_not_raised(mini_bundle, trust):
    (mini_bundle / "signatures").mkdir()
    (mini_bundle / "signatures" / "junk.sig").write_bytes(b"\xff\x00 not json")
    sigs = read_signatures(mini_bundle, trust=trust)
    assert len(sigs) == 1 and not sigs[0].valid and sigs[0].problem.startswith("unreadable")
    with pytest.raises(SignatureError, match="junk.sig \\(unreadable"):
        open_bundle(mini_bundle, trust=trust)


def test_signing_refuses_a_bundle_whose_files_do_not_match(mini_bundle, keypair):
    (mini_bundle / "models" / "view.int8.onnx").write_bytes(b"damaged")
    with pytest.raises(BundleError, match="models/view.int8.onnx does not match its checksum"):
        sign_bundle(mini_bundle, keypair.private_key)
    assert not (mini_bundle / "signatures").exists()


def test_open_bundle_without_trust_store_does_not_require_a_signature(mini_bundle):
    assert open_bundle(mini_bundle).model_names == ["sr", "view"]


def test_check_bundle_without_trust_store_still_fails_on_a_stale_signature(mini_bundle, keypair):
    sign_bundle(mini_bundle, keypair.private_key)
    alter_model_and_manifest_consistently(mini_bundle)
    with pytest.raises(SignatureError, match=f"key {keypair.key_id}\\) does not hold"):
        check_bundle(mini_bundle)


def test_check_bundle_reports_files_signatures_and_unpinned_extras(mini_bundle, keypair, trust):
    sign_bundle(mini_bundle, keypair.private_key)
    (mini_bundle / "README.txt").write_text("not part of the bundle")
    check = check_bundle(mini_bundle, trust)
    assert check.files == 4
    assert check.bytes == sum((mini_bundle / f).stat().st_size for f in
                              ("models/sr.fp32.onnx", "models/view.fp32.onnx", "models/view.int8.onnx", "verification/frames.npy"))
    assert check.accepted_by.key_id == keypair.key_id
    assert check.unlisted == ("README.txt",)
