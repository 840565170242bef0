"""AWS::S3::Bucket settings S3 keeps (versioning, tags, notifications) reach the bucket.

S3 serves these as generic bucket sub-resources; the provider applies only what the
service says it implements, so the service has to list them.
"""

from __future__ import annotations

from headwater import Headwater
from tests.functional.cfn_support import deploy, physical_ids


def bucket_template(versioning: str) -> dict[str, object]:
    return {
        "Resources": {
            "Uploads": {"Type": "AWS::SQS::Queue"},
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "VersioningConfiguration": {"Status": versioning},
                    "Tags": [{"Key": "team", "Value": "data"}],
                    "NotificationConfiguration": {
                        "QueueConfigurations": [
                            {
                                "Queue": {"Fn::GetAtt": ["Uploads", "Arn"]},
                                "Event": "s3:ObjectCreated:*",
                                "Filter": {
                                    "S3Key": {"Rules": [{"Name": "prefix", "Value": "incoming/"}]}
                                },
                            }
                        ]
                    },
                },
            },
        }
    }


def test_bucket_versioning_tags_and_notifications_are_applied_and_updated(
    hw: Headwater,
) -> None:
    assert deploy(hw, "bucket", bucket_template("Enabled")) == "CREATE_COMPLETE"
    s3 = hw.client("s3")
    ids = physical_ids(hw, "bucket")
    bucket = ids["Bucket"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "data"}]
    (queue_config,) = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    queue_arn = hw.client("sqs").get_queue_attributes(
        QueueUrl=ids["Uploads"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert queue_config["QueueArn"] == queue_arn
    assert queue_config["Events"] == ["s3:ObjectCreated:*"]
    assert queue_config["Filter"] == {
        "Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}
    }

    assert deploy(hw, "bucket", bucket_template("Suspended")) == "UPDATE_COMPLETE"
    assert physical_ids(hw, "bucket")["Bucket"] == bucket  # in place
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_s3_lists_the_bucket_sub_resource_operations_it_serves(hw: Headwater) -> None:
    implemented = hw.service("s3").operation_names()
    assert {
        "PutBucketNotificationConfiguration",
        "GetBucketNotificationConfiguration",
        "PutBucketVersioning",
        "PutBucketTagging",
        "DeleteBucketTagging",
    } <= set(implemented)
    assert "DeleteBucketNotificationConfiguration" not in implemented  # not in S3's model
