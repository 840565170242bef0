"""Log groups and streams: create, describe, delete, retention, tags."""

from __future__ import annotations

import re
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.paging import OffsetTokens
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.logs.store import LogGroup, LogStore, LogStream

RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]+$")


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def group_not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log group does not exist.")


def stream_not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log stream does not exist.")


def check_limit(value: Any, maximum: int) -> int | None:
    if value is None:
        return None
    if value > maximum or value < 1:
        bound = "less than or equal to" if value > maximum else "greater than or equal to"
        edge = maximum if value > maximum else 1
        raise invalid_parameter(
            f"1 validation error detected: Value '{value}' at 'limit' failed to satisfy "
            f"constraint: Member must have value {bound} {edge}"
        )
    return int(value)


def parse_group_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, region, name) of a log group ARN (with or without ``:*``)."""
    parts = arn.split(":", 6)
    if len(parts) != 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    name = parts[6]
    if name.endswith(":*"):
        name = name[:-2]
    return parts[4], parts[3], name


class GroupOperations(Service):
    """Log group and stream operations over a ``LogStore``."""

    log_store: LogStore

    def now_ms(self) -> int:
        return int(self.env.clock.now() * 1000)

    # ---- lookups ----

    def require_group(self, params: Params, ctx: RequestContext) -> LogGroup:
        """The group named by ``logGroupName`` or ``logGroupIdentifier`` (name or ARN)."""
        name = params.get("logGroupName")
        identifier = params.get("logGroupIdentifier")
        if name is not None and identifier is not None:
            raise AwsError(
                "ValidationException",
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            )
        account, region = ctx.account, ctx.region
        if identifier is not None:
            parsed = parse_group_arn(identifier) if identifier.startswith("arn:") else None
            if parsed is not None:
                account, region, name = parsed
            else:
                name = identifier
        if name is None:
            raise invalid_parameter("Either logGroupName or logGroupIdentifier is required.")
        group = self.log_store.get_group(account, region, name)
        if group is None:
            raise group_not_found()
        return group

    def ensure_group(self, account: str, region: str, name: str) -> LogGroup:
        """The group, created on first use (how Lambda's groups come to exist)."""
        group = self.log_store.get_group(account, region, name)
        if group is None:
            self.log_store.insert_group(LogGroup(account, region, name, self.now_ms()))
            group = self.log_store.get_group(account, region, name)
            assert group is not None
        return group

    # ---- groups ----

    @operation("CreateLogGroup")
    def create_log_group(self, params: Params, ctx: RequestContext) -> Result:
        name = params["logGroupName"]
        _check_name(name)
        group = LogGroup(
            ctx.account,
            ctx.region,
            name,
            self.now_ms(),
            kms_key=params.get("kmsKeyId"),
            group_class=params.get("logGroupClass") or "STANDARD",
            tags=dict(params.get("tags") or {}),
        )
        if not self.log_store.insert_group(group):
            raise AwsError(
                "ResourceAlreadyExistsException", "The specified log group already exists"
            )
        return {}

    @operation("DeleteLogGroup")
    def delete_log_group(self, params: Params, ctx: RequestContext) -> Result:
        group = self.log_store.get_group(ctx.account, ctx.region, params["logGroupName"])
        if group is None:
            raise group_not_found()
        self.log_store.delete_group(group)
        return {}

    def _selected_groups(self, params: Params, ctx: RequestContext) -> list[LogGroup]:
        prefix = params.get("logGroupNamePrefix")
        pattern = params.get("logGroupNamePattern")
        if prefix is not None and pattern is not None:
            raise invalid_parameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        wanted_class = params.get("logGroupClass")
        identifiers = params.get("logGroupIdentifiers")
        found = []
        for group in self.log_store.groups(ctx.account, ctx.region):
            if prefix is not None and not group.name.startswith(prefix):
                continue
            if pattern is not None and pattern.lower() not in group.name.lower():
                continue
            if wanted_class is not None and group.group_class != wanted_class:
                continue
            if (
                identifiers is not None
                and group.name not in identifiers
                and (group.arn not in identifiers)
            ):
                continue
            found.append(group)
        return found

    @operation("DescribeLogGroups")
    def describe_log_groups(self, params: Params, ctx: RequestContext) -> Result:
        groups = self._selected_groups(params, ctx)
        page, token = _page(groups, params, 50)
        result: Result = {"logGroups": [describe_group(g) for g in page]}
        if token is not None:
            result["nextToken"] = token
        return result

    @operation("ListLogGroups")
    def list_log_groups(self, params: Params, ctx: RequestContext) -> Result:
        groups = self._selected_groups(params, ctx)
        page, token = _page(groups, params, 50)
        result: Result = {
            "logGroups": [
                {"logGroupName": g.name, "logGroupArn": g.arn, "logGroupClass": g.group_class}
                for g in page
            ]
        }
        if token is not None:
            result["nextToken"] = token
        return result

    @operation("PutRetentionPolicy")
    def put_retention_policy(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            raise invalid_parameter(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(str(d) for d in RETENTION_DAYS)}]"
            )
        group.retention_days = int(days)
        self.log_store.update_group(group)
        return {}

    @operation("DeleteRetentionPolicy")
    def delete_retention_policy(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        group.retention_days = None
        self.log_store.update_group(group)
        return {}

    # ---- streams ----

    @operation("CreateLogStream")
    def create_log_stream(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        name = params["logStreamName"]
        _check_name(name, stream=True)
        if not self.log_store.insert_stream(group, name, self.now_ms()):
            raise AwsError(
                "ResourceAlreadyExistsException", "The specified log stream already exists"
            )
        return {}

    @operation("DeleteLogStream")
    def delete_log_stream(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        if not self.log_store.delete_stream(group, params["logStreamName"]):
            raise stream_not_found()
        return {}

    @operation("DescribeLogStreams")
    def describe_log_streams(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        prefix = params.get("logStreamNamePrefix") or ""
        order = params.get("orderBy", "LogStreamName")
        if order == "LastEventTime" and prefix:
            raise invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        streams = self.log_store.streams(group, prefix)
        if order == "LastEventTime":
            streams.sort(key=lambda s: (s.last_event or 0, s.name))
        if params.get("descending"):
            streams.reverse()
        page, token = _page(streams, params, 50)
        result: Result = {"logStreams": [describe_stream(group, s) for s in page]}
        if token is not None:
            result["nextToken"] = token
        return result

    # ---- tags ----

    @operation("TagLogGroup")
    def tag_log_group(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        group.tags.update(params.get("tags") or {})
        self.log_store.update_group(group)
        return {}

    @operation("UntagLogGroup")
    def untag_log_group(self, params: Params, ctx: RequestContext) -> Result:
        group = self.require_group(params, ctx)
        for key in params.get("tags") or []:
            group.tags.pop(key, None)
        self.log_store.update_group(group)
        return {}

    @operation("ListTagsLogGroup")
    def list_tags_log_group(self, params: Params, ctx: RequestContext) -> Result:
        return {"tags": dict(self.require_group(params, ctx).tags)}

    def _group_by_arn(self, arn: str) -> LogGroup:
        parsed = parse_group_arn(arn)
        group = None if parsed is None else self.log_store.get_group(*parsed)
        if group is None:
            raise group_not_found()
        return group

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        group = self._group_by_arn(params["resourceArn"])
        group.tags.update(params.get("tags") or {})
        self.log_store.update_group(group)
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        group = self._group_by_arn(params["resourceArn"])
        for key in params.get("tagKeys") or []:
            group.tags.pop(key, None)
        self.log_store.update_group(group)
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        return {"tags": dict(self._group_by_arn(params["resourceArn"]).tags)}


def describe_group(group: LogGroup) -> dict[str, Any]:
    described: dict[str, Any] = {
        "logGroupName": group.name,
        "creationTime": group.created,
        "metricFilterCount": 0,
        "arn": f"{group.arn}:*",
        "storedBytes": group.stored_bytes,
        "logGroupClass": group.group_class,
        "logGroupArn": group.arn,
        "deletionProtectionEnabled": False,
    }
    if group.retention_days is not None:
        described["retentionInDays"] = group.retention_days
    if group.kms_key is not None:
        described["kmsKeyId"] = group.kms_key
    return described


def describe_stream(group: LogGroup, stream: LogStream) -> dict[str, Any]:
    described: dict[str, Any] = {
        "logStreamName": stream.name,
        "creationTime": stream.created,
        "arn": f"{group.arn}:log-stream:{stream.name}",
        "storedBytes": 0,
    }
    if stream.first_event is not None:
        described["firstEventTimestamp"] = stream.first_event
        described["lastEventTimestamp"] = stream.last_event
        described["lastIngestionTime"] = stream.last_ingestion
    return described


def _check_name(name: str, *, stream: bool = False) -> None:
    if len(name) > 512:
        raise invalid_parameter(
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
        )
    if stream:
        if ":" in name or "*" in name:
            raise invalid_parameter("Log stream names cannot contain ':' or '*'.")
    elif not _NAME.match(name):
        raise invalid_parameter(
            f"1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )


# Tokens handed out are "o/<offset>"; a bare offset is read too.
_GROUP_TOKENS = OffsetTokens(
    invalid=lambda _: invalid_parameter("The specified nextToken is invalid."),
    encode=lambda offset: f"o/{offset}",
    decode=lambda token: int(token.removeprefix("o/")),
)


def _page(items: list[Any], params: Params, maximum: int) -> tuple[list[Any], str | None]:
    limit = check_limit(params.get("limit"), maximum) or maximum
    return _GROUP_TOKENS.page(items, params.get("nextToken"), limit)
