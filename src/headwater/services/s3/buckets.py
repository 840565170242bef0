"""Bucket operations: create (with S3's location rules), head, list, delete, location, and
the bucket sub-resources (tagging, versioning, policy, CORS, encryption...) as stored
configurations with S3's "does not exist" errors and defaults."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from headwater.core.arn import DEFAULT_REGION
from headwater.core.values import JAVA_INT, JAVA_LONG
from headwater.models import operation_model, service_model
from headwater.services.base import (
    Params,
    RequestContext,
    Result,
    Service,
    holds_unencodable_text,
    operation,
)
from headwater.services.s3.errors import (
    invalid_argument,
    invalid_bucket_name,
    malformed_xml,
    no_such_bucket,
    s3_error,
)
from headwater.services.s3.notifications import Notifier, with_configuration_ids
from headwater.store.objects import BucketRecord, ObjectStore

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_LIKE = re.compile(r"\d+\.\d+\.\d+\.\d+", re.ASCII)
MAX_BUCKETS_PAGE = 10_000

#: Sub-resource -> (error when unset, or None to answer ``default``), default answer.
_NOT_FOUND = {
    "BucketTagging": ("NoSuchTagSet", "The TagSet does not exist"),
    "BucketPolicy": ("NoSuchBucketPolicy", "The bucket policy does not exist"),
    "BucketCors": ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    "BucketWebsite": (
        "NoSuchWebsiteConfiguration",
        "The specified bucket does not have a website configuration",
    ),
    "BucketLifecycleConfiguration": (
        "NoSuchLifecycleConfiguration",
        "The lifecycle configuration does not exist",
    ),
    "BucketReplication": (
        "ReplicationConfigurationNotFoundError",
        "The replication configuration was not found",
    ),
    "ObjectLockConfiguration": (
        "ObjectLockConfigurationNotFoundError",
        "Object Lock configuration does not exist for this bucket",
    ),
}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "BucketVersioning": {},
    "BucketLogging": {},
    "BucketAccelerateConfiguration": {},
    "BucketRequestPayment": {"Payer": "BucketOwner"},
    "BucketNotificationConfiguration": {},
    "BucketEncryption": {
        "ServerSideEncryptionConfiguration": {
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BucketKeyEnabled": False,
                }
            ]
        }
    },
    "BucketOwnershipControls": {
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    },
    "PublicAccessBlock": {
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        }
    },
}
#: The request header a lifecycle configuration is stored with, and what S3 stores when
#: PutBucketLifecycleConfiguration sends none (the default since September 2024).
TRANSITION_MINIMUM = "TransitionDefaultMinimumObjectSize"
TRANSITION_MINIMUMS = ("all_storage_classes_128K", "varies_by_storage_class")
#: Settings a new bucket has by default that a Delete removes (S3 then answers their Get
#: with this error), where other defaults come back when deleted (encryption's SSE-S3).
_DELETED_NOT_FOUND = {
    "PublicAccessBlock": (
        "NoSuchPublicAccessBlockConfiguration",
        "The public access block configuration was not found",
    ),
    "BucketOwnershipControls": (
        "OwnershipControlsNotFoundError",
        "The bucket ownership controls were not found",
    ),
}
#: Delete operations not named Delete<sub-resource>.
_DELETE_ALIASES = {"DeleteBucketLifecycle": "DeleteBucketLifecycleConfiguration"}
#: Members of a Put<sub-resource> request that are not the configuration itself.
_REQUEST_ONLY = frozenset(
    {
        "Bucket",
        "ContentMD5",
        "ChecksumAlgorithm",
        "ExpectedBucketOwner",
        "ConfirmRemoveSelfBucketAccess",
    }
)


def owner(account: str) -> dict[str, str]:
    return {"DisplayName": "headwater", "ID": _canonical_id(account)}


def _canonical_id(account: str) -> str:
    return (account * 6)[:64].ljust(64, "0")


def iso(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC)


def check_bucket_name(name: str) -> None:
    if (
        not _BUCKET_NAME.fullmatch(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or _IP_LIKE.fullmatch(name)
    ):
        raise invalid_bucket_name(name)


class BucketOperations(Service):
    """Buckets and their configurations; owns the object store every S3 part shares."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.store = ObjectStore(
            env.database, fsync=getattr(env.database, "durability", "") == "full"
        )
        self.notifier = Notifier(env)

    def _bucket(self, name: str) -> BucketRecord:
        found = self.store.get_bucket(name)
        if found is None:
            raise no_such_bucket(name)
        return found

    @operation("CreateBucket")
    def create_bucket(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params["Bucket"])
        check_bucket_name(name)
        constraint = (params.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
        region = _bucket_region(ctx.region, constraint)
        with self.store.db.transaction():
            existing = self.store.get_bucket(name)
            if existing is not None:
                if existing.account != ctx.account:
                    raise s3_error(
                        "BucketAlreadyExists",
                        "The requested bucket name is not available. The bucket namespace is "
                        "shared by all users of the system. Please select a different name and "
                        "try again.",
                        409,
                        BucketName=name,
                    )
                if not (ctx.region == DEFAULT_REGION and existing.region == DEFAULT_REGION):
                    raise s3_error(
                        "BucketAlreadyOwnedByYou",
                        "Your previous request to create the named bucket succeeded and you "
                        "already own it.",
                        409,
                        BucketName=name,
                    )
            else:
                self.store.put_bucket(
                    BucketRecord(name, region, ctx.account, self.env.clock.now(), {})
                )
        arn = f"arn:aws:s3:::{name}"
        if region == DEFAULT_REGION:
            return {"Location": f"/{name}", "BucketArn": arn}
        return {"Location": f"http://{name}.s3.amazonaws.com/", "BucketArn": arn}

    @operation("HeadBucket")
    def head_bucket(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            bucket = self.store.get_bucket(str(params["Bucket"]))
        if bucket is None:
            raise s3_error("404", "Not Found", 404)
        return {
            "BucketArn": f"arn:aws:s3:::{bucket.name}",
            "BucketRegion": bucket.region,
            "AccessPointAlias": False,
        }

    @operation("DeleteBucket")
    def delete_bucket(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params["Bucket"])
        with self.store.db.transaction():
            self._bucket(name)
            if self.store.bucket_has_content(name):
                raise s3_error(
                    "BucketNotEmpty",
                    "The bucket you tried to delete is not empty",
                    409,
                    BucketName=name,
                )
            self.store.delete_bucket(name)
        return {}

    @operation("ListBuckets")
    def list_buckets(self, params: Params, ctx: RequestContext) -> Result:
        region_filter = params.get("BucketRegion")
        if region_filter is not None and not re.fullmatch(
            r"(us|eu|ap|sa|ca|me|af|il|mx)-(north|south|east|west|central|northeast|southeast|"
            r"northwest|southwest)-\d",
            str(region_filter),
        ):
            raise invalid_argument(
                f"Argument value {region_filter} is not a valid AWS Region", "bucket-region"
            )
        with self.store.db.transaction():
            buckets = [b for b in self.store.list_buckets() if b.account == ctx.account]
        prefix = params.get("Prefix")
        if prefix:
            buckets = [b for b in buckets if b.name.startswith(prefix)]
        if region_filter:
            buckets = [b for b in buckets if b.region == region_filter]
        token = params.get("ContinuationToken")
        if token:
            after = _decode_token(token)
            buckets = [b for b in buckets if b.name > after]
        limit = int(params.get("MaxBuckets") or MAX_BUCKETS_PAGE)
        page = buckets[:limit]
        result: Result = {
            "Buckets": [
                {
                    "Name": b.name,
                    "CreationDate": iso(b.created),
                    "BucketRegion": b.region,
                    "BucketArn": f"arn:aws:s3:::{b.name}",
                }
                for b in page
            ],
            "Owner": owner(ctx.account),
        }
        if prefix:
            result["Prefix"] = prefix
        if len(buckets) > limit:
            result["ContinuationToken"] = base64.urlsafe_b64encode(page[-1].name.encode()).decode()
        return result

    @operation("GetBucketLocation")
    def get_bucket_location(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            bucket = self._bucket(str(params["Bucket"]))
        return {"LocationConstraint": None if bucket.region == DEFAULT_REGION else bucket.region}

    # ---- sub-resources ----

    def _get_setting(self, name: str, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            bucket = self._bucket(str(params["Bucket"]))
        stored = bucket.settings.get(name)
        if stored is None and name in bucket.settings:  # deleted: no default any more
            code, message = _DELETED_NOT_FOUND[name]
            raise s3_error(code, message, 404, BucketName=bucket.name)
        if stored is not None:
            return _as_get_output(name, stored)
        if name == "BucketAcl":
            return _default_acl(bucket.account)
        missing = _NOT_FOUND.get(name)
        if missing is not None:
            raise s3_error(missing[0], missing[1], 404, BucketName=bucket.name)
        return dict(_DEFAULTS.get(name, {}))

    def _put_setting(self, name: str, params: Params, ctx: RequestContext) -> Result:
        shape = operation_model("s3", f"Put{name}").input_shape
        if shape is not None:
            _check_numbers(shape, params)
        value = _configuration_of(name, params)
        if name == "BucketVersioning" and value.get("Status") not in ("Enabled", "Suspended"):
            raise s3_error(
                "IllegalVersioningConfigurationException",
                "The Versioning element must be specified",
            )
        answer: Result = {}
        if name == "BucketLifecycleConfiguration":
            # Kept with the rules and answered by Put and Get, as S3 does: terraform's
            # aws_s3_bucket_lifecycle_configuration waits until Get gives back what it sent.
            minimum = params.get(TRANSITION_MINIMUM) or TRANSITION_MINIMUMS[0]
            if minimum not in TRANSITION_MINIMUMS:
                raise invalid_argument(
                    f"Invalid value for {TRANSITION_MINIMUM}",
                    "x-amz-transition-default-minimum-object-size",
                    str(minimum),
                )
            value[TRANSITION_MINIMUM] = answer[TRANSITION_MINIMUM] = minimum
        if name == "BucketNotificationConfiguration":
            value = with_configuration_ids(value)
        with self.store.db.transaction():
            bucket = self._bucket(str(params["Bucket"]))
            if name == "BucketNotificationConfiguration":
                self.notifier.check_configuration(value)
            settings = {**bucket.settings, name: value}
            self.store.put_bucket(
                BucketRecord(bucket.name, bucket.region, bucket.account, bucket.created, settings)
            )
            if name == "BucketNotificationConfiguration":
                self.notifier.test_events(bucket, value)
        return answer

    def _delete_setting(self, name: str, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            bucket = self._bucket(str(params["Bucket"]))
            settings = {k: v for k, v in bucket.settings.items() if k != name}
            if name in _DELETED_NOT_FOUND:
                settings[name] = None
            self.store.put_bucket(
                BucketRecord(bucket.name, bucket.region, bucket.account, bucket.created, settings)
            )
        return {}

    @classmethod
    def operation_names(cls) -> list[str]:
        """The decorated operations plus the sub-resource ones ``call`` serves generically
        (those S3's model has), so callers that ask what is implemented (the bucket's
        resource provider applying versioning, tags and notifications) see them. ACLs are
        left out: canned ACLs and grant headers are stored as given, not as the grants
        GetBucketAcl answers, so they are not claimed as implemented."""
        model = set(service_model("s3").operation_names)
        generic = {
            f"{verb}{name}"
            for verb in ("Get", "Put", "Delete")
            for name in SUBRESOURCES - {"BucketAcl"}
            if f"{verb}{name}" in model
        }
        aliases = {alias for alias in _DELETE_ALIASES if alias in model}
        return sorted({*super().operation_names(), *generic, *aliases})

    def call(
        self, operation_name: str, params: Params, ctx: RequestContext | None = None
    ) -> Result:
        """Bucket sub-resource operations (Get/Put/Delete<Name>) are served generically."""
        operation_name = _DELETE_ALIASES.get(operation_name, operation_name)
        if operation_name not in self._operations:
            for verb in ("Get", "Put", "Delete"):
                name = operation_name[len(verb) :]
                if operation_name.startswith(verb) and name in SUBRESOURCES:
                    handler = {
                        "Get": self._get_setting,
                        "Put": self._put_setting,
                        "Delete": self._delete_setting,
                    }[verb]
                    try:
                        return handler(name, params, ctx or self.env.default_context())
                    except (UnicodeEncodeError, TypeError):
                        # as Service.call: a lone surrogate fails where the configuration
                        # is first encoded, before anything is stored
                        if not holds_unencodable_text(params):
                            raise
                        raise self.unencodable_text_error() from None
        return super().call(operation_name, params, ctx)


#: Bucket sub-resources kept as stored configurations.
SUBRESOURCES = frozenset(
    {
        "BucketTagging",
        "BucketPolicy",
        "BucketCors",
        "BucketWebsite",
        "BucketLifecycleConfiguration",
        "BucketReplication",
        "ObjectLockConfiguration",
        "BucketVersioning",
        "BucketLogging",
        "BucketAccelerateConfiguration",
        "BucketRequestPayment",
        "BucketNotificationConfiguration",
        "BucketEncryption",
        "BucketOwnershipControls",
        "PublicAccessBlock",
        "BucketAcl",
    }
)


def _configuration_of(name: str, params: Params) -> dict[str, Any]:
    """What a Put<sub-resource> stores: its payload's members (the configuration itself),
    or its non-request members when the model has no payload."""
    shape = operation_model("s3", f"Put{name}").input_shape
    payload = None if shape is None else shape.serialization.get("payload")
    if payload is None:
        return {k: v for k, v in params.items() if k not in _REQUEST_ONLY}
    value = params.get(payload)
    if isinstance(value, bytes | bytearray):
        value = value.decode()
    if isinstance(value, dict):
        return dict(value)
    return {payload: value}


#: The integers S3's schema holds, by model type: a Java int and a Java long.
_INTEGER_RANGES = {"integer": JAVA_INT, "long": JAVA_LONG}


def _check_numbers(shape: Shape, value: Any) -> None:
    """MalformedXML, S3's answer to a document its schema refuses, for a number its type
    does not hold: botocore sends any integer (a lifecycle rule's Days, a CORS rule's
    MaxAgeSeconds ...), and one past 64 bits made the stored configuration's JSON raise
    TypeError."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for key, member in shape.members.items():
            if key in value:
                _check_numbers(member, value[key])
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for item in value:
            _check_numbers(shape.member, item)
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for item in value.values():
            _check_numbers(shape.value, item)
    elif (
        shape.type_name in _INTEGER_RANGES
        and isinstance(value, int)
        and value not in _INTEGER_RANGES[shape.type_name]
    ):
        raise malformed_xml()


def _as_get_output(name: str, stored: dict[str, Any]) -> Result:
    """A stored configuration as its Get<sub-resource> answers it (inside the output's
    payload member when the model has one)."""
    shape = operation_model("s3", f"Get{name}").output_shape
    payload = None if shape is None else shape.serialization.get("payload")
    if payload is None or payload in stored:
        return dict(stored)
    return {payload: dict(stored)}


def _default_acl(account: str) -> Result:
    who = owner(account)
    return {
        "Owner": who,
        "Grants": [
            {
                "Grantee": {**who, "Type": "CanonicalUser"},
                "Permission": "FULL_CONTROL",
            }
        ],
    }


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeError):
        raise invalid_argument(
            "The continuation token provided is incorrect", "continuation-token"
        ) from None


def _bucket_region(request_region: str, constraint: str | None) -> str:
    """The region a new bucket goes to, with S3's location-constraint errors."""
    if request_region == DEFAULT_REGION:
        if constraint in (None, ""):
            return DEFAULT_REGION
        if constraint == DEFAULT_REGION:
            raise s3_error(
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
                LocationConstraint=constraint,
            )
        if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", constraint):
            raise s3_error(
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
                LocationConstraint=constraint,
            )
        return constraint
    if constraint in (None, ""):
        raise s3_error(
            "IllegalLocationConstraintException",
            "The unspecified location constraint is incompatible for the region specific "
            "endpoint this request was sent to.",
        )
    if constraint != request_region:
        raise s3_error(
            "IllegalLocationConstraintException",
            f"The {constraint} location constraint is incompatible for the region specific "
            "endpoint this request was sent to.",
        )
    return constraint
