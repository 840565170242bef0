"""Function URLs (control plane): CreateFunctionUrlConfig, Get, Update, Delete and List.

A URL config is a per-function setting (``lambda_function_settings``, kind
``function-url``) of the unqualified function or of one alias, so it goes with the function
(DeleteFunction) and with its alias (DeleteAlias), as on AWS. Its body keeps the random
32-character URL id; the URL itself is written when answered, from the endpoint the caller
used: ``http://<url-id>.lambda-url.<region>.localhost:<port>/`` reaches ``headwater serve``
(``*.localhost`` resolves to loopback), where AWS answers
``https://<url-id>.lambda-url.<region>.on.aws/``. ``server.function_urls`` serves them.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from headwater.core.errors import validation_error
from headwater.core.localhost_urls import localhost_url
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.parts import LambdaParts, marker_page
from headwater.store.functions import FunctionRecord

FUNCTION_URL = "function-url"
AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
#: botocore's pattern of a FunctionUrlQualifier: an alias name, never a version number.
QUALIFIER_PATTERN = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"
URL_ID_LENGTH = 32
_URL_ID_ALPHABET = string.ascii_lowercase + string.digits
#: ``<url-id>.lambda-url.<region>.localhost``: a function URL's host name here.
_URL_HOST = re.compile(r"([a-z0-9]{32})\.lambda-url\.([a-z0-9-]{1,32})\.localhost")
NO_SUCH_RESOURCE = "The resource you requested does not exist."
#: AWS's words when the function of a Create is missing (LocalStack's AWS-validated text).
NO_SUCH_FUNCTION = "Function does not exist"
_CORS_LISTS = {
    "AllowHeaders": (100, 1024),
    "AllowMethods": (6, 6),
    "AllowOrigins": (100, 253),
    "ExposeHeaders": (100, 1024),
}
MAX_CORS_AGE = 86400


@dataclass(frozen=True, slots=True)
class FunctionUrlTarget:
    """What a function URL invokes and how it is guarded (``server.function_urls``)."""

    url_id: str
    region: str
    function_name: str
    #: The alias the URL belongs to (``None``: the unqualified function, $LATEST).
    qualifier: str | None
    auth_type: str
    cors: dict[str, Any] | None
    invoke_mode: str


def new_url_id() -> str:
    """A URL id as AWS's look: 32 lower-case letters and digits."""
    return "".join(secrets.choice(_URL_ID_ALPHABET) for _ in range(URL_ID_LENGTH))


def function_url(url_id: str, region: str, endpoint: str | None) -> str:
    """The URL of ``url_id`` for a caller of ``endpoint`` (``http://127.0.0.1:4599``): the
    ``*.localhost`` host on the server's port; AWS's own form when there is no server."""
    if not endpoint:
        return f"https://{url_id}.lambda-url.{region}.on.aws/"
    return localhost_url(f"{url_id}.lambda-url.{region}", endpoint) + "/"


def url_host_id(host_name: str) -> tuple[str, str] | None:
    """(url id, region) of a function URL's host name (no port), else ``None``."""
    found = _URL_HOST.fullmatch(host_name)
    return None if found is None else (found.group(1), found.group(2))


def _timestamp(epoch: float) -> str:
    """A function URL's ``CreationTime``/``LastModifiedTime``: ISO 8601 with microseconds
    and ``Z`` (``2021-12-21T22:39:39.421735Z``, as AWS's CLI examples show)."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_enum(value: Any, member: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise validation_error(
            value, member, f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return str(value)


def _check_qualifier(qualifier: Any) -> str | None:
    """An alias name, or ``None``: $LATEST and version numbers fail the model's pattern."""
    if qualifier is None:
        return None
    text = str(qualifier)
    if not re.fullmatch(QUALIFIER_PATTERN, text) or len(text) > 128:
        raise validation_error(
            text,
            "qualifier",
            f"Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}",
        )
    return text


def check_cors(cors: Any) -> dict[str, Any]:
    """A ``Cors`` structure within the model's constraints (lists' lengths, MaxAge)."""
    if not isinstance(cors, dict):
        raise check.invalid_parameter("Cors must be a structure")
    checked: dict[str, Any] = {}
    for key, value in cors.items():
        if key == "AllowCredentials":
            if not isinstance(value, bool):
                raise validation_error(value, "cors.allowCredentials", "Member must be a boolean")
            checked[key] = value
        elif key in _CORS_LISTS:
            most, longest = _CORS_LISTS[key]
            member = f"cors.{key[0].lower()}{key[1:]}"
            if not isinstance(value, list) or len(value) > most:
                raise validation_error(
                    value, member, f"Member must have length less than or equal to {most}"
                )
            for item in value:
                if not isinstance(item, str) or len(item) > longest:
                    raise validation_error(
                        item,
                        member,
                        f"Member must satisfy constraint: [Member must have length less "
                        f"than or equal to {longest}]",
                    )
            checked[key] = list(value)
        elif key == "MaxAge":
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not (0 <= value <= MAX_CORS_AGE)
            ):
                raise validation_error(
                    value,
                    "cors.maxAge",
                    f"Member must have value less than or equal to {MAX_CORS_AGE}",
                )
            checked[key] = value
    return checked


class FunctionUrlOperations(LambdaParts):
    """Function URL configs (mixed into ``LambdaService``)."""

    def _url_function(
        self, params: Params, ctx: RequestContext, missing: str
    ) -> tuple[FunctionRecord, str | None]:
        """The function and alias a URL call names (``missing``: the not-found message)."""
        qualifier = _check_qualifier(params.get("Qualifier"))
        parsed, home = self._locate(params.get("FunctionName", ""), qualifier, ctx.region)
        qualifier = _check_qualifier(parsed.qualifier)
        record = self._functions.get(home, parsed.name)
        if record is None:
            raise check.user_error("ResourceNotFoundException", missing, 404)
        if qualifier is not None and self._resources.alias(home, parsed.name, qualifier) is None:
            raise check.user_error("ResourceNotFoundException", missing, 404)
        return record, qualifier

    def _url_result(
        self,
        record: FunctionRecord,
        qualifier: str | None,
        body: dict[str, Any],
        ctx: RequestContext,
        *,
        modified: bool = True,
    ) -> Result:
        endpoint = ctx.endpoint or self.env.endpoint_url
        result: Result = {
            "FunctionUrl": function_url(body["UrlId"], record.region, endpoint),
            "FunctionArn": self._arn(record.region, record.name, qualifier),
            "AuthType": body["AuthType"],
        }
        if body.get("Cors") is not None:
            result["Cors"] = body["Cors"]
        result["CreationTime"] = _timestamp(body["CreationTime"])
        if modified:
            result["LastModifiedTime"] = _timestamp(body["LastModifiedTime"])
        result["InvokeMode"] = body.get("InvokeMode", "BUFFERED")
        return result

    @operation("CreateFunctionUrlConfig")
    def create_function_url_config(self, params: Params, ctx: RequestContext) -> Result:
        auth_type = _check_enum(params.get("AuthType"), "authType", AUTH_TYPES)
        invoke_mode = _check_enum(params.get("InvokeMode", "BUFFERED"), "invokeMode", INVOKE_MODES)
        cors = check_cors(params["Cors"]) if params.get("Cors") is not None else None
        with self._function_lock, self._resources.transaction():
            record, qualifier = self._url_function(params, ctx, NO_SUCH_FUNCTION)
            stored = self._resources.setting(
                record.region, record.name, qualifier or "", FUNCTION_URL
            )
            if stored is not None:
                arn = self._arn(record.region, record.name, qualifier)
                # AWS's text, two spaces after "Error message:" included.
                raise check.user_error(
                    "ResourceConflictException",
                    f"Failed to create function url config for [functionArn = {arn}]. Error "
                    "message:  FunctionUrlConfig exists for this Lambda function",
                    409,
                )
            now = self.env.clock.now()
            body: dict[str, Any] = {
                "UrlId": new_url_id(),
                "AuthType": auth_type,
                "Cors": cors,
                "InvokeMode": invoke_mode,
                "CreationTime": now,
                "LastModifiedTime": now,
            }
            self._resources.put_setting(
                record.region, record.name, qualifier or "", FUNCTION_URL, body
            )
        result = self._url_result(record, qualifier, body, ctx, modified=False)
        result["_status"] = 201
        return result

    def _stored_url(
        self, params: Params, ctx: RequestContext
    ) -> tuple[FunctionRecord, str | None, dict[str, Any]]:
        record, qualifier = self._url_function(params, ctx, NO_SUCH_RESOURCE)
        body = self._resources.setting(record.region, record.name, qualifier or "", FUNCTION_URL)
        if body is None:
            raise check.user_error("ResourceNotFoundException", NO_SUCH_RESOURCE, 404)
        return record, qualifier, body

    @operation("GetFunctionUrlConfig")
    def get_function_url_config(self, params: Params, ctx: RequestContext) -> Result:
        record, qualifier, body = self._stored_url(params, ctx)
        return self._url_result(record, qualifier, body, ctx)

    @operation("UpdateFunctionUrlConfig")
    def update_function_url_config(self, params: Params, ctx: RequestContext) -> Result:
        changes: dict[str, Any] = {}
        if params.get("AuthType") is not None:
            changes["AuthType"] = _check_enum(params["AuthType"], "authType", AUTH_TYPES)
        if params.get("InvokeMode") is not None:
            changes["InvokeMode"] = _check_enum(params["InvokeMode"], "invokeMode", INVOKE_MODES)
        if params.get("Cors") is not None:
            changes["Cors"] = check_cors(params["Cors"])
        with self._function_lock, self._resources.transaction():
            record, qualifier, body = self._stored_url(params, ctx)
            body = {**body, **changes, "LastModifiedTime": self.env.clock.now()}
            self._resources.put_setting(
                record.region, record.name, qualifier or "", FUNCTION_URL, body
            )
        return self._url_result(record, qualifier, body, ctx)

    @operation("DeleteFunctionUrlConfig")
    def delete_function_url_config(self, params: Params, ctx: RequestContext) -> Result:
        with self._function_lock, self._resources.transaction():
            record, qualifier, _ = self._stored_url(params, ctx)
            self._resources.delete_setting(
                record.region, record.name, qualifier or "", FUNCTION_URL
            )
        return {"_status": 204}

    @operation("ListFunctionUrlConfigs")
    def list_function_url_configs(self, params: Params, ctx: RequestContext) -> Result:
        parsed, home = self._locate(params.get("FunctionName", ""), region=ctx.region)
        record = self._functions.get(home, parsed.name)
        if record is None:
            raise check.user_error("ResourceNotFoundException", NO_SUCH_FUNCTION, 404)
        stored = self._resources.settings(record.region, record.name, FUNCTION_URL)
        configs = [
            self._url_result(record, qualifier or None, body, ctx) for qualifier, body in stored
        ]
        return marker_page(configs, params, "FunctionUrlConfigs")

    # -- serving (server.function_urls) ---------------------------------------------------

    def function_url_target(self, url_id: str) -> FunctionUrlTarget | None:
        """The function URL with id ``url_id``, in whatever region (``None``: no such URL)."""
        for region, name, qualifier, body in self._resources.settings_of_kind(FUNCTION_URL):
            if body.get("UrlId") == url_id:
                return FunctionUrlTarget(
                    url_id=url_id,
                    region=region,
                    function_name=name,
                    qualifier=qualifier or None,
                    auth_type=str(body["AuthType"]),
                    cors=body.get("Cors"),
                    invoke_mode=str(body.get("InvokeMode", "BUFFERED")),
                )
        return None
