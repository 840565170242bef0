"""Browser uploads: an HTML form POSTed to a bucket (S3's "POST Object", what boto3's
``generate_presigned_post`` prepares), checked against its signed policy.

The form's signature is checked with the other signatures, before S3 sees the request
(``server.request_checks``, with ``--verify-signatures``); here S3 checks what it checks
itself: the fields it needs, the policy's expiration and conditions (every field but the
signature, the policy, the file and ``x-ignore-*`` ones must be named by a condition), and
the file's size against ``content-length-range``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from xml.etree import ElementTree

import orjson

from headwater.api.form_data import FormPart, fields_and_file
from headwater.api.sigv4 import SignatureProblem, post_form_signature, valid_region
from headwater.core.errors import AwsError
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.s3.errors import check_key_length, invalid_argument, s3_error
from headwater.services.s3.multipart import MultipartOperations

#: Fields no policy condition needs to name (and ``x-ignore-*`` ones).
_UNCONDITIONED = frozenset({"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"})
#: Form fields -> the PutObject members they set.
_HEADER_FIELDS = {
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "content-type": "ContentType",
    "expires": "Expires",
    "x-amz-storage-class": "StorageClass",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
}
_META = "x-amz-meta-"
_SUCCESS_STATUSES = frozenset({200, 201, 204})
#: The operation a form's upload is (botocore's model has none for it).
POST_OBJECT = "PostObject"


def _missing_field(name: str) -> AwsError:
    return invalid_argument(
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please "
        "check the order of the fields.",
        name,
        "",
    )


def _policy_denied(reason: str) -> AwsError:
    return s3_error("AccessDenied", f"Invalid according to Policy: {reason}", 403)


def _invalid_policy(reason: str) -> AwsError:
    return s3_error("InvalidPolicyDocument", f"Invalid Policy: {reason}", 400)


def read_policy(text: str) -> dict[str, Any]:
    """A form's ``policy`` field: base64 of a JSON object with ``expiration`` and
    ``conditions``; S3's InvalidPolicyDocument otherwise."""
    try:
        policy = orjson.loads(base64.b64decode(text, validate=False))
    except (binascii.Error, ValueError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(policy, dict):
        raise _invalid_policy("Invalid JSON.")
    if "expiration" not in policy:
        raise _invalid_policy("Policy missing expiration.")
    if not isinstance(policy.get("conditions"), list):
        raise _invalid_policy("Policy missing conditions.")
    return policy


def _expiration(value: Any) -> float:
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _invalid_policy("Invalid 'expiration' value: '" + str(value) + "'") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _condition(raw: Any) -> tuple[str, str, Any, Any]:
    """(operator, field lower-cased, first operand, second operand) of a condition:
    ``{"field": value}`` is ``["eq", "$field", value]``."""
    if isinstance(raw, dict) and len(raw) == 1:
        ((name, value),) = raw.items()
        return "eq", str(name).lower(), value, None
    if isinstance(raw, list) and len(raw) == 3:
        operator = str(raw[0]).lower()
        if operator == "content-length-range":
            return operator, "", raw[1], raw[2]
        if operator in ("eq", "starts-with") and str(raw[1]).startswith("$"):
            return operator, str(raw[1])[1:].lower(), raw[2], None
    raise _invalid_policy("Invalid Condition: " + orjson.dumps(raw).decode())


def _shown(raw: Any) -> str:
    """A failed condition as S3 quotes it: ``["eq", "$key", "uploads/a.txt"]``."""
    if isinstance(raw, dict):
        ((name, value),) = raw.items()
        raw = ["eq", f"${name}", value]
    return "[" + ", ".join(orjson.dumps(item).decode() for item in raw) + "]"


def check_policy(policy: dict[str, Any], fields: dict[str, str], bucket: str, size: int) -> None:
    """S3's checks of a form against its policy: not expired (by the wall clock, as the
    client that signed it computed it), every condition met, every field named by one."""
    if _expiration(policy["expiration"]) <= time.time():
        raise _policy_denied("Policy expired.")
    named: set[str] = set()
    for raw in policy["conditions"]:
        operator, name, first, second = _condition(raw)
        if operator == "content-length-range":
            _check_length(first, second, size)
            continue
        named.add(name)
        value = bucket if name == "bucket" else fields.get(name)
        expected = str(first)
        if value is None or (
            value != expected if operator == "eq" else not value.startswith(expected)
        ):
            raise _policy_denied("Policy Condition failed: " + _shown(raw))
    extra = [
        name
        for name in fields
        if name not in named and name not in _UNCONDITIONED and not name.startswith("x-ignore-")
    ]
    if extra:
        raise _policy_denied("Extra input fields: " + ", ".join(extra))


def _check_length(low: Any, high: Any, size: int) -> None:
    try:
        minimum, maximum = int(low), int(high)
    except (TypeError, ValueError):
        raise _invalid_policy("Invalid content-length-range values.") from None
    if size < minimum:
        raise s3_error(
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            400,
            ProposedSize=str(size),
            MinSizeAllowed=str(minimum),
        )
    if size > maximum:
        raise s3_error(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            400,
            ProposedSize=str(size),
            MaxSizeAllowed=str(maximum),
        )


def _check_signature_fields(fields: dict[str, str]) -> None:
    """A form must be signed (headwater answers no anonymous request): a policy and its
    signature, version 4 with a credential in a region's scope, or version 2
    (``AWSAccessKeyId`` and ``signature``: boto3's default for S3)."""
    if "policy" not in fields:
        raise s3_error("AccessDenied", "Access Denied", 403)
    if "awsaccesskeyid" in fields and "x-amz-algorithm" not in fields:
        if "signature" not in fields:  # signature version 2
            raise _missing_field("signature")
        return
    for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
        if name not in fields:
            raise _missing_field(name)
    if fields["x-amz-algorithm"] != "AWS4-HMAC-SHA256":
        raise invalid_argument(
            "Only AWS4-HMAC-SHA256 is supported", "X-Amz-Algorithm", fields["x-amz-algorithm"]
        )
    try:
        sig = post_form_signature(
            fields["x-amz-credential"], fields["x-amz-date"], fields["x-amz-signature"]
        )
    except SignatureProblem as problem:
        raise invalid_argument(
            str(problem), "X-Amz-Credential", fields["x-amz-credential"]
        ) from None
    if not valid_region(sig.region):
        raise s3_error(
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed; Credential should be scoped to a valid region.",
            400,
        )


def _tags(text: str) -> dict[str, str]:
    """A form's ``tagging`` field: S3's Tagging XML document."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        raise s3_error(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
        ) from None
    tags: dict[str, str] = {}
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] == "Tag":
            key = value = ""
            for child in tag:
                local = child.tag.rsplit("}", 1)[-1]
                if local == "Key":
                    key = child.text or ""
                elif local == "Value":
                    value = child.text or ""
            tags[key] = value
    return tags


def put_params(fields: dict[str, str]) -> Params:
    """The PutObject members a form's fields set: system headers, metadata and tags."""
    params: Params = {
        member: fields[name] for name, member in _HEADER_FIELDS.items() if name in fields
    }
    metadata = {
        name[len(_META) :]: value for name, value in fields.items() if name.startswith(_META)
    }
    if metadata:
        params["Metadata"] = metadata
    if "tagging" in fields:
        params["Tagging"] = urlencode(_tags(fields["tagging"]))
    return params


def _redirect(url: str, bucket: str, key: str, etag: str) -> str | None:
    """``success_action_redirect`` with the upload's bucket, key and ETag added to its
    query; None when it is not an absolute http(s) URL (S3 then answers the status)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    joiner = "&" if parts.query else "?"
    return url + joiner + urlencode({"bucket": bucket, "key": key, "etag": etag})


class FormUploadOperations(MultipartOperations):
    """PostObject: a browser form's upload (not in botocore's model: served on the wire)."""

    @operation(POST_OBJECT)
    def post_object(self, params: Params, ctx: RequestContext) -> Result:
        """Store the form's file (``params["Form"]``: its parts) in ``params["Bucket"]``;
        the result has ``_status`` and, for a redirect, ``_redirect``."""
        bucket = str(params["Bucket"])
        parts: list[FormPart] = params["Form"]
        fields, file = fields_and_file(parts)
        if file is None:
            raise invalid_argument(
                "POST requires exactly one file upload per request.", "file", "0"
            )
        if "key" not in fields:
            raise _missing_field("key")
        _check_signature_fields(fields)
        check_policy(read_policy(fields["policy"]), fields, bucket, len(file.value))
        filename = (file.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        key = fields["key"].replace("${filename}", filename)
        if not key:
            raise s3_error("InvalidArgument", "User key must have a length greater than 0.")
        check_key_length(key)
        record = self._store_object(
            bucket, key, file.value, put_params(fields), event_name="ObjectCreated:Post"
        )
        location = f"{self._base_url(ctx)}/{bucket}/{quote(key)}"
        result: Result = {"Bucket": bucket, "Key": key, "ETag": record.etag, "Location": location}
        target = fields.get("success_action_redirect") or fields.get("redirect")
        redirect = None if not target else _redirect(target, bucket, key, record.etag)
        if redirect is not None:
            result["_status"] = 303
            result["_redirect"] = redirect
            return result
        try:
            status = int(fields.get("success_action_status", "204"))
        except ValueError:
            status = 204
        result["_status"] = status if status in _SUCCESS_STATUSES else 204
        return result
