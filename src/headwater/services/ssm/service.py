"""The SSM Parameter Store subset CloudFormation and CDK use: parameters, versions, tags.

``AWS::SSM::Parameter`` resources, ``AWS::SSM::Parameter::Value<...>`` template parameters,
``{{resolve:ssm:...}}`` references and CDK's bootstrap version parameter all read and write
here. SecureString values are stored as given (no KMS); the Get operations answer them
only with ``WithDecryption``, else an encrypted-looking stand-in, as SSM answers ciphertext.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.ssm.store import ParameterRecord, ParameterStore, ParameterVersion

TYPES = ("String", "StringList", "SecureString")
MAX_NAME = 2048
MAX_VERSIONS = 100
#: What a standard parameter's value holds: Intelligent-Tiering stores a parameter in the
#: standard tier unless its value needs the advanced one.
STANDARD_VALUE_BYTES = 4096
_NAME = re.compile(r"^[a-zA-Z0-9_.\-/]+$")


#: The first bytes of a KMS ciphertext blob (base64 "AQICAH..."), as SSM's encrypted values start.
_CIPHERTEXT_HEADER = b"\x01\x02\x02\x00\x78"


def shown_value(record: ParameterRecord, version: ParameterVersion, decrypt: bool) -> str:
    """A version's value as the Get operations answer it: a SecureString read without
    ``WithDecryption`` is its encrypted form (base64 ciphertext), never the plain text, so
    code that forgets to ask for decryption fails here as it does on AWS. There is no KMS
    here: the "ciphertext" is a digest-derived stand-in, stable per version, that nothing
    decrypts."""
    if version.type != "SecureString" or decrypt:
        return version.value
    material = "\0".join(
        (version.key_id or DEFAULT_KEY_ID, record.name, str(version.version), version.value)
    ).encode("utf-8", "surrogatepass")
    size = 32 + len(version.value.encode("utf-8", "surrogatepass"))
    return base64.b64encode(_CIPHERTEXT_HEADER + hashlib.shake_256(material).digest(size)).decode()


def _matches(pattern: str, value: str) -> re.Match[str] | None:
    """``value`` matched in full against an AllowedPattern; a pattern that is not a regular
    expression is the caller's error (it raised re.error out of the call)."""
    try:
        return re.fullmatch(pattern, value)
    except (re.error, RecursionError):
        raise AwsError(
            "InvalidAllowedPatternException",
            "The request doesn't meet the regular expression requirement.",
        ) from None


def _not_found(name: str = "") -> AwsError:
    # AWS answers GetParameter on a missing name with an empty message.
    return AwsError("ParameterNotFound", name and f"Parameter {name} not found.")


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


#: The most parameters one GetParametersByPath page holds.
MAX_PATH_RESULTS = 10
#: The key SSM encrypts a SecureString with when PutParameter names none.
DEFAULT_KEY_ID = "alias/aws/ssm"
#: The ParameterFilters keys GetParametersByPath takes (DescribeParameters takes others).
PATH_FILTER_KEYS = ("Type", "KeyId", "Label")


def path_filters(
    filters: list[dict[str, Any]],
) -> Callable[[ParameterRecord], ParameterVersion | None]:
    """GetParametersByPath's ``ParameterFilters`` as a function choosing the version of a
    parameter to answer (None: the parameter is left out): the latest, whose ``Type`` and
    ``KeyId`` must match; with a ``Label`` filter, the version carrying one of the labels.
    Filters SSM does not take there are refused with its errors, before anything is read."""
    checks: list[Callable[[ParameterVersion], bool]] = []
    labels: list[str] | None = None
    for given in filters:
        key, option = str(given.get("Key", "")), str(given.get("Option") or "Equals")
        values = [str(value) for value in given.get("Values") or []]
        if key not in PATH_FILTER_KEYS:
            raise AwsError(
                "InvalidFilterKey",
                f"The following filter key is not valid: {key}. Valid filter keys include: "
                "[Type, KeyId].",
            )
        allowed = ("Equals",) if key == "Label" else ("BeginsWith", "Equals")
        if option not in allowed:
            raise AwsError(
                "InvalidFilterOption",
                f"The following filter option is not valid: {option}. Valid options include: "
                f"[{', '.join(allowed)}].",
            )
        if not values:
            raise AwsError(
                "InvalidFilterValue",
                f"The following filter values are missing : null for filter key {key}.",
            )
        if key == "Label":
            labels = values
            continue
        if key == "Type":
            for value in values:
                if value not in TYPES:
                    raise AwsError(
                        "InvalidFilterOption",
                        f"The following filter value is not valid: {value}. Valid values "
                        "include: [String, StringList, SecureString].",
                    )
        checks.append(_filter_check(key, option, values))

    def choose(record: ParameterRecord) -> ParameterVersion | None:
        if labels is None:
            version: ParameterVersion | None = record.latest
        else:
            version = next(
                (v for v in reversed(record.versions) if set(v.labels) & set(labels)), None
            )
        if version is None or not all(check(version) for check in checks):
            return None
        return version

    return choose


def _filter_check(key: str, option: str, values: list[str]) -> Callable[[ParameterVersion], bool]:
    def field(version: ParameterVersion) -> str | None:
        if key == "Type":
            return version.type
        if version.type != "SecureString":
            return None  # only SecureStrings have a key
        return version.key_id or DEFAULT_KEY_ID

    def check(version: ParameterVersion) -> bool:
        found = field(version)
        if found is None:
            return False
        if option == "BeginsWith":
            return any(found.startswith(value) for value in values)
        return found in values

    return check


def _next_token(last_name: str) -> str:
    return base64.urlsafe_b64encode(last_name.encode()).decode()


def _token_name(token: Any) -> str | None:
    """The last parameter name the page before a ``NextToken`` held (None: no token)."""
    if token is None:
        return None
    try:
        name = base64.b64decode(str(token), altchars=b"-_", validate=True).decode()
    except ValueError:  # not base64, or not UTF-8
        name = None
    if name is None or _next_token(name) != token:
        raise AwsError("InvalidNextToken", "The specified token is not valid.")
    return name


def parameter_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise _validation("Parameter name must not be empty.")
    if len(name) > MAX_NAME or not _NAME.match(name):
        raise _validation(
            'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). '
            "It must use only letters, numbers, or the following symbols: . (period), - "
            "(hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if "
            'specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/'
            "by1./path0_."
        )
    if "/" in name and not name.startswith("/"):
        raise _validation('Parameter name must be a fully qualified name (begin with "/").')
    return name


def _stored_tier(requested: Any, value: str, previous: ParameterVersion | None) -> str:
    """The tier a version is stored in: Intelligent-Tiering is not a tier but a choice,
    Standard unless the value is too large for it or the parameter is already Advanced (an
    advanced parameter cannot go back), as Parameter Store answers it."""
    if requested != "Intelligent-Tiering":
        return str(requested or "Standard")
    if (previous is not None and previous.tier == "Advanced") or len(
        value.encode("utf-8")
    ) > STANDARD_VALUE_BYTES:
        return "Advanced"
    return "Standard"


def _pattern_and_key(version: ParameterVersion) -> Result:
    """DescribeParameters' and GetParameterHistory's AllowedPattern and KeyId, when the
    version has them (terraform's aws_ssm_parameter reads allowed_pattern back from here)."""
    extras: Result = {}
    if version.allowed_pattern:
        extras["AllowedPattern"] = version.allowed_pattern
    if version.type == "SecureString":
        extras["KeyId"] = version.key_id or DEFAULT_KEY_ID
    return extras


class SsmService(Service):
    service_name = "ssm"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._store = ParameterStore(self.env.database)

    # -- Python API ------------------------------------------------------------------------

    def lookup(self, name: str, region: str | None = None) -> str | None:
        """The latest value of parameter ``name`` (``name:version`` works too), or None."""
        ctx = RequestContext(region=region or self.env.region, account=self.env.account)
        try:
            return str(self._selected(name, ctx)[1].value)
        except AwsError:
            return None

    # -- operations ------------------------------------------------------------------------

    @operation("PutParameter")
    def put_parameter(self, params: Params, ctx: RequestContext) -> Result:
        name = _check_name(params.get("Name"))
        value = params.get("Value")
        if not isinstance(value, str) or value == "":
            raise _validation(
                "1 validation error detected: Value '' at 'value' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"
            )
        type_name = params.get("Type")
        if type_name is not None and type_name not in TYPES:
            raise _validation(
                f"1 validation error detected: Value '{type_name}' at 'type' failed to satisfy "
                "constraint: Member must satisfy enum value set: [SecureString, StringList, "
                "String]"
            )
        pattern = params.get("AllowedPattern")
        if pattern and _matches(pattern, value) is None:
            raise AwsError(
                "ParameterPatternMismatchException",
                f"Parameter value, cannot be validated against allowedPattern: {pattern}",
            )
        # A read-then-write: in one transaction holding the row, so that two processes (or
        # nodes) overwriting one parameter cannot both write the same next version.
        with self._store.db.transaction():
            record = self._store.get(ctx.account, ctx.region, name, for_update=True)
            if record is not None and not params.get("Overwrite"):
                raise AwsError(
                    "ParameterAlreadyExists",
                    "The parameter already exists. To overwrite this value, set the overwrite "
                    "option in the request to true.",
                )
            if record is None:
                if type_name is None:
                    raise _validation("A parameter type is required when you create a parameter.")
                if params.get("Tags"):
                    tags = {tag["Key"]: tag["Value"] for tag in params["Tags"]}
                else:
                    tags = {}
                record = ParameterRecord(name=name, tags=tags)
            elif params.get("Tags"):
                raise _validation(
                    "Invalid request: tags and overwrite can't be used together. To create a "
                    "parameter with tags, please remove overwrite flag. To update tags for an "
                    "existing parameter, please use AddTagsToResource or RemoveTagsFromResource."
                )
            previous = record.versions[-1] if record.versions else None
            version = ParameterVersion(
                version=(previous.version + 1) if previous else 1,
                value=value,
                type=type_name or (previous.type if previous else "String"),
                modified=self.env.clock.now(),
                description=params.get("Description", previous.description if previous else ""),
                allowed_pattern=pattern or (previous.allowed_pattern if previous else None),
                data_type=params.get("DataType", "text"),
                tier=_stored_tier(params.get("Tier"), value, previous),
                key_id=params.get("KeyId"),
            )
            record.versions = [*record.versions, version][-MAX_VERSIONS:]
            self._store.put(ctx.account, ctx.region, record)
        return {"Version": version.version, "Tier": version.tier}

    def _selected(
        self, reference: str, ctx: RequestContext
    ) -> tuple[ParameterRecord, ParameterVersion]:
        name, _, selector = reference.partition(":")
        record = self._store.get(ctx.account, ctx.region, name)
        if record is None:
            raise _not_found()
        if not selector:
            return record, record.latest
        for version in record.versions:
            if str(version.version) == selector or selector in version.labels:
                return record, version
        raise AwsError(
            "ParameterVersionNotFound",
            f"Systems Manager could not find version {selector} of {name}. Verify the version "
            "and try again.",
        )

    def _describe(
        self,
        record: ParameterRecord,
        version: ParameterVersion,
        ctx: RequestContext,
        selector: str = "",
        *,
        decrypt: bool,
    ) -> Result:
        described: Result = {
            "Name": record.name,
            "Type": version.type,
            "Value": shown_value(record, version, decrypt),
            "Version": version.version,
            "LastModifiedDate": as_datetime(version.modified),
            "ARN": parameter_arn(ctx.region, ctx.account, record.name),
            "DataType": version.data_type,
        }
        if selector:
            described["Selector"] = f":{selector}"
        return described

    @operation("GetParameter")
    def get_parameter(self, params: Params, ctx: RequestContext) -> Result:
        reference = str(params.get("Name", ""))
        record, version = self._selected(reference, ctx)
        return {
            "Parameter": self._describe(
                record,
                version,
                ctx,
                reference.partition(":")[2],
                decrypt=bool(params.get("WithDecryption")),
            )
        }

    @operation("GetParameters")
    def get_parameters(self, params: Params, ctx: RequestContext) -> Result:
        found, invalid = [], []
        for reference in params.get("Names") or []:
            try:
                record, version = self._selected(reference, ctx)
            except AwsError:
                invalid.append(reference)
                continue
            found.append(
                self._describe(
                    record,
                    version,
                    ctx,
                    reference.partition(":")[2],
                    decrypt=bool(params.get("WithDecryption")),
                )
            )
        return {"Parameters": found, "InvalidParameters": invalid}

    @operation("GetParametersByPath")
    def get_parameters_by_path(self, params: Params, ctx: RequestContext) -> Result:
        path = str(params.get("Path", ""))
        if not path.startswith("/"):
            raise _validation(
                "The parameter doesn't meet the parameter name requirements. The parameter name "
                'must begin with a forward slash "/".'
            )
        limit = params.get("MaxResults", MAX_PATH_RESULTS)
        if not 1 <= limit <= MAX_PATH_RESULTS:
            bound = (
                "greater than or equal to 1"
                if limit < 1
                else f"less than or equal to {MAX_PATH_RESULTS}"
            )
            raise _validation(
                f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy "
                f"constraint: Member must have value {bound}"
            )
        chosen = path_filters(params.get("ParameterFilters") or [])
        after = _token_name(params.get("NextToken"))
        prefix = path if path.endswith("/") else path + "/"
        found: list[Result] = []
        last = ""
        for record in self._store.all(ctx.account, ctx.region):
            if not record.name.startswith(prefix) or (after is not None and record.name <= after):
                continue
            if not params.get("Recursive") and "/" in record.name[len(prefix) :]:
                continue
            version = chosen(record)
            if version is None:
                continue
            if len(found) == limit:
                return {"Parameters": found, "NextToken": _next_token(last)}
            found.append(
                self._describe(record, version, ctx, decrypt=bool(params.get("WithDecryption")))
            )
            last = record.name
        return {"Parameters": found}

    @operation("GetParameterHistory")
    def get_parameter_history(self, params: Params, ctx: RequestContext) -> Result:
        record = self._store.get(ctx.account, ctx.region, str(params.get("Name", "")))
        if record is None:
            raise _not_found()
        return {
            "Parameters": [
                {
                    "Name": record.name,
                    "Type": version.type,
                    "Value": shown_value(record, version, bool(params.get("WithDecryption"))),
                    "Version": version.version,
                    "LastModifiedDate": as_datetime(version.modified),
                    "Description": version.description,
                    "Labels": list(version.labels),
                    "Tier": version.tier,
                    "DataType": version.data_type,
                    "Policies": [],
                    **_pattern_and_key(version),
                }
                for version in record.versions
            ]
        }

    @operation("DescribeParameters")
    def describe_parameters(self, params: Params, ctx: RequestContext) -> Result:
        names: set[str] | None = None
        for parameter_filter in params.get("ParameterFilters") or []:
            if parameter_filter.get("Key") == "Name":
                names = set(parameter_filter.get("Values") or [])
        described = []
        for record in self._store.all(ctx.account, ctx.region):
            if names is not None and record.name not in names:
                continue
            latest = record.latest
            entry: Result = {
                "Name": record.name,
                "ARN": parameter_arn(ctx.region, ctx.account, record.name),
                "Type": latest.type,
                "LastModifiedDate": as_datetime(latest.modified),
                "LastModifiedUser": f"arn:aws:iam::{ctx.account}:root",
                "Version": latest.version,
                "Tier": latest.tier,
                "Policies": [],
                "DataType": latest.data_type,
                **_pattern_and_key(latest),
            }
            if latest.description:
                entry["Description"] = latest.description
            described.append(entry)
        return {"Parameters": described}

    @operation("DeleteParameter")
    def delete_parameter(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params.get("Name", ""))
        if not self._store.delete(ctx.account, ctx.region, name):
            raise _not_found()
        return {}

    @operation("DeleteParameters")
    def delete_parameters(self, params: Params, ctx: RequestContext) -> Result:
        deleted: list[str] = []
        invalid: list[str] = []
        for name in params.get("Names") or []:
            (deleted if self._store.delete(ctx.account, ctx.region, name) else invalid).append(name)
        return {"DeletedParameters": deleted, "InvalidParameters": invalid}

    # -- tags ------------------------------------------------------------------------------

    def _tagged(
        self, params: Params, ctx: RequestContext, *, for_update: bool = False
    ) -> ParameterRecord:
        if params.get("ResourceType") != "Parameter":
            raise _validation("headwater's SSM supports tags on parameters only")
        record = self._store.get(
            ctx.account, ctx.region, str(params.get("ResourceId", "")), for_update=for_update
        )
        if record is None:
            raise AwsError("InvalidResourceId", "")
        return record

    @operation("AddTagsToResource")
    def add_tags_to_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self._store.db.transaction():
            record = self._tagged(params, ctx, for_update=True)
            record.tags.update({tag["Key"]: tag["Value"] for tag in params.get("Tags") or []})
            self._store.put(ctx.account, ctx.region, record)
        return {}

    @operation("RemoveTagsFromResource")
    def remove_tags_from_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self._store.db.transaction():
            record = self._tagged(params, ctx, for_update=True)
            for key in params.get("TagKeys") or []:
                record.tags.pop(key, None)
            self._store.put(ctx.account, ctx.region, record)
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        record = self._tagged(params, ctx)
        return {"TagList": [{"Key": k, "Value": v} for k, v in record.tags.items()]}
