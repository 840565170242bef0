"""AWS Secrets Manager: secrets, their versions and staging labels, deletion, rotation.

Secret values are kept as given: there is no KMS here, ``KmsKeyId`` is only stored and
answered back. A deleted secret lives on through its recovery window and goes at its
DeletionDate on the headwater clock (a ``ClockTicker`` sweeper, and every read treats a
secret past its date as gone), so a ``ManualClock`` drives it. Resource policies are
stored and answered, never enforced. RotateSecret runs the rotation function's four
steps synchronously, one invocation each, as AWS does asynchronously.

Error texts come from AWS's API reference and observed answers; the few that are guesses
say so where they are raised.
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
import string
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.paging import OffsetTokens
from headwater.core.tag_lists import tag_list, tag_pairs
from headwater.core.values import as_bytes, as_datetime
from headwater.services.base import (
    Params,
    RequestContext,
    Result,
    Service,
    ServiceEnvironment,
    operation,
)
from headwater.services.secretsmanager.store import SecretRecord, SecretStore, SecretVersion
from headwater.services.ticker import ClockTicker

log = logging.getLogger(__name__)

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
PENDING = "AWSPENDING"
DAY = 86400.0
#: Clock seconds between sweeps for secrets whose recovery window ended.
SWEEP_INTERVAL = 60.0
DEFAULT_RECOVERY_DAYS = 30
#: Versions AWS keeps per secret; the oldest unlabeled ("deprecated") ones go first.
MAX_VERSIONS = 100
MAX_SECRET_BYTES = 65536
MAX_LIST_RESULTS = 100
ROTATION_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
#: GetRandomPassword's punctuation: every printable ASCII symbol, as AWS documents it.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_NAME = re.compile(r"^[A-Za-z0-9/_+=.@\-]{1,512}$")
_SUFFIX_ALPHABET = string.ascii_letters + string.digits


def not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")


def _invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def _invalid_request(message: str) -> AwsError:
    return AwsError("InvalidRequestException", message)


def _marked_for_deletion() -> AwsError:
    return _invalid_request(
        "You can't perform this operation on the secret because it was marked for deletion."
    )


def secret_arn(region: str, account: str, name: str) -> str:
    """A new secret's ARN: its name and the six random characters AWS appends."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}"


def _day(epoch: float) -> float:
    """Midnight UTC of ``epoch``'s day: AWS keeps LastAccessedDate to the day."""
    return epoch - epoch % DAY


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        # AWS's text for a name with other characters (observed; moto answers the same).
        raise _invalid_parameter(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of "
            "the following: -/_+=.@!"
        )
    return name


def _value_of(params: Params, *, required: bool) -> tuple[str | None, str | None]:
    """The request's SecretString, and its SecretBinary base64-encoded (the stored form)."""
    text = params.get("SecretString")
    blob = params.get("SecretBinary")
    if text is not None and blob is not None:
        raise _invalid_parameter(
            "You can't specify both a binary secret value and a string secret value in the "
            "same secret."
        )
    if text is None and blob is None:
        if required:
            # A guess at AWS's words: its API reference says one of the two is required.
            raise _invalid_request("You must provide either SecretString or SecretBinary.")
        return None, None
    if text is not None:
        if len(str(text).encode("utf-8")) > MAX_SECRET_BYTES:
            raise _invalid_parameter("SecretString must be no larger than 65536 bytes.")
        return str(text), None
    raw = as_bytes(blob)
    if len(raw) > MAX_SECRET_BYTES:
        raise _invalid_parameter("SecretBinary must be no larger than 65536 bytes.")
    return None, base64.b64encode(raw).decode("ascii")


def _same_value(version: SecretVersion, text: str | None, blob: str | None) -> bool:
    return version.secret_string == text and version.secret_binary == blob


def _token_offset(token: Any) -> int:
    offset = orjson.loads(base64.urlsafe_b64decode(str(token).encode("ascii")))["offset"]
    if not isinstance(offset, int):
        raise TypeError(offset)
    return offset


# Tokens are {"offset": n} in URL-safe base64; an empty one is refused, not read as none.
_TOKENS = OffsetTokens(
    # A guess at AWS's words for a token it did not hand out.
    invalid=lambda _: AwsError("InvalidNextTokenException", "The NextToken value is invalid."),
    encode=lambda offset: base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode(),
    decode=_token_offset,
    blank_starts=False,
)


def _max_results(params: Params) -> int:
    limit = params.get("MaxResults", MAX_LIST_RESULTS)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_RESULTS:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy "
            "constraint: Member must have value less than or equal to 100",
        )
    return limit


def _tags_list(given: Any) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tag_pairs(given)]


def _merge_tags(current: list[dict[str, str]], added: list[dict[str, str]]) -> list[dict[str, str]]:
    merged = {tag["Key"]: tag["Value"] for tag in current}
    merged.update({tag["Key"]: tag["Value"] for tag in added})
    return tag_list(merged)


# ------------------------------------------------------------------------- ListSecrets filters

FILTER_KEYS = (
    "description",
    "name",
    "tag-key",
    "tag-value",
    "primary-region",
    "owning-service",
    "all",
)


def _filter_matches(record: SecretRecord, key: str, value: str) -> bool:
    """Whether ``record`` matches one filter value (a ``!`` first negates it), as the API
    reference describes each key: prefix matches, case-sensitive except description and
    all; ``all`` looks for each word of the value in every attribute."""
    if value.startswith("!"):
        return not _filter_matches(record, key, value[1:])
    if key == "name":
        return record.name.startswith(value)
    if key == "description":
        return (record.description or "").lower().startswith(value.lower())
    if key == "tag-key":
        return any(tag["Key"].startswith(value) for tag in record.tags)
    if key == "tag-value":
        return any(tag["Value"].startswith(value) for tag in record.tags)
    if key in ("primary-region", "owning-service"):
        return False  # no replicas and no managed secrets here
    words = [record.name, record.description or ""]
    words += [tag["Key"] for tag in record.tags] + [tag["Value"] for tag in record.tags]
    haystack = " ".join(words).lower()
    return all(word.lower() in haystack for word in value.split())


def record_filter(filters: list[dict[str, Any]]) -> Callable[[SecretRecord], bool]:
    """ListSecrets' and BatchGetSecretValue's ``Filters``: every filter must match, and a
    filter matches when any of its values does."""
    for given in filters:
        if given.get("Key") not in FILTER_KEYS:
            raise _invalid_parameter(f"Invalid filter key: {given.get('Key')}")  # guessed text

    def matches(record: SecretRecord) -> bool:
        return all(
            any(_filter_matches(record, str(f["Key"]), str(v)) for v in f.get("Values") or [])
            for f in filters
        )

    return matches


# ------------------------------------------------------------------------- random passwords


def random_password(
    length: int = 32,
    *,
    exclude_characters: str = "",
    exclude_numbers: bool = False,
    exclude_punctuation: bool = False,
    exclude_uppercase: bool = False,
    exclude_lowercase: bool = False,
    include_space: bool = False,
    require_each_included_type: bool = True,
) -> str:
    """A password as GetRandomPassword (and CloudFormation's GenerateSecretString) makes one."""
    if not 1 <= length <= 4096:
        raise _invalid_parameter("Password length must be between 1 and 4096.")  # guessed text
    classes = []
    for excluded, characters in (
        (exclude_lowercase, string.ascii_lowercase),
        (exclude_uppercase, string.ascii_uppercase),
        (exclude_numbers, string.digits),
        (exclude_punctuation, PUNCTUATION),
        (not include_space, " "),
    ):
        if not excluded:
            kept = "".join(c for c in characters if c not in exclude_characters)
            if kept:
                classes.append(kept)
    if not classes:
        # A guess at AWS's words.
        raise _invalid_parameter("The password can't be generated: every character is excluded.")
    if require_each_included_type and len(classes) > length:
        raise _invalid_parameter(
            "The password length is too short to include every required character type."
        )  # guessed text
    alphabet = "".join(classes)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if not require_each_included_type or all(
            any(c in kind for c in password) for kind in classes
        ):
            return password


class SecretsManagerService(Service):
    service_name = "secretsmanager"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self._store = SecretStore(env.database)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._sweeper = ClockTicker(
            env.clock, SWEEP_INTERVAL, self.sweep, name="secretsmanager-sweeper"
        ).start()

    def close(self) -> None:
        self._sweeper.stop()
        super().close()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One read-then-write of a secret: a transaction whose reads lock the rows they
        read (other processes and nodes wait), so no write is lost to another's."""
        with self._lock, self.env.database.transaction():
            self._local.writing = True
            try:
                yield
            finally:
                self._local.writing = False

    def sweep(self, now: float | None = None) -> int:
        """Delete the secrets whose recovery window has ended; answers how many went."""
        return self._store.purge_deleted(self.env.clock.now() if now is None else now)

    # -- Python API ------------------------------------------------------------------------

    def secret_value(
        self,
        secret_id: str,
        *,
        version_stage: str | None = None,
        version_id: str | None = None,
        ctx: RequestContext | None = None,
    ) -> Result:
        """GetSecretValue's answer (CloudFormation's dynamic references read through here)."""
        params: Params = {"SecretId": secret_id}
        if version_stage:
            params["VersionStage"] = version_stage
        if version_id:
            params["VersionId"] = version_id
        return self.get_secret_value(params, ctx or self.env.default_context())

    # -- lookups ---------------------------------------------------------------------------

    def _find(self, secret_id: Any, ctx: RequestContext) -> SecretRecord | None:
        """The secret a SecretId names: its name, its full ARN, or its ARN without the
        random suffix (a partial ARN). A secret past its deletion date is gone."""
        if not isinstance(secret_id, str) or not secret_id:
            return None
        name = secret_id
        lock = bool(getattr(self._local, "writing", False))
        if secret_id.startswith("arn:"):
            parts = secret_id.split(":", 6)
            if len(parts) != 7 or parts[2] != "secretsmanager" or parts[5] != "secret":
                return None
            if parts[3] != ctx.region or parts[4] != ctx.account:
                return None
            name = parts[6]
            if len(name) > 7 and name[-7] == "-":
                record = self._store.get(ctx.account, ctx.region, name[:-7], for_update=lock)
                if record is not None and record.arn == secret_id:
                    return self._live(record, ctx)
        record = self._store.get(ctx.account, ctx.region, name, for_update=lock)
        return None if record is None else self._live(record, ctx)

    def _live(self, record: SecretRecord, ctx: RequestContext) -> SecretRecord | None:
        if record.deletion_date is not None and record.deletion_date <= self.env.clock.now():
            self._store.delete(ctx.account, ctx.region, record.name)
            return None
        return record

    def _secret(self, params: Params, ctx: RequestContext, *, live: bool = False) -> SecretRecord:
        record = self._find(params.get("SecretId"), ctx)
        if record is None:
            raise not_found()
        if live and record.deletion_date is not None:
            raise _marked_for_deletion()
        return record

    def _changed(self, record: SecretRecord, ctx: RequestContext) -> None:
        record.last_changed = self.env.clock.now()
        self._store.put(ctx.account, ctx.region, record)

    # -- versions ----------------------------------------------------------------------------

    def _add_version(
        self,
        record: SecretRecord,
        token: Any,
        text: str | None,
        blob: str | None,
        stages: list[str] | None = None,
    ) -> tuple[SecretVersion, bool]:
        """A new version of ``record`` holding the value (or the version ``token`` made
        before, when it holds the same value); answers it and whether it is new."""
        version_id = str(token) if token else str(uuid.uuid4())
        existing = record.version_with_id(version_id)
        if existing is not None:
            if _same_value(existing, text, blob):
                return existing, False
            # AWS refuses to change a version's value; text as observed on AWS (moto's too).
            raise AwsError(
                "ResourceExistsException",
                "You can't modify an existing version, you can only create a new version.",
            )
        version = SecretVersion(
            version_id=version_id,
            created=self.env.clock.now(),
            secret_string=text,
            secret_binary=blob,
        )
        record.versions.append(version)
        for stage in [CURRENT] if stages is None else stages:
            self._attach(record, stage, version)
        self._prune(record)
        return version, True

    def _attach(self, record: SecretRecord, stage: str, version: SecretVersion) -> None:
        """Move ``stage`` to ``version``; AWSCURRENT leaves AWSPREVIOUS on the version it
        was on."""
        holder = record.version_with_stage(stage)
        if holder is version:
            return
        if holder is not None:
            holder.stages.remove(stage)
            if stage == CURRENT:
                previous = record.version_with_stage(PREVIOUS)
                if previous is not None:
                    previous.stages.remove(PREVIOUS)
                holder.stages.append(PREVIOUS)
        if stage == CURRENT and PREVIOUS in version.stages:
            version.stages.remove(PREVIOUS)
        version.stages.append(stage)

    @staticmethod
    def _prune(record: SecretRecord) -> None:
        while len(record.versions) > MAX_VERSIONS:
            deprecated = next((v for v in record.versions if not v.stages), None)
            if deprecated is None:
                return
            record.versions.remove(deprecated)

    def _chosen_version(self, record: SecretRecord, params: Params) -> SecretVersion:
        version_id = params.get("VersionId")
        stage = params.get("VersionStage")
        if version_id:
            version = record.version_with_id(str(version_id))
            if version is None:
                raise AwsError(
                    "ResourceNotFoundException",
                    f"Secrets Manager can't find the specified secret value for VersionId: "
                    f"{version_id}",
                )
            if stage and stage not in version.stages:
                raise _invalid_request(
                    "You provided a VersionStage that is not associated to the provided VersionId."
                )
            return version
        stage = str(stage or CURRENT)
        found = record.version_with_stage(stage)
        if found is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"Secrets Manager can't find the specified secret value for staging label: {stage}",
            )
        return found

    def _value_answer(self, record: SecretRecord, version: SecretVersion) -> Result:
        answer: Result = {
            "ARN": record.arn,
            "Name": record.name,
            "VersionId": version.version_id,
            "VersionStages": list(version.stages),
            "CreatedDate": as_datetime(version.created),
        }
        if version.secret_string is not None:
            answer["SecretString"] = version.secret_string
        if version.secret_binary is not None:
            answer["SecretBinary"] = base64.b64decode(version.secret_binary)
        return answer

    def _read(self, record: SecretRecord, params: Params, ctx: RequestContext) -> Result:
        """A version's value, noting the day it was read (written once a day at most)."""
        if record.deletion_date is not None:
            raise _marked_for_deletion()
        version = self._chosen_version(record, params)
        today = _day(self.env.clock.now())
        if record.last_accessed != today or version.last_accessed != today:
            with self._writing():
                fresh = self._find(record.name, ctx)
                if fresh is not None:
                    fresh.last_accessed = today
                    for kept in fresh.versions:
                        if kept.version_id == version.version_id:
                            kept.last_accessed = today
                    self._store.put(ctx.account, ctx.region, fresh)
        return self._value_answer(record, version)

    # -- operations: create, read, write ----------------------------------------------------

    @operation("CreateSecret")
    def create_secret(self, params: Params, ctx: RequestContext) -> Result:
        name = _check_name(params.get("Name"))
        text, blob = _value_of(params, required=False)
        with self._writing():
            existing = self._store.get(ctx.account, ctx.region, name, for_update=True)
            if existing is not None and self._live(existing, ctx) is not None:
                if existing.deletion_date is not None:
                    raise _invalid_request(
                        "You can't create this secret because a secret with this name is "
                        "already scheduled for deletion."
                    )
                token = params.get("ClientRequestToken")
                version = existing.version_with_id(str(token)) if token else None
                if version is None or not _same_value(version, text, blob):
                    raise AwsError(
                        "ResourceExistsException",
                        f"The operation failed because the secret {name} already exists.",
                    )
                # The same request again (same token, same value): the same answer.
                return {"ARN": existing.arn, "Name": name, "VersionId": version.version_id}
            now = self.env.clock.now()
            record = SecretRecord(
                name=name,
                arn=secret_arn(ctx.region, ctx.account, name),
                created=now,
                last_changed=now,
                description=params.get("Description"),
                kms_key_id=params.get("KmsKeyId"),
                tags=_tags_list(params.get("Tags")),
            )
            answer: Result = {"ARN": record.arn, "Name": name}
            if text is not None or blob is not None:
                version, _ = self._add_version(record, params.get("ClientRequestToken"), text, blob)
                answer["VersionId"] = version.version_id
            self._store.put(ctx.account, ctx.region, record)
        return answer

    @operation("GetSecretValue")
    def get_secret_value(self, params: Params, ctx: RequestContext) -> Result:
        return self._read(self._secret(params, ctx), params, ctx)

    @operation("BatchGetSecretValue")
    def batch_get_secret_value(self, params: Params, ctx: RequestContext) -> Result:
        ids = params.get("SecretIdList")
        filters = params.get("Filters")
        if ids and filters:
            raise _invalid_parameter(
                "Either 'SecretIdList' or 'Filters' must be provided, but not both."
            )
        if params.get("MaxResults") is not None and not filters:
            raise _invalid_parameter(
                "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' "
                "is provided."
            )
        values: list[Result] = []
        errors: list[Result] = []
        if ids:
            for secret_id in ids:
                try:
                    values.append(self._read(self._secret({"SecretId": secret_id}, ctx), {}, ctx))
                except AwsError as error:
                    errors.append(
                        {"SecretId": secret_id, "ErrorCode": error.code, "Message": error.message}
                    )
            return {"SecretValues": values, "Errors": errors}
        matching = record_filter(filters or [])
        chosen = [r for r in self._listed(ctx, planned_deletion=False) if matching(r)]
        page, token = self._page(chosen, params)
        for record in page:
            try:
                values.append(self._read(record, {}, ctx))
            except AwsError as error:
                errors.append(
                    {"SecretId": record.arn, "ErrorCode": error.code, "Message": error.message}
                )
        answer: Result = {"SecretValues": values, "Errors": errors}
        if token:
            answer["NextToken"] = token
        return answer

    @operation("PutSecretValue")
    def put_secret_value(self, params: Params, ctx: RequestContext) -> Result:
        text, blob = _value_of(params, required=True)
        stages = params.get("VersionStages")
        with self._writing():
            record = self._secret(params, ctx, live=True)
            version, created = self._add_version(
                record,
                params.get("ClientRequestToken"),
                text,
                blob,
                None if stages is None else [str(stage) for stage in stages],
            )
            if created:
                self._changed(record, ctx)
        return {
            "ARN": record.arn,
            "Name": record.name,
            "VersionId": version.version_id,
            "VersionStages": list(version.stages),
        }

    @operation("UpdateSecret")
    def update_secret(self, params: Params, ctx: RequestContext) -> Result:
        text, blob = _value_of(params, required=False)
        with self._writing():
            record = self._secret(params, ctx, live=True)
            if params.get("Description") is not None:
                record.description = str(params["Description"])
            if params.get("KmsKeyId") is not None:
                record.kms_key_id = str(params["KmsKeyId"])
            answer: Result = {"ARN": record.arn, "Name": record.name}
            if text is not None or blob is not None:
                version, _ = self._add_version(record, params.get("ClientRequestToken"), text, blob)
                answer["VersionId"] = version.version_id
            self._changed(record, ctx)
        return answer

    # -- describing and listing ------------------------------------------------------------

    def _entry(self, record: SecretRecord, stages_key: str) -> Result:
        entry: Result = {
            "ARN": record.arn,
            "Name": record.name,
            "RotationEnabled": record.rotation_enabled,
            "LastChangedDate": as_datetime(record.last_changed),
            "CreatedDate": as_datetime(record.created),
            stages_key: {v.version_id: list(v.stages) for v in record.versions if v.stages},
        }
        if record.description is not None:
            entry["Description"] = record.description
        if record.kms_key_id is not None:
            entry["KmsKeyId"] = record.kms_key_id
        if record.tags:
            entry["Tags"] = [dict(tag) for tag in record.tags]
        if record.last_accessed is not None:
            entry["LastAccessedDate"] = as_datetime(record.last_accessed)
        if record.deleted_date is not None:
            entry["DeletedDate"] = as_datetime(record.deleted_date)
        if record.rotation_lambda_arn:
            entry["RotationLambdaARN"] = record.rotation_lambda_arn
        if record.rotation_rules:
            entry["RotationRules"] = dict(record.rotation_rules)
            days = record.rotation_rules.get("AutomaticallyAfterDays")
            if record.rotation_enabled and days and record.last_rotated is not None:
                entry["NextRotationDate"] = as_datetime(_day(record.last_rotated) + int(days) * DAY)
        if record.last_rotated is not None:
            entry["LastRotatedDate"] = as_datetime(record.last_rotated)
        return entry

    @operation("DescribeSecret")
    def describe_secret(self, params: Params, ctx: RequestContext) -> Result:
        return self._entry(self._secret(params, ctx), "VersionIdsToStages")

    def _listed(self, ctx: RequestContext, *, planned_deletion: bool) -> list[SecretRecord]:
        now = self.env.clock.now()
        return [
            record
            for record in self._store.all(ctx.account, ctx.region)
            if record.deletion_date is None or (planned_deletion and record.deletion_date > now)
        ]

    def _page(
        self, records: list[SecretRecord], params: Params
    ) -> tuple[list[SecretRecord], str | None]:
        return _TOKENS.page(records, params.get("NextToken"), _max_results(params))

    @operation("ListSecrets")
    def list_secrets(self, params: Params, ctx: RequestContext) -> Result:
        matching = record_filter(params.get("Filters") or [])
        records = [
            r
            for r in self._listed(ctx, planned_deletion=bool(params.get("IncludePlannedDeletion")))
            if matching(r)
        ]
        sort_by = params.get("SortBy") or "created-date"
        keys: dict[str, Callable[[SecretRecord], Any]] = {
            "created-date": lambda r: (r.created, r.name),
            "last-changed-date": lambda r: (r.last_changed, r.name),
            "last-accessed-date": lambda r: (r.last_accessed or 0.0, r.name),
            "name": lambda r: r.name,
        }
        records.sort(key=keys.get(str(sort_by), keys["created-date"]))
        if params.get("SortOrder") == "desc":
            records.reverse()
        page, token = self._page(records, params)
        answer: Result = {"SecretList": [self._entry(r, "SecretVersionsToStages") for r in page]}
        if token:
            answer["NextToken"] = token
        return answer

    @operation("ListSecretVersionIds")
    def list_secret_version_ids(self, params: Params, ctx: RequestContext) -> Result:
        record = self._secret(params, ctx)
        deprecated = bool(params.get("IncludeDeprecated"))
        versions = [v for v in reversed(record.versions) if v.stages or deprecated]
        shown, token = _TOKENS.page(versions, params.get("NextToken"), _max_results(params))
        listed = []
        for version in shown:
            entry: Result = {
                "VersionId": version.version_id,
                "VersionStages": list(version.stages),
                "CreatedDate": as_datetime(version.created),
                "KmsKeyIds": [record.kms_key_id or "DefaultEncryptionKey"],
            }
            if version.last_accessed is not None:
                entry["LastAccessedDate"] = as_datetime(version.last_accessed)
            listed.append(entry)
        answer: Result = {"Versions": listed, "ARN": record.arn, "Name": record.name}
        if token:
            answer["NextToken"] = token
        return answer

    @operation("UpdateSecretVersionStage")
    def update_secret_version_stage(self, params: Params, ctx: RequestContext) -> Result:
        stage = str(params.get("VersionStage", ""))
        remove_from = params.get("RemoveFromVersionId")
        move_to = params.get("MoveToVersionId")
        with self._writing():
            record = self._secret(params, ctx, live=True)
            holder = record.version_with_stage(stage)
            for version_id in (remove_from, move_to):
                if version_id and record.version_with_id(str(version_id)) is None:
                    raise AwsError(
                        "ResourceNotFoundException",
                        f"Secrets Manager can't find the specified secret value for VersionId: "
                        f"{version_id}",
                    )
            if remove_from and (holder is None or holder.version_id != remove_from):
                # A guess at AWS's words.
                raise _invalid_parameter(
                    f"The staging label {stage} is not attached to version {remove_from}, so "
                    "you can't remove it."
                )
            if move_to and holder is not None and holder.version_id != move_to and not remove_from:
                raise _invalid_parameter(
                    f"The parameter RemoveFromVersionId can't be empty. Staging label {stage} is "
                    f"currently attached to version {holder.version_id}, so you must explicitly "
                    "reference that version in RemoveFromVersionId."
                )
            if move_to:
                self._attach(record, stage, record.version_with_id(str(move_to)))  # type: ignore[arg-type]
            elif holder is not None:
                if stage == CURRENT:
                    raise _invalid_parameter(
                        "You can't remove the staging label AWSCURRENT from a version: move it "
                        "to another version instead."
                    )  # guessed text
                holder.stages.remove(stage)
            self._changed(record, ctx)
        return {"ARN": record.arn, "Name": record.name}

    # -- deletion ----------------------------------------------------------------------------

    @operation("DeleteSecret")
    def delete_secret(self, params: Params, ctx: RequestContext) -> Result:
        force = bool(params.get("ForceDeleteWithoutRecovery"))
        window = params.get("RecoveryWindowInDays")
        if force and window is not None:
            raise _invalid_parameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
            )
        if window is not None and not 7 <= int(window) <= 30:
            raise _invalid_parameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
            )
        with self._writing():
            now = self.env.clock.now()
            secret_id = params.get("SecretId")
            if force and self._find(secret_id, ctx) is None:
                # AWS's API reference: forcing the deletion of a secret that is not there
                # does not answer ResourceNotFoundException. What it answers instead is a
                # guess: the SecretId as given.
                gone: Result = {"Name": str(secret_id), "DeletionDate": as_datetime(now)}
                if str(secret_id).startswith("arn:"):
                    gone["ARN"] = str(secret_id)
                return gone
            record = self._secret(params, ctx)
            if force:
                self._store.delete(ctx.account, ctx.region, record.name)
                return {"ARN": record.arn, "Name": record.name, "DeletionDate": as_datetime(now)}
            if record.deletion_date is not None:
                raise _invalid_request(
                    "You can't perform this operation on the secret because it was already "
                    "scheduled for deletion."
                )
            record.deleted_date = now
            record.deletion_date = now + int(window or DEFAULT_RECOVERY_DAYS) * DAY
            self._store.put(ctx.account, ctx.region, record)
        return {
            "ARN": record.arn,
            "Name": record.name,
            "DeletionDate": as_datetime(record.deletion_date),
        }

    @operation("RestoreSecret")
    def restore_secret(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            record = self._secret(params, ctx)
            if record.deletion_date is not None:
                record.deletion_date = None
                record.deleted_date = None
                self._changed(record, ctx)
        return {"ARN": record.arn, "Name": record.name}

    # -- tags --------------------------------------------------------------------------------

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            record = self._secret(params, ctx, live=True)
            record.tags = _merge_tags(record.tags, _tags_list(params.get("Tags")))
            self._changed(record, ctx)
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        removed = set(params.get("TagKeys") or [])
        with self._writing():
            record = self._secret(params, ctx, live=True)
            record.tags = [tag for tag in record.tags if tag["Key"] not in removed]
            self._changed(record, ctx)
        return {}

    # -- passwords and policies --------------------------------------------------------------

    @operation("GetRandomPassword")
    def get_random_password(self, params: Params, ctx: RequestContext) -> Result:
        return {
            "RandomPassword": random_password(
                int(params.get("PasswordLength", 32)),
                exclude_characters=str(params.get("ExcludeCharacters") or ""),
                exclude_numbers=bool(params.get("ExcludeNumbers")),
                exclude_punctuation=bool(params.get("ExcludePunctuation")),
                exclude_uppercase=bool(params.get("ExcludeUppercase")),
                exclude_lowercase=bool(params.get("ExcludeLowercase")),
                include_space=bool(params.get("IncludeSpace")),
                require_each_included_type=params.get("RequireEachIncludedType", True) is not False,
            )
        }

    @staticmethod
    def _checked_policy(text: Any) -> str:
        try:
            document = orjson.loads(str(text))
        except orjson.JSONDecodeError:
            document = None
        if not isinstance(document, dict) or "Statement" not in document:
            raise AwsError(
                "MalformedPolicyDocumentException",
                "This resource policy contains a syntax error.",  # guessed text
            )
        return str(text)

    @operation("PutResourcePolicy")
    def put_resource_policy(self, params: Params, ctx: RequestContext) -> Result:
        policy = self._checked_policy(params.get("ResourcePolicy"))
        with self._writing():
            record = self._secret(params, ctx, live=True)
            record.resource_policy = policy
            self._store.put(ctx.account, ctx.region, record)
        return {"ARN": record.arn, "Name": record.name}

    @operation("GetResourcePolicy")
    def get_resource_policy(self, params: Params, ctx: RequestContext) -> Result:
        record = self._secret(params, ctx)
        answer: Result = {"ARN": record.arn, "Name": record.name}
        if record.resource_policy is not None:
            answer["ResourcePolicy"] = record.resource_policy
        return answer

    @operation("DeleteResourcePolicy")
    def delete_resource_policy(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            record = self._secret(params, ctx)
            record.resource_policy = None
            self._store.put(ctx.account, ctx.region, record)
        return {"ARN": record.arn, "Name": record.name}

    @operation("ValidateResourcePolicy")
    def validate_resource_policy(self, params: Params, ctx: RequestContext) -> Result:
        if params.get("SecretId") is not None:
            self._secret(params, ctx)
        self._checked_policy(params.get("ResourcePolicy"))
        return {"PolicyValidationPassed": True, "ValidationErrors": []}

    # -- rotation ----------------------------------------------------------------------------

    @operation("RotateSecret")
    def rotate_secret(self, params: Params, ctx: RequestContext) -> Result:
        rules = params.get("RotationRules")
        if rules and rules.get("AutomaticallyAfterDays") is not None:
            days = int(rules["AutomaticallyAfterDays"])
            if not 1 <= days <= 1000:
                raise _invalid_parameter(
                    "RotationRules.AutomaticallyAfterDays must be within 1-1000."
                )  # guessed text
        with self._writing():
            record = self._secret(params, ctx, live=True)
            function_arn = params.get("RotationLambdaARN") or record.rotation_lambda_arn
            if not function_arn:
                raise _invalid_request(
                    "No Lambda rotation function ARN is associated with this secret."
                )  # guessed text
            pending = record.version_with_stage(PENDING)
            if pending is not None and CURRENT not in pending.stages:
                raise _invalid_request(
                    "A previous rotation isn't complete. That rotation will be reattempted."
                )
            record.rotation_lambda_arn = str(function_arn)
            if rules:
                record.rotation_rules = dict(rules)
            record.rotation_enabled = True
            self._changed(record, ctx)
        token = str(params.get("ClientRequestToken") or uuid.uuid4())
        if params.get("RotateImmediately", True) is not False:
            self._run_rotation(record, token, ctx)
        return {"ARN": record.arn, "Name": record.name, "VersionId": token}

    def _run_rotation(self, record: SecretRecord, token: str, ctx: RequestContext) -> None:
        """The rotation function's four steps, one synchronous invocation each, as AWS runs
        them; a failing step ends the rotation there (AWSPENDING stays where the function
        put it, and the next RotateSecret is refused, as on AWS)."""
        functions = self.env.service("lambda")
        for step in ROTATION_STEPS:
            event = {"Step": step, "SecretId": record.arn, "ClientRequestToken": token}
            result = functions.call(
                "Invoke",
                {
                    "FunctionName": record.rotation_lambda_arn,
                    "InvocationType": "RequestResponse",
                    "Payload": orjson.dumps(event),
                },
                ctx,
            )
            if result.get("FunctionError"):
                log.warning(
                    "rotation of %s failed at %s: %s",
                    record.arn,
                    step,
                    as_bytes(result.get("Payload") or b"").decode("utf-8", "replace"),
                )
                return
        with self._writing():
            rotated = self._find(record.name, ctx)
            if rotated is not None:
                rotated.last_rotated = self.env.clock.now()
                pending = rotated.version_with_stage(PENDING)
                # AWS takes AWSPENDING off once finishSecret made that version current.
                if pending is not None and CURRENT in pending.stages:
                    pending.stages.remove(PENDING)
                self._store.put(ctx.account, ctx.region, rotated)

    @operation("CancelRotateSecret")
    def cancel_rotate_secret(self, params: Params, ctx: RequestContext) -> Result:
        with self._writing():
            record = self._secret(params, ctx, live=True)
            record.rotation_enabled = False
            self._changed(record, ctx)
        answer: Result = {"ARN": record.arn, "Name": record.name}
        pending = record.version_with_stage(PENDING)
        if pending is not None:
            answer["VersionId"] = pending.version_id
        return answer
