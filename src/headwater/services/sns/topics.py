"""Topic operations: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes, tags."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.sns.attributes import (
    check_topic_attribute,
    check_topic_name,
    default_policy,
    effective_delivery_policy,
    subscription_filter,
)
from headwater.services.sns.delivery import Deliverer, DeliveryContext
from headwater.services.sns.errors import (
    check_arn,
    invalid_parameter,
    resource_not_found,
    topic_not_found,
)
from headwater.services.sns.filter_policy import FilterPolicy
from headwater.store.topics import SubscriptionRecord, TopicRecord, TopicStore

MAX_LIST = 100
MAX_TAGS = 50


@dataclass(frozen=True, slots=True)
class TopicView:
    """A topic and its subscriptions as Publish needs them (cached per generation)."""

    topic: TopicRecord
    subscriptions: tuple[tuple[SubscriptionRecord, FilterPolicy | None], ...]


class TopicOperations(Service):
    """Topics, and the store / deliverer / cache every SNS operation shares."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.store = TopicStore(env.database)
        self.deliverer = Deliverer(env, self.store, self._delivery_context)
        self._views: dict[str, tuple[int, TopicView]] = {}
        self._views_lock = threading.Lock()
        with self.store.db.transaction():
            pending = self.store.outbox_size()
        if pending:  # deliveries a previous run left behind
            self.deliverer.kick()

    # ---- shared helpers ----

    def _base_url(self, region: str) -> str:
        endpoint = self.env.endpoint_url
        return endpoint.rstrip("/") if endpoint else f"https://sns.{region}.amazonaws.com"

    def _delivery_context(self, topic_arn: str) -> DeliveryContext | None:
        with self.store.db.transaction():
            topic = self.store.get_topic(topic_arn)
        if topic is None:
            return None
        return self.delivery_context(topic)

    def delivery_context(self, topic: TopicRecord) -> DeliveryContext:
        return DeliveryContext(
            region=topic.region,
            base_url=self._base_url(topic.region),
            fifo=topic.fifo,
            signature_version=topic.attributes.get("SignatureVersion", "1"),
        )

    def _changed(self) -> None:
        """A topic or subscription changed: cached views are stale (in every process)."""
        self.store.next_counter("generation")

    def topic_view(self, topic_arn: str) -> TopicView | None:
        """The topic with its subscriptions and compiled filters (inside a transaction)."""
        generation = self.store.generation()
        cached = self._views.get(topic_arn)
        if cached is not None and cached[0] == generation:
            return cached[1]
        topic = self.store.get_topic(topic_arn)
        if topic is None:
            return None
        subs = tuple(
            (sub, subscription_filter(sub.attributes))
            for sub in self.store.subscriptions_of(topic_arn)
        )
        view = TopicView(topic, subs)
        with self._views_lock:
            if len(self._views) > 4096:
                self._views.clear()
            self._views[topic_arn] = (generation, view)
        return view

    def _topic_arn(self, params: Params, ctx: RequestContext, member: str = "TopicArn") -> str:
        """A well-formed topic ARN of the caller's region."""
        arn = check_arn(params.get(member), member)
        if arn.region != ctx.region:
            raise invalid_parameter(member)
        return str(arn)

    def _require_topic(self, arn: str) -> TopicRecord:
        topic = self.store.get_topic(arn)
        if topic is None:
            raise topic_not_found()
        return topic

    # ---- operations ----

    @operation("CreateTopic")
    def create_topic(self, params: Params, ctx: RequestContext) -> Result:
        name = str(params.get("Name") or "")
        given: dict[str, str] = {k: str(v) for k, v in (params.get("Attributes") or {}).items()}
        fifo = given.get("FifoTopic", "false").lower() == "true"
        check_topic_name(name, fifo)
        if name.endswith(".fifo") and not fifo:
            raise invalid_parameter("Topic Name")
        attributes = {
            key: check_topic_attribute(key, value, fifo=fifo, at_create=True)
            for key, value in given.items()
        }
        tags = _tag_map(params.get("Tags") or [])
        arn = str(Arn("sns", ctx.region, ctx.account, name))
        with self.store.db.transaction():
            existing = self.store.get_topic(arn)
            if existing is not None:
                if any(existing.attributes.get(k, _default(k)) != v for k, v in attributes.items()):
                    raise invalid_parameter(
                        "Attributes Reason: Topic already exists with different attributes"
                    )
                if tags and any(existing.tags.get(k) != v for k, v in tags.items()):
                    raise invalid_parameter("Tags Reason: Topic already exists with different tags")
                return {"TopicArn": arn}
            attributes.pop("FifoTopic", None)
            if fifo:
                attributes.setdefault("ContentBasedDeduplication", "false")
            self.store.put_topic(
                TopicRecord(
                    arn=arn,
                    region=ctx.region,
                    account=ctx.account,
                    name=name,
                    fifo=fifo,
                    attributes=attributes,
                    tags=tags,
                    created=self.env.clock.now(),
                )
            )
            self._changed()
        return {"TopicArn": arn}

    @operation("DeleteTopic")
    def delete_topic(self, params: Params, ctx: RequestContext) -> Result:
        arn = self._topic_arn(params, ctx)
        with self.store.db.transaction():
            self.store.delete_topic(arn)
            self._changed()
        return {}

    @operation("ListTopics")
    def list_topics(self, params: Params, ctx: RequestContext) -> Result:
        after = params.get("NextToken") or None
        with self.store.db.transaction():
            arns = self.store.list_topics(ctx.account, ctx.region, after, MAX_LIST + 1)
        result: Result = {"Topics": [{"TopicArn": arn} for arn in arns[:MAX_LIST]]}
        if len(arns) > MAX_LIST:
            result["NextToken"] = arns[MAX_LIST - 1]
        return result

    @operation("GetTopicAttributes")
    def get_topic_attributes(self, params: Params, ctx: RequestContext) -> Result:
        arn = self._topic_arn(params, ctx)
        with self.store.db.transaction():
            topic = self._require_topic(arn)
            subs = self.store.subscriptions_of(arn)
        confirmed = sum(1 for s in subs if s.confirmed)
        attributes: dict[str, str] = {
            "DisplayName": "",
            "Owner": topic.account,
            "Policy": default_policy(arn, topic.account),
            "SubscriptionsConfirmed": str(confirmed),
            "SubscriptionsDeleted": "0",
            "SubscriptionsPending": str(len(subs) - confirmed),
            "TopicArn": arn,
        }
        attributes.update(topic.attributes)
        attributes["EffectiveDeliveryPolicy"] = effective_delivery_policy(
            topic.attributes.get("DeliveryPolicy")
        )
        if topic.fifo:
            attributes["FifoTopic"] = "true"
        return {"Attributes": dict(sorted(attributes.items()))}

    @operation("SetTopicAttributes")
    def set_topic_attributes(self, params: Params, ctx: RequestContext) -> Result:
        arn = self._topic_arn(params, ctx)
        name = str(params.get("AttributeName") or "")
        value = params.get("AttributeValue")
        with self.store.db.transaction():
            topic = self._require_topic(arn)
            attributes = dict(topic.attributes)
            if value is None or value == "":
                if name not in {"DisplayName", *attributes} and name not in _CLEARABLE:
                    check_topic_attribute(name, "", fifo=topic.fifo, at_create=False)
                attributes.pop(name, None)
            else:
                attributes[name] = check_topic_attribute(
                    name, str(value), fifo=topic.fifo, at_create=False
                )
            self.store.put_topic(replace(topic, attributes=attributes))
            self._changed()
        return {}

    # ---- tags ----

    def _tagged_topic(self, params: Params, ctx: RequestContext) -> TopicRecord:
        arn = check_arn(params.get("ResourceArn"), "ResourceArn")
        topic = self.store.get_topic(str(arn))
        if topic is None:
            raise resource_not_found()
        return topic

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        given = params.get("Tags") or []
        keys = [t["Key"] for t in given]
        if len(keys) != len(set(keys)):
            raise invalid_parameter("Duplicated keys are not allowed.")
        with self.store.db.transaction():
            topic = self._tagged_topic(params, ctx)
            tags = {**topic.tags, **_tag_map(given)}
            if len(tags) > MAX_TAGS:
                raise _tag_limit()
            self.store.put_topic(replace(topic, tags=tags))
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            topic = self._tagged_topic(params, ctx)
            remove = set(params.get("TagKeys") or [])
            tags = {k: v for k, v in topic.tags.items() if k not in remove}
            self.store.put_topic(replace(topic, tags=tags))
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.transaction():
            topic = self._tagged_topic(params, ctx)
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(topic.tags.items())]}

    def close(self) -> None:
        self.deliverer.close()
        super().close()


#: Attributes that may be set to an empty value (removed) even when unset.
_CLEARABLE = frozenset({"DeliveryPolicy", "Policy", "KmsMasterKeyId", "TracingConfig"})


def _default(name: str) -> str:
    return {"ContentBasedDeduplication": "false", "FifoTopic": "false", "DisplayName": ""}.get(
        name, ""
    )


def _tag_map(tags: list[dict[str, str]]) -> dict[str, str]:
    keys = [str(t.get("Key", "")) for t in tags]
    if len(keys) != len(set(keys)):
        raise invalid_parameter("Duplicated keys are not allowed.")
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags}


def _tag_limit() -> AwsError:
    return AwsError(
        "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded"
    )
