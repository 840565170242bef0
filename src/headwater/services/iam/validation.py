"""IAM and STS input checks with AWS's error codes and messages.

``check_constraints`` applies the botocore model's length, range and pattern traits to an
operation's top-level members, worded as IAM words them (``1 validation error detected:
Value 'x' at 'roleName' failed to satisfy constraint: ...``). ``check_policy_document``
validates identity and trust policies the way IAM's ``MalformedPolicyDocument`` errors
say (JSON, version, statements, effect, actions, resources, principals).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import orjson
from botocore.model import Shape

from headwater.core.errors import AwsError
from headwater.models import operation_model

POLICY_VERSIONS = ("2008-10-17", "2012-10-17")
_ARN = re.compile(r"arn:[^:]*:[^:]*:[^:]*:[^:]*:.+", re.S)
_SID = re.compile(r"[0-9A-Za-z]*")
_VENDOR = re.compile(r"[a-zA-Z0-9-]+:.+|\*")
_EFFECTS = ("Allow", "Deny")
_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)


def validation_error(message: str) -> AwsError:
    """IAM's and STS's ``ValidationError`` (awsQuery)."""
    return AwsError("ValidationError", message)


def no_such_entity(message: str) -> AwsError:
    return AwsError("NoSuchEntity", message, status=404)


def already_exists(message: str) -> AwsError:
    return AwsError("EntityAlreadyExists", message, status=409)


def invalid_input(message: str) -> AwsError:
    return AwsError("InvalidInput", message)


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocument", message)


def delete_conflict(message: str) -> AwsError:
    return AwsError("DeleteConflict", message, status=409)


def limit_exceeded(message: str) -> AwsError:
    return AwsError("LimitExceeded", message, status=409)


# ---------------------------------------------------------------------- model constraints


def _python_pattern(pattern: str) -> re.Pattern[str]:
    # The models write astral code points as \u10000; Python spells them \U00010000.
    fixed = re.sub(r"\\u([0-9A-Fa-f]{5,6})", lambda m: f"\\U{int(m[1], 16):08X}", pattern)
    return re.compile(fixed)


@cache
def _constraints(
    service_name: str, operation: str
) -> tuple[tuple[str, Shape, re.Pattern[str] | None], ...]:
    shape = operation_model(service_name, operation).input_shape
    if shape is None:
        return ()
    found = []
    for name, member in shape.members.items():
        pattern = member.metadata.get("pattern")
        compiled = _python_pattern(pattern) if isinstance(pattern, str) else None
        found.append((name, member, compiled))
    return tuple(found)


def _wire_name(name: str) -> str:
    return name[0].lower() + name[1:]


def _violation(value: Any, member: Shape, pattern: re.Pattern[str] | None) -> str | None:
    meta = member.metadata
    kind = member.type_name
    if kind == "string" and isinstance(value, str):
        if "min" in meta and len(value) < meta["min"]:
            return f"Member must have length greater than or equal to {meta['min']}"
        if "max" in meta and len(value) > meta["max"]:
            return f"Member must have length less than or equal to {meta['max']}"
        if pattern is not None and not pattern.fullmatch(value):
            return f"Member must satisfy regular expression pattern: {meta['pattern']}"
    elif kind in ("integer", "long") and isinstance(value, int):
        if "min" in meta and value < meta["min"]:
            return f"Member must have value greater than or equal to {meta['min']}"
        if "max" in meta and value > meta["max"]:
            return f"Member must have value less than or equal to {meta['max']}"
    elif kind == "list" and isinstance(value, list):
        if "min" in meta and len(value) < meta["min"]:
            return f"Member must have length greater than or equal to {meta['min']}"
        if "max" in meta and len(value) > meta["max"]:
            return f"Member must have length less than or equal to {meta['max']}"
    return None


def check_constraints(service_name: str, operation: str, params: dict[str, Any]) -> None:
    """Raise ``ValidationError`` listing every top-level member that breaks the model."""
    problems = []
    for name, member, pattern in _constraints(service_name, operation):
        if name not in params:
            continue
        value = params[name]
        constraint = _violation(value, member, pattern)
        if constraint is not None:
            shown = value if not isinstance(value, list) else "[" + ", ".join(map(str, value)) + "]"
            problems.append(
                f"Value '{shown}' at '{_wire_name(name)}' failed to satisfy constraint: "
                f"{constraint}"
            )
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise validation_error(f"{count} validation {noun} detected: " + "; ".join(problems))


# ---------------------------------------------------------------------- policy documents


def parse_policy(document: str) -> dict[str, Any]:
    """The document as JSON; ``MalformedPolicyDocument`` if it is not a JSON object."""
    try:
        parsed = orjson.loads(document)
    except orjson.JSONDecodeError:
        raise malformed("This policy contains invalid Json") from None
    if not isinstance(parsed, dict):
        raise malformed("Syntax errors in policy.")
    return parsed


def check_policy_document(document: str, *, trust: bool = False) -> dict[str, Any]:
    """Validate an identity policy (or, with ``trust``, a role's trust policy)."""
    policy = parse_policy(document)
    unknown = set(policy) - {"Version", "Id", "Statement"}
    if unknown:
        raise malformed("Syntax errors in policy.")
    version = policy.get("Version")
    if version is not None and version not in POLICY_VERSIONS:
        raise malformed("The policy failed legacy parsing")
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise malformed("Syntax errors in policy.")
    sids: set[str] = set()
    for statement in statements:
        _check_statement(statement, trust, sids, version)
    return policy


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _check_statement(statement: Any, trust: bool, sids: set[str], version: Any) -> None:
    if not isinstance(statement, dict) or set(statement) - _STATEMENT_KEYS:
        raise malformed("Syntax errors in policy.")
    sid = statement.get("Sid")
    if sid is not None:
        if not isinstance(sid, str):
            raise malformed("Syntax errors in policy.")
        if not trust and not _SID.fullmatch(sid):
            raise malformed(
                "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies "
                "the regular expression [0-9A-Za-z]*"
            )
        if sid and sid in sids:
            raise malformed("Statement IDs (SID) in a single policy must be unique.")
        sids.add(sid)
    if statement.get("Effect") not in _EFFECTS:
        raise malformed("Syntax errors in policy.")
    if "Action" in statement and "NotAction" in statement:
        raise malformed("Syntax errors in policy.")
    actions = statement.get("Action", statement.get("NotAction"))
    if actions is None:
        raise malformed("Policy statement must contain actions.")
    names = _strings(actions)
    if names is None:
        raise malformed("Syntax errors in policy.")
    for action in names:
        if not _VENDOR.fullmatch(action):
            raise malformed(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
            )
    has_principal = "Principal" in statement or "NotPrincipal" in statement
    has_resource = "Resource" in statement or "NotResource" in statement
    if trust:
        if has_resource:
            raise malformed(
                "Has prohibited field Resource"
                if "Resource" in statement
                else "Has prohibited field NotResource"
            )
        if not has_principal:
            raise malformed("Missing required field Principal")
        _check_principal(statement.get("Principal", statement.get("NotPrincipal")))
    else:
        if has_principal:
            raise malformed("Policy document should not specify a principal.")
        if not has_resource:
            raise malformed("Policy statement must contain resources.")
        resources = _strings(statement.get("Resource", statement.get("NotResource")))
        if resources is None:
            raise malformed("Syntax errors in policy.")
        for resource in resources:
            _check_resource(resource, version)
    condition = statement.get("Condition")
    if condition is not None and not (
        isinstance(condition, dict) and all(isinstance(v, dict) for v in condition.values())
    ):
        raise malformed("Syntax errors in policy.")


def _check_principal(principal: Any) -> None:
    if principal == "*":
        return
    if not isinstance(principal, dict) or not principal:
        raise malformed("Syntax errors in policy.")
    for kind, value in principal.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise malformed(f'Invalid principal in policy: "{kind}":{orjson.dumps(value).decode()}')
        if _strings(value) is None:
            raise malformed("Syntax errors in policy.")


def _check_resource(resource: str, version: Any) -> None:
    if resource == "*" or ("${" in resource and version == "2012-10-17"):
        return
    if not _ARN.fullmatch(resource):
        raise malformed(f'Resource {resource} must be in ARN format or "*".')


# ---------------------------------------------------------------------- tags


def check_tags(tags: Any, *, limit: int = 50) -> list[dict[str, str]]:
    """``Tags=[{"Key", "Value"}]``: at most ``limit``, keys unique (case-insensitively)."""
    if tags is None:
        return []
    if len(tags) > limit:
        raise limit_exceeded(f"Cannot exceed quota for TagsPerRole: {limit}.")
    seen: set[str] = set()
    result = []
    for tag in tags:
        key = str(tag.get("Key", ""))
        value = str(tag.get("Value", ""))
        if not 1 <= len(key) <= 128:
            raise validation_error(
                f"1 validation error detected: Value '{key}' at 'tags.member.key' failed to "
                "satisfy constraint: Member must have length less than or equal to 128"
            )
        if len(value) > 256:
            raise validation_error(
                f"1 validation error detected: Value '{value}' at 'tags.member.value' failed "
                "to satisfy constraint: Member must have length less than or equal to 256"
            )
        if key.lower() in seen:
            raise invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        seen.add(key.lower())
        result.append({"Key": key, "Value": value})
    return result


def merge_tags(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """Tags after TagX: new values replace those of the same key (case-insensitively)."""
    replaced = {tag["Key"].lower(): tag for tag in new}
    merged = [replaced.pop(tag["Key"].lower(), tag) for tag in current]
    return merged + [tag for tag in new if tag["Key"].lower() in replaced]


def remove_tags(current: list[dict[str, str]], keys: list[str]) -> list[dict[str, str]]:
    gone = {key.lower() for key in keys}
    return [tag for tag in current if tag["Key"].lower() not in gone]
