"""AWS::CloudWatch::Alarm, AWS::Logs::LogGroup, AWS::Logs::MetricFilter and
AWS::Logs::SubscriptionFilter through the CloudWatch and Logs clients."""

from __future__ import annotations

from typing import Any

from headwater.core.tag_lists import tag_list
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    missing_is_deleted,
    retag,
    tags_dict,
    to_params,
)

MAX_ALARM_NAME = 255
MAX_LOG_GROUP_NAME = 512
MAX_FILTER_NAME = 512


class AlarmProvider(ResourceProvider):
    """PutMetricAlarm creates and updates alike; the alarm name is the physical id."""

    type_name = "AWS::CloudWatch::Alarm"
    service = "cloudwatch"

    def create(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.properties.get("AlarmName") or request.physical_name(MAX_ALARM_NAME))
        self._put(request, name)
        return ProviderResult(name, self._attributes(request, name))

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        self._put(request, name)
        return ProviderResult(name, self._attributes(request, name))

    def _put(self, request: ResourceRequest, name: str) -> None:
        params = to_params("cloudwatch", "PutMetricAlarm", request.properties)
        params["AlarmName"] = name
        tags = tags_dict(request.properties.get("Tags"))
        params.pop("Tags", None)
        if tags:
            params["Tags"] = tag_list(tags)
        request.client("cloudwatch").put_metric_alarm(**params)

    def _attributes(self, request: ResourceRequest, name: str) -> dict[str, Any]:
        arn = f"arn:aws:cloudwatch:{request.region}:{request.account}:alarm:{name}"
        return {"Arn": arn}

    def delete(self, request: ResourceRequest) -> None:
        request.client("cloudwatch").delete_alarms(AlarmNames=[str(request.physical_id)])


class LogGroupProvider(ResourceProvider):
    type_name = "AWS::Logs::LogGroup"
    service = "logs"

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = request.properties
        name = str(properties.get("LogGroupName") or request.physical_name(MAX_LOG_GROUP_NAME))
        params: dict[str, Any] = {"logGroupName": name}
        tags = tags_dict(properties.get("Tags"))
        if tags:
            params["tags"] = tags
        if properties.get("KmsKeyId"):
            params["kmsKeyId"] = str(properties["KmsKeyId"])
        if properties.get("LogGroupClass"):
            params["logGroupClass"] = str(properties["LogGroupClass"])
        logs = request.client("logs")
        logs.create_log_group(**params)
        if properties.get("RetentionInDays") is not None:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(properties["RetentionInDays"])
            )
        return ProviderResult(name, self._attributes(request, name))

    def _attributes(self, request: ResourceRequest, name: str) -> dict[str, Any]:
        return {"Arn": f"arn:aws:logs:{request.region}:{request.account}:log-group:{name}:*"}

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        old, new = request.previous_properties, request.properties
        logs = request.client("logs")
        if old.get("RetentionInDays") != new.get("RetentionInDays"):
            if new.get("RetentionInDays") is None:
                logs.delete_retention_policy(logGroupName=name)
            else:
                logs.put_retention_policy(
                    logGroupName=name, retentionInDays=int(new["RetentionInDays"])
                )
        arn = self._attributes(request, name)["Arn"].removesuffix(":*")
        retag(
            old.get("Tags"),
            new.get("Tags"),
            untag=lambda keys: logs.untag_resource(resourceArn=arn, tagKeys=keys),
            tag=lambda tags: logs.tag_resource(resourceArn=arn, tags=tags),
        )
        return ProviderResult(name, self._attributes(request, name))

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            request.client("logs").delete_log_group(logGroupName=str(request.physical_id))


def _metric_transformation(item: dict[str, Any]) -> dict[str, Any]:
    """One CloudFormation ``MetricTransformations`` item as PutMetricFilter's (the
    template's ``Dimensions`` are ``[{Key, Value}]``, the API's a mapping)."""
    transformation: dict[str, Any] = {
        "metricName": str(item.get("MetricName", "")),
        "metricNamespace": str(item.get("MetricNamespace", "")),
        "metricValue": str(item.get("MetricValue", "")),
    }
    if item.get("DefaultValue") is not None:
        transformation["defaultValue"] = float(item["DefaultValue"])
    if item.get("Unit"):
        transformation["unit"] = str(item["Unit"])
    if item.get("Dimensions"):
        transformation["dimensions"] = {str(d["Key"]): str(d["Value"]) for d in item["Dimensions"]}
    return transformation


class _LogFilterProvider(ResourceProvider):
    """A log group's filter (metric or subscription): one Put creates and updates alike,
    the filter name is the physical id (a new name or log group replaces the filter:
    deploy/replacement.py)."""

    service = "logs"
    #: The Logs client's methods that put and delete this kind of filter.
    put_method = ""
    delete_method = ""

    def create(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.properties.get("FilterName") or request.physical_name(MAX_FILTER_NAME))
        self._put(request, name)
        return ProviderResult(name, {})

    def update(self, request: ResourceRequest) -> ProviderResult:
        self._put(request, str(request.physical_id))
        return ProviderResult(str(request.physical_id), {})

    def _put(self, request: ResourceRequest, name: str) -> None:
        properties = request.properties
        params: dict[str, Any] = {
            "logGroupName": str(properties.get("LogGroupName", "")),
            "filterName": name,
            "filterPattern": str(properties.get("FilterPattern", "")),
            **self.parameters(properties),
        }
        if properties.get("ApplyOnTransformedLogs") is not None:
            params["applyOnTransformedLogs"] = (
                str(properties["ApplyOnTransformedLogs"]).lower() == "true"
            )
        getattr(request.client("logs"), self.put_method)(**params)

    def parameters(self, properties: dict[str, Any]) -> dict[str, Any]:
        """The Put's parameters of this kind of filter, from the template's properties."""
        raise NotImplementedError

    def delete(self, request: ResourceRequest) -> None:
        with missing_is_deleted():
            getattr(request.client("logs"), self.delete_method)(
                logGroupName=str(request.properties.get("LogGroupName", "")),
                filterName=str(request.physical_id),
            )


class MetricFilterProvider(_LogFilterProvider):
    type_name = "AWS::Logs::MetricFilter"
    operations = ("PutMetricFilter", "DeleteMetricFilter")
    put_method, delete_method = "put_metric_filter", "delete_metric_filter"

    def parameters(self, properties: dict[str, Any]) -> dict[str, Any]:
        return {
            "metricTransformations": [
                _metric_transformation(dict(item))
                for item in properties.get("MetricTransformations") or []
            ]
        }


class SubscriptionFilterProvider(_LogFilterProvider):
    type_name = "AWS::Logs::SubscriptionFilter"
    operations = ("PutSubscriptionFilter", "DeleteSubscriptionFilter")
    put_method, delete_method = "put_subscription_filter", "delete_subscription_filter"

    def parameters(self, properties: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"destinationArn": str(properties.get("DestinationArn", ""))}
        if properties.get("RoleArn"):
            params["roleArn"] = str(properties["RoleArn"])
        if properties.get("Distribution"):
            params["distribution"] = str(properties["Distribution"])
        return params
