"""AWS KMS: keys (symmetric, RSA, ECC, HMAC), aliases, encryption, data keys, signing, MACs,
key policies, tags, rotation settings and deletion on the headwater clock.

Key material lives in the database as it is (see ``store``): a test tool's keys, never a
secure store. A key scheduled for deletion goes at its DeletionDate on the headwater
clock (a ``ClockTicker`` sweeper; reads treat a key past its date as gone), so a
``ManualClock`` drives it. ``alias/aws/<service>`` names an AWS managed key made the first
time it is used, as AWS makes them. Key policies are stored and answered, never enforced.
Rotation settings are stored; no material rotates. Grants, custom key stores, imported
material and multi-Region replicas are not served.

Error codes and texts follow AWS's answers (``Key '<arn>' does not exist``, ``<arn> is
disabled.``, ``<arn> is pending deletion.``); the few that are guesses say so.
"""

from __future__ import annotations

import hmac
import os
import threading
import uuid
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.paging import offset_page
from headwater.core.values import as_bytes, as_datetime, json_object
from headwater.services.base import (
    Params,
    RequestContext,
    Result,
    Service,
    ServiceEnvironment,
    operation,
)
from headwater.services.kms import key_material
from headwater.services.kms.key_material import (
    ENCRYPT_DECRYPT,
    GENERATE_VERIFY_MAC,
    SIGN_VERIFY,
    CiphertextUnreadable,
)
from headwater.services.kms.store import KeyStore
from headwater.services.ticker import ClockTicker

DAY = 86400.0
SWEEP_INTERVAL = 60.0
MAX_PLAINTEXT = 4096
ALIAS_PREFIX = "alias/"
MANAGED_PREFIX = "alias/aws/"
DEFAULT_ROTATION_DAYS = 365
LIST_LIMIT = 100


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def _invalid_state(message: str) -> AwsError:
    return AwsError("KMSInvalidStateException", message)


def _invalid_ciphertext() -> AwsError:
    # AWS answers InvalidCiphertextException with no message.
    return AwsError("InvalidCiphertextException", "")


def key_arn(region: str, account: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def alias_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:kms:{region}:{account}:{name}"


def default_policy(account: str) -> str:
    """The key policy AWS gives a key made without one."""
    return orjson.dumps(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
        option=orjson.OPT_INDENT_2,
    ).decode()


def _text(value: Any, member: str) -> str:
    if not isinstance(value, str) or not value:
        raise _validation(f"{member} is required")  # guessed text
    return value


def _blob(value: Any, member: str, *, most: int = MAX_PLAINTEXT) -> bytes:
    data = as_bytes(value) if value is not None else b""
    if not 1 <= len(data) <= most:
        raise _validation(
            f"1 validation error detected: Value at '{member[0].lower()}{member[1:]}' failed to "
            f"satisfy constraint: Member must have length between 1 and {most}"
        )
    return data


def _context(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _validation("EncryptionContext must be a map of strings")  # guessed text
    return {str(k): str(v) for k, v in value.items()}


def _tags(given: Any) -> dict[str, str]:
    return {str(t.get("TagKey")): str(t.get("TagValue", "")) for t in given or []}


def _listed(key: str, items: list[Any], params: Params) -> Result:
    limit = params.get("Limit")
    if limit is not None and (not isinstance(limit, int) or not 1 <= limit <= 1000):
        raise _validation(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000"
        )
    page, marker = offset_page(items, params.get("Marker"), limit, LIST_LIMIT)
    result: Result = {key: page, "Truncated": marker is not None}
    if marker is not None:
        result["NextMarker"] = marker
    return result


class KmsService(Service):
    service_name = "kms"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self._store = env.database.store(KeyStore)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._sweeper = ClockTicker(
            env.clock, SWEEP_INTERVAL, self.sweep, name="kms-sweeper"
        ).start()

    def close(self) -> None:
        self._sweeper.stop()
        super().close()

    def sweep(self, now: float | None = None) -> int:
        """Delete the keys whose waiting period has ended; answers how many went."""
        return self._store.purge_deleted(self.env.clock.now() if now is None else now)

    # -- lookups ---------------------------------------------------------------------------

    def _live(self, key: dict[str, Any] | None) -> dict[str, Any] | None:
        if key is None:
            return None
        deletion = key.get("DeletionDate")
        if deletion is not None and deletion <= self.env.clock.now():
            self.sweep()
            return None
        return key

    def _resolve(self, given: Any, ctx: RequestContext) -> dict[str, Any]:
        """The key a KeyId names: its id, its ARN, an alias name or an alias ARN."""
        text = _text(given, "KeyId")
        region, account, ident = ctx.region, ctx.account, text
        if text.startswith("arn:"):
            parts = text.split(":", 5)
            if len(parts) != 6 or parts[2] != "kms":
                raise AwsError("NotFoundException", f"Invalid arn {text}")
            region, account, ident = parts[3], parts[4], parts[5]
            if (region, account) != (ctx.region, ctx.account):
                raise AwsError("NotFoundException", f"Key '{text}' does not exist")
            if ident.startswith("key/"):
                ident = ident[4:]
            elif not ident.startswith(ALIAS_PREFIX):
                raise AwsError("NotFoundException", f"Invalid arn {text}")
        if ident.startswith(ALIAS_PREFIX):
            found = self._store.alias(account, region, ident)
            if (
                found is None
                and ident.startswith(MANAGED_PREFIX)
                and len(ident) > len(MANAGED_PREFIX)
            ):
                return self._managed_key(ident, ctx)
            lock = bool(getattr(self._local, "writing", False))
            key = (
                self._live(self._store.get(account, region, found[0], for_update=lock))
                if found
                else None
            )
            if key is None:
                raise AwsError(
                    "NotFoundException",
                    f"Alias '{alias_arn(region, account, ident)}' is not found.",
                )
            return key
        lock = bool(getattr(self._local, "writing", False))
        key = self._live(self._store.get(account, region, ident, for_update=lock))
        if key is None:
            raise AwsError(
                "NotFoundException", f"Key '{key_arn(region, account, ident)}' does not exist"
            )
        return key

    def _managed_key(self, alias: str, ctx: RequestContext) -> dict[str, Any]:
        """The AWS managed key ``alias/aws/<service>`` names, made on first use."""
        with self._lock, self.env.database.transaction():
            found = self._store.alias(ctx.account, ctx.region, alias)
            if found is not None:
                key = self._store.get(ctx.account, ctx.region, found[0])
                if key is not None:
                    return key
            service = alias[len(MANAGED_PREFIX) :]
            key = self._new_key(
                ctx,
                spec="SYMMETRIC_DEFAULT",
                usage=ENCRYPT_DECRYPT,
                description=(
                    f"Default key that protects my {service} data when no other key is defined"
                ),
                manager="AWS",
            )
            self._store.put(ctx.account, ctx.region, key)
            now = self.env.clock.now()
            if found is None:
                self._store.add_alias(ctx.account, ctx.region, alias, key["KeyId"], now)
            else:
                self._store.point_alias(ctx.account, ctx.region, alias, key["KeyId"], now)
            return key

    def _usable(self, key: dict[str, Any], usage: str | None, operation_name: str) -> None:
        """Refuse a key that is disabled, pending deletion or of another usage."""
        arn = key["Arn"]
        if key["KeyState"] == "PendingDeletion":
            raise _invalid_state(f"{arn} is pending deletion.")
        if key["KeyState"] == "Disabled":
            raise AwsError("DisabledException", f"{arn} is disabled.")
        if usage is not None and key["KeyUsage"] != usage:
            raise AwsError(
                "InvalidKeyUsageException",
                f"{arn} key usage is {key['KeyUsage']} which is not valid for {operation_name}.",
            )

    def _new_key(
        self,
        ctx: RequestContext,
        *,
        spec: str,
        usage: str,
        description: str = "",
        manager: str = "CUSTOMER",
        policy: str | None = None,
        tags: dict[str, str] | None = None,
        multi_region: bool = False,
    ) -> dict[str, Any]:
        key_id = str(uuid.uuid4())
        return {
            "KeyId": key_id,
            "Arn": key_arn(ctx.region, ctx.account, key_id),
            "AWSAccountId": ctx.account,
            "CreationDate": self.env.clock.now(),
            "Description": description,
            "KeySpec": spec,
            "KeyUsage": usage,
            "KeyState": "Enabled",
            "KeyManager": manager,
            "MultiRegion": multi_region,
            "Policy": policy or default_policy(ctx.account),
            "Tags": tags or {},
            "RotationEnabled": manager == "AWS",
            "RotationPeriodInDays": DEFAULT_ROTATION_DAYS,
            "Material": key_material.new_material(spec),
            "DeletionDate": None,
            "PendingWindowInDays": None,
        }

    def _save(self, key: dict[str, Any], ctx: RequestContext) -> None:
        self._store.put(ctx.account, ctx.region, key)

    @staticmethod
    def metadata(key: dict[str, Any]) -> Result:
        """DescribeKey's KeyMetadata of a stored key."""
        meta: Result = {
            "AWSAccountId": key["AWSAccountId"],
            "KeyId": key["KeyId"],
            "Arn": key["Arn"],
            "CreationDate": as_datetime(key["CreationDate"]),
            "Enabled": key["KeyState"] == "Enabled",
            "Description": key["Description"],
            "KeyUsage": key["KeyUsage"],
            "KeyState": key["KeyState"],
            "Origin": "AWS_KMS",
            "KeyManager": key["KeyManager"],
            "CustomerMasterKeySpec": key["KeySpec"],
            "KeySpec": key["KeySpec"],
            "MultiRegion": key["MultiRegion"],
            **key_material.algorithms(key["KeySpec"], key["KeyUsage"]),
        }
        if key.get("DeletionDate") is not None:
            meta["DeletionDate"] = as_datetime(key["DeletionDate"])
            meta["PendingDeletionWindowInDays"] = key["PendingWindowInDays"]
        return meta

    # -- keys ------------------------------------------------------------------------------

    @operation("CreateKey")
    def create_key(self, params: Params, ctx: RequestContext) -> Result:
        spec = str(
            params.get("KeySpec") or params.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
        )
        if spec not in key_material.KEY_SPECS:
            raise AwsError(
                "UnsupportedOperationException", f"KeySpec {spec} is not supported by headwater."
            )
        usage = str(params.get("KeyUsage") or key_material.usages(spec)[0])
        if usage not in key_material.usages(spec):
            # A guess at AWS's words for a usage the spec does not allow.
            raise _validation(f"KeyUsage {usage} is not compatible with KeySpec {spec}")
        origin = params.get("Origin") or "AWS_KMS"
        if origin != "AWS_KMS":
            raise AwsError(
                "UnsupportedOperationException", f"Origin {origin} is not supported by headwater."
            )
        policy = params.get("Policy")
        if policy is not None:
            _check_policy(policy)
        key = self._new_key(
            ctx,
            spec=spec,
            usage=usage,
            description=str(params.get("Description") or ""),
            policy=policy,
            tags=_tags(params.get("Tags")),
            multi_region=bool(params.get("MultiRegion")),
        )
        key["RotationEnabled"] = False
        self._save(key, ctx)
        return {"KeyMetadata": self.metadata(key)}

    @operation("DescribeKey")
    def describe_key(self, params: Params, ctx: RequestContext) -> Result:
        return {"KeyMetadata": self.metadata(self._resolve(params.get("KeyId"), ctx))}

    @operation("ListKeys")
    def list_keys(self, params: Params, ctx: RequestContext) -> Result:
        now = self.env.clock.now()
        keys = [
            {"KeyId": k["KeyId"], "KeyArn": k["Arn"]}
            for k in self._store.all(ctx.account, ctx.region)
            if k.get("DeletionDate") is None or k["DeletionDate"] > now
        ]
        return _listed("Keys", keys, params)

    def _change(self, params: Params, ctx: RequestContext, change: Any) -> Result:
        """Apply ``change(key)`` to the key KeyId names, in one transaction that locks the
        key's row (other processes and PostgreSQL nodes wait), so no change is lost."""
        with self._lock, self.env.database.transaction():
            self._local.writing = True
            try:
                key = self._resolve(params.get("KeyId"), ctx)
            finally:
                self._local.writing = False
            result = change(key)
            self._save(key, ctx)
        return result if isinstance(result, dict) else {}

    @operation("EnableKey")
    def enable_key(self, params: Params, ctx: RequestContext) -> Result:
        def enable(key: dict[str, Any]) -> None:
            if key["KeyState"] == "PendingDeletion":
                raise _invalid_state(f"{key['Arn']} is pending deletion.")
            key["KeyState"] = "Enabled"

        return self._change(params, ctx, enable)

    @operation("DisableKey")
    def disable_key(self, params: Params, ctx: RequestContext) -> Result:
        def disable(key: dict[str, Any]) -> None:
            if key["KeyState"] == "PendingDeletion":
                raise _invalid_state(f"{key['Arn']} is pending deletion.")
            key["KeyState"] = "Disabled"

        return self._change(params, ctx, disable)

    @operation("UpdateKeyDescription")
    def update_key_description(self, params: Params, ctx: RequestContext) -> Result:
        description = params.get("Description")
        if not isinstance(description, str):
            raise _validation("Description is required")  # guessed text

        def describe(key: dict[str, Any]) -> None:
            key["Description"] = description

        return self._change(params, ctx, describe)

    @operation("ScheduleKeyDeletion")
    def schedule_key_deletion(self, params: Params, ctx: RequestContext) -> Result:
        days = params.get("PendingWindowInDays", 30)
        if not isinstance(days, int) or not 7 <= days <= 30:
            raise _validation(
                f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to "
                "satisfy constraint: Member must have value between 7 and 30"
            )

        def schedule(key: dict[str, Any]) -> Result:
            if key["KeyState"] == "PendingDeletion":
                raise _invalid_state(f"{key['Arn']} is pending deletion.")
            if key["KeyManager"] == "AWS":
                # AWS managed keys cannot be deleted (a guess at the words).
                raise _invalid_state(f"{key['Arn']} is an AWS managed key and cannot be deleted.")
            key["KeyState"] = "PendingDeletion"
            key["DeletionDate"] = self.env.clock.now() + days * DAY
            key["PendingWindowInDays"] = days
            return {
                "KeyId": key["Arn"],
                "DeletionDate": as_datetime(key["DeletionDate"]),
                "KeyState": "PendingDeletion",
                "PendingWindowInDays": days,
            }

        return self._change(params, ctx, schedule)

    @operation("CancelKeyDeletion")
    def cancel_key_deletion(self, params: Params, ctx: RequestContext) -> Result:
        def cancel(key: dict[str, Any]) -> Result:
            if key["KeyState"] != "PendingDeletion":
                raise _invalid_state(f"{key['Arn']} is not pending deletion.")  # guessed text
            # AWS leaves a key whose deletion is cancelled disabled.
            key["KeyState"] = "Disabled"
            key["DeletionDate"] = None
            key["PendingWindowInDays"] = None
            return {"KeyId": key["Arn"]}

        return self._change(params, ctx, cancel)

    # -- aliases ---------------------------------------------------------------------------

    def _alias_name(self, value: Any, *, creating: bool) -> str:
        name = _text(value, "AliasName")
        if not name.startswith(ALIAS_PREFIX) or len(name) <= len(ALIAS_PREFIX):
            raise _validation(
                'Alias must start with the prefix "alias/". Please see '
                "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
            )
        if creating and name.startswith(MANAGED_PREFIX):
            raise AwsError(
                "NotAuthorizedException", "Cannot create alias with prefix 'alias/aws/'"
            )  # guessed text
        return name

    def _alias_target(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        target = _text(params.get("TargetKeyId"), "TargetKeyId")
        if target.startswith(ALIAS_PREFIX) or ":alias/" in target:
            raise _validation("Aliases must refer to keys. Not aliases")  # AWS's text
        key = self._resolve(target, ctx)
        if key["KeyManager"] == "AWS":
            raise AwsError("NotAuthorizedException", "Cannot point an alias at an AWS managed key")
        return key

    @operation("CreateAlias")
    def create_alias(self, params: Params, ctx: RequestContext) -> Result:
        name = self._alias_name(params.get("AliasName"), creating=True)
        key = self._alias_target(params, ctx)
        if key["KeyState"] == "PendingDeletion":
            raise _invalid_state(f"{key['Arn']} is pending deletion.")
        if not self._store.add_alias(
            ctx.account, ctx.region, name, key["KeyId"], self.env.clock.now()
        ):
            raise AwsError(
                "AlreadyExistsException",
                f"An alias with the name {alias_arn(ctx.region, ctx.account, name)} already exists",
            )
        return {}

    @operation("UpdateAlias")
    def update_alias(self, params: Params, ctx: RequestContext) -> Result:
        name = self._alias_name(params.get("AliasName"), creating=True)
        key = self._alias_target(params, ctx)
        if not self._store.point_alias(
            ctx.account, ctx.region, name, key["KeyId"], self.env.clock.now()
        ):
            raise AwsError(
                "NotFoundException",
                f"Alias {alias_arn(ctx.region, ctx.account, name)} is not found.",
            )
        return {}

    @operation("DeleteAlias")
    def delete_alias(self, params: Params, ctx: RequestContext) -> Result:
        name = self._alias_name(params.get("AliasName"), creating=True)
        if not self._store.delete_alias(ctx.account, ctx.region, name):
            raise AwsError(
                "NotFoundException",
                f"Alias {alias_arn(ctx.region, ctx.account, name)} is not found.",
            )
        return {}

    @operation("ListAliases")
    def list_aliases(self, params: Params, ctx: RequestContext) -> Result:
        only: str | None = None
        if params.get("KeyId"):
            only = self._resolve(params["KeyId"], ctx)["KeyId"]
        aliases = [
            {
                "AliasName": name,
                "AliasArn": alias_arn(ctx.region, ctx.account, name),
                "TargetKeyId": key_id,
                "CreationDate": as_datetime(created),
                "LastUpdatedDate": as_datetime(updated),
            }
            for name, key_id, created, updated in self._store.aliases(ctx.account, ctx.region)
            if only is None or key_id == only
        ]
        return _listed("Aliases", aliases, params)

    # -- encryption ------------------------------------------------------------------------

    def _encrypt(
        self, key: dict[str, Any], plaintext: bytes, context: dict[str, str] | None, algorithm: Any
    ) -> tuple[bytes, str]:
        self._usable(key, ENCRYPT_DECRYPT, "Encrypt")
        algorithm = algorithm or "SYMMETRIC_DEFAULT"
        allowed = key_material.algorithms(key["KeySpec"], key["KeyUsage"])["EncryptionAlgorithms"]
        if algorithm not in allowed:
            raise AwsError(
                "InvalidKeyUsageException",
                f"Algorithm {algorithm} is incompatible with key spec {key['KeySpec']}.",
            )  # guessed text
        if algorithm == "SYMMETRIC_DEFAULT":
            return key_material.seal(key["KeyId"], key["Material"], plaintext, context), algorithm
        try:
            return key_material.rsa_encrypt(key["Material"], algorithm, plaintext), algorithm
        except ValueError:
            raise _validation(
                f"Plaintext is too long for {algorithm} with a {key['KeySpec']} key."
            ) from None  # guessed text

    def _decrypt(
        self,
        blob: bytes,
        key_id: Any,
        context: dict[str, str] | None,
        algorithm: Any,
        ctx: RequestContext,
    ) -> tuple[dict[str, Any], bytes, str]:
        algorithm = algorithm or "SYMMETRIC_DEFAULT"
        if algorithm == "SYMMETRIC_DEFAULT":
            try:
                sealed_by = key_material.sealing_key_id(blob)
            except CiphertextUnreadable:
                raise _invalid_ciphertext() from None
            key = self._resolve(key_id, ctx) if key_id else None
            if key is not None and key["KeyId"] != sealed_by:
                raise AwsError(
                    "IncorrectKeyException",
                    "The key ID in the request does not identify a CMK that can perform this "
                    "operation.",
                )
            if key is None:
                key = self._live(self._store.get(ctx.account, ctx.region, sealed_by))
                if key is None:
                    raise _invalid_ciphertext()
            self._usable(key, ENCRYPT_DECRYPT, "Decrypt")
            if key["KeySpec"] != "SYMMETRIC_DEFAULT":
                raise _invalid_ciphertext()
            try:
                return key, key_material.unseal(key["Material"], blob, context), algorithm
            except CiphertextUnreadable:
                raise _invalid_ciphertext() from None
        if not key_id:
            raise _validation("KeyId is required for asymmetric decryption")  # guessed text
        key = self._resolve(key_id, ctx)
        self._usable(key, ENCRYPT_DECRYPT, "Decrypt")
        if algorithm not in key_material.algorithms(key["KeySpec"], key["KeyUsage"]).get(
            "EncryptionAlgorithms", []
        ):
            raise AwsError(
                "InvalidKeyUsageException",
                f"Algorithm {algorithm} is incompatible with key spec {key['KeySpec']}.",
            )  # guessed text
        try:
            return key, key_material.rsa_decrypt(key["Material"], algorithm, blob), algorithm
        except CiphertextUnreadable:
            raise _invalid_ciphertext() from None

    @operation("Encrypt")
    def encrypt(self, params: Params, ctx: RequestContext) -> Result:
        key = self._resolve(params.get("KeyId"), ctx)
        blob, algorithm = self._encrypt(
            key,
            _blob(params.get("Plaintext"), "Plaintext"),
            _context(params.get("EncryptionContext")),
            params.get("EncryptionAlgorithm"),
        )
        return {"CiphertextBlob": blob, "KeyId": key["Arn"], "EncryptionAlgorithm": algorithm}

    @operation("Decrypt")
    def decrypt(self, params: Params, ctx: RequestContext) -> Result:
        key, plaintext, algorithm = self._decrypt(
            _blob(params.get("CiphertextBlob"), "CiphertextBlob", most=6144),
            params.get("KeyId"),
            _context(params.get("EncryptionContext")),
            params.get("EncryptionAlgorithm"),
            ctx,
        )
        return {"KeyId": key["Arn"], "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}

    @operation("ReEncrypt")
    def re_encrypt(self, params: Params, ctx: RequestContext) -> Result:
        source, plaintext, source_algorithm = self._decrypt(
            _blob(params.get("CiphertextBlob"), "CiphertextBlob", most=6144),
            params.get("SourceKeyId"),
            _context(params.get("SourceEncryptionContext")),
            params.get("SourceEncryptionAlgorithm"),
            ctx,
        )
        destination = self._resolve(params.get("DestinationKeyId"), ctx)
        blob, algorithm = self._encrypt(
            destination,
            plaintext,
            _context(params.get("DestinationEncryptionContext")),
            params.get("DestinationEncryptionAlgorithm"),
        )
        return {
            "CiphertextBlob": blob,
            "SourceKeyId": source["Arn"],
            "KeyId": destination["Arn"],
            "SourceEncryptionAlgorithm": source_algorithm,
            "DestinationEncryptionAlgorithm": algorithm,
        }

    def _data_key(self, params: Params, ctx: RequestContext) -> tuple[dict[str, Any], bytes, bytes]:
        key = self._resolve(params.get("KeyId"), ctx)
        spec, size = params.get("KeySpec"), params.get("NumberOfBytes")
        if (spec is None) == (size is None):
            raise _validation("Please specify either number of bytes or key spec.")  # AWS's text
        if spec is not None:
            if spec not in ("AES_256", "AES_128"):
                raise _validation(f"Value '{spec}' at 'keySpec' failed to satisfy constraint")
            size = 32 if spec == "AES_256" else 16
        if not isinstance(size, int) or not 1 <= size <= 1024:
            raise _validation(
                f"1 validation error detected: Value '{size}' at 'numberOfBytes' failed to "
                "satisfy constraint: Member must have value less than or equal to 1024"
            )
        if key["KeySpec"] != "SYMMETRIC_DEFAULT":
            self._usable(key, None, "GenerateDataKey")
            raise AwsError(
                "InvalidKeyUsageException",
                f"{key['Arn']} key usage is {key['KeyUsage']} which is not valid for "
                "GenerateDataKey.",
            )
        plaintext = os.urandom(size)
        blob, _ = self._encrypt(key, plaintext, _context(params.get("EncryptionContext")), None)
        return key, plaintext, blob

    @operation("GenerateDataKey")
    def generate_data_key(self, params: Params, ctx: RequestContext) -> Result:
        key, plaintext, blob = self._data_key(params, ctx)
        return {"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": key["Arn"]}

    @operation("GenerateDataKeyWithoutPlaintext")
    def generate_data_key_without_plaintext(self, params: Params, ctx: RequestContext) -> Result:
        key, _, blob = self._data_key(params, ctx)
        return {"CiphertextBlob": blob, "KeyId": key["Arn"]}

    def _data_key_pair(self, params: Params, ctx: RequestContext) -> Result:
        key = self._resolve(params.get("KeyId"), ctx)
        spec = params.get("KeyPairSpec")
        if spec not in key_material.PAIR_SPECS:
            raise _validation(
                f"1 validation error detected: Value '{spec}' at 'keyPairSpec' failed to satisfy "
                "constraint: Member must satisfy enum value set"
            )
        if key["KeySpec"] != "SYMMETRIC_DEFAULT":
            raise AwsError(
                "InvalidKeyUsageException",
                f"{key['Arn']} key usage is {key['KeyUsage']} which is not valid for "
                "GenerateDataKeyPair.",
            )
        private, public = key_material.key_pair(str(spec))
        blob, _ = self._encrypt(key, private, _context(params.get("EncryptionContext")), None)
        return {
            "PrivateKeyCiphertextBlob": blob,
            "PrivateKeyPlaintext": private,
            "PublicKey": public,
            "KeyId": key["Arn"],
            "KeyPairSpec": spec,
        }

    @operation("GenerateDataKeyPair")
    def generate_data_key_pair(self, params: Params, ctx: RequestContext) -> Result:
        return self._data_key_pair(params, ctx)

    @operation("GenerateDataKeyPairWithoutPlaintext")
    def generate_data_key_pair_without_plaintext(
        self, params: Params, ctx: RequestContext
    ) -> Result:
        result = self._data_key_pair(params, ctx)
        del result["PrivateKeyPlaintext"]
        return result

    @operation("GenerateRandom")
    def generate_random(self, params: Params, ctx: RequestContext) -> Result:
        size = params.get("NumberOfBytes")
        if not isinstance(size, int) or not 1 <= size <= 1024:
            raise _validation(
                f"1 validation error detected: Value '{size}' at 'numberOfBytes' failed to "
                "satisfy constraint: Member must have value less than or equal to 1024"
            )
        return {"Plaintext": os.urandom(size)}

    # -- signing and MACs ------------------------------------------------------------------

    def _signing_key(
        self, params: Params, ctx: RequestContext, operation_name: str
    ) -> tuple[dict[str, Any], str, bytes, bool]:
        key = self._resolve(params.get("KeyId"), ctx)
        self._usable(key, SIGN_VERIFY, operation_name)
        algorithm = str(params.get("SigningAlgorithm") or "")
        allowed = key_material.algorithms(key["KeySpec"], key["KeyUsage"])["SigningAlgorithms"]
        if algorithm not in allowed:
            raise AwsError(
                "InvalidKeyUsageException",
                f"Algorithm {algorithm} is incompatible with key spec {key['KeySpec']}.",
            )  # guessed text
        message = _blob(params.get("Message"), "Message")
        kind = params.get("MessageType") or "RAW"
        if kind not in ("RAW", "DIGEST"):
            raise _validation(
                f"1 validation error detected: Value '{kind}' at 'messageType' failed to satisfy "
                "constraint: Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]"
            )
        return key, algorithm, message, kind == "DIGEST"

    @operation("Sign")
    def sign(self, params: Params, ctx: RequestContext) -> Result:
        key, algorithm, message, digest = self._signing_key(params, ctx, "Sign")
        try:
            signature = key_material.sign(key["Material"], algorithm, message, digest=digest)
        except ValueError:
            raise _validation(
                "Digest is invalid length for algorithm " + algorithm + "."
            ) from None  # AWS's text
        return {"KeyId": key["Arn"], "Signature": signature, "SigningAlgorithm": algorithm}

    @operation("Verify")
    def verify(self, params: Params, ctx: RequestContext) -> Result:
        key, algorithm, message, digest = self._signing_key(params, ctx, "Verify")
        signature = _blob(params.get("Signature"), "Signature", most=6144)
        if not key_material.verify(key["Material"], algorithm, message, signature, digest=digest):
            raise AwsError("KMSInvalidSignatureException", "")  # AWS gives no message
        return {"KeyId": key["Arn"], "SignatureValid": True, "SigningAlgorithm": algorithm}

    @operation("GetPublicKey")
    def get_public_key(self, params: Params, ctx: RequestContext) -> Result:
        key = self._resolve(params.get("KeyId"), ctx)
        self._usable(key, None, "GetPublicKey")
        if key["KeySpec"] not in key_material.PAIR_SPECS:
            raise AwsError(
                "UnsupportedOperationException",
                f"{key['Arn']} key usage is {key['KeyUsage']} which is not valid for GetPublicKey.",
            )  # guessed text
        result: Result = {
            "KeyId": key["Arn"],
            "PublicKey": key_material.public_der(key["Material"]),
            "CustomerMasterKeySpec": key["KeySpec"],
            "KeySpec": key["KeySpec"],
            "KeyUsage": key["KeyUsage"],
        }
        result.update(key_material.algorithms(key["KeySpec"], key["KeyUsage"]))
        return result

    def _mac_key(
        self, params: Params, ctx: RequestContext, operation_name: str
    ) -> tuple[dict[str, Any], str, bytes]:
        key = self._resolve(params.get("KeyId"), ctx)
        self._usable(key, GENERATE_VERIFY_MAC, operation_name)
        algorithm = str(params.get("MacAlgorithm") or "")
        if (
            algorithm
            not in key_material.algorithms(key["KeySpec"], key["KeyUsage"])["MacAlgorithms"]
        ):
            raise AwsError(
                "InvalidKeyUsageException",
                f"Algorithm {algorithm} is incompatible with key spec {key['KeySpec']}.",
            )  # guessed text
        return key, algorithm, _blob(params.get("Message"), "Message")

    @operation("GenerateMac")
    def generate_mac(self, params: Params, ctx: RequestContext) -> Result:
        key, algorithm, message = self._mac_key(params, ctx, "GenerateMac")
        return {
            "Mac": key_material.mac(key["Material"], algorithm, message),
            "MacAlgorithm": algorithm,
            "KeyId": key["Arn"],
        }

    @operation("VerifyMac")
    def verify_mac(self, params: Params, ctx: RequestContext) -> Result:
        key, algorithm, message = self._mac_key(params, ctx, "VerifyMac")
        given = as_bytes(params.get("Mac") or b"")
        expected = key_material.mac(key["Material"], algorithm, message)
        if not hmac.compare_digest(given, expected):
            raise AwsError("KMSInvalidMacException", "")  # AWS gives no message
        return {"KeyId": key["Arn"], "MacValid": True, "MacAlgorithm": algorithm}

    # -- policies, tags, rotation ----------------------------------------------------------

    @operation("GetKeyPolicy")
    def get_key_policy(self, params: Params, ctx: RequestContext) -> Result:
        key = self._resolve(params.get("KeyId"), ctx)
        name = params.get("PolicyName") or "default"
        if name != "default":
            raise AwsError("NotFoundException", "No such policy exists")  # guessed text
        return {"Policy": key["Policy"], "PolicyName": "default"}

    @operation("PutKeyPolicy")
    def put_key_policy(self, params: Params, ctx: RequestContext) -> Result:
        policy = _text(params.get("Policy"), "Policy")
        _check_policy(policy)
        if (params.get("PolicyName") or "default") != "default":
            raise _validation("PolicyName must be default")  # guessed text

        def put(key: dict[str, Any]) -> None:
            key["Policy"] = policy

        return self._change(params, ctx, put)

    @operation("ListKeyPolicies")
    def list_key_policies(self, params: Params, ctx: RequestContext) -> Result:
        self._resolve(params.get("KeyId"), ctx)
        return {"PolicyNames": ["default"], "Truncated": False}

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        added = _tags(params.get("Tags"))

        def tag(key: dict[str, Any]) -> None:
            if key["KeyState"] == "PendingDeletion":
                raise _invalid_state(f"{key['Arn']} is pending deletion.")
            key["Tags"].update(added)

        return self._change(params, ctx, tag)

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        removed = [str(k) for k in params.get("TagKeys") or []]

        def untag(key: dict[str, Any]) -> None:
            if key["KeyState"] == "PendingDeletion":
                raise _invalid_state(f"{key['Arn']} is pending deletion.")
            for name in removed:
                key["Tags"].pop(name, None)

        return self._change(params, ctx, untag)

    @operation("ListResourceTags")
    def list_resource_tags(self, params: Params, ctx: RequestContext) -> Result:
        key = self._resolve(params.get("KeyId"), ctx)
        tags = [{"TagKey": k, "TagValue": v} for k, v in sorted(key["Tags"].items())]
        return _listed("Tags", tags, params)

    def _rotatable(self, key: dict[str, Any]) -> None:
        self._usable(key, None, "rotation")
        if key["KeySpec"] != "SYMMETRIC_DEFAULT":
            raise AwsError(
                "UnsupportedOperationException",
                f"{key['Arn']} key usage is {key['KeyUsage']} which is not valid for key rotation.",
            )  # guessed text

    @operation("EnableKeyRotation")
    def enable_key_rotation(self, params: Params, ctx: RequestContext) -> Result:
        days = params.get("RotationPeriodInDays", DEFAULT_ROTATION_DAYS)
        if not isinstance(days, int) or not 90 <= days <= 2560:
            raise _validation(
                f"1 validation error detected: Value '{days}' at 'rotationPeriodInDays' failed "
                "to satisfy constraint: Member must have value between 90 and 2560"
            )

        def enable(key: dict[str, Any]) -> None:
            self._rotatable(key)
            key["RotationEnabled"] = True
            key["RotationPeriodInDays"] = days
            key["RotationStarted"] = self.env.clock.now()

        return self._change(params, ctx, enable)

    @operation("DisableKeyRotation")
    def disable_key_rotation(self, params: Params, ctx: RequestContext) -> Result:
        def disable(key: dict[str, Any]) -> None:
            self._rotatable(key)
            key["RotationEnabled"] = False

        return self._change(params, ctx, disable)

    @operation("GetKeyRotationStatus")
    def get_key_rotation_status(self, params: Params, ctx: RequestContext) -> Result:
        key = self._resolve(params.get("KeyId"), ctx)
        result: Result = {"KeyRotationEnabled": bool(key["RotationEnabled"]), "KeyId": key["Arn"]}
        if key["RotationEnabled"]:
            period = int(key.get("RotationPeriodInDays") or DEFAULT_ROTATION_DAYS)
            started = float(key.get("RotationStarted") or key["CreationDate"])
            result["RotationPeriodInDays"] = period
            result["NextRotationDate"] = as_datetime(started + period * DAY)
        return result


def _check_policy(policy: Any) -> None:
    if json_object(str(policy)) is None:
        raise AwsError(
            "MalformedPolicyDocumentException", "The key policy is not a valid JSON document."
        )  # guessed text
