"""restXml (S3): requests addressed by method, bucket, key and sub-resource; XML bodies.

The bucket comes from the Host header (virtual-hosted style, ``bucket.s3.<region>.
amazonaws.com`` or ``bucket.localhost``) or the first path segment (path style). The
operation is chosen as S3 chooses it: method, bucket or object level, then the sub-resource
in the query string (``?uploads``, ``?tagging``...) and ``x-amz-copy-source``. Members bind
to the path, query string, headers (``x-amz-meta-*`` as ``Metadata``) and the body (a raw blob
or an XML document) from botocore's model, and responses are written back the same way.
Bodies sent ``aws-chunked`` (SigV4 streaming, with or without signatures, and the checksum
trailers current SDKs add) are decoded first. Errors are S3's ``<Error>`` documents (no body
for HEAD).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
from email.utils import format_datetime, parsedate_to_datetime
from functools import cache, lru_cache
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from botocore.model import Shape

from headwater.api import rest_json
from headwater.api.aws_chunked import ChunkFramingError, split_chunks, trailer_lines
from headwater.api.errors import nested_value_error, server_fault
from headwater.api.form_data import MalformedForm, is_form_data, parse_form_data
from headwater.api.http import WireRequest, WireResponse
from headwater.api.router import Dispatch
from headwater.api.sigv4 import CredentialScope
from headwater.api.xml_text import xml_escape
from headwater.core.errors import AwsError
from headwater.core.values import assume_utc
from headwater.models import operation_model, service_model
from headwater.services.base import RequestContext

log = logging.getLogger(__name__)

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML_TYPE = "application/xml"
_VIRTUAL_AWS = re.compile(r"^(?P<bucket>.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com$")

#: Query-string sub-resource -> operation name suffix, for bucket-level requests.
BUCKET_SUBRESOURCES = {
    "tagging": "BucketTagging",
    "versioning": "BucketVersioning",
    "acl": "BucketAcl",
    "policy": "BucketPolicy",
    "cors": "BucketCors",
    "website": "BucketWebsite",
    "lifecycle": "BucketLifecycleConfiguration",
    "encryption": "BucketEncryption",
    "logging": "BucketLogging",
    "replication": "BucketReplication",
    "accelerate": "BucketAccelerateConfiguration",
    "requestPayment": "BucketRequestPayment",
    "notification": "BucketNotificationConfiguration",
    "ownershipControls": "BucketOwnershipControls",
    "publicAccessBlock": "PublicAccessBlock",
    "object-lock": "ObjectLockConfiguration",
    "policyStatus": "BucketPolicyStatus",
    "intelligent-tiering": "BucketIntelligentTieringConfiguration",
    "analytics": "BucketAnalyticsConfiguration",
    "metrics": "BucketMetricsConfiguration",
    "inventory": "BucketInventoryConfiguration",
}
#: Sub-resources holding several configurations by ``id``: a GET without one lists them.
LISTED_CONFIGURATIONS = {
    "analytics": "ListBucketAnalyticsConfigurations",
    "metrics": "ListBucketMetricsConfigurations",
    "inventory": "ListBucketInventoryConfigurations",
    "intelligent-tiering": "ListBucketIntelligentTieringConfigurations",
}
#: Operations not named <verb><sub-resource suffix>, by that name.
BUCKET_OPERATION_NAMES = {"DeleteBucketLifecycleConfiguration": "DeleteBucketLifecycle"}
#: Root elements of responses whose model does not name them.
ROOT_NAMES = {
    "ListBucketsOutput": "ListAllMyBucketsResult",
    "ListObjectsOutput": "ListBucketResult",
    "ListObjectsV2Output": "ListBucketResult",
    "ListObjectVersionsOutput": "ListVersionsResult",
    "CreateMultipartUploadOutput": "InitiateMultipartUploadResult",
    "CompleteMultipartUploadOutput": "CompleteMultipartUploadResult",
    "ListPartsOutput": "ListPartsResult",
    "ListMultipartUploadsOutput": "ListMultipartUploadsResult",
    "DeleteObjectsOutput": "DeleteResult",
    "GetObjectTaggingOutput": "Tagging",
    "GetBucketTaggingOutput": "Tagging",
    "GetBucketVersioningOutput": "VersioningConfiguration",
    "GetBucketAclOutput": "AccessControlPolicy",
    "GetBucketCorsOutput": "CORSConfiguration",
    "GetBucketWebsiteOutput": "WebsiteConfiguration",
    "GetBucketLifecycleConfigurationOutput": "LifecycleConfiguration",
    "GetBucketLoggingOutput": "BucketLoggingStatus",
    "GetBucketAccelerateConfigurationOutput": "AccelerateConfiguration",
    "GetBucketRequestPaymentOutput": "RequestPaymentConfiguration",
    "NotificationConfiguration": "NotificationConfiguration",
    "GetObjectAttributesOutput": "GetObjectAttributesResponse",
}


# ---------------------------------------------------------------------------- routing


def virtual_host_bucket(host: str) -> str | None:
    """The bucket named by a virtual-hosted style Host header, if it is one."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    found = _VIRTUAL_AWS.match(name)
    if found is not None:
        return found.group("bucket")
    if name.endswith(".localhost") and name != "s3.localhost":
        return name[: -len(".localhost")]
    return None


def address(request: WireRequest) -> tuple[str | None, str | None]:
    """(bucket, key) of a request, virtual-hosted or path style; ``None`` where absent."""
    path = request.raw_path
    bucket = virtual_host_bucket(request.host)
    if bucket is None:
        rest = path[1:] if path.startswith("/") else path
        if not rest:
            return None, None
        first, slash, remainder = rest.partition("/")
        bucket = unquote(first)
        key = unquote(remainder) if slash and remainder else None
        return bucket, key
    rest = path[1:] if path.startswith("/") else path
    return bucket, unquote(rest) if rest else None


def operation_for(
    method: str, bucket: str | None, key: str | None, query: dict[str, str], headers: dict[str, str]
) -> str | None:
    """The S3 operation a request is, or None."""
    copy = "x-amz-copy-source" in headers
    if bucket is None:
        return "ListBuckets" if method == "GET" else None
    if key is None:
        if method == "GET":
            if query.get("list-type") == "2":
                return "ListObjectsV2"
            for name, operation in (
                ("uploads", "ListMultipartUploads"),
                ("versions", "ListObjectVersions"),
                ("location", "GetBucketLocation"),
            ):
                if name in query:
                    return operation
        if method == "POST":
            return "DeleteObjects" if "delete" in query else None
        if method == "HEAD":
            return "HeadBucket"
        verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
        if verb is None:
            return None
        for name, suffix in BUCKET_SUBRESOURCES.items():
            if name in query:
                if verb == "Get" and name in LISTED_CONFIGURATIONS and "id" not in query:
                    return LISTED_CONFIGURATIONS[name]
                return BUCKET_OPERATION_NAMES.get(verb + suffix, verb + suffix)
        return {"GET": "ListObjects", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}[method]
    if method == "GET":
        for name, operation in (
            ("uploadId", "ListParts"),
            ("tagging", "GetObjectTagging"),
            ("attributes", "GetObjectAttributes"),
            ("acl", "GetObjectAcl"),
        ):
            if name in query:
                return operation
        return "GetObject"
    if method == "PUT":
        if "partNumber" in query and "uploadId" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        if "tagging" in query:
            return "PutObjectTagging"
        if "acl" in query:
            return "PutObjectAcl"
        return "CopyObject" if copy else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return None
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload"
        if "tagging" in query:
            return "DeleteObjectTagging"
        return "DeleteObject"
    if method == "HEAD":
        return "HeadObject"
    return None


# ---------------------------------------------------------------------------- bodies


def is_aws_chunked(headers: dict[str, str]) -> bool:
    return headers.get("x-amz-content-sha256", "").startswith("STREAMING-") or (
        "aws-chunked" in headers.get("content-encoding", "")
    )


def decode_aws_chunked(body: bytes) -> tuple[bytes, dict[str, str]]:
    """The payload of an ``aws-chunked`` body and its trailing headers (checksums).

    Chunks are ``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n``; a zero-size chunk ends
    them, followed by ``name:value`` trailer lines. The chunk signatures are checked before
    this, with the request's, by ``headwater serve --verify-signatures``
    (``sigv4.verify_chunks``); otherwise they are not.
    """
    try:
        found, trailer_start = split_chunks(body, strict=False)
    except ChunkFramingError:
        raise _bad_chunk() from None
    trailers = {
        name.lower().decode("latin-1"): value.decode("latin-1")
        for name, value in trailer_lines(body, trailer_start)
        if name
    }
    return b"".join(data for data, _ in found), trailers


def _bad_chunk() -> AwsError:
    return AwsError("IncompleteBody", "The request body terminated unexpectedly", status=400)


def _strip_aws_chunked(headers: dict[str, str]) -> None:
    encoding = headers.get("content-encoding")
    if encoding is None:
        return
    kept = [e.strip() for e in encoding.split(",") if e.strip() and e.strip() != "aws-chunked"]
    if kept:
        headers["content-encoding"] = ", ".join(kept)
    else:
        del headers["content-encoding"]


# ---------------------------------------------------------------------------- requests


def parse_request(
    operation: str,
    *,
    bucket: str | None,
    key: str | None,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
) -> dict[str, Any]:
    """boto3-shaped params of one S3 request."""
    shape = operation_model("s3", operation).input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            value = bucket if wire == "Bucket" else key
            if value is not None:
                params[name] = value
        elif location == "querystring":
            if wire in query:
                params[name] = _scalar(member, query[wire], in_header=False)
        elif location == "header":
            raw = headers.get(wire.lower())
            if raw is not None:
                params[name] = _scalar(member, raw, in_header=True)
        elif location == "headers":
            prefix = wire.lower()
            found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
    if payload is not None:
        member = shape.members[payload]
        if member.type_name in ("blob", "string"):
            params[payload] = body if member.type_name == "blob" else body.decode("utf-8")
        elif body.strip():
            params[payload] = _parse_xml_document(member, body)
    return params


def _parse_xml_document(shape: Shape, body: bytes) -> Any:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise AwsError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
        ) from None
    return _from_xml(shape, root)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _from_xml(shape: Shape, element: ElementTree.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        children = list(element)
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if member.serialization.get("xmlAttribute"):
                attribute = _attribute(element, wire)
                if attribute is not None:
                    out[name] = _scalar(member, attribute, in_header=False)
                continue
            if member.type_name == "list" and member.serialization.get("flattened"):
                item_name = member.member.serialization.get("name", wire)
                items = [c for c in children if _local(c.tag) in (wire, item_name)]
                if items:
                    out[name] = [_from_xml(member.member, c) for c in items]
                continue
            found = next((c for c in children if _local(c.tag) == wire), None)
            if found is not None:
                out[name] = _from_xml(member, found)
        return out
    if kind == "list":
        item_name = shape.member.serialization.get("name", "member")
        return [_from_xml(shape.member, c) for c in element if _local(c.tag) == item_name]
    if kind == "map":
        result: dict[str, Any] = {}
        for entry in element:
            parts = {_local(c.tag): c for c in entry}
            if "key" in parts and "value" in parts:
                result[parts["key"].text or ""] = _from_xml(shape.value, parts["value"])
        return result
    return _scalar(shape, element.text or "", in_header=False)


def _attribute(element: ElementTree.Element, wire: str) -> str | None:
    """The attribute a member names ``prefix:local`` (``xsi:type``), whatever namespace URI
    the document bound the prefix to (ElementTree keys it ``{uri}local``)."""
    local = wire.rsplit(":", 1)[-1]
    for key, text in element.attrib.items():
        if key == wire or _local(key) == local:
            return text
    return None


def _scalar(shape: Shape, raw: str, *, in_header: bool) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise AwsError("InvalidArgument", f"Invalid argument: {raw}") from None
    if kind == "boolean":
        return raw.strip().lower() == "true"
    if kind == "timestamp":
        try:
            if in_header and not raw[:4].isdigit():
                return parsedate_to_datetime(raw)
            return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except (TypeError, ValueError):
            return None if in_header else raw
    if kind == "blob":
        return base64.b64decode(raw) if not in_header else raw.encode()
    return raw


# ---------------------------------------------------------------------------- responses


def _timestamp_text(value: Any, *, header: bool) -> str:
    if isinstance(value, dt.datetime):
        aware = assume_utc(value).astimezone(dt.UTC)
        if header:
            return format_datetime(aware, usegmt=True)
        return aware.strftime("%Y-%m-%dT%H:%M:%S.") + f"{aware.microsecond // 1000:03d}Z"
    return str(value)


def _text(shape: Shape, value: Any, *, header: bool = False) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return _timestamp_text(value, header=header)
    if kind == "blob" and isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return str(value)


def _write_value(shape: Shape, name: str, value: Any, out: list[str]) -> None:
    kind = shape.type_name
    if value is None:
        return
    if kind == "structure":
        out.append(f"<{name}{_attributes(shape, value)}>")
        _write_members(shape, value, out)
        out.append(f"</{name}>")
    elif kind == "list":
        item = shape.member.serialization.get("name", "member")
        if shape.serialization.get("flattened"):
            for element in value:
                _write_value(shape.member, name, element, out)
        else:
            out.append(f"<{name}>")
            for element in value:
                _write_value(shape.member, item, element, out)
            out.append(f"</{name}>")
    elif kind == "map":
        out.append(f"<{name}>")
        for key, element in value.items():
            out.append(f"<entry><key>{xml_escape(str(key), _TEXT_ENTITIES)}</key>")
            _write_value(shape.value, "value", element, out)
            out.append("</entry>")
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{xml_escape(_text(shape, value), _TEXT_ENTITIES)}</{name}>")


#: A carriage return as a character reference, as AWS writes it: XML parsers read a bare
#: one (and CR LF) as a line feed, so a stored "\r" would come back changed.
_TEXT_ENTITIES = {"\r": "&#xD;"}
#: Quotes escaped too: these texts go in attribute values.
_ATTRIBUTE_ENTITIES = {**_TEXT_ENTITIES, '"': "&quot;"}


def _attributes(shape: Shape, value: dict[str, Any]) -> str:
    """The start tag's attributes: the shape's namespace declaration and its members bound
    to attributes (S3's Grantee: ``xmlns:xsi=... xsi:type="CanonicalUser"``), which an
    element of that name would leave undeclared, so no XML parser reads the document."""
    namespace = shape.serialization.get("xmlNamespace")
    attributes = ""
    if namespace is not None and "uri" in namespace:
        prefix = f":{namespace['prefix']}" if namespace.get("prefix") else ""
        uri = xml_escape(namespace["uri"], _ATTRIBUTE_ENTITIES)
        attributes = f' xmlns{prefix}="{uri}"'
    for name, member in shape.members.items():
        if member.serialization.get("xmlAttribute") and value.get(name) is not None:
            text = xml_escape(_text(member, value[name]), _ATTRIBUTE_ENTITIES)
            attributes += f' {member.serialization.get("name", name)}="{text}"'
    return attributes


def _write_members(shape: Shape, value: dict[str, Any], out: list[str]) -> None:
    for name, member in shape.members.items():
        if member.serialization.get("location") or member.serialization.get("xmlAttribute"):
            continue
        if name in value:
            wire = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                wire = member.member.serialization.get("name", wire)
            _write_value(member, wire, value[name], out)


def _document(root: str, shape: Shape, value: dict[str, Any]) -> bytes:
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NAMESPACE}">']
    _write_members(shape, value, out)
    out.append(f"</{root}>")
    return "".join(out).encode("utf-8")


def serialize_response(operation: str, result: dict[str, Any], request_id: str) -> WireResponse:
    op = operation_model("s3", operation)
    status = int(result.pop("_status", op.http.get("responseCode", 200)))
    headers: list[tuple[str, str]] = [("x-amz-request-id", request_id)]
    shape = op.output_shape
    body = b""
    content_type = XML_TYPE
    if shape is None:
        return WireResponse(status, body, content_type, headers)
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        if location == "header":
            value = result.get(name)
            if value is not None:
                wire = member.serialization.get("name", name)
                if wire.lower() == "content-type":
                    content_type = str(value)
                else:
                    headers.append((wire, _text(member, value, header=True)))
        elif location == "headers":
            prefix = member.serialization.get("name", "")
            for key, value in (result.get(name) or {}).items():
                headers.append((f"{prefix}{key}", str(value)))
        elif location == "statusCode" and result.get(name) is not None:
            status = int(result[name])
    payload = shape.serialization.get("payload")
    if operation == "GetBucketLocation":
        location_text = xml_escape(result.get("LocationConstraint") or "")
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<LocationConstraint xmlns="{NAMESPACE}">{location_text}</LocationConstraint>'
        ).encode()
    elif payload is not None:
        member = shape.members[payload]
        value = result.get(payload)
        if member.type_name == "blob":
            body = bytes(value or b"")
        elif member.type_name == "string":
            body = str(value or "").encode()
        elif value is not None:
            root = member.serialization.get("name", member.name)
            body = _document(root, member, value)
    elif any(not m.serialization.get("location") for m in shape.members.values()):
        root = ROOT_NAMES.get(shape.name, shape.serialization.get("name", shape.name))
        body = _document(root, shape, result)
    return WireResponse(status, body, content_type, headers)


def error_response(error: AwsError, request_id: str, *, head: bool) -> WireResponse:
    """S3's ``<Error>`` document (headers only for HEAD requests)."""
    headers = [("x-amz-request-id", request_id), *error.headers.items()]
    if head:
        return WireResponse(error.status, b"", XML_TYPE, headers)
    code = error.code
    if code == "UnknownOperationException":
        code = "NotImplemented"
    extra = "".join(
        f"<{name}>{xml_escape(str(value))}</{name}>" for name, value in error.fields.items()
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{xml_escape(code)}</Code><Message>{xml_escape(error.message)}</Message>"
        f"{extra}<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
    )
    return WireResponse(error.status, body.encode(), XML_TYPE, headers)


# ---------------------------------------------------------------------------- the protocol


def _model_routes(
    method: str, bucket: str | None, key: str | None, query: dict[str, str]
) -> tuple[rest_json.RestRoute, ...]:
    """The routes of botocore's model a request matches (path style, whatever its
    addressing), most specific first: those whose query-string literals (``?retention``)
    the request carries rank above the bare object and bucket operations."""
    level = "/" if bucket is None else "/bucket" if key is None else "/bucket/key"
    names = _literal_names()
    literals = tuple(sorted((name, value) for name, value in query.items() if name in names))
    return _routes_for(method, level, literals)


@cache
def _literal_names() -> frozenset[str]:
    """The query-string names any of S3's routes requires (``retention``, ``list-type``)."""
    return frozenset(
        name
        for table in rest_json.routes("s3").values()
        for route in table
        for name, _ in route.query_literals
    )


@lru_cache(maxsize=512)
def _routes_for(
    method: str, level: str, literals: tuple[tuple[str, str], ...]
) -> tuple[rest_json.RestRoute, ...]:
    """``_model_routes`` for a request's method, level and the route literals it carries
    (cached: a request costs a lookup, not a pass over every route)."""
    carried = dict(literals)
    found = [
        route
        for table in rest_json.routes("s3").values()
        for route in table
        if route.method == method
        and route.pattern.match(level)
        and all(carried.get(name) == value for name, value in route.query_literals)
    ]
    return tuple(sorted(found, key=lambda route: route.specificity, reverse=True))


def _outranked(operation: str, modelled: tuple[rest_json.RestRoute, ...]) -> bool:
    """Whether the model names a sub-resource for the request that ``operation`` lacks:
    ``GET /key?retention`` is GetObjectRetention, not the GetObject the plain rules
    would choose (which would answer with the object, or a 500 from its parameters)."""
    if not modelled:
        return False
    own = [route for route in modelled if route.operation == operation]
    return not own or len(own[0].query_literals) < len(modelled[0].query_literals)


def _not_implemented(modelled: tuple[rest_json.RestRoute, ...]) -> AwsError:
    """S3's NotImplemented, naming the model's operation for the request when there is one."""
    if not modelled:
        return AwsError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            status=501,
        )
    return AwsError(
        "NotImplemented",
        f"Operation {modelled[0].operation} is not supported by headwater's s3",
        status=501,
    )


def _is_post_form(request: WireRequest) -> bool:
    return request.method == "POST" and is_form_data(request.headers.get("content-type", ""))


async def _post_object(
    request: WireRequest, bucket: str, request_id: str, ctx: RequestContext, dispatch: Dispatch
) -> WireResponse:
    """S3's POST Object: the form's parts to the PostObject operation, its answer as S3
    gives it (204 by default, 200, 201 with a PostResponse document, or a 303 redirect)."""
    try:
        form = parse_form_data(request.headers.get("content-type", ""), request.body)
    except MalformedForm:
        raise AwsError(
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
            status=400,
        ) from None
    result = await dispatch("s3", "PostObject", {"Bucket": bucket, "Form": form}, ctx)
    status = int(result["_status"])
    headers = [
        ("x-amz-request-id", request_id),
        ("ETag", str(result["ETag"])),
        ("Location", str(result.get("_redirect") or result["Location"])),
    ]
    body = b""
    if status == 201:
        document = ElementTree.Element("PostResponse")
        for name in ("Location", "Bucket", "Key", "ETag"):
            ElementTree.SubElement(document, name).text = str(result[name])
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(document)
    return WireResponse(status, body, content_type="application/xml", headers=headers)


class RestXmlProtocol:
    """S3 on the router's protocol hook (``api.router.WireProtocol``)."""

    #: Refused requests get S3's XML error codes (``api.router.Router.handle``).
    error_family = "xml"

    def claims(self, request: WireRequest, scope: CredentialScope) -> bool:
        if "AWSAccessKeyId=" in request.query_string:  # presigned with signature v2: S3's
            return True
        if scope.service is not None:
            return scope.service == "s3"
        if _is_post_form(request):  # a browser's upload to a bucket: signed in its fields
            bucket, key = address(request)
            return bucket is not None and key is None
        return virtual_host_bucket(request.host) is not None

    async def handle(
        self, request: WireRequest, request_id: str, ctx: RequestContext, dispatch: Dispatch
    ) -> WireResponse:
        head = request.method == "HEAD"
        operation = "?"
        try:
            headers = dict(request.headers)
            body = request.body
            if is_aws_chunked(headers):
                body, trailers = decode_aws_chunked(body)
                headers.update(trailers)
                _strip_aws_chunked(headers)
            bucket, key = address(request)
            query = dict(request.query_items())
            if bucket is not None and key is None and _is_post_form(request):
                operation = "PostObject"
                return await _post_object(request, bucket, request_id, ctx, dispatch)
            found = operation_for(request.method, bucket, key, query, headers)
            modelled = _model_routes(request.method, bucket, key, query)
            if (
                found is None
                or found not in service_model("s3").operation_names
                or _outranked(found, modelled)
            ):
                raise _not_implemented(modelled)
            operation = found
            params = parse_request(
                operation, bucket=bucket, key=key, query=query, headers=headers, body=body
            )
            result = await dispatch("s3", operation, params, ctx)
            response = serialize_response(operation, result, request_id)
            if head:
                response.body = b""
            return response
        except AwsError as error:
            return error_response(error, request_id, head=head)
        except RecursionError:  # a policy or configuration document nested too deep
            return error_response(nested_value_error("InvalidArgument"), request_id, head=head)
        except Exception as exc:
            return error_response(server_fault(exc, f"s3 {operation}"), request_id, head=head)
