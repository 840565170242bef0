"""KMS: keys of every spec, aliases (AWS managed ones made on first use), encryption with
contexts, data keys, signing, MACs, states and deletion on the headwater clock, policies,
tags, rotation settings and AWS's errors; through ``hw.client`` and through boto3 over the
wire (the ASGI app, no sockets)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from headwater import Headwater, ManualClock
from tests.asgi_boto import in_process_aws

DAY = 86400


@pytest.fixture(params=["in-process", "wire"])
def kms(request: pytest.FixtureRequest, hw: Headwater) -> Iterator[Any]:
    if request.param == "in-process":
        yield hw.client("kms")
        return
    with in_process_aws(hw) as aws:
        yield aws.client("kms")


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error.get("Message", "")


def test_symmetric_encryption_round_trips_without_a_key_id(kms: Any) -> None:
    meta = kms.create_key(Description="d")["KeyMetadata"]
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT" and meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert meta["KeyState"] == "Enabled" and meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:000000000000:key/{meta['KeyId']}"
    sealed = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"secret", EncryptionContext={"a": "1"})
    assert sealed["KeyId"] == meta["Arn"]
    opened = kms.decrypt(CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext={"a": "1"})
    assert opened["Plaintext"] == b"secret" and opened["KeyId"] == meta["Arn"]
    # a context that differs (or is missing) does not open it
    for context in ({"a": "2"}, {}):
        assert (
            error_of(
                kms.decrypt, CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext=context
            )[0]
            == "InvalidCiphertextException"
        )
    assert error_of(kms.decrypt, CiphertextBlob=b"not ours at all")[0] == (
        "InvalidCiphertextException"
    )
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    assert (
        error_of(
            kms.decrypt,
            CiphertextBlob=sealed["CiphertextBlob"],
            KeyId=other,
            EncryptionContext={"a": "1"},
        )[0]
        == "IncorrectKeyException"
    )
    again = kms.re_encrypt(
        CiphertextBlob=sealed["CiphertextBlob"],
        SourceEncryptionContext={"a": "1"},
        DestinationKeyId=other,
    )
    assert again["SourceKeyId"] == meta["Arn"]
    assert kms.decrypt(CiphertextBlob=again["CiphertextBlob"])["Plaintext"] == b"secret"


def test_unknown_keys_and_aliases_answer_aws_text(kms: Any) -> None:
    arn = "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000"
    assert error_of(kms.describe_key, KeyId="00000000-0000-0000-0000-000000000000") == (
        "NotFoundException",
        f"Key '{arn}' does not exist",
    )
    assert error_of(kms.encrypt, KeyId="alias/nope", Plaintext=b"x") == (
        "NotFoundException",
        "Alias 'arn:aws:kms:us-east-1:000000000000:alias/nope' is not found.",
    )


def test_aliases_and_managed_keys(kms: Any) -> None:
    first = kms.create_key()["KeyMetadata"]
    second = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=first["KeyId"])
    assert error_of(kms.create_alias, AliasName="alias/app", TargetKeyId=first["KeyId"]) == (
        "AlreadyExistsException",
        "An alias with the name arn:aws:kms:us-east-1:000000000000:alias/app already exists",
    )
    assert kms.describe_key(KeyId="alias/app")["KeyMetadata"]["KeyId"] == first["KeyId"]
    alias_arn = "arn:aws:kms:us-east-1:000000000000:alias/app"
    assert kms.describe_key(KeyId=alias_arn)["KeyMetadata"]["KeyId"] == first["KeyId"]
    sealed = kms.encrypt(KeyId="alias/app", Plaintext=b"p")["CiphertextBlob"]
    kms.update_alias(AliasName="alias/app", TargetKeyId=second["KeyId"])
    assert kms.describe_key(KeyId="alias/app")["KeyMetadata"]["KeyId"] == second["KeyId"]
    assert kms.decrypt(CiphertextBlob=sealed)["KeyId"] == first["Arn"]  # the blob names its key
    assert error_of(kms.create_alias, AliasName="nope", TargetKeyId=first["KeyId"])[0] == (
        "ValidationException"
    )
    # alias/aws/<service> is made on first use, an AWS managed key
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS"
    assert kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"] == managed["KeyId"]
    names = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert names == ["alias/app", "alias/aws/s3"]
    only = kms.list_aliases(KeyId=second["KeyId"])["Aliases"]
    assert [a["AliasName"] for a in only] == ["alias/app"]
    kms.delete_alias(AliasName="alias/app")
    assert error_of(kms.describe_key, KeyId="alias/app")[0] == "NotFoundException"
    assert len(kms.list_keys()["Keys"]) == 3


def test_states_and_deletion_on_the_clock(kms: Any, clock: ManualClock) -> None:
    meta = kms.create_key()["KeyMetadata"]
    key_id, arn = meta["KeyId"], meta["Arn"]
    kms.create_alias(AliasName="alias/gone", TargetKeyId=key_id)
    kms.disable_key(KeyId=key_id)
    assert error_of(kms.encrypt, KeyId=key_id, Plaintext=b"x") == (
        "DisabledException",
        f"{arn} is disabled.",
    )
    kms.enable_key(KeyId=key_id)
    kms.encrypt(KeyId=key_id, Plaintext=b"x")
    assert error_of(kms.schedule_key_deletion, KeyId=key_id, PendingWindowInDays=3)[0] == (
        "ValidationException"
    )
    scheduled = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion" and scheduled["PendingWindowInDays"] == 7
    assert error_of(kms.encrypt, KeyId=key_id, Plaintext=b"x") == (
        "KMSInvalidStateException",
        f"{arn} is pending deletion.",
    )
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert described["KeyState"] == "PendingDeletion" and "DeletionDate" in described
    kms.cancel_key_deletion(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    clock.advance(7 * DAY - 1)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    clock.advance(1)
    assert error_of(kms.describe_key, KeyId=key_id) == (
        "NotFoundException",
        f"Key '{arn}' does not exist",
    )
    assert kms.list_keys()["Keys"] == []
    assert kms.list_aliases()["Aliases"] == []


def test_data_keys_and_random(kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    data = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext={"k": "v"})
    assert len(data["Plaintext"]) == 32
    opened = kms.decrypt(CiphertextBlob=data["CiphertextBlob"], EncryptionContext={"k": "v"})
    assert opened["Plaintext"] == data["Plaintext"]
    bare = kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=64)
    assert "Plaintext" not in bare
    assert len(kms.decrypt(CiphertextBlob=bare["CiphertextBlob"])["Plaintext"]) == 64
    assert error_of(kms.generate_data_key, KeyId=key_id)[0] == "ValidationException"
    pair = kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256")
    private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], password=None)
    public = serialization.load_der_public_key(pair["PublicKey"])
    assert private.public_key().public_numbers() == public.public_numbers()  # type: ignore[union-attr]
    assert (
        kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"]
        == (pair["PrivateKeyPlaintext"])
    )
    assert len(kms.generate_random(NumberOfBytes=17)["Plaintext"]) == 17


def test_rsa_encryption_and_signing(kms: Any) -> None:
    enc = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    assert enc["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    blob = kms.encrypt(
        KeyId=enc["KeyId"], Plaintext=b"rsa", EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )["CiphertextBlob"]
    opened = kms.decrypt(
        CiphertextBlob=blob, KeyId=enc["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )
    assert opened["Plaintext"] == b"rsa"
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=enc["KeyId"])["PublicKey"])
    outside = public.encrypt(  # type: ignore[union-attr]
        b"from outside",
        padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
    )
    assert (
        kms.decrypt(
            CiphertextBlob=outside, KeyId=enc["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_1"
        )["Plaintext"]
        == b"from outside"
    )
    signer = kms.create_key(KeySpec="RSA_3072", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    for algorithm in ("RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_512"):
        signature = kms.sign(KeyId=signer["KeyId"], Message=b"msg", SigningAlgorithm=algorithm)[
            "Signature"
        ]
        assert kms.verify(
            KeyId=signer["KeyId"], Message=b"msg", Signature=signature, SigningAlgorithm=algorithm
        )["SignatureValid"]
        assert (
            error_of(
                kms.verify,
                KeyId=signer["KeyId"],
                Message=b"other",
                Signature=signature,
                SigningAlgorithm=algorithm,
            )[0]
            == "KMSInvalidSignatureException"
        )
    assert error_of(
        kms.sign, KeyId=enc["KeyId"], Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256"
    ) == (
        "InvalidKeyUsageException",
        f"{enc['Arn']} key usage is ENCRYPT_DECRYPT which is not valid for Sign.",
    )


def test_ecc_signatures_verify_outside_kms(kms: Any) -> None:
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert key["SigningAlgorithms"] == ["ECDSA_SHA_256"]
    digest = hashlib.sha256(b"payload").digest()
    signature = kms.sign(
        KeyId=key["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256"
    )["Signature"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    public.verify(signature, b"payload", ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg,union-attr]
    assert kms.verify(
        KeyId=key["KeyId"],
        Message=b"payload",
        Signature=signature,
        SigningAlgorithm="ECDSA_SHA_256",
    )["SignatureValid"]
    assert error_of(kms.create_key, KeySpec="ECC_NIST_P256", KeyUsage="ENCRYPT_DECRYPT")[0] == (
        "ValidationException"
    )


def test_hmac_keys(kms: Any) -> None:
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    assert key["MacAlgorithms"] == ["HMAC_SHA_256"]
    mac = kms.generate_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert len(mac) == 32
    assert kms.verify_mac(KeyId=key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=mac)[
        "MacValid"
    ]
    assert (
        error_of(
            kms.verify_mac, KeyId=key["KeyId"], Message=b"n", MacAlgorithm="HMAC_SHA_256", Mac=mac
        )[0]
        == "KMSInvalidMacException"
    )


def test_policies_tags_and_rotation(kms: Any) -> None:
    key_id = kms.create_key(Tags=[{"TagKey": "a", "TagValue": "1"}])["KeyMetadata"]["KeyId"]
    policy = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    assert "arn:aws:iam::000000000000:root" in policy
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy='{"Version": "2012-10-17"}')
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == '{"Version": "2012-10-17"}'
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "b", "TagValue": "2"}])
    kms.untag_resource(KeyId=key_id, TagKeys=["a"])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "b", "TagValue": "2"}]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] and status["RotationPeriodInDays"] == 90
    kms.disable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    kms.update_key_description(KeyId=key_id, Description="new")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "new"
