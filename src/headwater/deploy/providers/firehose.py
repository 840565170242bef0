"""AWS::KinesisFirehose::DeliveryStream through the Firehose client: ``Ref`` is the stream's
name, ``Fn::GetAtt Arn`` its ARN."""

from __future__ import annotations

from botocore.exceptions import ClientError

from headwater.core.tag_lists import tag_list
from headwater.deploy.providers.base import (
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
    resource_not_found,
    retag,
    tags_dict,
    to_params,
)

MAX_NAME = 64
_DESTINATIONS = ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration")


class DeliveryStreamProvider(ResourceProvider):
    type_name = "AWS::KinesisFirehose::DeliveryStream"
    service = "firehose"
    operations = (
        "CreateDeliveryStream",
        "DescribeDeliveryStream",
        "UpdateDestination",
        "DeleteDeliveryStream",
        "TagDeliveryStream",
        "UntagDeliveryStream",
    )

    def create(self, request: ResourceRequest) -> ProviderResult:
        properties = dict(request.properties)
        name = str(properties.get("DeliveryStreamName") or request.physical_name(MAX_NAME))
        properties["DeliveryStreamName"] = name
        tags = tags_dict(properties.pop("Tags", None))
        params = to_params("firehose", "CreateDeliveryStream", properties)
        if tags:
            params["Tags"] = tag_list(tags)
        arn = str(request.client("firehose").create_delivery_stream(**params)["DeliveryStreamARN"])
        return ProviderResult(name, {"Arn": arn})

    def update(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.physical_id)
        properties, previous = request.properties, request.previous_properties
        client = request.client("firehose")
        description = client.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"
        ]
        for member in _DESTINATIONS:
            if properties.get(member) is not None and properties[member] != previous.get(member):
                update_member = member.replace("Configuration", "Update")
                update = to_params(
                    "firehose", "UpdateDestination", {update_member: properties[member]}
                )
                client.update_destination(
                    DeliveryStreamName=name,
                    CurrentDeliveryStreamVersionId=description["VersionId"],
                    DestinationId=description["Destinations"][0]["DestinationId"],
                    **update,
                )
        retag(
            previous.get("Tags"),
            properties.get("Tags"),
            untag=lambda keys: client.untag_delivery_stream(DeliveryStreamName=name, TagKeys=keys),
            tag=lambda tags: client.tag_delivery_stream(
                DeliveryStreamName=name, Tags=tag_list(tags)
            ),
        )
        return ProviderResult(name, {"Arn": description["DeliveryStreamARN"]})

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("firehose").delete_delivery_stream(
                DeliveryStreamName=str(request.physical_id)
            )
        except ClientError as error:
            if not resource_not_found(error):
                raise
