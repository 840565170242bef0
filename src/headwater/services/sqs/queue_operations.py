"""Queue lifecycle operations: create, look up, list, attributes, purge, delete, tags."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.sqs.attributes import (
    ALL_NAMES,
    allows_source,
    effective_attributes,
    normalize_attributes,
    settings_of,
)
from headwater.services.sqs.errors import (
    invalid_attribute_value,
    invalid_parameter,
    invalid_value,
    queue_does_not_exist,
    sqs_error,
    unknown_attribute,
)
from headwater.services.sqs.queue_access import QueueAccess, ResolvedQueue
from headwater.services.sqs.validation import (
    INVALID_TEXT,
    check_queue_name,
    has_invalid_characters,
)
from headwater.store.queues import QueueRecord

#: Seconds during which a deleted queue's name, or another purge, is refused.
RECENTLY_DELETED_SECONDS = 60.0
PURGE_INTERVAL_SECONDS = 60.0
MAX_TAGS = 50
MAX_LIST_RESULTS = 1000


def _check_tags(tags: dict[str, str]) -> None:
    for key, value in tags.items():
        if has_invalid_characters(key) or has_invalid_characters(value):
            raise invalid_parameter(
                f"Tag keys and values must be valid Unicode text. {INVALID_TEXT}"
            )
        if not 1 <= len(key) <= 128:
            raise invalid_parameter(f"Tag key '{key}' must be between 1 and 128 characters long.")
        if len(str(value)) > 256:
            raise invalid_parameter(f"Tag value for key '{key}' must be at most 256 characters.")
        if key.lower().startswith("aws:"):
            raise invalid_parameter("Tag keys must not start with 'aws:'.")


def _page_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii")


def _page_after(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        raise invalid_parameter("Invalid NextToken value.") from None


def _page(records: list[QueueRecord], params: Params) -> tuple[list[QueueRecord], str | None]:
    """ListQueues-style paging: ``NextToken`` only when ``MaxResults`` was given."""
    max_results = params.get("MaxResults")
    if max_results is not None and not 1 <= int(max_results) <= MAX_LIST_RESULTS:
        raise invalid_value(
            max_results, "MaxResults", "MaxResults must be an integer between 1 and 1000."
        )
    after = _page_after(params.get("NextToken"))
    if after is not None:
        records = [r for r in records if r.name > after]
    limit = MAX_LIST_RESULTS if max_results is None else int(max_results)
    page = records[:limit]
    token = None
    if max_results is not None and len(records) > limit:
        token = _page_token(page[-1].name)
    return page, token


class QueueOperations:
    """CreateQueue, GetQueueUrl, ListQueues, Get/SetQueueAttributes, Purge/DeleteQueue, tags."""

    def __init__(self, access: QueueAccess) -> None:
        self.access = access

    def _check_redrive(self, attributes: dict[str, str], fifo: bool, source_arn: str) -> None:
        policy_text = attributes.get("RedrivePolicy")
        if not policy_text:
            return
        settings = settings_of({"RedrivePolicy": policy_text}, fifo)
        assert settings.redrive is not None
        target = self.access.resolve_arn(settings.redrive.dead_letter_target_arn)
        if target is None:
            raise invalid_value(policy_text, "RedrivePolicy", "Dead letter target does not exist.")
        if target.record.fifo != fifo:
            raise invalid_value(
                policy_text,
                "RedrivePolicy",
                "Dead-letter queue must be same type of queue as the source.",
            )
        if not allows_source(target.settings.redrive_allow, source_arn):
            raise invalid_value(
                policy_text,
                "RedrivePolicy",
                f"Queue {target.arn} does not allow {source_arn} as a source queue.",
            )

    @operation("CreateQueue")
    def create_queue(self, params: Params, ctx: RequestContext) -> Result:
        name: str = params["QueueName"]
        requested = dict(params.get("Attributes") or {})
        tags = {str(k): str(v) for k, v in (params.get("tags") or {}).items()}
        fifo_value = requested.pop("FifoQueue", None)
        fifo = False
        if fifo_value is not None:
            if str(fifo_value).lower() not in ("true", "false"):
                raise invalid_attribute_value("FifoQueue")
            if str(fifo_value).lower() == "false":
                # A standard queue does not know the attribute at all (AWS-recorded).
                raise unknown_attribute("FifoQueue")
            fifo = True
        check_queue_name(name, fifo)
        attributes = normalize_attributes(requested, fifo)
        _check_tags(tags)
        if len(tags) > MAX_TAGS:
            raise invalid_parameter(f"Too many tags added for queue {name}.")
        with self.access.db.transaction():
            now = self.access.now()
            existing = self.access.store.get_queue(ctx.account, ctx.region, name)
            if existing is None:
                deleted = self.access.store.deleted_at(ctx.account, ctx.region, name)
                if deleted is not None and now - deleted < RECENTLY_DELETED_SECONDS:
                    raise sqs_error(
                        "QueueDeletedRecently",
                        "You must wait 60 seconds after deleting a queue before you can create "
                        "another with the same name.",
                    )
                arn = f"arn:aws:sqs:{ctx.region}:{ctx.account}:{name}"
                self._check_redrive(attributes, fifo, arn)
                stored = {k: v for k, v in attributes.items() if v != ""}
                record = self.access.store.insert_queue(
                    ctx.account, ctx.region, name, attributes=stored, tags=tags, now=now
                )
                if record is not None:
                    self.access.forget(record)
                    return {"QueueUrl": self.access.queue_url(record, ctx)}
                # Another node created it meanwhile: answer as if it had been there.
                existing = self.access.store.get_queue(ctx.account, ctx.region, name)
                assert existing is not None
            shown = effective_attributes(existing.attributes, existing.fifo)
            if fifo:
                attributes["FifoQueue"] = "true"
            for key, value in attributes.items():
                if shown.get(key, "") != value:
                    raise sqs_error(
                        "QueueNameExists",
                        "A queue already exists with the same name and a different value "
                        f"for attribute {key}",
                    )
            return {"QueueUrl": self.access.queue_url(existing, ctx)}

    @operation("GetQueueUrl")
    def get_queue_url(self, params: Params, ctx: RequestContext) -> Result:
        account = params.get("QueueOwnerAWSAccountId") or ctx.account
        with self.access.db.transaction():
            found = self.access._lookup(account, ctx.region, params["QueueName"])
        if found is None:
            raise queue_does_not_exist()
        return {"QueueUrl": self.access.queue_url(found.record, ctx)}

    @operation("ListQueues")
    def list_queues(self, params: Params, ctx: RequestContext) -> Result:
        prefix = params.get("QueueNamePrefix") or ""
        with self.access.db.transaction():
            records = self.access.store.list_queues(ctx.account, ctx.region, prefix)
        page, token = _page(records, params)
        result: Result = {}
        if page:
            result["QueueUrls"] = [self.access.queue_url(r, ctx) for r in page]
        if token is not None:
            result["NextToken"] = token
        return result

    @operation("GetQueueAttributes")
    def get_queue_attributes(self, params: Params, ctx: RequestContext) -> Result:
        names: list[str] = list(params.get("AttributeNames") or [])
        for name in names:
            if name not in ALL_NAMES:
                raise unknown_attribute(name)
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            if not names:
                return {}
            record = queue.record
            now = self.access.now()
            self.access.store.delete_sent_before(record, now - queue.settings.retention_seconds)
            counts = self.access.store.counts(record, now)
        everything = "All" in names
        shown = effective_attributes(record.attributes, record.fifo)
        shown.update(
            QueueArn=queue.arn,
            ApproximateNumberOfMessages=str(counts.visible),
            ApproximateNumberOfMessagesNotVisible=str(counts.not_visible),
            ApproximateNumberOfMessagesDelayed=str(counts.delayed),
            CreatedTimestamp=str(int(record.created_at)),
            LastModifiedTimestamp=str(int(record.modified_at)),
        )
        attributes = {k: v for k, v in shown.items() if everything or k in names}
        return {"Attributes": attributes} if attributes else {}

    @operation("SetQueueAttributes")
    def set_queue_attributes(self, params: Params, ctx: RequestContext) -> Result:
        requested: dict[str, Any] = dict(params.get("Attributes") or {})
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            record = queue.record
            fifo_value = requested.pop("FifoQueue", None)
            if fifo_value is not None:
                if not record.fifo:
                    raise unknown_attribute("FifoQueue")
                if str(fifo_value).lower() != "true":
                    raise sqs_error(
                        "InvalidAttributeValue",
                        "Invalid value for the parameter FifoQueue. Reason: Modifying queue "
                        "type is not supported.",
                    )
            attributes = normalize_attributes(requested, record.fifo)
            self._check_redrive(attributes, record.fifo, queue.arn)
            updated = dataclasses.replace(record, attributes=dict(record.attributes))
            for key, value in attributes.items():
                if value == "":
                    updated.attributes.pop(key, None)
                else:
                    updated.attributes[key] = value
            updated.modified_at = self.access.now()
            self.access.store.update_queue(updated)
            self.access.forget(record)
        return {}

    @operation("DeleteQueue")
    def delete_queue(self, params: Params, ctx: RequestContext) -> Result:
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            self.access.store.delete_queue(queue.record, self.access.now())
            self.access.forget(queue.record)
        return {}

    @operation("PurgeQueue")
    def purge_queue(self, params: Params, ctx: RequestContext) -> Result:
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            record = queue.record
            now = self.access.now()
            if record.purged_at is not None and now - record.purged_at < PURGE_INTERVAL_SECONDS:
                raise sqs_error(
                    "PurgeQueueInProgress",
                    f"Only one PurgeQueue operation on {record.name} is allowed every 60 seconds.",
                )
            self.access.store.purge(record)
            updated = dataclasses.replace(record, purged_at=now)
            self.access.store.update_queue(updated)
            self.access.forget(record)
        return {}

    @operation("TagQueue")
    def tag_queue(self, params: Params, ctx: RequestContext) -> Result:
        tags = {str(k): str(v) for k, v in (params.get("Tags") or {}).items()}
        _check_tags(tags)
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            merged = {**queue.record.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise invalid_parameter(f"Too many tags added for queue {queue.record.name}.")
            self._save_tags(queue, merged)
        return {}

    @operation("UntagQueue")
    def untag_queue(self, params: Params, ctx: RequestContext) -> Result:
        keys = list(params.get("TagKeys") or [])
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            remaining = {k: v for k, v in queue.record.tags.items() if k not in keys}
            self._save_tags(queue, remaining)
        return {}

    def _save_tags(self, queue: ResolvedQueue, tags: dict[str, str]) -> None:
        updated = dataclasses.replace(queue.record, tags=tags)
        self.access.store.update_queue(updated)
        self.access.forget(queue.record)

    @operation("ListQueueTags")
    def list_queue_tags(self, params: Params, ctx: RequestContext) -> Result:
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
        return {"Tags": dict(queue.record.tags)} if queue.record.tags else {}

    @operation("ListDeadLetterSourceQueues")
    def list_dead_letter_source_queues(self, params: Params, ctx: RequestContext) -> Result:
        with self.access.db.transaction():
            queue = self.access.resolve_url(params["QueueUrl"], ctx)
            sources = [
                r
                for r in self.access.store.list_queues(ctx.account, ctx.region)
                if (policy := settings_of(r.attributes, r.fifo).redrive) is not None
                and policy.dead_letter_target_arn == queue.arn
            ]
        page, token = _page(sources, params)
        result: Result = {"queueUrls": [self.access.queue_url(r, ctx) for r in page]}
        if token is not None:
            result["NextToken"] = token
        return result
