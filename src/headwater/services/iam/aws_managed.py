"""AWS managed policies headwater knows by ARN (``arn:aws:iam::aws:policy/...``).

The ones Lambda applications attach most, with their documents as AWS publishes them (at
the version noted). Any other ``arn:aws:iam::aws:policy/...`` ARN can still be attached to
a role, user or group (IAM is stored, not enforced, so an application attaching a managed
policy headwater does not list keeps working), but ``GetPolicy`` on it answers
``NoSuchEntity``: headwater does not know its document.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"

_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]


@dataclass(frozen=True, slots=True)
class AwsManagedPolicy:
    name: str
    path: str
    policy_id: str
    version_id: str
    description: str
    statements: tuple[dict[str, object], ...]
    #: When AWS created the policy (epoch seconds); its UpdateDate is the version's.
    created: float
    updated: float

    @property
    def arn(self) -> str:
        return f"{AWS_POLICY_PREFIX}{self.path.lstrip('/')}{self.name}"

    @property
    def document(self) -> str:
        return orjson.dumps({"Version": "2012-10-17", "Statement": list(self.statements)}).decode()


def _allow(actions: list[str] | str, resource: list[str] | str = "*") -> dict[str, object]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


_POLICIES = (
    AwsManagedPolicy(
        "AWSLambdaBasicExecutionRole",
        "/service-role/",
        "ANPAJNCQGXC42545SKXIK",
        "v1",
        "Provides write permissions to CloudWatch Logs.",
        (_allow(_LOGS),),
        1428960935.0,
        1428960935.0,
    ),
    AwsManagedPolicy(
        "AWSLambdaSQSQueueExecutionRole",
        "/service-role/",
        "ANPAJFWJZI6JNND4TSELK",
        "v2",
        "Provides receive message, delete message, and read attribute access to SQS queues, "
        "and write permissions to CloudWatch logs.",
        (
            _allow(
                [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    *_LOGS,
                ]
            ),
        ),
        1493057530.0,
        1641581236.0,
    ),
    AwsManagedPolicy(
        "AWSLambdaKinesisExecutionRole",
        "/service-role/",
        "ANPAJHOLKJPXV4GBRMJUQ",
        "v1",
        "Provides list and read access to Kinesis streams and write permissions to "
        "CloudWatch logs.",
        (
            _allow(
                [
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                    "kinesis:ListStreams",
                    "kinesis:SubscribeToShard",
                    *_LOGS,
                ]
            ),
        ),
        1428960935.0,
        1428960935.0,
    ),
    AwsManagedPolicy(
        "AWSLambdaDynamoDBExecutionRole",
        "/service-role/",
        "ANPAIP7WNAGMIPYNW4WQG",
        "v1",
        "Provides list and read access to DynamoDB streams and write permissions to "
        "CloudWatch logs.",
        (
            _allow(
                [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                    *_LOGS,
                ]
            ),
        ),
        1428960935.0,
        1428960935.0,
    ),
    AwsManagedPolicy(
        "AWSLambdaVPCAccessExecutionRole",
        "/service-role/",
        "ANPAJVTME3YLVNL72YR2K",
        "v3",
        "Provides minimum permissions for a Lambda function to execute while accessing a "
        "resource within a VPC - create, describe, delete network interfaces and write "
        "permissions to CloudWatch Logs.",
        (
            _allow(
                [
                    *_LOGS,
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ]
            ),
        ),
        1455219936.0,
        1704214331.0,
    ),
    AwsManagedPolicy(
        "AWSLambdaRole",
        "/service-role/",
        "ANPAJX4DPCRGTC4NFDUXI",
        "v1",
        "Default policy for AWS Lambda service role.",
        (_allow(["lambda:InvokeFunction"]),),
        1423176929.0,
        1423176929.0,
    ),
    AwsManagedPolicy(
        "AWSLambdaExecute",
        "/",
        "ANPAJE5FX7FQZSU5XAKGO",
        "v1",
        "Provides Put, Get access to S3 and full access to CloudWatch Logs.",
        (
            _allow(["logs:*"], "arn:aws:logs:*:*:*"),
            _allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::*"),
        ),
        1423176929.0,
        1423176929.0,
    ),
    AwsManagedPolicy(
        "AWSXRayDaemonWriteAccess",
        "/",
        "ANPAIOE47HSUE5AVBNEDM",
        "v1",
        "Allow the AWS X-Ray Daemon to relay raw trace segments data to the service's API "
        "and retrieve sampling data (rules, targets, etc.) to be used by the X-Ray SDK.",
        (
            _allow(
                [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ],
                ["*"],
            ),
        ),
        1535482320.0,
        1535482320.0,
    ),
    AwsManagedPolicy(
        "AdministratorAccess",
        "/",
        "ANPAIWMBCKSKIEE64ZLYK",
        "v1",
        "Provides full access to AWS services and resources.",
        (_allow("*"),),
        1423176929.0,
        1423176929.0,
    ),
    AwsManagedPolicy(
        "AmazonSQSFullAccess",
        "/",
        "ANPAI65L554VRJ33ECQS6",
        "v1",
        "Provides full access to Amazon SQS via the AWS Management Console.",
        (_allow(["sqs:*"]),),
        1423176929.0,
        1423176929.0,
    ),
    AwsManagedPolicy(
        "AmazonSNSFullAccess",
        "/",
        "ANPAJWEKLCXXUNT2SOLSG",
        "v1",
        "Provides full access to Amazon SNS via the AWS Management Console.",
        (_allow(["sns:*"]),),
        1423176929.0,
        1423176929.0,
    ),
    AwsManagedPolicy(
        "AmazonKinesisFullAccess",
        "/",
        "ANPAIVF32HAMOXCUYRAYE",
        "v1",
        "Provides full access to all streams via the AWS Management Console.",
        (_allow("kinesis:*"),),
        1423176929.0,
        1423176929.0,
    ),
    AwsManagedPolicy(
        "AmazonS3FullAccess",
        "/",
        "ANPAIFIR6V6BVTRAHWINE",
        "v2",
        "Provides full access to all buckets via the AWS Management Console.",
        (_allow(["s3:*", "s3-object-lambda:*"]),),
        1423176929.0,
        1632515232.0,
    ),
    AwsManagedPolicy(
        "CloudWatchLogsFullAccess",
        "/",
        "ANPAJ3ZGNWK2R5HW5BQFO",
        "v1",
        "Provides full access to CloudWatch Logs",
        (_allow(["logs:*"]),),
        1423176929.0,
        1423176929.0,
    ),
)

AWS_MANAGED_POLICIES: dict[str, AwsManagedPolicy] = {policy.arn: policy for policy in _POLICIES}


def is_aws_managed(arn: str) -> bool:
    return arn.startswith(AWS_POLICY_PREFIX)
