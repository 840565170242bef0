"""AWS::S3::Bucket settings S3 keeps (versioning, tags, notifications) reach the bucket.

S3 serves these as generic bucket sub-resources; the provider applies only what the
service says it implements, so the service has to list them.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

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
        "DeleteBucketLifecycle",  # not named Delete<sub-resource>
    } <= set(implemented)
    assert "DeleteBucketNotificationConfiguration" not in implemented  # not in S3's model


def configured_bucket(cors: bool, lifecycle: bool = True) -> dict[str, object]:
    properties: dict[str, object] = {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                    "BucketKeyEnabled": "true",
                }
            ]
        },
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": False,
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
        "LifecycleConfiguration": {
            "Rules": [
                {
                    "Id": "logs",
                    "Status": "Enabled",
                    "Prefix": "logs/",
                    "ExpirationInDays": "30",
                    "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 7}],
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                },
                {
                    "Status": "Enabled",
                    "TagFilters": [{"Key": "tmp", "Value": "yes"}],
                    "NoncurrentVersionExpirationInDays": 3,
                },
            ]
        },
    }
    if not lifecycle:
        del properties["LifecycleConfiguration"]
    if cors:
        properties["CorsConfiguration"] = {
            "CorsRules": [
                {
                    "Id": "web",
                    "AllowedMethods": ["GET", "PUT"],
                    "AllowedOrigins": ["https://example.com"],
                    "ExposedHeaders": ["ETag"],
                    "MaxAge": "300",
                }
            ]
        }
    return {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": properties}}}


def test_bucket_cors_encryption_access_ownership_and_lifecycle_read_back(
    hw: Headwater,
) -> None:
    assert deploy(hw, "configured", configured_bucket(cors=True)) == "CREATE_COMPLETE"
    s3 = hw.client("s3")
    bucket = physical_ids(hw, "configured")["Bucket"]
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [
        {
            "ID": "web",
            "AllowedMethods": ["GET", "PUT"],
            "AllowedOrigins": ["https://example.com"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 300,
        }
    ]
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                "BucketKeyEnabled": True,
            }
        ]
    }
    assert (
        s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"][
            "RestrictPublicBuckets"
        ]
        is False
    )
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]
    }
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == [
        {
            "ID": "logs",
            "Status": "Enabled",
            "Filter": {"Prefix": "logs/"},
            "Expiration": {"Days": 30},
            "Transitions": [{"Days": 7, "StorageClass": "GLACIER"}],
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
        {
            "Status": "Enabled",
            "Filter": {"Tag": {"Key": "tmp", "Value": "yes"}},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
        },
    ]

    # removing the CORS rules removes them from the bucket, in place
    assert deploy(hw, "configured", configured_bucket(cors=False)) == "UPDATE_COMPLETE"
    assert physical_ids(hw, "configured")["Bucket"] == bucket
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_cors(Bucket=bucket)
    assert caught.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"


def test_removing_a_bucket_lifecycle_deletes_its_rules(hw: Headwater) -> None:
    assert deploy(hw, "aging", configured_bucket(cors=False)) == "CREATE_COMPLETE"
    s3 = hw.client("s3")
    bucket = physical_ids(hw, "aging")["Bucket"]
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]) == 2
    update = configured_bucket(cors=False, lifecycle=False)
    assert deploy(hw, "aging", update) == "UPDATE_COMPLETE"
    assert physical_ids(hw, "aging")["Bucket"] == bucket  # in place
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert caught.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
